/* gst-check tests of the cnnpublish element, in real pipelines
 * (videotestsrc ! cnnclassify ! cnnpublish location=FILE ! fakesink):
 * one JSON line per buffer with metas, read back with json-glib and
 * compared with the metas that reached the sink; nothing for buffers
 * without; strings escaped; a number read by mode=number; the buffers
 * untouched; errors for a file that cannot be opened or written. */
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>
#include <gst/cnn/cnnmeta.h>
#include <json-glib/json-glib.h>
#include <glib/gstdio.h>

#include "test-common.h"

#include <math.h>
#include <string.h>

#define SOURCE "videotestsrc num-buffers=5 pattern=white " \
  "! video/x-raw,format=GRAY8,width=64,height=48,framerate=30/1 "

#define READ_NUMBER "470"

static TestModelFile model_file;
static gchar *odd_labels_model, *out_dir;

/* Labels that JSON must escape: a quote, a backslash, a control
 * character, and UTF-8 that it must not. */
static const gchar *odd_labels[] = { "say \"hi\"", "back\\slash", "tab\there",
  "café", NULL
};

static void
models_setup (void)
{
  test_model_file_make (&model_file, "flatten, dense 4, softmax", "1x8x8", 9);
  odd_labels_model = test_save_model (model_file.dir, "odd.safetensors",
      "flatten, dense 4, softmax", "1x8x8", 9, odd_labels, NULL);
  out_dir = g_dir_make_tmp ("test-cnnpublish-XXXXXX", NULL);
  fail_unless (out_dir != NULL);
}

static void
models_teardown (void)
{
  g_unlink (odd_labels_model);
  g_free (odd_labels_model);
  test_model_file_remove (&model_file);
  g_rmdir (out_dir);
  g_free (out_dir);
}

static void
load_plugins (void)
{
  test_load_system_plugin ("coreelements");
  test_load_system_plugin ("videotestsrc");
}

/* The lines of @path, each parsed as one JSON object; NULL-terminated. */
static JsonNode **
read_lines (const gchar * path, guint * n_lines)
{
  gchar *text = NULL;
  gchar **lines;
  GPtrArray *nodes = g_ptr_array_new ();
  guint n;

  fail_unless (g_file_get_contents (path, &text, NULL, NULL), "%s", path);
  lines = g_strsplit (text, "\n", -1);
  n = g_strv_length (lines);
  /* Every line ends in a newline: the last piece is empty (or the only
   * one, of an empty file). */
  fail_unless (n == 0 || lines[n - 1][0] == '\0', "no newline at the end");
  for (guint i = 0; i + 1 < n; i++) {
    GError *err = NULL;
    JsonNode *node = json_from_string (lines[i], &err);

    fail_unless (node != NULL, "line %u: %s: %s", i, lines[i],
        err ? err->message : "empty");
    fail_unless (JSON_NODE_HOLDS_OBJECT (node), "line %u is no object", i);
    g_ptr_array_add (nodes, node);
  }
  *n_lines = nodes->len;
  g_ptr_array_add (nodes, NULL);
  g_strfreev (lines);
  g_free (text);
  return (JsonNode **) g_ptr_array_free (nodes, FALSE);
}

static void
free_lines (JsonNode ** lines)
{
  for (guint i = 0; lines[i]; i++)
    json_node_unref (lines[i]);
  g_free (lines);
}

static gchar *
out_path (const gchar * name)
{
  return g_build_filename (out_dir, name, NULL);
}

/* SOURCE ! @middle ! cnnpublish location=FILE ! fakesink: what reached
 * the sink in @log, and FILE's lines (the file is removed). */
static JsonNode **
run_publish (const gchar * middle, TestSinkLog * log, guint * n_lines)
{
  gchar *path = out_path ("out.jsonl");
  gchar *launch = g_strdup_printf (SOURCE "%s ! cnnpublish location=%s "
      "! fakesink name=sink sync=false", middle, path);
  JsonNode **lines;

  load_plugins ();
  test_run_to_sink (launch, TRUE, log);
  lines = read_lines (path, n_lines);
  g_unlink (path);
  g_free (launch);
  g_free (path);
  return lines;
}

/* The line says what the sink saw of the meta. */
static void
check_meta_object (JsonObject * o, const TestSinkBuffer * b, guint i)
{
  JsonObject *roi = json_object_get_object_member (o, "roi");

  fail_unless_equals_int (json_object_get_int_member (o, "class_id"),
      b->class_id);
  fail_unless_equals_int (json_object_get_int_member (o, "frames_ago"),
      b->frames_ago);
  fail_unless_equals_int (json_object_get_int_member (roi, "x"), b->roi_x);
  fail_unless_equals_int (json_object_get_int_member (roi, "y"), b->roi_y);
  fail_unless_equals_int (json_object_get_int_member (roi, "width"),
      b->roi_width);
  fail_unless_equals_int (json_object_get_int_member (roi, "height"),
      b->roi_height);
  fail_unless_equals_int (json_array_get_length (json_object_get_array_member
          (o, "probabilities")), 4);
  fail_unless (json_object_has_member (o, "label"), "line %u: no label", i);
  fail_unless (json_object_has_member (o, "model"), "line %u: no model", i);
}

/* interval=2: five lines, frames_ago 0 1 0 1 0, times of 30 fps. */
GST_START_TEST (test_one_line_per_buffer)
{
  gchar *classify = g_strdup_printf ("! cnnclassify model=%s "
      "roi=8,4,40,40 interval=2 threshold=0", model_file.path);
  TestSinkLog log;
  JsonNode **lines;
  guint n;

  lines = run_publish (classify, &log, &n);
  fail_unless_equals_int (n, 5);
  for (guint i = 0; i < n; i++) {
    JsonObject *o = json_node_get_object (lines[i]);
    JsonArray *metas = json_object_get_array_member (o, "metas");
    JsonObject *meta;
    gdouble p_sum = 0.0;

    fail_unless_equals_int64 (json_object_get_int_member (o, "pts"),
        gst_util_uint64_scale (i, GST_SECOND, 30));
    fail_unless_equals_int64 (json_object_get_int_member (o, "running_time"),
        gst_util_uint64_scale (i, GST_SECOND, 30));
    fail_unless_equals_int (json_array_get_length (metas), 1);
    /* Digit mode reads no number. */
    fail_unless_equals_int (json_array_get_length
        (json_object_get_array_member (o, "readings")), 0);
    meta = json_array_get_object_element (metas, 0);
    check_meta_object (meta, &log.buffers[i], i);
    fail_unless_equals_int (log.buffers[i].frames_ago, i % 2);
    for (guint c = 0; c < 4; c++)
      p_sum += json_array_get_double_element (json_object_get_array_member
          (meta, "probabilities"), c);
    fail_unless (fabs (p_sum - 1.0) < 1e-5, "line %u: sum %g", i, p_sum);
    /* threshold=0: always a class, and its label. */
    fail_unless (log.buffers[i].class_id >= 0 && log.buffers[i].label);
    fail_unless_equals_string (json_object_get_string_member (meta, "label"),
        log.buffers[i].label);
  }
  free_lines (lines);
  g_free (classify);
}

GST_END_TEST;

/* Buffers without metas write nothing; the file is there, empty. */
GST_START_TEST (test_no_meta_no_line)
{
  TestSinkLog log;
  JsonNode **lines;
  guint n;

  lines = run_publish ("", &log, &n);
  fail_unless_equals_int (log.n_buffers, 5);
  fail_unless_equals_int (n, 0);
  free_lines (lines);
}

GST_END_TEST;

/* Labels come back exactly, however JSON had to escape them. */
GST_START_TEST (test_strings_escaped)
{
  gchar *classify = g_strdup_printf ("! cnnclassify model=%s threshold=0",
      odd_labels_model);
  TestSinkLog log;
  JsonNode **lines;
  guint n;

  lines = run_publish (classify, &log, &n);
  fail_unless_equals_int (n, 5);
  for (guint i = 0; i < n; i++) {
    JsonObject *meta = json_array_get_object_element
        (json_object_get_array_member (json_node_get_object (lines[i]),
            "metas"), 0);
    gint64 class_id = json_object_get_int_member (meta, "class_id");

    fail_unless (class_id >= 0 && class_id < 4);
    fail_unless_equals_string (json_object_get_string_member (meta, "label"),
        odd_labels[class_id]);
  }
  free_lines (lines);
  g_free (classify);
}

GST_END_TEST;

/* cnnclassify mode=number (the bundled model) on "4 7 0" drawn by
 * textoverlay: the line's one reading holds the number, over the whole
 * frame, and its three digits are the metas, in reading order. */
GST_START_TEST (test_number_reading)
{
  gchar *path = out_path ("number.jsonl");
  gchar *launch = g_strdup_printf ("videotestsrc pattern=white "
      "num-buffers=1 ! video/x-raw,format=I420,width=640,height=480 "
      "! textoverlay text=\"4 7 0\" font-desc=\"Sans Bold 90\" "
      "color=0xff1a1a1a draw-shadow=false draw-outline=false "
      "valignment=center halignment=center ! cnnclassify mode=number "
      "! cnnpublish location=%s ! fakesink name=sink sync=false", path);
  TestSinkLog log;
  JsonNode **lines;
  JsonObject *o, *reading, *roi;
  JsonArray *readings, *metas;
  guint n;

  load_plugins ();
  test_load_system_plugin ("pango");
  test_run_to_sink (launch, FALSE, &log);
  lines = read_lines (path, &n);
  fail_unless_equals_int (n, 1);
  o = json_node_get_object (lines[0]);
  readings = json_object_get_array_member (o, "readings");
  metas = json_object_get_array_member (o, "metas");
  fail_unless_equals_int (json_array_get_length (readings), 1);
  reading = json_array_get_object_element (readings, 0);
  fail_unless_equals_string (json_object_get_string_member (reading, "text"),
      READ_NUMBER);
  fail_unless_equals_int (json_object_get_int_member (reading, "n_digits"),
      3);
  fail_unless_equals_int (json_object_get_int_member (reading, "frames_ago"),
      0);
  roi = json_object_get_object_member (reading, "roi");
  fail_unless_equals_int (json_object_get_int_member (roi, "width"), 640);
  fail_unless_equals_int (json_object_get_int_member (roi, "height"), 480);
  fail_unless_equals_int (json_array_get_length (metas), 3);
  for (guint i = 0; i < 3; i++) {
    const gchar want[2] = { READ_NUMBER[i], '\0' };

    fail_unless_equals_string (json_object_get_string_member
        (json_array_get_object_element (metas, i), "label"), want);
  }
  free_lines (lines);
  g_unlink (path);
  g_free (launch);
  g_free (path);
}

GST_END_TEST;

/* The frames come out as they went in. */
GST_START_TEST (test_buffers_untouched)
{
  gchar *classify = g_strdup_printf ("! cnnclassify model=%s",
      model_file.path);
  gchar *without = g_strdup_printf (SOURCE "%s ! fakesink name=sink "
      "sync=false", classify);
  TestSinkLog a, b;
  guint n;

  free_lines (run_publish (classify, &a, &n));
  test_run_to_sink (without, TRUE, &b);
  fail_unless_equals_int (a.n_buffers, b.n_buffers);
  for (guint i = 0; i < a.n_buffers; i++) {
    fail_unless_equals_string (a.buffers[i].md5, b.buffers[i].md5);
    fail_unless_equals_int (a.buffers[i].n_metas, 1);
  }
  g_free (classify);
  g_free (without);
}

GST_END_TEST;

/* Runs @launch and returns its first error's message (free it). */
static gchar *
run_to_error (const gchar * launch)
{
  GstElement *pipeline = gst_parse_launch (launch, NULL);
  GstBus *bus;
  GstMessage *msg;
  GError *err = NULL;
  gchar *text;

  fail_unless (pipeline != NULL);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR,
      "%s: no error", launch);
  gst_message_parse_error (msg, &err, NULL);
  text = g_strdup (err->message);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  return text;
}

GST_START_TEST (test_bad_locations)
{
  gchar *launch, *message;

  load_plugins ();
  /* A folder that is not there: the error names the file. */
  launch = g_strdup_printf (SOURCE "! cnnclassify model=%s ! cnnpublish "
      "location=%s/no/such/dir/out.jsonl ! fakesink", model_file.path,
      out_dir);
  message = run_to_error (launch);
  fail_unless (strstr (message, "no/such/dir/out.jsonl") != NULL
      && strstr (message, "Could not open") != NULL, "%s", message);
  g_free (message);
  g_free (launch);

  /* A full disk (/dev/full): an error at the first line, not a crash. */
  launch = g_strdup_printf (SOURCE "! cnnclassify model=%s ! cnnpublish "
      "location=/dev/full ! fakesink", model_file.path);
  message = run_to_error (launch);
  fail_unless (strstr (message, "Could not write to /dev/full") != NULL,
      "%s", message);
  g_free (message);
  g_free (launch);
}

GST_END_TEST;

/* Every state change, back and forth, opening and closing the file. */
GST_START_TEST (test_state_changes)
{
  GstElement *element = gst_element_factory_make ("cnnpublish", NULL);
  gchar *path = out_path ("states.jsonl");
  static const GstState order[] = { GST_STATE_READY, GST_STATE_PAUSED,
    GST_STATE_PLAYING, GST_STATE_PAUSED, GST_STATE_READY, GST_STATE_NULL,
    GST_STATE_PLAYING, GST_STATE_NULL
  };
  gchar *location;

  fail_unless (element != NULL);
  g_object_get (element, "location", &location, NULL);
  fail_unless_equals_string (location, "-");
  g_free (location);
  g_object_set (element, "location", path, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    fail_unless (gst_element_set_state (element, order[i])
        != GST_STATE_CHANGE_FAILURE, "to %s",
        gst_element_state_get_name (order[i]));
  fail_unless (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  gst_object_unref (element);
  g_unlink (path);
  g_free (path);
}

GST_END_TEST;

static Suite *
cnnpublish_suite (void)
{
  Suite *s = suite_create ("cnnpublish");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_unchecked_fixture (tc, models_setup, models_teardown);
  tcase_add_test (tc, test_one_line_per_buffer);
  tcase_add_test (tc, test_no_meta_no_line);
  tcase_add_test (tc, test_strings_escaped);
  tcase_add_test (tc, test_number_reading);
  tcase_add_test (tc, test_buffers_untouched);
  tcase_add_test (tc, test_bad_locations);
  tcase_add_test (tc, test_state_changes);
  return s;
}

GST_CHECK_MAIN (cnnpublish);
