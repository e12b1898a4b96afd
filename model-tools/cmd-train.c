/* cnn train: trains a model on IDX datasets and writes it.
 *
 * Everything that can be wrong with the arguments or the data is found
 * before the first batch: unreadable or inconsistent files, a bad
 * architecture, labels beyond the classes, an output that cannot be
 * written.  Nothing is written until then; afterwards only whole files
 * appear (checkpoints, log and plot after each epoch, the model at the
 * end), each by temporary file and rename. */
#include "trainer.h"

#include <json-glib/json-glib.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct
{
  gchar *train_images, *train_labels, *test_images, *test_labels;
  gchar *output, *checkpoint, *resume, *log, *plot, *labels_file;
  gchar *values[TRAIN_N_SETTINGS];       /* by train_setting_table index */
} TrainArgs;

static void
train_args_clear (TrainArgs * a)
{
  g_free (a->train_images);
  g_free (a->train_labels);
  g_free (a->test_images);
  g_free (a->test_labels);
  g_free (a->output);
  g_free (a->checkpoint);
  g_free (a->resume);
  g_free (a->log);
  g_free (a->plot);
  g_free (a->labels_file);
  for (guint i = 0; i < TRAIN_N_SETTINGS; i++)
    g_free (a->values[i]);
}

static GOptionContext *
train_options (TrainArgs * a)
{
  GOptionContext *context = g_option_context_new (NULL);
  GOptionEntry files[] = {
    {"train-images", 0, 0, G_OPTION_ARG_FILENAME, &a->train_images,
        "Training images (IDX, gzip or plain)", "FILE"},
    {"train-labels", 0, 0, G_OPTION_ARG_FILENAME, &a->train_labels,
        "Training labels (IDX)", "FILE"},
    {"test-images", 0, 0, G_OPTION_ARG_FILENAME, &a->test_images,
        "Test images, scored for information only", "FILE"},
    {"test-labels", 0, 0, G_OPTION_ARG_FILENAME, &a->test_labels,
        "Test labels", "FILE"},
    {"labels-file", 0, 0, G_OPTION_ARG_FILENAME, &a->labels_file,
        "Class names, one per line (default 0..N-1)", "FILE"},
    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &a->output,
        "The model file to write", "MODEL"},
    {"checkpoint", 0, 0, G_OPTION_ARG_FILENAME, &a->checkpoint,
        "Checkpoint written after every epoch and on Ctrl-C "
          "(default MODEL.ckpt)", "FILE"},
    {"resume", 0, 0, G_OPTION_ARG_FILENAME, &a->resume,
        "Continue from a checkpoint (its settings apply)", "CHECKPOINT"},
    {"log", 0, 0, G_OPTION_ARG_FILENAME, &a->log,
        "Per-epoch metrics as CSV", "FILE.csv"},
    {"plot", 0, 0, G_OPTION_ARG_FILENAME, &a->plot,
        "Loss and accuracy curves as PNG", "FILE.png"},
    {NULL}
  };
  g_autofree GOptionEntry *settings = train_setting_entries (NULL,
      a->values);

  g_option_context_set_summary (context, "Trains a model on IDX datasets "
      "and writes it (safetensors).  The test set, if given, is only scored "
      "and reported; the kept weights are those of the epoch with the lowest "
      "validation loss.  With --resume, settings come from the "
      "checkpoint; options repeated on the command line must agree with it, "
      "except --epochs (the new total) and --threads.");
  g_option_context_add_main_entries (context, files, NULL);
  g_option_context_add_main_entries (context, settings, NULL);
  return context;
}

/* ---- settings ------------------------------------------------------ */

static gchar *
labels_json (const gchar * path, GError ** error)
{
  g_auto (GStrv) labels = cnn_labels_read (path, error);
  g_autoptr (JsonBuilder) b = NULL;
  g_autoptr (JsonNode) root = NULL;

  if (!labels)
    return NULL;
  b = json_builder_new ();
  json_builder_begin_array (b);
  for (guint i = 0; labels[i]; i++)
    json_builder_add_string_value (b, labels[i]);
  json_builder_end_array (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

/* What the command line sets, as (key, text) pairs in application order. */
static GPtrArray *
given_settings (const TrainArgs * a, GError ** error)
{
  GPtrArray *given = g_ptr_array_new_with_free_func (g_free);

  for (guint k = 0; k < TRAIN_N_SETTINGS; k++) {
    const gchar *key = train_setting_table[k].key;
    gchar *value = g_strdup (a->values[k]);
    if (g_str_equal (key, "labels") && a->labels_file) {
      value = labels_json (a->labels_file, error);
      if (!value) {
        g_ptr_array_unref (given);
        return NULL;
      }
    }
    if (value) {
      g_ptr_array_add (given, g_strdup (key));
      g_ptr_array_add (given, value);
    }
  }
  return given;
}

static gchar *
canonical_architecture (const gchar * text, CnnShape input)
{
  CnnNetwork *net = cnn_network_new (text, input, NULL);
  gchar *canonical = net ? g_strdup (cnn_network_architecture (net))
      : g_strdup (text);

  cnn_network_free (net);
  return canonical;
}

/* A resumed run may change these two, at the price of exactness. */
static void
warn_if_inexact (const TrainSettings * s, const gchar * key, guint before)
{
  if (g_str_equal (key, "threads") && s->threads != before)
    g_printerr ("cnn train: note: the checkpoint was made with %u thread(s); "
        "with %u the result will differ slightly from an uninterrupted "
        "run (float sums in another order)\n", before, s->threads);
  if (g_str_equal (key, "epochs") && s->epochs != before
      && s->schedule.kind == LR_COSINE)
    g_printerr ("cnn train: note: the cosine schedule now spans %u epochs "
        "instead of %u\n", s->epochs, before);
}

/* Settings with --resume: the checkpoint's; the command line may repeat
 * them but not change them (except the epoch total and threads). */
static gboolean
resumed_settings (const Checkpoint * ckpt, GPtrArray * given,
    TrainSettings * s, GError ** error)
{
  if (!trainer_checkpoint_settings (ckpt, s, error))
    return FALSE;

  for (guint i = 0; i < given->len; i += 2) {
    const gchar *key = given->pdata[i], *value = given->pdata[i + 1];
    TrainSettings scratch;
    g_autofree gchar *mine = NULL, *theirs = NULL;
    gboolean ok;

    if (g_str_equal (key, "epochs") || g_str_equal (key, "threads")) {
      guint before = g_str_equal (key, "epochs") ? s->epochs : s->threads;

      if (!train_settings_set (s, key, value, error))
        return FALSE;
      warn_if_inexact (s, key, before);
      continue;
    }
    train_settings_copy (&scratch, s);
    ok = train_settings_set (&scratch, key, value, error);
    if (ok) {
      mine = train_settings_get (&scratch, key);
      theirs = train_settings_get (s, key);
      if (g_str_equal (key, "architecture")) {
        g_free (mine);
        mine = canonical_architecture (scratch.architecture, s->input);
      }
    }
    train_settings_clear (&scratch);
    if (!ok)
      return FALSE;
    if (g_strcmp0 (mine, theirs) != 0) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
          "%s %s differs from the checkpoint's %s (%s); leave it out to "
          "continue the same run", train_setting_option (key), value, key,
          theirs);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
fresh_settings (GPtrArray * given, TrainSettings * s, GError ** error)
{
  train_settings_init (s);
  for (guint i = 0; i < given->len; i += 2)
    if (!train_settings_set (s, given->pdata[i], given->pdata[i + 1], error))
      return FALSE;
  return TRUE;
}

/* ---- data ---------------------------------------------------------- */

typedef struct
{
  CnnDataset *train;            /* after --limit */
  CnnDataset *test;
} TrainData;

static gboolean
load_data (const TrainArgs * a, const TrainSettings * s, TrainData * d,
    GError ** error)
{
  d->train = cnn_dataset_load_idx (a->train_images, a->train_labels, error);
  if (!d->train)
    return FALSE;
  if (s->limit && s->limit < d->train->n) {
    CnnDataset *head = tool_dataset_head (d->train, s->limit);

    cnn_dataset_free (d->train);
    d->train = head;
  }
  if (a->test_images) {
    d->test = cnn_dataset_load_idx (a->test_images, a->test_labels, error);
    if (!d->test)
      return FALSE;
    if (!tool_shape_equal (d->test->shape, d->train->shape)) {
      g_autofree gchar *test = cnn_shape_to_string (d->test->shape);
      g_autofree gchar *train = cnn_shape_to_string (d->train->shape);

      g_set_error (error, CNN_ERROR, CNN_ERROR_DATASET,
          "%s: test images are %s but the training images (%s) are %s",
          a->test_images, test, a->train_images, train);
      return FALSE;
    }
  }
  return TRUE;
}

/* 28×28 grey pictures are most likely digits made as MNIST's were (cut
 * out, fitted into 20×20, centred by mass).  A model of them stored
 * with another preprocessing gets from cnnclassify the whole region
 * scaled down instead, which it has never seen: a digit model wants
 * `--preprocess mnist`, so that the element prepares frames alike. */
static void
warn_digits_without_mnist (const TrainSettings * s)
{
  if (s->input.c != 1 || s->input.h != 28 || s->input.w != 28
      || g_str_has_prefix (s->preprocess, "mnist"))
    return;
  g_printerr ("cnn train: warning: the training images are 28x28 grey, "
      "like MNIST's digits, but the model's preprocessing is '%s', so "
      "cnnclassify will scale the whole region down to 28x28 instead of "
      "cutting the digit out and centring it as MNIST's were made; for a "
      "digit model pass --preprocess mnist (other 28x28 pictures, such as "
      "Fashion-MNIST's, can ignore this)\n", s->preprocess);
}

/* Builds the model the settings describe for the data, and checks that
 * data, labels and preprocessing fit it. */
static CnnModel *
prepare_model (const TrainArgs * a, TrainSettings * s, const TrainData * d,
    ToolNormalisation * norm, GError ** error)
{
  CnnModel *model;
  CnnNetwork *net;
  CnnPreprocessor *pre;
  guint n_classes;

  if (!s->input.c)
    s->input = d->train->shape;
  if (!tool_shape_equal (s->input, d->train->shape)) {
    g_autofree gchar *want = cnn_shape_to_string (s->input);
    g_autofree gchar *have = cnn_shape_to_string (d->train->shape);

    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "--input %s does not match the training images (%s), which are %s",
        want, a->train_images, have);
    return NULL;
  }
  model = cnn_model_new (s->architecture, s->input, error);
  if (!model)
    return NULL;
  net = cnn_model_network (model);
  g_free (s->architecture);
  s->architecture = g_strdup (cnn_network_architecture (net));
  n_classes = (guint) cnn_shape_size (cnn_network_output_shape (net));
  if (!cnn_network_check_trainable (net, error)) {
    g_prefix_error (error, "--arch: ");
    goto failed;
  }
  if (s->labels) {
    const gchar *from = a->labels_file ? a->labels_file
        : "the checkpoint's labels";
    g_auto (GStrv) labels = cnn_labels_from_json (s->labels, 0, from, error);

    if (!labels)
      goto failed;
    if (!cnn_model_set_labels (model, (const gchar * const *) labels, error)) {
      g_prefix_error (error, "%s: ", from);
      goto failed;
    }
  }
  if (!tool_check_labels (d->train, a->train_labels, n_classes, error)
      || (d->test && !tool_check_labels (d->test, a->test_labels, n_classes,
              error)))
    goto failed;

  pre = cnn_preprocessor_new (s->preprocess, s->input, error);
  if (!pre)
    goto failed;
  g_free (s->preprocess);
  s->preprocess = g_strdup (cnn_preprocessor_spec (pre));
  cnn_preprocessor_free (pre);
  if (!tool_normalisation_parse (s->preprocess, s->input.c, norm, error))
    goto failed;
  warn_digits_without_mnist (s);
  return model;

failed:
  cnn_model_free (model);
  return NULL;
}

typedef struct
{
  const gchar *option;
  const gchar *path;
} NamedFile;

/* No output may overwrite an input or another output.  The checkpoint
 * may be the one resumed from: it is read whole before training starts
 * and replaced atomically, which is how an interrupted run goes on. */
static gboolean
check_distinct_files (const TrainArgs * a, GError ** error)
{
  const NamedFile files[] = {
    {"-o", a->output}, {"--checkpoint", a->checkpoint}, {"--log", a->log},
    {"--plot", a->plot}, {"--train-images", a->train_images},
    {"--train-labels", a->train_labels}, {"--test-images", a->test_images},
    {"--test-labels", a->test_labels}, {"--resume", a->resume},
    {"--labels-file", a->labels_file},
  };
  const guint n_outputs = 4;
  gchar *ids[G_N_ELEMENTS (files)];
  gboolean ok = TRUE;

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    ids[i] = files[i].path ? tool_file_identity (files[i].path) : NULL;
  for (guint i = 0; ok && i < n_outputs; i++)
    for (guint j = i + 1; ok && j < G_N_ELEMENTS (files); j++) {
      if (!ids[i] || !ids[j] || !g_str_equal (ids[i], ids[j])
          || (i == 1 && g_str_equal (files[j].option, "--resume")))
        continue;
      g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID, "%s %s and %s %s "
          "are the same file: training would overwrite it", files[i].option,
          files[i].path, files[j].option, files[j].path);
      ok = FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    g_free (ids[i]);
  return ok;
}

static gboolean
check_outputs (const TrainArgs * a, GError ** error)
{
  const gchar *paths[] = { a->output, a->checkpoint, a->log, a->plot };

  if (!check_distinct_files (a, error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    if (paths[i] && !tool_check_writable (paths[i], error))
      return FALSE;
  return TRUE;
}

/* ---- the result ---------------------------------------------------- */

static void
describe_data (const TrainArgs * a, const TrainData * d, guint n_val)
{
  g_autofree gchar *shape = cnn_shape_to_string (d->train->shape);

  printf ("training data: %u images %s from %s: %u for training, %u held "
      "out for validation\n", d->train->n, shape, a->train_images,
      d->train->n - n_val, n_val);
  if (d->test)
    printf ("test data: %u images from %s (scored for information only)\n",
        d->test->n, a->test_images);
}

static gchar *
dataset_text (const TrainArgs * a, const TrainData * d, guint n_val)
{
  g_autofree gchar *base = g_path_get_basename (a->train_images);

  return g_strdup_printf ("%s: first %u images, %u for training, %u held "
      "out for validation", base, d->train->n, d->train->n - n_val, n_val);
}

/* With --augment webcam, the confidence below which cnnclassify says "no
 * digit" by default, calibrated on held-out blank scenes. */
static void
set_reject_threshold (CnnModel * model, Trainer * t)
{
  gdouble threshold;
  guint n;

  if (!trainer_reject_threshold (t, &threshold, &n))
    return;
  {
    g_autofree gchar *text = tool_format_double (round (threshold * 1e4)
        / 1e4);

    cnn_model_set_metadata (model, "reject-below", text);
    printf ("reject-below %s: the confidence under which all but %.0f%% "
        "of the blank scenes stay (%u held out, taken for ink)\n", text,
        100.0 * TRAINER_BLANK_RATE, n);
  }
}

static gboolean
save_model (CnnModel * model, const TrainArgs * a, const TrainSettings * s,
    const TrainData * d, Trainer * t, const gchar * command,
    const gchar * first_command, GError ** error)
{
  CnnNetwork *net = cnn_model_network (model);
  guint kept = trainer_use_best (t), n;
  const EpochRecord *history = trainer_history (t, &n);
  g_autofree gchar *dataset = dataset_text (a, d, trainer_n_validation (t));
  g_autofree gchar *epochs = g_strdup_printf ("%u", s->epochs);
  g_autofree gchar *seed = g_strdup_printf ("%" G_GUINT64_FORMAT, s->seed);
  g_autofree gchar *provenance = first_command
      && g_strcmp0 (first_command, command) != 0
      ? g_strdup_printf ("%s; resumed with: %s", first_command, command)
      : g_strdup (command);
  ToolNormalisation norm;

  cnn_model_set_metadata (model, "preprocess", s->preprocess);
  cnn_model_set_metadata (model, "dataset", dataset);
  cnn_model_set_metadata (model, "epochs", epochs);
  cnn_model_set_metadata (model, "seed", seed);
  cnn_model_set_metadata (model, "trained-with", provenance);
  set_reject_threshold (model, t);
  if (kept && kept <= n && isfinite (history[kept - 1].val_accuracy)) {
    g_autofree gchar *val = g_strdup_printf ("%.2f%% (epoch %u)",
        100.0 * history[kept - 1].val_accuracy, kept);

    cnn_model_set_metadata (model, "validation-accuracy", val);
  }
  if (d->test) {
    ToolScores scores;
    g_autofree gchar *acc = NULL;

    tool_normalisation_parse (s->preprocess, s->input.c, &norm, NULL);
    tool_evaluate (net, d->test, 0, d->test->n, &norm, NULL, &scores);
    acc = g_strdup_printf ("%.2f%%", 100.0 * scores.correct / scores.n);
    cnn_model_set_metadata (model, "test-accuracy", acc);
    printf ("test accuracy of the kept weights (epoch %u): %s (%u/%u)\n",
        kept, acc, scores.correct, scores.n);
  }
  if (!cnn_model_save (model, a->output, error))
    return FALSE;
  printf ("model written to %s\n", a->output);
  return TRUE;
}

/* ---- the command --------------------------------------------------- */

static gboolean
check_usage (const TrainArgs * a, int argc, GError ** error)
{
  const gchar *missing = !a->train_images ? "--train-images"
      : !a->train_labels ? "--train-labels" : !a->output ? "-o MODEL" : NULL;

  if (argc > 1) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "takes no arguments besides options");
    return FALSE;
  }
  if (missing) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID, "%s is required",
        missing);
    return FALSE;
  }
  if (!a->test_images != !a->test_labels) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "--test-images and --test-labels go together");
    return FALSE;
  }
  return TRUE;
}

int
tool_train (int argc, char **argv)
{
  g_autofree gchar *command = tool_command_line (argc, argv);
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) given = NULL;
  g_autoptr (Checkpoint) ckpt = NULL;
  TrainArgs a = { 0 };
  TrainSettings s = { 0 };
  TrainData d = { 0 };
  ToolNormalisation norm;
  TrainerOutputs outputs = { 0 };
  CnnModel *model = NULL;
  Trainer *t = NULL;
  int status = TOOL_EXIT_USAGE;

  context = train_options (&a);
  if (!tool_parse_options (context, "train", &argc, &argv))
    goto done;
  if (!check_usage (&a, argc, &error))
    goto failed;
  if (!a.checkpoint)
    a.checkpoint = g_strconcat (a.output, ".ckpt", NULL);

  given = given_settings (&a, &error);
  if (!given)
    goto failed;
  if (a.resume) {
    ckpt = checkpoint_read (a.resume, &error);
    if (!ckpt || !resumed_settings (ckpt, given, &s, &error))
      goto failed;
  } else if (!fresh_settings (given, &s, &error)) {
    goto failed;
  }
  if (!check_outputs (&a, &error)
      || !load_data (&a, &s, &d, &error)
      || !(model = prepare_model (&a, &s, &d, &norm, &error)))
    goto failed;

  outputs.checkpoint = a.checkpoint;
  outputs.log = a.log;
  outputs.plot = a.plot;
  outputs.command_line = ckpt ? checkpoint_get (ckpt, "command") : command;
  outputs.progress_bar = isatty (STDOUT_FILENO);
  t = trainer_new (cnn_model_network (model), &s, d.train, d.test, &norm,
      &outputs, &error);
  if (!t || (ckpt && !trainer_resume (t, ckpt, &error)))
    goto failed;

  /* From here on the input is known to be good. */
  status = TOOL_EXIT_FAILURE;
  {
    g_autofree gchar *params =
        tool_thousands (cnn_network_param_count (cnn_model_network (model)));

    describe_data (&a, &d, trainer_n_validation (t));
    printf ("architecture: %s (%s parameters)\n", s.architecture, params);
    train_settings_print (&s, stdout);
    printf ("checkpoint: %s%s%s\n", a.checkpoint, ckpt ? ", resuming from "
        : "", ckpt ? a.resume : "");
    fflush (stdout);
  }

  trainer_catch_interrupts ();
  switch (trainer_run (t, &error)) {
    case TRAIN_FAILED:
      goto failed;
    case TRAIN_INTERRUPTED:{
      guint epochs, batches, n_batches;

      trainer_position (t, &epochs, &batches, &n_batches);
      g_printerr ("cnn train: interrupted after %u epoch(s) and %u of %u "
          "batches; checkpoint written to %s.\nContinue with: cnn train "
          "--resume %s --train-images %s --train-labels %s -o %s\n", epochs,
          batches, n_batches, a.checkpoint, a.checkpoint, a.train_images,
          a.train_labels, a.output);
      goto done;
    }
    case TRAIN_FINISHED:
      break;
  }
  if (!save_model (model, &a, &s, &d, t, command,
          ckpt ? checkpoint_get (ckpt, "command") : NULL, &error))
    goto failed;
  status = TOOL_EXIT_OK;
  goto done;

failed:
  tool_complain ("train", "%s", error->message);
done:
  trainer_free (t);
  cnn_model_free (model);
  cnn_dataset_free (d.train);
  cnn_dataset_free (d.test);
  train_settings_clear (&s);
  train_args_clear (&a);
  return status;
}
