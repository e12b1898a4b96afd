/* cnn compare: why convolutions work, measured.
 *
 * Trains the CNN and a fully connected network of about the same number
 * of parameters on the same data with the same settings, then scores both
 * on the test set and on the test set shifted right and down by 1..4
 * pixels (zero fill).  A dense layer has to learn each position of a
 * stroke separately; shared convolution filters and pooling do not, so
 * the CNN should lose much less accuracy as the digits move. */
#include "trainer.h"

#include <string.h>
#include <unistd.h>

#define MAX_SHIFT 4

typedef struct
{
  const gchar *name;
  gchar *architecture;
  gsize params;
  gdouble accuracy[MAX_SHIFT + 1];      /* index: shift in pixels */
} CompareRow;

/* Each image moved right and down by @shift pixels, zeros coming in. */
static CnnDataset *
shifted_copy (const CnnDataset * ds, guint shift)
{
  CnnDataset *out = tool_dataset_head (ds, ds->n);
  guint w = ds->shape.w, h = ds->shape.h;
  gsize plane = (gsize) w * h;

  memset (out->pixels, 0, cnn_shape_size (ds->shape) * ds->n);
  for (gsize p = 0; p < (gsize) ds->n * ds->shape.c; p++)
    for (guint y = shift; y < h; y++)
      if (shift < w)
        memcpy (out->pixels + p * plane + (gsize) y * w + shift,
            ds->pixels + p * plane + (gsize) (y - shift) * w, w - shift);
  return out;
}

/* Hidden units giving a one-hidden-layer net about @budget parameters. */
static guint
dense_units_for (gsize budget, gsize inputs, gsize classes)
{
  gsize units = (budget - MIN (budget, classes)) / (inputs + 1 + classes);

  return (guint) CLAMP (units, 1, 65536);
}

static gboolean
train_and_score (CompareRow * row, const TrainSettings * base,
    const CnnDataset * train, CnnDataset * const *tests,
    const ToolNormalisation * norm, GError ** error)
{
  TrainSettings s;
  TrainerOutputs outputs = { 0 };
  CnnNetwork *net;
  Trainer *t = NULL;
  TrainOutcome outcome = TRAIN_FAILED;

  net = cnn_network_new (row->architecture, train->shape, error);
  if (!net)
    return FALSE;
  row->params = cnn_network_param_count (net);
  train_settings_copy (&s, base);
  g_free (s.architecture);
  s.architecture = g_strdup (cnn_network_architecture (net));
  outputs.name = row->name;
  outputs.progress_bar = isatty (STDOUT_FILENO);

  printf ("%s: %s\n", row->name, s.architecture);
  t = trainer_new (net, &s, train, tests[0], norm, &outputs, error);
  if (t)
    outcome = trainer_run (t, error);
  if (outcome == TRAIN_INTERRUPTED)
    g_set_error (error, CNN_ERROR, CNN_ERROR_IO, "interrupted");
  if (outcome == TRAIN_FINISHED) {
    trainer_use_best (t);
    for (guint k = 0; k <= MAX_SHIFT; k++) {
      ToolScores scores;

      tool_evaluate (net, tests[k], 0, tests[k]->n, norm, NULL, &scores);
      row->accuracy[k] = (gdouble) scores.correct / scores.n;
    }
  }
  trainer_free (t);
  train_settings_clear (&s);
  cnn_network_free (net);
  return outcome == TRAIN_FINISHED;
}

static void
print_table (const CompareRow * rows, guint n)
{
  printf ("\n%-8s %12s %9s", "network", "params", "test");
  for (guint k = 1; k <= MAX_SHIFT; k++)
    printf ("  shift %u", k);
  printf ("\n");
  for (guint i = 0; i < n; i++) {
    g_autofree gchar *params = tool_thousands (rows[i].params);

    printf ("%-8s %12s", rows[i].name, params);
    for (guint k = 0; k <= MAX_SHIFT; k++)
      printf (" %8.2f%%", 100.0 * rows[i].accuracy[k]);
    printf ("\n");
  }
  printf ("\n");
  for (guint i = 0; i < n; i++)
    printf ("%s: %s\n", rows[i].name, rows[i].architecture);
  printf ("shift k: the test digits moved k pixels right and k down\n");
}

typedef struct
{
  gchar *train_images, *train_labels, *test_images, *test_labels;
  gchar *values[TRAIN_N_SETTINGS];      /* by train_setting_table index */
} CompareArgs;

static void
compare_args_clear (CompareArgs * a)
{
  g_free (a->train_images);
  g_free (a->train_labels);
  g_free (a->test_images);
  g_free (a->test_labels);
  for (guint i = 0; i < TRAIN_N_SETTINGS; i++)
    g_free (a->values[i]);
}

static GOptionContext *
compare_options (CompareArgs * a)
{
  /* The training settings compare takes, from train's table. */
  static const TrainSettingUse uses[] = {
    {"epochs", "Epochs for each network (default 5)"},
    {"seed", NULL}, {"limit", NULL}, {"batch", NULL}, {"threads", NULL},
    {"augment", "Augmentation, as for train (default none: the point is "
          "what each architecture does by itself)"},
    {NULL}
  };
  g_autofree GOptionEntry *settings = train_setting_entries (uses,
      a->values);
  GOptionEntry files[] = {
    {"train-images", 0, 0, G_OPTION_ARG_FILENAME, &a->train_images,
        "Training images (IDX)", "FILE"},
    {"train-labels", 0, 0, G_OPTION_ARG_FILENAME, &a->train_labels,
        "Training labels (IDX)", "FILE"},
    {"test-images", 0, 0, G_OPTION_ARG_FILENAME, &a->test_images,
        "Test images (IDX)", "FILE"},
    {"test-labels", 0, 0, G_OPTION_ARG_FILENAME, &a->test_labels,
        "Test labels (IDX)", "FILE"},
    {NULL}
  };
  GOptionContext *context = g_option_context_new (NULL);

  g_option_context_set_summary (context, "Trains the reference CNN and a "
      "fully connected network with about as many parameters on the same "
      "data, then prints their parameter counts, test accuracy, and "
      "accuracy on the test digits shifted by 1 to 4 pixels.");
  g_option_context_add_main_entries (context, files, NULL);
  g_option_context_add_main_entries (context, settings, NULL);
  return context;
}

/* The training set (its first s->limit images) and the test set with
 * its shifted copies, checked against each other. */
static gboolean
load_compare_data (const CompareArgs * a, const TrainSettings * s,
    CnnDataset ** train, CnnDataset ** tests, GError ** error)
{
  *train = cnn_dataset_load_idx (a->train_images, a->train_labels, error);
  if (!*train)
    return FALSE;
  if (s->limit && s->limit < (*train)->n) {
    CnnDataset *head = tool_dataset_head (*train, s->limit);

    cnn_dataset_free (*train);
    *train = head;
  }
  tests[0] = cnn_dataset_load_idx (a->test_images, a->test_labels, error);
  if (!tests[0])
    return FALSE;
  if (!tool_shape_equal (tests[0]->shape, (*train)->shape)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_DATASET,
        "%s: test images are not the training images' shape",
        a->test_images);
    return FALSE;
  }
  for (guint k = 1; k <= MAX_SHIFT; k++)
    tests[k] = shifted_copy (tests[0], k);
  return TRUE;
}

/* The two rows' architectures: the reference CNN, and a dense network of
 * about as many parameters; the labels checked against their classes. */
static gboolean
choose_architectures (CompareRow * rows, const CompareArgs * a,
    const CnnDataset * train, const CnnDataset * test, GError ** error)
{
  CnnNetwork *cnn = cnn_network_new (CNN_DEFAULT_ARCHITECTURE,
      train->shape, error);
  gsize classes;
  gboolean ok;

  if (!cnn)
    return FALSE;
  classes = cnn_shape_size (cnn_network_output_shape (cnn));
  ok = tool_check_labels (train, a->train_labels, (guint) classes, error)
      && tool_check_labels (test, a->test_labels, (guint) classes, error);
  if (ok) {
    rows[0].architecture = g_strdup (CNN_DEFAULT_ARCHITECTURE);
    rows[1].architecture = g_strdup_printf ("flatten, dense %u, relu, "
        "dropout 0.5, dense %" G_GSIZE_FORMAT ", softmax",
        dense_units_for (cnn_network_param_count (cnn),
            cnn_shape_size (train->shape), classes), classes);
  }
  cnn_network_free (cnn);
  return ok;
}

int
tool_compare (int argc, char **argv)
{
  CompareArgs a = { NULL };
  g_autoptr (GOptionContext) context = compare_options (&a);
  g_autoptr (GError) error = NULL;
  TrainSettings s;
  ToolNormalisation norm;
  CnnDataset *train = NULL, *tests[MAX_SHIFT + 1] = { NULL };
  CompareRow rows[2] = { {"cnn"}, {"dense"} };
  int status = TOOL_EXIT_USAGE;

  train_settings_init (&s);
  s.epochs = 5;
  if (!tool_parse_options (context, "compare", &argc, &argv))
    goto done;
  if (!a.train_images || !a.train_labels || !a.test_images
      || !a.test_labels) {
    tool_complain ("compare", "needs --train-images, --train-labels, "
        "--test-images and --test-labels");
    goto done;
  }
  if (!train_settings_apply (&s, a.values, &error)
      || !load_compare_data (&a, &s, &train, tests, &error)
      || !choose_architectures (rows, &a, train, tests[0], &error))
    goto failed;
  tool_normalisation_parse (NULL, train->shape.c, &norm, NULL);

  status = TOOL_EXIT_FAILURE;
  train_settings_print (&s, stdout);
  trainer_catch_interrupts ();
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    if (!train_and_score (&rows[i], &s, train, tests, &norm, &error))
      goto failed;
  print_table (rows, G_N_ELEMENTS (rows));
  status = TOOL_EXIT_OK;
  goto done;

failed:
  tool_complain ("compare", "%s", error->message);
done:
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    g_free (rows[i].architecture);
  for (guint k = 0; k <= MAX_SHIFT; k++)
    cnn_dataset_free (tests[k]);
  cnn_dataset_free (train);
  compare_args_clear (&a);
  train_settings_clear (&s);
  return status;
}
