/* cnnclassify inference-region=roi-list (issue 13 item 3): each
 * region of interest upstream marked on a frame (an application here,
 * attaching GstVideoRegionOfInterestMeta as a detector would; object-class
 * selecting them by type) is classified on its own, gets a
 * GstCnnClassificationMeta with its region and a "cnn-classification"
 * param on its ROI meta, and cnnoverlay downstream draws every one.
 *
 * The model is made here with weights set by hand, so that the expected
 * probabilities come from a formula, not from the element: "resize" to
 * 8x8, then dense 2 with w = +1/16 (class "light") and -1/16 ("dark")
 * on every input and biases -2 and +2.  A uniform region of grey level
 * v has every input x = v / 255, so the logits are 4x - 2 and 2 - 4x. */
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>
#include <gst/cnn/cnnmeta.h>
#include <glib/gstdio.h>

#include "test-common.h"

#include <cnn.h>
#include <math.h>
#include <string.h>

#define N_CLASSES 2
#define WIDTH 320
#define HEIGHT 64
#define BACKGROUND 128

static gchar *tmp_dir, *model_path;
static const gchar *labels[] = { "light", "dark", NULL };

static void
model_setup (void)
{
  GError *err = NULL;
  CnnModel *model = cnn_model_new ("flatten, dense 2, softmax",
      (CnnShape) { 1, 8, 8 }, &err);
  const gchar *name;
  gsize dims[4];
  guint n_dims;
  gfloat *w, *b;

  test_load_system_plugin ("app");
  test_load_system_plugin ("coreelements");
  test_load_system_plugin ("videotestsrc");
  fail_unless (model != NULL);
  w = cnn_network_layer_tensor (cnn_model_network (model), 1, 0, &name,
      &n_dims, dims);
  b = cnn_network_layer_tensor (cnn_model_network (model), 1, 1, &name,
      &n_dims, dims);
  for (guint j = 0; j < 64; j++) {
    w[j] = 1.0f / 16;
    w[64 + j] = -1.0f / 16;
  }
  b[0] = -2.0f;
  b[1] = 2.0f;
  fail_unless (cnn_model_set_labels (model, labels, &err));
  cnn_model_set_metadata (model, "name", "levels");
  tmp_dir = g_dir_make_tmp ("test-roi-list-XXXXXX", NULL);
  model_path = g_build_filename (tmp_dir, "levels.safetensors", NULL);
  fail_unless (cnn_model_save (model, model_path, &err));
  cnn_model_free (model);
}

static void
model_teardown (void)
{
  g_unlink (model_path);
  g_rmdir (tmp_dir);
  g_free (model_path);
  g_free (tmp_dir);
}

/* The probabilities of a region of grey level @v, by the formula. */
static void
expected_for (guint8 v, gdouble p[N_CLASSES])
{
  gdouble x = v / 255.0, z0 = 4.0 * x - 2.0, z1 = 2.0 - 4.0 * x;

  p[0] = 1.0 / (1.0 + exp (z1 - z0));
  p[1] = 1.0 - p[0];
}

/* A square of a frame: where, its grey level, and the type of the ROI
 * meta marking it (NULL: none). */
typedef struct
{
  guint x, y, size;
  guint8 value;
  const gchar *type;
} Square;

/* A WIDTH x HEIGHT GRAY8 frame of BACKGROUND with @squares drawn and
 * marked by ROI metas, as an application or a detector upstream would
 * mark them. */
static GstBuffer *
frame_with (const Square * squares, guint n, GstClockTime pts)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, WIDTH * HEIGHT, NULL);
  GstMapInfo map;

  fail_unless (gst_buffer_map (buf, &map, GST_MAP_WRITE));
  memset (map.data, BACKGROUND, WIDTH * HEIGHT);
  for (guint i = 0; i < n; i++)
    for (guint y = squares[i].y; y < MIN (squares[i].y + squares[i].size,
            HEIGHT); y++)
      for (guint x = squares[i].x; x < MIN (squares[i].x + squares[i].size,
              WIDTH); x++)
        map.data[y * WIDTH + x] = squares[i].value;
  gst_buffer_unmap (buf, &map);
  for (guint i = 0; i < n; i++)
    if (squares[i].type)
      gst_buffer_add_video_region_of_interest_meta (buf, squares[i].type,
          squares[i].x, squares[i].y, squares[i].size, squares[i].size);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  return buf;
}

/* appsrc ! cnnclassify @props ! cnnoverlay show-bars=false ! appsink,
 * playing. */
static void
run_start (TestPlaying * run, const gchar * props)
{
  gchar *launch = g_strdup_printf ("appsrc name=src format=time "
      "caps=video/x-raw,format=GRAY8,width=%u,height=%u,framerate=30/1 ! "
      "cnnclassify name=c model=%s %s ! cnnoverlay show-bars=false ! "
      "appsink name=sink sync=false", WIDTH, HEIGHT, model_path, props);

  test_playing_start (run, launch);
  g_free (launch);
}

/* Pushes @n @squares' frame and returns what reached the sink. */
static GstSample *
run_frame (TestPlaying * run, const Square * squares, guint n,
    GstClockTime pts)
{
  return test_playing_push_pull (run, frame_with (squares, n, pts));
}

static guint
count_metas (GstBuffer * buf)
{
  gpointer state = NULL;
  guint n = 0;

  while (gst_buffer_iterate_meta_filtered (buf, &state,
          GST_CNN_CLASSIFICATION_META_API_TYPE))
    n++;
  return n;
}

/* The classification meta whose region is @sq's, or NULL. */
static GstCnnClassificationMeta *
meta_of (GstBuffer * buf, const Square * sq)
{
  gpointer state = NULL;
  GstMeta *m;

  while ((m = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_CNN_CLASSIFICATION_META_API_TYPE))) {
    GstCnnClassificationMeta *meta = (GstCnnClassificationMeta *) m;

    if (meta->roi_x == sq->x && meta->roi_y == sq->y
        && meta->roi_width == MIN (sq->size, WIDTH - sq->x)
        && meta->roi_height == MIN (sq->size, HEIGHT - sq->y))
      return meta;
  }
  return NULL;
}

/* @sq's meta: its class and probabilities those of its grey level. */
static void
check_square_meta (GstBuffer * buf, const Square * sq, guint frames_ago)
{
  GstCnnClassificationMeta *meta = meta_of (buf, sq);
  gdouble want[N_CLASSES];

  fail_unless (meta != NULL, "no meta for the square at %u,%u", sq->x,
      sq->y);
  expected_for (sq->value, want);
  fail_unless_equals_int (meta->n_classes, N_CLASSES);
  for (guint c = 0; c < N_CLASSES; c++)
    fail_unless (fabs (meta->probabilities[c] - want[c]) < 1e-5,
        "square at %u,%u: p%u %g, expected %g", sq->x, sq->y, c,
        meta->probabilities[c], want[c]);
  fail_unless_equals_int (meta->class_id, want[0] > want[1] ? 0 : 1);
  fail_unless_equals_string (meta->label, labels[meta->class_id]);
  fail_unless_equals_string (meta->model, "levels");
  fail_unless_equals_int (meta->frames_ago, frames_ago);
}

/* The ROI meta of @buf marking @sq (same type and rectangle). */
static GstVideoRegionOfInterestMeta *
roi_meta_of (GstBuffer * buf, const Square * sq)
{
  gpointer state = NULL;
  GstMeta *m;

  while ((m = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) m;

    if (roi->x == sq->x && roi->y == sq->y && roi->w == sq->size
        && roi->roi_type == g_quark_from_string (sq->type))
      return roi;
  }
  return NULL;
}

/* @sq's ROI meta carries the element's "cnn-classification" param, the
 * same as its classification meta (@classified), or none. */
static void
check_roi_param (GstBuffer * buf, const Square * sq, gboolean classified)
{
  GstVideoRegionOfInterestMeta *roi = roi_meta_of (buf, sq);
  GstCnnClassificationMeta *meta = meta_of (buf, sq);
  GstStructure *s;
  const GValue *probabilities;
  gint class_id;
  gdouble confidence;

  fail_unless (roi != NULL);
  s = gst_video_region_of_interest_meta_get_param (roi, "cnn-classification");
  if (!classified) {
    fail_unless (s == NULL, "a param on an ROI not classified");
    return;
  }
  fail_unless (s != NULL, "no cnn-classification param on the ROI meta");
  fail_unless (gst_structure_get_int (s, "class-id", &class_id));
  fail_unless (gst_structure_get_double (s, "confidence", &confidence));
  fail_unless_equals_int (class_id, meta->class_id);
  fail_unless_equals_string (gst_structure_get_string (s, "label"),
      meta->label);
  fail_unless_equals_string (gst_structure_get_string (s, "model"),
      "levels");
  fail_unless (fabs (confidence - meta->confidence) < 1e-6);
  probabilities = gst_structure_get_value (s, "probabilities");
  fail_unless (probabilities && GST_VALUE_HOLDS_ARRAY (probabilities));
  fail_unless_equals_int (gst_value_array_get_size (probabilities),
      N_CLASSES);
  for (guint c = 0; c < N_CLASSES; c++)
    fail_unless (fabs (g_value_get_double (gst_value_array_get_value
                (probabilities, c)) - meta->probabilities[c]) < 1e-6);
}

/* cnnoverlay drew @sq's box (or, @drawn FALSE, left it alone): the
 * middle of its left edge is no longer the square's grey. */
static void
check_box_drawn (GstBuffer * buf, const Square * sq, gboolean drawn)
{
  GstMapInfo map;
  guint8 pixel;

  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  pixel = map.data[(sq->y + sq->size / 2) * WIDTH + sq->x];
  gst_buffer_unmap (buf, &map);
  if (drawn)
    fail_unless (pixel != sq->value, "no box at %u,%u", sq->x, sq->y);
  else
    fail_unless_equals_int (pixel, sq->value);
}

/* Two squares marked "digit" and one "face": with object-class=digit
 * the two are classified, each with its own meta, param and box, and
 * the face is left alone; without object-class, all three. */
GST_START_TEST (test_each_roi_classified)
{
  const Square squares[] = {
    {8, 8, 48, 255, "digit"},
    {72, 8, 48, 0, "digit"},
    {136, 16, 32, 255, "face"},
  };
  GstSample *sample;
  GstBuffer *buf;
  TestPlaying run;

  run_start (&run, "inference-region=roi-list object-class=digit "
      "post-messages=false");
  sample = run_frame (&run, squares, 3, 0);
  buf = gst_sample_get_buffer (sample);
  fail_unless_equals_int (count_metas (buf), 2);
  for (guint i = 0; i < 3; i++) {
    gboolean digit = i < 2;

    if (digit)
      check_square_meta (buf, &squares[i], 0);
    else
      fail_unless (meta_of (buf, &squares[i]) == NULL);
    check_roi_param (buf, &squares[i], digit);
    check_box_drawn (buf, &squares[i], digit);
  }
  gst_sample_unref (sample);

  g_object_set (run.classify, "object-class", "", NULL);
  sample = run_frame (&run, squares, 3, GST_SECOND / 30);
  buf = gst_sample_get_buffer (sample);
  fail_unless_equals_int (count_metas (buf), 3);
  for (guint i = 0; i < 3; i++) {
    check_square_meta (buf, &squares[i], 0);
    check_roi_param (buf, &squares[i], TRUE);
    check_box_drawn (buf, &squares[i], TRUE);
  }
  gst_sample_unref (sample);
  test_playing_stop (&run);
}

GST_END_TEST;

/* Six regions, more than a pass takes (CNN_CLASSIFIER_BATCH, 4): every
 * one right; a region reaching past the frame is clipped to it, one
 * outside it left out; and a message for each region classified. */
GST_START_TEST (test_many_rois_batched)
{
  const Square squares[] = {
    {0, 0, 40, 255, "digit"},
    {48, 0, 40, 0, "digit"},
    {96, 10, 40, 230, "digit"},
    {144, 10, 40, 20, "digit"},
    {192, 20, 40, 255, "digit"},
    {290, 30, 40, 0, "digit"},  /* 30 by 34 of it in the frame */
  };
  Square outside = { WIDTH + 10, 0, 20, 255, "digit" };
  GstBuffer *in = frame_with (squares, G_N_ELEMENTS (squares), 0), *buf;
  GstSample *sample;
  GstBus *bus;
  guint n_messages = 0;
  GstMessage *msg;
  TestPlaying run;

  gst_buffer_add_video_region_of_interest_meta (in, outside.type, outside.x,
      outside.y, outside.size, outside.size);
  run_start (&run, "inference-region=roi-list");
  sample = test_playing_push_pull (&run, in);
  buf = gst_sample_get_buffer (sample);
  fail_unless_equals_int (count_metas (buf), G_N_ELEMENTS (squares));
  for (guint i = 0; i < G_N_ELEMENTS (squares); i++) {
    check_square_meta (buf, &squares[i], 0);
    check_roi_param (buf, &squares[i], TRUE);
  }
  gst_sample_unref (sample);

  bus = gst_element_get_bus (run.pipeline);
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);
    guint x, w;

    if (gst_structure_has_name (s, "cnn-classification")) {
      fail_unless (gst_structure_get_uint (s, "roi-x", &x));
      fail_unless (gst_structure_get_uint (s, "roi-width", &w));
      fail_unless_equals_int (x, squares[n_messages].x);
      fail_unless_equals_int (w, MIN (squares[n_messages].size,
              WIDTH - squares[n_messages].x));
      n_messages++;
    }
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  fail_unless_equals_int (n_messages, G_N_ELEMENTS (squares));
  test_playing_stop (&run);
}

GST_END_TEST;

/* interval=2: the frame between two classifications carries the last
 * one's results for every region (frames_ago 1), drawn again, whatever
 * it shows itself, and adds no param to its own ROI metas. */
GST_START_TEST (test_interval_carries_every_result)
{
  const Square shown[] = {
    {8, 8, 48, 255, "digit"},
    {72, 8, 48, 0, "digit"},
  };
  const Square next[] = {
    {8, 8, 48, 0, "digit"},
    {72, 8, 48, 255, "digit"},
  };
  GstSample *sample;
  GstBuffer *buf;
  TestPlaying run;

  run_start (&run, "inference-region=roi-list interval=2 "
      "post-messages=false");
  gst_sample_unref (run_frame (&run, shown, 2, 0));
  sample = run_frame (&run, next, 2, GST_SECOND / 30);
  buf = gst_sample_get_buffer (sample);
  fail_unless_equals_int (count_metas (buf), 2);
  for (guint i = 0; i < 2; i++) {
    check_square_meta (buf, &shown[i], 1);
    check_roi_param (buf, &next[i], FALSE);
    check_box_drawn (buf, &next[i], TRUE);
  }
  gst_sample_unref (sample);
  /* The third frame is classified: the second's squares. */
  sample = run_frame (&run, next, 2, 2 * GST_SECOND / 30);
  buf = gst_sample_get_buffer (sample);
  for (guint i = 0; i < 2; i++)
    check_square_meta (buf, &next[i], 0);
  gst_sample_unref (sample);
  test_playing_stop (&run);
}

GST_END_TEST;

/* full-frame (the default) pays no heed to ROI metas: one result, for
 * the centred square; set to roi-list while playing, the next frame
 * has one a region; a frame without ROI metas then has none. */
GST_START_TEST (test_switch_to_roi_list_while_playing)
{
  const Square squares[] = {
    {8, 8, 48, 255, "digit"},
    {72, 8, 48, 0, "digit"},
  };
  GstCnnClassificationMeta *meta;
  GstSample *sample;
  GstBuffer *buf;
  TestPlaying run;

  run_start (&run, "post-messages=false");
  sample = run_frame (&run, squares, 2, 0);
  buf = gst_sample_get_buffer (sample);
  fail_unless_equals_int (count_metas (buf), 1);
  meta = gst_buffer_get_cnn_classification_meta (buf);
  fail_unless (meta->roi_x == (WIDTH - HEIGHT) / 2 && meta->roi_width
      == HEIGHT);
  check_roi_param (buf, &squares[0], FALSE);
  gst_sample_unref (sample);

  gst_util_set_object_arg (G_OBJECT (run.classify), "inference-region",
      "roi-list");
  sample = run_frame (&run, squares, 2, GST_SECOND / 30);
  buf = gst_sample_get_buffer (sample);
  fail_unless_equals_int (count_metas (buf), 2);
  check_square_meta (buf, &squares[0], 0);
  check_square_meta (buf, &squares[1], 0);
  gst_sample_unref (sample);

  sample = run_frame (&run, NULL, 0, 2 * GST_SECOND / 30);
  fail_unless_equals_int (count_metas (gst_sample_get_buffer (sample)), 0);
  gst_sample_unref (sample);
  test_playing_stop (&run);
}

GST_END_TEST;

/* A detector as a pad probe in front of cnnclassify, on videotestsrc's
 * white frames: each of its regions is classified "light", and
 * cnnoverlay draws each box. */
static GstPadProbeReturn
detect (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstBuffer *buf = gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER
      (info));

  gst_buffer_add_video_region_of_interest_meta (buf, "digit", 10, 10, 40, 40);
  gst_buffer_add_video_region_of_interest_meta (buf, "digit", 100, 5, 50, 50);
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
check_detected (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  const Square a = { 10, 10, 40, 235, "digit" };
  const Square b = { 100, 5, 50, 235, "digit" };
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  guint *n_frames = data;

  fail_unless_equals_int (count_metas (buf), 2);
  fail_unless_equals_int (meta_of (buf, &a)->class_id, 0);
  fail_unless_equals_int (meta_of (buf, &b)->class_id, 0);
  check_roi_param (buf, &a, TRUE);
  check_roi_param (buf, &b, TRUE);
  (*n_frames)++;
  return GST_PAD_PROBE_OK;
}

GST_START_TEST (test_detector_probe_upstream)
{
  gchar *launch = g_strdup_printf ("videotestsrc pattern=white "
      "num-buffers=10 ! video/x-raw,format=GRAY8,width=%u,height=%u ! "
      "identity name=detector ! cnnclassify inference-region=roi-list "
      "post-messages=false model=%s ! cnnoverlay ! fakesink name=sink",
      WIDTH, HEIGHT, model_path);
  GstElement *pipeline = gst_parse_launch (launch, NULL);
  GstElement *detector, *sink;
  GstPad *pad;
  GstBus *bus;
  GstMessage *msg;
  guint n_frames = 0;

  fail_unless (pipeline != NULL);
  detector = gst_bin_get_by_name (GST_BIN (pipeline), "detector");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  pad = gst_element_get_static_pad (detector, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, detect, NULL, NULL);
  gst_object_unref (pad);
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, check_detected,
      &n_frames, NULL);
  gst_object_unref (pad);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
  gst_message_unref (msg);
  fail_unless_equals_int (n_frames, 10);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (detector);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_free (launch);
}

GST_END_TEST;

static Suite *
roi_list_suite (void)
{
  Suite *s = suite_create ("cnnclassify-roi-list");
  TCase *tc = tcase_create ("general");

  tcase_add_unchecked_fixture (tc, model_setup, model_teardown);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_each_roi_classified);
  tcase_add_test (tc, test_many_rois_batched);
  tcase_add_test (tc, test_interval_carries_every_result);
  tcase_add_test (tc, test_switch_to_roi_list_while_playing);
  tcase_add_test (tc, test_detector_probe_upstream);
  return s;
}

GST_CHECK_MAIN (roi_list);
