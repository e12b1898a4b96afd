/* Training settings and their text forms, shared by the command line and
 * checkpoints.  A value reads back exactly as written (doubles in their
 * shortest round-trip form), so a resumed run uses the very numbers of
 * the first one. */
#include "trainer.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

const gchar *const train_setting_keys[] = {
  "architecture", "input", "epochs", "batch",
  "optimizer", "learning-rate", "momentum", "beta1", "beta2", "rho",
  "epsilon", "weight-decay", "lr-schedule", "seed", "threads",
  "validation", "limit", "augment", "preprocess", "labels", NULL
};

static const struct
{
  const gchar *key, *option;
} options[] = {
  {"architecture", "--arch"}, {"input", "--input"}, {"epochs", "--epochs"},
  {"batch", "--batch"}, {"optimizer", "--optimizer"},
  {"learning-rate", "--lr"}, {"momentum", "--momentum"},
  {"weight-decay", "--weight-decay"}, {"lr-schedule", "--lr-schedule"},
  {"seed", "--seed"}, {"threads", "--threads"},
  {"validation", "--validation"}, {"limit", "--limit"},
  {"augment", "--augment"}, {"preprocess", "--preprocess"},
  {"labels", "--labels-file"},
};

const gchar *
train_setting_option (const gchar * key)
{
  for (guint i = 0; i < G_N_ELEMENTS (options); i++)
    if (g_str_equal (options[i].key, key))
      return options[i].option;
  return key;
}

void
train_settings_init (TrainSettings * s)
{
  memset (s, 0, sizeof (*s));
  s->architecture = g_strdup (CNN_DEFAULT_ARCHITECTURE);
  s->epochs = 10;
  s->batch = 128;
  cnn_optimizer_settings_init (&s->optimizer, CNN_OPTIMIZER_ADAM);
  s->schedule = (LrSchedule) { LR_CONSTANT, 5, 0.5 };
  s->seed = 1;
  s->threads = MAX (1, MIN (64, g_get_num_processors ()));
  s->validation = 0.1;
  augment_settings_parse (NULL, &s->augment, NULL);
  s->preprocess = g_strdup ("resize");
}

void
train_settings_clear (TrainSettings * s)
{
  g_clear_pointer (&s->architecture, g_free);
  g_clear_pointer (&s->preprocess, g_free);
  g_clear_pointer (&s->labels, g_free);
}

void
train_settings_copy (TrainSettings * dst, const TrainSettings * src)
{
  *dst = *src;
  dst->architecture = g_strdup (src->architecture);
  dst->preprocess = g_strdup (src->preprocess);
  dst->labels = g_strdup (src->labels);
}

/* "constant" | "cosine" | "step[,every=N][,gamma=G]" */
static gboolean
parse_schedule (const gchar * text, LrSchedule * out, GError ** error)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  LrSchedule s = { LR_CONSTANT, 5, 0.5 };

  if (g_str_equal (parts[0], "constant"))
    s.kind = LR_CONSTANT;
  else if (g_str_equal (parts[0], "cosine"))
    s.kind = LR_COSINE;
  else if (g_str_equal (parts[0], "step"))
    s.kind = LR_STEP;
  else
    goto bad;
  for (guint i = 1; parts[i]; i++) {
    guint64 every;

    if (s.kind != LR_STEP)
      goto bad;
    if (g_str_has_prefix (parts[i], "every=")) {
      if (!tool_parse_uint ("--lr-schedule step every", parts[i] + 6, 1,
              100000, &every, error))
        return FALSE;
      s.every = (guint) every;
    } else if (g_str_has_prefix (parts[i], "gamma=")) {
      if (!tool_parse_double ("--lr-schedule step gamma", parts[i] + 6,
              1e-6, 1.0, &s.gamma, error))
        return FALSE;
    } else {
      goto bad;
    }
  }
  *out = s;
  return TRUE;

bad:
  g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
      "--lr-schedule '%s' is not constant, cosine or "
      "step[,every=EPOCHS][,gamma=FACTOR]", text);
  return FALSE;
}

static gchar *
schedule_to_string (const LrSchedule * s)
{
  g_autofree gchar *gamma = NULL;

  switch (s->kind) {
    case LR_COSINE:
      return g_strdup ("cosine");
    case LR_STEP:
      gamma = tool_format_double (s->gamma);
      return g_strdup_printf ("step,every=%u,gamma=%s", s->every, gamma);
    default:
      return g_strdup ("constant");
  }
}

/* A JSON array of non-empty strings, as the model's "labels" holds. */
static gboolean
check_labels_json (const gchar * text, GError ** error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonArray *array;

  if (!json_parser_load_from_data (parser, text, -1, NULL))
    goto bad;
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_ARRAY (root))
    goto bad;
  array = json_node_get_array (root);
  if (json_array_get_length (array) == 0)
    goto bad;
  for (guint i = 0; i < json_array_get_length (array); i++) {
    JsonNode *n = json_array_get_element (array, i);

    if (!JSON_NODE_HOLDS_VALUE (n)
        || json_node_get_value_type (n) != G_TYPE_STRING
        || !*json_node_get_string (n))
      goto bad;
  }
  return TRUE;

bad:
  g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
      "labels '%s' are not a JSON array of names", text);
  return FALSE;
}

static gboolean
set_double (const gchar * key, const gchar * value, gdouble min, gdouble max,
    gdouble * out, GError ** error)
{
  return tool_parse_double (train_setting_option (key), value, min, max, out,
      error);
}

static gboolean
set_uint (const gchar * key, const gchar * value, guint64 min, guint64 max,
    guint64 * out, GError ** error)
{
  return tool_parse_uint (train_setting_option (key), value, min, max, out,
      error);
}

gboolean
train_settings_set (TrainSettings * s, const gchar * key, const gchar * value,
    GError ** error)
{
  CnnOptimizerSettings *o = &s->optimizer;
  guint64 u;

#define UINT_FIELD(k, field, lo, hi) \
  if (g_str_equal (key, k)) { \
    if (!set_uint (key, value, lo, hi, &u, error)) \
      return FALSE; \
    field = u; \
    return TRUE; \
  }
#define DOUBLE_FIELD(k, field, lo, hi) \
  if (g_str_equal (key, k)) \
    return set_double (key, value, lo, hi, &field, error);

  if (g_str_equal (key, "architecture")) {
    if (!*value) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
          "--arch: the architecture text is empty");
      return FALSE;
    }
    g_free (s->architecture);
    s->architecture = g_strdup (value);
    return TRUE;
  }
  if (g_str_equal (key, "input")) {
    if (!*value) {
      s->input = (CnnShape) { 0, 0, 0 };
      return TRUE;
    }
    return cnn_shape_parse (value, &s->input, error);
  }
  if (g_str_equal (key, "optimizer")) {
    CnnOptimizerKind kind;

    if (!cnn_optimizer_kind_from_string (value, &kind)) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
          "--optimizer '%s' is not sgd, adam or adadelta", value);
      return FALSE;
    }
    /* A new kind brings its own default rates. */
    if (kind != o->kind) {
      gdouble decay = o->weight_decay;

      cnn_optimizer_settings_init (o, kind);
      o->weight_decay = decay;
    }
    return TRUE;
  }
  UINT_FIELD ("epochs", s->epochs, 1, 100000);
  UINT_FIELD ("batch", s->batch, 1, 65536);
  UINT_FIELD ("seed", s->seed, 0, G_MAXUINT64);
  UINT_FIELD ("threads", s->threads, 1, 64);
  UINT_FIELD ("limit", s->limit, 0, G_MAXUINT32);
  DOUBLE_FIELD ("learning-rate", o->learning_rate, 1e-12, 1000.0);
  DOUBLE_FIELD ("momentum", o->momentum, 0.0, 0.999999);
  DOUBLE_FIELD ("beta1", o->beta1, 0.0, 0.999999);
  DOUBLE_FIELD ("beta2", o->beta2, 0.0, 0.999999999);
  DOUBLE_FIELD ("rho", o->rho, 0.0, 0.999999999);
  DOUBLE_FIELD ("epsilon", o->epsilon, 1e-30, 1.0);
  DOUBLE_FIELD ("weight-decay", o->weight_decay, 0.0, 1.0);
  DOUBLE_FIELD ("validation", s->validation, 0.0, 0.9);
  if (g_str_equal (key, "lr-schedule"))
    return parse_schedule (value, &s->schedule, error);
  if (g_str_equal (key, "augment"))
    return augment_settings_parse (value, &s->augment, error);
  if (g_str_equal (key, "preprocess")) {
    g_free (s->preprocess);
    s->preprocess = g_strdup (value);
    return TRUE;
  }
  if (g_str_equal (key, "labels")) {
    if (!check_labels_json (value, error))
      return FALSE;
    g_free (s->labels);
    s->labels = g_strdup (value);
    return TRUE;
  }
#undef UINT_FIELD
#undef DOUBLE_FIELD

  g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID, "unknown setting '%s'",
      key);
  return FALSE;
}

gchar *
train_settings_get (const TrainSettings * s, const gchar * key)
{
  const CnnOptimizerSettings *o = &s->optimizer;

  if (g_str_equal (key, "architecture"))
    return g_strdup (s->architecture);
  if (g_str_equal (key, "input"))
    return s->input.c ? cnn_shape_to_string (s->input) : g_strdup ("");
  if (g_str_equal (key, "optimizer"))
    return g_strdup (cnn_optimizer_kind_to_string (o->kind));
  if (g_str_equal (key, "epochs"))
    return g_strdup_printf ("%u", s->epochs);
  if (g_str_equal (key, "batch"))
    return g_strdup_printf ("%u", s->batch);
  if (g_str_equal (key, "seed"))
    return g_strdup_printf ("%" G_GUINT64_FORMAT, s->seed);
  if (g_str_equal (key, "threads"))
    return g_strdup_printf ("%u", s->threads);
  if (g_str_equal (key, "limit"))
    return g_strdup_printf ("%u", s->limit);
  if (g_str_equal (key, "learning-rate"))
    return tool_format_double (o->learning_rate);
  if (g_str_equal (key, "momentum"))
    return tool_format_double (o->momentum);
  if (g_str_equal (key, "beta1"))
    return tool_format_double (o->beta1);
  if (g_str_equal (key, "beta2"))
    return tool_format_double (o->beta2);
  if (g_str_equal (key, "rho"))
    return tool_format_double (o->rho);
  if (g_str_equal (key, "epsilon"))
    return tool_format_double (o->epsilon);
  if (g_str_equal (key, "weight-decay"))
    return tool_format_double (o->weight_decay);
  if (g_str_equal (key, "validation"))
    return tool_format_double (s->validation);
  if (g_str_equal (key, "lr-schedule"))
    return schedule_to_string (&s->schedule);
  if (g_str_equal (key, "augment"))
    return augment_settings_to_string (&s->augment);
  if (g_str_equal (key, "preprocess"))
    return g_strdup (s->preprocess);
  if (g_str_equal (key, "labels"))
    return g_strdup (s->labels);
  g_return_val_if_reached (NULL);
}

gdouble
train_settings_rate (const TrainSettings * s, guint epoch)
{
  gdouble lr = s->optimizer.learning_rate;

  switch (s->schedule.kind) {
    case LR_STEP:
      return lr * pow (s->schedule.gamma, epoch / s->schedule.every);
    case LR_COSINE:
      return lr * 0.5 * (1.0 + cos (G_PI * epoch / s->epochs));
    default:
      return lr;
  }
}

void
train_settings_print (const TrainSettings * s, FILE * out)
{
  const CnnOptimizerSettings *o = &s->optimizer;
  g_autofree gchar *lr = tool_format_double (o->learning_rate);
  g_autofree gchar *wd = tool_format_double (o->weight_decay);
  g_autofree gchar *schedule = schedule_to_string (&s->schedule);
  g_autofree gchar *augment = augment_settings_to_string (&s->augment);
  g_autofree gchar *validation = tool_format_double (s->validation);
  g_autofree gchar *blas = cnn_blas_describe ();

  fprintf (out, "optimizer: %s, learning rate %s", cnn_optimizer_kind_to_string
      (o->kind), lr);
  switch (o->kind) {
    case CNN_OPTIMIZER_SGD:
      fprintf (out, ", momentum %g", o->momentum);
      break;
    case CNN_OPTIMIZER_ADAM:
      fprintf (out, ", beta1 %g, beta2 %g, epsilon %g", o->beta1, o->beta2,
          o->epsilon);
      break;
    case CNN_OPTIMIZER_ADADELTA:
      fprintf (out, ", rho %g, epsilon %g", o->rho, o->epsilon);
      break;
  }
  fprintf (out, ", weight decay %s\n", wd);
  fprintf (out, "learning-rate schedule: %s\n", schedule);
  fprintf (out, "epochs %u, batch %u, seed %" G_GUINT64_FORMAT ", threads %u,"
      " validation %s (held out from the end)\n", s->epochs, s->batch,
      s->seed, s->threads, validation);
  fprintf (out, "augmentation: %s\n", augment);
  fprintf (out, "preprocess: %s\n", s->preprocess);
  fprintf (out, "BLAS: %s\n", blas);
}
