/* The int8 kernels (CNN_KERNELS=avx512-int8, cnn-avx512-int8.c): the
 * layers that run in int8 (3×3 stride-1 convolutions of more than 2
 * input channels, fused with ReLU and 2×2 pool; frozen dense layers of
 * 65,536 weights or more) against naive double loops over the float
 * weights and inputs, each output within the error its quantisation
 * steps allow; and against the same loops over the quantised values,
 * within float rounding, which no wrong scale, offset or rounding
 * passes.  Exits 77 (skipped) only where the CPU or the build has no
 * AVX512-VNNI kernels. */
#include "cnn-private.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The rescale (int32 sum → float, one multiply-add) and the float
 * reference's own sums: relative to the sizes of the sums */
#define FLOAT_TOL 1e-5

/* x ≈ scale · (q - offset), as cnn-kernels.h documents it: weights per
 * output channel, symmetric (max |w| / 127, offset 0); inputs per sample
 * and layer (max |x| / 255, or with negative values max |x| / 127 and
 * offset 128).  The same float steps as the kernels: q = x · inv
 * rounded to nearest even, inv = levels / max. */
typedef struct
{
  gfloat scale, inv;
  gint offset, lo, hi;
} Quant;

static Quant
quant_of (const gfloat * v, gsize n, gboolean weights)
{
  gfloat amax = 0.0f, least = 0.0f;
  gint levels;
  Quant q;

  for (gsize i = 0; i < n; i++) {
    amax = MAX (amax, fabsf (v[i]));
    least = MIN (least, v[i]);
  }
  q.offset = !weights && least < 0.0f ? 128 : 0;
  levels = weights || q.offset ? 127 : 255;
  q.scale = amax / (gfloat) levels;
  q.inv = amax > 0.0f ? (gfloat) levels / amax : 0.0f;
  q.lo = weights ? -127 : 0;
  q.hi = weights ? 127 : 255;
  return q;
}

static gint
quantise (gfloat v, const Quant * q)
{
  gint k = (gint) nearbyintf (v * q->inv) + q->offset;

  return CLAMP (k, q->lo, q->hi) - q->offset;
}

/* One output's sums over its products w·x: exact in double; of the
 * quantised values; the bounds of each.  Rounding w to the step s_w and
 * x to s_x leaves errors |e_w| ≤ s_w / 2 and |e_x| ≤ s_x / 2, and
 *   w·x - ŵ·x̂ = e_w·x + ŵ·e_x,  |ŵ| ≤ |w| + s_w / 2,
 * so an output is within Σ (s_w/2 · |x| + (|w| + s_w/2) · s_x/2) of the
 * exact one (ReLU and max pool do not widen that: both move by at most
 * what their inputs move). */
typedef struct
{
  gdouble exact, abs_exact;     /* Σ w·x, Σ |w·x| */
  gdouble quantised, abs_quantised;     /* Σ q_w·q_x, Σ |q_w·q_x| */
  gdouble bound;                /* the quantisation's error bound */
} Sums;

static inline void
add_product (Sums * s, gfloat w, gfloat x, const Quant * qw, const Quant * qx)
{
  gdouble qq = (gdouble) quantise (w, qw) * quantise (x, qx);

  s->exact += (gdouble) w * x;
  s->abs_exact += fabs ((gdouble) w * x);
  s->quantised += qq;
  s->abs_quantised += fabs (qq);
  s->bound += qw->scale / 2.0 * fabs (x) + (fabs (w) + qw->scale / 2.0)
      * qx->scale / 2.0;
}

/* What an output should be: @want within @tol (the float loop's), and
 * @want_q within @tol_q (the quantised loop's) */
typedef struct
{
  gdouble want, tol, want_q, tol_q;
} Expect;

static Expect
expect_of (const Sums * s, gfloat bias, const Quant * qw, const Quant * qx,
    gboolean relu)
{
  gdouble scale = (gdouble) qw->scale * qx->scale;
  Expect e = {
    bias + s->exact,
    s->bound + FLOAT_TOL * (fabs (bias) + s->abs_exact),
    bias + scale * s->quantised,
    FLOAT_TOL * (fabs (bias) + scale * s->abs_quantised),
  };

  if (relu) {
    e.want = MAX (e.want, 0.0);
    e.want_q = MAX (e.want_q, 0.0);
  }
  return e;
}

/* The 2×2 window's largest of each, and the largest tolerances */
static Expect
pool_of (const Expect e[4])
{
  Expect p = e[0];

  for (guint i = 1; i < 4; i++) {
    p.want = MAX (p.want, e[i].want);
    p.want_q = MAX (p.want_q, e[i].want_q);
    p.tol = MAX (p.tol, e[i].tol);
    p.tol_q = MAX (p.tol_q, e[i].tol_q);
  }
  return p;
}

/* How far the int8 outputs were from the float loop's, at most */
typedef struct
{
  gdouble worst;
  gsize checked;
} Check;

static void
check_output (Check * c, const gchar * what, gsize index, gfloat got,
    const Expect * e)
{
  if (!(fabs (got - e->want) <= e->tol))
    g_error ("%s, output %" G_GSIZE_FORMAT ": got %.9g, float loop %.9g "
        "(+/- %.3g)", what, index, got, e->want, e->tol);
  if (!(fabs (got - e->want_q) <= e->tol_q))
    g_error ("%s, output %" G_GSIZE_FORMAT ": got %.9g, quantised loop "
        "%.9g (+/- %.3g)", what, index, got, e->want_q, e->tol_q);
  c->worst = MAX (c->worst, fabs (got - e->want));
  c->checked++;
}

/* Uniform in [0, @top) or, @signed_, (-@top, @top) */
static void
fill_random (gfloat * x, gsize n, guint32 seed, gdouble top,
    gboolean signed_)
{
  GRand *rand = g_rand_new_with_seed (seed);

  for (gsize i = 0; i < n; i++)
    x[i] = (gfloat) (signed_ ? g_rand_double_range (rand, -top, top)
        : g_rand_double_range (rand, 0.0, top));
  g_rand_free (rand);
}

static CnnNetwork *
int8_network (const gchar * arch, CnnShape in)
{
  GError *error = NULL;
  CnnNetwork *net = cnn_network_new (arch, in, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (cnn_network_kernels (net), ==, "avx512-int8");
  return net;
}

/* ---- convolutions ------------------------------------------------------ */

typedef struct
{
  CnnShape in;
  guint filters, pad;
} ConvCase;

/* One sample's expected conv [+ ReLU] output at (f, oy, ox) */
static Expect
expect_conv (const ConvCase * cc, const gfloat * x, const Quant * qx,
    const gfloat * w, const gfloat * b, const Quant * qw, guint f, guint oy,
    guint ox, gboolean relu)
{
  Sums s = { 0 };

  for (guint c = 0; c < cc->in.c; c++)
    for (guint ky = 0; ky < 3; ky++)
      for (guint kx = 0; kx < 3; kx++) {
        gint iy = (gint) (oy + ky) - (gint) cc->pad;
        gint ix = (gint) (ox + kx) - (gint) cc->pad;
        gboolean inside = iy >= 0 && ix >= 0 && iy < (gint) cc->in.h
            && ix < (gint) cc->in.w;
        gfloat v = inside ? x[((gsize) c * cc->in.h + iy) * cc->in.w + ix]
            : 0.0f;

        add_product (&s, w[((gsize) (f * cc->in.c + c) * 3 + ky) * 3 + kx], v,
            &qw[f], qx);
      }
  return expect_of (&s, b[f], &qw[f], qx, relu);
}

/* One sample's outputs (filters × oh × ow, or pooled) against both loops */
static void
check_conv_sample (const ConvCase * cc, const gfloat * x, const gfloat * w,
    const gfloat * b, const Quant * qw, gboolean relu, gboolean pool,
    const gfloat * y, Check * check)
{
  guint oh = cc->in.h + 2 * cc->pad - 2, ow = cc->in.w + 2 * cc->pad - 2;
  guint h = pool ? oh / 2 : oh, wd = pool ? ow / 2 : ow;
  Quant qx = quant_of (x, cnn_shape_size (cc->in), FALSE);

  for (guint f = 0; f < cc->filters; f++)
    for (guint oy = 0; oy < h; oy++)
      for (guint ox = 0; ox < wd; ox++) {
        gsize at = ((gsize) f * h + oy) * wd + ox;
        Expect e[4];

        for (guint i = 0; i < (pool ? 4u : 1u); i++)
          e[i] = expect_conv (cc, x, &qx, w, b, qw, f,
              pool ? 2 * oy + i / 2 : oy, pool ? 2 * ox + i % 2 : ox, relu);
        if (pool)
          e[0] = pool_of (e);
        check_output (check, "conv", at, y[at], &e[0]);
      }
}

/* conv [, relu] [, maxpool 2] of @cc over 4 samples of different sizes
 * (the last all zeros: scale 0, outputs the biases), inputs signed or
 * not; frozen (packed once) or not (packed by the pass). */
static gdouble
check_conv_case (const ConvCase * cc, gboolean relu, gboolean pool,
    gboolean signed_, gboolean frozen)
{
  const guint batch = 4;
  g_autofree gchar *arch = g_strdup_printf ("conv %u 3 pad=%u%s%s",
      cc->filters, cc->pad, relu ? ", relu" : "", pool ? ", maxpool 2" : "");
  CnnNetwork *net = int8_network (arch, cc->in);
  gsize in_size = cnn_shape_size (cc->in);
  gsize out_size = cnn_shape_size (cnn_network_output_shape (net));
  gsize per_filter = (gsize) cc->in.c * 9;
  g_autofree gfloat *x = g_new0 (gfloat, in_size * batch);
  g_autofree Quant *qw = g_new (Quant, cc->filters);
  gfloat *w = cnn_network_params (net);
  gfloat *b = w + cc->filters * per_filter;
  Check check = { 0 };
  const gfloat *y;

  g_test_message ("%s on %ux%ux%u, %s inputs%s", arch, cc->in.c, cc->in.h,
      cc->in.w, signed_ ? "signed" : "non-negative", frozen ? ", frozen" : "");
  fill_random (w, cnn_network_param_count (net), cc->filters, 1.0, TRUE);
  for (guint s = 0; s + 1 < batch; s++)
    fill_random (x + s * in_size, in_size, cc->in.c + s, 0.5 + 2.0 * s,
        signed_);
  for (guint f = 0; f < cc->filters; f++)
    qw[f] = quant_of (w + f * per_filter, per_filter, TRUE);
  if (frozen)
    cnn_network_freeze (net);
  g_assert_true (cnn_network_reserve (net, batch, NULL));
  y = cnn_network_forward (net, x, batch);
  for (guint s = 0; s < batch; s++)
    check_conv_sample (cc, x + s * in_size, w, b, qw, relu, pool,
        y + s * out_size, &check);
  cnn_network_free (net);
  return check.worst;
}

static const ConvCase conv_cases[] = {
  {{32, 26, 26}, 64, 0},        /* the reference network's second */
  {{3, 17, 13}, 5, 1},          /* RGB, odd sizes, padding, 5 filters */
  {{17, 9, 10}, 13, 0},         /* channels not a multiple of 4 */
  {{33, 12, 11}, 20, 2},
  {{5, 40, 37}, 9, 1},          /* rows longer than a tile */
  {{4, 11, 67}, 6, 0},
  {{3, 4, 4}, 1, 0},            /* one filter, one pooled output */
};

/* Each case, with and without ReLU and pool, signed and non-negative
 * inputs, frozen every other case: both loops hold, and the outputs are
 * off the float loop's by more than float rounding (so they came from
 * int8 products). */
static void
test_conv (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (conv_cases); i++)
    for (guint v = 0; v < 8; v++) {
      gdouble worst = check_conv_case (&conv_cases[i], v & 1, v & 2, v & 4,
          i % 2 == 0);

      g_assert_cmpfloat (worst, >, 1e-4);
    }
}

/* Weights written after a pass are packed again before the next. */
static void
test_conv_weights_change (void)
{
  ConvCase cc = { {8, 6, 6}, 4, 0 };
  CnnNetwork *net = int8_network ("conv 4 3", cc.in);
  gfloat x[8 * 36], y0;
  gfloat *w = cnn_network_params (net);
  Quant qw[4];
  Check check = { 0 };

  fill_random (w, cnn_network_param_count (net), 1, 1.0, TRUE);
  fill_random (x, G_N_ELEMENTS (x), 2, 1.0, FALSE);
  y0 = cnn_network_forward (net, x, 1)[0];
  for (gsize i = 0; i < 4 * 72; i++)
    w[i] *= -3.0f;
  for (guint f = 0; f < 4; f++)
    qw[f] = quant_of (w + f * 72, 72, TRUE);
  check_conv_sample (&cc, x, w, w + 4 * 72, qw, FALSE, FALSE,
      cnn_network_forward (net, x, 1), &check);
  g_assert_cmpfloat (cnn_network_forward (net, x, 1)[0], !=, y0);
  cnn_network_free (net);
}

/* The first layer of the reference network (1 input channel) stays in
 * float: within float rounding of the loop. */
static void
test_conv_one_channel_float (void)
{
  ConvCase cc = { {1, 10, 12}, 8, 0 };
  CnnNetwork *net = int8_network ("conv 8 3, relu", cc.in);
  gfloat x[120];
  gfloat *w = cnn_network_params (net);
  const gfloat *y;

  fill_random (w, cnn_network_param_count (net), 3, 1.0, TRUE);
  fill_random (x, G_N_ELEMENTS (x), 4, 1.0, FALSE);
  y = cnn_network_forward (net, x, 1);
  for (guint f = 0; f < 8; f++)
    for (guint oy = 0; oy < 8; oy++)
      for (guint ox = 0; ox < 10; ox++) {
        Quant none = { 0 };
        Sums s = { 0 };
        gdouble want;

        for (guint k = 0; k < 9; k++)
          add_product (&s, w[f * 9 + k], x[(oy + k / 3) * 12 + ox + k % 3],
              &none, &none);
        want = MAX (0.0, w[72 + f] + s.exact);
        g_assert_cmpfloat (fabs (y[(f * 8 + oy) * 10 + ox] - want), <=,
            FLOAT_TOL * (1.0 + s.abs_exact));
      }
  cnn_network_free (net);
}

/* ---- dense layers ------------------------------------------------------ */

/* dense @n_out on @n_in, frozen, @batch samples of different sizes (one
 * all zeros when there are several), against both loops; the worst
 * distance to the float one */
static gdouble
check_dense_case (guint n_in, guint n_out, guint batch, gboolean signed_)
{
  g_autofree gchar *arch = g_strdup_printf ("dense %u", n_out);
  CnnNetwork *net = int8_network (arch, (CnnShape) { n_in, 1, 1 });
  g_autofree gfloat *x = g_new0 (gfloat, (gsize) n_in * batch);
  g_autofree Quant *qw = g_new (Quant, n_out);
  gfloat *w = cnn_network_params (net);
  Check check = { 0 };
  const gfloat *y;

  fill_random (w, cnn_network_param_count (net), n_out, 1.0, TRUE);
  for (gsize i = 0; i < (gsize) n_in * n_out; i++)
    w[i] /= sqrtf ((gfloat) n_in);
  for (guint s = 0; s < batch; s++)
    if (batch == 1 || s != batch / 2)
      fill_random (x + (gsize) s * n_in, n_in, s + 1, 0.25 + s, signed_);
  for (guint j = 0; j < n_out; j++)
    qw[j] = quant_of (w + (gsize) j * n_in, n_in, TRUE);
  cnn_network_freeze (net);
  g_assert_true (cnn_network_reserve (net, batch, NULL));
  y = cnn_network_forward (net, x, batch);
  for (guint s = 0; s < batch; s++) {
    const gfloat *xs = x + (gsize) s * n_in;
    Quant qx = quant_of (xs, n_in, FALSE);

    for (guint j = 0; j < n_out; j++) {
      Sums sums = { 0 };
      Expect e;

      for (guint i = 0; i < n_in; i++)
        add_product (&sums, w[(gsize) j * n_in + i], xs[i], &qw[j], &qx);
      e = expect_of (&sums, w[(gsize) n_out * n_in + j], &qw[j], &qx, FALSE);
      check_output (&check, "dense", (gsize) s * n_out + j,
          y[(gsize) s * n_out + j], &e);
    }
  }
  cnn_network_free (net);
  return check.worst;
}

/* Rows not a multiple of 4 or of 64 bytes; batches of 1, a group of 4
 * and a part, and past a chunk of 16 */
static void
test_dense (void)
{
  static const guint sizes[][2] = { {9216, 128}, {4097, 33}, {1000, 70} };
  static const guint batches[] = { 1, 6, 19 };

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    for (guint b = 0; b < G_N_ELEMENTS (batches); b++)
      for (guint sg = 0; sg < 2; sg++) {
        gdouble worst;

        g_test_message ("dense %u on %u, batch %u, %s inputs", sizes[i][1],
            sizes[i][0], batches[b], sg ? "signed" : "non-negative");
        worst = check_dense_case (sizes[i][0], sizes[i][1], batches[b], sg);
        g_assert_cmpfloat (worst, >, 1e-5);
      }
}

/* A dense layer below 65,536 weights (the reference network's last)
 * stays in float, frozen or not. */
static void
test_dense_small_float (void)
{
  CnnNetwork *net = int8_network ("dense 10", (CnnShape) { 128, 1, 1 });
  gfloat x[128];
  gfloat *w = cnn_network_params (net);
  const gfloat *y;

  fill_random (w, cnn_network_param_count (net), 5, 1.0, TRUE);
  fill_random (x, 128, 6, 1.0, FALSE);
  cnn_network_freeze (net);
  y = cnn_network_forward (net, x, 1);
  for (guint j = 0; j < 10; j++) {
    Quant none = { 0 };
    Sums s = { 0 };

    for (guint i = 0; i < 128; i++)
      add_product (&s, w[j * 128 + i], x[i], &none, &none);
    g_assert_cmpfloat (fabs (y[j] - (w[1280 + j] + s.exact)), <=,
        FLOAT_TOL * (1.0 + s.abs_exact));
  }
  cnn_network_free (net);
}

/* ---- values that are not finite ------------------------------------- */

/* A NaN or infinity in a sample's input makes that sample's outputs
 * NaN, as float products would, and leaves the other samples alone. */
static void
test_not_finite (void)
{
  static const gchar *archs[] = { "conv 8 3, relu, maxpool 2",
    "flatten, dense 1100"
  };

  for (guint a = 0; a < G_N_ELEMENTS (archs); a++) {
    CnnShape in = { 4, 8, 8 };
    CnnNetwork *net = int8_network (archs[a], in);
    gsize n = cnn_shape_size (in);
    gsize n_out = cnn_shape_size (cnn_network_output_shape (net));
    g_autofree gfloat *x = g_new (gfloat, 3 * n);
    const gfloat *y;

    fill_random (cnn_network_params (net), cnn_network_param_count (net), 7,
        1.0, TRUE);
    fill_random (x, 3 * n, 8, 1.0, FALSE);
    x[5] = NAN;
    x[2 * n + 9] = INFINITY;
    cnn_network_freeze (net);
    g_assert_true (cnn_network_reserve (net, 3, NULL));
    y = cnn_network_forward (net, x, 3);
    for (gsize i = 0; i < n_out; i++) {
      g_assert_true (isnan (y[i]));
      g_assert_true (isfinite (y[n_out + i]));
      g_assert_true (isnan (y[2 * n_out + i]));
    }
    cnn_network_free (net);
  }
}

int
main (int argc, char **argv)
{
  g_setenv ("CNN_KERNELS", "avx512-int8", TRUE);
  if (cnn_kernels_choose () != CNN_KERNELS_AVX512_INT8) {
    printf ("SKIP: no AVX512-VNNI int8 kernels on this CPU or in this "
        "build\n");
    return 77;
  }
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/int8/conv", test_conv);
  g_test_add_func ("/int8/conv-weights-change", test_conv_weights_change);
  g_test_add_func ("/int8/conv-one-channel-float",
      test_conv_one_channel_float);
  g_test_add_func ("/int8/dense", test_dense);
  g_test_add_func ("/int8/dense-small-float", test_dense_small_float);
  g_test_add_func ("/int8/not-finite", test_not_finite);
  return g_test_run ();
}
