/* Architecture text (docs/design.md, "The network") → layer specs.
 *
 *   conv FILTERS KERNEL [stride=S] [pad=P]   (also "conv2d")
 *   maxpool K [stride=S]                     (stride defaults to K)
 *   avgpool K [stride=S]                     (stride defaults to K)
 *   dropout RATE                             (0 ≤ RATE < 1)
 *   dense UNITS
 *   relu | flatten | softmax
 *
 * Layers are separated by commas; white space is free.  Errors name the
 * layer by its position (counted from 0, as in tensor names) and text.
 * Each kind's grammar (its numbers, options and usage) is in its ops
 * table; this file only reads it.
 */
#include "cnn-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LAYERS 256

/* Every layer kind (cnn-layer-kinds.h); each one's grammar and traits
 * are in its own ops table. */
static const CnnLayerOps *const all_ops[] = {
#define CNN_LAYER_KIND(kind) &cnn_##kind##_ops,
#include "cnn-layer-kinds.h"
#undef CNN_LAYER_KIND
};

static const CnnLayerOps *
ops_for_keyword (const gchar * word)
{
  for (guint i = 0; i < G_N_ELEMENTS (all_ops); i++)
    if (g_str_equal (word, all_ops[i]->keyword)
        || g_str_equal (word, all_ops[i]->name)
        || (all_ops[i]->alias && g_str_equal (word, all_ops[i]->alias)))
      return all_ops[i];
  return NULL;
}

/* "conv, relu, ...": the kinds' keywords, for errors. */
static gchar *
known_keywords (void)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (all_ops); i++)
    g_string_append_printf (text, "%s%s", i ? ", " : "", all_ops[i]->keyword);
  return g_string_free (text, FALSE);
}

static gboolean
parse_uint (const gchar * word, guint min, guint max, guint * value)
{
  gchar *end;
  guint64 v;

  if (!g_ascii_isdigit (word[0]))
    return FALSE;
  errno = 0;
  v = g_ascii_strtoull (word, &end, 10);
  if (errno || *end || v < min || v > max)
    return FALSE;
  *value = (guint) v;
  return TRUE;
}

static gboolean
parse_rate (const gchar * word, gfloat * value)
{
  gchar *end;
  gdouble v;

  /* Plain decimal only: strtod would also take "0x0.8", "inf", "nan". */
  for (const gchar * p = word; *p; p++)
    if (!g_ascii_isdigit (*p) && *p != '.')
      return FALSE;
  errno = 0;
  v = g_ascii_strtod (word, &end);
  if (errno || end == word || *end || !(v >= 0.0 && v < 1.0))
    return FALSE;
  /* As a float: 0.9999999999 rounds to 1, which is no rate. */
  *value = (gfloat) v;
  return *value < 1.0f;
}

/* Sets @arg's field of @spec from @word; FALSE when it is no number
 * of that field's kind and range. */
static gboolean
set_field (CnnLayerSpec * spec, const CnnLayerArg * arg, const gchar * word)
{
  switch (arg->field) {
    case CNN_FIELD_UNITS:
      return parse_uint (word, arg->min, arg->max, &spec->units);
    case CNN_FIELD_KERNEL:
      return parse_uint (word, arg->min, arg->max, &spec->kernel);
    case CNN_FIELD_STRIDE:
      return parse_uint (word, arg->min, arg->max, &spec->stride);
    case CNN_FIELD_PAD:
      return parse_uint (word, arg->min, arg->max, &spec->pad);
    case CNN_FIELD_RATE:
      return parse_rate (word, &spec->rate);
  }
  return FALSE;
}

/* The index of the option of @ops that "key=value" @word names, or -1. */
static gint
option_index (const CnnLayerOps * ops, const gchar * word)
{
  const gsize key_len = strchr (word, '=') - word;

  for (guint i = 0; i < ops->n_options; i++)
    if (strlen (ops->options[i].key) == key_len
        && strncmp (word, ops->options[i].key, key_len) == 0)
      return (gint) i;
  return -1;
}

/* Whether @ops's options given (bit i: option i) include a stride. */
static gboolean
stride_given (const CnnLayerOps * ops, guint32 given)
{
  for (guint i = 0; i < ops->n_options; i++)
    if ((given & (1u << i)) && ops->options[i].field == CNN_FIELD_STRIDE)
      return TRUE;
  return FALSE;
}

/* One word after the kind's keyword: the next positional number, or an
 * option (key=value) not given before (@given, bit per option). */
static gboolean
parse_word (CnnLayerSpec * spec, const gchar * word, guint * n_pos,
    guint32 * given, guint index, const gchar * text, GError ** error)
{
  const CnnLayerOps *ops = spec->ops;
  gboolean parsed = FALSE;

  if (strchr (word, '=')) {
    const gint k = option_index (ops, word);

    if (k >= 0 && (*given & (1u << k))) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_ARCH,
          "layer %u ('%s'): '%.*s' is given twice", index, text,
          (int) (strchr (word, '=') - word), word);
      return FALSE;
    }
    parsed = k >= 0 && set_field (spec, &ops->options[k],
        strchr (word, '=') + 1);
    if (k >= 0)
      *given |= 1u << k;
  } else if (*n_pos < ops->n_args) {
    parsed = set_field (spec, &ops->args[(*n_pos)++], word);
  }
  if (!parsed)
    g_set_error (error, CNN_ERROR, CNN_ERROR_ARCH,
        "layer %u ('%s'): cannot use '%s'; expected '%s'", index, text,
        word, ops->usage);
  return parsed;
}

/* The non-empty words of @text, white space apart (a NULL-terminated
 * array to g_strfreev). */
static gchar **
split_words (const gchar * text)
{
  gchar **words = g_strsplit_set (text, " \t\r\n", -1);
  guint n = 0;

  for (guint i = 0; words[i]; i++)
    if (*words[i])
      words[n++] = words[i];
    else
      g_free (words[i]);
  words[n] = NULL;
  return words;
}

static gboolean
parse_layer (const gchar * text, guint index, CnnLayerSpec * spec,
    GError ** error)
{
  g_autofree gchar *stripped = g_strstrip (g_strdup (text));
  g_auto (GStrv) words = split_words (stripped);
  guint n_pos = 0;
  guint32 given = 0;

  if (!words[0]) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_ARCH,
        "layer %u is empty (two commas in a row?)", index);
    return FALSE;
  }
  memset (spec, 0, sizeof *spec);
  spec->ops = ops_for_keyword (words[0]);
  if (!spec->ops) {
    g_autofree gchar *known = known_keywords ();

    g_set_error (error, CNN_ERROR, CNN_ERROR_ARCH,
        "layer %u ('%s'): unknown layer kind '%s' (known: %s)", index,
        stripped, words[0], known);
    return FALSE;
  }
  spec->stride = 1;
  for (guint i = 1; words[i]; i++)
    if (!parse_word (spec, words[i], &n_pos, &given, index, stripped, error))
      return FALSE;
  if (n_pos != spec->ops->n_args) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_ARCH,
        "layer %u ('%s'): missing a number; expected '%s'", index,
        words[0], spec->ops->usage);
    return FALSE;
  }
  if (spec->ops->stride_is_kernel && !stride_given (spec->ops, given))
    spec->stride = spec->kernel;
  return TRUE;
}

CnnLayerSpec *
cnn_arch_parse (const gchar * text, guint * n_layers, GError ** error)
{
  gchar **parts;
  guint n;
  CnnLayerSpec *specs;

  g_return_val_if_fail (text != NULL, NULL);

  parts = g_strsplit (text, ",", -1);
  n = g_strv_length (parts);
  if (n == 0 || (n == 1 && *g_strstrip (parts[0]) == '\0')) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_ARCH,
        "the architecture is empty");
    g_strfreev (parts);
    return NULL;
  }
  if (n > MAX_LAYERS) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_ARCH,
        "the architecture has %u layers; at most %u are supported", n,
        MAX_LAYERS);
    g_strfreev (parts);
    return NULL;
  }
  specs = g_new0 (CnnLayerSpec, n);
  for (guint i = 0; i < n; i++) {
    if (!parse_layer (parts[i], i, &specs[i], error)) {
      g_free (specs);
      g_strfreev (parts);
      return NULL;
    }
  }
  g_strfreev (parts);
  *n_layers = n;
  return specs;
}
