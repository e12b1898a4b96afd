/* The training loop.
 *
 * Position in training is (epoch, batch); everything random is drawn
 * from (seed, epoch, index) alone (rng.h), and a checkpoint stores the
 * parameters, the optimizer state, the best weights so far and the
 * running sums of the epoch in progress.  Resuming therefore replays
 * nothing and produces the same bits as an uninterrupted run with the
 * same seed and thread count.
 *
 * The validation split is the end of the training data and never shuffled
 * into it; the weights kept are those of the epoch with the lowest
 * validation loss (then the most correct): on a held-out set of a
 * thousand images accuracy moves in steps of 0.1 % and picks noise,
 * while the loss is a smooth measure of the same thing.  The test set, when
 * given, is scored after every epoch for information only: nothing here
 * looks at it to decide anything.
 */
#include "trainer.h"
#include "plot.h"
#include "rng.h"
#include "webcam-cache.h"

/* One in this many of the negatives is held out to calibrate the
 * rejection threshold (trainer_reject_threshold()). */
#define CALIBRATION_EVERY 5
#define MIN_CALIBRATION_NEGATIVES 20

#include <json-glib/json-glib.h>
#include <math.h>
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t interrupted = 0;

struct _Trainer
{
  CnnNetwork *net;
  TrainSettings s;
  const CnnDataset *data, *test;
  ToolNormalisation norm;
  TrainerOutputs out;
  guint n_train, n_val, n_batches;
  gsize sample;
  gchar *data_sha256;

  CnnOptimizer *opt;
  gfloat *params;
  gsize n_params;

  /* The weights to keep and how they scored on validation. */
  gfloat *best;
  guint best_epoch;             /* 1-based; 0: none yet */
  guint best_correct;
  gdouble best_loss;

  /* Position: epochs completed, batches of the next one done, and the
   * running sums of that epoch. */
  guint epoch;
  guint batch;
  gdouble loss_sum;
  guint64 correct, seen;
  gdouble seconds, train_seconds;
  GArray *history;              /* EpochRecord */

  /* Working memory, allocated once. */
  guint *order;                 /* n_train sample indices */
  gfloat *input;                /* batch × sample */
  gfloat *unit;                 /* one sample in 0..1, before the warp */
  guint *labels;                /* batch */
  Augmenter *aug;
  WebcamCache *webcam;          /* --augment webcam: made by trainer_run */
  gint64 last_draw;

  /* Tests: raise SIGINT after this many batches of this process (0:
   * never), to exercise the Ctrl-C path at a known position. */
  guint64 interrupt_after;
  guint64 batches_run;
};

static void
on_signal (int signum)
{
  interrupted = 1;
}

void
trainer_catch_interrupts (void)
{
  struct sigaction sa;

  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  /* The first signal asks for a clean stop; a second one kills. */
  sa.sa_flags = SA_RESETHAND;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
}

static gchar *
fingerprint (const CnnDataset * d)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

  g_checksum_update (sum, d->pixels, cnn_shape_size (d->shape) * d->n);
  for (guint i = 0; i < d->n; i++) {
    guint8 label = (guint8) d->labels[i];

    g_checksum_update (sum, &label, 1);
  }
  return g_strdup (g_checksum_get_string (sum));
}

/* What the trainer holds beside the network: the optimizer's state, the
 * best epoch's parameters, the order of the samples and one batch. */
static guint64
trainer_bytes (const CnnNetwork * net, const TrainSettings * s,
    const CnnDataset * data)
{
  gsize n_params = cnn_network_param_count (net);
  gsize sample = cnn_shape_size (data->shape);
  guint64 floats = (guint64) n_params + (guint64) sample * (s->batch + 1);

  return cnn_optimizer_memory (s->optimizer.kind, n_params)
      + floats * sizeof (gfloat)
      + ((guint64) data->n + s->batch) * sizeof (guint);
}

/* All of it against the network's memory limit, before any of it is
 * allocated; then the optimizer, the one part of a size from input that
 * libcnn allocates. */
static gboolean
trainer_alloc (Trainer * t, GError ** error)
{
  guint64 need = trainer_bytes (t->net, &t->s, t->data)
      + cnn_network_memory (t->net);

  if (!cnn_memory_check (need, cnn_network_memory_limit (t->net),
          "training (the network, its gradients, the optimizer and a batch)",
          error))
    return FALSE;
  t->opt = cnn_optimizer_new (&t->s.optimizer, t->n_params);
  t->best = g_try_new (gfloat, MAX (t->n_params, 1));
  t->order = g_try_new (guint, t->n_train);
  t->input = g_try_new (gfloat, t->sample * t->s.batch);
  t->unit = g_try_new (gfloat, t->sample);
  t->labels = g_try_new (guint, t->s.batch);
  if (t->opt && t->best && t->order && t->input && t->unit && t->labels)
    return TRUE;
  g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM, "cannot allocate the "
      "training state (%" G_GUINT64_FORMAT " bytes)", need);
  return FALSE;
}

/* --augment webcam gives the network what the "mnist" preprocessing
 * makes of webcam frames of 28×28 digits: nothing else fits. */
static gboolean
check_webcam (const TrainSettings * s, const CnnDataset * data,
    GError ** error)
{
  if (!g_str_has_prefix (s->preprocess, "mnist")) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "--augment webcam needs --preprocess mnist (this run's is '%s')",
        s->preprocess);
    return FALSE;
  }
  if (data->shape.c != 1 || data->shape.h != 28 || data->shape.w != 28) {
    g_autofree gchar *shape = cnn_shape_to_string (data->shape);

    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "--augment webcam draws 1x28x28 digits; the training images are %s",
        shape);
    return FALSE;
  }
  return TRUE;
}

Trainer *
trainer_new (CnnNetwork * net, const TrainSettings * s,
    const CnnDataset * data, const CnnDataset * test,
    const ToolNormalisation * norm, const TrainerOutputs * outputs,
    GError ** error)
{
  Trainer *t;
  guint n_val = 0;

  if (s->augment.webcam > 0 && !check_webcam (s, data, error))
    return NULL;
  if (s->validation > 0)
    n_val = MAX (1, (guint) lround (data->n * s->validation));
  if (n_val >= data->n) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "--validation %g of %u training images leaves none to train on",
        s->validation, data->n);
    return NULL;
  }
  cnn_network_set_threads (net, s->threads);
  if (!cnn_network_reserve_training (net, s->batch, error))
    return NULL;

  t = g_new0 (Trainer, 1);
  t->net = net;
  train_settings_copy (&t->s, s);
  t->data = data;
  t->test = test;
  t->norm = *norm;
  t->out = *outputs;
  t->n_val = n_val;
  t->n_train = data->n - n_val;
  t->n_batches = (t->n_train + s->batch - 1) / s->batch;
  t->sample = cnn_shape_size (data->shape);
  t->data_sha256 = fingerprint (data);

  cnn_network_init_params (net, s->seed);
  t->params = cnn_network_params (net);
  t->n_params = cnn_network_param_count (net);
  t->history = g_array_new (FALSE, TRUE, sizeof (EpochRecord));
  if (!trainer_alloc (t, error)) {
    trainer_free (t);
    return NULL;
  }
  cnn_optimizer_set_threads (t->opt, s->threads);
  if (augment_settings_warps (&s->augment))
    t->aug = augmenter_new (&s->augment, data->shape);
  if (g_getenv ("CNN_TEST_INTERRUPT_AFTER_BATCHES"))
    t->interrupt_after =
        g_ascii_strtoull (g_getenv ("CNN_TEST_INTERRUPT_AFTER_BATCHES"),
        NULL, 10);
  return t;
}

void
trainer_free (Trainer * t)
{
  if (!t)
    return;
  train_settings_clear (&t->s);
  cnn_optimizer_free (t->opt);
  augmenter_free (t->aug);
  webcam_cache_free (t->webcam);
  g_array_unref (t->history);
  g_free (t->data_sha256);
  g_free (t->best);
  g_free (t->order);
  g_free (t->input);
  g_free (t->unit);
  g_free (t->labels);
  g_free (t);
}

guint
trainer_n_validation (const Trainer * t)
{
  return t->n_val;
}

void
trainer_position (const Trainer * t, guint * epochs_done,
    guint * batches_done, guint * n_batches)
{
  *epochs_done = t->epoch;
  *batches_done = t->batch;
  *n_batches = t->n_batches;
}

const EpochRecord *
trainer_history (const Trainer * t, guint * n)
{
  *n = t->history->len;
  return (const EpochRecord *) t->history->data;
}

/* The largest probability the network gives to each held-out negative
 * → @out (at most n); how many. */
static guint
negative_confidences (Trainer * t, gfloat * out, guint n)
{
  const guint all = t->webcam ? webcam_cache_n_negatives (t->webcam) : 0;
  const CnnShape shape = cnn_network_output_shape (t->net);
  g_autofree gfloat *p = g_new (gfloat, cnn_shape_size (shape));
  guint count = 0;

  for (guint i = 0; i < all && count < n; i += CALIBRATION_EVERY) {
    webcam_cache_get_negative (t->webcam, i, t->unit);
    tool_sample_normalise (t->unit, t->data->shape, &t->norm);
    cnn_network_probabilities (t->net, cnn_network_forward (t->net, t->unit,
            1), p);
    out[count++] = p[cnn_argmax (p, cnn_shape_size (shape))];
  }
  return count;
}

static gint
compare_floats (gconstpointer a, gconstpointer b)
{
  const gfloat x = *(const gfloat *) a, y = *(const gfloat *) b;

  return (x > y) - (x < y);
}

gboolean
trainer_reject_threshold (Trainer * t, gdouble * threshold, guint * n)
{
  const guint max = t->webcam ? webcam_cache_n_negatives (t->webcam) : 0;
  g_autofree gfloat *conf = g_new (gfloat, MAX (max, 1));

  const WebcamStats *stats;
  gdouble inked_over;
  guint kept;

  *n = negative_confidences (t, conf, max);
  if (*n < MIN_CALIBRATION_NEGATIVES)
    return FALSE;
  /* The inked scenes that may reach the threshold: TRAINER_BLANK_RATE
   * of all blank scenes, as a share of the inked ones. */
  stats = webcam_cache_stats (t->webcam);
  inked_over = TRAINER_BLANK_RATE * stats->blanks / MAX (max, 1);
  kept = (guint) CLAMP ((1.0 - inked_over) * *n, 0.0, *n - 1.0);
  qsort (conf, *n, sizeof (gfloat), compare_floats);
  *threshold = conf[kept];
  return TRUE;
}

guint
trainer_use_best (Trainer * t)
{
  if (t->best_epoch) {
    memcpy (t->params, t->best, t->n_params * sizeof (gfloat));
    return t->best_epoch;
  }
  return t->epoch;
}

/* ---- checkpoints --------------------------------------------------- */

static JsonNode *
number_or_null (gdouble v)
{
  JsonNode *node = json_node_new (JSON_NODE_NULL);

  if (isfinite (v))
    json_node_init_double (node, v);
  return node;
}

static gchar *
history_to_json (const Trainer * t)
{
  g_autoptr (JsonArray) array = json_array_new ();
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_ARRAY);

  for (guint i = 0; i < t->history->len; i++) {
    const EpochRecord *r = &g_array_index (t->history, EpochRecord, i);
    JsonObject *o = json_object_new ();

    json_object_set_int_member (o, "epoch", r->epoch);
    json_object_set_member (o, "train-loss", number_or_null (r->train_loss));
    json_object_set_member (o, "train-accuracy",
        number_or_null (r->train_accuracy));
    json_object_set_member (o, "val-loss", number_or_null (r->val_loss));
    json_object_set_member (o, "val-accuracy",
        number_or_null (r->val_accuracy));
    json_object_set_member (o, "test-accuracy",
        number_or_null (r->test_accuracy));
    json_object_set_member (o, "learning-rate",
        number_or_null (r->learning_rate));
    json_object_set_member (o, "seconds", number_or_null (r->seconds));
    json_object_set_member (o, "images-per-second",
        number_or_null (r->images_per_second));
    json_array_add_object_element (array, o);
  }
  json_node_set_array (root, array);
  return json_to_string (root, FALSE);
}

static gdouble
member_number (JsonObject * o, const gchar * name)
{
  JsonNode *n = json_object_get_member (o, name);

  if (!n || !JSON_NODE_HOLDS_VALUE (n))
    return NAN;
  if (json_node_get_value_type (n) == G_TYPE_DOUBLE
      || json_node_get_value_type (n) == G_TYPE_INT64)
    return json_node_get_double (n);
  return NAN;
}

/* An array of flat objects: two levels. */
#define HISTORY_MAX_DEPTH 2

static gboolean
history_from_json (Trainer * t, const gchar * text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  const gchar *problem;
  JsonNode *root;
  JsonArray *array;
  gsize offset;

  if (!text || !cnn_json_check (text, strlen (text), HISTORY_MAX_DEPTH,
          &offset, &problem)
      || !json_parser_load_from_data (parser, text, -1, NULL))
    return FALSE;
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_ARRAY (root))
    return FALSE;
  array = json_node_get_array (root);
  if (json_array_get_length (array) != t->epoch)
    return FALSE;
  g_array_set_size (t->history, 0);
  for (guint i = 0; i < json_array_get_length (array); i++) {
    JsonNode *node = json_array_get_element (array, i);
    JsonObject *o;
    EpochRecord r;

    if (!JSON_NODE_HOLDS_OBJECT (node))
      return FALSE;
    o = json_node_get_object (node);
    r.epoch = i + 1;
    r.train_loss = member_number (o, "train-loss");
    r.train_accuracy = member_number (o, "train-accuracy");
    r.val_loss = member_number (o, "val-loss");
    r.val_accuracy = member_number (o, "val-accuracy");
    r.test_accuracy = member_number (o, "test-accuracy");
    r.learning_rate = member_number (o, "learning-rate");
    r.seconds = member_number (o, "seconds");
    r.images_per_second = member_number (o, "images-per-second");
    g_array_append_val (t->history, r);
  }
  return TRUE;
}

/* Position keys share the metadata with the settings' keys: they must
 * never collide (a collision would silently lose a setting). */
static void
put (GHashTable * md, const gchar * key, gchar * value)
{
  g_assert (!g_hash_table_contains (md, key));
  g_hash_table_insert (md, g_strdup (key), value);
}

static gboolean
save_checkpoint (Trainer * t, GError ** error)
{
  g_autoptr (GHashTable) md = g_hash_table_new_full (g_str_hash,
      g_str_equal, g_free, g_free);
  CheckpointTensor tensors[3];
  guint n_tensors = 0;
  gsize n_state;
  const gfloat *state = cnn_optimizer_state (t->opt, &n_state);

  for (guint i = 0; i < TRAIN_N_SETTINGS; i++) {
    const gchar *key = train_setting_table[i].key;
    gchar *v = train_settings_get (&t->s, key);

    if (v)
      put (md, key, v);
  }
  put (md, "command", g_strdup (t->out.command_line ? t->out.command_line
          : ""));
  put (md, "data-sha256", g_strdup (t->data_sha256));
  put (md, "data-count", g_strdup_printf ("%u", t->data->n));
  put (md, "done-epochs", g_strdup_printf ("%u", t->epoch));
  put (md, "done-batches", g_strdup_printf ("%u", t->batch));
  put (md, "loss-sum", tool_format_double (t->loss_sum));
  put (md, "correct", g_strdup_printf ("%" G_GUINT64_FORMAT, t->correct));
  put (md, "seen", g_strdup_printf ("%" G_GUINT64_FORMAT, t->seen));
  put (md, "seconds", tool_format_double (t->seconds));
  put (md, "train-seconds", tool_format_double (t->train_seconds));
  put (md, "optimizer-steps", g_strdup_printf ("%" G_GUINT64_FORMAT,
          cnn_optimizer_steps (t->opt)));
  put (md, "best-epoch", g_strdup_printf ("%u", t->best_epoch));
  put (md, "best-correct", g_strdup_printf ("%u", t->best_correct));
  put (md, "best-loss", tool_format_double (t->best_loss));
  put (md, "history", history_to_json (t));

  tensors[n_tensors++] = (CheckpointTensor) { "params", t->params,
    t->n_params
  };
  if (n_state)
    tensors[n_tensors++] = (CheckpointTensor) { "optimizer", state, n_state };
  if (t->best_epoch)
    tensors[n_tensors++] = (CheckpointTensor) { "best-params", t->best,
      t->n_params
    };
  return checkpoint_write (t->out.checkpoint, md, tensors, n_tensors, error);
}

gboolean
trainer_checkpoint_settings (const Checkpoint * ckpt, TrainSettings * s,
    GError ** error)
{
  train_settings_init (s);
  for (guint i = 0; i < TRAIN_N_SETTINGS; i++) {
    const gchar *key = train_setting_table[i].key;
    const gchar *value = checkpoint_get (ckpt, key);
    g_autoptr (GError) err = NULL;

    if (!value && g_str_equal (key, "labels"))
      continue;
    if (!value || !train_settings_set (s, key, value, &err)) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL,
          "%s: metadata \"%s\" is %s%s", checkpoint_path (ckpt), key,
          value ? "invalid: " : "missing", value ? err->message : "");
      train_settings_clear (s);
      return FALSE;
    }
  }
  return TRUE;
}

/* Metadata @key as a number in min..max, or a message naming it. */
static gboolean
ckpt_uint (const Checkpoint * ckpt, const gchar * key, guint64 max,
    guint64 * value, GError ** error)
{
  const gchar *text = checkpoint_get (ckpt, key);

  if (text && tool_parse_uint (key, text, 0, max, value, NULL))
    return TRUE;
  g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL,
      "%s: metadata \"%s\" is %s", checkpoint_path (ckpt), key,
      text ? "not a number in range" : "missing");
  return FALSE;
}

static gboolean
ckpt_double (const Checkpoint * ckpt, const gchar * key, gdouble * value,
    GError ** error)
{
  const gchar *text = checkpoint_get (ckpt, key);

  if (text && tool_parse_double (key, text, -G_MAXDOUBLE, G_MAXDOUBLE,
          value, NULL))
    return TRUE;
  g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL,
      "%s: metadata \"%s\" is %s", checkpoint_path (ckpt), key,
      text ? "not a number" : "missing");
  return FALSE;
}

static gboolean
ckpt_floats (const Checkpoint * ckpt, const gchar * name, gfloat * dst,
    gsize n, GError ** error)
{
  gsize have = 0;
  const gfloat *src = checkpoint_tensor (ckpt, name, &have);

  gssize bad;

  if (!src || have != n) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL,
        "%s: tensor \"%s\" %s %" G_GSIZE_FORMAT " values, this network "
        "needs %" G_GSIZE_FORMAT, checkpoint_path (ckpt), name,
        src ? "has" : "is missing; expected", src ? have : n, n);
    return FALSE;
  }
  bad = cnn_find_nonfinite (src, n);
  if (bad >= 0) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: tensor \"%s\" "
        "value %" G_GSSIZE_FORMAT " is %g, not a finite number",
        checkpoint_path (ckpt), name, bad, src[bad]);
    return FALSE;
  }
  memcpy (dst, src, n * sizeof (gfloat));
  return TRUE;
}

gboolean
trainer_resume (Trainer * t, const Checkpoint * ckpt, GError ** error)
{
  const gchar *path = checkpoint_path (ckpt);
  guint64 count, epoch, batch, correct, seen, steps, best_epoch, best_correct;
  gsize n_state;
  gfloat *state = cnn_optimizer_state (t->opt, &n_state);

  if (!ckpt_uint (ckpt, "data-count", G_MAXUINT32, &count, error)
      || !ckpt_uint (ckpt, "done-epochs", 100000, &epoch, error)
      || !ckpt_uint (ckpt, "done-batches", t->n_batches, &batch, error)
      || !ckpt_uint (ckpt, "seen", G_MAXUINT64, &seen, error)
      || !ckpt_uint (ckpt, "correct", seen, &correct, error)
      || !ckpt_uint (ckpt, "optimizer-steps", G_MAXUINT64, &steps, error)
      || !ckpt_uint (ckpt, "best-epoch", epoch, &best_epoch, error)
      || !ckpt_uint (ckpt, "best-correct", t->n_val, &best_correct, error)
      || !ckpt_double (ckpt, "loss-sum", &t->loss_sum, error)
      || !ckpt_double (ckpt, "best-loss", &t->best_loss, error)
      || !ckpt_double (ckpt, "seconds", &t->seconds, error)
      || !ckpt_double (ckpt, "train-seconds", &t->train_seconds, error))
    return FALSE;
  if (epoch > t->s.epochs) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID, "--epochs %u is fewer "
        "than the %" G_GUINT64_FORMAT " epochs %s has done already: ask for "
        "at least %" G_GUINT64_FORMAT, t->s.epochs, epoch, path, epoch);
    return FALSE;
  }
  if (count != t->data->n || g_strcmp0 (checkpoint_get (ckpt, "data-sha256"),
          t->data_sha256) != 0) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "%s was made with other training data (%" G_GUINT64_FORMAT
        " images, SHA-256 %s); these %u images have SHA-256 %s", path,
        count, checkpoint_get (ckpt, "data-sha256"), t->data->n,
        t->data_sha256);
    return FALSE;
  }
  if (batch == t->n_batches
      || seen != MIN ((guint64) batch * t->s.batch, t->n_train)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL,
        "%s: position batch %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
        " images seen does not fit an epoch of %u batches", path, batch,
        seen, t->n_batches);
    return FALSE;
  }
  if (!ckpt_floats (ckpt, "params", t->params, t->n_params, error)
      || (n_state && !ckpt_floats (ckpt, "optimizer", state, n_state, error))
      || (best_epoch && !ckpt_floats (ckpt, "best-params", t->best,
              t->n_params, error)))
    return FALSE;

  t->epoch = (guint) epoch;
  t->batch = (guint) batch;
  t->correct = correct;
  t->seen = seen;
  t->best_epoch = (guint) best_epoch;
  t->best_correct = (guint) best_correct;
  cnn_optimizer_set_steps (t->opt, steps);
  if (!history_from_json (t, checkpoint_get (ckpt, "history"))) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL,
        "%s: metadata \"history\" is not a JSON array of %u epoch records",
        path, t->epoch);
    return FALSE;
  }
  return TRUE;
}

/* ---- the log ------------------------------------------------------- */

static void
append_csv_number (GString * line, gdouble v, const gchar * format)
{
  g_string_append_c (line, ',');
  if (isfinite (v)) {
    gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

    g_string_append (line, g_ascii_formatd (buf, sizeof buf, format, v));
  }
}

static gboolean
write_log (Trainer * t, GError ** error)
{
  g_autoptr (GString) csv = g_string_new ("epoch,train_loss,train_accuracy,"
      "val_loss,val_accuracy,test_accuracy,learning_rate,seconds,"
      "images_per_second\n");
  g_autoptr (GError) err = NULL;

  for (guint i = 0; i < t->history->len; i++) {
    const EpochRecord *r = &g_array_index (t->history, EpochRecord, i);

    g_string_append_printf (csv, "%u", r->epoch);
    append_csv_number (csv, r->train_loss, "%.6f");
    append_csv_number (csv, r->train_accuracy, "%.6f");
    append_csv_number (csv, r->val_loss, "%.6f");
    append_csv_number (csv, r->val_accuracy, "%.6f");
    append_csv_number (csv, r->test_accuracy, "%.6f");
    append_csv_number (csv, r->learning_rate, "%.6g");
    append_csv_number (csv, r->seconds, "%.2f");
    append_csv_number (csv, r->images_per_second, "%.1f");
    g_string_append_c (csv, '\n');
  }
  if (!g_file_set_contents_full (t->out.log, csv->str, csv->len,
          G_FILE_SET_CONTENTS_CONSISTENT, 0644, &err)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_IO, "cannot write the log: %s",
        err->message);
    return FALSE;
  }
  return TRUE;
}

/* ---- progress ------------------------------------------------------ */

static void
format_duration (gchar * buf, gsize size, gdouble seconds)
{
  guint64 s = (guint64) MAX (0.0, MIN (seconds, 359999.0));

  g_snprintf (buf, size, "%" G_GUINT64_FORMAT ":%02u:%02u", s / 3600,
      (guint) (s / 60 % 60), (guint) (s % 60));
}

static void
draw_progress (Trainer * t)
{
  gint64 now = g_get_monotonic_time ();
  gdouble rate, remaining;
  gchar bar[21], eta[32];
  guint filled;

  if (!t->out.progress_bar || (now - t->last_draw < 200000
          && t->batch < t->n_batches))
    return;
  t->last_draw = now;
  rate = t->train_seconds > 0 ? t->seen / t->train_seconds : 0.0;
  remaining = (gdouble) (t->n_train - t->seen)
      + (gdouble) (t->s.epochs - t->epoch - 1) * t->n_train;
  format_duration (eta, sizeof eta, rate > 0 ? remaining / rate : 0);
  filled = 20 * t->batch / t->n_batches;
  for (guint i = 0; i < 20; i++)
    bar[i] = i < filled ? '#' : '.';
  bar[20] = '\0';
  printf ("\r%s%sepoch %u/%u [%s] %u/%u loss %.4f acc %.2f%% %.0f img/s "
      "ETA %s\033[K", t->out.name ? t->out.name : "", t->out.name ? ": " : "",
      t->epoch + 1, t->s.epochs, bar, t->batch, t->n_batches,
      t->loss_sum / MAX (t->seen, 1), 100.0 * t->correct / MAX (t->seen, 1),
      rate, eta);
  fflush (stdout);
}

static void
print_epoch (Trainer * t, const EpochRecord * r, gboolean best)
{
  if (t->out.progress_bar)
    printf ("\r\033[K");
  printf ("%s%sepoch %u/%u: loss %.4f acc %.2f%%", t->out.name ? t->out.name
      : "", t->out.name ? ": " : "", r->epoch, t->s.epochs, r->train_loss,
      100.0 * r->train_accuracy);
  if (isfinite (r->val_accuracy))
    printf (", val loss %.4f acc %.2f%%%s", r->val_loss,
        100.0 * r->val_accuracy, best ? " (best)" : "");
  if (isfinite (r->test_accuracy))
    printf (", test acc %.2f%%", 100.0 * r->test_accuracy);
  printf (", lr %.4g, %.1f s, %.0f images/s\n", r->learning_rate,
      r->seconds, r->images_per_second);
  fflush (stdout);
}

/* ---- the loop ------------------------------------------------------ */

/* Fisher-Yates over the training part, from (seed, epoch) alone. */
static void
shuffle (Trainer * t, guint epoch)
{
  ToolRng rng;

  tool_rng_init (&rng, t->s.seed, TOOL_RNG_SHUFFLE, epoch, 0);
  for (guint i = 0; i < t->n_train; i++)
    t->order[i] = i;
  for (guint i = t->n_train - 1; i > 0; i--) {
    guint j = tool_rng_below (&rng, i + 1), tmp = t->order[i];

    t->order[i] = t->order[j];
    t->order[j] = tmp;
  }
}

/* The negatives trained on: all but every CALIBRATION_EVERY-th, which
 * are kept to calibrate the model's rejection threshold. */
static guint
n_training_negatives (const Trainer * t)
{
  const guint n = t->webcam ? webcam_cache_n_negatives (t->webcam) : 0;

  return n - (n + CALIBRATION_EVERY - 1) / CALIBRATION_EVERY;
}

/* Training negative @k → its index among the cache's negatives. */
static guint
training_negative (guint k)
{
  return k + k / (CALIBRATION_EVERY - 1) + 1;
}

/* Whether sample @index of @epoch is replaced by a negative, and which
 * (from the key alone); -1 for none. */
static gint
pick_negative (const Trainer * t, guint epoch, guint index)
{
  const guint n = n_training_negatives (t);
  ToolRng rng;

  if (n == 0 || t->s.augment.webcam_neg <= 0)
    return -1;
  tool_rng_init (&rng, t->s.seed, TOOL_RNG_WEBCAM_NEGATIVE, epoch, index);
  if (tool_rng_uniform (&rng) >= t->s.augment.webcam_neg)
    return -1;
  return (gint) training_negative (tool_rng_below (&rng, n));
}

/* Samples order[b·B …] → t->input (count × C×H×W), t->labels. */
static guint
fill_batch (Trainer * t, guint epoch, guint b)
{
  guint first = b * t->s.batch;
  guint count = MIN (t->s.batch, t->n_train - first);

  for (guint i = 0; i < count; i++) {
    guint index = t->order[first + i];
    const guint8 *pixels = t->data->pixels + (gsize) index * t->sample;
    gfloat *x = t->input + (gsize) i * t->sample;
    const gint scene = t->webcam ? webcam_pick (tool_rng_key (t->s.seed,
            TOOL_RNG_WEBCAM_PICK, epoch, index), t->s.augment.webcam_p,
        webcam_cache_stats (t->webcam)->per_digit) : -1;
    const gint negative = pick_negative (t, epoch, index);

    t->labels[i] = t->data->labels[index];
    if (negative >= 0) {
      webcam_cache_get_negative (t->webcam, negative, x);
      t->labels[i] = CNN_LABEL_NONE;
    } else if (scene >= 0) {
      if (!webcam_cache_get (t->webcam, index, scene, x))
        t->labels[i] = CNN_LABEL_NONE;
    } else if (t->aug) {
      tool_sample_to_unit (pixels, t->sample, t->unit);
      augmenter_apply (t->aug, tool_rng_key (t->s.seed, TOOL_RNG_AUGMENT,
              epoch, index), t->unit, x);
    } else {
      tool_sample_to_unit (pixels, t->sample, x);
    }
    tool_sample_normalise (x, t->data->shape, &t->norm);
  }
  return count;
}

static gboolean
run_batch (Trainer * t, gdouble lr, GError ** error)
{
  gint64 start = g_get_monotonic_time ();
  guint count = fill_batch (t, t->epoch, t->batch);
  guint n_correct = 0;
  gdouble loss;

  loss = cnn_network_train_step (t->net, t->input, t->labels, count,
      tool_rng_key (t->s.seed, TOOL_RNG_DROPOUT, t->epoch, t->batch),
      &n_correct);
  if (!isfinite (loss)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "the loss became %g at epoch %u, batch %u: training diverged "
        "(try a lower --lr)", loss, t->epoch + 1, t->batch + 1);
    return FALSE;
  }
  cnn_optimizer_step (t->opt, t->params, cnn_network_gradients (t->net), lr);

  t->loss_sum += loss * count;
  t->correct += n_correct;
  t->seen += count;
  t->batch++;
  t->train_seconds += (g_get_monotonic_time () - start) / 1e6;
  t->seconds += (g_get_monotonic_time () - start) / 1e6;
  return TRUE;
}

/* Scores the epoch, keeps the best weights, logs, checkpoints. */
static gboolean
end_epoch (Trainer * t, gdouble lr, GError ** error)
{
  gint64 start = g_get_monotonic_time ();
  EpochRecord r = { 0 };
  ToolScores val, test;
  gboolean best = FALSE;

  r.epoch = t->epoch + 1;
  r.train_loss = t->loss_sum / MAX (t->seen, 1);
  r.train_accuracy = (gdouble) t->correct / MAX (t->seen, 1);
  r.val_loss = r.val_accuracy = r.test_accuracy = NAN;
  r.learning_rate = lr;
  if (t->n_val) {
    tool_evaluate (t->net, t->data, t->n_train, t->n_val, &t->norm, NULL,
        &val);
    r.val_loss = val.loss;
    r.val_accuracy = (gdouble) val.correct / val.n;
    best = !t->best_epoch || val.loss < t->best_loss
        || (val.loss == t->best_loss && val.correct > t->best_correct);
    if (best) {
      memcpy (t->best, t->params, t->n_params * sizeof (gfloat));
      t->best_epoch = r.epoch;
      t->best_correct = val.correct;
      t->best_loss = val.loss;
    }
  }
  if (t->test) {
    tool_evaluate (t->net, t->test, 0, t->test->n, &t->norm, NULL, &test);
    r.test_accuracy = (gdouble) test.correct / test.n;
  }
  t->seconds += (g_get_monotonic_time () - start) / 1e6;
  r.seconds = t->seconds;
  r.images_per_second = t->train_seconds > 0 ? t->seen / t->train_seconds
      : 0;
  g_array_append_val (t->history, r);
  print_epoch (t, &r, best);

  t->epoch++;
  t->batch = 0;
  t->loss_sum = 0;
  t->correct = t->seen = 0;
  t->seconds = t->train_seconds = 0;

  if (t->out.checkpoint && !save_checkpoint (t, error))
    return FALSE;
  if (t->out.log && !write_log (t, error))
    return FALSE;
  if (t->out.plot && !plot_training (t->out.plot, (const EpochRecord *)
          t->history->data, t->history->len, error))
    return FALSE;
  return TRUE;
}

/* The webcam scenes of the training part, from the seed alone: a
 * resumed run makes the same ones. */
static gboolean
render_webcam (Trainer * t, GError ** error)
{
  const WebcamStats *st;

  t->webcam = webcam_cache_new (t->data, t->n_train,
      (guint) t->s.augment.webcam, tool_rng_key (t->s.seed,
          TOOL_RNG_WEBCAM_SCENES, 0, 0), t->s.threads, error);
  if (!t->webcam)
    return FALSE;
  st = webcam_cache_stats (t->webcam);
  printf ("%s%swebcam scenes: %u of %u digits (%u each) and %u blank, "
      "rendered and preprocessed in %.1f s on %u thread(s); %u digit scenes "
      "with no ink found (the clean digit instead), %u in which something "
      "else was framed (learnt as no digit), %u of %u blank scenes taken "
      "for ink\n", t->out.name ? t->out.name : "",
      t->out.name ? ": " : "", st->digits * st->per_digit, st->digits,
      st->per_digit, st->blanks, st->seconds, st->threads, st->no_ink,
      st->strays, st->blank_ink, st->blanks);
  fflush (stdout);
  return TRUE;
}

TrainOutcome
trainer_run (Trainer * t, GError ** error)
{
  if (t->s.augment.webcam > 0 && !t->webcam && !render_webcam (t, error))
    return TRAIN_FAILED;
  while (t->epoch < t->s.epochs) {
    gdouble lr = train_settings_rate (&t->s, t->epoch);

    shuffle (t, t->epoch);
    while (t->batch < t->n_batches) {
      if (!run_batch (t, lr, error))
        return TRAIN_FAILED;
      if (++t->batches_run == t->interrupt_after)
        raise (SIGINT);
      draw_progress (t);
      if (interrupted && t->batch < t->n_batches) {
        if (t->out.progress_bar)
          printf ("\n");
        if (t->out.checkpoint && !save_checkpoint (t, error))
          return TRAIN_FAILED;
        return TRAIN_INTERRUPTED;
      }
    }
    if (!end_epoch (t, lr, error))
      return TRAIN_FAILED;
    if (interrupted && t->epoch < t->s.epochs)
      return TRAIN_INTERRUPTED;
  }
  return TRAIN_FINISHED;
}
