/* A network's working memory and threads (docs/design.md §2): each
 * layer's output for a batch of samples, a scratch area per thread, and
 * the team of threads a pass runs on.  A network holds one, which
 * cnn_network_forward() and training use; more can be made beside it, so
 * that passes of one frozen network run at once in several workspaces,
 * or so that a new thread count or batch size is made ready on one
 * thread while another runs passes. */
#include "cnn-network-private.h"

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

/* Lays the block out: the layers' outputs, then the threads' scratch. */
static void
carve_workspace (CnnWorkspace * ws, const CnnNetwork * net)
{
  gfloat *p = ws->block;

  for (guint i = 0; i < net->n_layers; i++) {
    ws->outputs[i] = p;
    p += cnn_shape_size (net->layers[i].out) * ws->max_batch;
  }
  for (guint t = 0; t < ws->n_threads; t++) {
    ws->scratch[t].floats = p;
    ws->scratch[t].n_floats = ws->scratch_floats;
    ws->scratch[t].team = NULL;
    p += ws->scratch_floats;
  }
}

CnnWorkspace *
cnn_workspace_new (CnnNetwork * net, guint max_batch, guint n_threads,
    GError ** error)
{
  CnnWorkspace *ws;
  gsize total = 0;
  guint64 bytes;
  gchar *what;

  g_return_val_if_fail (net != NULL && max_batch > 0, NULL);

  n_threads = CLAMP (n_threads, 1, CNN_MAX_THREADS);
  bytes = cnn_network_workspace_bytes (net, max_batch, n_threads);
  what = g_strdup_printf ("working memory for a batch of %u on %u "
      "thread(s)", max_batch, n_threads);
  if (!cnn_network_fits_in_limit (net, bytes, net->training_bytes, what,
          error)) {
    g_free (what);
    return NULL;
  }
  g_free (what);

  ws = g_new0 (CnnWorkspace, 1);
  ws->net = net;
  ws->max_batch = max_batch;
  ws->n_threads = n_threads;
  ws->bytes = bytes;
  ws->scratch_floats = largest_scratch (net);
  /* The check bounds every sum below. */
  for (guint i = 0; i < net->n_layers; i++)
    total += cnn_shape_size (net->layers[i].out) * max_batch;
  total += ws->scratch_floats * n_threads;
  ws->block = g_try_new (gfloat, MAX (total, 1));
  ws->outputs = g_try_new (gfloat *, net->n_layers);
  ws->scratch = g_try_new (CnnScratch, n_threads);
  if (!ws->block || !ws->outputs || !ws->scratch) {
    cnn_workspace_free (ws);
    g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM, "cannot allocate %"
        G_GUINT64_FORMAT " bytes of working memory for a batch of %u",
        bytes, max_batch);
    return NULL;
  }
  carve_workspace (ws, net);
  ws->workers = cnn_workers_new (n_threads);
  return ws;
}

void
cnn_workspace_free (CnnWorkspace * ws)
{
  if (!ws)
    return;
  if (ws->workers)
    cnn_workers_free (ws->workers);
  g_free (ws->block);
  g_free (ws->outputs);
  g_free (ws->scratch);
  g_free (ws);
}

guint
cnn_workspace_max_batch (const CnnWorkspace * ws)
{
  return ws->max_batch;
}

guint
cnn_workspace_n_threads (const CnnWorkspace * ws)
{
  return ws->n_threads;
}

guint64
cnn_workspace_bytes (const CnnWorkspace * ws)
{
  return ws->bytes;
}
