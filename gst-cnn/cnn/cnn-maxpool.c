/* maxpool: the largest value of each k×k window, channel by channel
 * (windows that do not fit whole are dropped, as in Keras "valid"). */
#include "cnn-private.h"

#include <string.h>

static gboolean
maxpool_setup (CnnLayer * l, GError ** error)
{
  if (!cnn_layer_setup_pool (l, error))
    return FALSE;
  /* Training records each window's winner: its offset in the plane. */
  l->train_state_bytes = cnn_shape_size (l->out) * sizeof (guint32);
  return TRUE;
}

static gfloat
window_max (const gfloat * plane, guint width, guint y0, guint x0, guint k)
{
  gfloat best = plane[(gsize) y0 * width + x0];

  for (guint ky = 0; ky < k; ky++)
    for (guint kx = 0; kx < k; kx++) {
      gfloat v = plane[(gsize) (y0 + ky) * width + x0 + kx];
      if (v > best)
        best = v;
    }
  return best;
}

/* x (batch × C×H×W) → y (batch × C×oh×ow) */
static void
maxpool_forward (CnnLayer * l, const gfloat * in, gfloat * out, guint batch,
    CnnScratch * scratch)
{
  cnn_layer_pool_planes (l, in, out, batch, window_max);
}

/* The same maximum as window_max (first of equals wins), and where.
 * Written as selects, not a branch: which value wins is a coin toss the
 * branch predictor would lose. */
static guint32
window_argmax (const gfloat * plane, guint width, guint y0, guint x0, guint k)
{
  guint32 best = (guint32) y0 * width + x0;
  gfloat top = plane[best];

  for (guint ky = 0; ky < k; ky++)
    for (guint kx = 0; kx < k; kx++) {
      guint32 at = (guint32) (y0 + ky) * width + x0 + kx;
      gfloat v = plane[at];
      gboolean more = v > top;

      best = more ? at : best;
      top = more ? v : top;
    }
  return best;
}

/* window_argmax for the common 2×2 window, unrolled. */
static inline guint32
window_argmax_2x2 (const gfloat * plane, guint width, guint y0, guint x0)
{
  guint32 a = (guint32) y0 * width + x0, b = a + 1, c = a + width, d = c + 1;
  guint32 ab = plane[b] > plane[a] ? b : a;
  guint32 cd = plane[d] > plane[c] ? d : c;

  return plane[cd] > plane[ab] ? cd : ab;
}

/* x (batch × C×H×W) → y (batch × C×oh×ow), switches (batch × C×oh×ow) */
static void
maxpool_forward_train (CnnLayer * l, const gfloat * in, gfloat * out,
    guint batch, CnnTrainPass * pass)
{
  const CnnLayerSpec *s = &l->spec;
  guint planes = batch * l->in.c;
  gsize out_plane = (gsize) l->out.h * l->out.w;
  guint32 *switches = pass->state;

  for (guint p = 0; p < planes; p++) {
    const gfloat *src = in + (gsize) p * l->in.h * l->in.w;
    gfloat *dst = out + p * out_plane;
    guint32 *sw = switches + p * out_plane;

    for (guint oy = 0; oy < l->out.h; oy++)
      for (guint ox = 0; ox < l->out.w; ox++) {
        gsize o = (gsize) oy * l->out.w + ox;

        sw[o] = s->kernel == 2
            ? window_argmax_2x2 (src, l->in.w, oy * s->stride, ox * s->stride)
            : window_argmax (src, l->in.w, oy * s->stride, ox * s->stride,
            s->kernel);
        dst[o] = src[sw[o]];
      }
  }
}

/* dx (batch × C×H×W): each dy goes to its window's winner; overlapping
 * windows (stride < k) may send several to one input. */
static void
maxpool_backward (CnnLayer * l, const gfloat * in, const gfloat * out,
    const gfloat * dout, gfloat * din, guint batch, CnnTrainPass * pass)
{
  guint planes = batch * l->in.c;
  gsize in_plane = (gsize) l->in.h * l->in.w;
  gsize out_plane = (gsize) l->out.h * l->out.w;
  const guint32 *switches = pass->state;

  if (!din)
    return;
  memset (din, 0, planes * in_plane * sizeof (gfloat));
  for (guint p = 0; p < planes; p++) {
    gfloat *dx = din + p * in_plane;
    const gfloat *dy = dout + p * out_plane;
    const guint32 *sw = switches + p * out_plane;

    for (gsize o = 0; o < out_plane; o++)
      dx[sw[o]] += dy[o];
  }
}

const CnnLayerOps cnn_maxpool_ops = {
  .name = "maxpool",
  .keyword = "maxpool",
  .alias = "pool",
  .usage = "maxpool K [stride=S]",
  .args = cnn_pool_args,
  .n_args = G_N_ELEMENTS (cnn_pool_args),
  .options = cnn_pool_options,
  .n_options = G_N_ELEMENTS (cnn_pool_options),
  .stride_is_kernel = TRUE,
  .fuses_as = CNN_FUSES_AS_MAXPOOL,
  .setup = maxpool_setup,
  .forward = maxpool_forward,
  .forward_train = maxpool_forward_train,
  .backward = maxpool_backward,
  .describe = cnn_layer_describe_pool,
  .to_text = cnn_layer_pool_text,
};
