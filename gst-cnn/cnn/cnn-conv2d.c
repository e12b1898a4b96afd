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
  return TRUE;
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
      for (guint j = 0; j < n_cols; j++)
        y[(gsize) f * n_cols + j] = l->bias[f];
    cnn_sgemm (FALSE, FALSE, s->units, n_cols, depth, 1.0f, l->weight, depth,
        scratch->floats, n_cols, 1.0f, y, n_cols);
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
  .describe = conv2d_describe,
  .to_text = conv2d_to_text,
};
