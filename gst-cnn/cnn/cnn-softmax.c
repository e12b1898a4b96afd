/* softmax over each sample's values: exp (x - max) / Σ exp (x - max). */
#include "cnn-private.h"

#include <math.h>

/* x (batch × n) → y (batch × n), each row summing to 1 */
static void
softmax_forward (CnnLayer * l, const gfloat * in, gfloat * out, guint batch,
    CnnScratch * scratch)
{
  gsize n = cnn_shape_size (l->in);

  for (guint b = 0; b < batch; b++) {
    const gfloat *x = in + b * n;
    gfloat *y = out + b * n;
    gfloat max = x[0];
    gdouble sum = 0.0;

    for (gsize i = 1; i < n; i++)
      max = x[i] > max ? x[i] : max;
    for (gsize i = 0; i < n; i++) {
      y[i] = expf (x[i] - max);
      sum += y[i];
    }
    for (gsize i = 0; i < n; i++)
      y[i] = (gfloat) (y[i] / sum);
  }
}

const CnnLayerOps cnn_softmax_ops = {
  .name = "softmax",
  .keyword = "softmax",
  .setup = cnn_layer_setup_same_shape,
  .forward = softmax_forward,
  .describe = cnn_layer_describe_nothing,
  .to_text = cnn_layer_text_keyword,
};
