/* libcnn forward pass: each layer kind against a naive loop written here
 * (direct convolution, not im2col), the reference network's shapes and
 * parameter counts, a hand-computed tiny network, architecture errors. */
#include "cnn-private.h"

#include <math.h>
#include <string.h>

#define REL_TOL 1e-5

static void
fill_random (gfloat * x, gsize n, guint32 seed)
{
  GRand *rand = g_rand_new_with_seed (seed);

  for (gsize i = 0; i < n; i++)
    x[i] = (gfloat) g_rand_double_range (rand, -1.0, 1.0);
  g_rand_free (rand);
}

static void
assert_close (const gfloat * got, const gdouble * want, gsize n)
{
  for (gsize i = 0; i < n; i++) {
    gdouble tol = REL_TOL * MAX (1.0, fabs (want[i]));

    if (fabs (got[i] - want[i]) > tol)
      g_error ("value %" G_GSIZE_FORMAT ": got %.9g, want %.9g", i, got[i],
          want[i]);
  }
}

static CnnNetwork *
network_or_die (const gchar * arch, CnnShape input)
{
  GError *error = NULL;
  CnnNetwork *net = cnn_network_new (arch, input, &error);

  g_assert_no_error (error);
  g_assert_nonnull (net);
  return net;
}

/* A network made with CNN_KERNELS set to @kernels, the variable then
 * as it was (the suite runs this file under several values of it). */
static CnnNetwork *
network_with_kernels (const gchar * arch, CnnShape input,
    const gchar * kernels)
{
  g_autofree gchar *was = g_strdup (g_getenv ("CNN_KERNELS"));
  CnnNetwork *net;

  g_setenv ("CNN_KERNELS", kernels, TRUE);
  net = network_or_die (arch, input);
  if (was)
    g_setenv ("CNN_KERNELS", was, TRUE);
  else
    g_unsetenv ("CNN_KERNELS");
  return net;
}

/* Direct convolution: y[f][oy][ox] = b[f] + Σ w[f][c][ky][kx] · x[c][iy][ix] */
static void
naive_conv (const gfloat * x, CnnShape in, const gfloat * w, const gfloat * b,
    guint filters, guint k, guint stride, guint pad, gdouble * y, guint oh,
    guint ow)
{
  for (guint f = 0; f < filters; f++)
    for (guint oy = 0; oy < oh; oy++)
      for (guint ox = 0; ox < ow; ox++) {
        gdouble sum = b[f];

        for (guint c = 0; c < in.c; c++)
          for (guint ky = 0; ky < k; ky++)
            for (guint kx = 0; kx < k; kx++) {
              gint iy = (gint) (oy * stride + ky) - (gint) pad;
              gint ix = (gint) (ox * stride + kx) - (gint) pad;

              if (iy < 0 || ix < 0 || iy >= (gint) in.h || ix >= (gint) in.w)
                continue;
              sum += (gdouble) w[((f * in.c + c) * k + ky) * k + kx]
                  * x[((gsize) c * in.h + iy) * in.w + ix];
            }
        y[((gsize) f * oh + oy) * ow + ox] = sum;
      }
}

typedef struct
{
  CnnShape in;
  guint filters, kernel, stride, pad;
} ConvCase;

static void assert_conv_close (CnnNetwork * net, const gfloat * got,
    const gdouble * want, gsize n, const gfloat * x, const ConvCase * cc,
    const gfloat * w, guint oh, guint ow);

static void
check_conv_case (const ConvCase * cc, guint batch)
{
  g_autofree gchar *arch = g_strdup_printf ("conv %u %u stride=%u pad=%u",
      cc->filters, cc->kernel, cc->stride, cc->pad);
  CnnNetwork *net = network_or_die (arch, cc->in);
  CnnShape out = cnn_network_output_shape (net);
  gsize in_size = cnn_shape_size (cc->in), out_size = cnn_shape_size (out);
  g_autofree gfloat *x = g_new (gfloat, in_size * batch);
  g_autofree gdouble *want = g_new (gdouble, out_size);
  const gfloat *w, *b, *y;
  const gchar *name;
  guint n_dims;
  gsize dims[4];

  g_assert_cmpuint (out.c, ==, cc->filters);
  g_assert_cmpuint (out.h, ==, (cc->in.h + 2 * cc->pad - cc->kernel)
      / cc->stride + 1);
  cnn_network_init_params (net, 7);
  w = cnn_network_layer_tensor (net, 0, 0, &name, &n_dims, dims);
  g_assert_cmpstr (name, ==, "weight");
  g_assert_cmpuint (n_dims, ==, 4);
  g_assert_cmpuint (dims[1], ==, cc->in.c);
  b = cnn_network_layer_tensor (net, 0, 1, &name, &n_dims, dims);
  /* Biases start at zero; make them matter. */
  fill_random ((gfloat *) b, cc->filters, 3);
  fill_random (x, in_size * batch, 11);

  g_assert_true (cnn_network_reserve (net, batch, NULL));
  y = cnn_network_forward (net, x, batch);
  for (guint i = 0; i < batch; i++) {
    naive_conv (x + i * in_size, cc->in, w, b, cc->filters, cc->kernel,
        cc->stride, cc->pad, want, out.h, out.w);
    assert_conv_close (net, y + i * out_size, want, out_size, x + i * in_size,
        cc, w, out.h, out.w);
  }
  cnn_network_free (net);
}

static void
test_conv2d (void)
{
  static const ConvCase cases[] = {
    {{1, 28, 28}, 32, 3, 1, 0},
    {{32, 26, 26}, 64, 3, 1, 0},
    {{3, 17, 13}, 5, 3, 2, 1},
    {{2, 7, 6}, 4, 5, 1, 2},
    {{3, 9, 9}, 8, 1, 1, 0},
    {{1, 4, 4}, 2, 4, 3, 3},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    check_conv_case (&cases[i], 3);
}

static void
test_dense (void)
{
  CnnNetwork *net = network_or_die ("dense 13", (CnnShape) { 37, 1, 1 });
  gfloat x[4 * 37];
  gdouble want[13];
  const gfloat *w, *b, *y;
  const gchar *name;
  guint n_dims;
  gsize dims[4];

  cnn_network_init_params (net, 5);
  w = cnn_network_layer_tensor (net, 0, 0, &name, &n_dims, dims);
  g_assert_cmpuint (dims[0], ==, 13);
  g_assert_cmpuint (dims[1], ==, 37);
  b = cnn_network_layer_tensor (net, 0, 1, &name, &n_dims, dims);
  fill_random ((gfloat *) b, 13, 9);
  fill_random (x, G_N_ELEMENTS (x), 1);
  g_assert_true (cnn_network_reserve (net, 4, NULL));
  y = cnn_network_forward (net, x, 4);
  for (guint s = 0; s < 4; s++) {
    for (guint j = 0; j < 13; j++) {
      want[j] = b[j];
      for (guint i = 0; i < 37; i++)
        want[j] += (gdouble) w[j * 37 + i] * x[s * 37 + i];
    }
    assert_close (y + s * 13, want, 13);
  }
  cnn_network_free (net);
}

/* A pooling kind ("maxpool" or "avgpool") against loops: each window's
 * maximum or mean. */
static void
check_pool (const gchar * kind, CnnShape in, guint k, guint stride)
{
  g_autofree gchar *arch = g_strdup_printf ("%s %u stride=%u", kind, k,
      stride);
  const gboolean max = g_str_equal (kind, "maxpool");
  CnnNetwork *net = network_or_die (arch, in);
  CnnShape out = cnn_network_output_shape (net);
  g_autofree gfloat *x = g_new (gfloat, cnn_shape_size (in));
  g_autofree gdouble *want = g_new (gdouble, cnn_shape_size (out));
  const gfloat *y;

  g_assert_cmpuint (out.h, ==, (in.h - k) / stride + 1);
  g_assert_cmpuint (out.w, ==, (in.w - k) / stride + 1);
  fill_random (x, cnn_shape_size (in), 21);
  for (guint c = 0; c < in.c; c++)
    for (guint oy = 0; oy < out.h; oy++)
      for (guint ox = 0; ox < out.w; ox++) {
        gdouble best = -INFINITY, sum = 0.0;

        for (guint i = oy * stride; i < oy * stride + k; i++)
          for (guint j = ox * stride; j < ox * stride + k; j++) {
            best = MAX (best, x[(c * in.h + i) * in.w + j]);
            sum += x[(c * in.h + i) * in.w + j];
          }
        want[(c * out.h + oy) * out.w + ox] = max ? best : sum / (k * k);
      }
  y = cnn_network_forward (net, x, 1);
  assert_close (y, want, cnn_shape_size (out));
  cnn_network_free (net);
}

static void
test_avgpool (void)
{
  check_pool ("avgpool", (CnnShape) { 16, 12, 12 }, 2, 2);
  check_pool ("avgpool", (CnnShape) { 3, 7, 9 }, 2, 2);  /* odd: row dropped */
  check_pool ("avgpool", (CnnShape) { 2, 9, 8 }, 3, 2);  /* overlapping */
  check_pool ("avgpool", (CnnShape) { 1, 5, 5 }, 5, 5);  /* global average */
}

static void
test_maxpool (void)
{
  check_pool ("maxpool", (CnnShape) { 64, 24, 24 }, 2, 2);
  check_pool ("maxpool", (CnnShape) { 3, 7, 9 }, 2, 2);  /* odd: row dropped */
  check_pool ("maxpool", (CnnShape) { 2, 9, 8 }, 3, 2);  /* overlapping */
  check_pool ("maxpool", (CnnShape) { 1, 3, 3 }, 3, 3);
}

static void
test_elementwise (void)
{
  CnnNetwork *net = network_or_die ("relu, dropout 0.5, flatten, softmax",
      (CnnShape) { 2, 3, 2 });
  gfloat x[12];
  gdouble relu[12], want[12], sum = 0.0;
  const gfloat *y;

  fill_random (x, 12, 4);
  for (guint i = 0; i < 12; i++) {
    relu[i] = MAX (0.0, x[i]);
    sum += exp (relu[i]);
  }
  for (guint i = 0; i < 12; i++)
    want[i] = exp (relu[i]) / sum;
  y = cnn_network_forward (net, x, 1);
  assert_close (y, want, 12);
  g_assert_cmpuint (cnn_network_output_shape (net).c, ==, 12);
  g_assert_cmpuint (cnn_network_param_count (net), ==, 0);
  cnn_network_free (net);
}

static void
test_softmax_extreme (void)
{
  CnnNetwork *net = network_or_die ("softmax", (CnnShape) { 3, 1, 1 });
  gfloat x[3] = { 1000.0f, 0.0f, -1000.0f };
  const gfloat *y = cnn_network_forward (net, x, 1);

  /* No overflow: exp is taken of x - max. */
  g_assert_cmpfloat_with_epsilon (y[0], 1.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (y[1], 0.0, 1e-6);
  g_assert_false (isnan (y[2]));
  cnn_network_free (net);
}

/* The reference network of docs/design.md §2, layer by layer. */
static void
test_reference_shapes (void)
{
  static const struct
  {
    const gchar *kind;
    CnnShape out;
    gsize params;
  } want[] = {
    {"conv2d", {32, 26, 26}, 320},
    {"relu", {32, 26, 26}, 0},
    {"conv2d", {64, 24, 24}, 18496},
    {"relu", {64, 24, 24}, 0},
    {"maxpool", {64, 12, 12}, 0},
    {"dropout", {64, 12, 12}, 0},
    {"flatten", {9216, 1, 1}, 0},
    {"dense", {128, 1, 1}, 1179776},
    {"relu", {128, 1, 1}, 0},
    {"dropout", {128, 1, 1}, 0},
    {"dense", {10, 1, 1}, 1290},
    {"softmax", {10, 1, 1}, 0},
  };
  CnnNetwork *net = network_or_die (CNN_DEFAULT_ARCHITECTURE,
      (CnnShape) { 1, 28, 28 });

  g_assert_cmpuint (cnn_network_n_layers (net), ==, G_N_ELEMENTS (want));
  for (guint i = 0; i < G_N_ELEMENTS (want); i++) {
    CnnShape s = cnn_network_layer_output_shape (net, i);

    g_assert_cmpstr (cnn_network_layer_kind (net, i), ==, want[i].kind);
    g_assert_cmpuint (s.c, ==, want[i].out.c);
    g_assert_cmpuint (s.h, ==, want[i].out.h);
    g_assert_cmpuint (s.w, ==, want[i].out.w);
    g_assert_cmpuint (cnn_network_layer_param_count (net, i), ==,
        want[i].params);
  }
  g_assert_cmpuint (cnn_network_param_count (net), ==, 1199882);
  g_assert_cmpstr (cnn_network_architecture (net), ==,
      CNN_DEFAULT_ARCHITECTURE);
  cnn_network_free (net);
}

/* 1×3×3 input, one 2×2 filter, relu, 2×2 pool, dense 2, softmax, worked
 * out by hand:
 *   x = 1 2 3 / 4 5 6 / 7 8 9, w = 0 1 / 1 0, b = -10
 *   conv: 2+4-10 = -4, 3+5-10 = -2, 5+7-10 = 2, 6+8-10 = 4
 *   relu: 0 0 2 4; maxpool 2 → 4; dense W = (1, -1), b = (0, 1) → 4, -3
 *   softmax: e^4 / (e^4 + e^-3) = 1 / (1 + e^-7) */
static void
test_tiny_network_by_hand (void)
{
  CnnNetwork *net = network_or_die ("conv 1 2, relu, maxpool 2, flatten, "
      "dense 2, softmax", (CnnShape) { 1, 3, 3 });
  gfloat *p = cnn_network_params (net);
  gfloat x[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
  const gfloat params[] = { 0, 1, 1, 0, -10, 1, -1, 0, 1 };
  const gfloat *y;
  gdouble p0 = 1.0 / (1.0 + exp (-7.0));

  g_assert_cmpuint (cnn_network_param_count (net), ==, G_N_ELEMENTS (params));
  memcpy (p, params, sizeof params);
  y = cnn_network_forward (net, x, 1);
  g_assert_cmpfloat_with_epsilon (y[0], p0, 1e-6);
  g_assert_cmpfloat_with_epsilon (y[1], 1.0 - p0, 1e-6);
  cnn_network_free (net);
}

static void
test_threads_same_result (void)
{
  CnnShape in = { 3, 16, 16 };
  CnnNetwork *net = network_or_die ("conv 8 3 pad=1, relu, maxpool 2, "
      "flatten, dense 10, softmax", in);
  gsize n = cnn_shape_size (in) * 5;
  g_autofree gfloat *x = g_new (gfloat, n);
  gfloat one[50];
  const gfloat *y;

  cnn_network_init_params (net, 1);
  fill_random (x, n, 8);
  g_assert_true (cnn_network_reserve (net, 5, NULL));
  memcpy (one, cnn_network_forward (net, x, 5), sizeof one);
  cnn_network_set_threads (net, 2);
  g_assert_cmpuint (cnn_network_get_threads (net), ==, 2);
  g_assert_cmpuint (cnn_network_max_batch (net), ==, 5);
  y = cnn_network_forward (net, x, 5);
  /* BLAS may order sums differently for a 3-sample and a 5-sample
   * product, so equal to rounding, not bit for bit. */
  for (guint i = 0; i < G_N_ELEMENTS (one); i++)
    g_assert_cmpfloat_with_epsilon (y[i], one[i], 1e-6);
  cnn_network_free (net);
}

/* One sample on two threads: each layer's product is shared out. */
static void
test_threads_one_sample (void)
{
  CnnShape in = { 1, 28, 28 };
  CnnNetwork *net = network_or_die (CNN_DEFAULT_ARCHITECTURE, in);
  gfloat x[28 * 28], one[10];
  const gfloat *y;

  cnn_network_init_params (net, 3);
  fill_random (x, G_N_ELEMENTS (x), 5);
  memcpy (one, cnn_network_forward (net, x, 1), sizeof one);
  cnn_network_set_threads (net, 2);
  y = cnn_network_forward (net, x, 1);
  for (guint i = 0; i < 10; i++)
    g_assert_cmpfloat_with_epsilon (y[i], one[i], 1e-6);
  cnn_network_set_threads (net, 3);
  y = cnn_network_forward (net, x, 1);
  for (guint i = 0; i < 10; i++)
    g_assert_cmpfloat_with_epsilon (y[i], one[i], 1e-6);
  cnn_network_free (net);
}

static void
check_arch_error (const gchar * arch, CnnShape in, const gchar * fragment)
{
  GError *error = NULL;
  CnnNetwork *net = cnn_network_new (arch, in, &error);

  g_assert_null (net);
  g_assert_error (error, CNN_ERROR, CNN_ERROR_ARCH);
  if (!strstr (error->message, fragment))
    g_error ("'%s': message '%s' lacks '%s'", arch, error->message, fragment);
  g_error_free (error);
}

static void
test_arch_errors (void)
{
  CnnShape mnist = { 1, 28, 28 };

  check_arch_error ("", mnist, "empty");
  check_arch_error ("conv 32 3, , relu", mnist, "layer 1 is empty");
  check_arch_error ("conv 32 3, lstm 5", mnist, "layer 1 ('lstm 5'): unknown");
  check_arch_error ("conv 32", mnist, "layer 0 ('conv'): missing a number");
  check_arch_error ("conv 32 3 4", mnist, "cannot use '4'");
  check_arch_error ("conv 0 3", mnist, "cannot use '0'");
  check_arch_error ("conv 32 x", mnist, "cannot use 'x'");
  check_arch_error ("dropout 1.5", mnist, "cannot use '1.5'");
  check_arch_error ("dense 10 stride=2", mnist, "cannot use 'stride=2'");
  check_arch_error ("relu 3", mnist, "cannot use '3'");
  check_arch_error ("conv 8 3, dense 10", mnist,
      "layer 1 (dense): input 8x26x26 is not flat");
  check_arch_error ("conv 8 3, maxpool 2, conv 8 5, conv 8 11", mnist,
      "layer 3 (conv2d): input 8x9x9 is smaller than the 11x11 kernel");
  check_arch_error ("maxpool 4", (CnnShape) { 1, 3, 3 }, "layer 0 (maxpool)");
  check_arch_error ("conv 99999999999 3", mnist, "cannot use");
}

/* Keywords are exact: a near miss is an error, not a guess. */
static void
test_arch_keywords_exact (void)
{
  check_arch_error ("conv 8 3, RELU", (CnnShape) { 1, 8, 8 },
      "layer 1 ('RELU'): unknown layer kind 'RELU'");
}

/* More memory than the limit is one error code, whatever needs it. */
static void
test_arch_over_memory_limit (void)
{
  GError *error = NULL;

  /* 65536 × 4096 weights: a GiB of parameters, against a 1 MiB limit */
  g_assert_null (cnn_network_new_full ("flatten, dense 65536",
          (CnnShape) { 1, 64, 64 }, 1 << 20, &error));
  g_assert_error (error, CNN_ERROR, CNN_ERROR_NOMEM);
  g_assert_nonnull (strstr (error->message, "more than the memory limit"));
  g_clear_error (&error);
}

static void
test_arch_text_round_trip (void)
{
  const gchar *text = " conv2d 8   3 stride=2 pad=1,relu,pool 2 stride=1, "
      "avgpool 1 stride=1, flatten, dropout 0.25, dense 4 ,softmax ";
  CnnNetwork *a = network_or_die (text, (CnnShape) { 3, 9, 9 });
  CnnNetwork *b = network_or_die (cnn_network_architecture (a),
      (CnnShape) { 3, 9, 9 });

  g_assert_cmpstr (cnn_network_architecture (a), ==,
      "conv 8 3 stride=2 pad=1, relu, maxpool 2 stride=1, avgpool 1, "
      "flatten, dropout 0.25, dense 4, softmax");
  g_assert_cmpstr (cnn_network_architecture (b), ==,
      cnn_network_architecture (a));
  g_assert_cmpuint (cnn_network_param_count (b), ==,
      cnn_network_param_count (a));
  cnn_network_free (a);
  cnn_network_free (b);
}

static void
test_sgemm_matches_reference (void)
{
  const guint m = 7, n = 11, k = 5;

  for (guint t = 0; t < 4; t++) {
    gboolean ta = t & 1, tb = t & 2;
    gfloat a[77], b[77], c1[77], c2[77];

    fill_random (a, G_N_ELEMENTS (a), t + 1);
    fill_random (b, G_N_ELEMENTS (b), t + 10);
    fill_random (c1, G_N_ELEMENTS (c1), t + 20);
    memcpy (c2, c1, sizeof c1);
    cnn_sgemm (ta, tb, m, n, k, 0.5f, a, ta ? m : k, b, tb ? k : n, 2.0f,
        c1, n);
    cnn_sgemm_reference (ta, tb, m, n, k, 0.5f, a, ta ? m : k, b,
        tb ? k : n, 2.0f, c2, n);
    for (guint i = 0; i < m * n; i++)
      g_assert_cmpfloat_with_epsilon (c1[i], c2[i], 1e-5);
  }
}

static void
test_shape_text (void)
{
  CnnShape s;
  GError *error = NULL;
  g_autofree gchar *text = NULL;

  g_assert_true (cnn_shape_parse ("3x32x16", &s, NULL));
  g_assert_cmpuint (s.c, ==, 3);
  g_assert_cmpuint (s.h, ==, 32);
  g_assert_cmpuint (s.w, ==, 16);
  text = cnn_shape_to_string (s);
  g_assert_cmpstr (text, ==, "3x32x16");
  g_assert_false (cnn_shape_parse ("3x32", &s, &error));
  g_assert_error (error, CNN_ERROR, CNN_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (cnn_shape_parse ("0x28x28", &s, NULL));
  g_assert_false (cnn_shape_parse ("1x28x28x", &s, NULL));
  g_assert_false (cnn_shape_parse ("1x-28x28", &s, NULL));
  g_assert_false (cnn_shape_parse ("1x99999999999999999999x2", &s, NULL));
}

/* ---- fast inference kernels ----------------------------------------
 * With AVX-512, 3×3 stride-1 convolutions run by Winograd, fused with a
 * following ReLU and 2×2 max pool (or directly, fused with the ReLU, on
 * inputs of 1 or 2 channels), and dense layers at batch 1 by a
 * matrix-vector kernel.  Held to the same naive loops, on shapes unlike
 * the reference network's: channels and filters not multiples of 8 or
 * 16, odd sizes, padding, rows longer than one vector of tiles.  The
 * suite runs them again under CNN_KERNELS=avx2 (test-layers-avx2). */

/* y (C×H×W) → max of each 2×2 window (C×H/2×W/2) */
static void
naive_pool2 (const gdouble * y, guint c_n, guint h, guint w, gdouble * out)
{
  for (guint c = 0; c < c_n; c++)
    for (guint py = 0; py < h / 2; py++)
      for (guint px = 0; px < w / 2; px++) {
        gdouble best = -INFINITY;

        for (guint i = 0; i < 4; i++)
          best = MAX (best, y[((gsize) c * h + 2 * py + i / 2) * w + 2 * px
                  + i % 2]);
        out[((gsize) c * (h / 2) + py) * (w / 2) + px] = best;
      }
}

/* The bf16 kernels round the transformed inputs and weights to 8 bits
 * of mantissa (2⁻⁹ relative) and sum in float; through the transforms
 * (sums of up to 9 values each way) that bounds the error of an output
 * by about 1% of the largest Σ |w|·|x| of the sample's outputs. */
#define BF16_TOL 1e-2

/* |got - want| ≤ @tol everywhere */
static void
assert_within (const gfloat * got, const gdouble * want, gsize n,
    gdouble tol)
{
  for (gsize i = 0; i < n; i++)
    if (fabs (got[i] - want[i]) > tol)
      g_error ("value %" G_GSIZE_FORMAT ": got %.9g, want %.9g (+/- %.3g)", i,
          got[i], want[i], tol);
}

/* The AVX2 kernels' Winograd F(4×4, 3×3) goes through transforms with
 * coefficients up to 8 (where F(2×2, 3×3) has 1): rounded in float, an
 * output is off by up to ~3e-6 of Σ |w|·|x| (measured over this file's
 * shapes, uniform and He-sized weights), against ~2e-7 for F(2×2). */
#define WINOGRAD_F4_TOL 1e-5

/* The largest Σ |w|·|x| of one sample's convolution */
static gdouble
largest_abs_sum (const gfloat * x, const ConvCase * cc, const gfloat * w,
    guint oh, guint ow)
{
  guint k2 = cc->kernel * cc->kernel;
  gsize in_size = cnn_shape_size (cc->in), n_w = cc->filters * cc->in.c * k2;
  gsize n_out = (gsize) cc->filters * oh * ow;
  g_autofree gfloat *ax = g_new (gfloat, in_size);
  g_autofree gfloat *aw = g_new0 (gfloat, n_w + cc->filters);
  g_autofree gdouble *sum = g_new (gdouble, n_out);
  gdouble most = 0.0;

  for (gsize i = 0; i < in_size; i++)
    ax[i] = fabsf (x[i]);
  for (gsize i = 0; i < n_w; i++)
    aw[i] = fabsf (w[i]);
  naive_conv (ax, cc->in, aw, aw + n_w, cc->filters, cc->kernel, cc->stride,
      cc->pad, sum, oh, ow);
  for (gsize i = 0; i < n_out; i++)
    most = MAX (most, sum[i]);
  return most;
}

/* A convolution's outputs against the naive loop's: within float's
 * rounding (REL_TOL), or the AVX2 Winograd's (WINOGRAD_F4_TOL of the
 * largest Σ |w|·|x|, which passes the REL_TOL cases too). */
static void
assert_conv_close (CnnNetwork * net, const gfloat * got, const gdouble * want,
    gsize n, const gfloat * x, const ConvCase * cc, const gfloat * w,
    guint oh, guint ow)
{
  if (g_str_equal (cnn_network_kernels (net), "avx2"))
    assert_within (got, want, n, WINOGRAD_F4_TOL * largest_abs_sum (x, cc, w,
            oh, ow));
  else
    assert_close (got, want, n);
}

/* conv [, relu] [, maxpool 2] over @batch samples against naive loops,
 * on the default kernels or (@bf16) the bf16 ones; FALSE when those are
 * not there. */
static gboolean
check_fused_conv (const ConvCase * cc, gboolean relu, gboolean pool,
    guint batch, gboolean bf16)
{
  g_autofree gchar *arch = g_strdup_printf ("conv %u 3 pad=%u%s%s",
      cc->filters, cc->pad, relu ? ", relu" : "", pool ? ", maxpool 2" : "");
  CnnNetwork *net = bf16 ? network_with_kernels (arch, cc->in, "avx512-bf16")
      : network_or_die (arch, cc->in);

  if (bf16 && !g_str_equal (cnn_network_kernels (net), "avx512-bf16")) {
    cnn_network_free (net);
    return FALSE;
  }
  guint oh = cc->in.h + 2 * cc->pad - 2, ow = cc->in.w + 2 * cc->pad - 2;
  gsize in_size = cnn_shape_size (cc->in);
  gsize conv_size = (gsize) cc->filters * oh * ow;
  gsize out_size = cnn_shape_size (cnn_network_output_shape (net));
  g_autofree gfloat *x = g_new (gfloat, in_size * batch);
  g_autofree gdouble *conv = g_new (gdouble, conv_size);
  g_autofree gdouble *want = g_new (gdouble, conv_size);
  gfloat *w = cnn_network_params (net);
  const gfloat *y;

  g_test_message ("%s on %ux%ux%u", arch, cc->in.c, cc->in.h, cc->in.w);
  fill_random (w, cnn_network_param_count (net), cc->filters);
  fill_random (x, in_size * batch, cc->in.c);
  g_assert_true (cnn_network_reserve (net, batch, NULL));
  y = cnn_network_forward (net, x, batch);
  for (guint b = 0; b < batch; b++) {
    naive_conv (x + b * in_size, cc->in, w, w + cc->filters * cc->in.c * 9,
        cc->filters, 3, 1, cc->pad, conv, oh, ow);
    for (gsize i = 0; relu && i < conv_size; i++)
      conv[i] = MAX (conv[i], 0.0);
    if (pool)
      naive_pool2 (conv, cc->filters, oh, ow, want);
    else
      memcpy (want, conv, conv_size * sizeof (gdouble));
    if (bf16)
      assert_within (y + b * out_size, want, out_size, BF16_TOL
          * largest_abs_sum (x + b * in_size, cc, w, oh, ow));
    else
      assert_conv_close (net, y + b * out_size, want, out_size, x
          + b * in_size, cc, w, oh, ow);
  }
  cnn_network_free (net);
  return TRUE;
}

static const ConvCase fast_conv_cases[] = {
  {{1, 28, 28}, 32, 3, 1, 0},
  {{32, 26, 26}, 64, 3, 1, 0},
  {{3, 17, 13}, 5, 3, 1, 1},    /* RGB, odd sizes, padding */
  {{17, 9, 10}, 13, 3, 1, 0},   /* odd output height */
  {{33, 12, 11}, 20, 3, 1, 2},
  {{5, 40, 37}, 9, 3, 1, 1},    /* 19 tiles a row: two vectors */
  {{2, 4, 4}, 3, 3, 1, 0},      /* one tile */
  /* AVX2's 4×4 tiles: 17 a row (three vectors, the last of one tile),
   * odd pooled edges, filters not a multiple of 4 */
  {{4, 11, 67}, 6, 3, 1, 0},
  /* Direct (≤ 2 channels, not pooled): rows of 3 vectors, the last
   * partial; padding of 1 and 2. */
  {{2, 21, 37}, 7, 3, 1, 1},
  {{1, 9, 18}, 4, 3, 1, 2},
};

static void
test_fast_conv (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (fast_conv_cases); i++)
    for (guint f = 0; f < 4; f++)
      check_fused_conv (&fast_conv_cases[i], f & 1, f & 2, 3, FALSE);
}

static void
test_fast_conv_bf16 (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (fast_conv_cases); i++)
    for (guint f = 0; f < 4; f++)
      if (!check_fused_conv (&fast_conv_cases[i], f & 1, f & 2, 3, TRUE)) {
        g_test_skip ("no AVX512_BF16 kernels on this machine or build");
        return;
      }
}

/* naive_conv (3×3, stride 1, no padding) of @filters with their biases
 * after the weights in @w, then ReLU */
static void
naive_conv_relu (const gfloat * x, CnnShape in, const gfloat * w,
    guint filters, gdouble * y)
{
  guint oh = in.h - 2, ow = in.w - 2;

  naive_conv (x, in, w, w + (gsize) filters * in.c * 9, filters, 3, 1, 0, y,
      oh, ow);
  for (gsize i = 0; i < (gsize) filters * oh * ow; i++)
    y[i] = MAX (y[i], 0.0);
}

/* The fast path's packed weights follow the network's: written after a
 * pass, the next pass uses the new ones. */
static void
test_fast_conv_weights_change (void)
{
  CnnShape in = { 3, 8, 8 };
  CnnNetwork *net = network_or_die ("conv 4 3, relu", in);
  gfloat x[3 * 64];
  gfloat *w = cnn_network_params (net);
  gdouble want[4 * 36];
  const gfloat *y;

  fill_random (x, G_N_ELEMENTS (x), 2);
  fill_random (w, cnn_network_param_count (net), 3);
  cnn_network_forward (net, x, 1);
  w[5] += 0.5f;
  y = cnn_network_forward (net, x, 1);
  naive_conv_relu (x, in, w, 4, want);
  assert_close (y, want, G_N_ELEMENTS (want));
  cnn_network_free (net);
}

/* Frozen, the packed weights are made once and not checked again;
 * handing the weights out thaws them, and the next pass sees what was
 * written. */
static void
test_fast_conv_frozen_then_written (void)
{
  CnnShape in = { 8, 10, 10 };
  CnnNetwork *net = network_or_die ("conv 16 3, relu, maxpool 2", in);
  gfloat x[8 * 100];
  gfloat *w = cnn_network_params (net);
  gdouble conv[16 * 64], want[16 * 16];
  const gfloat *y;

  fill_random (x, G_N_ELEMENTS (x), 4);
  fill_random (w, cnn_network_param_count (net), 5);
  cnn_network_freeze (net);
  cnn_network_forward (net, x, 1);
  w = cnn_network_params (net);
  w[7] -= 0.75f;
  w[16 * 72 + 3] += 1.0f;       /* a bias */
  y = cnn_network_forward (net, x, 1);
  naive_conv_relu (x, in, w, 16, conv);
  naive_pool2 (conv, 16, 8, 8, want);
  assert_close (y, want, G_N_ELEMENTS (want));
  cnn_network_free (net);
}

/* Dense at batch 1 (the matrix-vector path) with odd sizes. */
static void
test_fast_dense_one_sample (void)
{
  static const guint sizes[][2] = { {1000, 7}, {9216, 128}, {5, 3}, {33, 17} };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
    guint n_in = sizes[s][0], n_out = sizes[s][1];
    g_autofree gchar *arch = g_strdup_printf ("dense %u", n_out);
    CnnNetwork *net = network_or_die (arch, (CnnShape) { n_in, 1, 1 });
    g_autofree gfloat *x = g_new (gfloat, n_in);
    g_autofree gdouble *want = g_new (gdouble, n_out);
    gfloat *w = cnn_network_params (net);
    const gfloat *y;

    fill_random (w, cnn_network_param_count (net), s + 1);
    /* Weights of a trained layer's size (He: ~1/√in), so the sums stay
     * near 1: a float sum of 9216 terms of ±1 is off by 1e-5 on either
     * path, which says nothing about the kernel. */
    for (gsize i = 0; i < (gsize) n_in * n_out; i++)
      w[i] /= sqrtf ((gfloat) n_in);
    fill_random (x, n_in, s + 7);
    y = cnn_network_forward (net, x, 1);
    for (guint j = 0; j < n_out; j++) {
      want[j] = w[(gsize) n_out * n_in + j];
      for (guint i = 0; i < n_in; i++)
        want[j] += (gdouble) w[(gsize) j * n_in + i] * x[i];
    }
    assert_close (y, want, n_out);
    cnn_network_free (net);
  }
}

/* fp16 rounds each weight by at most 2⁻¹¹ of itself, and the sums stay
 * in float: an output is off by at most 2⁻¹¹ Σ |w|·|x| of its row, plus
 * the float sum's own error (REL_TOL). */
#define F16_REL 4.8828125e-4

/* A frozen dense layer at batch 1 runs from fp16 weights (when the CPU
 * has the kernels and the layer is big enough to gain): held to a naive
 * double loop over the float weights, within fp16's rounding, and no
 * closer to it than fp16 can be (so the test knows which path ran). */
static void
test_fast_dense_frozen_f16 (void)
{
  static const guint sizes[][2] = { {9216, 128}, {70001, 3}, {4097, 33} };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
    guint n_in = sizes[s][0], n_out = sizes[s][1];
    g_autofree gchar *arch = g_strdup_printf ("dense %u", n_out);
    CnnNetwork *net = network_or_die (arch, (CnnShape) { n_in, 1, 1 });
    g_autofree gfloat *x = g_new (gfloat, n_in);
    g_autofree gfloat *exact = g_new (gfloat, n_out);
    gfloat *w = cnn_network_params (net);
    gdouble worst = 0.0;
    const gfloat *y;

    fill_random (w, cnn_network_param_count (net), s + 11);
    for (gsize i = 0; i < (gsize) n_in * n_out; i++)
      w[i] /= sqrtf ((gfloat) n_in);
    fill_random (x, n_in, s + 17);
    memcpy (exact, cnn_network_forward (net, x, 1), n_out * sizeof (gfloat));
    cnn_network_freeze (net);
    y = cnn_network_forward (net, x, 1);
    for (guint j = 0; j < n_out; j++) {
      gdouble want = w[(gsize) n_out * n_in + j], bound = 0.0;

      for (guint i = 0; i < n_in; i++) {
        want += (gdouble) w[(gsize) j * n_in + i] * x[i];
        bound += fabs ((gdouble) w[(gsize) j * n_in + i] * x[i]);
      }
      bound = F16_REL * bound + REL_TOL * MAX (1.0, fabs (want));
      if (fabs (y[j] - want) > bound)
        g_error ("%ux%u, output %u: got %.9g, want %.9g (+/- %.3g)", n_in,
            n_out, j, y[j], want, bound);
      worst = MAX (worst, fabs (y[j] - exact[j]));
    }
    if (g_str_equal (cnn_network_kernels (net), "portable")) {
      g_assert_cmpfloat (worst, ==, 0.0);
    } else {
      /* ~1e-4 here; float's own reordering alone gives ~1e-7 */
      g_test_message ("%ux%u: fp16 weights move the outputs by %.2g", n_in,
          n_out, worst);
      g_assert_cmpfloat (worst, >, 1e-6);
    }
    /* Handing the weights out thaws them: the float path again, exact. */
    w = cnn_network_params (net);
    w[0] += 0.25f;
    exact[0] = cnn_network_forward (net, x, 1)[0];
    {
      gdouble want = w[(gsize) n_out * n_in];

      for (guint i = 0; i < n_in; i++)
        want += (gdouble) w[i] * x[i];
      g_assert_cmpfloat (fabs (exact[0] - want), <=,
          REL_TOL * MAX (1.0, fabs (want)));
    }
    cnn_network_free (net);
  }
}

/* Dense at small batches (a number's digits): the matrix-vector kernels
 * take a few samples a pass over the weights (4 with AVX-512, 2 with
 * AVX2), so every count of samples in a group and past it, float and
 * frozen fp16 weights, is held to naive double loops per sample. */
static void
test_fast_dense_small_batches (void)
{
  const guint n_in = 9216, n_out = 13, max_batch = 9;
  CnnNetwork *net = network_or_die ("dense 13", (CnnShape) { n_in, 1, 1 });
  g_autofree gfloat *x = g_new (gfloat, (gsize) max_batch * n_in);
  g_autofree gdouble *want = g_new (gdouble, (gsize) max_batch * n_out);
  g_autofree gdouble *bound = g_new (gdouble, (gsize) max_batch * n_out);
  gfloat *w = cnn_network_params (net);

  g_assert_true (cnn_network_reserve (net, max_batch, NULL));
  fill_random (w, cnn_network_param_count (net), 5);
  for (gsize i = 0; i < (gsize) n_in * n_out; i++)
    w[i] /= sqrtf ((gfloat) n_in);
  fill_random (x, (gsize) max_batch * n_in, 6);
  for (guint b = 0; b < max_batch; b++)
    for (guint j = 0; j < n_out; j++) {
      gdouble sum = w[(gsize) n_out * n_in + j], size = 0.0;

      for (guint i = 0; i < n_in; i++) {
        sum += (gdouble) w[(gsize) j * n_in + i] * x[(gsize) b * n_in + i];
        size += fabs ((gdouble) w[(gsize) j * n_in + i]
            * x[(gsize) b * n_in + i]);
      }
      want[b * n_out + j] = sum;
      bound[b * n_out + j] = F16_REL * size + REL_TOL * MAX (1.0, fabs (sum));
    }
  for (guint frozen = 0; frozen < 2; frozen++) {
    if (frozen)
      cnn_network_freeze (net);
    for (guint batch = 1; batch <= max_batch; batch++) {
      const gfloat *y = cnn_network_forward (net, x, batch);

      if (!frozen) {
        assert_close (y, want, (gsize) batch * n_out);
        continue;
      }
      for (guint k = 0; k < batch * n_out; k++)
        if (fabs (y[k] - want[k]) > bound[k])
          g_error ("batch %u, output %u: got %.9g, want %.9g (+/- %.3g)",
              batch, k, y[k], want[k], bound[k]);
    }
  }
  cnn_network_free (net);
}

/* A weight beyond fp16's range keeps the layer on its float weights. */
static void
test_fast_dense_frozen_out_of_range (void)
{
  guint n_in = 70000;
  CnnNetwork *net = network_or_die ("dense 1", (CnnShape) { n_in, 1, 1 });
  g_autofree gfloat *x = g_new0 (gfloat, n_in);
  gfloat *w = cnn_network_params (net);
  const gfloat *y;
  gdouble want;

  for (guint i = 0; i < n_in; i++)
    w[i] = 1.0f / 1024;
  w[n_in] = 0.0f;
  w[7] = 1e6f;
  for (guint i = 0; i < n_in; i++)
    x[i] = 1.0f;
  x[7] = 1.0f + 1.0f / 1024;
  cnn_network_freeze (net);
  y = cnn_network_forward (net, x, 1);
  /* In fp16 1e6 would be infinity; in float the sum is finite. */
  g_assert_true (isfinite (y[0]));
  want = 1e6 * (1.0 + 1.0 / 1024) + (n_in - 1) / 1024.0;
  g_assert_cmpfloat (fabs (y[0] - want), <=, REL_TOL * want);
  cnn_network_free (net);
}

/* CNN_KERNELS=portable is obeyed, and both paths agree on the whole
 * reference network. */
static void
test_kernels_portable_agrees (void)
{
  CnnShape in = { 1, 28, 28 };
  CnnNetwork *fast = network_or_die (CNN_DEFAULT_ARCHITECTURE, in), *slow;
  gfloat x[2 * 28 * 28], want[20];
  gdouble want_d[20];

  slow = network_with_kernels (CNN_DEFAULT_ARCHITECTURE, in, "portable");
  g_assert_cmpstr (cnn_network_kernels (slow), ==, "portable");
  g_test_message ("kernels: %s", cnn_network_kernels (fast));
  cnn_network_init_params (slow, 4);
  memcpy (cnn_network_params (fast), cnn_network_params (slow),
      cnn_network_param_count (slow) * sizeof (gfloat));
  fill_random (x, G_N_ELEMENTS (x), 6);
  g_assert_true (cnn_network_reserve (slow, 2, NULL));
  g_assert_true (cnn_network_reserve (fast, 2, NULL));
  memcpy (want, cnn_network_forward (slow, x, 2), sizeof want);
  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    want_d[i] = want[i];
  assert_close (cnn_network_forward (fast, x, 2), want_d, 20);
  assert_close (cnn_network_forward (fast, x, 1), want_d, 10);
  cnn_network_free (fast);
  cnn_network_free (slow);
}

/* Under CNN_KERNELS=avx2 (the suite's test-layers-avx2) the forward
 * tests are the AVX2 kernels' tests: where the CPU or the build has
 * none, the networks would quietly run others, so the run stops as
 * skipped (77) instead. */
static gboolean
asked_kernels_missing (void)
{
  const gchar *want = g_getenv ("CNN_KERNELS");

  return want && g_str_equal (want, "avx2")
      && cnn_kernels_choose () != CNN_KERNELS_AVX2;
}

int
main (int argc, char **argv)
{
  if (asked_kernels_missing ()) {
    g_print ("SKIP: CNN_KERNELS=avx2, but no AVX2+FMA+F16C kernels on this "
        "CPU or in this build\n");
    return 77;
  }
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/layers/conv2d", test_conv2d);
  g_test_add_func ("/layers/dense", test_dense);
  g_test_add_func ("/layers/maxpool", test_maxpool);
  g_test_add_func ("/layers/avgpool", test_avgpool);
  g_test_add_func ("/layers/elementwise", test_elementwise);
  g_test_add_func ("/layers/softmax-extreme", test_softmax_extreme);
  g_test_add_func ("/fast/conv", test_fast_conv);
  g_test_add_func ("/fast/conv-bf16", test_fast_conv_bf16);
  g_test_add_func ("/fast/conv-weights-change", test_fast_conv_weights_change);
  g_test_add_func ("/fast/conv-frozen-then-written",
      test_fast_conv_frozen_then_written);
  g_test_add_func ("/fast/dense-one-sample", test_fast_dense_one_sample);
  g_test_add_func ("/fast/dense-frozen-f16", test_fast_dense_frozen_f16);
  g_test_add_func ("/fast/dense-small-batches", test_fast_dense_small_batches);
  g_test_add_func ("/fast/dense-frozen-out-of-range",
      test_fast_dense_frozen_out_of_range);
  g_test_add_func ("/fast/portable-agrees", test_kernels_portable_agrees);
  g_test_add_func ("/network/reference-shapes", test_reference_shapes);
  g_test_add_func ("/network/tiny-by-hand", test_tiny_network_by_hand);
  g_test_add_func ("/network/threads-same-result", test_threads_same_result);
  g_test_add_func ("/network/threads-one-sample", test_threads_one_sample);
  g_test_add_func ("/arch/errors", test_arch_errors);
  g_test_add_func ("/arch/keywords-exact", test_arch_keywords_exact);
  g_test_add_func ("/arch/text-round-trip", test_arch_text_round_trip);
  g_test_add_func ("/arch/over-memory-limit", test_arch_over_memory_limit);
  g_test_add_func ("/gemm/matches-reference", test_sgemm_matches_reference);
  g_test_add_func ("/shape/text", test_shape_text);
  return g_test_run ();
}
