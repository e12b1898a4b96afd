/* classify-app — an application embedding cnnclassify, in C.
 *
 * Draws a digit in dark ink on paper-white video (videotestsrc and
 * textoverlay; no camera, no file), classifies every frame with the
 * bundled digit model and prints each result twice: as read from the
 * buffer's GstCnnClassificationMeta in a pad probe, and as read from the
 * `cnn-classification` message on the bus:
 *
 *   meta: frame 0 pts 0 class 3 label 3 confidence 1.000 roi 40,0,240,240 probabilities 0.000,...
 *   message: frame 0 pts 0 class 3 label 3 confidence 1.000 roi 40,0,240,240 probabilities 0.000,...
 *
 * Build it against the meta library's pkg-config module:
 *
 *   cc classify-app.c -o classify-app \
 *       $(pkg-config --cflags --libs gstreamer-cnn-meta-1.0)
 *   ./classify-app --frames 5 --digit 3
 */

#include <gst/gst.h>
#include <gst/cnn/cnnmeta.h>

#include <stdlib.h>

/* The frame rate of the drawn video; frames are numbered from timestamps. */
#define APP_FPS 10

typedef struct
{
  GMainLoop *loop;
  gboolean failed;
} App;

static guint64
app_frame_number (GstClockTime timestamp)
{
  if (!GST_CLOCK_TIME_IS_VALID (timestamp))
    return G_MAXUINT64;
  return gst_util_uint64_scale_round (timestamp, APP_FPS, GST_SECOND);
}

static void
app_print_probabilities (GString * line, const gdouble * values, guint n)
{
  guint i;

  g_string_append (line, " probabilities ");
  for (i = 0; i < n; i++)
    g_string_append_printf (line, "%s%.3f", i ? "," : "", values[i]);
}

static GstPadProbeReturn
app_print_meta (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  GstCnnClassificationMeta *meta;
  GString *line;
  gdouble *probabilities;
  guint i;

  meta = gst_buffer_get_cnn_classification_meta (buffer);
  if (meta == NULL)
    return GST_PAD_PROBE_OK;

  line = g_string_new (NULL);
  g_string_append_printf (line, "meta: frame %" G_GUINT64_FORMAT " pts %"
      G_GUINT64_FORMAT " class %d label %s confidence %.3f roi %u,%u,%u,%u",
      app_frame_number (GST_BUFFER_PTS (buffer)), GST_BUFFER_PTS (buffer),
      meta->class_id, meta->label ? meta->label : "-", meta->confidence,
      meta->roi_x, meta->roi_y, meta->roi_width, meta->roi_height);
  probabilities = g_new (gdouble, meta->n_classes);
  for (i = 0; i < meta->n_classes; i++)
    probabilities[i] = meta->probabilities[i];
  app_print_probabilities (line, probabilities, meta->n_classes);
  g_string_append_printf (line, " model %s", meta->model ? meta->model : "-");
  g_print ("%s\n", line->str);

  g_free (probabilities);
  g_string_free (line, TRUE);
  return GST_PAD_PROBE_OK;
}

static void
app_print_classification (const GstStructure * s)
{
  const GValue *array = gst_structure_get_value (s, "probabilities");
  guint64 timestamp = GST_CLOCK_TIME_NONE;
  gint class_id = -1;
  gdouble confidence = 0.0;
  guint x = 0, y = 0, width = 0, height = 0;
  const gchar *label = gst_structure_get_string (s, "label");
  gdouble *probabilities = NULL;
  guint i, n = 0;
  GString *line;

  gst_structure_get (s, "timestamp", G_TYPE_UINT64, &timestamp,
      "class-id", G_TYPE_INT, &class_id, "confidence", G_TYPE_DOUBLE,
      &confidence, "roi-x", G_TYPE_UINT, &x, "roi-y", G_TYPE_UINT, &y,
      "roi-width", G_TYPE_UINT, &width, "roi-height", G_TYPE_UINT, &height,
      NULL);
  if (array != NULL && GST_VALUE_HOLDS_ARRAY (array)) {
    n = gst_value_array_get_size (array);
    probabilities = g_new (gdouble, n);
    for (i = 0; i < n; i++)
      probabilities[i] =
          g_value_get_double (gst_value_array_get_value (array, i));
  }

  line = g_string_new (NULL);
  g_string_append_printf (line, "message: frame %" G_GUINT64_FORMAT " pts %"
      G_GUINT64_FORMAT " class %d label %s confidence %.3f roi %u,%u,%u,%u",
      app_frame_number (timestamp), timestamp, class_id,
      label && *label ? label : "-", confidence, x, y, width, height);
  app_print_probabilities (line, probabilities, n);
  g_print ("%s\n", line->str);

  g_free (probabilities);
  g_string_free (line, TRUE);
}

static gboolean
app_on_bus_message (GstBus * bus, GstMessage * message, gpointer user_data)
{
  App *app = user_data;
  const GstStructure *s;

  switch (GST_MESSAGE_TYPE (message)) {
    case GST_MESSAGE_ELEMENT:
      s = gst_message_get_structure (message);
      if (gst_structure_has_name (s, "cnn-classification"))
        app_print_classification (s);
      break;
    case GST_MESSAGE_ERROR:{
      GError *error = NULL;
      gchar *debug = NULL;

      gst_message_parse_error (message, &error, &debug);
      g_printerr ("classify-app: error from %s: %s\n%s\n",
          GST_OBJECT_NAME (GST_MESSAGE_SRC (message)), error->message,
          debug ? debug : "");
      g_clear_error (&error);
      g_free (debug);
      app->failed = TRUE;
      g_main_loop_quit (app->loop);
      break;
    }
    case GST_MESSAGE_EOS:
      g_main_loop_quit (app->loop);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* A white 320×240 video with @digit drawn in the middle in dark ink, as
 * a pen on paper would; the classifier's default region is the centred
 * square. */
static GstElement *
app_build_pipeline (guint frames, const gchar * digit, GError ** error)
{
  gchar *description;
  GstElement *pipeline, *ink;

  description = g_strdup_printf ("videotestsrc pattern=white num-buffers=%u "
      "! video/x-raw,format=I420,width=320,height=240,framerate=%d/1 "
      "! textoverlay name=ink font-desc=\"Sans Bold 110\" "
      "auto-resize=false color=0xff1a1a1a draw-shadow=false "
      "draw-outline=false valignment=center halignment=center "
      "! cnnclassify name=classify ! fakesink", frames, APP_FPS);
  pipeline = gst_parse_launch_full (description, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, error);
  g_free (description);
  if (pipeline == NULL)
    return NULL;

  /* Set as a property, so that no quoting of the text is needed. */
  ink = gst_bin_get_by_name (GST_BIN (pipeline), "ink");
  g_object_set (ink, "text", digit, NULL);
  gst_object_unref (ink);
  return pipeline;
}

int
main (int argc, char *argv[])
{
  gint frames = 5;
  gchar *digit = NULL;
  GOptionEntry entries[] = {
    {"frames", 'n', 0, G_OPTION_ARG_INT, &frames,
        "Frames to classify (default 5)", "N"},
    {"digit", 'd', 0, G_OPTION_ARG_STRING, &digit,
        "Text drawn on the frames (default 3)", "TEXT"},
    {NULL}
  };
  GOptionContext *context;
  GError *error = NULL;
  GstElement *pipeline, *classify;
  GstPad *pad;
  GstBus *bus;
  App app = { NULL, FALSE };

  context = g_option_context_new ("- classify a drawn digit with cnnclassify");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, &argc, &argv, &error))
    goto bad_usage;
  g_option_context_free (context);
  if (frames < 1) {
    g_printerr ("classify-app: --frames must be at least 1\n");
    return 2;
  }

  pipeline = app_build_pipeline (frames, digit ? digit : "3", &error);
  g_free (digit);
  if (pipeline == NULL)
    goto no_pipeline;

  classify = gst_bin_get_by_name (GST_BIN (pipeline), "classify");
  pad = gst_element_get_static_pad (classify, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, app_print_meta, NULL,
      NULL);
  gst_object_unref (pad);
  gst_object_unref (classify);

  app.loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (pipeline);
  gst_bus_add_watch (bus, app_on_bus_message, &app);

  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    /* Print the error the failing element posted, then give up. */
    while (g_main_context_iteration (NULL, FALSE));
    app.failed = TRUE;
  } else {
    g_main_loop_run (app.loop);
  }

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_bus_remove_watch (bus);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_main_loop_unref (app.loop);
  return app.failed ? 1 : 0;

  /* ERRORS */
bad_usage:
  {
    g_printerr ("classify-app: %s\n", error->message);
    g_clear_error (&error);
    g_option_context_free (context);
    return 2;
  }
no_pipeline:
  {
    g_printerr ("classify-app: cannot build the pipeline: %s\n"
        "(is the cnnclassify plugin on GST_PLUGIN_PATH?)\n", error->message);
    g_clear_error (&error);
    return 1;
  }
}
