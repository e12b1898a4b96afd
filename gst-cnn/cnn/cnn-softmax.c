/* softmax over each sample's values: exp (x - max) / Σ exp (x - max). */
#include "cnn-private.h"

#include <math.h>

void
cnn_softmax_row (const gfloat * x, gfloat * y, gsize n)
{
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

/* x (batch × n) → y (batch × n), each row summing to 1 */
static void
softmax_forward (CnnLayer * l, const gfloat * in, gfloat * out, guint batch,
    CnnScratch * scratch)
{
  gsize n = cnn_shape_size (l->in);

  for (guint b = 0; b < batch; b++)
    cnn_softmax_row (in + b * n, out + b * n, n);
}

/* The softmax Jacobian applied to dy, per sample:
 *   dx (n) = y ⊙ (dy - Σ dy·y)
 * (training fuses softmax with its loss instead, see below). */
static void
softmax_backward (CnnLayer * l, const gfloat * in, const gfloat * out,
    const gfloat * dout, gfloat * din, guint batch, CnnTrainPass * pass)
{
  gsize n = cnn_shape_size (l->in);

  if (!din)
    return;
  for (guint b = 0; b < batch; b++) {
    const gfloat *y = out + b * n, *dy = dout + b * n;
    gdouble dot = 0.0;

    for (gsize i = 0; i < n; i++)
      dot += (gdouble) dy[i] * y[i];
    for (gsize i = 0; i < n; i++)
      din[b * n + i] = (gfloat) (y[i] * (dy[i] - dot));
  }
}

/* logits, probs (batch × n), labels (batch; CNN_LABEL_NONE: no class,
 * the uniform target) → dlogits (batch × n), losses.
 * The loss is computed from the logits, log Σ exp (x - max) - (x[label]
 * - max), so that a confident wrong answer costs a large finite loss
 * rather than -log 0. */
void
cnn_softmax_cross_entropy (const gfloat * logits, const gfloat * probs,
    const guint * labels, guint batch, guint n, gfloat scale,
    gfloat * dlogits, gdouble * losses, gboolean * correct)
{
  for (guint b = 0; b < batch; b++) {
    const gfloat *x = logits + (gsize) b * n, *p = probs + (gsize) b * n;
    gfloat *dx = dlogits + (gsize) b * n;
    guint label = labels[b], best = 0;
    gdouble max = x[0], sum = 0.0;

    for (guint i = 1; i < n; i++) {
      max = MAX (max, x[i]);
      if (p[i] > p[best])
        best = i;
    }
    for (guint i = 0; i < n; i++)
      sum += exp (x[i] - max);
    if (label == CNN_LABEL_NONE) {
      /* The uniform target: cross-entropy against 1/n each. */
      gdouble mean = 0.0;

      for (guint i = 0; i < n; i++)
        mean += (x[i] - max) / n;
      losses[b] = log (sum) - mean;
      correct[b] = p[best] < CNN_LABEL_NONE_CONFIDENCE;
      for (guint i = 0; i < n; i++)
        dx[i] = (p[i] - 1.0f / n) * scale;
      continue;
    }
    losses[b] = log (sum) - (x[label] - max);
    correct[b] = best == label;
    for (guint i = 0; i < n; i++)
      dx[i] = (p[i] - (i == label ? 1.0f : 0.0f)) * scale;
  }
}

const CnnLayerOps cnn_softmax_ops = {
  .name = "softmax",
  .keyword = "softmax",
  .usage = "softmax",
  .gives_probabilities = TRUE,
  .setup = cnn_layer_setup_same_shape,
  .forward = softmax_forward,
  .backward = softmax_backward,
  .backward_reads_output = TRUE,
  .describe = cnn_layer_describe_nothing,
  .to_text = cnn_layer_text_keyword,
};

guint
cnn_argmax (const gfloat * values, guint n)
{
  guint best = 0;

  for (guint i = 1; i < n; i++)
    if (values[i] > values[best])
      best = i;
  return best;
}
