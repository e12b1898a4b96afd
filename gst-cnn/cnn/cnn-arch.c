/* Architecture text (DESIGN §2) → layer specs.
 *
 *   conv FILTERS KERNEL [stride=S] [pad=P]   (also "conv2d")
 *   maxpool K [stride=S]                     (stride defaults to K)
 *   dropout RATE                             (0 ≤ RATE < 1)
 *   dense UNITS
 *   relu | flatten | softmax
 *
 * Layers are separated by commas; white space is free.  Errors name the
 * layer by its position (counted from 0, as in tensor names) and text.
 */
#include "cnn-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Limits that keep every size computation far from overflow. */
#define MAX_UNITS 65536
#define MAX_KERNEL 64
#define MAX_STRIDE 64
#define MAX_PAD 64
#define MAX_LAYERS 256

static const CnnLayerOps *const all_ops[] = {
  &cnn_conv2d_ops, &cnn_relu_ops, &cnn_maxpool_ops, &cnn_dropout_ops,
  &cnn_flatten_ops, &cnn_dense_ops, &cnn_softmax_ops,
};

static const CnnLayerOps *
ops_for_keyword (const gchar * word)
{
  if (g_str_equal (word, "conv2d"))
    return &cnn_conv2d_ops;
  if (g_str_equal (word, "pool"))
    return &cnn_maxpool_ops;
  for (guint i = 0; i < G_N_ELEMENTS (all_ops); i++)
    if (g_str_equal (word, all_ops[i]->keyword)
        || g_str_equal (word, all_ops[i]->name))
      return all_ops[i];
  return NULL;
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

/* The positional numbers each kind takes and what they mean. */
static guint
n_positional (const CnnLayerOps * ops)
{
  if (ops == &cnn_conv2d_ops)
    return 2;
  if (ops == &cnn_maxpool_ops || ops == &cnn_dropout_ops
      || ops == &cnn_dense_ops)
    return 1;
  return 0;
}

static const gchar *
usage_of (const CnnLayerOps * ops)
{
  if (ops == &cnn_conv2d_ops)
    return "conv FILTERS KERNEL [stride=S] [pad=P]";
  if (ops == &cnn_maxpool_ops)
    return "maxpool K [stride=S]";
  if (ops == &cnn_dropout_ops)
    return "dropout RATE (0 <= RATE < 1)";
  if (ops == &cnn_dense_ops)
    return "dense UNITS";
  return ops->keyword;
}

static gboolean
parse_positional (CnnLayerSpec * spec, guint index, const gchar * word)
{
  const CnnLayerOps *ops = spec->ops;

  if (ops == &cnn_dropout_ops)
    return parse_rate (word, &spec->rate);
  if (ops == &cnn_conv2d_ops && index == 0)
    return parse_uint (word, 1, MAX_UNITS, &spec->units);
  if (ops == &cnn_dense_ops)
    return parse_uint (word, 1, MAX_UNITS, &spec->units);
  return parse_uint (word, 1, MAX_KERNEL, &spec->kernel);
}

static gboolean
parse_option (CnnLayerSpec * spec, const gchar * word)
{
  const gchar *eq = strchr (word, '=');
  gsize key_len;

  if (!eq)
    return FALSE;
  key_len = eq - word;
  if (key_len == 6 && strncmp (word, "stride", 6) == 0
      && (spec->ops == &cnn_conv2d_ops || spec->ops == &cnn_maxpool_ops))
    return parse_uint (eq + 1, 1, MAX_STRIDE, &spec->stride);
  if (key_len == 3 && strncmp (word, "pad", 3) == 0
      && spec->ops == &cnn_conv2d_ops)
    return parse_uint (eq + 1, 0, MAX_PAD, &spec->pad);
  return FALSE;
}

static gboolean
parse_layer (const gchar * text, guint index, CnnLayerSpec * spec,
    GError ** error)
{
  gchar *stripped = g_strstrip (g_strdup (text));
  gchar **words = g_strsplit_set (stripped, " \t\r\n", -1);
  guint n_words = 0, n_pos = 0;
  gboolean ok = FALSE, stride_given = FALSE, pad_given = FALSE;

  /* Drop the empty words that runs of white space leave. */
  for (guint i = 0; words[i]; i++)
    if (*words[i])
      words[n_words++] = words[i];
    else
      g_free (words[i]);
  words[n_words] = NULL;

  if (n_words == 0) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_ARCH,
        "layer %u is empty (two commas in a row?)", index);
    goto out;
  }
  memset (spec, 0, sizeof *spec);
  spec->ops = ops_for_keyword (words[0]);
  if (!spec->ops) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_ARCH,
        "layer %u ('%s'): unknown layer kind '%s' (known: conv, relu, "
        "maxpool, dropout, flatten, dense, softmax)", index, stripped,
        words[0]);
    goto out;
  }
  spec->stride = 1;
  for (guint i = 1; i < n_words; i++) {
    gboolean parsed;

    if (strchr (words[i], '=')) {
      gboolean *given = g_str_has_prefix (words[i], "stride=") ? &stride_given
          : g_str_has_prefix (words[i], "pad=") ? &pad_given : NULL;

      if (given && *given) {
        g_set_error (error, CNN_ERROR, CNN_ERROR_ARCH,
            "layer %u ('%s'): '%.*s' is given twice", index, stripped,
            (int) (strchr (words[i], '=') - words[i]), words[i]);
        goto out;
      }
      parsed = parse_option (spec, words[i]);
      if (given)
        *given = TRUE;
    } else
      parsed = n_pos < n_positional (spec->ops)
          && parse_positional (spec, n_pos++, words[i]);
    if (!parsed) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_ARCH,
          "layer %u ('%s'): cannot use '%s'; expected '%s'", index,
          stripped, words[i], usage_of (spec->ops));
      goto out;
    }
  }
  if (n_pos != n_positional (spec->ops)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_ARCH,
        "layer %u ('%s'): missing a number; expected '%s'", index,
        words[0], usage_of (spec->ops));
    goto out;
  }
  if (spec->ops == &cnn_maxpool_ops && !stride_given)
    spec->stride = spec->kernel;
  ok = TRUE;
out:
  g_strfreev (words);
  g_free (stripped);
  return ok;
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
