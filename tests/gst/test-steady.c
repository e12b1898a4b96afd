/* gst-check tests: steady results with interval > 1, in real pipelines
 * (videotestsrc ! cnnclassify interval=3 ! ... ! fakesink).  Every
 * frame after the first classification carries the latest result, its
 * frames_ago saying how old it is; messages stay one per classified
 * frame; cnnoverlay draws the result on every frame, so it does not
 * blink. */
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>
#include <gst/cnn/cnnmeta.h>

#include "test-common.h"

#define N_FRAMES 10
#define INTERVAL 3

/* A still picture (white), so that every frame is the same and
 * any difference between two is the element's. */
#define SOURCE "videotestsrc num-buffers=10 pattern=white " \
  "! video/x-raw,format=I420,width=160,height=120,framerate=30/1 "
#define CLASSIFY "! cnnclassify model=%s roi=10,10,60,60 interval=%u "
#define SINK "! fakesink name=sink sync=false"

static TestModelFile model_file;

/* A small random model: what it answers does not matter here. */
static void
models_setup (void)
{
  test_model_file_make (&model_file, "flatten, dense 3, softmax", "1x8x8", 5);
}

static void
models_teardown (void)
{
  test_model_file_remove (&model_file);
}

static void
load_plugins (void)
{
  test_load_system_plugin ("coreelements");
  test_load_system_plugin ("videotestsrc");
}

static void
run (const gchar * after, guint interval, TestSinkLog * log)
{
  gchar *launch = g_strdup_printf (SOURCE CLASSIFY "%s " SINK,
      model_file.path, interval, after);

  load_plugins ();
  test_run_to_sink (launch, TRUE, log);
  fail_unless_equals_int (log->n_buffers, N_FRAMES);
  g_free (launch);
}

/* Every frame has the result; those between classifications count the
 * frames since; one message per classified frame (0, 3, 6, 9). */
GST_START_TEST (test_every_frame_carries_result)
{
  TestSinkLog log;

  run ("", INTERVAL, &log);
  fail_unless_equals_int (log.n_messages, (N_FRAMES + INTERVAL - 1) /
      INTERVAL);
  for (guint i = 0; i < N_FRAMES; i++) {
    const TestSinkBuffer *b = &log.buffers[i];

    fail_unless_equals_int (b->n_metas, 1);
    fail_unless_equals_int (b->frames_ago, i % INTERVAL);
    fail_unless_equals_int (b->class_id, log.buffers[0].class_id);
    fail_unless (b->roi_x == 10 && b->roi_y == 10 && b->roi_width == 60
        && b->roi_height == 60, "frame %u: region %u,%u,%u,%u", i, b->roi_x,
        b->roi_y, b->roi_width, b->roi_height);
  }
}

GST_END_TEST;

/* frames_ago survives a transform of the meta (videoscale). */
GST_START_TEST (test_frames_ago_survives_videoscale)
{
  TestSinkLog log;

  test_load_system_plugin ("videoconvertscale");
  run ("! videoscale ! video/x-raw,width=80,height=60", INTERVAL, &log);
  for (guint i = 0; i < N_FRAMES; i++) {
    fail_unless_equals_int (log.buffers[i].n_metas, 1);
    fail_unless_equals_int (log.buffers[i].frames_ago, i % INTERVAL);
    fail_unless_equals_int (log.buffers[i].roi_x, 5);
  }
}

GST_END_TEST;

/* cnnoverlay draws the result on every frame: all frames come out alike
 * (the picture is still) and unlike the undrawn one.  Before frames
 * carried the latest result, two frames in three came out undrawn. */
GST_START_TEST (test_overlay_does_not_blink)
{
  TestSinkLog plain, drawn, every;

  run ("", INTERVAL, &plain);
  run ("! cnnoverlay", INTERVAL, &drawn);
  run ("! cnnoverlay", 1, &every);
  for (guint i = 0; i < N_FRAMES; i++) {
    fail_unless_equals_string (plain.buffers[i].md5, plain.buffers[0].md5);
    fail_if (g_str_equal (drawn.buffers[i].md5, plain.buffers[0].md5),
        "frame %u is not drawn on", i);
    /* As when every frame is classified. */
    fail_unless_equals_string (drawn.buffers[i].md5, every.buffers[i].md5);
  }
}

GST_END_TEST;

static Suite *
steady_suite (void)
{
  Suite *s = suite_create ("steady");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_unchecked_fixture (tc, models_setup, models_teardown);
  tcase_add_test (tc, test_every_frame_carries_result);
  tcase_add_test (tc, test_frames_ago_survives_videoscale);
  tcase_add_test (tc, test_overlay_does_not_blink);
  return s;
}

GST_CHECK_MAIN (steady);
