/* flatten: C×H×W → (C·H·W)×1×1; the memory layout does not change. */
#include "cnn-private.h"

#include <string.h>

static gboolean
flatten_setup (CnnLayer * l, GError ** error)
{
  gsize n = cnn_shape_size (l->in);

  if (n > G_MAXUINT) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_ARCH,
        "input %ux%ux%u is too large to flatten", l->in.c, l->in.h, l->in.w);
    return FALSE;
  }
  l->out = (CnnShape) { (guint) n, 1, 1 };
  return TRUE;
}

static void
flatten_forward (CnnLayer * l, const gfloat * in, gfloat * out, guint batch,
    CnnScratch * scratch)
{
  if (out != in)
    memcpy (out, in, (gsize) batch * cnn_shape_size (l->in) * sizeof (gfloat));
}

static void
flatten_backward (CnnLayer * l, const gfloat * in, const gfloat * out,
    const gfloat * dout, gfloat * din, guint batch, CnnTrainPass * pass)
{
  if (din && din != dout)
    memcpy (din, dout, (gsize) batch * cnn_shape_size (l->in)
        * sizeof (gfloat));
}

const CnnLayerOps cnn_flatten_ops = {
  .name = "flatten",
  .keyword = "flatten",
  .usage = "flatten",
  .setup = flatten_setup,
  .inference = {.passes_through = TRUE},
  .forward = flatten_forward,
  .backward = flatten_backward,
  .in_place = TRUE,
  .describe = cnn_layer_describe_nothing,
  .to_text = cnn_layer_text_keyword,
};
