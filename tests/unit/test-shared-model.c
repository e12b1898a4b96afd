/* Shared models (cnn_model_load_shared): holders of the same file in one
 * process get one model; another path, a file renamed over the path or
 * rewritten, another memory limit get their own; the model is freed
 * with its last holder; threads loading at once end up with one; and a
 * shared model refuses to be written. */
#include "cnn.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define ARCH "conv 4 3, relu, maxpool 2, flatten, dense 10, softmax"

typedef struct
{
  gchar *dir;
  gchar *path;
} Fixture;

/* A model of ARCH with weights from @seed saved (whole, by a rename) to
 * @path. */
static void
save_model (const gchar * path, guint64 seed)
{
  GError *err = NULL;
  CnnModel *model = cnn_model_new (ARCH, (CnnShape) { 1, 28, 28 }, &err);

  g_assert_no_error (err);
  cnn_network_init_params (cnn_model_network (model), seed);
  g_assert_true (cnn_model_save (model, path, &err));
  g_assert_no_error (err);
  cnn_model_free (model);
}

static void
fixture_set_up (Fixture * f, gconstpointer data)
{
  GError *err = NULL;

  f->dir = g_dir_make_tmp ("test-shared-model-XXXXXX", &err);
  g_assert_no_error (err);
  f->path = g_build_filename (f->dir, "model.safetensors", NULL);
  save_model (f->path, 1);
}

static void
fixture_tear_down (Fixture * f, gconstpointer data)
{
  GDir *dir = g_dir_open (f->dir, 0, NULL);
  const gchar *name;

  while ((name = g_dir_read_name (dir))) {
    gchar *path = g_build_filename (f->dir, name, NULL);

    g_unlink (path);
    g_free (path);
  }
  g_dir_close (dir);
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
  /* Every test lets go of what it held. */
  g_assert_cmpuint (cnn_model_cache_size (), ==, 0);
}

static CnnModel *
load_shared (const gchar * path, guint64 memory_limit)
{
  GError *err = NULL;
  CnnModel *model = cnn_model_load_shared (path, memory_limit, &err);

  g_assert_no_error (err);
  g_assert_nonnull (model);
  g_assert_true (cnn_model_is_shared (model));
  return model;
}

static void
test_same_file_one_model (Fixture * f, gconstpointer data)
{
  CnnModel *a = load_shared (f->path, 0);
  CnnModel *b = load_shared (f->path, 0);
  CnnModel *own = cnn_model_load (f->path, NULL);

  g_assert_true (a == b);
  g_assert_cmpuint (cnn_model_n_holders (a), ==, 2);
  g_assert_cmpuint (cnn_model_cache_size (), ==, 1);
  /* A model of one's own stays apart. */
  g_assert_true (own != a);
  g_assert_false (cnn_model_is_shared (own));
  g_assert_cmpuint (cnn_model_n_holders (own), ==, 1);
  cnn_model_free (own);

  cnn_model_free (a);
  g_assert_cmpuint (cnn_model_n_holders (b), ==, 1);
  g_assert_cmpuint (cnn_model_cache_size (), ==, 1);
  /* Still whole for the holder left. */
  g_assert_cmpstr (cnn_model_label (b, 9), ==, "9");
  cnn_model_free (b);
  g_assert_cmpuint (cnn_model_cache_size (), ==, 0);
}

/* A holder's passes in a workspace of its own agree with a model of
 * one's own: the shared network is the file's. */
static void
test_shared_runs_as_own (Fixture * f, gconstpointer data)
{
  CnnModel *shared = load_shared (f->path, 0);
  CnnModel *own = cnn_model_load (f->path, NULL);
  CnnWorkspace *ws = cnn_workspace_new (cnn_model_network (shared), 1, 1,
      NULL);
  gfloat x[28 * 28], want[10];

  for (guint i = 0; i < G_N_ELEMENTS (x); i++)
    x[i] = (i * 37 % 101) / 100.0f;
  memcpy (want, cnn_network_forward (cnn_model_network (own), x, 1),
      sizeof want);
  g_assert_cmpmem (cnn_workspace_forward (ws, x, 1), sizeof want, want,
      sizeof want);
  cnn_workspace_free (ws);
  cnn_model_free (own);
  cnn_model_free (shared);
}

static gfloat
first_output (CnnModel * model)
{
  CnnWorkspace *ws = cnn_workspace_new (cnn_model_network (model), 1, 1,
      NULL);
  gfloat x[28 * 28], y;

  for (guint i = 0; i < G_N_ELEMENTS (x); i++)
    x[i] = (i % 7) / 7.0f;
  y = cnn_workspace_forward (ws, x, 1)[0];
  cnn_workspace_free (ws);
  return y;
}

/* Whatever makes it another file, or another load, makes another model:
 * a file renamed over the path, a file rewritten in place, another path
 * to the same bytes, another memory limit. */
static void
test_other_file_other_model (Fixture * f, gconstpointer data)
{
  CnnModel *first = load_shared (f->path, 0);
  gfloat first_y = first_output (first);
  gchar *copy = g_build_filename (f->dir, "copy.safetensors", NULL);
  gchar *contents;
  gsize length;
  CnnModel *renamed, *rewritten, *other_path, *other_limit;

  /* cnn_model_save renames a new file over the path. */
  save_model (f->path, 2);
  renamed = load_shared (f->path, 0);
  g_assert_true (renamed != first);
  g_assert_cmpfloat (first_output (renamed), !=, first_y);
  /* The first holder keeps what it had. */
  g_assert_cmpfloat (first_output (first), ==, first_y);

  /* Rewritten in place, the same inode: its time and size say so. */
  g_assert_true (g_file_get_contents (f->path, &contents, &length, NULL));
  {
    FILE *out = fopen (f->path, "r+b");

    g_assert_nonnull (out);
    g_usleep (20000);
    g_assert_cmpuint (fwrite (contents, 1, length, out), ==, length);
    fclose (out);
  }
  rewritten = load_shared (f->path, 0);
  g_assert_true (rewritten != renamed);

  g_assert_true (g_file_set_contents (copy, contents, length, NULL));
  other_path = load_shared (copy, 0);
  g_assert_true (other_path != rewritten);
  other_limit = load_shared (f->path, 64 << 20);
  g_assert_true (other_limit != rewritten);
  g_assert_cmpuint (cnn_model_cache_size (), ==, 5);

  cnn_model_free (first);
  cnn_model_free (renamed);
  cnn_model_free (rewritten);
  cnn_model_free (other_path);
  cnn_model_free (other_limit);
  g_free (contents);
  g_free (copy);
}

typedef struct
{
  const gchar *path;
  CnnModel *model;
} Loader;

static gpointer
load_in_thread (gpointer data)
{
  Loader *l = data;

  l->model = cnn_model_load_shared (l->path, 0, NULL);
  return NULL;
}

/* Threads loading the same file at once: each may read it, one model is
 * kept, and every thread holds that one. */
static void
test_concurrent_loads (Fixture * f, gconstpointer data)
{
  Loader loaders[6];
  GThread *threads[6];

  for (guint t = 0; t < G_N_ELEMENTS (threads); t++) {
    loaders[t] = (Loader) { f->path, NULL };
    threads[t] = g_thread_new ("load", load_in_thread, &loaders[t]);
  }
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    g_thread_join (threads[t]);
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    g_assert_true (loaders[t].model == loaders[0].model);
  g_assert_cmpuint (cnn_model_n_holders (loaders[0].model), ==, 6);
  g_assert_cmpuint (cnn_model_cache_size (), ==, 1);
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    cnn_model_free (loaders[t].model);
}

/* What would write to a model several hold is refused. */
static void
test_shared_is_read_only (Fixture * f, gconstpointer data)
{
  CnnModel *model = load_shared (f->path, 0);
  CnnNetwork *net = cnn_model_network (model);
  const gchar *labels[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i",
    "j", NULL
  };
  gfloat x[28 * 28] = { 0 };

  g_test_expect_message (NULL, G_LOG_LEVEL_CRITICAL, "*cache_entry == NULL*");
  g_assert_false (cnn_model_set_labels (model, labels, NULL));
  g_test_expect_message (NULL, G_LOG_LEVEL_CRITICAL, "*cache_entry == NULL*");
  cnn_model_set_metadata (model, "name", "other");
  g_test_expect_message (NULL, G_LOG_LEVEL_CRITICAL, "*!net->shared*");
  g_assert_null (cnn_network_params (net));
  g_test_expect_message (NULL, G_LOG_LEVEL_CRITICAL, "*!net->shared*");
  g_assert_false (cnn_network_reserve (net, 4, NULL));
  g_test_expect_message (NULL, G_LOG_LEVEL_CRITICAL, "*!net->shared*");
  g_assert_null (cnn_network_forward (net, x, 1));
  g_test_assert_expected_messages ();
  g_assert_cmpstr (cnn_model_label (model, 0), ==, "0");
  cnn_model_free (model);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/shared-model/same-file", Fixture, NULL, fixture_set_up,
      test_same_file_one_model, fixture_tear_down);
  g_test_add ("/shared-model/runs-as-own", Fixture, NULL, fixture_set_up,
      test_shared_runs_as_own, fixture_tear_down);
  g_test_add ("/shared-model/other-file", Fixture, NULL, fixture_set_up,
      test_other_file_other_model, fixture_tear_down);
  g_test_add ("/shared-model/concurrent-loads", Fixture, NULL,
      fixture_set_up, test_concurrent_loads, fixture_tear_down);
  g_test_add ("/shared-model/read-only", Fixture, NULL, fixture_set_up,
      test_shared_is_read_only, fixture_tear_down);
  return g_test_run ();
}
