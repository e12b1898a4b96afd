/* gst-check tests of cnnclassify's watch-model: a model file replaced
 * while the element runs (as cnn_model_save and `cnn train -o` replace
 * it: a temporary file renamed over it) is taken into use between two
 * frames; a bad replacement posts a warning and the model in use stays;
 * without watch-model nothing changes. */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <gst/cnn/cnnmeta.h>
#include <glib/gstdio.h>

#include "test-common.h"

#include <string.h>

#define ARCH "flatten, dense 2, softmax"
/* Long enough for a loaded machine; the watch settles in 150 ms. */
#define PATIENCE_US (20 * G_USEC_PER_SEC)

static gchar *tmp_dir, *model_path;

static void
dir_setup (void)
{
  tmp_dir = g_dir_make_tmp ("test-watch-model-XXXXXX", NULL);
  fail_unless (tmp_dir != NULL);
  model_path = g_build_filename (tmp_dir, "model.safetensors", NULL);
}

static void
dir_teardown (void)
{
  GDir *dir = g_dir_open (tmp_dir, 0, NULL);
  const gchar *name;

  while (dir && (name = g_dir_read_name (dir))) {
    gchar *path = g_build_filename (tmp_dir, name, NULL);

    g_unlink (path);
    g_free (path);
  }
  if (dir)
    g_dir_close (dir);
  g_rmdir (tmp_dir);
  g_free (model_path);
  g_free (tmp_dir);
}

/* The model file, replaced as cnn_model_save does: whole, by a rename. */
static void
save_named (const gchar * name, guint64 seed)
{
  g_free (test_save_model (tmp_dir, "model.safetensors", ARCH, "1x8x8",
          seed, NULL, name));
}

static GstHarness *
start_watching (gboolean watch)
{
  GstElement *element = test_classify_new (model_path);
  GstHarness *h;
  GstVideoInfo info;

  g_object_set (element, "watch-model", watch, "post-messages", FALSE,
      NULL);
  h = gst_harness_new_with_element (element, "sink", "src");
  gst_object_unref (element);
  test_video_info (&info, "GRAY8", 8, 8);
  gst_harness_set_src_caps (h, gst_video_info_to_caps (&info));
  return h;
}

/* The model name on the meta of one frame pushed through. */
static gchar *
model_of_next_frame (GstHarness * h)
{
  GstBuffer *in = gst_harness_create_buffer (h, 64);
  GstBuffer *out;
  GstCnnClassificationMeta *meta;
  gchar *name;

  gst_buffer_memset (in, 0, 0x80, 64);
  out = gst_harness_push_and_pull (h, in);
  fail_unless (out != NULL);
  meta = gst_buffer_get_cnn_classification_meta (out);
  fail_unless (meta != NULL);
  name = g_strdup (meta->model);
  gst_buffer_unref (out);
  return name;
}

/* Pushes frames until their meta names @want, for PATIENCE_US at most. */
static gboolean
wait_for_model (GstHarness * h, const gchar * want)
{
  gint64 end = g_get_monotonic_time () + PATIENCE_US;

  while (g_get_monotonic_time () < end) {
    gchar *name = model_of_next_frame (h);
    gboolean found = g_strcmp0 (name, want) == 0;

    g_free (name);
    if (found)
      return TRUE;
    g_usleep (20000);
  }
  return FALSE;
}

/* The first WARNING on @element's bus within PATIENCE_US, or NULL. */
static GstMessage *
wait_for_warning (GstElement * element)
{
  GstBus *bus = gst_element_get_bus (element);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus,
      PATIENCE_US * GST_USECOND, GST_MESSAGE_WARNING);

  gst_object_unref (bus);
  return msg;
}

GST_START_TEST (test_replaced_model_taken_into_use)
{
  GstHarness *h;
  GstMessage *msg;
  GError *err = NULL;
  gchar *bad, *name;

  save_named ("first", 1);
  h = start_watching (TRUE);
  name = model_of_next_frame (h);
  fail_unless_equals_string (name, "first");
  g_free (name);

  save_named ("second", 2);
  fail_unless (wait_for_model (h, "second"), "the new model never came");

  /* A file that is no model, renamed over it: a warning, and the model
   * in use stays. */
  bad = g_build_filename (tmp_dir, "bad.tmp", NULL);
  fail_unless (g_file_set_contents (bad, "not a model", -1, NULL));
  fail_unless (g_rename (bad, model_path) == 0);
  msg = wait_for_warning (h->element);
  fail_unless (msg != NULL, "no warning for a bad model file");
  gst_message_parse_warning (msg, &err, NULL);
  fail_unless (strstr (err->message, "model in use stays") != NULL, "%s",
      err->message);
  g_error_free (err);
  gst_message_unref (msg);
  name = model_of_next_frame (h);
  fail_unless_equals_string (name, "second");
  g_free (name);

  /* A good one again after it. */
  save_named ("third", 3);
  fail_unless (wait_for_model (h, "third"), "the model after the bad file "
      "never came");
  test_harness_teardown (h);
  g_free (bad);
}

GST_END_TEST;

/* Two instances watching one file share the model it holds (issue 13
 * item 6); replaced, it is a new model for both, each taking it up. */
GST_START_TEST (test_two_watchers_follow_the_file)
{
  GstHarness *a, *b;
  gchar *name;

  save_named ("first", 1);
  a = start_watching (TRUE);
  b = start_watching (TRUE);
  name = model_of_next_frame (a);
  fail_unless_equals_string (name, "first");
  g_free (name);
  name = model_of_next_frame (b);
  fail_unless_equals_string (name, "first");
  g_free (name);

  save_named ("second", 2);
  fail_unless (wait_for_model (a, "second"), "the first never took it");
  fail_unless (wait_for_model (b, "second"), "the second never took it");
  test_harness_teardown (a);
  test_harness_teardown (b);
}

GST_END_TEST;

/* An application answering the warning from the bus's sync handler,
 * which runs on the watch's own thread, by naming another model: the
 * element replaces that very watch from inside its callback. */
static GstBusSyncReply
answer_warning (GstBus * bus, GstMessage * msg, gpointer data)
{
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING)
    g_object_set (GST_MESSAGE_SRC (msg), "model", (const gchar *) data, NULL);
  return GST_BUS_PASS;
}

GST_START_TEST (test_sync_handler_replaces_watch)
{
  gchar *other = test_save_model (tmp_dir, "other.safetensors", ARCH,
      "1x8x8", 4, NULL, "other");
  gchar *bad = g_build_filename (tmp_dir, "bad.tmp", NULL);
  GstHarness *h;
  GstBus *bus;

  save_named ("first", 1);
  h = start_watching (TRUE);
  bus = gst_element_get_bus (h->element);
  gst_bus_set_sync_handler (bus, answer_warning, other, NULL);
  fail_unless (g_file_set_contents (bad, "not a model", -1, NULL));
  fail_unless (g_rename (bad, model_path) == 0);
  fail_unless (wait_for_model (h, "other"), "the answer was not taken");
  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
  /* The new watch follows the new file. */
  g_free (test_save_model (tmp_dir, "other.safetensors", ARCH, "1x8x8", 5,
          NULL, "other-2"));
  fail_unless (wait_for_model (h, "other-2"), "the new file is not watched");
  gst_object_unref (bus);
  test_harness_teardown (h);
  g_free (other);
  g_free (bad);
}

GST_END_TEST;

/* watch-model off (the default): the file changes, the model does not. */
GST_START_TEST (test_unwatched_model_stays)
{
  GstHarness *h;
  gchar *name;

  save_named ("first", 1);
  h = start_watching (FALSE);
  save_named ("second", 2);
  /* Ten times the watch's settling time. */
  g_usleep (1500 * 1000);
  name = model_of_next_frame (h);
  fail_unless_equals_string (name, "first");
  g_free (name);
  test_harness_teardown (h);
}

GST_END_TEST;

/* `cnn train -o` into the watched file: the trained weights are used.
 * Told apart by their results on the same frame, as the trained model
 * has the same name. */
GST_START_TEST (test_training_into_watched_file)
{
  gchar *images = g_build_filename (tmp_dir, "images.idx", NULL);
  gchar *labels = g_build_filename (tmp_dir, "labels.idx", NULL);
  guint8 image_header[16] = { 0, 0, 8, 3, 0, 0, 0, 16, 0, 0, 0, 8, 0, 0, 0,
    8
  };
  guint8 label_header[8] = { 0, 0, 8, 1, 0, 0, 0, 16 };
  GByteArray *data = g_byte_array_new ();
  gchar *argv[] = { (gchar *) CNN_TOOL, (gchar *) "train",
    (gchar *) "--train-images", images, (gchar *) "--train-labels", labels,
    (gchar *) "--arch", (gchar *) ARCH, (gchar *) "--epochs", (gchar *) "1",
    (gchar *) "--batch", (gchar *) "4", (gchar *) "--threads", (gchar *) "1",
    (gchar *) "--validation", (gchar *) "0", (gchar *) "-o", model_path,
    NULL
  };
  GError *err = NULL;
  gint status;
  GstHarness *h;
  GstBuffer *out;
  gfloat before[2];
  gint64 end;
  gboolean changed = FALSE;

  /* 16 pictures of 8x8, half dark (class 0), half light (class 1). */
  g_byte_array_append (data, image_header, sizeof image_header);
  for (guint i = 0; i < 16 * 64; i++) {
    guint8 v = (i / 64) % 2 ? 230 : 20;

    g_byte_array_append (data, &v, 1);
  }
  fail_unless (g_file_set_contents (images, (gchar *) data->data, data->len,
          NULL));
  g_byte_array_set_size (data, 0);
  g_byte_array_append (data, label_header, sizeof label_header);
  for (guint i = 0; i < 16; i++) {
    guint8 v = i % 2;

    g_byte_array_append (data, &v, 1);
  }
  fail_unless (g_file_set_contents (labels, (gchar *) data->data, data->len,
          NULL));
  g_byte_array_free (data, TRUE);

  g_free (test_save_model (tmp_dir, "model.safetensors", ARCH, "1x8x8", 7,
          NULL, "model"));
  h = start_watching (TRUE);
  out = gst_harness_create_buffer (h, 64);
  gst_buffer_memset (out, 0, 0, 64);
  out = gst_harness_push_and_pull (h, out);
  memcpy (before, gst_buffer_get_cnn_classification_meta (out)->probabilities,
      sizeof before);
  gst_buffer_unref (out);

  fail_unless (g_spawn_sync (NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL |
          G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, &err),
      "%s", err ? err->message : "");
  fail_unless (g_spawn_check_wait_status (status, NULL), "cnn train failed");

  end = g_get_monotonic_time () + PATIENCE_US;
  while (!changed && g_get_monotonic_time () < end) {
    GstBuffer *in = gst_harness_create_buffer (h, 64);
    const gfloat *p;

    gst_buffer_memset (in, 0, 0, 64);
    out = gst_harness_push_and_pull (h, in);
    p = gst_buffer_get_cnn_classification_meta (out)->probabilities;
    changed = p[0] != before[0] || p[1] != before[1];
    gst_buffer_unref (out);
    g_usleep (20000);
  }
  fail_unless (changed, "the trained weights were never used");
  test_harness_teardown (h);
  g_free (images);
  g_free (labels);
}

GST_END_TEST;

static Suite *
watch_model_suite (void)
{
  Suite *s = suite_create ("watch-model");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, dir_setup, dir_teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_replaced_model_taken_into_use);
  tcase_add_test (tc, test_two_watchers_follow_the_file);
  tcase_add_test (tc, test_sync_handler_replaces_watch);
  tcase_add_test (tc, test_unwatched_model_stays);
  tcase_add_test (tc, test_training_into_watched_file);
  return s;
}

GST_CHECK_MAIN (watch_model);
