/* Workspaces (cnn_workspace_new): passes of one frozen network in
 * several workspaces at once, on several threads, each give what the
 * network's own single-threaded pass gives for the same input; a
 * workspace is held to the network's memory limit. */
#include "cnn.h"

#include <glib/gstdio.h>
#include <string.h>

#define N_INPUTS 4
#define N_PASSES 60
#define N_CLASSES 10

/* A loaded model (so its weights are frozen, as cnnclassify's are) of
 * the reference digit architecture with seeded random weights. */
static CnnModel *
frozen_model (void)
{
  GError *err = NULL;
  CnnModel *made = cnn_model_new (CNN_DEFAULT_ARCHITECTURE,
      (CnnShape) { 1, 28, 28 }, &err);
  gchar *dir, *path;
  CnnModel *model;

  g_assert_no_error (err);
  cnn_network_init_params (cnn_model_network (made), 7);
  dir = g_dir_make_tmp ("test-workspace-XXXXXX", &err);
  g_assert_no_error (err);
  path = g_build_filename (dir, "model.safetensors", NULL);
  g_assert_true (cnn_model_save (made, path, &err));
  cnn_model_free (made);
  model = cnn_model_load (path, &err);
  g_assert_no_error (err);
  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
  return model;
}

static void
fill_inputs (gfloat * x, gsize n, guint seed)
{
  GRand *rand = g_rand_new_with_seed (seed);

  for (gsize i = 0; i < n; i++)
    x[i] = g_rand_double (rand);
  g_rand_free (rand);
}

typedef struct
{
  CnnWorkspace *ws;
  const gfloat *inputs;         /* N_INPUTS × 784 */
  const gfloat *want;           /* N_INPUTS × N_CLASSES */
  guint first;                  /* which input this thread starts at */
  gdouble worst;
} Runner;

static gpointer
run_passes (gpointer data)
{
  Runner *r = data;

  for (guint p = 0; p < N_PASSES; p++) {
    guint k = (r->first + p) % N_INPUTS;
    const gfloat *y = cnn_workspace_forward (r->ws, r->inputs + k * 784, 1);

    for (guint c = 0; c < N_CLASSES; c++)
      r->worst = MAX (r->worst, ABS (y[c] - r->want[k * N_CLASSES + c]));
  }
  return NULL;
}

static void
test_concurrent_passes (void)
{
  CnnModel *model = frozen_model ();
  CnnNetwork *net = cnn_model_network (model);
  gfloat inputs[N_INPUTS * 784], want[N_INPUTS * N_CLASSES];
  Runner runners[3];
  GThread *threads[3];

  fill_inputs (inputs, G_N_ELEMENTS (inputs), 3);
  for (guint k = 0; k < N_INPUTS; k++)
    memcpy (want + k * N_CLASSES, cnn_network_forward (net,
            inputs + k * 784, 1), N_CLASSES * sizeof (gfloat));
  /* Three workspaces, of 1, 2 and 1 threads, each run by a thread of its
   * own, with the network's own workspace idle. */
  for (guint t = 0; t < 3; t++) {
    GError *err = NULL;

    runners[t] = (Runner) {
    cnn_workspace_new (net, 1, t == 1 ? 2 : 1, &err), inputs, want, t, 0.0};
    g_assert_no_error (err);
    g_assert_cmpuint (cnn_workspace_n_threads (runners[t].ws), ==,
        t == 1 ? 2 : 1);
    g_assert_cmpuint (cnn_workspace_max_batch (runners[t].ws), ==, 1);
  }
  for (guint t = 0; t < 3; t++)
    threads[t] = g_thread_new ("passes", run_passes, &runners[t]);
  for (guint t = 0; t < 3; t++) {
    /* Two threads share out the products, which may round apart. */
    gdouble tolerance = t == 1 ? 1e-6 : 0.0;

    g_thread_join (threads[t]);
    g_assert_cmpfloat (runners[t].worst, <=, tolerance);
    cnn_workspace_free (runners[t].ws);
  }
  cnn_model_free (model);
}

/* A batch in a workspace of its own: each sample as it is alone, to the
 * rounding of a batch's matrix products (batches of dense layers take
 * the float weights, one sample the fp16 copy). */
static void
test_batch_workspace (void)
{
  CnnModel *model = frozen_model ();
  CnnNetwork *net = cnn_model_network (model);
  gfloat inputs[N_INPUTS * 784], want[N_INPUTS * N_CLASSES];
  GError *err = NULL;
  CnnWorkspace *ws = cnn_workspace_new (net, N_INPUTS, 1, &err);
  const gfloat *y;

  g_assert_no_error (err);
  fill_inputs (inputs, G_N_ELEMENTS (inputs), 5);
  for (guint k = 0; k < N_INPUTS; k++)
    memcpy (want + k * N_CLASSES, cnn_network_forward (net,
            inputs + k * 784, 1), N_CLASSES * sizeof (gfloat));
  y = cnn_workspace_forward (ws, inputs, N_INPUTS);
  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    g_assert_cmpfloat_with_epsilon (y[i], want[i], 2e-3);
  cnn_workspace_free (ws);
  cnn_model_free (model);
}

/* Beside its 4.8 MB of weights, a workspace for batches of 10,000 (2.7
 * GB of layer outputs) does not fit in the default 1 GiB. */
static void
test_over_memory_limit (void)
{
  CnnModel *model = frozen_model ();
  GError *err = NULL;

  g_assert_null (cnn_workspace_new (cnn_model_network (model), 10000, 1,
          &err));
  g_assert_error (err, CNN_ERROR, CNN_ERROR_NOMEM);
  g_assert_nonnull (strstr (err->message, "more than the memory limit"));
  g_error_free (err);
  cnn_model_free (model);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/workspace/concurrent-passes", test_concurrent_passes);
  g_test_add_func ("/workspace/batch", test_batch_workspace);
  g_test_add_func ("/workspace/over-memory-limit", test_over_memory_limit);
  return g_test_run ();
}
