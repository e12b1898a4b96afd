/* cnnclassify mode=number in a real pipeline: "4 7 0" drawn in dark ink
 * on white video (textoverlay) must come out as three digits in reading
 * order, each with a classification meta whose box holds its ink, a
 * reading meta with the text, and a message whose number fields say the
 * same as the metas; inference-region=roi-list with mode=number is
 * refused with an error saying so. */
#include "test-common.h"

#include <gst/check/gstcheck.h>
#include <gst/cnn/cnnmeta.h>

#define DRAWN "4 7 0"
#define READ "470"

/* What the sink saw: the metas of its one buffer. */
typedef struct
{
  guint n_digits;
  GstCnnClassificationMeta digits[8];
  gboolean has_reading;
  gchar text[GST_CNN_READING_META_MAX_TEXT + 1];
  guint reading_n_digits;
} SeenMetas;

static GstPadProbeReturn
log_metas (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  SeenMetas *seen = data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  GstCnnReadingMeta *reading = gst_buffer_get_cnn_reading_meta (buffer);
  gpointer state = NULL;
  GstMeta *m;

  while ((m = gst_buffer_iterate_meta_filtered (buffer, &state,
              GST_CNN_CLASSIFICATION_META_API_TYPE))
      && seen->n_digits < G_N_ELEMENTS (seen->digits))
    seen->digits[seen->n_digits++] = *(GstCnnClassificationMeta *) m;
  if (reading) {
    seen->has_reading = TRUE;
    seen->reading_n_digits = reading->n_digits;
    g_strlcpy (seen->text, gst_cnn_reading_meta_get_text (reading),
        sizeof seen->text);
  }
  return GST_PAD_PROBE_OK;
}

static GstElement *
number_pipeline (const gchar * classify_props)
{
  gchar *launch = g_strdup_printf ("videotestsrc pattern=white "
      "num-buffers=1 ! video/x-raw,format=I420,width=640,height=480 "
      "! textoverlay text=\"" DRAWN "\" font-desc=\"Sans Bold 90\" "
      "color=0xff1a1a1a draw-shadow=false draw-outline=false "
      "valignment=center halignment=center ! cnnclassify mode=number %s "
      "! fakesink name=sink", classify_props);
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch (launch, &err);

  fail_unless (pipeline != NULL, "%s: %s", launch, err ? err->message : "");
  g_free (launch);
  return pipeline;
}

/* Runs @pipeline to EOS; its one cnn-classification message. */
static GstStructure *
run_for_message (GstElement * pipeline)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstStructure *found = NULL;
  gboolean done = FALSE;

  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE);
  while (!done) {
    GstMessage *msg = gst_bus_timed_pop (bus, 30 * GST_SECOND);
    const GstStructure *s;

    fail_unless (msg != NULL, "no EOS within 30 s");
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *error = NULL;

      gst_message_parse_error (msg, &error, NULL);
      fail ("%s", error->message);
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
      done = TRUE;
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT
        && (s = gst_message_get_structure (msg))
        && gst_structure_has_name (s, "cnn-classification")) {
      fail_unless (found == NULL, "one message for one frame");
      found = gst_structure_copy (s);
    }
    gst_message_unref (msg);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  fail_unless (found != NULL, "no cnn-classification message");
  return found;
}

static guint
array_uint (const GValue * array, guint i, guint k)
{
  return g_value_get_uint (gst_value_array_get_value
      (gst_value_array_get_value (array, i), k));
}

GST_START_TEST (test_reads_number)
{
  GstElement *pipeline = number_pipeline ("");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  GstPad *pad = gst_element_get_static_pad (sink, "sink");
  SeenMetas seen = { 0 };
  const GValue *ids, *confidences, *rois;
  GstStructure *s;
  guint n;
  gint class_id;

  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, log_metas, &seen, NULL);
  s = run_for_message (pipeline);

  /* The metas: a digit each, in reading order, and the text. */
  fail_unless_equals_int (seen.n_digits, 3);
  fail_unless (seen.has_reading);
  fail_unless_equals_string (seen.text, READ);
  fail_unless_equals_int (seen.reading_n_digits, 3);
  for (guint i = 0; i < 3; i++) {
    const GstCnnClassificationMeta *d = &seen.digits[i];

    fail_unless_equals_int (d->class_id, READ[i] - '0');
    fail_unless_equals_int (d->n_classes, 10);
    fail_unless (d->input_width == 28 && d->input_height == 28);
    /* The ink of a 90-point glyph, in the middle band of the frame. */
    fail_unless (d->roi_height >= 60 && d->roi_height <= 130);
    fail_unless (d->roi_y >= 120 && d->roi_y + d->roi_height <= 360);
    if (i > 0)
      fail_unless (d->roi_x >= seen.digits[i - 1].roi_x
          + seen.digits[i - 1].roi_width, "digit %u overlaps the one "
          "before it", i);
  }

  /* The message says the same. */
  fail_unless_equals_string (gst_structure_get_string (s, "text"), READ);
  fail_unless (gst_structure_get_uint (s, "n-digits", &n));
  fail_unless_equals_int (n, 3);
  fail_unless (gst_structure_get_int (s, "class-id", &class_id));
  fail_unless_equals_int (class_id, -1);
  fail_unless_equals_int (gst_value_array_get_size (gst_structure_get_value
          (s, "probabilities")), 0);
  ids = gst_structure_get_value (s, "class-ids");
  confidences = gst_structure_get_value (s, "confidences");
  rois = gst_structure_get_value (s, "rois");
  fail_unless (ids && confidences && rois);
  fail_unless_equals_int (gst_value_array_get_size (ids), 3);
  fail_unless_equals_int (gst_value_array_get_size (confidences), 3);
  fail_unless_equals_int (gst_value_array_get_size (rois), 3);
  for (guint i = 0; i < 3; i++) {
    const GstCnnClassificationMeta *d = &seen.digits[i];

    fail_unless_equals_int (g_value_get_int (gst_value_array_get_value (ids,
                i)), d->class_id);
    fail_unless_equals_float (g_value_get_double (gst_value_array_get_value
            (confidences, i)), d->confidence);
    fail_unless_equals_int (array_uint (rois, i, 0), d->roi_x);
    fail_unless_equals_int (array_uint (rois, i, 1), d->roi_y);
    fail_unless_equals_int (array_uint (rois, i, 2), d->roi_width);
    fail_unless_equals_int (array_uint (rois, i, 3), d->roi_height);
  }

  gst_structure_free (s);
  gst_object_unref (pad);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_refuses_roi_list)
{
  GstElement *pipeline = number_pipeline ("inference-region=roi-list");
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;
  GError *error = NULL;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND, GST_MESSAGE_ERROR
      | GST_MESSAGE_EOS);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR,
      "mode=number with inference-region=roi-list ran");
  gst_message_parse_error (msg, &error, NULL);
  fail_unless (strstr (error->message, "roi-list") != NULL, "%s",
      error->message);
  g_error_free (error);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

GST_END_TEST;

static void
load_plugins (void)
{
  test_load_system_plugin ("coreelements");
  test_load_system_plugin ("videotestsrc");
  test_load_system_plugin ("pango");
}

static Suite *
number_mode_suite (void)
{
  Suite *s = suite_create ("number-mode");
  TCase *tc = tcase_create ("general");

  tcase_add_checked_fixture (tc, load_plugins, NULL);
  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_reads_number);
  tcase_add_test (tc, test_refuses_roi_list);
  return s;
}

GST_CHECK_MAIN (number_mode);
