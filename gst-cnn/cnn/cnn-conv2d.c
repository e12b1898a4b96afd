/* conv2d: k×k filters over all input channels, a bias per filter.
 * Computed as im2col + one sgemm per sample. */
#include "cnn-private.h"

static gboolean
conv2d_setup (CnnLayer * l, GError ** error)
{
  const CnnLayerSpec *s = &l->spec;
  guint oh = cnn_window_output (l->in.h, s->kernel, s->stride, s->pad);
  guint ow = cnn_window_output (l->in.w, s->kernel, s->stride, s->pad);

  if (oh == 0 || ow == 0) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_ARCH,
        "input %ux%ux%u is smaller than the %ux%u kernel (pad %u)",
        l->in.c, l->in.h, l->in.w, s->kernel, s->kernel, s->pad);
    return FALSE;
  }
  l->out = (CnnShape) { s->units, oh, ow };
  l->weight_n_dims = 4;
  l->weight_dims[0] = s->units;
  l->weight_dims[1] = l->in.c;
  l->weight_dims[2] = s->kernel;
  l->weight_dims[3] = s->kernel;
  l->n_weight = (gsize) s->units * l->in.c * s->kernel * s->kernel;
  l->n_bias = s->units;
  l->scratch_floats = (gsize) l->in.c * s->kernel * s->kernel * oh * ow;
  /* Backward holds a sample's columns and their gradient at once. */
  l->train_scratch_floats = 2 * l->scratch_floats;
  return TRUE;
}

/* y (n) = v, four values a step so that -O2 makes vector stores of it */
static inline void
fill_row (gfloat * y, gfloat v, guint n)
{
  guint i = 0;

  for (; i + 4 <= n; i += 4) {
    y[i] = v;
    y[i + 1] = v;
    y[i + 2] = v;
    y[i + 3] = v;
  }
  for (; i < n; i++)
    y[i] = v;
}

/* W (filters × C·k·k) · im2col(x) (C·k·k × oh·ow) + b → y (filters × oh·ow) */
static void
conv2d_forward (CnnLayer * l, const gfloat * in, gfloat * out, guint batch,
    CnnScratch * scratch)
{
  const CnnLayerSpec *s = &l->spec;
  gsize in_size = cnn_shape_size (l->in), out_size = cnn_shape_size (l->out);
  guint n_cols = l->out.h * l->out.w;
  guint depth = l->in.c * s->kernel * s->kernel;

  for (guint b = 0; b < batch; b++) {
    gfloat *y = out + b * out_size;

    cnn_im2col (in + b * in_size, l->in.c, l->in.h, l->in.w, s->kernel,
        s->stride, s->pad, scratch->floats);
    for (guint f = 0; f < s->units; f++)
      fill_row (y + (gsize) f * n_cols, l->bias[f], n_cols);
    cnn_sgemm_team (scratch->team, FALSE, FALSE, s->units, n_cols, depth,
        1.0f, l->weight, depth, scratch->floats, n_cols, 1.0f, y, n_cols);
  }
}

/* Σ x (n), in 8 running sums: a float sum in one is a chain of
 * dependent adds, and 8 independent ones vectorize. */
static gfloat
row_sum (const gfloat * x, guint n)
{
  gfloat part[8] = { 0 }, sum = 0.0f;
  guint i = 0;

  for (; i + 8 <= n; i += 8)
    for (guint j = 0; j < 8; j++)
      part[j] += x[i + j];
  for (guint j = 0; j < 8; j++)
    sum += part[j];
  for (; i < n; i++)
    sum += x[i];
  return sum;
}

/* Per sample, with cols = im2col (x):
 *   dW (filters × C·k·k) += dy (filters × oh·ow) · colsᵀ (oh·ow × C·k·k)
 *   db (filters)         += Σ over oh·ow of dy
 *   dcols (C·k·k × oh·ow) = Wᵀ (C·k·k × filters) · dy, then col2im → dx
 * The columns are recomputed rather than kept from forward: one sample's
 * columns stay in cache, a batch's would not. */
static void
conv2d_backward (CnnLayer * l, const gfloat * in, const gfloat * out,
    const gfloat * dout, gfloat * din, guint batch, CnnTrainPass * pass)
{
  const CnnLayerSpec *s = &l->spec;
  gsize in_size = cnn_shape_size (l->in), out_size = cnn_shape_size (l->out);
  guint n_cols = l->out.h * l->out.w;
  guint depth = l->in.c * s->kernel * s->kernel;
  gfloat *cols = pass->scratch->floats;
  gfloat *dcols = cols + (gsize) depth * n_cols;

  for (guint b = 0; b < batch; b++) {
    const gfloat *dy = dout + b * out_size;

    cnn_im2col (in + b * in_size, l->in.c, l->in.h, l->in.w, s->kernel,
        s->stride, s->pad, cols);
    cnn_sgemm (FALSE, TRUE, s->units, depth, n_cols, 1.0f, dy, n_cols, cols,
        n_cols, 1.0f, pass->dweight, depth);
    for (guint f = 0; f < s->units; f++)
      pass->dbias[f] += row_sum (dy + (gsize) f * n_cols, n_cols);
    if (!din)
      continue;
    cnn_sgemm (TRUE, FALSE, depth, n_cols, s->units, 1.0f, l->weight, depth,
        dy, n_cols, 0.0f, dcols, n_cols);
    cnn_col2im (dcols, l->in.c, l->in.h, l->in.w, s->kernel, s->stride,
        s->pad, din + b * in_size);
  }
}

static gchar *
conv2d_describe (const CnnLayer * l)
{
  return g_strdup_printf ("%u %ux%u stride %u pad %u", l->spec.units,
      l->spec.kernel, l->spec.kernel, l->spec.stride, l->spec.pad);
}

static gchar *
conv2d_to_text (const CnnLayer * l)
{
  GString *text = g_string_new (NULL);

  g_string_printf (text, "conv %u %u", l->spec.units, l->spec.kernel);
  if (l->spec.stride != 1)
    g_string_append_printf (text, " stride=%u", l->spec.stride);
  if (l->spec.pad != 0)
    g_string_append_printf (text, " pad=%u", l->spec.pad);
  return g_string_free (text, FALSE);
}

const CnnLayerOps cnn_conv2d_ops = {
  .name = "conv2d",
  .keyword = "conv",
  .setup = conv2d_setup,
  .forward = conv2d_forward,
  .backward = conv2d_backward,
  .describe = conv2d_describe,
  .to_text = conv2d_to_text,
};
