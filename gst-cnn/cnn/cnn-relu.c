/* relu: max (0, x), element by element. */
#include "cnn-private.h"

/* x (n) → y (n) */
static void
relu_forward (CnnLayer * l, const gfloat * in, gfloat * out, guint batch,
    CnnScratch * scratch)
{
  gsize n = (gsize) batch * cnn_shape_size (l->in);

  for (gsize i = 0; i < n; i++)
    out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

const CnnLayerOps cnn_relu_ops = {
  .name = "relu",
  .keyword = "relu",
  .setup = cnn_layer_setup_same_shape,
  .forward = relu_forward,
  .describe = cnn_layer_describe_nothing,
  .to_text = cnn_layer_text_keyword,
};
