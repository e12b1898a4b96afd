/* The network's inference (docs/design.md §2): the plan (which layers
 * run, which are fused into the one below, which are skipped), the
 * workspace a batch needs, and the forward pass, split by sample below
 * the first batch-wide layer and run by the network's threads. */
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


static gsize
largest_scratch (const CnnNetwork * net)
{
  gsize most = 0;

  for (guint i = 0; i < net->n_layers; i++)
    most = MAX (most, net->layers[i].scratch_floats);
  return most;
}

/* Each layer's output for @max_batch samples, a scratch area per
 * thread, and the batch's input that the caller holds. */
guint64
cnn_network_workspace_bytes (const CnnNetwork * net, guint max_batch,
    guint n_threads)
{
  guint64 floats = cnn_bytes_mul (cnn_shape_size (net->input), max_batch);

  for (guint i = 0; i < net->n_layers; i++)
    floats = cnn_bytes_add (floats,
        cnn_bytes_mul (cnn_shape_size (net->layers[i].out), max_batch));
  floats = cnn_bytes_add (floats,
      cnn_bytes_mul (largest_scratch (net), n_threads));
  return cnn_bytes_mul (floats, sizeof (gfloat));
}

gboolean
cnn_network_reserve (CnnNetwork * net, guint max_batch, GError ** error)
{
  guint n_threads = cnn_workers_n_threads (net->workers);
  gsize total = 0, scratch = largest_scratch (net);
  guint64 bytes = cnn_network_workspace_bytes (net, max_batch, n_threads);
  gchar *what;
  gfloat *block, *p;
  gfloat **outputs;
  CnnScratch *scratches;

  g_return_val_if_fail (max_batch > 0, FALSE);

  what = g_strdup_printf ("working memory for a batch of %u on %u "
      "thread(s)", max_batch, n_threads);
  if (!cnn_network_fits_in_limit (net, bytes, net->training_bytes, what,
          error)) {
    g_free (what);
    return FALSE;
  }
  g_free (what);
  /* The check bounds every sum below. */
  for (guint i = 0; i < net->n_layers; i++)
    total += cnn_shape_size (net->layers[i].out) * max_batch;
  total += scratch * n_threads;

  block = g_try_new (gfloat, MAX (total, 1));
  outputs = g_try_new (gfloat *, net->n_layers);
  scratches = g_try_new (CnnScratch, n_threads);
  if (!block || !outputs || !scratches) {
    g_free (block);
    g_free (outputs);
    g_free (scratches);
    g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM, "cannot allocate %"
        G_GUINT64_FORMAT " bytes of working memory for a batch of %u",
        bytes, max_batch);
    return FALSE;
  }

  g_free (net->workspace);
  g_free (net->outputs);
  g_free (net->scratch);
  net->workspace = block;
  net->workspace_bytes = bytes;
  net->max_batch = max_batch;
  net->scratch_floats = scratch;
  net->outputs = outputs;
  net->scratch = scratches;
  p = block;
  for (guint i = 0; i < net->n_layers; i++) {
    net->outputs[i] = p;
    p += cnn_shape_size (net->layers[i].out) * max_batch;
  }
  for (guint t = 0; t < n_threads; t++) {
    net->scratch[t].floats = p;
    net->scratch[t].n_floats = scratch;
    net->scratch[t].team = NULL;
    p += scratch;
  }
  return TRUE;
}

guint64
cnn_network_memory (const CnnNetwork * net)
{
  return cnn_bytes_add (cnn_bytes_add (net->fixed_bytes,
          net->workspace_bytes), net->training_bytes);
}

guint64
cnn_network_memory_limit (const CnnNetwork * net)
{
  return net->memory_limit;
}

guint
cnn_network_max_batch (const CnnNetwork * net)
{
  return net->max_batch;
}

/* Runs layers [from, to) over samples [first, first + count), as
 * planned: each step reads what the last step wrote, starting from @in. */
static void
forward_steps (CnnNetwork * net, guint from, guint to, const gfloat * in,
    guint first, guint count, CnnScratch * s)
{
  for (guint i = from; i < to; i++) {
    CnnLayer *l = &net->layers[i];
    const CnnStep *step = &net->plan[i];
    guint last = i + (step->kind == STEP_FUSED ? step->n_fused : 0);
    gfloat *out;

    if (step->kind == STEP_SKIP)
      continue;
    out = net->outputs[last] + first * cnn_shape_size (net->layers[last].out);
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
planned_input (CnnNetwork * net, guint layer, guint first)
{
  for (guint i = layer; i-- > 0;) {
    guint last = i + net->plan[i].n_fused;

    if (net->plan[i].kind != STEP_SKIP && last < layer)
      return net->outputs[last] + first
          * cnn_shape_size (net->layers[last].out);
  }
  return net->pass_input + first * cnn_shape_size (net->input);
}

/* The layers below the first dense one over samples [first, first +
 * count), sample by sample, so that each finds its input in cache. */
static void
forward_samples (CnnNetwork * net, guint first, guint count, CnnScratch * s)
{
  const gfloat *x = net->pass_input;
  gsize in_size = cnn_shape_size (net->input);

  for (guint b = first; b < first + count; b++)
    forward_steps (net, 0, net->split, x + b * in_size, b, 1, s);
}

/* The dense layers and what follows them, over the whole batch at once
 * on this thread, their products shared out among @s's team: each thread
 * then reads its part of the weights once for all the samples. */
static void
forward_batch (CnnNetwork * net, guint batch, CnnScratch * s)
{
  if (net->split < net->n_layers)
    forward_steps (net, net->split, net->n_layers, planned_input (net,
            net->split, 0), 0, batch, s);
}

/* Each thread takes a contiguous share of the batch. */
static void
forward_job (guint index, guint n, gpointer data)
{
  CnnNetwork *net = data;
  guint share = (net->pass_batch + n - 1) / n;
  guint first = index * share;

  if (first >= net->pass_batch)
    return;
  forward_samples (net, first, MIN (share, net->pass_batch - first),
      &net->scratch[index]);
}

const gfloat *
cnn_network_forward (CnnNetwork * net, const gfloat * input, guint batch)
{
  CnnScratch shared;

  g_return_val_if_fail (batch > 0 && batch <= net->max_batch, NULL);

  for (guint i = 0; i < net->n_layers; i++)
    if (net->plan[i].kind == STEP_FUSED
        && net->layers[i].spec.ops->inference.prepare)
      net->layers[i].spec.ops->inference.prepare (&net->layers[i]);
  net->pass_input = input;
  net->pass_batch = batch;
  shared = net->scratch[0];
  shared.team = net->workers;
  if (batch < cnn_workers_n_threads (net->workers)) {
    /* Too few samples to go round: run them on this thread and share
     * out each layer's matrix product instead. */
    forward_samples (net, 0, batch, &shared);
  } else {
    cnn_workers_run (net->workers, forward_job, net);
  }
  forward_batch (net, batch, &shared);
  return net->outputs[net->n_layers - 1];
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

void
cnn_network_set_threads (CnnNetwork * net, guint n_threads)
{
  n_threads = CLAMP (n_threads, 1, 64);
  if (n_threads == cnn_workers_n_threads (net->workers))
    return;
  cnn_workers_free (net->workers);
  net->workers = cnn_workers_new (n_threads);
  /* Each thread needs its own scratch: re-reserve for the new count. */
  if (!cnn_network_reserve (net, net->max_batch, NULL)
      || (net->training && !cnn_network_reserve_train_threads (net, NULL))) {
    cnn_workers_free (net->workers);
    net->workers = cnn_workers_new (1);
    cnn_network_reserve (net, net->max_batch, NULL);
    if (net->training)
      cnn_network_reserve_train_threads (net, NULL);
  }
}

guint
cnn_network_get_threads (const CnnNetwork * net)
{
  return cnn_workers_n_threads (net->workers);
}

