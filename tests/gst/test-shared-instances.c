/* cnnclassify instances of one process that load the same model file
 * share it (issue 13 item 6): two pipelines running at once on the same
 * file each give, frame by frame, what the network gives for that frame
 * (computed here with a model of the test's own), the element says the
 * weights are held by both, and changing one instance's model while
 * both run moves only that one.
 *
 * Frames are 28x28 GRAY8, the model's input: the region is the whole
 * frame and "resize" leaves each pixel as it is, over 255. */
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>
#include <gst/cnn/cnnmeta.h>
#include <glib/gstdio.h>

#include "test-common.h"

#include <cnn.h>
#include <string.h>

#define ARCH "conv 4 3, relu, maxpool 2, flatten, dense 10, softmax"
#define N_CLASSES 10
#define MAX_MODELS 2

static gchar *tmp_dir, *first_model, *second_model;

static void
models_setup (void)
{
  test_load_system_plugin ("coreelements");
  test_load_system_plugin ("videotestsrc");
  tmp_dir = g_dir_make_tmp ("test-shared-instances-XXXXXX", NULL);
  fail_unless (tmp_dir != NULL);
  first_model = test_save_model (tmp_dir, "first.safetensors", ARCH,
      "1x28x28", 1, NULL, "first");
  second_model = test_save_model (tmp_dir, "second.safetensors", ARCH,
      "1x28x28", 2, NULL, "second");
}

static void
models_teardown (void)
{
  g_unlink (first_model);
  g_unlink (second_model);
  g_rmdir (tmp_dir);
  g_free (first_model);
  g_free (second_model);
  g_free (tmp_dir);
}

/* The reference: the network of a model file of the test's own, run on
 * the frame as the sink receives it. */
typedef struct
{
  const gchar *name;
  CnnModel *model;
  CnnPreprocessor *pre;
} Reference;

static void
reference_init (Reference * r, const gchar * path, const gchar * name)
{
  GError *err = NULL;

  r->name = name;
  r->model = cnn_model_load (path, &err);
  fail_unless (r->model != NULL, "%s", err ? err->message : path);
  r->pre = cnn_preprocessor_new (cnn_model_get_metadata (r->model,
          "preprocess"), (CnnShape) { 1, 28, 28 }, &err);
  fail_unless (r->pre != NULL);
}

static void
reference_clear (Reference * r)
{
  cnn_preprocessor_free (r->pre);
  cnn_model_free (r->model);
}

/* One pipeline and what its sink saw. */
typedef struct
{
  GstElement *pipeline, *classify;
  Reference refs[MAX_MODELS];   /* by the meta's model name */
  guint n_refs;
  GMutex lock;
  guint n_frames, n_by_model[MAX_MODELS], n_unknown;
  gdouble worst;                /* |probability - reference|, largest */
} Run;

static void
check_frame (Run * run, GstBuffer * buffer, const GstVideoInfo * info)
{
  GstCnnClassificationMeta *meta =
      gst_buffer_get_cnn_classification_meta (buffer);
  gfloat input[28 * 28], want[N_CLASSES];
  GstVideoFrame frame;
  CnnImage image = { 0 };
  Reference *r = NULL;
  guint which = 0;

  for (guint i = 0; meta && i < run->n_refs; i++)
    if (g_strcmp0 (meta->model, run->refs[i].name) == 0)
      r = &run->refs[which = i];
  g_mutex_lock (&run->lock);
  run->n_frames++;
  if (!r || meta->n_classes != N_CLASSES) {
    run->n_unknown++;
    g_mutex_unlock (&run->lock);
    return;
  }
  fail_unless (gst_video_frame_map (&frame, (GstVideoInfo *) info, buffer,
          GST_MAP_READ));
  image.width = image.height = 28;
  image.color = CNN_COLOR_GREY;
  image.planes[0].data = GST_VIDEO_FRAME_PLANE_DATA (&frame, 0);
  image.planes[0].row_stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);
  image.planes[0].pixel_stride = 1;
  fail_unless (cnn_preprocessor_run (r->pre, &image, (CnnRect) { 0, 0, 28,
              28 }, input));
  gst_video_frame_unmap (&frame);
  cnn_network_probabilities (cnn_model_network (r->model),
      cnn_network_forward (cnn_model_network (r->model), input, 1), want);
  for (guint c = 0; c < N_CLASSES; c++)
    run->worst = MAX (run->worst, ABS (meta->probabilities[c] - want[c]));
  run->n_by_model[which]++;
  g_mutex_unlock (&run->lock);
}

static GstPadProbeReturn
sink_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstCaps *caps = gst_pad_get_current_caps (pad);
  GstVideoInfo vinfo;

  fail_unless (caps != NULL && gst_video_info_from_caps (&vinfo, caps));
  check_frame (data, GST_PAD_PROBE_INFO_BUFFER (info), &vinfo);
  gst_caps_unref (caps);
  return GST_PAD_PROBE_OK;
}

/* @pattern's frames (videotestsrc: "ball" moves, "snow" is noise) of
 * @n_buffers (-1: live, without end) through a cnnclassify on @model. */
static void
run_init (Run * run, const gchar * pattern, gint n_buffers,
    const gchar * model)
{
  gchar *launch = g_strdup_printf ("videotestsrc pattern=%s num-buffers=%d "
      "is-live=%s ! video/x-raw,format=GRAY8,width=28,height=28,"
      "framerate=200/1 ! cnnclassify name=c post-messages=false model=%s ! "
      "fakesink name=sink sync=false", pattern, n_buffers,
      n_buffers < 0 ? "true" : "false", model);
  GstElement *sink;
  GstPad *pad;

  memset (run, 0, sizeof *run);
  g_mutex_init (&run->lock);
  reference_init (&run->refs[0], first_model, "first");
  reference_init (&run->refs[1], second_model, "second");
  run->n_refs = 2;
  run->pipeline = gst_parse_launch (launch, NULL);
  fail_unless (run->pipeline != NULL);
  run->classify = gst_bin_get_by_name (GST_BIN (run->pipeline), "c");
  sink = gst_bin_get_by_name (GST_BIN (run->pipeline), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, sink_probe, run, NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);
  g_free (launch);
}

static void
run_clear (Run * run)
{
  fail_unless_equals_int (gst_element_set_state (run->pipeline,
          GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (run->classify);
  gst_object_unref (run->pipeline);
  for (guint i = 0; i < run->n_refs; i++)
    reference_clear (&run->refs[i]);
  g_mutex_clear (&run->lock);
}

static void
run_play (Run * run)
{
  fail_if (gst_element_set_state (run->pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE);
}

static void
run_wait_eos (Run * run)
{
  GstBus *bus = gst_element_get_bus (run->pipeline);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);

  fail_unless (msg != NULL, "no end of stream");
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_object_unref (bus);
}

/* Frames seen of model @which so far. */
static guint
run_count (Run * run, guint which)
{
  guint n;

  g_mutex_lock (&run->lock);
  n = run->n_by_model[which];
  g_mutex_unlock (&run->lock);
  return n;
}

/* Waits until @run has shown @n more frames of model @which. */
static void
run_wait_frames (Run * run, guint which, guint n)
{
  guint target = run_count (run, which) + n;
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (run_count (run, which) < target)
    fail_unless (g_get_monotonic_time () < end, "no frames of model %u",
        which);
}

/* ---- what the element says of the weights it holds ----------------- */

static gint max_holders_said;

/* cnnclassify's INFO line at each load: "... held by N classifier(s)". */
static void
note_holders (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer data)
{
  const gchar *text = gst_debug_message_get (message);
  const gchar *at;

  if (g_strcmp0 (gst_debug_category_get_name (category), "cnnclassify") != 0
      || !text || !(at = strstr (text, "held by ")))
    return;
  g_atomic_int_set (&max_holders_said, MAX (g_atomic_int_get
          (&max_holders_said), atoi (at + strlen ("held by "))));
}

static void
listen_to_loads (void)
{
  g_atomic_int_set (&max_holders_said, 0);
  gst_debug_set_threshold_for_name ("cnnclassify", GST_LEVEL_INFO);
  gst_debug_add_log_function (note_holders, NULL, NULL);
}

static void
stop_listening (void)
{
  gst_debug_remove_log_function (note_holders);
  gst_debug_set_threshold_for_name ("cnnclassify", GST_LEVEL_WARNING);
}

/* Two pipelines at once on the same file, one of a moving ball and one
 * of noise: each frame's probabilities are that frame's, as the network
 * gives them (bit for bit: the same kernels, one thread), though both
 * run the one copy of the weights, each in its own workspace. */
GST_START_TEST (test_two_pipelines_share_one_model)
{
  Run a, b;

  listen_to_loads ();
  run_init (&a, "ball", 200, first_model);
  run_init (&b, "snow", 200, first_model);
  run_play (&a);
  run_play (&b);
  run_wait_eos (&a);
  run_wait_eos (&b);
  stop_listening ();

  fail_unless_equals_int (g_atomic_int_get (&max_holders_said), 2);
  fail_unless_equals_int (a.n_frames, 200);
  fail_unless_equals_int (b.n_frames, 200);
  fail_unless_equals_int (a.n_by_model[0], 200);
  fail_unless_equals_int (b.n_by_model[0], 200);
  fail_unless (a.worst == 0.0 && b.worst == 0.0, "off by %g and %g", a.worst,
      b.worst);
  run_clear (&a);
  run_clear (&b);
}

GST_END_TEST;

/* While both run: one instance given another model takes it, the other
 * keeps the shared one; given the first file back, it shares it again.
 * Every frame is its own model's result. */
GST_START_TEST (test_model_change_while_shared)
{
  Run a, b;

  listen_to_loads ();
  run_init (&a, "ball", -1, first_model);
  run_init (&b, "snow", -1, first_model);
  run_play (&a);
  run_play (&b);
  run_wait_frames (&a, 0, 20);
  run_wait_frames (&b, 0, 20);
  fail_unless_equals_int (g_atomic_int_get (&max_holders_said), 2);

  g_object_set (b.classify, "model", second_model, NULL);
  run_wait_frames (&b, 1, 20);
  run_wait_frames (&a, 0, 20);
  g_atomic_int_set (&max_holders_said, 0);
  g_object_set (b.classify, "model", first_model, NULL);
  run_wait_frames (&b, 0, 20);
  fail_unless_equals_int (g_atomic_int_get (&max_holders_said), 2);
  stop_listening ();

  fail_unless_equals_int (a.n_by_model[1], 0);
  fail_unless_equals_int (a.n_unknown, 0);
  fail_unless_equals_int (b.n_unknown, 0);
  fail_unless (a.worst == 0.0 && b.worst == 0.0, "off by %g and %g", a.worst,
      b.worst);
  run_clear (&a);
  run_clear (&b);
}

GST_END_TEST;

static Suite *
shared_instances_suite (void)
{
  Suite *s = suite_create ("cnnclassify-shared-instances");
  TCase *tc = tcase_create ("general");

  tcase_add_unchecked_fixture (tc, models_setup, models_teardown);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_two_pipelines_share_one_model);
  tcase_add_test (tc, test_model_change_while_shared);
  return s;
}

GST_CHECK_MAIN (shared_instances);
