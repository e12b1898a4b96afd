/* cnn eval: a model's accuracy on an IDX dataset, its confusion matrix
 * and per-class precision and recall, as text or one JSON object. */
#include "tool.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct
{
  const CnnModel *model;
  guint n_classes;
  guint *confusion;             /* n_classes × n_classes, true × predicted */
  ToolScores scores;
} EvalResult;

static guint
predicted_as (const EvalResult * r, guint c)
{
  guint n = 0;

  for (guint t = 0; t < r->n_classes; t++)
    n += r->confusion[(gsize) t * r->n_classes + c];
  return n;
}

static guint
support (const EvalResult * r, guint c)
{
  guint n = 0;

  for (guint p = 0; p < r->n_classes; p++)
    n += r->confusion[(gsize) c * r->n_classes + p];
  return n;
}

/* NAN when the class was never predicted / never present. */
static gdouble
precision (const EvalResult * r, guint c)
{
  guint n = predicted_as (r, c);

  return n ? (gdouble) r->confusion[(gsize) c * r->n_classes + c] / n : NAN;
}

static gdouble
recall (const EvalResult * r, guint c)
{
  guint n = support (r, c);

  return n ? (gdouble) r->confusion[(gsize) c * r->n_classes + c] / n : NAN;
}

static void
print_percent (gdouble v)
{
  if (isfinite (v))
    printf (" %9.2f%%", 100.0 * v);
  else
    printf (" %10s", "-");
}

static void
print_text (const EvalResult * r)
{
  guint n = r->n_classes, width = 5, label_width = 5;

  printf ("accuracy: %.2f%% (%u/%u)\n", 100.0 * r->scores.correct /
      MAX (r->scores.n, 1), r->scores.correct, r->scores.n);
  printf ("loss: %.4f (mean cross-entropy)\n\n", r->scores.loss);

  for (guint c = 0; c < n; c++)
    label_width = MAX (label_width,
        (guint) g_utf8_strlen (cnn_model_label (r->model, c), -1));
  label_width = MIN (label_width, 24);
  for (guint v = r->scores.n; v >= 10000; v /= 10)
    width++;                    /* one space more than the largest count */

  printf ("confusion matrix (rows: true class, columns: predicted class)\n");
  printf ("%*s", label_width + 6, "");
  for (guint p = 0; p < n; p++)
    printf ("%*u", width, p);
  printf ("\n");
  for (guint t = 0; t < n; t++) {
    printf ("%4u %-*.*s ", t, label_width, label_width,
        cnn_model_label (r->model, t));
    for (guint p = 0; p < n; p++)
      printf ("%*u", width, r->confusion[(gsize) t * n + p]);
    printf ("\n");
  }

  printf ("\n%4s %-*s %10s %10s %8s\n", "", label_width, "class",
      "precision", "recall", "support");
  for (guint c = 0; c < n; c++) {
    printf ("%4u %-*.*s", c, label_width, label_width,
        cnn_model_label (r->model, c));
    print_percent (precision (r, c));
    print_percent (recall (r, c));
    printf (" %8u\n", support (r, c));
  }
}

/* The JSON is printed as it goes rather than built as a tree: json-glib
 * spends some 100 bytes per value, and the confusion matrix of a model
 * with thousands of classes has millions of them. */
static void
print_json_member (const gchar * name, const gchar * text, gboolean last)
{
  printf ("  \"%s\": ", name);
  tool_print_json_string (text);
  printf (last ? "\n" : ",\n");
}

static void
print_number_or_null (gdouble v)
{
  g_autofree gchar *text = isfinite (v) ? tool_format_double (v) : NULL;

  fputs (text ? text : "null", stdout);
}

static void
print_json (const EvalResult * r, const gchar * model_path,
    const gchar * images_path, const gchar * labels_path)
{
  guint n = r->n_classes;

  printf ("{\n");
  print_json_member ("model", model_path, FALSE);
  print_json_member ("images", images_path, FALSE);
  print_json_member ("labels", labels_path, FALSE);
  printf ("  \"accuracy\": ");
  print_number_or_null ((gdouble) r->scores.correct / MAX (r->scores.n, 1));
  printf (",\n  \"correct\": %u,\n  \"total\": %u,\n  \"loss\": ",
      r->scores.correct, r->scores.n);
  print_number_or_null (r->scores.loss);
  printf (",\n  \"confusion\": [");
  for (guint t = 0; t < n; t++) {
    printf ("%s\n    [", t ? "," : "");
    for (guint p = 0; p < n; p++)
      printf (p ? ", %u" : "%u", r->confusion[(gsize) t * n + p]);
    printf ("]");
  }
  printf ("\n  ],\n  \"classes\": [");
  for (guint c = 0; c < n; c++) {
    printf ("%s\n    {\"label\": ", c ? "," : "");
    tool_print_json_string (cnn_model_label (r->model, c));
    printf (", \"precision\": ");
    print_number_or_null (precision (r, c));
    printf (", \"recall\": ");
    print_number_or_null (recall (r, c));
    printf (", \"support\": %u}", support (r, c));
  }
  printf ("\n  ]\n}\n");
}

/* The n × n confusion matrix, within the memory limit. */
static gboolean
alloc_confusion (EvalResult * r, const gchar * model_path, GError ** error)
{
  guint64 bytes = (guint64) r->n_classes * r->n_classes * sizeof (guint);
  g_autofree gchar *what = g_strdup_printf ("%s: the confusion matrix of "
      "its %u classes", model_path, r->n_classes);

  if (!cnn_memory_check (bytes, 0, what, error))
    return FALSE;
  r->confusion = g_try_malloc0 (bytes);
  if (!r->confusion) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM, "%s: cannot allocate",
        what);
    return FALSE;
  }
  return TRUE;
}

int
tool_eval (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *threads_text = NULL, *batch_text = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    {"json", 'j', 0, G_OPTION_ARG_NONE, &json,
        "Print one JSON object instead of text", NULL},
    {"threads", 't', 0, G_OPTION_ARG_STRING, &threads_text,
        "Threads (default: the number of cores)", "N"},
    {"batch", 'b', 0, G_OPTION_ARG_STRING, &batch_text,
        "Images per forward pass (default 256)", "N"},
    {NULL}
  };
  guint64 threads = MAX (1, MIN (64, g_get_num_processors ())), batch = 256;
  CnnModel *model = NULL;
  CnnDataset *ds = NULL;
  CnnNetwork *net;
  EvalResult r = { 0 };
  ToolNormalisation norm;
  int status = TOOL_EXIT_USAGE;

  context = g_option_context_new ("MODEL IMAGES LABELS");
  g_option_context_set_summary (context, "Scores a model on an IDX dataset: "
      "the first line reads 'accuracy: 99.31% (9931/10000)', then come the "
      "confusion matrix and per-class precision and recall.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!tool_parse_options (context, "eval", &argc, &argv))
    return TOOL_EXIT_USAGE;
  if (argc != 4) {
    tool_complain ("eval", "needs MODEL IMAGES LABELS");
    return TOOL_EXIT_USAGE;
  }
  if ((threads_text && !tool_parse_uint ("--threads", threads_text, 1, 64,
              &threads, &error))
      || (batch_text && !tool_parse_uint ("--batch", batch_text, 1, 65536,
              &batch, &error)))
    goto failed;

  model = cnn_model_load (argv[1], &error);
  if (!model)
    goto failed;
  net = cnn_model_network (model);
  ds = cnn_dataset_load_idx (argv[2], argv[3], &error);
  if (!ds)
    goto failed;
  if (!tool_shape_equal (ds->shape, cnn_network_input_shape (net))) {
    g_autofree gchar *have = cnn_shape_to_string (ds->shape);
    g_autofree gchar *want = cnn_shape_to_string
        (cnn_network_input_shape (net));

    g_set_error (&error, CNN_ERROR, CNN_ERROR_DATASET,
        "%s: images are %s but the model %s takes %s", argv[2], have,
        argv[1], want);
    goto failed;
  }
  r.model = model;
  r.n_classes = (guint) cnn_shape_size (cnn_network_output_shape (net));
  if (!tool_check_labels (ds, argv[3], r.n_classes, &error)
      || !tool_normalisation_parse (cnn_model_get_metadata (model,
              "preprocess"), ds->shape.c, &norm, &error)
      || !alloc_confusion (&r, argv[1], &error))
    goto failed;

  status = TOOL_EXIT_FAILURE;
  cnn_network_set_threads (net, (guint) threads);
  if (!cnn_network_reserve (net, (guint) MIN (batch, ds->n), &error))
    goto failed;
  tool_evaluate (net, ds, 0, ds->n, &norm, r.confusion, &r.scores);
  if (json)
    print_json (&r, argv[1], argv[2], argv[3]);
  else
    print_text (&r);
  status = TOOL_EXIT_OK;
  goto done;

failed:
  tool_complain ("eval", "%s", error->message);
done:
  g_free (r.confusion);
  cnn_dataset_free (ds);
  cnn_model_free (model);
  return status;
}
