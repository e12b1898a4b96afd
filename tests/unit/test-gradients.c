/* libcnn training: every layer kind's backward pass against central
 * finite differences of its own forward pass, whole networks' gradients
 * against finite differences of a double-precision forward written here,
 * thread-count independence and bit-exact reproducibility of a step,
 * each optimizer against its update rule written out here, and a small
 * network that learns.
 *
 * Layer finite differences are taken on float forward passes with the
 * loss summed in double; the step actually taken is (double) (x+ε) -
 * (x-ε) after rounding to float, so only the forward's own rounding is
 * noise.  That noise is about 1e-7 of each output touched, over 2ε;
 * ε = 1e-2 keeps it near 1e-5, and costs no truncation error on layers
 * that are (piecewise) linear in what is varied — all but softmax, whose
 * O(ε²) error is about 1e-5 too.  Inputs keep 2ε clear of kinks and
 * ties.  Run with --verbose to see each check's worst relative error. */
#include "cnn-private.h"

#include <math.h>
#include <string.h>

#define EPS 1e-2
#define REL_TOL 1e-2

static void
fill_uniform (gfloat * x, gsize n, gdouble lo, gdouble hi, guint32 seed)
{
  GRand *rand = g_rand_new_with_seed (seed);

  for (gsize i = 0; i < n; i++)
    x[i] = (gfloat) g_rand_double_range (rand, lo, hi);
  g_rand_free (rand);
}

/* Compares an analytic derivative with a numeric one: relative error,
 * with a floor so that derivatives near zero are held to an absolute
 * standard instead of an impossible relative one. */
static gdouble worst_error;     /* of the checks since the last report */

static void
assert_derivative (const gchar * what, gsize index, gdouble analytic,
    gdouble numeric, gdouble floor)
{
  gdouble scale = MAX (MAX (fabs (analytic), fabs (numeric)), floor);
  gdouble err = fabs (analytic - numeric) / scale;

  worst_error = MAX (worst_error, err);
  if (err >= REL_TOL)
    g_error ("%s %" G_GSIZE_FORMAT ": backward %.7g, finite differences "
        "%.7g (relative error %.2g)", what, index, analytic, numeric, err);
}

static void
report_worst_error (const gchar * what)
{
  g_test_message ("%s: worst relative error %.2g", what, worst_error);
  worst_error = 0.0;
}

/* ---- one layer ------------------------------------------------------ */

/* A layer on its own, with everything a training pass needs.  The loss
 * is L = Σ y·r for fixed random r, so dL/dy = r. */
typedef struct
{
  CnnLayer l;
  guint batch;
  gsize n_in, n_out, n_params;
  gfloat *params, *x, *y, *r;
  gfloat *dx, *dparams;
  gpointer state;
  CnnScratch scratch;
  guint64 seed;
} LayerCase;

static LayerCase *
layer_case_new (const gchar * text, CnnShape in, guint batch, guint32 seed)
{
  LayerCase *lc = g_new0 (LayerCase, 1);
  GError *error = NULL;
  guint n_layers;
  CnnLayerSpec *spec = cnn_arch_parse (text, &n_layers, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (n_layers, ==, 1);
  lc->l.spec = spec[0];
  g_free (spec);
  lc->l.in = in;
  g_assert_true (lc->l.spec.ops->setup (&lc->l, &error));
  g_assert_no_error (error);
  g_assert_nonnull (lc->l.spec.ops->backward);

  lc->batch = batch;
  lc->n_in = cnn_shape_size (in) * batch;
  lc->n_out = cnn_shape_size (lc->l.out) * batch;
  lc->n_params = lc->l.n_weight + lc->l.n_bias;
  lc->params = g_new0 (gfloat, MAX (lc->n_params, 1));
  lc->dparams = g_new0 (gfloat, MAX (lc->n_params, 1));
  fill_uniform (lc->params, lc->n_params, -1.0, 1.0, seed + 1);
  lc->l.weight = lc->l.n_weight ? lc->params : NULL;
  lc->l.bias = lc->l.n_bias ? lc->params + lc->l.n_weight : NULL;
  lc->x = g_new (gfloat, lc->n_in);
  lc->dx = g_new (gfloat, lc->n_in);
  fill_uniform (lc->x, lc->n_in, -1.0, 1.0, seed + 2);
  lc->y = g_new (gfloat, lc->n_out);
  lc->r = g_new (gfloat, lc->n_out);
  fill_uniform (lc->r, lc->n_out, -1.0, 1.0, seed + 3);
  lc->state = g_malloc0 (MAX (lc->l.train_state_bytes * batch, 1));
  lc->scratch.n_floats = MAX (lc->l.scratch_floats, lc->l.train_scratch_floats);
  lc->scratch.floats = g_new (gfloat, MAX (lc->scratch.n_floats, 1));
  lc->seed = seed;
  return lc;
}

static void
layer_case_free (LayerCase * lc)
{
  g_free (lc->params);
  g_free (lc->dparams);
  g_free (lc->x);
  g_free (lc->dx);
  g_free (lc->y);
  g_free (lc->r);
  g_free (lc->state);
  g_free (lc->scratch.floats);
  g_free (lc);
}

static CnnTrainPass
layer_case_pass (LayerCase * lc)
{
  CnnTrainPass pass = {
    .seed = lc->seed,
    .first = 0,
    .state = lc->state,
    .dweight = lc->l.weight ? lc->dparams : NULL,
    .dbias = lc->l.bias ? lc->dparams + lc->l.n_weight : NULL,
    .scratch = &lc->scratch,
  };
  return pass;
}

/* Training forward, then L = Σ y·r in double. */
static gdouble
layer_case_loss (LayerCase * lc)
{
  CnnTrainPass pass = layer_case_pass (lc);
  gdouble loss = 0.0;

  if (lc->l.spec.ops->forward_train)
    lc->l.spec.ops->forward_train (&lc->l, lc->x, lc->y, lc->batch, &pass);
  else
    lc->l.spec.ops->forward (&lc->l, lc->x, lc->y, lc->batch, &lc->scratch);
  for (gsize i = 0; i < lc->n_out; i++)
    loss += (gdouble) lc->y[i] * lc->r[i];
  return loss;
}

static void
layer_case_backward (LayerCase * lc)
{
  CnnTrainPass pass = layer_case_pass (lc);

  layer_case_loss (lc);
  memset (lc->dparams, 0, MAX (lc->n_params, 1) * sizeof (gfloat));
  lc->l.spec.ops->backward (&lc->l, lc->x, lc->y, lc->r, lc->dx, lc->batch,
      &pass);
}

/* dL/dv[i] by central differences, for v an input or parameter array. */
static gdouble
numeric_derivative (LayerCase * lc, gfloat * v, gsize i)
{
  gfloat saved = v[i], plus, minus;
  gdouble loss_plus, loss_minus;

  plus = v[i] = (gfloat) (saved + EPS);
  loss_plus = layer_case_loss (lc);
  minus = v[i] = (gfloat) (saved - EPS);
  loss_minus = layer_case_loss (lc);
  v[i] = saved;
  return (loss_plus - loss_minus) / ((gdouble) plus - (gdouble) minus);
}

/* Every input and every parameter, against finite differences. */
static void
check_layer_case (LayerCase * lc)
{
  gfloat *dx = g_new (gfloat, lc->n_in);
  gfloat *dparams = g_new (gfloat, MAX (lc->n_params, 1));

  layer_case_backward (lc);
  memcpy (dx, lc->dx, lc->n_in * sizeof (gfloat));
  memcpy (dparams, lc->dparams, lc->n_params * sizeof (gfloat));

  for (gsize i = 0; i < lc->n_in; i++)
    assert_derivative ("input", i, dx[i], numeric_derivative (lc, lc->x, i),
        1e-2);
  for (gsize i = 0; i < lc->n_params; i++)
    assert_derivative (i < lc->l.n_weight ? "weight" : "bias", i,
        dparams[i], numeric_derivative (lc, lc->params, i), 1e-2);
  report_worst_error (lc->l.spec.ops->name);

  /* Parameter gradients are added to, never overwritten. */
  if (lc->n_params) {
    CnnTrainPass pass = layer_case_pass (lc);

    layer_case_loss (lc);
    memset (lc->dparams, 0, lc->n_params * sizeof (gfloat));
    lc->l.spec.ops->backward (&lc->l, lc->x, lc->y, lc->r, NULL, lc->batch,
        &pass);
    lc->l.spec.ops->backward (&lc->l, lc->x, lc->y, lc->r, NULL, lc->batch,
        &pass);
    for (gsize i = 0; i < lc->n_params; i++)
      g_assert_cmpfloat_with_epsilon (lc->dparams[i], 2.0f * dparams[i],
          1e-5 * MAX (1.0, fabs (dparams[i])));
  }
  g_free (dx);
  g_free (dparams);
}

static void
test_conv2d_stride_pad (void)
{
  LayerCase *lc = layer_case_new ("conv 3 3 stride=2 pad=1",
      (CnnShape) { 2, 7, 6 }, 2, 10);

  g_assert_cmpuint (lc->l.out.h, ==, 4);
  g_assert_cmpuint (lc->l.out.w, ==, 3);
  check_layer_case (lc);
  layer_case_free (lc);
}

static void
test_conv2d_plain (void)
{
  /* stride 1, pad 0: the copy and add fast paths of im2col/col2im */
  LayerCase *lc = layer_case_new ("conv 4 3", (CnnShape) { 2, 6, 5 }, 3, 20);

  check_layer_case (lc);
  layer_case_free (lc);
}

static void
test_conv2d_wide_kernel (void)
{
  /* windows hanging over the padding on both sides, stride 3 */
  LayerCase *lc = layer_case_new ("conv 2 4 stride=3 pad=2",
      (CnnShape) { 1, 5, 7 }, 2, 30);

  check_layer_case (lc);
  layer_case_free (lc);
}

/* col2im is im2col's adjoint: <im2col (x), c> = <x, col2im (c)>. */
static void
test_col2im_adjoint (void)
{
  const guint C = 3, H = 7, W = 6, K = 3, S = 2, P = 1;
  guint oh = cnn_window_output (H, K, S, P), ow = cnn_window_output (W, K, S,
      P);
  gsize n_img = (gsize) C * H * W, n_col = (gsize) C * K * K * oh * ow;
  gfloat *x = g_new (gfloat, n_img), *back = g_new (gfloat, n_img);
  gfloat *cols = g_new (gfloat, n_col), *c = g_new (gfloat, n_col);
  gdouble lhs = 0.0, rhs = 0.0;

  fill_uniform (x, n_img, -1.0, 1.0, 40);
  fill_uniform (c, n_col, -1.0, 1.0, 41);
  fill_uniform (back, n_img, 5.0, 6.0, 42);     /* must be overwritten */
  cnn_im2col (x, C, H, W, K, S, P, cols);
  cnn_col2im (c, C, H, W, K, S, P, back);
  for (gsize i = 0; i < n_col; i++)
    lhs += (gdouble) cols[i] * c[i];
  for (gsize i = 0; i < n_img; i++)
    rhs += (gdouble) x[i] * back[i];
  g_assert_cmpfloat_with_epsilon (lhs, rhs, 1e-5 * MAX (1.0, fabs (lhs)));

  g_free (x);
  g_free (back);
  g_free (cols);
  g_free (c);
}

static void
test_dense (void)
{
  LayerCase *lc = layer_case_new ("dense 4", (CnnShape) { 5, 1, 1 }, 3, 50);

  check_layer_case (lc);
  layer_case_free (lc);
}

/* Distinct values, 0.05 apart: no ±ε step changes a window's winner. */
static void
fill_distinct (gfloat * x, gsize n, guint32 seed)
{
  GRand *rand = g_rand_new_with_seed (seed);

  for (gsize i = 0; i < n; i++)
    x[i] = (gfloat) (i * 0.05) - 2.0f;
  for (gsize i = n - 1; i > 0; i--) {
    gsize j = g_rand_int_range (rand, 0, (gint32) i + 1);
    gfloat t = x[i];

    x[i] = x[j];
    x[j] = t;
  }
  g_rand_free (rand);
}

static void
test_maxpool_overlapping (void)
{
  /* stride 2 < kernel 3: a value can win two windows */
  LayerCase *lc = layer_case_new ("maxpool 3 stride=2",
      (CnnShape) { 2, 7, 6 }, 2, 60);

  fill_distinct (lc->x, lc->n_in, 61);
  check_layer_case (lc);
  layer_case_free (lc);
}

static void
test_maxpool_gapped (void)
{
  /* stride 3 > kernel 2: some inputs are in no window at all */
  LayerCase *lc = layer_case_new ("maxpool 2 stride=3",
      (CnnShape) { 3, 8, 7 }, 2, 70);

  fill_distinct (lc->x, lc->n_in, 71);
  check_layer_case (lc);
  layer_case_free (lc);
}

static void
test_avgpool_overlapping (void)
{
  /* stride 2 < kernel 3: an input's gradient comes from two windows */
  LayerCase *lc = layer_case_new ("avgpool 3 stride=2",
      (CnnShape) { 2, 7, 6 }, 2, 62);

  check_layer_case (lc);
  layer_case_free (lc);
}

static void
test_avgpool_gapped (void)
{
  /* stride 3 > kernel 2: some inputs are in no window, gradient 0 */
  LayerCase *lc = layer_case_new ("avgpool 2 stride=3",
      (CnnShape) { 3, 8, 7 }, 2, 72);

  check_layer_case (lc);
  layer_case_free (lc);
}

static void
test_relu (void)
{
  LayerCase *lc = layer_case_new ("relu", (CnnShape) { 3, 4, 5 }, 2, 80);
  GRand *rand = g_rand_new_with_seed (81);

  /* away from the kink at 0, where the derivative is undefined */
  for (gsize i = 0; i < lc->n_in; i++)
    lc->x[i] = (gfloat) (g_rand_double_range (rand, 0.05, 1.0)
        * (g_rand_boolean (rand) ? 1.0 : -1.0));
  g_rand_free (rand);
  check_layer_case (lc);
  layer_case_free (lc);
}

static void
test_dropout (void)
{
  LayerCase *lc = layer_case_new ("dropout 0.4", (CnnShape) { 3, 4, 5 }, 3,
      90);

  check_layer_case (lc);
  layer_case_free (lc);
}

static void
test_flatten (void)
{
  LayerCase *lc = layer_case_new ("flatten", (CnnShape) { 2, 3, 4 }, 2, 100);

  check_layer_case (lc);
  layer_case_free (lc);
}

static void
test_softmax (void)
{
  LayerCase *lc = layer_case_new ("softmax", (CnnShape) { 7, 1, 1 }, 3, 110);

  check_layer_case (lc);
  layer_case_free (lc);
}

/* Masks are a function of (seed, sample, position) alone. */
static void
test_dropout_masks (void)
{
  const gfloat rate = 0.3f;
  LayerCase *lc = layer_case_new ("dropout 0.3", (CnnShape) { 50, 20, 20 },
      6, 120);
  gsize n = cnn_shape_size (lc->l.in);
  gfloat *whole = g_new (gfloat, lc->n_out);
  CnnTrainPass pass = layer_case_pass (lc);
  gsize dropped = 0;
  gfloat scale = 1.0f / (1.0f - rate);

  for (gsize i = 0; i < lc->n_in; i++)
    lc->x[i] = 1.0f + (gfloat) (i % 7);
  lc->l.spec.ops->forward_train (&lc->l, lc->x, whole, 6, &pass);

  for (guint b = 0; b < 6; b++)
    for (gsize i = 0; i < n; i++) {
      gfloat x = lc->x[b * n + i], y = whole[b * n + i];
      gboolean keep = cnn_dropout_keeps (pass.seed, b, i, rate);

      /* inverted dropout: survivors are scaled so E[y] = x */
      g_assert_cmpfloat (y, ==, keep ? x * scale : 0.0f);
      dropped += !keep;
    }
  /* 12,000 draws at p = 0.3: σ ≈ 0.0042, so ±0.02 is beyond 4σ */
  g_assert_cmpfloat (fabs ((gdouble) dropped / lc->n_out - rate), <, 0.02);

  /* Samples 2..5 drawn as a separate pass starting at sample 2 (as
   * another thread would) get the same masks. */
  pass.first = 2;
  pass.state = (guint8 *) lc->state + 2 * lc->l.train_state_bytes;
  lc->l.spec.ops->forward_train (&lc->l, lc->x + 2 * n, lc->y, 4, &pass);
  g_assert_cmpmem (lc->y, 4 * n * sizeof (gfloat), whole + 2 * n,
      4 * n * sizeof (gfloat));

  /* Another seed, another mask. */
  pass.seed++;
  lc->l.spec.ops->forward_train (&lc->l, lc->x + 2 * n, lc->y, 4, &pass);
  g_assert_true (memcmp (lc->y, whole + 2 * n, 4 * n * sizeof (gfloat)) != 0);

  /* Inference is the identity. */
  lc->l.spec.ops->forward (&lc->l, lc->x, lc->y, 6, &lc->scratch);
  g_assert_cmpmem (lc->y, lc->n_out * sizeof (gfloat), lc->x,
      lc->n_in * sizeof (gfloat));

  g_free (whole);
  layer_case_free (lc);
}

/* Mean cross-entropy over the batch, from logits, in double. */
static gdouble
mean_cross_entropy (const gfloat * logits, const guint * labels, guint batch,
    guint n)
{
  gdouble total = 0.0;

  for (guint b = 0; b < batch; b++) {
    gdouble sum = 0.0;

    gdouble target = 0.0;

    for (guint i = 0; i < n; i++) {
      sum += exp ((gdouble) logits[b * n + i]);
      /* No class: -Σ (1/n) log p_i, the uniform target's. */
      target += labels[b] == CNN_LABEL_NONE ? logits[b * n + i] / (gdouble) n
          : (i == labels[b] ? logits[b * n + i] : 0.0);
    }
    total += log (sum) - target;
  }
  return total / batch;
}

static void
test_softmax_cross_entropy (void)
{
  const guint batch = 6, n = 6;
  /* Samples 4 and 5 have no class: the uniform target. */
  const guint labels[] = { 0, 5, 2, 2, CNN_LABEL_NONE, CNN_LABEL_NONE };
  LayerCase *lc = layer_case_new ("softmax", (CnnShape) { n, 1, 1 }, batch,
      130);
  gfloat dz[6 * 6];
  gdouble losses[6];
  gboolean correct[6];

  fill_uniform (lc->x, lc->n_in, -3.0, 3.0, 131);
  lc->x[2 * n + 2] = 10.0f;     /* sample 2: confidently right */
  lc->x[3 * n + 4] = 10.0f;     /* sample 3: confidently wrong */
  lc->x[5 * n + 1] = 10.0f;     /* sample 5: sure of a class it has not */
  lc->l.spec.ops->forward (&lc->l, lc->x, lc->y, batch, &lc->scratch);
  cnn_softmax_cross_entropy (lc->x, lc->y, labels, batch, n, 1.0f / batch,
      dz, losses, correct);

  for (guint b = 0; b < batch; b++) {
    g_assert_cmpfloat_with_epsilon (losses[b],
        mean_cross_entropy (lc->x + b * n, labels + b, 1, n), 1e-6);
  }
  g_assert_true (correct[2]);
  g_assert_false (correct[3]);
  g_assert_cmpfloat (losses[3], >, 10.0);
  g_assert_true (correct[4]);
  g_assert_false (correct[5]);
  g_assert_cmpfloat (losses[5], >, losses[4]);

  for (gsize i = 0; i < lc->n_in; i++) {
    gfloat saved = lc->x[i], plus, minus;
    gdouble lp, lm;

    plus = lc->x[i] = (gfloat) (saved + EPS);
    lp = mean_cross_entropy (lc->x, labels, batch, n);
    minus = lc->x[i] = (gfloat) (saved - EPS);
    lm = mean_cross_entropy (lc->x, labels, batch, n);
    lc->x[i] = saved;
    assert_derivative ("logit", i, dz[i], (lp - lm) / ((gdouble) plus -
            (gdouble) minus), 1e-3);
  }
  report_worst_error ("softmax cross-entropy");
  layer_case_free (lc);
}

/* ---- whole networks ------------------------------------------------- */

static CnnNetwork *
training_network (const gchar * arch, CnnShape input, guint max_batch,
    guint64 seed)
{
  GError *error = NULL;
  CnnNetwork *net = cnn_network_new (arch, input, &error);

  g_assert_no_error (error);
  g_assert_true (cnn_network_reserve_training (net, max_batch, &error));
  g_assert_no_error (error);
  cnn_network_init_params (net, seed);
  /* non-zero biases, so their gradients matter downstream */
  for (gsize i = 0; i < cnn_network_param_count (net); i += 97)
    cnn_network_params (net)[i] += 0.01f;
  return net;
}

static void
random_batch (CnnShape shape, guint batch, guint n_classes, guint32 seed,
    gfloat ** input, guint ** labels)
{
  gsize n = cnn_shape_size (shape) * batch;
  GRand *rand = g_rand_new_with_seed (seed);

  *input = g_new (gfloat, n);
  *labels = g_new (guint, batch);
  for (gsize i = 0; i < n; i++)
    (*input)[i] = (gfloat) g_rand_double (rand);
  for (guint b = 0; b < batch; b++)
    (*labels)[b] = g_rand_int_range (rand, 0, (gint32) n_classes);
  g_rand_free (rand);
}

/* ---- a double-precision reference forward --------------------------
 *
 * Whole networks are too kinked (every ReLU, every pooling window) and
 * too deep for float finite differences to settle a gradient to 1e-2:
 * the float forward's rounding needs ε ≳ 1e-3 and that ε crosses kinks.
 * So the loss is recomputed here in double by direct loops, from the
 * architecture's layer specs and the network's parameters, with the
 * dropout masks the step drew; then ε = 1e-6 is both far below the
 * kinks and far above double rounding. */

typedef struct
{
  CnnNetwork *net;
  CnnLayerSpec *specs;
  guint n_layers;
  gdouble *params;              /* a double copy of the parameters */
  gdouble *a, *b;               /* activations, the largest layer's size */
} Reference;

static Reference *
reference_new (CnnNetwork * net)
{
  Reference *ref = g_new0 (Reference, 1);
  gsize n = cnn_network_param_count (net);
  gsize largest = cnn_shape_size (cnn_network_input_shape (net));
  GError *error = NULL;

  ref->net = net;
  ref->specs = cnn_arch_parse (cnn_network_architecture (net),
      &ref->n_layers, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ref->n_layers, ==, cnn_network_n_layers (net));
  ref->params = g_new (gdouble, n);
  for (gsize i = 0; i < n; i++)
    ref->params[i] = cnn_network_params (net)[i];
  for (guint i = 0; i < ref->n_layers; i++)
    largest = MAX (largest, cnn_shape_size (cnn_network_layer_output_shape
            (net, i)));
  ref->a = g_new (gdouble, largest);
  ref->b = g_new (gdouble, largest);
  return ref;
}

static void
reference_free (Reference * ref)
{
  g_free (ref->specs);
  g_free (ref->params);
  g_free (ref->a);
  g_free (ref->b);
  g_free (ref);
}

/* y[f][oy][ox] = b[f] + Σ w[f][c][ky][kx] · x[c][oy·s+ky-p][ox·s+kx-p] */
static void
reference_conv (const CnnLayerSpec * sp, CnnShape in, CnnShape out,
    const gdouble * w, const gdouble * x, gdouble * y)
{
  guint k = sp->kernel;

  for (guint f = 0; f < out.c; f++)
    for (guint oy = 0; oy < out.h; oy++)
      for (guint ox = 0; ox < out.w; ox++) {
        gdouble sum = w[(gsize) out.c * in.c * k * k + f];

        for (guint c = 0; c < in.c; c++)
          for (guint ky = 0; ky < k; ky++)
            for (guint kx = 0; kx < k; kx++) {
              gint iy = (gint) (oy * sp->stride + ky) - (gint) sp->pad;
              gint ix = (gint) (ox * sp->stride + kx) - (gint) sp->pad;

              if (iy >= 0 && ix >= 0 && iy < (gint) in.h && ix < (gint) in.w)
                sum += w[(((gsize) f * in.c + c) * k + ky) * k + kx]
                    * x[((gsize) c * in.h + iy) * in.w + ix];
            }
        y[((gsize) f * out.h + oy) * out.w + ox] = sum;
      }
}

/* One layer, one sample: x → y. */
static void
reference_layer (Reference * ref, guint i, guint sample, guint64 seed,
    const gdouble * w, const gdouble * x, gdouble * y)
{
  const CnnLayerSpec *sp = &ref->specs[i];
  const gchar *kind = cnn_network_layer_kind (ref->net, i);
  CnnShape in = i ? cnn_network_layer_output_shape (ref->net, i - 1)
      : cnn_network_input_shape (ref->net);
  CnnShape out = cnn_network_layer_output_shape (ref->net, i);
  gsize n_in = cnn_shape_size (in), n_out = cnn_shape_size (out);

  if (g_str_equal (kind, "conv2d")) {
    reference_conv (sp, in, out, w, x, y);
  } else if (g_str_equal (kind, "dense")) {
    for (gsize j = 0; j < n_out; j++) {
      gdouble sum = w[n_out * n_in + j];

      for (gsize k = 0; k < n_in; k++)
        sum += w[j * n_in + k] * x[k];
      y[j] = sum;
    }
  } else if (g_str_equal (kind, "relu")) {
    for (gsize j = 0; j < n_in; j++)
      y[j] = MAX (x[j], 0.0);
  } else if (g_str_equal (kind, "maxpool")) {
    for (guint c = 0; c < out.c; c++)
      for (guint oy = 0; oy < out.h; oy++)
        for (guint ox = 0; ox < out.w; ox++) {
          gdouble best = -INFINITY;

          for (guint ky = 0; ky < sp->kernel; ky++)
            for (guint kx = 0; kx < sp->kernel; kx++)
              best = MAX (best, x[((gsize) c * in.h + oy * sp->stride + ky)
                      * in.w + ox * sp->stride + kx]);
          y[((gsize) c * out.h + oy) * out.w + ox] = best;
        }
  } else if (g_str_equal (kind, "avgpool")) {
    for (guint c = 0; c < out.c; c++)
      for (guint oy = 0; oy < out.h; oy++)
        for (guint ox = 0; ox < out.w; ox++) {
          gdouble sum = 0.0;

          for (guint ky = 0; ky < sp->kernel; ky++)
            for (guint kx = 0; kx < sp->kernel; kx++)
              sum += x[((gsize) c * in.h + oy * sp->stride + ky) * in.w
                  + ox * sp->stride + kx];
          y[((gsize) c * out.h + oy) * out.w + ox] =
              sum / (sp->kernel * sp->kernel);
        }
  } else if (g_str_equal (kind, "dropout")) {
    guint64 layer_seed = cnn_train_layer_seed (seed, i);

    for (gsize j = 0; j < n_in; j++)
      y[j] = cnn_dropout_keeps (layer_seed, sample, j, sp->rate)
          ? x[j] / (1.0 - sp->rate) : 0.0;
  } else if (g_str_equal (kind, "flatten")) {
    memcpy (y, x, n_in * sizeof (gdouble));
  } else {
    g_assert_cmpstr (kind, ==, "softmax");
    g_assert_cmpuint (i, ==, ref->n_layers - 1);
  }
}

/* Mean cross-entropy of a batch, with training's dropout masks. */
static gdouble
reference_loss (Reference * ref, const gfloat * input, const guint * labels,
    guint batch, guint64 seed)
{
  gsize n_in = cnn_shape_size (cnn_network_input_shape (ref->net));
  gsize n_out = cnn_shape_size (cnn_network_output_shape (ref->net));
  gdouble total = 0.0;

  for (guint s = 0; s < batch; s++) {
    gdouble *x = ref->a, *y = ref->b, *t, max = -INFINITY, sum = 0.0;
    const gdouble *w = ref->params;

    for (gsize j = 0; j < n_in; j++)
      x[j] = input[s * n_in + j];
    /* up to the logits; the softmax is folded into the loss */
    for (guint i = 0; i + 1 < ref->n_layers; i++) {
      reference_layer (ref, i, s, seed, w, x, y);
      w += cnn_network_layer_param_count (ref->net, i);
      t = x;
      x = y;
      y = t;
    }
    for (gsize j = 0; j < n_out; j++)
      max = MAX (max, x[j]);
    for (gsize j = 0; j < n_out; j++)
      sum += exp (x[j] - max);
    total += log (sum) - (x[labels[s]] - max);
  }
  return total / batch;
}

/* Checks @n_checks parameter coordinates (all of them when 0), chosen
 * at random across the learning layers with half of them biases, of a
 * training step's gradient against central differences of the double
 * reference loss. */
static void
check_network_gradients (const gchar * arch, CnnShape shape, guint batch,
    guint n_checks, guint32 seed)
{
  const gdouble eps = 1e-6;
  CnnNetwork *net = training_network (arch, shape, batch, seed);
  gsize n_params = cnn_network_param_count (net);
  const gfloat *grads;
  gfloat *input;
  guint *labels, n_layers = cnn_network_n_layers (net);
  GRand *rand = g_rand_new_with_seed (seed);
  Reference *ref;
  gdouble loss, ref_loss;

  random_batch (shape, batch, cnn_shape_size (cnn_network_output_shape
          (net)), seed + 1, &input, &labels);
  loss = cnn_network_train_step (net, input, labels, batch, 7, NULL);
  grads = cnn_network_gradients (net);
  ref = reference_new (net);

  /* The training forward is the reference's, dropout masks included. */
  ref_loss = reference_loss (ref, input, labels, batch, 7);
  g_assert_cmpfloat_with_epsilon (loss, ref_loss, 1e-5 * MAX (1.0, ref_loss));
  if (strstr (arch, "dropout"))
    g_assert_cmpfloat (fabs (reference_loss (ref, input, labels, batch, 8)
            - ref_loss), >, 1e-4);

  for (guint c = 0; c < (n_checks ? n_checks : n_params); c++) {
    gsize i = c;
    gdouble saved, lp, lm;

    if (n_checks) {
      guint layer;
      gsize offset = 0, count, n_bias;

      do
        layer = g_rand_int_range (rand, 0, (gint32) n_layers);
      while (!cnn_network_layer_param_count (net, layer));
      for (guint l = 0; l < layer; l++)
        offset += cnn_network_layer_param_count (net, l);
      count = cnn_network_layer_param_count (net, layer);
      n_bias = cnn_network_layer_output_shape (net, layer).c;
      i = offset + (c % 2 ? count - n_bias + g_rand_int_range (rand, 0,
              (gint32) n_bias) : (gsize) (g_rand_double (rand) * (count
                  - n_bias)));
    }
    saved = ref->params[i];
    ref->params[i] = saved + eps;
    lp = reference_loss (ref, input, labels, batch, 7);
    ref->params[i] = saved - eps;
    lm = reference_loss (ref, input, labels, batch, 7);
    ref->params[i] = saved;
    assert_derivative ("parameter", i, grads[i], (lp - lm) / (2 * eps),
        1e-4);
  }
  report_worst_error (arch);

  reference_free (ref);
  g_rand_free (rand);
  g_free (input);
  g_free (labels);
  cnn_network_free (net);
}

static void
test_network_small (void)
{
  /* a parameter-free first layer: backward stops above it */
  check_network_gradients ("flatten, dense 5, relu, dropout 0.3, dense 3, "
      "softmax", (CnnShape) { 2, 2, 2 }, 4, 0, 200);
  check_network_gradients ("conv 3 3 stride=2 pad=1, relu, maxpool 2 "
      "stride=1, dropout 0.2, conv 2 2, relu, flatten, dense 4, softmax",
      (CnnShape) { 2, 9, 8 }, 3, 0, 210);
  check_network_gradients ("conv 4 3 pad=1, relu, avgpool 2, conv 3 2, "
      "relu, avgpool 2 stride=1, flatten, dense 3, softmax",
      (CnnShape) { 3, 8, 8 }, 3, 0, 230);
}

static void
test_network_reference (void)
{
  check_network_gradients (CNN_DEFAULT_ARCHITECTURE, (CnnShape) { 1, 28, 28 },
      2, 30, 220);
}

/* ---- threads and reproducibility ---------------------------------- */

typedef struct
{
  gdouble loss;
  guint correct;
  gfloat *grads;
} StepResult;

static StepResult
run_step (CnnNetwork * net, guint threads, const gfloat * input,
    const guint * labels, guint batch, guint64 seed)
{
  StepResult r;
  gsize n = cnn_network_param_count (net);

  cnn_network_set_threads (net, threads);
  g_assert_cmpuint (cnn_network_get_threads (net), ==, threads);
  r.loss = cnn_network_train_step (net, input, labels, batch, seed,
      &r.correct);
  r.grads = g_memdup2 (cnn_network_gradients (net), n * sizeof (gfloat));
  return r;
}

static void
test_threads_agree (void)
{
  /* 70 samples: several chunks per thread and a ragged last one */
  const guint batch = 70;
  CnnShape shape = { 1, 28, 28 };
  CnnNetwork *net = training_network (CNN_DEFAULT_ARCHITECTURE, shape, batch,
      300);
  gsize n = cnn_network_param_count (net);
  gfloat *input;
  guint *labels;
  StepResult one, two, two_again, three;
  gfloat biggest = 0.0f;

  random_batch (shape, batch, 10, 301, &input, &labels);
  one = run_step (net, 1, input, labels, batch, 5);
  two = run_step (net, 2, input, labels, batch, 5);
  two_again = run_step (net, 2, input, labels, batch, 5);
  three = run_step (net, 3, input, labels, batch, 5);

  g_assert_cmpfloat_with_epsilon (one.loss, two.loss, 1e-5);
  g_assert_cmpfloat_with_epsilon (one.loss, three.loss, 1e-5);
  g_assert_cmpuint (one.correct, ==, two.correct);
  for (gsize i = 0; i < n; i++)
    biggest = MAX (biggest, fabsf (one.grads[i]));
  g_assert_cmpfloat (biggest, >, 0.0f);
  for (gsize i = 0; i < n; i++) {
    if (fabsf (one.grads[i] - two.grads[i]) > 1e-5f * biggest)
      g_error ("gradient %" G_GSIZE_FORMAT ": %.9g on 1 thread, %.9g on 2",
          i, one.grads[i], two.grads[i]);
  }

  /* Same thread count, same seed: the same bits. */
  g_assert_cmpfloat (two.loss, ==, two_again.loss);
  g_assert_cmpmem (two.grads, n * sizeof (gfloat), two_again.grads,
      n * sizeof (gfloat));

  g_free (one.grads);
  g_free (two.grads);
  g_free (two_again.grads);
  g_free (three.grads);
  g_free (input);
  g_free (labels);
  cnn_network_free (net);
}

static void
test_reproducible (void)
{
  const guint batch = 20;
  CnnShape shape = { 1, 28, 28 };
  CnnNetwork *a = training_network (CNN_DEFAULT_ARCHITECTURE, shape, batch, 1);
  CnnNetwork *b = training_network (CNN_DEFAULT_ARCHITECTURE, shape, 64, 1);
  gsize n = cnn_network_param_count (a);
  gfloat *input;
  guint *labels;
  StepResult ra, rb, other_seed;

  random_batch (shape, batch, 10, 400, &input, &labels);
  /* two networks, built apart, one reserved larger than the other */
  ra = run_step (a, 2, input, labels, batch, 9);
  rb = run_step (b, 2, input, labels, batch, 9);
  g_assert_cmpfloat (ra.loss, ==, rb.loss);
  g_assert_cmpmem (ra.grads, n * sizeof (gfloat), rb.grads,
      n * sizeof (gfloat));

  /* The seed draws the dropout masks: another seed, another step. */
  other_seed = run_step (b, 2, input, labels, batch, 10);
  g_assert_cmpfloat (other_seed.loss, !=, ra.loss);

  g_free (ra.grads);
  g_free (rb.grads);
  g_free (other_seed.grads);
  g_free (input);
  g_free (labels);
  cnn_network_free (a);
  cnn_network_free (b);
}

static void
test_train_step_bad_labels (void)
{
  CnnShape shape = { 4, 1, 1 };
  CnnNetwork *net = training_network ("dense 3, softmax", shape, 2, 1);
  gfloat input[8] = { 0 };
  guint labels[2] = { 1, 3 };
  GError *error = NULL;
  gdouble loss;

  g_test_expect_message (NULL, G_LOG_LEVEL_CRITICAL, "*labels*");
  loss = cnn_network_train_step (net, input, labels, 2, 1, NULL);
  g_test_assert_expected_messages ();
  g_assert_true (isnan (loss));

  g_test_expect_message (NULL, G_LOG_LEVEL_CRITICAL, "*batch*");
  loss = cnn_network_train_step (net, input, labels, 3, 1, NULL);
  g_test_assert_expected_messages ();
  g_assert_true (isnan (loss));
  cnn_network_free (net);

  /* no softmax at the end: no cross-entropy to train on */
  net = cnn_network_new ("dense 3, relu", shape, &error);
  g_assert_no_error (error);
  g_assert_false (cnn_network_reserve_training (net, 2, &error));
  g_assert_error (error, CNN_ERROR, CNN_ERROR_ARCH);
  g_assert_nonnull (strstr (error->message, "layer 1 (relu)"));
  g_assert_nonnull (strstr (error->message, "softmax"));
  g_clear_error (&error);
  g_assert_null (cnn_network_gradients (net));
  g_test_expect_message (NULL, G_LOG_LEVEL_CRITICAL, "*tr != NULL*");
  loss = cnn_network_train_step (net, input, labels, 2, 1, NULL);
  g_test_assert_expected_messages ();
  g_assert_true (isnan (loss));
  cnn_network_free (net);
}

/* ---- optimizers ----------------------------------------------------- */

#define N_OPT 3

static const gdouble start[N_OPT] = { 0.5, -1.0, 2.0 };
static const gfloat grad_steps[2][N_OPT] = {
  {0.1f, -0.2f, 0.3f},
  {-0.05f, 0.4f, 0.0f},
};

static void
assert_params (const gfloat * got, const gdouble * want)
{
  for (guint i = 0; i < N_OPT; i++)
    g_assert_cmpfloat_with_epsilon (got[i], want[i], 1e-6 * MAX (1.0,
            fabs (want[i])));
}

/* Two steps of @settings from start[], the second at rate @lr2. */
static void
run_optimizer (const CnnOptimizerSettings * s, gdouble lr2, gfloat * p,
    gdouble after_first[N_OPT], const gdouble after_second[N_OPT])
{
  CnnOptimizer *opt = cnn_optimizer_new (s, N_OPT);

  for (guint i = 0; i < N_OPT; i++)
    p[i] = (gfloat) start[i];
  cnn_optimizer_step (opt, p, grad_steps[0], s->learning_rate);
  assert_params (p, after_first);
  cnn_optimizer_step (opt, p, grad_steps[1], lr2);
  assert_params (p, after_second);
  g_assert_cmpuint (cnn_optimizer_steps (opt), ==, 2);
  cnn_optimizer_free (opt);
}

static void
test_optimizer_sgd (void)
{
  CnnOptimizerSettings s;
  gdouble p[N_OPT], v[N_OPT] = { 0 }, first[N_OPT];
  gfloat got[N_OPT];
  const gdouble lr = 0.1, lr2 = 0.05, mu = 0.9, wd = 0.01;

  cnn_optimizer_settings_init (&s, CNN_OPTIMIZER_SGD);
  g_assert_cmpfloat (s.learning_rate, ==, 0.01);
  g_assert_cmpfloat (s.momentum, ==, 0.9);
  s.learning_rate = lr;
  s.weight_decay = wd;

  /* heavy-ball: v ← μv + (g + λp), p ← p - η v */
  memcpy (p, start, sizeof p);
  for (guint t = 0; t < 2; t++) {
    for (guint i = 0; i < N_OPT; i++) {
      v[i] = mu * v[i] + grad_steps[t][i] + wd * p[i];
      p[i] -= (t ? lr2 : lr) * v[i];
    }
    if (t == 0)
      memcpy (first, p, sizeof p);
  }
  /* by hand, first coordinate: v = 0.1 + 0.005, p = 0.5 - 0.0105 */
  g_assert_cmpfloat_with_epsilon (first[0], 0.4895, 1e-8);
  run_optimizer (&s, lr2, got, first, p);
}

static void
test_optimizer_adam (void)
{
  CnnOptimizerSettings s;
  gdouble p[N_OPT], m[N_OPT] = { 0 }, v[N_OPT] = { 0 }, first[N_OPT];
  gfloat got[N_OPT];
  const gdouble lr = 0.01, lr2 = 0.02, b1 = 0.9, b2 = 0.999, eps = 1e-8;

  cnn_optimizer_settings_init (&s, CNN_OPTIMIZER_ADAM);
  g_assert_cmpfloat (s.learning_rate, ==, 0.001);
  g_assert_cmpfloat (s.beta1, ==, b1);
  g_assert_cmpfloat (s.beta2, ==, b2);
  g_assert_cmpfloat (s.epsilon, ==, eps);
  s.learning_rate = lr;

  memcpy (p, start, sizeof p);
  for (guint t = 1; t <= 2; t++) {
    for (guint i = 0; i < N_OPT; i++) {
      gdouble g = grad_steps[t - 1][i];
      gdouble m_hat, v_hat;

      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      m_hat = m[i] / (1 - pow (b1, t));
      v_hat = v[i] / (1 - pow (b2, t));
      p[i] -= (t == 1 ? lr : lr2) * m_hat / (sqrt (v_hat) + eps);
    }
    if (t == 1)
      memcpy (first, p, sizeof p);
  }
  /* The first Adam step moves each coordinate by lr against its
   * gradient's sign, whatever the gradient's size. */
  g_assert_cmpfloat_with_epsilon (first[0], 0.5 - lr, 1e-7);
  g_assert_cmpfloat_with_epsilon (first[1], -1.0 + lr, 1e-7);
  run_optimizer (&s, lr2, got, first, p);

  /* weight decay: an L2 term in the gradient; with a zero gradient the
   * first step is still lr against the parameter's sign */
  {
    CnnOptimizer *opt;
    gfloat q[N_OPT] = { 0.5f, -1.0f, 0.0f };
    const gfloat zero[N_OPT] = { 0 };

    s.weight_decay = 0.1;
    opt = cnn_optimizer_new (&s, N_OPT);
    cnn_optimizer_step (opt, q, zero, lr);
    g_assert_cmpfloat_with_epsilon (q[0], 0.5 - lr, 1e-6);
    g_assert_cmpfloat_with_epsilon (q[1], -1.0 + lr, 1e-6);
    g_assert_cmpfloat (q[2], ==, 0.0f);
    cnn_optimizer_free (opt);
  }
}

static void
test_optimizer_adadelta (void)
{
  CnnOptimizerSettings s;
  gdouble p[N_OPT], a[N_OPT] = { 0 }, d[N_OPT] = { 0 }, first[N_OPT];
  gfloat got[N_OPT];
  const gdouble lr = 1.0, lr2 = 0.5, rho = 0.95, eps = 1e-6, wd = 0.02;

  cnn_optimizer_settings_init (&s, CNN_OPTIMIZER_ADADELTA);
  g_assert_cmpfloat (s.learning_rate, ==, 1.0);
  g_assert_cmpfloat (s.rho, ==, rho);
  g_assert_cmpfloat (s.epsilon, ==, eps);
  s.weight_decay = wd;

  memcpy (p, start, sizeof p);
  for (guint t = 0; t < 2; t++) {
    for (guint i = 0; i < N_OPT; i++) {
      gdouble g = grad_steps[t][i] + wd * p[i];
      gdouble delta;

      a[i] = rho * a[i] + (1 - rho) * g * g;
      delta = sqrt (d[i] + eps) / sqrt (a[i] + eps) * g;
      d[i] = rho * d[i] + (1 - rho) * delta * delta;
      p[i] -= (t ? lr2 : lr) * delta;
    }
    if (t == 0)
      memcpy (first, p, sizeof p);
  }
  run_optimizer (&s, lr2, got, first, p);
}

/* Writing the state back into a new optimizer continues exactly. */
static void
test_optimizer_resume (void)
{
  for (guint k = CNN_OPTIMIZER_SGD; k <= CNN_OPTIMIZER_ADADELTA; k++) {
    CnnOptimizerSettings s;
    CnnOptimizer *whole, *first, *resumed;
    gfloat p_whole[N_OPT], p_resumed[N_OPT];
    gfloat *state, *dest;
    gsize n_state, n_dest;

    cnn_optimizer_settings_init (&s, k);
    whole = cnn_optimizer_new (&s, N_OPT);
    first = cnn_optimizer_new (&s, N_OPT);
    for (guint i = 0; i < N_OPT; i++)
      p_whole[i] = p_resumed[i] = (gfloat) start[i];

    for (guint t = 0; t < 3; t++)
      cnn_optimizer_step (whole, p_whole, grad_steps[t % 2], s.learning_rate);
    cnn_optimizer_step (first, p_resumed, grad_steps[0], s.learning_rate);

    state = cnn_optimizer_state (first, &n_state);
    g_assert_cmpuint (n_state, ==, k == CNN_OPTIMIZER_SGD ? N_OPT
        : 2 * N_OPT);
    resumed = cnn_optimizer_new (&s, N_OPT);
    dest = cnn_optimizer_state (resumed, &n_dest);
    g_assert_cmpuint (n_dest, ==, n_state);
    memcpy (dest, state, n_state * sizeof (gfloat));
    cnn_optimizer_set_steps (resumed, cnn_optimizer_steps (first));
    cnn_optimizer_step (resumed, p_resumed, grad_steps[1], s.learning_rate);
    cnn_optimizer_step (resumed, p_resumed, grad_steps[0], s.learning_rate);

    g_assert_cmpuint (cnn_optimizer_steps (resumed), ==, 3);
    g_assert_cmpmem (p_whole, sizeof p_whole, p_resumed, sizeof p_resumed);
    cnn_optimizer_free (whole);
    cnn_optimizer_free (first);
    cnn_optimizer_free (resumed);
  }
}

/* Threads split the update, never change it. */
static void
test_optimizer_threads (void)
{
  const gsize n = 1000 + 3;     /* slices of unequal length */
  gfloat *grads = g_new (gfloat, n), *p1 = g_new (gfloat, n);
  gfloat *p3 = g_new (gfloat, n);

  fill_uniform (grads, n, -1.0, 1.0, 600);
  for (guint k = CNN_OPTIMIZER_SGD; k <= CNN_OPTIMIZER_ADADELTA; k++) {
    CnnOptimizerSettings s;
    CnnOptimizer *one, *three;
    gfloat *state1, *state3;
    gsize n_state;

    cnn_optimizer_settings_init (&s, k);
    s.weight_decay = 0.01;
    one = cnn_optimizer_new (&s, n);
    three = cnn_optimizer_new (&s, n);
    cnn_optimizer_set_threads (three, 3);
    fill_uniform (p1, n, -1.0, 1.0, 601);
    memcpy (p3, p1, n * sizeof (gfloat));
    for (guint t = 0; t < 3; t++) {
      cnn_optimizer_step (one, p1, grads, s.learning_rate);
      cnn_optimizer_step (three, p3, grads, s.learning_rate);
    }
    g_assert_cmpmem (p1, n * sizeof (gfloat), p3, n * sizeof (gfloat));
    state1 = cnn_optimizer_state (one, &n_state);
    state3 = cnn_optimizer_state (three, NULL);
    g_assert_cmpmem (state1, n_state * sizeof (gfloat), state3,
        n_state * sizeof (gfloat));
    /* and the update did something */
    fill_uniform (p3, n, -1.0, 1.0, 601);
    for (gsize i = 0; i < n; i++)
      g_assert_cmpfloat (p1[i], !=, p3[i]);
    cnn_optimizer_free (one);
    cnn_optimizer_free (three);
  }
  g_free (grads);
  g_free (p1);
  g_free (p3);
}

static void
test_optimizer_names (void)
{
  CnnOptimizerKind kind;

  for (guint k = CNN_OPTIMIZER_SGD; k <= CNN_OPTIMIZER_ADADELTA; k++) {
    const gchar *name = cnn_optimizer_kind_to_string (k);

    g_assert_nonnull (name);
    g_assert_true (cnn_optimizer_kind_from_string (name, &kind));
    g_assert_cmpint (kind, ==, k);
  }
  g_assert_cmpstr (cnn_optimizer_kind_to_string (CNN_OPTIMIZER_ADAM), ==,
      "adam");
  g_assert_true (cnn_optimizer_kind_from_string ("sgd", &kind));
  g_assert_cmpint (kind, ==, CNN_OPTIMIZER_SGD);
  g_assert_false (cnn_optimizer_kind_from_string ("rmsprop", &kind));
  g_assert_false (cnn_optimizer_kind_from_string ("", &kind));
  g_assert_false (cnn_optimizer_kind_from_string (NULL, &kind));
  g_assert_null (cnn_optimizer_kind_to_string ((CnnOptimizerKind) 99));
}

/* ---- learning ------------------------------------------------------- */

/* 8×8 images of one horizontal (class 0) or vertical (class 1) bar at a
 * random place, on noise. */
static void
bars_batch (GRand * rand, guint batch, gfloat * x, guint * labels)
{
  for (guint b = 0; b < batch; b++) {
    gfloat *img = x + b * 64;
    guint at = g_rand_int_range (rand, 1, 7);

    labels[b] = g_rand_int_range (rand, 0, 2);
    for (guint i = 0; i < 64; i++)
      img[i] = (gfloat) g_rand_double_range (rand, 0.0, 0.3);
    for (guint j = 1; j < 7; j++)
      img[labels[b] ? j * 8 + at : at * 8 + j] = 1.0f;
  }
}

static void
test_learns_bars (void)
{
  const guint batch = 16, n_eval = 64;
  CnnShape shape = { 1, 8, 8 };
  CnnNetwork *net = training_network ("conv 4 3, relu, maxpool 2, flatten, "
      "dropout 0.1, dense 2, softmax", shape, n_eval, 3);
  CnnOptimizerSettings s;
  CnnOptimizer *opt;
  GRand *rand = g_rand_new_with_seed (500);
  gfloat x_eval[64 * 64], x[16 * 64];
  guint y_eval[64], y[16], correct;
  gdouble before, after;

  bars_batch (rand, n_eval, x_eval, y_eval);
  before = cnn_network_train_step (net, x_eval, y_eval, n_eval, 0, NULL);

  cnn_optimizer_settings_init (&s, CNN_OPTIMIZER_ADAM);
  s.learning_rate = 0.01;
  opt = cnn_optimizer_new (&s, cnn_network_param_count (net));
  cnn_network_set_threads (net, 2);
  for (guint step = 0; step < 200; step++) {
    bars_batch (rand, batch, x, y);
    cnn_network_train_step (net, x, y, batch, step, NULL);
    cnn_optimizer_step (opt, cnn_network_params (net),
        cnn_network_gradients (net), s.learning_rate);
  }
  after = cnn_network_train_step (net, x_eval, y_eval, n_eval, 0, &correct);
  g_test_message ("bars: loss %.4f -> %.4f, %u/%u right", before, after,
      correct, n_eval);
  g_assert_cmpfloat (after, <, before / 5.0);
  g_assert_cmpuint (correct, >=, n_eval * 95 / 100);

  cnn_optimizer_free (opt);
  g_rand_free (rand);
  cnn_network_free (net);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/gradients/conv2d/stride-2-pad-1", test_conv2d_stride_pad);
  g_test_add_func ("/gradients/conv2d/stride-1-pad-0", test_conv2d_plain);
  g_test_add_func ("/gradients/conv2d/stride-3-pad-2", test_conv2d_wide_kernel);
  g_test_add_func ("/gradients/conv2d/col2im-adjoint", test_col2im_adjoint);
  g_test_add_func ("/gradients/dense", test_dense);
  g_test_add_func ("/gradients/maxpool/overlapping", test_maxpool_overlapping);
  g_test_add_func ("/gradients/maxpool/gapped", test_maxpool_gapped);
  g_test_add_func ("/gradients/avgpool/overlapping", test_avgpool_overlapping);
  g_test_add_func ("/gradients/avgpool/gapped", test_avgpool_gapped);
  g_test_add_func ("/gradients/relu", test_relu);
  g_test_add_func ("/gradients/dropout", test_dropout);
  g_test_add_func ("/gradients/dropout/masks", test_dropout_masks);
  g_test_add_func ("/gradients/flatten", test_flatten);
  g_test_add_func ("/gradients/softmax", test_softmax);
  g_test_add_func ("/gradients/softmax-cross-entropy",
      test_softmax_cross_entropy);
  g_test_add_func ("/gradients/network/small", test_network_small);
  g_test_add_func ("/gradients/network/reference", test_network_reference);
  g_test_add_func ("/train/threads-agree", test_threads_agree);
  g_test_add_func ("/train/reproducible", test_reproducible);
  g_test_add_func ("/train/bad-labels", test_train_step_bad_labels);
  g_test_add_func ("/train/learns-bars", test_learns_bars);
  g_test_add_func ("/optimizer/sgd", test_optimizer_sgd);
  g_test_add_func ("/optimizer/adam", test_optimizer_adam);
  g_test_add_func ("/optimizer/adadelta", test_optimizer_adadelta);
  g_test_add_func ("/optimizer/resume", test_optimizer_resume);
  g_test_add_func ("/optimizer/threads", test_optimizer_threads);
  g_test_add_func ("/optimizer/names", test_optimizer_names);

  return g_test_run ();
}
