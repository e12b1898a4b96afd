/* The network's training memory: per thread, its activations, recorded
 * state and gradients, so threads share nothing until the gradients are
 * summed; checked against the memory limit before anything is made. */
#include "cnn-network-private.h"

#include <math.h>
#include <string.h>

#define TRAIN_ALIGN 64

static void
free_train_threads (CnnTraining * tr)
{
  for (guint t = 0; t < tr->n_threads; t++) {
    CnnTrainThread *th = &tr->threads[t];

    g_free (th->outputs);
    g_free (th->states);
    g_free (th->block);
  }
  g_free (tr->threads);
  tr->threads = NULL;
  tr->n_threads = 0;
}

void
cnn_network_free_training (CnnNetwork * net)
{
  CnnTraining *tr = net->training;

  if (!tr)
    return;
  free_train_threads (tr);
  g_free (tr->gradients);
  g_free (tr->losses);
  g_free (tr->correct);
  g_free (tr);
  net->training = NULL;
}

static gsize
align_up (gsize bytes)
{
  return (bytes + TRAIN_ALIGN - 1) / TRAIN_ALIGN * TRAIN_ALIGN;
}

/* align_up() of a count from input: saturates rather than wraps. */
static guint64
aligned_bytes (guint64 count, guint64 size)
{
  guint64 bytes = cnn_bytes_mul (count, size);

  return bytes > G_MAXUINT64 - TRAIN_ALIGN ? G_MAXUINT64 : align_up (bytes);
}

/* Whether training runs layer @i with its output over its input: saves
 * writing (and later reading back) a whole activation, which is what a
 * step waits for most once the products are fast. */
static gboolean
trains_in_place (const CnnNetwork * net, guint i)
{
  return i > 0 && net->layers[i].spec.ops->in_place
      && !net->layers[i - 1].spec.ops->backward_reads_output;
}

/* Bytes one thread needs for a chunk of @chunk samples (plus its own
 * gradient array unless @shared_grads), laid out by alloc_train_thread(). */
static guint64
thread_bytes (const CnnNetwork * net, guint chunk, gboolean shared_grads,
    gsize * largest, gsize * scratch)
{
  guint64 total = TRAIN_ALIGN;  /* room to align the block's start */

  *largest = cnn_shape_size (net->input);
  *scratch = 0;
  for (guint i = 0; i < net->n_layers; i++) {
    const CnnLayer *l = &net->layers[i];

    if (!trains_in_place (net, i))
      total = cnn_bytes_add (total, aligned_bytes (cnn_shape_size (l->out)
              * chunk, sizeof (gfloat)));
    total = cnn_bytes_add (total, aligned_bytes (l->train_state_bytes,
            chunk));
    *largest = MAX (*largest, cnn_shape_size (l->out));
    *scratch = MAX (*scratch, MAX (l->scratch_floats,
            l->train_scratch_floats));
  }
  total = cnn_bytes_add (total, cnn_bytes_mul (2,
          aligned_bytes (*largest * chunk, sizeof (gfloat))));
  total = cnn_bytes_add (total, cnn_bytes_mul (2,
          aligned_bytes (*largest * TRAIN_SUB, sizeof (gfloat))));
  total = cnn_bytes_add (total, aligned_bytes (*scratch, sizeof (gfloat)));
  if (!shared_grads)
    total = cnn_bytes_add (total, aligned_bytes (net->n_params,
            sizeof (gfloat)));
  return total;
}

/* All training memory for batches of @max_batch on @n_threads threads:
 * the summed gradients, each thread's block and the per-sample results. */
static guint64
training_bytes (const CnnNetwork * net, guint max_batch, guint n_threads)
{
  guint chunk = MIN (max_batch, TRAIN_CHUNK);
  gsize largest, scratch;
  guint64 first = thread_bytes (net, chunk, TRUE, &largest, &scratch);
  guint64 other = thread_bytes (net, chunk, FALSE, &largest, &scratch);
  guint64 total = cnn_bytes_mul (net->n_params, sizeof (gfloat));

  total = cnn_bytes_add (total, first);
  total = cnn_bytes_add (total, cnn_bytes_mul (other, n_threads - 1));
  return cnn_bytes_add (total, cnn_bytes_mul (max_batch,
          sizeof (gdouble) + sizeof (gboolean)));
}

static gpointer
carve (guint8 ** p, gsize bytes)
{
  gpointer at = *p;

  *p += align_up (bytes);
  return at;
}

static gboolean
alloc_train_thread (CnnNetwork * net, CnnTrainThread * th, guint chunk,
    gfloat * shared_grads)
{
  gsize largest, scratch;
  guint64 bytes = thread_bytes (net, chunk, shared_grads != NULL, &largest,
      &scratch);
  guint8 *p;

  /* The caller checked the sum of these against the memory limit. */
  th->block = g_try_malloc (bytes);
  th->outputs = g_try_new (gfloat *, net->n_layers);
  th->states = g_try_new (gpointer, net->n_layers);
  if (!th->block || !th->outputs || !th->states)
    return FALSE;
  p = (guint8 *) align_up ((gsize) th->block);
  for (guint i = 0; i < net->n_layers; i++) {
    const CnnLayer *l = &net->layers[i];

    th->outputs[i] = trains_in_place (net, i) ? th->outputs[i - 1]
        : carve (&p, cnn_shape_size (l->out) * chunk * sizeof (gfloat));
    th->states[i] = l->train_state_bytes ? carve (&p,
        l->train_state_bytes * chunk) : NULL;
  }
  th->dact[0] = carve (&p, largest * chunk * sizeof (gfloat));
  th->dact[1] = carve (&p, largest * chunk * sizeof (gfloat));
  th->dsub[0] = carve (&p, largest * TRAIN_SUB * sizeof (gfloat));
  th->dsub[1] = carve (&p, largest * TRAIN_SUB * sizeof (gfloat));
  th->scratch.floats = carve (&p, scratch * sizeof (gfloat));
  th->scratch.n_floats = scratch;
  th->scratch.team = NULL;
  th->grads = shared_grads ? shared_grads
      : carve (&p, net->n_params * sizeof (gfloat));
  return TRUE;
}

/* (Re)allocates each worker thread's training memory for the current
 * thread count; on failure the previous memory is kept. */
gboolean
cnn_network_reserve_train_threads (CnnNetwork * net, GError ** error)
{
  CnnTraining *tr = net->training;
  guint n = cnn_network_get_threads (net);
  guint64 bytes = training_bytes (net, tr->max_batch, n);
  CnnTrainThread *threads;

  if (!cnn_network_training_fits (net, tr->max_batch, error))
    return FALSE;
  threads = g_new0 (CnnTrainThread, n);
  for (guint t = 0; t < n; t++) {
    if (!alloc_train_thread (net, &threads[t], tr->chunk,
            t == 0 ? tr->gradients : NULL)) {
      for (guint u = 0; u <= t; u++) {
        g_free (threads[u].outputs);
        g_free (threads[u].states);
        g_free (threads[u].block);
      }
      g_free (threads);
      g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM,
          "cannot allocate %" G_GUINT64_FORMAT " bytes of training memory "
          "for %u thread(s)", bytes, n);
      return FALSE;
    }
  }
  free_train_threads (tr);
  tr->threads = threads;
  tr->n_threads = n;
  net->training_bytes = bytes;
  return TRUE;
}

static guint
first_learning_layer (const CnnNetwork * net)
{
  for (guint i = 0; i < net->n_layers; i++)
    if (net->layers[i].n_weight + net->layers[i].n_bias > 0)
      return i;
  return net->n_layers;
}

/* The first layer whose forward is one product over the batch (a dense
 * layer; at most the top one): below it every layer works sample by
 * sample. */
guint
cnn_network_first_batch_layer (const CnnNetwork * net)
{
  for (guint i = 0; i < net->n_layers; i++)
    if (net->layers[i].spec.ops->splits_batch)
      return i;
  return net->n_layers - 1;
}

/* Checked before anything is allocated: the workspace and the training
 * memory for @max_batch together. */
gboolean
cnn_network_training_fits (const CnnNetwork * net, guint max_batch,
    GError ** error)
{
  guint n = cnn_network_get_threads (net);
  gchar *what = g_strdup_printf ("training memory for batches of %u on %u "
      "thread(s)", max_batch, n);
  gboolean fits = cnn_network_fits_in_limit (net,
      cnn_network_workspace_bytes (net, max_batch, n),
      training_bytes (net, max_batch, n), what, error);

  g_free (what);
  return fits;
}

/* Each sample's loss and whether it was right, for @max_batch samples. */
static gboolean
grow_results (CnnTraining * tr, guint max_batch, GError ** error)
{
  gdouble *losses = g_try_renew (gdouble, tr->losses, max_batch);
  gboolean *correct;

  if (losses)
    tr->losses = losses;
  correct = losses ? g_try_renew (gboolean, tr->correct, max_batch) : NULL;
  if (correct)
    tr->correct = correct;
  if (!losses || !correct) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM, "cannot allocate the "
        "results of a batch of %u", max_batch);
    return FALSE;
  }
  return TRUE;
}

gboolean
cnn_network_check_trainable (const CnnNetwork * net, GError ** error)
{
  const CnnLayer *top = &net->layers[net->n_layers - 1];

  if (top->spec.ops->gives_probabilities)
    return TRUE;
  g_set_error (error, CNN_ERROR, CNN_ERROR_ARCH, "layer %u (%s) is the "
      "last; training needs a softmax there, whose cross-entropy is the "
      "loss", net->n_layers - 1, top->spec.ops->name);
  return FALSE;
}

gboolean
cnn_network_reserve_training (CnnNetwork * net, guint max_batch,
    GError ** error)
{
  CnnTraining *tr;
  guint old_chunk, old_max_batch;

  g_return_val_if_fail (net != NULL, FALSE);
  g_return_val_if_fail (max_batch > 0, FALSE);

  if (!cnn_network_check_trainable (net, error)
      || !cnn_network_training_fits (net, max_batch, error)
      || !cnn_network_reserve (net, max_batch, error))
    return FALSE;
  if (!net->training) {
    tr = net->training = g_new0 (CnnTraining, 1);
    tr->gradients = g_try_new0 (gfloat, MAX (net->n_params, 1));
    if (!tr->gradients) {
      cnn_network_free_training (net);
      g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM,
          "cannot allocate gradients for %" G_GSIZE_FORMAT " parameters",
          net->n_params);
      return FALSE;
    }
    tr->first_param_layer = first_learning_layer (net);
    tr->split = cnn_network_first_batch_layer (net);
  }
  tr = net->training;
  old_chunk = tr->chunk;
  old_max_batch = tr->max_batch;
  tr->chunk = MIN (max_batch, TRAIN_CHUNK);
  tr->max_batch = max_batch;
  if ((tr->chunk != old_chunk
          && !cnn_network_reserve_train_threads (net, error))
      || !grow_results (tr, max_batch, error)) {
    tr->chunk = old_chunk;
    tr->max_batch = old_max_batch;
    if (!tr->threads)
      cnn_network_free_training (net);
    return FALSE;
  }
  net->training_bytes = training_bytes (net, max_batch, tr->n_threads);
  return TRUE;
}

gfloat *
cnn_network_gradients (CnnNetwork * net)
{
  g_return_val_if_fail (net != NULL, NULL);
  return net->training ? net->training->gradients : NULL;
}
