/* cnn predict: classifies pictures, one line each: "path label confidence".
 *
 * Each picture is prepared the way the model's "preprocess" says, by the
 * same libcnn code cnnclassify uses on video frames, with the whole
 * picture as the region.  A picture that cannot be read is reported on
 * stderr and the others are still classified; the exit status is then 2. */
#include "picture.h"
#include "tool.h"

#include <stdio.h>

static gboolean
classify (CnnModel * model, CnnPreprocessor * pre, gfloat * input,
    const gchar * path, GError ** error)
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

    printf ("%s %s %.4f\n", path, cnn_model_label (model, best), p[best]);
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
  int status = TOOL_EXIT_USAGE;

  context = g_option_context_new ("MODEL IMAGE...");
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
    if (!classify (model, pre, input, argv[i], &error)) {
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
