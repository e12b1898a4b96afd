/* relu: max (0, x), element by element. */
#include "cnn-private.h"

/* The kernels are written for the vectorizer: restrict parameters, and
 * the bulk in whole groups of 8, since -O2's cheap vectorizer only takes
 * loops with no remainder.  (A scalar select on random signs would be a
 * mispredicted branch per value.)  They are not inlined: GCC loses the
 * parameters' restrict when it inlines them. */

/* x (n) → y (n) */
G_GNUC_NO_INLINE static void
relu (const gfloat * restrict x, gfloat * restrict y, gsize n)
{
  gsize bulk = n & ~(gsize) 7, i;

  for (i = 0; i < bulk; i++) {
    gfloat v = x[i];
    y[i] = v > 0.0f ? v : 0.0f;
  }
  for (; i < n; i++)
    y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

/* y (n), dy (n) → dx (n) */
G_GNUC_NO_INLINE static void
relu_gradient (const gfloat * restrict y, const gfloat * restrict dy,
    gfloat * restrict dx, gsize n)
{
  gsize bulk = n & ~(gsize) 7, i;

  for (i = 0; i < bulk; i++) {
    gfloat d = dy[i];
    dx[i] = y[i] > 0.0f ? d : 0.0f;
  }
  for (; i < n; i++)
    dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

/* x (n) → x (n) */
G_GNUC_NO_INLINE static void
relu_in_place (gfloat * restrict x, gsize n)
{
  gsize bulk = n & ~(gsize) 7, i;

  for (i = 0; i < bulk; i++) {
    gfloat v = x[i];
    x[i] = v > 0.0f ? v : 0.0f;
  }
  for (; i < n; i++)
    x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

static void
relu_forward (CnnLayer * l, const gfloat * in, gfloat * out, guint batch,
    CnnScratch * scratch)
{
  gsize n = (gsize) batch * cnn_shape_size (l->in);

  if (in == out)
    relu_in_place (out, n);
  else
    relu (in, out, n);
}

/* dx = dy where the output is positive, else 0 (the subgradient at 0) */
static void
relu_backward (CnnLayer * l, const gfloat * in, const gfloat * out,
    const gfloat * dout, gfloat * din, guint batch, CnnTrainPass * pass)
{
  if (din)
    relu_gradient (out, dout, din, (gsize) batch * cnn_shape_size (l->in));
}

const CnnLayerOps cnn_relu_ops = {
  .name = "relu",
  .keyword = "relu",
  .usage = "relu",
  .fuses_as = CNN_FUSES_AS_RELU,
  .setup = cnn_layer_setup_same_shape,
  .forward = relu_forward,
  .backward = relu_backward,
  .in_place = TRUE,
  .backward_reads_output = TRUE,
  .describe = cnn_layer_describe_nothing,
  .to_text = cnn_layer_text_keyword,
};
