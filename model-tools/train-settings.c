/* Training settings and their text forms, shared by the command line and
 * checkpoints.  A value reads back exactly as written (doubles in their
 * shortest round-trip form), so a resumed run uses the very numbers of
 * the first one. */
#include "trainer.h"

#include <math.h>
#include <string.h>

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
  s->preprocess = g_strdup (CNN_DEFAULT_PREPROCESS);
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
  g_auto (GStrv) labels = cnn_labels_from_json (text, 0, "labels", NULL);
  gboolean ok = labels && labels[0];

  for (guint i = 0; ok && labels[i]; i++)
    ok = labels[i][0] != '\0';
  if (!ok)
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "labels '%s' are not a JSON array of names", text);
  return ok;
}

static gboolean
set_architecture (TrainSettings * s, const gchar * value, GError ** error)
{
  if (!*value) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "--arch: the architecture text is empty");
    return FALSE;
  }
  g_free (s->architecture);
  s->architecture = g_strdup (value);
  return TRUE;
}

static gchar *
get_architecture (const TrainSettings * s)
{
  return g_strdup (s->architecture);
}

static gboolean
set_input (TrainSettings * s, const gchar * value, GError ** error)
{
  if (!*value) {
    s->input = (CnnShape) { 0, 0, 0 };
    return TRUE;
  }
  return cnn_shape_parse (value, &s->input, error);
}

static gchar *
get_input (const TrainSettings * s)
{
  return s->input.c ? cnn_shape_to_string (s->input) : g_strdup ("");
}

static gboolean
set_optimizer (TrainSettings * s, const gchar * value, GError ** error)
{
  CnnOptimizerSettings *o = &s->optimizer;
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

static gchar *
get_optimizer (const TrainSettings * s)
{
  return g_strdup (cnn_optimizer_kind_to_string (s->optimizer.kind));
}

static gboolean
set_schedule (TrainSettings * s, const gchar * value, GError ** error)
{
  return parse_schedule (value, &s->schedule, error);
}

static gchar *
get_schedule (const TrainSettings * s)
{
  return schedule_to_string (&s->schedule);
}

static gboolean
set_augment (TrainSettings * s, const gchar * value, GError ** error)
{
  return augment_settings_parse (value, &s->augment, error);
}

static gchar *
get_augment (const TrainSettings * s)
{
  return augment_settings_to_string (&s->augment);
}

static gboolean
set_preprocess (TrainSettings * s, const gchar * value, GError ** error)
{
  g_free (s->preprocess);
  s->preprocess = g_strdup (value);
  return TRUE;
}

static gchar *
get_preprocess (const TrainSettings * s)
{
  return g_strdup (s->preprocess);
}

static gboolean
set_labels (TrainSettings * s, const gchar * value, GError ** error)
{
  if (!check_labels_json (value, error))
    return FALSE;
  g_free (s->labels);
  s->labels = g_strdup (value);
  return TRUE;
}

static gchar *
get_labels (const TrainSettings * s)
{
  return g_strdup (s->labels);
}

#define FIELD(f) G_STRUCT_OFFSET (TrainSettings, f)
#define UINT(f, lo, hi) SETTING_UINT, FIELD (f), lo, hi, 0, 0, NULL, NULL
#define UINT64(f, lo, hi) SETTING_UINT64, FIELD (f), lo, hi, 0, 0, NULL, NULL
#define DOUBLE(f, lo, hi) SETTING_DOUBLE, FIELD (f), 0, 0, lo, hi, NULL, NULL
#define CUSTOM(name) SETTING_CUSTOM, 0, 0, 0, 0, 0, set_##name, get_##name

/* Every setting, in the order they are applied ("optimizer" resets the
 * rates after it), with its command-line option where it has one. */
const TrainSetting train_setting_table[TRAIN_N_SETTINGS] = {
  {"architecture", "--arch", 'a', "TEXT",
        "Network architecture (default: the reference digit network)",
      CUSTOM (architecture)},
  {"input", "--input", 'i', "CxHxW", "Input shape (default: the images')",
      CUSTOM (input)},
  {"epochs", "--epochs", 'e', "N", "Epochs to train (default 10)",
      UINT (epochs, 1, 100000)},
  {"batch", "--batch", 'b', "N", "Mini-batch size (default 128)",
      UINT (batch, 1, 65536)},
  {"optimizer", "--optimizer", 0, "sgd|adam|adadelta",
      "Optimizer (default adam)", CUSTOM (optimizer)},
  {"learning-rate", "--lr", 0, "X",
        "Learning rate (default: sgd 0.01, adam 0.001, adadelta 1)",
      DOUBLE (optimizer.learning_rate, 1e-12, 1000.0)},
  {"momentum", "--momentum", 0, "X", "SGD momentum (default 0.9)",
      DOUBLE (optimizer.momentum, 0.0, 0.999999)},
  {"beta1", NULL, 0, NULL, NULL, DOUBLE (optimizer.beta1, 0.0, 0.999999)},
  {"beta2", NULL, 0, NULL, NULL, DOUBLE (optimizer.beta2, 0.0, 0.999999999)},
  {"rho", NULL, 0, NULL, NULL, DOUBLE (optimizer.rho, 0.0, 0.999999999)},
  {"epsilon", NULL, 0, NULL, NULL, DOUBLE (optimizer.epsilon, 1e-30, 1.0)},
  {"weight-decay", "--weight-decay", 0, "X", "L2 weight decay (default 0)",
      DOUBLE (optimizer.weight_decay, 0.0, 1.0)},
  {"lr-schedule", "--lr-schedule", 0, "SCHEDULE",
        "constant, cosine or step[,every=EPOCHS][,gamma=FACTOR] "
        "(default constant; step: every=5,gamma=0.5)",
      CUSTOM (schedule)},
  {"seed", "--seed", 's', "N",
        "Seed of the initial weights, order, augmentation, dropout "
        "(default 1)",
      UINT64 (seed, 0, G_MAXUINT64)},
  {"threads", "--threads", 't', "N", "Threads (default: the number of cores)",
      UINT (threads, 1, 64)},
  {"validation", "--validation", 0, "FRACTION",
        "Part of the training set held out from its end to pick the best "
        "epoch (default 0.1; 0: none, keep the last)",
      DOUBLE (validation, 0.0, 0.9)},
  {"limit", "--limit", 'n', "N", "Use only the first N training images",
      UINT (limit, 0, G_MAXUINT32)},
  {"augment", "--augment", 0, "LIST",
        "Random warps: shift=PIXELS,rotate=DEGREES,scale=FRACTION,"
        "elastic=ALPHA,sigma=PIXELS,noise=STDDEV; webcam[=SCENES] (4 desk "
        "scenes per digit, rendered at the start and preprocessed as "
        "cnnclassify does; needs --preprocess mnist), webcam-p=P (the "
        "chance that a sample is one of them, default 0.5) (default none)",
      CUSTOM (augment)},
  {"preprocess", "--preprocess", 0, "TEXT",
        "How inputs are prepared, stored in the model (default resize)",
      CUSTOM (preprocess)},
  /* Set by --labels-file, which names a file of them. */
  {"labels", NULL, 0, NULL, NULL, CUSTOM (labels)},
};

#undef FIELD
#undef UINT
#undef UINT64
#undef DOUBLE
#undef CUSTOM

const TrainSetting *
train_setting_find (const gchar * key)
{
  for (guint i = 0; i < TRAIN_N_SETTINGS; i++)
    if (g_str_equal (train_setting_table[i].key, key))
      return &train_setting_table[i];
  return NULL;
}

const gchar *
train_setting_option (const gchar * key)
{
  const TrainSetting *t = train_setting_find (key);

  return t && t->flag ? t->flag : key;
}

static gpointer
field_of (TrainSettings * s, const TrainSetting * t)
{
  return G_STRUCT_MEMBER_P (s, t->offset);
}

gboolean
train_settings_set (TrainSettings * s, const gchar * key, const gchar * value,
    GError ** error)
{
  const TrainSetting *t = train_setting_find (key);
  const gchar *name = train_setting_option (key);
  guint64 u;

  if (!t) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "unknown setting '%s'", key);
    return FALSE;
  }
  switch (t->kind) {
    case SETTING_UINT:
      if (!tool_parse_uint (name, value, t->umin, t->umax, &u, error))
        return FALSE;
      *(guint *) field_of (s, t) = (guint) u;
      return TRUE;
    case SETTING_UINT64:
      return tool_parse_uint (name, value, t->umin, t->umax,
          (guint64 *) field_of (s, t), error);
    case SETTING_DOUBLE:
      return tool_parse_double (name, value, t->dmin, t->dmax,
          (gdouble *) field_of (s, t), error);
    case SETTING_CUSTOM:
      break;
  }
  return t->set (s, value, error);
}

gchar *
train_settings_get (const TrainSettings * s, const gchar * key)
{
  const TrainSetting *t = train_setting_find (key);
  gpointer field;

  g_return_val_if_fail (t != NULL, NULL);
  field = field_of ((TrainSettings *) s, t);
  switch (t->kind) {
    case SETTING_UINT:
      return g_strdup_printf ("%u", *(const guint *) field);
    case SETTING_UINT64:
      return g_strdup_printf ("%" G_GUINT64_FORMAT,
          *(const guint64 *) field);
    case SETTING_DOUBLE:
      return tool_format_double (*(const gdouble *) field);
    case SETTING_CUSTOM:
      break;
  }
  return t->get (s);
}

GOptionEntry *
train_setting_entries (const TrainSettingUse * uses, gchar ** values)
{
  GOptionEntry *entries = g_new0 (GOptionEntry, TRAIN_N_SETTINGS + 1);
  guint n = 0;

  for (guint i = 0; i < TRAIN_N_SETTINGS; i++) {
    const TrainSetting *t = &train_setting_table[i];
    const gchar *help = t->help;
    gboolean wanted = uses == NULL;

    for (guint k = 0; uses && uses[k].key; k++)
      if (g_str_equal (uses[k].key, t->key)) {
        wanted = TRUE;
        help = uses[k].help ? uses[k].help : help;
      }
    if (t->flag && wanted)
      entries[n++] = (GOptionEntry) { t->flag + 2, t->short_name, 0,
        G_OPTION_ARG_STRING, &values[i], help, t->arg
      };
  }
  return entries;
}

gboolean
train_settings_apply (TrainSettings * s, gchar ** values, GError ** error)
{
  for (guint i = 0; i < TRAIN_N_SETTINGS; i++)
    if (values[i] && !train_settings_set (s, train_setting_table[i].key,
            values[i], error))
      return FALSE;
  return TRUE;
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
