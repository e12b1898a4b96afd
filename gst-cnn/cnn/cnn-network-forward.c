/* The network's inference (docs/design.md §2): the plan (which layers
 * run, which are fused into the one below, which are skipped) and the
 * forward pass in a workspace (cnn-workspace.c), split by sample below
 * the first batch-wide layer and run by the workspace's threads. */
#include "cnn-network-private.h"

#include <math.h>
#include <string.h>

/* Layers that pass their input through are skipped, unless last (the
 * pass's result must land in the last layer's output); a layer with a
 * fast path takes on what it can of the layers after it. */
void
cnn_network_plan_inference (CnnNetwork * net)
{
  net->plan = g_new0 (CnnStep, net->n_layers);
  for (guint i = 0; i < net->n_layers; i++) {
    CnnLayer *l = &net->layers[i];
    const CnnLayerInference *inf = &l->spec.ops->inference;
    gint n = inf->fuse ? inf->fuse (l, l + 1, net->n_layers - i - 1) : -1;

    if (n >= 0) {
      net->plan[i] = (CnnStep) { STEP_FUSED, (guint) n };
      for (guint j = i + 1; j <= i + (guint) n; j++)
        net->plan[j].kind = STEP_SKIP;
      i += (guint) n;
    } else if (inf->passes_through && i + 1 < net->n_layers) {
      net->plan[i].kind = STEP_SKIP;
    }
  }
  net->split = cnn_network_first_batch_layer (net);
}


gboolean
cnn_network_reserve (CnnNetwork * net, guint max_batch, GError ** error)
{
  CnnWorkspace *ws;

  g_return_val_if_fail (max_batch > 0, FALSE);
  g_return_val_if_fail (!net->shared, FALSE);

  ws = cnn_workspace_new (net, max_batch, cnn_network_get_threads (net),
      error);
  if (!ws)
    return FALSE;
  cnn_workspace_free (net->ws);
  net->ws = ws;
  return TRUE;
}

guint64
cnn_network_memory (const CnnNetwork * net)
{
  return cnn_bytes_add (cnn_bytes_add (net->fixed_bytes,
          net->ws ? net->ws->bytes : 0), net->training_bytes);
}

guint64
cnn_network_memory_limit (const CnnNetwork * net)
{
  return net->memory_limit;
}

guint
cnn_network_max_batch (const CnnNetwork * net)
{
  return net->ws ? net->ws->max_batch : 0;
}

/* Runs layers [from, to) over samples [first, first + count), as
 * planned: each step reads what the last step wrote, starting from @in. */
static void
forward_steps (CnnWorkspace * ws, guint from, guint to, const gfloat * in,
    guint first, guint count, CnnScratch * s)
{
  CnnNetwork *net = ws->net;

  for (guint i = from; i < to; i++) {
    CnnLayer *l = &net->layers[i];
    const CnnStep *step = &net->plan[i];
    guint last = i + (step->kind == STEP_FUSED ? step->n_fused : 0);
    gfloat *out;

    if (step->kind == STEP_SKIP)
      continue;
    out = ws->outputs[last] + first * cnn_shape_size (net->layers[last].out);
    if (step->kind == STEP_FUSED)
      l->spec.ops->inference.forward_fused (l, in, out, count, s);
    else
      l->spec.ops->forward (l, in, out, count, s);
    in = out;
    i = last;
  }
}

/* Where layer @layer finds sample @first's input: the output of the
 * last step run before it (by the plan), or the pass's input. */
static const gfloat *
planned_input (const CnnWorkspace * ws, guint layer, guint first)
{
  const CnnNetwork *net = ws->net;

  for (guint i = layer; i-- > 0;) {
    guint last = i + net->plan[i].n_fused;

    if (net->plan[i].kind != STEP_SKIP && last < layer)
      return ws->outputs[last] + first
          * cnn_shape_size (net->layers[last].out);
  }
  return ws->pass_input + first * cnn_shape_size (net->input);
}

/* The layers below the first dense one over samples [first, first +
 * count), sample by sample, so that each finds its input in cache. */
static void
forward_samples (CnnWorkspace * ws, guint first, guint count,
    CnnScratch * s)
{
  const gfloat *x = ws->pass_input;
  gsize in_size = cnn_shape_size (ws->net->input);

  for (guint b = first; b < first + count; b++)
    forward_steps (ws, 0, ws->net->split, x + b * in_size, b, 1, s);
}

/* The dense layers and what follows them, over the whole batch at once
 * on this thread, their products shared out among @s's team: each thread
 * then reads its part of the weights once for all the samples. */
static void
forward_batch (CnnWorkspace * ws, guint batch, CnnScratch * s)
{
  const CnnNetwork *net = ws->net;

  if (net->split < net->n_layers)
    forward_steps (ws, net->split, net->n_layers, planned_input (ws,
            net->split, 0), 0, batch, s);
}

/* Each thread takes a contiguous share of the batch. */
static void
forward_job (guint index, guint n, gpointer data)
{
  CnnWorkspace *ws = data;
  guint share = (ws->pass_batch + n - 1) / n;
  guint first = index * share;

  if (first >= ws->pass_batch)
    return;
  forward_samples (ws, first, MIN (share, ws->pass_batch - first),
      &ws->scratch[index]);
}

const gfloat *
cnn_workspace_forward (CnnWorkspace * ws, const gfloat * input, guint batch)
{
  CnnNetwork *net;
  CnnScratch shared;

  g_return_val_if_fail (ws != NULL && input != NULL, NULL);
  g_return_val_if_fail (batch > 0 && batch <= ws->max_batch, NULL);

  net = ws->net;
  /* A frozen network's kinds keep their copies as they are: nothing of
   * the network is written below, whatever thread runs it. */
  for (guint i = 0; i < net->n_layers; i++)
    if (net->plan[i].kind == STEP_FUSED
        && net->layers[i].spec.ops->inference.prepare)
      net->layers[i].spec.ops->inference.prepare (&net->layers[i]);
  ws->pass_input = input;
  ws->pass_batch = batch;
  shared = ws->scratch[0];
  shared.team = ws->workers;
  if (batch < ws->n_threads) {
    /* Too few samples to go round: run them on this thread and share
     * out each layer's matrix product instead. */
    forward_samples (ws, 0, batch, &shared);
  } else {
    cnn_workers_run (ws->workers, forward_job, ws);
  }
  forward_batch (ws, batch, &shared);
  return ws->outputs[net->n_layers - 1];
}

const gfloat *
cnn_network_forward (CnnNetwork * net, const gfloat * input, guint batch)
{
  g_return_val_if_fail (!net->shared, NULL);
  return cnn_workspace_forward (net->ws, input, batch);
}

gssize
cnn_find_nonfinite (const gfloat * values, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (!isfinite (values[i]))
      return (gssize) i;
  return -1;
}

void
cnn_network_probabilities (const CnnNetwork * net, const gfloat * output,
    gfloat * probabilities)
{
  const CnnLayer *top = &net->layers[net->n_layers - 1];
  gsize n = cnn_shape_size (top->out);

  if (top->spec.ops->gives_probabilities) {
    if (probabilities != output)
      memcpy (probabilities, output, n * sizeof (gfloat));
  } else {
    cnn_softmax_row (output, probabilities, n);
  }
}

/* Replaces the network's workspace, and its training threads' memory,
 * by ones for @n_threads; on failure (the memory limit) keeps both. */
static gboolean
use_threads (CnnNetwork * net, guint n_threads)
{
  CnnWorkspace *old = net->ws;
  CnnWorkspace *ws = cnn_workspace_new (net, cnn_network_max_batch (net),
      n_threads, NULL);

  if (!ws)
    return FALSE;
  net->ws = ws;
  if (net->training && !cnn_network_reserve_train_threads (net, NULL)) {
    net->ws = old;
    cnn_workspace_free (ws);
    return FALSE;
  }
  cnn_workspace_free (old);
  return TRUE;
}

void
cnn_network_set_threads (CnnNetwork * net, guint n_threads)
{
  g_return_if_fail (!net->shared);
  n_threads = CLAMP (n_threads, 1, CNN_MAX_THREADS);
  if (n_threads != cnn_network_get_threads (net)
      && !use_threads (net, n_threads))
    use_threads (net, 1);
}

guint
cnn_network_get_threads (const CnnNetwork * net)
{
  return net->ws ? net->ws->n_threads : 1;
}
