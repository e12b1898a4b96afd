/* What the subcommands share: option checking, output checks, dataset
 * conversion and scoring. */
#include "tool.h"

#include <cblas.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- command line -------------------------------------------------- */

void
tool_complain (const gchar * command, const gchar * format, ...)
{
  va_list args;
  g_autofree gchar *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("cnn %s: %s\n", command, message);
}

static gboolean
parse_memory_limit (const gchar * name, const gchar * value, gpointer data,
    GError ** error)
{
  g_autoptr (GError) err = NULL;
  guint64 bytes;

  if (!cnn_memory_limit_parse (value, &bytes, &err)) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s: %s",
        name, err->message);
    return FALSE;
  }
  cnn_set_memory_limit (bytes);
  return TRUE;
}

/* Every subcommand takes it: what a model, architecture or dataset may
 * make the tool allocate. */
static void
add_memory_option (GOptionContext * context)
{
  static const GOptionEntry entries[] = {
    {"memory-limit", 0, 0, G_OPTION_ARG_CALLBACK, parse_memory_limit,
          "Memory a model, architecture or dataset may make the tool "
          "allocate, in bytes, with an optional K, M, G or T suffix "
          "(default: CNN_MEMORY_LIMIT, else 1G)", "BYTES"},
    {NULL}
  };

  g_option_context_add_main_entries (context, entries, NULL);
}

gboolean
tool_parse_options (GOptionContext * context, const gchar * command,
    int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;

  add_memory_option (context);
  if (!g_option_context_parse (context, argc, argv, &error)) {
    tool_complain (command, "%s", error->message);
    g_printerr ("Try 'cnn %s --help'.\n", command);
    return FALSE;
  }
  return TRUE;
}

gboolean
tool_parse_uint (const gchar * option, const gchar * text, guint64 min,
    guint64 max, guint64 * value, GError ** error)
{
  gchar *end = NULL;
  guint64 v = 0;

  errno = 0;
  if (g_ascii_isdigit (text[0]))
    v = g_ascii_strtoull (text, &end, 10);
  if (!g_ascii_isdigit (text[0]) || errno || *end || v < min || v > max) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "%s '%s' is not a whole number in %" G_GUINT64_FORMAT "..%"
        G_GUINT64_FORMAT, option, text, min, max);
    return FALSE;
  }
  *value = v;
  return TRUE;
}

gboolean
tool_parse_double (const gchar * option, const gchar * text, gdouble min,
    gdouble max, gdouble * value, GError ** error)
{
  gchar *end;
  gdouble v;

  errno = 0;
  v = g_ascii_strtod (text, &end);
  if (end == text || *end || errno || g_ascii_isspace (text[0])
      || !isfinite (v) || v < min || v > max) {
    g_autofree gchar *lo = tool_format_double (min);
    g_autofree gchar *hi = tool_format_double (max);

    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "%s '%s' is not a number in %s..%s", option, text, lo, hi);
    return FALSE;
  }
  *value = v;
  return TRUE;
}

gchar *
tool_format_double (gdouble value)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  for (gint digits = 6; digits <= 17; digits++) {
    gchar format[8];

    g_snprintf (format, sizeof format, "%%.%dg", digits);
    g_ascii_formatd (buf, sizeof buf, format, value);
    if (g_ascii_strtod (buf, NULL) == value)
      break;
  }
  return g_strdup (buf);
}

void
tool_print_json_string (const gchar * text)
{
  g_autoptr (JsonNode) node = NULL;
  g_autofree gchar *quoted = NULL;

  if (text == NULL) {
    fputs ("null", stdout);
    return;
  }
  node = json_node_init_string (json_node_alloc (), text);
  quoted = json_to_string (node, FALSE);
  fputs (quoted, stdout);
}

gchar *
tool_format_float (gfloat value)
{
  GString *text = g_string_new (NULL);

  cnn_string_append_float (text, value);
  return g_string_free (text, FALSE);
}

gchar *
tool_thousands (guint64 value)
{
  g_autofree gchar *digits = g_strdup_printf ("%" G_GUINT64_FORMAT, value);
  GString *out = g_string_new (NULL);
  gsize len = strlen (digits);

  for (gsize i = 0; i < len; i++) {
    if (i > 0 && (len - i) % 3 == 0)
      g_string_append_c (out, ',');
    g_string_append_c (out, digits[i]);
  }
  return g_string_free (out, FALSE);
}

/* @arg with a path (or an --option=path's value) by its last part: the
 * folders are the training machine's, and a model file travels. */
static gchar *
without_folders (const gchar * arg)
{
  const gchar *eq = g_str_has_prefix (arg, "--") ? strchr (arg, '=') : NULL;
  const gchar *value = eq ? eq + 1 : arg;
  g_autofree gchar *base = NULL;

  if (!strchr (value, '/'))
    return g_strdup (arg);
  base = g_path_get_basename (value);
  return eq ? g_strdup_printf ("%.*s%s", (gint) (value - arg), arg, base)
      : g_steal_pointer (&base);
}

gchar *
tool_command_line (int argc, char **argv)
{
  GString *line = g_string_new ("cnn");

  for (int i = 0; i < argc; i++) {
    g_autofree gchar *arg = without_folders (argv[i]);
    gboolean plain = *arg != '\0';

    for (const gchar * p = arg; *p && plain; p++)
      plain = g_ascii_isalnum (*p) || strchr ("-_./=,:+@%", *p);
    g_string_append_c (line, ' ');
    if (plain) {
      g_string_append (line, arg);
    } else {
      g_autofree gchar *quoted = g_shell_quote (arg);
      g_string_append (line, quoted);
    }
  }
  return g_string_free (line, FALSE);
}

/* What makes two names one file: its device and inode when it exists,
 * else its folder's real path and its name (two outputs not yet
 * written can still be one). */
gchar *
tool_file_identity (const gchar * path)
{
  g_autofree gchar *dir = g_path_get_dirname (path);
  g_autofree gchar *base = g_path_get_basename (path);
  g_autofree gchar *real_dir = NULL;
  struct stat st;

  if (stat (path, &st) == 0)
    return g_strdup_printf ("inode %" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT,
        (guint64) st.st_dev, (guint64) st.st_ino);
  real_dir = realpath (dir, NULL);
  return g_strdup_printf ("name %s/%s", real_dir ? real_dir : dir, base);
}

gboolean
tool_check_writable (const gchar * path, GError ** error)
{
  g_autofree gchar *dir = g_path_get_dirname (path);
  g_autofree gchar *probe = g_build_filename (dir, ".cnn-write-test-XXXXXX",
      NULL);
  int fd;

  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_IO,
        "%s: is a directory, not a file name", path);
    return FALSE;
  }
  fd = g_mkstemp (probe);
  if (fd < 0) {
    int saved = errno;

    g_set_error (error, CNN_ERROR, CNN_ERROR_IO,
        "%s: cannot write in directory '%s': %s", path, dir,
        g_strerror (saved));
    return FALSE;
  }
  close (fd);
  g_unlink (probe);
  return TRUE;
}

/* ---- data ---------------------------------------------------------- */

static gboolean
parse_channel_values (const gchar * word, const gchar * value, guint channels,
    gboolean positive, gfloat out[3], GError ** error)
{
  g_auto (GStrv) parts = g_strsplit (value, ",", -1);
  guint n = g_strv_length (parts);

  if (n != 1 && n != channels)
    goto bad;
  for (guint i = 0; i < 3; i++) {
    gdouble v;

    if (!tool_parse_double ("", parts[MIN (i, n - 1)], positive ? 1e-30 :
            -1e30, 1e30, &v, NULL))
      goto bad;
    out[i] = (gfloat) v;
  }
  return TRUE;

bad:
  g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
      "preprocess: '%s' needs one number%s, or %u separated by commas",
      word, positive ? " > 0" : "", channels);
  return FALSE;
}

gboolean
tool_normalisation_parse (const gchar * preprocess, guint channels,
    ToolNormalisation * norm, GError ** error)
{
  g_auto (GStrv) words = g_strsplit_set (preprocess ? preprocess : "",
      " \t\r\n", -1);

  for (guint c = 0; c < 3; c++) {
    norm->mean[c] = 0.0f;
    norm->std[c] = 1.0f;
  }
  for (guint i = 0; words[i]; i++) {
    if (g_str_has_prefix (words[i], "mean=")
        && !parse_channel_values (words[i], words[i] + 5, channels, FALSE,
            norm->mean, error))
      return FALSE;
    if (g_str_has_prefix (words[i], "std=")
        && !parse_channel_values (words[i], words[i] + 4, channels, TRUE,
            norm->std, error))
      return FALSE;
  }
  return TRUE;
}

/* bytes (n) → floats in 0..1 (n) */
void
tool_sample_to_unit (const guint8 * pixels, gsize n, gfloat * out)
{
  for (gsize i = 0; i < n; i++)
    out[i] = pixels[i] / 255.0f;
}

/* x (C×H×W) → (x - mean[c]) / std[c] */
void
tool_sample_normalise (gfloat * x, CnnShape shape,
    const ToolNormalisation * norm)
{
  gsize plane = (gsize) shape.h * shape.w;

  for (guint c = 0; c < shape.c; c++) {
    gfloat mean = norm->mean[MIN (c, 2)], std = norm->std[MIN (c, 2)];

    if (mean == 0.0f && std == 1.0f)
      continue;
    for (gsize i = 0; i < plane; i++)
      x[c * plane + i] = (x[c * plane + i] - mean) / std;
  }
}

gboolean
tool_check_labels (const CnnDataset * ds, const gchar * labels_path,
    guint n_classes, GError ** error)
{
  for (guint i = 0; i < ds->n; i++) {
    if (ds->labels[i] >= n_classes) {
      /* Labels follow the 8-byte header of a 1-dimensional IDX file. */
      g_set_error (error, CNN_ERROR, CNN_ERROR_DATASET,
          "%s: label %u of sample %u (byte offset %" G_GUINT64_FORMAT
          ") is not below the model's %u classes", labels_path,
          ds->labels[i], i, (guint64) i + 8, n_classes);
      return FALSE;
    }
  }
  return TRUE;
}

CnnDataset *
tool_dataset_head (const CnnDataset * ds, guint n)
{
  CnnDataset *head = g_new0 (CnnDataset, 1);
  gsize sample = cnn_shape_size (ds->shape);

  n = MIN (n, ds->n);
  head->n = n;
  head->shape = ds->shape;
  head->pixels = g_memdup2 (ds->pixels, sample * n);
  if (ds->labels)
    head->labels = g_memdup2 (ds->labels, sizeof (guint) * n);
  return head;
}

void
tool_evaluate (CnnNetwork * net, const CnnDataset * ds, guint first,
    guint count, const ToolNormalisation * norm, guint * confusion,
    ToolScores * scores)
{
  guint max_batch = cnn_network_max_batch (net);
  guint n_classes = (guint) cnn_shape_size (cnn_network_output_shape (net));
  gsize sample = cnn_shape_size (ds->shape);
  g_autofree gfloat *input = g_new (gfloat, sample * max_batch);
  gdouble loss = 0.0;

  memset (scores, 0, sizeof (*scores));
  for (guint start = first; start < first + count; start += max_batch) {
    guint batch = MIN (max_batch, first + count - start);
    const gfloat *out;

    for (guint i = 0; i < batch; i++) {
      gfloat *x = input + i * sample;

      tool_sample_to_unit (ds->pixels + (gsize) (start + i) * sample, sample,
          x);
      tool_sample_normalise (x, ds->shape, norm);
    }
    out = cnn_network_forward (net, input, batch);
    for (guint i = 0; i < batch; i++) {
      gfloat *p = (gfloat *) out + (gsize) i * n_classes;
      guint truth = ds->labels[start + i];
      guint guess;

      /* As cnnclassify reads them (in place: the network's output is
       * not read again). */
      cnn_network_probabilities (net, p, p);
      guess = cnn_argmax (p, n_classes);
      loss -= log (MAX (p[truth], 1e-30f));
      scores->correct += guess == truth;
      if (confusion)
        confusion[(gsize) truth * n_classes + guess]++;
    }
  }
  scores->n = count;
  scores->loss = count ? loss / count : 0.0;
}

/* The tool parallelises through libcnn's own threads (--threads), and
 * an OpenBLAS starting threads of its own inside each of them would
 * oversubscribe the cores.  The process is the tool's, so it pins
 * OpenBLAS to one thread, which libcnn, a guest in other programs'
 * processes, never does. */
void
tool_pin_blas_threads (void)
{
  openblas_set_num_threads (1);
}
