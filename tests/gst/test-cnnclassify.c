/* gst-check tests of the cnnclassify element and the classification meta.
 *
 * The models are made here, with seeded random weights, so the tests
 * depend on nothing but libcnn.  Pictures are drawn straight into each
 * format's planes by this file (not converted by GStreamer), and the
 * element's results are checked against the network run directly.
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <gst/cnn/cnnmeta.h>
#include <glib/gstdio.h>

#include <cnn.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GREY_ARCH "conv 4 3, relu, maxpool 2, flatten, dense 10, softmax"
#define GREY_CLASSES 10
#define RGB_ARCH "conv 4 3, relu, maxpool 2, flatten, dense 5, softmax"
#define RGB_CLASSES 5
#define RGB_NAME "colours"

static const gchar *rgb_labels[] = { "red", "green", "blue", "white",
  "black", NULL
};

static const gchar *all_formats[] = { "GRAY8", "RGB", "BGR", "RGBx", "BGRx",
  "xRGB", "xBGR", "RGBA", "BGRA", "ARGB", "ABGR", "I420", "YV12", "NV12",
  "NV21", "YUY2", "UYVY", NULL
};

static gchar *tmp_dir;
static gchar *grey_model, *rgb_model, *corrupt_model;
static gchar *digit_labels, *short_labels;

/* ---- fixtures: model and labels files -------------------------------- */

static gchar *
save_model (const gchar * name, const gchar * arch, const gchar * input,
    guint64 seed, const gchar ** labels, const gchar * meta_name)
{
  gchar *path = g_build_filename (tmp_dir, name, NULL);
  GError *err = NULL;
  CnnShape shape;
  CnnModel *model;

  fail_unless (cnn_shape_parse (input, &shape, &err));
  model = cnn_model_new (arch, shape, &err);
  fail_unless (model != NULL, "%s", err ? err->message : "");
  cnn_network_init_params (cnn_model_network (model), seed);
  if (labels)
    fail_unless (cnn_model_set_labels (model, labels, &err));
  if (meta_name)
    cnn_model_set_metadata (model, "name", meta_name);
  fail_unless (cnn_model_save (model, path, &err), "%s",
      err ? err->message : "");
  cnn_model_free (model);
  return path;
}

static gchar *
save_text (const gchar * name, const gchar * text, gsize length)
{
  gchar *path = g_build_filename (tmp_dir, name, NULL);

  fail_unless (g_file_set_contents (path, text, length, NULL));
  return path;
}

/* The grey model's file cut in half: a header that promises more data
 * than there is. */
static gchar *
save_corrupt_copy (const gchar * name, const gchar * of)
{
  gchar *contents, *path;
  gsize length;

  fail_unless (g_file_get_contents (of, &contents, &length, NULL));
  path = save_text (name, contents, length / 2);
  g_free (contents);
  return path;
}

static void
models_setup (void)
{
  tmp_dir = g_dir_make_tmp ("test-cnnclassify-XXXXXX", NULL);
  fail_unless (tmp_dir != NULL);
  grey_model = save_model ("grey.safetensors", GREY_ARCH, "1x28x28", 1,
      NULL, NULL);
  rgb_model = save_model ("rgb.safetensors", RGB_ARCH, "3x16x16", 2,
      rgb_labels, RGB_NAME);
  corrupt_model = save_corrupt_copy ("corrupt.safetensors", grey_model);
  digit_labels = save_text ("digits.txt",
      "zero\none\ntwo\nthree\nfour\n\n five \nsix\nseven\neight\nnine\n", -1);
  short_labels = save_text ("short.txt", "a\nb\nc\n", -1);
}

static void
models_teardown (void)
{
  const gchar *files[] = { grey_model, rgb_model, corrupt_model,
    digit_labels, short_labels
  };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    g_unlink (files[i]);
  g_rmdir (tmp_dir);
  g_free (grey_model);
  g_free (rgb_model);
  g_free (corrupt_model);
  g_free (digit_labels);
  g_free (short_labels);
  g_free (tmp_dir);
}

/* ---- pictures --------------------------------------------------------- */

/* White bars on black: a vertical one and a horizontal stub, at least
 * one pixel wide at any size.  Chroma is neutral everywhere, so the
 * edges need no alignment to the chroma subsampling. */
static gboolean
picture_is_white (guint x, guint y, guint width, guint height)
{
  guint x0 = width / 4, x1 = width / 2 + 1;
  guint y0 = height / 2, y1 = 3 * height / 4 + 1;

  return (x >= x0 && x < x1) || (x < x0 && y >= y0 && y < y1);
}

/* Black 0 / white 255 in grey and RGB; 16 / 235 and neutral chroma 128
 * in (limited range) YUV; alpha opaque. */
static guint8
picture_sample (const GstVideoFormatInfo * finfo, guint component,
    gboolean white)
{
  if (component == GST_VIDEO_COMP_A)
    return 255;
  if (GST_VIDEO_FORMAT_INFO_IS_YUV (finfo))
    return component == GST_VIDEO_COMP_Y ? (white ? 235 : 16) : 128;
  return white ? 255 : 0;
}

static void
draw_picture (GstVideoFrame * frame)
{
  const GstVideoFormatInfo *finfo = frame->info.finfo;
  guint width = GST_VIDEO_FRAME_WIDTH (frame);
  guint height = GST_VIDEO_FRAME_HEIGHT (frame);

  for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS (frame); c++) {
    guint8 *data = GST_VIDEO_FRAME_COMP_DATA (frame, c);
    gint stride = GST_VIDEO_FRAME_COMP_STRIDE (frame, c);
    gint pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, c);
    guint w_sub = GST_VIDEO_FORMAT_INFO_W_SUB (finfo, c);
    guint h_sub = GST_VIDEO_FORMAT_INFO_H_SUB (finfo, c);

    for (gint y = 0; y < GST_VIDEO_FRAME_COMP_HEIGHT (frame, c); y++)
      for (gint x = 0; x < GST_VIDEO_FRAME_COMP_WIDTH (frame, c); x++)
        data[y * stride + x * pstride] = picture_sample (finfo, c,
            picture_is_white (x << w_sub, y << h_sub, width, height));
  }
}

/* A buffer holding the picture laid out as @info says (strides and
 * offsets travel in a GstVideoMeta); padding and unused bytes hold junk
 * the element must not read. */
static GstBuffer *
picture_buffer (const GstVideoInfo * info, GstClockTime pts)
{
  GstBuffer *buf = gst_buffer_new_and_alloc (GST_VIDEO_INFO_SIZE (info));
  GstVideoFrame frame;

  gst_buffer_memset (buf, 0, 0x5a, GST_VIDEO_INFO_SIZE (info));
  gst_buffer_add_video_meta_full (buf, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_INFO_FORMAT (info), GST_VIDEO_INFO_WIDTH (info),
      GST_VIDEO_INFO_HEIGHT (info), GST_VIDEO_INFO_N_PLANES (info),
      (gsize *) info->offset, (gint *) info->stride);
  fail_unless (gst_video_frame_map (&frame, info, buf, GST_MAP_WRITE));
  draw_picture (&frame);
  gst_video_frame_unmap (&frame);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  return buf;
}

static void
video_info_packed (GstVideoInfo * info, const gchar * format, guint width,
    guint height)
{
  GstVideoFormat f = gst_video_format_from_string (format);

  fail_unless (f != GST_VIDEO_FORMAT_UNKNOWN, "format %s", format);
  fail_unless (gst_video_info_set_format (info, f, width, height));
  GST_VIDEO_INFO_FPS_N (info) = 30;
  GST_VIDEO_INFO_FPS_D (info) = 1;
}

/* The same frame inside a larger, 64-byte aligned one. */
static void
video_info_padded (GstVideoInfo * info, const gchar * format, guint width,
    guint height)
{
  GstVideoAlignment align;

  video_info_packed (info, format, width, height);
  gst_video_alignment_reset (&align);
  align.padding_top = 2;
  align.padding_left = 6;
  align.padding_right = 10;
  align.padding_bottom = 4;
  for (guint i = 0; i < GST_VIDEO_MAX_PLANES; i++)
    align.stride_align[i] = 63;
  fail_unless (gst_video_info_align (info, &align));
}

/* ---- running the element ---------------------------------------------- */

/* A cnnclassify with its own bus, so tests can read its messages. */
static GstElement *
classify_new (const gchar * model)
{
  GstElement *element = gst_element_factory_make ("cnnclassify", NULL);
  GstBus *bus = gst_bus_new ();

  fail_unless (element != NULL);
  g_object_set (element, "model", model, NULL);
  gst_element_set_bus (element, bus);
  gst_object_unref (bus);
  return element;
}

/* Starts @element (reference taken) in a harness fed @info's caps. */
static GstHarness *
harness_start (GstElement * element, const GstVideoInfo * info)
{
  GstHarness *h = gst_harness_new_with_element (element, "sink", "src");

  gst_object_unref (element);
  gst_harness_set_src_caps (h, gst_video_info_to_caps (info));
  return h;
}

static GstHarness *
harness_new (const gchar * model, const GstVideoInfo * info)
{
  return harness_start (classify_new (model), info);
}

static GstBuffer *
push_picture (GstHarness * h, const GstVideoInfo * info, GstClockTime pts)
{
  GstBuffer *out = gst_harness_push_and_pull (h, picture_buffer (info, pts));

  fail_unless (out != NULL);
  return out;
}

/* Drops the messages left on @element's bus: they hold references to
 * the element, which would otherwise never be freed. */
static void
flush_bus (GstElement * element)
{
  GstBus *bus = gst_element_get_bus (element);

  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
}

static void
harness_teardown (GstHarness * h)
{
  flush_bus (h->element);
  gst_harness_teardown (h);
}

static GstMessage *
pop_message (GstElement * element, GstMessageType types)
{
  GstBus *bus = gst_element_get_bus (element);
  GstMessage *msg = gst_bus_pop_filtered (bus, types);

  gst_object_unref (bus);
  return msg;
}

/* A meta that is internally consistent: probabilities summing to 1,
 * class_id their argmax (or -1), confidence its probability. */
static const GstCnnClassificationMeta *
check_meta (GstBuffer * buf, guint n_classes)
{
  const GstCnnClassificationMeta *meta =
      gst_buffer_get_cnn_classification_meta (buf);
  gdouble sum = 0.0;
  guint best = 0;

  fail_unless (meta != NULL, "no meta on a classified buffer");
  fail_unless_equals_int (meta->n_classes, n_classes);
  fail_unless (meta->probabilities != NULL);
  for (guint i = 0; i < n_classes; i++) {
    fail_unless (meta->probabilities[i] >= 0.0f
        && meta->probabilities[i] <= 1.0f);
    sum += meta->probabilities[i];
    if (meta->probabilities[i] > meta->probabilities[best])
      best = i;
  }
  fail_unless (fabs (sum - 1.0) < 1e-4, "probabilities sum to %f", sum);
  if (meta->class_id >= 0) {
    fail_unless_equals_int (meta->class_id, best);
    fail_unless (meta->label != NULL);
    fail_unless_equals_float (meta->confidence, meta->probabilities[best]);
  }
  return meta;
}

static void
assert_probabilities_near (const gfloat * a, const gfloat * b, guint n,
    gdouble tolerance, const gchar * what)
{
  for (guint i = 0; i < n; i++)
    fail_unless (fabs (a[i] - b[i]) <= tolerance,
        "%s: probability %u is %g, expected %g", what, i, a[i], b[i]);
}

/* Classifies one picture of @format in a fresh element; returns the
 * probabilities (n_classes floats) and checks the pixels came through
 * unchanged and uncopied. */
static gfloat *
classify_picture (const gchar * model, guint n_classes, const gchar * format,
    guint width, guint height, gboolean padded)
{
  GstVideoInfo info;
  GstHarness *h;
  GstBuffer *in, *out;
  const GstCnnClassificationMeta *meta;
  gfloat *probabilities;
  gpointer before;
  gsize size;

  if (padded)
    video_info_padded (&info, format, width, height);
  else
    video_info_packed (&info, format, width, height);
  h = harness_new (model, &info);

  in = picture_buffer (&info, 0);
  gst_buffer_extract_dup (in, 0, -1, &before, &size);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  fail_unless (out != NULL);

  fail_unless (gst_buffer_memcmp (out, 0, before, size) == 0,
      "%s %ux%u: pixels changed", format, width, height);
  fail_unless (gst_buffer_peek_memory (out, 0) == gst_buffer_peek_memory (in,
          0), "%s: the frame's memory was copied", format);
  fail_unless (gst_buffer_get_cnn_classification_meta (in) == NULL,
      "the meta went on a buffer upstream still holds");

  meta = check_meta (out, n_classes);
  fail_unless_equals_int (meta->roi_x, 0);
  fail_unless_equals_int (meta->roi_y, 0);
  fail_unless_equals_int (meta->roi_width, width);
  fail_unless_equals_int (meta->roi_height, height);
  probabilities = g_memdup2 (meta->probabilities, n_classes * sizeof (gfloat));

  g_free (before);
  gst_buffer_unref (in);
  gst_buffer_unref (out);
  harness_teardown (h);
  return probabilities;
}

/* The network run directly on @input (C×H×W in 0..1). */
static gfloat *
forward_directly (const gchar * model_path, const gfloat * input)
{
  CnnModel *model = cnn_model_load (model_path, NULL);
  CnnNetwork *net;
  gfloat *out;
  gsize n;

  fail_unless (model != NULL);
  net = cnn_model_network (model);
  fail_unless (cnn_network_reserve (net, 1, NULL));
  n = cnn_shape_size (cnn_network_output_shape (net));
  out = g_memdup2 (cnn_network_forward (net, input, 1), n * sizeof (gfloat));
  cnn_model_free (model);
  return out;
}

/* ---- tests: formats and geometry -------------------------------------- */

GST_START_TEST (test_every_format_same_result)
{
  gfloat *grey_ref = classify_picture (grey_model, GREY_CLASSES, "GRAY8",
      56, 42, FALSE);
  gfloat *rgb_ref = classify_picture (rgb_model, RGB_CLASSES, "RGB",
      32, 24, FALSE);

  for (guint i = 0; all_formats[i]; i++) {
    gfloat *p = classify_picture (grey_model, GREY_CLASSES, all_formats[i],
        56, 42, FALSE);

    assert_probabilities_near (p, grey_ref, GREY_CLASSES, 1e-4,
        all_formats[i]);
    g_free (p);
    p = classify_picture (rgb_model, RGB_CLASSES, all_formats[i], 32, 24,
        FALSE);
    assert_probabilities_near (p, rgb_ref, RGB_CLASSES, 1e-4, all_formats[i]);
    g_free (p);
  }
  g_free (grey_ref);
  g_free (rgb_ref);
}

GST_END_TEST;

GST_START_TEST (test_odd_sizes_and_padded_strides)
{
  static const guint sizes[][2] = { {1, 1}, {3, 5}, {1921, 1081} };
  static const gchar *formats[] = { "GRAY8", "I420", "NV21", "YUY2", "BGR",
    "xRGB"
  };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
    gfloat *ref = NULL;

    for (guint f = 0; f < G_N_ELEMENTS (formats); f++) {
      gfloat *packed = classify_picture (grey_model, GREY_CLASSES,
          formats[f], sizes[s][0], sizes[s][1], FALSE);
      gfloat *padded = classify_picture (grey_model, GREY_CLASSES,
          formats[f], sizes[s][0], sizes[s][1], TRUE);

      assert_probabilities_near (padded, packed, GREY_CLASSES, 1e-6,
          "padded vs packed");
      if (ref == NULL)
        ref = g_memdup2 (packed, GREY_CLASSES * sizeof (gfloat));
      assert_probabilities_near (packed, ref, GREY_CLASSES, 1e-4, formats[f]);
      g_free (packed);
      g_free (padded);
    }
    g_free (ref);
  }
}

GST_END_TEST;

/* A grey frame the size of the input needs no scaling: the network's
 * input is just the pixels / 255. */
GST_START_TEST (test_grey_result_matches_network)
{
  GstVideoInfo info;
  gfloat input[28 * 28], *expected;
  GstHarness *h;
  GstBuffer *out;
  const GstCnnClassificationMeta *meta;

  video_info_packed (&info, "GRAY8", 28, 28);
  for (guint y = 0; y < 28; y++)
    for (guint x = 0; x < 28; x++)
      input[y * 28 + x] = picture_is_white (x, y, 28, 28) ? 1.0f : 0.0f;
  expected = forward_directly (grey_model, input);

  h = harness_new (grey_model, &info);
  out = push_picture (h, &info, 0);
  meta = check_meta (out, GREY_CLASSES);
  assert_probabilities_near (meta->probabilities, expected, GREY_CLASSES,
      1e-5, "element vs network");
  fail_unless_equals_string (meta->model, "grey");
  fail_unless (meta->class_id >= 0);
  /* cnn_model_new's labels: "0".."9". */
  {
    gchar *label = g_strdup_printf ("%d", meta->class_id);

    fail_unless_equals_string (meta->label, label);
    g_free (label);
  }

  g_free (expected);
  gst_buffer_unref (out);
  harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_rgb_result_matches_network)
{
  GstVideoInfo info;
  gfloat input[3 * 16 * 16], *expected;
  GstHarness *h;
  GstBuffer *out;
  const GstCnnClassificationMeta *meta;

  video_info_packed (&info, "BGRA", 16, 16);
  for (guint c = 0; c < 3; c++)
    for (guint y = 0; y < 16; y++)
      for (guint x = 0; x < 16; x++)
        input[(c * 16 + y) * 16 + x] =
            picture_is_white (x, y, 16, 16) ? 1.0f : 0.0f;
  expected = forward_directly (rgb_model, input);

  h = harness_new (rgb_model, &info);
  out = push_picture (h, &info, 0);
  meta = check_meta (out, RGB_CLASSES);
  assert_probabilities_near (meta->probabilities, expected, RGB_CLASSES,
      1e-5, "element vs network");
  fail_unless_equals_string (meta->model, RGB_NAME);
  fail_unless_equals_string (meta->label, rgb_labels[meta->class_id]);

  g_free (expected);
  gst_buffer_unref (out);
  harness_teardown (h);
}

GST_END_TEST;

/* A big padded I420 frame described to libcnn by this test, plane by
 * plane, and run through the preprocessor and network directly. */
GST_START_TEST (test_i420_result_matches_preprocessor)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  GstBuffer *in, *out;
  GstHarness *h;
  CnnModel *model = cnn_model_load (grey_model, NULL);
  CnnNetwork *net = cnn_model_network (model);
  CnnPreprocessor *pre;
  CnnImage image = { 0 };
  CnnRect roi = { 100, 50, 1200, 900 };
  gfloat input[28 * 28];
  const gfloat *expected;
  const GstCnnClassificationMeta *meta;

  video_info_padded (&info, "I420", 1921, 1081);
  in = picture_buffer (&info, 0);
  fail_unless (gst_video_frame_map (&frame, &info, in, GST_MAP_READ));
  image.width = 1921;
  image.height = 1081;
  image.color = CNN_COLOR_YUV;
  image.limited_range = TRUE;
  image.kr = 0.2126f;
  image.kb = 0.0722f;
  for (guint p = 0; p < 3; p++) {
    image.planes[p].data = GST_VIDEO_FRAME_PLANE_DATA (&frame, p);
    image.planes[p].row_stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, p);
    image.planes[p].pixel_stride = 1;
    image.planes[p].x_shift = image.planes[p].y_shift = p > 0;
  }
  pre = cnn_preprocessor_new ("resize", cnn_network_input_shape (net), NULL);
  fail_unless (pre != NULL);
  fail_unless (cnn_preprocessor_run (pre, &image, roi, input));
  fail_unless (cnn_network_reserve (net, 1, NULL));
  expected = cnn_network_forward (net, input, 1);
  gst_video_frame_unmap (&frame);

  h = harness_start (classify_new (grey_model), &info);
  g_object_set (h->element, "roi", "100,50,1200,900", NULL);
  out = gst_harness_push_and_pull (h, in);
  meta = check_meta (out, GREY_CLASSES);
  assert_probabilities_near (meta->probabilities, expected, GREY_CLASSES,
      1e-5, "element vs preprocessor + network");
  fail_unless_equals_int (meta->roi_x, 100);
  fail_unless_equals_int (meta->roi_y, 50);
  fail_unless_equals_int (meta->roi_width, 1200);
  fail_unless_equals_int (meta->roi_height, 900);

  gst_buffer_unref (out);
  harness_teardown (h);
  cnn_preprocessor_free (pre);
  cnn_model_free (model);
}

GST_END_TEST;

/* A colourful I420 frame: luma and both chroma planes vary. */
static GstBuffer *
coloured_i420_buffer (const GstVideoInfo * info)
{
  GstBuffer *buf = gst_buffer_new_and_alloc (GST_VIDEO_INFO_SIZE (info));
  GstVideoFrame frame;

  fail_unless (gst_video_frame_map (&frame, info, buf, GST_MAP_WRITE));
  for (guint p = 0; p < 3; p++) {
    guint8 *data = GST_VIDEO_FRAME_PLANE_DATA (&frame, p);
    gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, p);

    for (gint y = 0; y < GST_VIDEO_FRAME_COMP_HEIGHT (&frame, p); y++)
      for (gint x = 0; x < GST_VIDEO_FRAME_COMP_WIDTH (&frame, p); x++)
        data[y * stride + x] = 16 + (x * (7 + 4 * p) + y * (3 + 5 * p)) % 220;
  }
  gst_video_frame_unmap (&frame);
  return buf;
}

/* The RGB model run directly on @buf described with the given matrix and
 * range. */
static gfloat *
rgb_model_on_i420 (const GstVideoInfo * info, GstBuffer * buf, gfloat kr,
    gfloat kb, gboolean limited)
{
  CnnModel *model = cnn_model_load (rgb_model, NULL);
  CnnNetwork *net = cnn_model_network (model);
  CnnPreprocessor *pre =
      cnn_preprocessor_new ("resize", cnn_network_input_shape (net), NULL);
  CnnImage image = { 0 };
  CnnRect all = { 0, 0, GST_VIDEO_INFO_WIDTH (info),
    GST_VIDEO_INFO_HEIGHT (info)
  };
  GstVideoFrame frame;
  gfloat input[3 * 16 * 16], *out;

  fail_unless (gst_video_frame_map (&frame, info, buf, GST_MAP_READ));
  image.width = all.width;
  image.height = all.height;
  image.color = CNN_COLOR_YUV;
  image.limited_range = limited;
  image.kr = kr;
  image.kb = kb;
  for (guint p = 0; p < 3; p++) {
    image.planes[p].data = GST_VIDEO_FRAME_PLANE_DATA (&frame, p);
    image.planes[p].row_stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, p);
    image.planes[p].pixel_stride = 1;
    image.planes[p].x_shift = image.planes[p].y_shift = p > 0;
  }
  fail_unless (cnn_preprocessor_run (pre, &image, all, input));
  gst_video_frame_unmap (&frame);
  fail_unless (cnn_network_reserve (net, 1, NULL));
  out = g_memdup2 (cnn_network_forward (net, input, 1),
      RGB_CLASSES * sizeof (gfloat));
  cnn_preprocessor_free (pre);
  cnn_model_free (model);
  return out;
}

static gdouble
max_difference (const gfloat * a, const gfloat * b, guint n)
{
  gdouble d = 0.0;

  for (guint i = 0; i < n; i++)
    d = MAX (d, fabs (a[i] - b[i]));
  return d;
}

/* The caps' matrix and range reach libcnn: BT.709 limited and BT.601
 * full range frames give what the network gives on those planes with
 * those constants, and not what it gives with the other constants. */
GST_START_TEST (test_yuv_colorimetry)
{
  static const struct
  {
    const gchar *colorimetry;
    gfloat kr, kb;
    gboolean limited;
  } cases[] = {
    {"bt709", 0.2126f, 0.0722f, TRUE},
    {"1:4:0:0", 0.299f, 0.114f, FALSE},   /* full range, BT.601 matrix */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    GstVideoInfo info;
    GstHarness *h;
    GstBuffer *in, *out;
    const GstCnnClassificationMeta *meta;
    gfloat *expected, *other;

    video_info_packed (&info, "I420", 64, 48);
    fail_unless (gst_video_colorimetry_from_string (&info.colorimetry,
            cases[i].colorimetry));
    fail_unless_equals_int (info.colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255,
        !cases[i].limited);
    in = coloured_i420_buffer (&info);
    expected = rgb_model_on_i420 (&info, in, cases[i].kr, cases[i].kb,
        cases[i].limited);
    other = rgb_model_on_i420 (&info, in, cases[1 - i].kr, cases[1 - i].kb,
        cases[1 - i].limited);
    fail_unless (max_difference (expected, other, RGB_CLASSES) > 1e-3,
        "the picture does not tell the colorimetries apart");

    h = harness_new (rgb_model, &info);
    out = gst_harness_push_and_pull (h, in);
    meta = check_meta (out, RGB_CLASSES);
    assert_probabilities_near (meta->probabilities, expected, RGB_CLASSES,
        1e-5, cases[i].colorimetry);

    g_free (expected);
    g_free (other);
    gst_buffer_unref (out);
    harness_teardown (h);
  }
}

GST_END_TEST;

GST_START_TEST (test_renegotiation)
{
  static const struct
  {
    const gchar *format;
    guint width, height;
  } steps[] = { {"GRAY8", 64, 64}, {"I420", 640, 480}, {"RGBA", 30, 20} };
  GstVideoInfo info;
  GstHarness *h;

  video_info_packed (&info, steps[0].format, steps[0].width, steps[0].height);
  h = harness_new (grey_model, &info);
  for (guint i = 0; i < G_N_ELEMENTS (steps); i++) {
    GstBuffer *out;
    const GstCnnClassificationMeta *meta;
    gfloat *alone;

    video_info_packed (&info, steps[i].format, steps[i].width,
        steps[i].height);
    gst_harness_set_src_caps (h, gst_video_info_to_caps (&info));
    out = push_picture (h, &info, i * GST_SECOND);
    meta = check_meta (out, GREY_CLASSES);
    fail_unless_equals_int (meta->roi_width, steps[i].width);
    fail_unless_equals_int (meta->roi_height, steps[i].height);

    /* The same as a fresh element that only ever saw this format. */
    alone = classify_picture (grey_model, GREY_CLASSES, steps[i].format,
        steps[i].width, steps[i].height, FALSE);
    assert_probabilities_near (meta->probabilities, alone, GREY_CLASSES, 1e-6,
        steps[i].format);
    g_free (alone);
    gst_buffer_unref (out);
  }
  harness_teardown (h);
}

GST_END_TEST;

/* ---- tests: properties and results ------------------------------------ */

GST_START_TEST (test_interval)
{
  GstVideoInfo info;
  GstElement *element = classify_new (grey_model);
  GstHarness *h;
  guint64 classified;
  gdouble last, mean;

  g_object_set (element, "interval", 3, NULL);
  video_info_packed (&info, "GRAY8", 28, 28);
  h = harness_start (element, &info);
  for (guint i = 0; i < 7; i++) {
    GstBuffer *out = push_picture (h, &info, i * GST_SECOND / 30);
    gboolean has_meta = gst_buffer_get_cnn_classification_meta (out) != NULL;

    fail_unless_equals_int (has_meta, i % 3 == 0);
    gst_buffer_unref (out);
  }
  g_object_get (h->element, "frames-classified", &classified,
      "last-inference-time", &last, "mean-inference-time", &mean, NULL);
  fail_unless_equals_uint64 (classified, 3);
  fail_unless (last > 0.0 && mean > 0.0, "times %f %f", last, mean);
  harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_threshold)
{
  GstVideoInfo info;
  GstElement *element = classify_new (grey_model);
  GstHarness *h;
  GstBuffer *out;
  GstMessage *msg;
  const GstCnnClassificationMeta *meta;
  const GstStructure *s;
  gint class_id;

  g_object_set (element, "threshold", 1.0, NULL);
  video_info_packed (&info, "GRAY8", 28, 28);
  h = harness_start (element, &info);
  out = push_picture (h, &info, 0);
  meta = check_meta (out, GREY_CLASSES);
  fail_unless_equals_int (meta->class_id, -1);
  fail_unless (meta->label == NULL);
  /* Still the best probability, which a random net keeps below 1. */
  fail_unless (meta->confidence > 0.0f && meta->confidence < 1.0f);

  msg = pop_message (h->element, GST_MESSAGE_ELEMENT);
  fail_unless (msg != NULL);
  s = gst_message_get_structure (msg);
  fail_unless (gst_structure_get_int (s, "class-id", &class_id));
  fail_unless_equals_int (class_id, -1);
  fail_unless_equals_string (gst_structure_get_string (s, "label"), "");
  gst_message_unref (msg);

  /* Back to 0 while playing: the best class is reported again. */
  g_object_set (h->element, "threshold", 0.0, NULL);
  gst_buffer_unref (out);
  out = push_picture (h, &info, GST_SECOND);
  meta = check_meta (out, GREY_CLASSES);
  fail_unless (meta->class_id >= 0);

  gst_buffer_unref (out);
  harness_teardown (h);
}

GST_END_TEST;

static void
check_message_matches_meta (const GstStructure * s,
    const GstCnnClassificationMeta * meta)
{
  const GValue *array;
  gint class_id;
  gdouble confidence, sum = 0.0;
  const gchar *label;

  fail_unless (gst_structure_has_name (s, "cnn-classification"));
  fail_unless (gst_structure_get_int (s, "class-id", &class_id));
  fail_unless_equals_int (class_id, meta->class_id);
  fail_unless (gst_structure_has_field_typed (s, "label", G_TYPE_STRING));
  label = gst_structure_get_string (s, "label");
  fail_unless_equals_string (label, meta->label ? meta->label : "");
  fail_unless (gst_structure_get_double (s, "confidence", &confidence));
  fail_unless_equals_float (confidence, meta->confidence);

  array = gst_structure_get_value (s, "probabilities");
  fail_unless (array != NULL && GST_VALUE_HOLDS_ARRAY (array));
  fail_unless_equals_int (gst_value_array_get_size (array), meta->n_classes);
  for (guint i = 0; i < meta->n_classes; i++) {
    const GValue *v = gst_value_array_get_value (array, i);

    fail_unless (G_VALUE_HOLDS_DOUBLE (v));
    fail_unless_equals_float (g_value_get_double (v),
        meta->probabilities[i]);
    sum += g_value_get_double (v);
  }
  fail_unless (fabs (sum - 1.0) < 1e-4 || sum == 0.0, "sum %f", sum);
}

static void
check_message_uint (const GstStructure * s, const gchar * field, guint value)
{
  guint v;

  fail_unless (gst_structure_get_uint (s, field, &v), "no %s", field);
  fail_unless_equals_int (v, value);
}

static void
check_message_uint64 (const GstStructure * s, const gchar * field,
    guint64 value)
{
  guint64 v;

  fail_unless (gst_structure_has_field_typed (s, field, G_TYPE_UINT64),
      "no %s", field);
  fail_unless (gst_structure_get_uint64 (s, field, &v));
  fail_unless_equals_uint64 (v, value);
}

GST_START_TEST (test_message_fields)
{
  GstVideoInfo info;
  GstElement *element = classify_new (rgb_model);
  GstHarness *h;
  GstSegment segment;
  GstBuffer *out;
  GstMessage *msg;
  const GstCnnClassificationMeta *meta;
  const GstStructure *s;

  g_object_set (element, "roi", " 4, 2,40 ,30", NULL);
  video_info_packed (&info, "NV12", 56, 42);
  h = harness_start (element, &info);

  /* Times that differ: running = pts - start + base, stream = pts -
   * start + time. */
  gst_segment_init (&segment, GST_FORMAT_TIME);
  segment.start = 1 * GST_SECOND;
  segment.time = 5 * GST_SECOND;
  segment.base = 10 * GST_SECOND;
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&segment)));

  out = push_picture (h, &info, 3 * GST_SECOND);
  meta = check_meta (out, RGB_CLASSES);
  msg = pop_message (h->element, GST_MESSAGE_ELEMENT);
  fail_unless (msg != NULL);
  fail_unless (GST_MESSAGE_SRC (msg) == GST_OBJECT (h->element));
  s = gst_message_get_structure (msg);
  check_message_matches_meta (s, meta);
  check_message_uint64 (s, "timestamp", 3 * GST_SECOND);
  check_message_uint64 (s, "stream-time", 7 * GST_SECOND);
  check_message_uint64 (s, "running-time", 12 * GST_SECOND);
  check_message_uint (s, "roi-x", 4);
  check_message_uint (s, "roi-y", 2);
  check_message_uint (s, "roi-width", 40);
  check_message_uint (s, "roi-height", 30);
  fail_unless_equals_int (meta->roi_x, 4);
  fail_unless_equals_int (meta->roi_y, 2);
  fail_unless_equals_int (meta->roi_width, 40);
  fail_unless_equals_int (meta->roi_height, 30);
  fail_unless_equals_int (gst_structure_n_fields (s), 11);
  gst_message_unref (msg);
  gst_buffer_unref (out);

  /* A region sticking out of the frame is clipped. */
  g_object_set (h->element, "roi", "50,40,100,100", NULL);
  out = push_picture (h, &info, 4 * GST_SECOND);
  meta = check_meta (out, RGB_CLASSES);
  msg = pop_message (h->element, GST_MESSAGE_ELEMENT);
  s = gst_message_get_structure (msg);
  check_message_matches_meta (s, meta);
  check_message_uint (s, "roi-x", 50);
  check_message_uint (s, "roi-y", 40);
  check_message_uint (s, "roi-width", 6);
  check_message_uint (s, "roi-height", 2);
  fail_unless_equals_int (meta->roi_width, 6);
  fail_unless_equals_int (meta->roi_height, 2);
  gst_message_unref (msg);
  gst_buffer_unref (out);

  /* No messages when asked not to, the meta still. */
  g_object_set (h->element, "post-messages", FALSE, NULL);
  out = push_picture (h, &info, 5 * GST_SECOND);
  check_meta (out, RGB_CLASSES);
  fail_unless (pop_message (h->element, GST_MESSAGE_ELEMENT) == NULL);
  gst_buffer_unref (out);
  harness_teardown (h);
}

GST_END_TEST;

/* A region wholly outside the frame: nothing to classify, still a meta. */
GST_START_TEST (test_empty_region)
{
  GstVideoInfo info;
  GstElement *element = classify_new (grey_model);
  GstHarness *h;
  GstBuffer *out;
  GstMessage *msg;
  const GstCnnClassificationMeta *meta;

  g_object_set (element, "roi", "100,100,10,10", NULL);
  video_info_packed (&info, "I420", 56, 42);
  h = harness_start (element, &info);
  out = push_picture (h, &info, 0);
  meta = gst_buffer_get_cnn_classification_meta (out);
  fail_unless (meta != NULL);
  fail_unless_equals_int (meta->class_id, -1);
  fail_unless (meta->label == NULL);
  fail_unless_equals_float (meta->confidence, 0.0f);
  fail_unless_equals_int (meta->n_classes, GREY_CLASSES);
  for (guint i = 0; i < GREY_CLASSES; i++)
    fail_unless_equals_float (meta->probabilities[i], 0.0f);
  fail_unless_equals_int (meta->roi_x, 56);
  fail_unless_equals_int (meta->roi_width, 0);

  msg = pop_message (h->element, GST_MESSAGE_ELEMENT);
  fail_unless (msg != NULL);
  check_message_matches_meta (gst_message_get_structure (msg), meta);
  gst_message_unref (msg);
  gst_buffer_unref (out);
  harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_labels_override)
{
  static const gchar *names[] = { "zero", "one", "two", "three", "four",
    "five", "six", "seven", "eight", "nine"
  };
  GstVideoInfo info;
  GstElement *element = classify_new (grey_model);
  GstHarness *h;
  GstBuffer *out;
  const GstCnnClassificationMeta *meta;

  g_object_set (element, "labels", digit_labels, NULL);
  video_info_packed (&info, "GRAY8", 28, 28);
  h = harness_start (element, &info);
  out = push_picture (h, &info, 0);
  meta = check_meta (out, GREY_CLASSES);
  fail_unless (meta->class_id >= 0);
  fail_unless_equals_string (meta->label, names[meta->class_id]);
  gst_buffer_unref (out);
  harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_threads_same_result)
{
  gfloat *one = classify_picture (grey_model, GREY_CLASSES, "GRAY8", 56, 42,
      FALSE);
  GstVideoInfo info;
  GstElement *element = classify_new (grey_model);
  GstHarness *h;
  GstBuffer *out;
  const GstCnnClassificationMeta *meta;

  g_object_set (element, "threads", 3, NULL);
  video_info_packed (&info, "GRAY8", 56, 42);
  h = harness_start (element, &info);
  out = push_picture (h, &info, 0);
  meta = check_meta (out, GREY_CLASSES);
  assert_probabilities_near (meta->probabilities, one, GREY_CLASSES, 1e-5,
      "3 threads vs 1");
  gst_buffer_unref (out);
  harness_teardown (h);
  g_free (one);
}

GST_END_TEST;

GST_START_TEST (test_model_change_while_playing)
{
  GstVideoInfo info;
  GstHarness *h;
  GstBuffer *out;
  GstMessage *msg;
  GError *err = NULL;

  video_info_packed (&info, "RGBx", 32, 24);
  h = harness_new (grey_model, &info);
  out = push_picture (h, &info, 0);
  check_meta (out, GREY_CLASSES);
  gst_buffer_unref (out);

  g_object_set (h->element, "model", rgb_model, NULL);
  out = push_picture (h, &info, GST_SECOND);
  fail_unless_equals_string (check_meta (out, RGB_CLASSES)->model, RGB_NAME);
  gst_buffer_unref (out);

  /* A model that cannot be loaded: an error, and the last good model
   * keeps working until the application reacts. */
  g_object_set (h->element, "model", "/nonexistent/other.safetensors", NULL);
  msg = pop_message (h->element, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (strstr (err->message, "other.safetensors") != NULL, "%s",
      err->message);
  g_error_free (err);
  gst_message_unref (msg);
  out = push_picture (h, &info, 2 * GST_SECOND);
  check_meta (out, RGB_CLASSES);
  gst_buffer_unref (out);
  harness_teardown (h);
}

GST_END_TEST;

typedef struct
{
  GstElement *element;
  gint done;
} Toggler;

static gpointer
toggle_models (gpointer data)
{
  Toggler *t = data;

  for (guint i = 0; i < 40; i++)
    g_object_set (t->element, "model", i % 2 ? grey_model : rgb_model, NULL);
  g_atomic_int_set (&t->done, 1);
  return NULL;
}

/* The model of a classified frame, after checking that its whole result
 * comes from that one model (name, class count, labels, probabilities). */
static gboolean
result_is_rgb (GstBuffer * out)
{
  const GstCnnClassificationMeta *meta =
      gst_buffer_get_cnn_classification_meta (out);
  gboolean rgb;

  fail_unless (meta != NULL);
  rgb = g_strcmp0 (meta->model, RGB_NAME) == 0;
  fail_unless (rgb || g_strcmp0 (meta->model, "grey") == 0);
  check_meta (out, rgb ? RGB_CLASSES : GREY_CLASSES);
  if (rgb) {
    fail_unless_equals_string (meta->label, rgb_labels[meta->class_id]);
  } else {
    fail_unless (strlen (meta->label) == 1 && g_ascii_isdigit (*meta->label));
  }
  return rgb;
}

/* Models replaced from another thread while frames stream: no frame
 * mixes two models, and the last model set is the one left in use. */
GST_START_TEST (test_model_swap_race)
{
  GstVideoInfo info;
  GstHarness *h;
  GThread *thread;
  Toggler toggler = { NULL, 0 };
  guint seen[2] = { 0, 0 };
  GstBuffer *out;

  video_info_packed (&info, "GRAY8", 28, 28);
  h = harness_new (grey_model, &info);
  g_object_set (h->element, "post-messages", FALSE, NULL);
  toggler.element = h->element;
  thread = g_thread_new ("toggle", toggle_models, &toggler);
  for (guint i = 0; i < 100 || !g_atomic_int_get (&toggler.done); i++) {
    out = push_picture (h, &info, i * GST_MSECOND);
    seen[result_is_rgb (out)]++;
    gst_buffer_unref (out);
  }
  g_thread_join (thread);
  GST_INFO ("grey %u, rgb %u frames", seen[0], seen[1]);

  out = push_picture (h, &info, GST_SECOND);
  fail_if (result_is_rgb (out), "the last model set was the grey one");
  gst_buffer_unref (out);
  harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_properties_round_trip)
{
  GstElement *element = gst_element_factory_make ("cnnclassify", NULL);
  gchar *model, *labels, *roi, *preprocess;
  guint interval, threads;
  gdouble threshold;
  gboolean post;
  GParamSpec **specs;
  guint n_specs;

  g_object_get (element, "model", &model, "labels", &labels, "roi", &roi,
      "preprocess", &preprocess, "interval", &interval, "threshold",
      &threshold, "post-messages", &post, "threads", &threads, NULL);
  fail_unless (model == NULL && labels == NULL && roi == NULL
      && preprocess == NULL);
  fail_unless_equals_int (interval, 1);
  fail_unless_equals_float (threshold, 0.0);
  fail_unless (post);
  fail_unless_equals_int (threads, 1);

  g_object_set (element, "model", "/m.safetensors", "labels", "/l.txt",
      "roi", "1,2,3,4", "preprocess", "resize mean=0.5 std=0.25",
      "interval", 5, "threshold", 0.75, "post-messages", FALSE,
      "threads", 4, NULL);
  g_object_get (element, "model", &model, "labels", &labels, "roi", &roi,
      "preprocess", &preprocess, "interval", &interval, "threshold",
      &threshold, "post-messages", &post, "threads", &threads, NULL);
  fail_unless_equals_string (model, "/m.safetensors");
  fail_unless_equals_string (labels, "/l.txt");
  fail_unless_equals_string (roi, "1,2,3,4");
  fail_unless_equals_string (preprocess, "resize mean=0.5 std=0.25");
  fail_unless_equals_int (interval, 5);
  fail_unless_equals_float (threshold, 0.75);
  fail_unless (!post);
  fail_unless_equals_int (threads, 4);
  g_free (model);
  g_free (labels);
  g_free (roi);
  g_free (preprocess);

  /* A malformed region is refused and the previous one kept. */
  g_object_set (element, "roi", "1,2,0,4", NULL);
  g_object_get (element, "roi", &roi, NULL);
  fail_unless_equals_string (roi, "1,2,3,4");
  g_free (roi);
  g_object_set (element, "roi", "1,2,3", NULL);
  g_object_set (element, "roi", "a,b,c,d", NULL);
  g_object_get (element, "roi", &roi, NULL);
  fail_unless_equals_string (roi, "1,2,3,4");
  g_free (roi);
  g_object_set (element, "roi", "", NULL);
  g_object_get (element, "roi", &roi, NULL);
  fail_unless (roi == NULL);

  /* Every property documented: a nick and a blurb. */
  specs = g_object_class_list_properties (G_OBJECT_GET_CLASS (element),
      &n_specs);
  for (guint i = 0; i < n_specs; i++) {
    fail_unless (g_param_spec_get_nick (specs[i]) != NULL);
    fail_unless (strlen (g_param_spec_get_blurb (specs[i])) > 10,
        "%s has no blurb", specs[i]->name);
  }
  g_free (specs);
  gst_object_unref (element);
}

GST_END_TEST;

/* ---- tests: errors ---------------------------------------------------- */

/* Starting with @property = @value fails with a RESOURCE error whose
 * message names @mentions. */
static void
check_start_fails (const gchar * model, const gchar * property,
    const gchar * value, gint code, const gchar * mentions)
{
  GstElement *element = classify_new (model);
  GstMessage *msg;
  GError *err = NULL;

  if (property)
    g_object_set (element, property, value, NULL);
  fail_unless_equals_int (gst_element_set_state (element, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = pop_message (element, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error posted");
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (err->domain == GST_RESOURCE_ERROR);
  fail_unless_equals_int (err->code, code);
  fail_unless (strstr (err->message, mentions) != NULL,
      "\"%s\" does not mention %s", err->message, mentions);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (element, GST_STATE_NULL);
  flush_bus (element);
  gst_object_unref (element);
}

GST_START_TEST (test_bad_model_path)
{
  check_start_fails ("/nonexistent/dir/none.safetensors", NULL, NULL,
      GST_RESOURCE_ERROR_OPEN_READ, "none.safetensors");
}

GST_END_TEST;

GST_START_TEST (test_corrupt_model)
{
  check_start_fails (corrupt_model, NULL, NULL, GST_RESOURCE_ERROR_OPEN_READ,
      "corrupt.safetensors");
}

GST_END_TEST;

GST_START_TEST (test_bad_settings)
{
  check_start_fails (grey_model, "labels", short_labels,
      GST_RESOURCE_ERROR_SETTINGS, "short.txt");
  check_start_fails (grey_model, "labels", "/nonexistent/labels.txt",
      GST_RESOURCE_ERROR_OPEN_READ, "labels.txt");
  check_start_fails (grey_model, "preprocess", "zoom 3",
      GST_RESOURCE_ERROR_SETTINGS, "zoom");
}

GST_END_TEST;

/* Unset, the model is the bundled digit model: it classifies if the
 * file is there, else the error names it. */
/* With `model` unset the bundled digit model loads, and it reads real
 * MNIST test digits, pushed as 28×28 GRAY8 frames, correctly. */
GST_START_TEST (test_default_model)
{
  const guint n_digits = 50;
  GError *error = NULL;
  CnnDataset *digits;
  GstVideoInfo info;
  GstHarness *h;
  guint correct = 0;

  fail_unless (g_file_test (SOURCE_MODEL, G_FILE_TEST_IS_REGULAR),
      "the bundled model %s is missing", SOURCE_MODEL);
  digits = cnn_dataset_load_idx (MNIST_DIR "/t10k-images-idx3-ubyte.gz",
      MNIST_DIR "/t10k-labels-idx1-ubyte.gz", &error);
  fail_unless (digits != NULL, "MNIST test set: %s",
      error ? error->message : "?");

  video_info_packed (&info, "GRAY8", 28, 28);
  h = harness_start (classify_new (NULL), &info);
  for (guint i = 0; i < n_digits; i++) {
    GstBuffer *in = gst_buffer_new_allocate (NULL, info.size, NULL);
    GstBuffer *out;
    GstMapInfo map;
    GstCnnClassificationMeta *meta;

    gst_buffer_map (in, &map, GST_MAP_WRITE);
    for (guint y = 0; y < 28; y++)
      memcpy (map.data + y * GST_VIDEO_INFO_PLANE_STRIDE (&info, 0),
          digits->pixels + (gsize) i * 784 + y * 28, 28);
    gst_buffer_unmap (in, &map);
    GST_BUFFER_PTS (in) = i * GST_SECOND;
    out = gst_harness_push_and_pull (h, in);
    meta = gst_buffer_get_cnn_classification_meta (out);
    fail_unless (meta != NULL);
    fail_unless_equals_int (meta->n_classes, 10);
    fail_unless_equals_string (meta->model, "digits");
    if (meta->class_id == (gint) digits->labels[i]) {
      fail_unless_equals_int (atoi (meta->label), digits->labels[i]);
      correct++;
    }
    gst_buffer_unref (out);
  }
  harness_teardown (h);
  cnn_dataset_free (digits);
  /* The model scores 99 % on the whole test set: 48 of 50 is a floor
   * with room for one or two hard digits, far above chance (5 of 50). */
  fail_unless (correct >= n_digits - 2, "only %u of %u digits right",
      correct, n_digits);
}

GST_END_TEST;

/* ---- tests: the meta -------------------------------------------------- */

GST_START_TEST (test_meta_transforms)
{
  static const gfloat probabilities[3] = { 0.25f, 0.5f, 0.25f };
  GstBuffer *buf = gst_buffer_new_and_alloc (64), *copy, *dest;
  GstCnnClassificationMeta *meta, *got;
  GstVideoInfo in_info, out_info;
  GstVideoMetaTransform scale = { &in_info, &out_info };
  GstMetaTransformCopy region = { TRUE, 8, 16 };

  meta = gst_buffer_add_cnn_classification_meta (buf, 1, "b", 0.5f, 3,
      probabilities, 10, 20, 30, 40, "m");
  fail_unless (meta != NULL);
  fail_unless (gst_buffer_get_cnn_classification_meta (buf) == meta);
  fail_unless (gst_meta_api_type_has_tag (GST_CNN_CLASSIFICATION_META_API_TYPE,
          g_quark_from_string (GST_META_TAG_VIDEO_STR)));

  /* Copies keep it, deeply. */
  copy = gst_buffer_copy (buf);
  got = gst_buffer_get_cnn_classification_meta (copy);
  fail_unless (got != NULL && got != meta);
  fail_unless_equals_int (got->class_id, 1);
  fail_unless_equals_string (got->label, "b");
  fail_unless (got->label != meta->label);
  fail_unless_equals_float (got->confidence, 0.5f);
  fail_unless_equals_int (got->n_classes, 3);
  fail_unless (memcmp (got->probabilities, probabilities,
          sizeof probabilities) == 0);
  fail_unless (got->probabilities != meta->probabilities);
  fail_unless_equals_string (got->model, "m");
  fail_unless_equals_int (got->roi_x, 10);
  fail_unless_equals_int (got->roi_height, 40);
  gst_buffer_unref (copy);

  /* Scaling 100×80 → 50×160 scales the region with the frame. */
  gst_video_info_set_format (&in_info, GST_VIDEO_FORMAT_GRAY8, 100, 80);
  gst_video_info_set_format (&out_info, GST_VIDEO_FORMAT_GRAY8, 50, 160);
  dest = gst_buffer_new ();
  fail_unless (meta->meta.info->transform_func (dest, &meta->meta, buf,
          gst_video_meta_transform_scale_get_quark (), &scale));
  got = gst_buffer_get_cnn_classification_meta (dest);
  fail_unless (got != NULL);
  fail_unless_equals_int (got->roi_x, 5);
  fail_unless_equals_int (got->roi_y, 40);
  fail_unless_equals_int (got->roi_width, 15);
  fail_unless_equals_int (got->roi_height, 80);
  fail_unless_equals_int (got->class_id, 1);
  gst_buffer_unref (dest);

  /* A piece of the memory, or any other transform: no longer the frame
   * that was classified. */
  dest = gst_buffer_new ();
  meta->meta.info->transform_func (dest, &meta->meta, buf,
      _gst_meta_transform_copy, &region);
  fail_unless (gst_buffer_get_cnn_classification_meta (dest) == NULL);
  fail_if (meta->meta.info->transform_func (dest, &meta->meta, buf,
          g_quark_from_static_string ("gst-video-rotate"), NULL));
  fail_unless (gst_buffer_get_cnn_classification_meta (dest) == NULL);
  gst_buffer_unref (dest);

  gst_buffer_unref (buf);
}

GST_END_TEST;

static Suite *
cnnclassify_suite (void)
{
  Suite *s = suite_create ("cnnclassify");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_unchecked_fixture (tc, models_setup, models_teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_every_format_same_result);
  tcase_add_test (tc, test_odd_sizes_and_padded_strides);
  tcase_add_test (tc, test_grey_result_matches_network);
  tcase_add_test (tc, test_rgb_result_matches_network);
  tcase_add_test (tc, test_i420_result_matches_preprocessor);
  tcase_add_test (tc, test_yuv_colorimetry);
  tcase_add_test (tc, test_renegotiation);
  tcase_add_test (tc, test_interval);
  tcase_add_test (tc, test_threshold);
  tcase_add_test (tc, test_message_fields);
  tcase_add_test (tc, test_empty_region);
  tcase_add_test (tc, test_labels_override);
  tcase_add_test (tc, test_threads_same_result);
  tcase_add_test (tc, test_model_change_while_playing);
  tcase_add_test (tc, test_model_swap_race);
  tcase_add_test (tc, test_properties_round_trip);
  tcase_add_test (tc, test_bad_model_path);
  tcase_add_test (tc, test_corrupt_model);
  tcase_add_test (tc, test_bad_settings);
  tcase_add_test (tc, test_default_model);
  tcase_add_test (tc, test_meta_transforms);
  return s;
}

GST_CHECK_MAIN (cnnclassify);
