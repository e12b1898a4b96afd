/* One training step (docs/design.md §2): each thread carries chunks of
 * the batch forward and backward through the network, then the
 * threads' gradients are summed. */
#include "cnn-network-private.h"

#include <math.h>
#include <string.h>


guint64
cnn_train_layer_seed (guint64 seed, guint layer)
{
  guint64 state = seed ^ ((guint64) layer
      * G_GUINT64_CONSTANT (0xD6E8FEB86659FD93));

  return splitmix64 (&state);
}

/* Where one layer's state and gradients sit for thread @th, for a pass
 * over the samples from @offset in the chunk that starts at @first. */
static void
prepare_pass (CnnNetwork * net, CnnTrainThread * th, guint layer,
    guint first, guint offset, CnnTrainPass * pass)
{
  CnnLayer *l = &net->layers[layer];

  pass->seed = cnn_train_layer_seed (net->training->seed, layer);
  pass->first = first + offset;
  pass->state = th->states[layer] ? (guint8 *) th->states[layer]
      + (gsize) offset * l->train_state_bytes : NULL;
  pass->dweight = l->weight ? th->grads + (l->weight - net->params) : NULL;
  pass->dbias = l->bias ? th->grads + (l->bias - net->params) : NULL;
  pass->scratch = &th->scratch;
}

/* Training forward of layers [from, to) over @count samples from
 * @offset in the chunk; @x is the chunk's input. */
static void
forward_layers (CnnNetwork * net, CnnTrainThread * th, guint from, guint to,
    const gfloat * x, guint first, guint offset, guint count)
{
  for (guint i = from; i < to; i++) {
    CnnLayer *l = &net->layers[i];
    const gfloat *in = (i ? th->outputs[i - 1] : x)
        + offset * cnn_shape_size (l->in);
    gfloat *out = th->outputs[i] + offset * cnn_shape_size (l->out);
    CnnTrainPass pass;

    prepare_pass (net, th, i, first, offset, &pass);
    if (l->spec.ops->forward_train)
      l->spec.ops->forward_train (l, in, out, count, &pass);
    else
      l->spec.ops->forward (l, in, out, count, &th->scratch);
  }
}

/* Backward of layers @top down to @bottom over @count samples from
 * @offset in the chunk, starting from @dout = dL/d(output of @top) and
 * taking turns in @bufs.  Returns dL/d(input of @bottom), or NULL when
 * nothing below needs it. */
static const gfloat *
backward_layers (CnnNetwork * net, CnnTrainThread * th, guint top,
    guint bottom, const gfloat * x, guint first, guint offset, guint count,
    const gfloat * dout, gfloat * bufs[2])
{
  guint stop = net->training->first_param_layer;

  for (guint i = top + 1; i-- > bottom;) {
    CnnLayer *l = &net->layers[i];
    const gfloat *in = (i ? th->outputs[i - 1] : x)
        + offset * cnn_shape_size (l->in);
    const gfloat *out = th->outputs[i] + offset * cnn_shape_size (l->out);
    gfloat *din = i > stop ? (dout == bufs[0] ? bufs[1] : bufs[0]) : NULL;
    CnnTrainPass pass;

    prepare_pass (net, th, i, first, offset, &pass);
    l->spec.ops->backward (l, in, out, dout, din, count, &pass);
    dout = din;
  }
  return dout;
}

/* Forward, loss and backward of samples [first, first + count), which
 * fit in one chunk; gradients are added to the thread's. */
static void
train_chunk (CnnNetwork * net, CnnTrainThread * th, guint first,
    guint count)
{
  CnnTraining *tr = net->training;
  guint last = net->n_layers - 1, split = tr->split;
  guint bottom = MAX (split, tr->first_param_layer);
  const gfloat *x = tr->input + first * cnn_shape_size (net->input);
  const gfloat *dsplit;
  gsize split_in;

  for (guint at = 0; at < count; at += TRAIN_SUB)
    forward_layers (net, th, 0, split, x, first, at, MIN (TRAIN_SUB,
            count - at));
  forward_layers (net, th, split, net->n_layers, x, first, 0, count);

  /* The last layer is softmax: its gradient and the loss's are fused. */
  cnn_softmax_cross_entropy (last > 0 ? th->outputs[last - 1] : x,
      th->outputs[last], tr->labels + first, count,
      (guint) cnn_shape_size (net->layers[last].out), 1.0f / tr->batch,
      th->dact[0], tr->losses + first, tr->correct + first);

  dsplit = th->dact[0];
  if (last > bottom)
    dsplit = backward_layers (net, th, last - 1, bottom, x, first, 0, count,
        th->dact[0], th->dact);
  if (tr->first_param_layer >= split)
    return;
  split_in = cnn_shape_size (net->layers[split].in);
  for (guint at = 0; at < count; at += TRAIN_SUB)
    backward_layers (net, th, split - 1, tr->first_param_layer, x, first, at,
        MIN (TRAIN_SUB, count - at), dsplit + at * split_in, th->dsub);
}

/* Each thread takes a contiguous share of the batch, chunk by chunk. */
static void
train_job (guint index, guint n, gpointer data)
{
  CnnNetwork *net = data;
  CnnTraining *tr = net->training;
  CnnTrainThread *th = &tr->threads[index];
  guint share = (tr->batch + n - 1) / n;
  guint first = index * share;
  guint end = MIN (first + share, tr->batch);

  memset (th->grads, 0, net->n_params * sizeof (gfloat));
  for (guint at = first; at < end; at += tr->chunk)
    train_chunk (net, th, at, MIN (tr->chunk, end - at));
}

/* gradients = thread 0's + thread 1's + ..., always in that order, each
 * thread summing its own slice of the parameters. */
static void
sum_gradients_job (guint index, guint n, gpointer data)
{
  CnnNetwork *net = data;
  CnnTraining *tr = net->training;
  gsize share = (net->n_params + n - 1) / n;
  gsize lo = MIN ((gsize) index * share, net->n_params);
  gsize hi = MIN (lo + share, net->n_params);
  gfloat *sum = tr->threads[0].grads;

  for (guint t = 1; t < n; t++) {
    const gfloat *g = tr->threads[t].grads;

    for (gsize i = lo; i < hi; i++)
      sum[i] += g[i];
  }
}

gdouble
cnn_network_train_step (CnnNetwork * net, const gfloat * input,
    const guint * labels, guint batch, guint64 seed, guint * n_correct)
{
  CnnTraining *tr;
  const CnnLayer *top;
  guint n_classes, correct = 0;
  gdouble loss = 0.0;

  g_return_val_if_fail (net != NULL && input != NULL && labels != NULL, NAN);
  tr = net->training;
  top = &net->layers[net->n_layers - 1];
  g_return_val_if_fail (tr != NULL && tr->threads != NULL, NAN);
  g_return_val_if_fail (batch > 0 && batch <= tr->max_batch, NAN);
  g_return_val_if_fail (top->spec.ops->gives_probabilities, NAN);
  g_return_val_if_fail (tr->n_threads == cnn_network_get_threads (net),
      NAN);
  n_classes = (guint) cnn_shape_size (top->out);
  for (guint b = 0; b < batch; b++)
    g_return_val_if_fail (labels[b] < n_classes
        || labels[b] == CNN_LABEL_NONE, NAN);

  tr->input = input;
  tr->labels = labels;
  tr->batch = batch;
  tr->seed = seed;
  cnn_workers_run (net->ws->workers, train_job, net);
  if (tr->n_threads > 1)
    cnn_workers_run (net->ws->workers, sum_gradients_job, net);

  for (guint b = 0; b < batch; b++) {
    loss += tr->losses[b];
    correct += tr->correct[b] ? 1 : 0;
  }
  if (n_correct)
    *n_correct = correct;
  return loss / batch;
}

