/* gst-check tests: the classification meta's region follows the picture
 * through GStreamer's own geometry elements, in real pipelines
 * (videotestsrc ! cnnclassify ! ELEMENT ! capsfilter ! fakesink), read
 * from a probe on the sink's pad.
 *
 * What GStreamer 1.22 does with a meta tagged "video", "orientation"
 * and "size" (gstcnnmeta.c says why): videoscale and videoconvert call
 * its scale transform; videocrop, videobox and videoflip drop it, since
 * they tell a meta nothing of where pixels went (GStreamer 1.28 calls a
 * matrix transform there, which the meta then follows: those
 * expectations are compiled only against 1.28's headers).  Any element
 * in passthrough leaves the buffer, meta and all, as it was.  There is
 * no videorotate in 1.22: videoflip's video-direction does the quarter
 * turns. */
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>
#include <gst/cnn/cnnmeta.h>

#include "test-common.h"

/* 320x240 frames, the region 40,0,200,240 (not square, so that a
 * rotation shows), three frames each. */
#define SOURCE "videotestsrc num-buffers=3 " \
  "! video/x-raw,format=I420,width=320,height=240,framerate=30/1 "
#define CLASSIFY "! cnnclassify model=%s roi=40,0,200,240 "
#define SINK "! fakesink name=sink sync=false"

static TestModelFile model_file;

/* A small random model: what it answers does not matter here. */
static void
models_setup (void)
{
  test_model_file_make (&model_file, "flatten, dense 2, softmax", "1x8x8", 3);
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
  test_load_system_plugin ("videoconvertscale");
  test_load_system_plugin ("videocrop");
  test_load_system_plugin ("videobox");
  test_load_system_plugin ("videofilter");
}

/* SOURCE ! cnnclassify ! @middle ! fakesink: its three frames, each
 * classified. */
static void
run_through (const gchar * middle, TestSinkLog * log)
{
  gchar *launch = g_strdup_printf (SOURCE CLASSIFY "! %s " SINK,
      model_file.path, middle);

  load_plugins ();
  test_run_to_sink (launch, FALSE, log);
  fail_unless_equals_int (log->n_buffers, 3);
  fail_unless_equals_int (log->n_messages, 3);
  g_free (launch);
}

/* Every buffer at the sink, @width × @height, carries one meta with the
 * region @x,@y,@w,@h. */
static void
check_region (const gchar * middle, guint width, guint height, guint x,
    guint y, guint w, guint h)
{
  TestSinkLog log;

  run_through (middle, &log);
  fail_unless_equals_int (log.width, width);
  fail_unless_equals_int (log.height, height);
  for (guint i = 0; i < log.n_buffers; i++) {
    const TestSinkBuffer *b = &log.buffers[i];

    fail_unless_equals_int (b->n_metas, 1);
    fail_unless (b->roi_x == x && b->roi_y == y && b->roi_width == w
        && b->roi_height == h, "%s: buffer %u: region %u,%u,%u,%u, "
        "expected %u,%u,%u,%u", middle, i, b->roi_x, b->roi_y,
        b->roi_width, b->roi_height, x, y, w, h);
  }
}

/* No meta left on any buffer, though every frame was classified. */
static void
check_dropped (const gchar * middle)
{
  TestSinkLog log;

  run_through (middle, &log);
  for (guint i = 0; i < log.n_buffers; i++)
    fail_unless_equals_int (log.buffers[i].n_metas, 0);
}

/* No geometry element: the region as classified. */
GST_START_TEST (test_region_as_classified)
{
  check_region ("identity", 320, 240, 40, 0, 200, 240);
}

GST_END_TEST;

GST_START_TEST (test_videoscale_halves)
{
  check_region ("videoscale ! video/x-raw,width=160,height=120",
      160, 120, 20, 0, 100, 120);
}

GST_END_TEST;

/* Each axis by its own factor: 2 across, 1.5 down. */
GST_START_TEST (test_videoscale_stretches)
{
  check_region ("videoscale ! video/x-raw,width=640,height=360",
      640, 360, 80, 0, 400, 360);
}

GST_END_TEST;

/* A new format, the same size: the scale transform at 1:1. */
GST_START_TEST (test_videoconvert_keeps)
{
  check_region ("videoconvert ! video/x-raw,format=RGBx",
      320, 240, 40, 0, 200, 240);
}

GST_END_TEST;

/* Elements with nothing to do pass the buffer on as it is. */
GST_START_TEST (test_passthrough_keeps)
{
  check_region ("videocrop", 320, 240, 40, 0, 200, 240);
  check_region ("videobox", 320, 240, 40, 0, 200, 240);
}

GST_END_TEST;

/* videoflip at identity is no passthrough in 1.22: it copies every
 * frame, and drops the meta with it. */
GST_START_TEST (test_videoflip_identity)
{
#ifdef GST_VIDEO_META_TRANSFORM_IS_MATRIX
  check_region ("videoflip video-direction=identity", 320, 240, 40, 0, 200,
      240);
#else
  check_dropped ("videoflip video-direction=identity");
#endif
}

GST_END_TEST;

GST_START_TEST (test_videocrop)
{
#ifdef GST_VIDEO_META_TRANSFORM_IS_MATRIX
  /* 10 off the left, 20 off the top, of which the region loses its top
   * 20 rows: 30,0,200,220 in 310x220. */
  check_region ("videocrop left=10 top=20", 310, 220, 30, 0, 200, 220);
#else
  check_dropped ("videocrop left=10 top=20");
#endif
}

GST_END_TEST;

/* The region cropped away entirely: no meta pointing outside the frame. */
GST_START_TEST (test_videocrop_away)
{
  check_dropped ("videocrop left=250");
}

GST_END_TEST;

GST_START_TEST (test_videobox_borders)
{
#ifdef GST_VIDEO_META_TRANSFORM_IS_MATRIX
  /* 20 columns of border on the left, 10 rows on top. */
  check_region ("videobox left=-20 top=-10", 340, 250, 60, 10, 200, 240);
#else
  check_dropped ("videobox left=-20 top=-10");
#endif
}

GST_END_TEST;

/* A quarter turn clockwise. */
static void
check_clockwise (const gchar * middle)
{
#ifdef GST_VIDEO_META_TRANSFORM_IS_MATRIX
  /* Rows become columns: x' = 240 - (y + h), y' = x. */
  check_region (middle, 240, 320, 0, 40, 240, 200);
#else
  check_dropped (middle);
#endif
}

GST_START_TEST (test_videoflip_clockwise)
{
  check_clockwise ("videoflip video-direction=90r");
}

GST_END_TEST;

/* The deprecated "method" property: GStreamer 1.22.0 (Debian 12) does
 * not rotate the frames it is set on in a launch line (the sink gets
 * 320x240), and then passes them with the meta as they are, which is
 * still right.  When it does rotate, the meta follows or goes. */
GST_START_TEST (test_videoflip_method_clockwise)
{
  TestSinkLog log;

  run_through ("videoflip method=clockwise", &log);
  if (log.width == 320)
    check_region ("videoflip method=clockwise", 320, 240, 40, 0, 200, 240);
  else
    check_clockwise ("videoflip method=clockwise");
}

GST_END_TEST;

static Suite *
meta_geometry_suite (void)
{
  Suite *s = suite_create ("meta-geometry");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_unchecked_fixture (tc, models_setup, models_teardown);
  tcase_add_test (tc, test_region_as_classified);
  tcase_add_test (tc, test_videoscale_halves);
  tcase_add_test (tc, test_videoscale_stretches);
  tcase_add_test (tc, test_videoconvert_keeps);
  tcase_add_test (tc, test_passthrough_keeps);
  tcase_add_test (tc, test_videocrop);
  tcase_add_test (tc, test_videocrop_away);
  tcase_add_test (tc, test_videobox_borders);
  tcase_add_test (tc, test_videoflip_identity);
  tcase_add_test (tc, test_videoflip_clockwise);
  tcase_add_test (tc, test_videoflip_method_clockwise);
  return s;
}

GST_CHECK_MAIN (meta_geometry);
