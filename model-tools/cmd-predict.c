/* cnn predict: classifies pictures, one line each: "path label confidence",
 * or with --json one JSON object (path, class_id, label, confidence,
 * probabilities: the names of the element's meta and of cnnpublish).
 *
 * Each picture is prepared the way the model's "preprocess" says, by the
 * same libcnn code cnnclassify uses on video frames, with the whole
 * picture as the region.  A picture that cannot be read is reported on
 * stderr and the others are still classified; the exit status is then 2. */
#include "picture.h"
#include "tool.h"

#include <math.h>
#include <stdio.h>

static void
print_json_float (gfloat value)
{
  g_autofree gchar *text = isfinite (value) ? tool_format_float (value) :
      NULL;

  fputs (text ? text : "null", stdout);
}

/* One line: class -1, no label and all-zero probabilities when there
 * was nothing to classify, as cnnclassify's meta says it. */
static void
print_json_result (const gchar * path, gint class_id, const gchar * label,
    const gfloat * p, guint n)
{
  fputs ("{\"path\":", stdout);
  tool_print_json_string (path);
  printf (",\"class_id\":%d,\"label\":", class_id);
  tool_print_json_string (label);
  fputs (",\"confidence\":", stdout);
  print_json_float (class_id >= 0 ? p[class_id] : 0.0f);
  fputs (",\"probabilities\":[", stdout);
  for (guint i = 0; i < n; i++) {
    if (i > 0)
      putchar (',');
    print_json_float (p ? p[i] : 0.0f);
  }
  fputs ("]}\n", stdout);
}

static gboolean
classify (CnnModel * model, CnnPreprocessor * pre, gfloat * input,
    const gchar * path, gboolean json, GError ** error)
{
  CnnNetwork *net = cnn_model_network (model);
  guint n = (guint) cnn_shape_size (cnn_network_output_shape (net));
  Picture pic;
  CnnImage image;
  CnnRect roi;
  gboolean ink;

  if (!picture_load (path, &pic, error))
    return FALSE;
  picture_to_image (&pic, &image);
  roi = (CnnRect) { 0, 0, pic.width, pic.height };
  ink = cnn_preprocessor_run (pre, &image, roi, input);
  picture_clear (&pic);

  if (ink) {
    gfloat *p = (gfloat *) cnn_network_forward (net, input, 1);
    guint best;

    /* As cnnclassify reports them: a softmax when the model has none. */
    cnn_network_probabilities (net, p, p);
    best = cnn_argmax (p, n);

    if (json)
      print_json_result (path, (gint) best, cnn_model_label (model, best), p,
          n);
    else
      printf ("%s %s %.4f\n", path, cnn_model_label (model, best), p[best]);
  } else if (json) {
    print_json_result (path, -1, NULL, NULL, n);
  } else {
    /* Like cnnclassify's class -1: nothing there to classify. */
    printf ("%s - 0.0000\n", path);
  }
  fflush (stdout);
  return TRUE;
}

int
tool_predict (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gfloat *input = NULL;
  CnnModel *model = NULL;
  CnnPreprocessor *pre = NULL;
  const gchar *spec;
  gboolean json = FALSE;
  int status = TOOL_EXIT_USAGE;
  GOptionEntry entries[] = {
    {"json", 'j', 0, G_OPTION_ARG_NONE, &json,
        "One JSON object per line and picture: path, class_id (-1: nothing "
          "to classify), label (null then), confidence, probabilities", NULL},
    {NULL}
  };

  context = g_option_context_new ("MODEL IMAGE...");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context, "Classifies PNG, PGM (P5) or PPM "
      "(P6) pictures, printing one line per picture: path, label, "
      "confidence (\"-\" and 0 when there is nothing to classify).");
  if (!tool_parse_options (context, "predict", &argc, &argv))
    return TOOL_EXIT_USAGE;
  if (argc < 3) {
    tool_complain ("predict", "needs MODEL and at least one IMAGE");
    return TOOL_EXIT_USAGE;
  }

  model = cnn_model_load (argv[1], &error);
  if (!model)
    goto failed;
  spec = cnn_model_get_metadata (model, "preprocess");
  pre = cnn_preprocessor_new (spec ? spec : "resize",
      cnn_network_input_shape (cnn_model_network (model)), &error);
  if (!pre)
    goto failed;
  /* The network's memory check counted it. */
  input = g_try_new (gfloat,
      cnn_shape_size (cnn_network_input_shape (cnn_model_network (model))));
  if (!input) {
    g_set_error (&error, CNN_ERROR, CNN_ERROR_NOMEM, "%s: cannot "
        "allocate the model's input", argv[1]);
    goto failed;
  }

  status = TOOL_EXIT_OK;
  for (int i = 2; i < argc; i++) {
    if (!classify (model, pre, input, argv[i], json, &error)) {
      tool_complain ("predict", "%s", error->message);
      g_clear_error (&error);
      status = TOOL_EXIT_USAGE;
    }
  }
  goto done;

failed:
  tool_complain ("predict", "%s", error->message);
done:
  cnn_preprocessor_free (pre);
  cnn_model_free (model);
  return status;
}
