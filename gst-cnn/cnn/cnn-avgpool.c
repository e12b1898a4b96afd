/* avgpool: the mean of each k×k window, channel by channel (windows that
 * do not fit whole are dropped: Keras AveragePooling2D "valid", PyTorch
 * AvgPool2d without padding, ONNX AveragePool without pads). */
#include "cnn-private.h"

#include <string.h>

static gfloat
window_mean (const gfloat * plane, guint width, guint y0, guint x0, guint k)
{
  gfloat sum = 0.0f;

  for (guint ky = 0; ky < k; ky++)
    for (guint kx = 0; kx < k; kx++)
      sum += plane[(gsize) (y0 + ky) * width + x0 + kx];
  return sum / (gfloat) (k * k);
}

/* x (batch × C×H×W) → y (batch × C×oh×ow) */
static void
avgpool_forward (CnnLayer * l, const gfloat * in, gfloat * out, guint batch,
    CnnScratch * scratch)
{
  cnn_layer_pool_planes (l, in, out, batch, window_mean);
}

/* dx (batch × C×H×W): each dy spread evenly over its window; windows
 * that overlap (stride < k) add up, inputs in none (stride > k) get 0. */
static void
avgpool_backward (CnnLayer * l, const gfloat * in, const gfloat * out,
    const gfloat * dout, gfloat * din, guint batch, CnnTrainPass * pass)
{
  const CnnLayerSpec *s = &l->spec;
  const guint planes = batch * l->in.c;
  const gsize in_plane = (gsize) l->in.h * l->in.w;
  const gsize out_plane = (gsize) l->out.h * l->out.w;
  const gfloat share = 1.0f / (gfloat) (s->kernel * s->kernel);

  if (!din)
    return;
  memset (din, 0, planes * in_plane * sizeof (gfloat));
  for (guint p = 0; p < planes; p++) {
    gfloat *dx = din + p * in_plane;
    const gfloat *dy = dout + p * out_plane;

    for (guint oy = 0; oy < l->out.h; oy++)
      for (guint ox = 0; ox < l->out.w; ox++) {
        const gfloat g = dy[(gsize) oy * l->out.w + ox] * share;

        for (guint ky = 0; ky < s->kernel; ky++)
          for (guint kx = 0; kx < s->kernel; kx++)
            dx[(gsize) (oy * s->stride + ky) * l->in.w + ox * s->stride
                + kx] += g;
      }
  }
}

const CnnLayerOps cnn_avgpool_ops = {
  .name = "avgpool",
  .keyword = "avgpool",
  .usage = "avgpool K [stride=S]",
  .args = cnn_pool_args,
  .n_args = G_N_ELEMENTS (cnn_pool_args),
  .options = cnn_pool_options,
  .n_options = G_N_ELEMENTS (cnn_pool_options),
  .stride_is_kernel = TRUE,
  .setup = cnn_layer_setup_pool,
  .forward = avgpool_forward,
  .backward = avgpool_backward,
  .describe = cnn_layer_describe_pool,
  .to_text = cnn_layer_pool_text,
};
