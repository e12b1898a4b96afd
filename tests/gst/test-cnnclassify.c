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

#include "test-common.h"

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
static gchar *grey_model, *rgb_model, *corrupt_model, *wide_model;
static gchar *bars_model;
static gchar *digit_labels, *short_labels, *rgb_labels_file;

/* ---- fixtures: model and labels files -------------------------------- */

static gchar *
save_model (const gchar * name, const gchar * arch, const gchar * input,
    guint64 seed, const gchar ** labels, const gchar * meta_name)
{
  return test_save_model (tmp_dir, name, arch, input, seed, labels,
      meta_name);
}

static gchar *
save_text (const gchar * name, const gchar * text, gsize length)
{
  gchar *path = g_build_filename (tmp_dir, name, NULL);

  fail_unless (g_file_set_contents (path, text, length, NULL));
  return path;
}

/* A stand-in for the digit model whose answers the tests control:
 * "mnist" preprocessing (so a blank frame has no ink), then one dense
 * layer scoring the framed ink in the middle rows ("across", a
 * horizontal bar) against the ink in the middle columns ("upright", a
 * vertical bar); "other" scores 0.  A bar is framed 20 pixels long, and
 * 0.04 per pixel of difference makes each bar's class clearly, but not
 * overwhelmingly, the most probable (about 0.8). */
#define BARS_CLASSES 3
#define BARS_WEIGHT 0.04f

static gchar *
save_bars_model (const gchar * name)
{
  static const gchar *labels[] = { "across", "upright", "other", NULL };
  gchar *path = g_build_filename (tmp_dir, name, NULL);
  CnnShape shape = { 1, 28, 28 };
  GError *err = NULL;
  CnnModel *model = cnn_model_new ("flatten, dense 3, softmax", shape, &err);
  const gchar *tensor;
  gsize dims[4];
  guint n_dims;
  gfloat *w;

  fail_unless (model != NULL, "%s", err ? err->message : "");
  w = cnn_network_layer_tensor (cnn_model_network (model), 1, 0, &tensor,
      &n_dims, dims);
  fail_unless_equals_string (tensor, "weight");
  fail_unless (n_dims == 2 && dims[0] == 3 && dims[1] == 28 * 28);
  for (guint y = 0; y < 28; y++)
    for (guint x = 0; x < 28; x++) {
      w[0 * 784 + y * 28 + x] = y >= 11 && y <= 16 ? BARS_WEIGHT : 0.0f;
      w[1 * 784 + y * 28 + x] = x >= 11 && x <= 16 ? BARS_WEIGHT : 0.0f;
      w[2 * 784 + y * 28 + x] = 0.0f;
    }
  fail_unless (cnn_model_set_labels (model, labels, &err));
  cnn_model_set_metadata (model, "name", "bars");
  cnn_model_set_metadata (model, "preprocess", "mnist");
  fail_unless (cnn_model_save (model, path, &err), "%s",
      err ? err->message : "");
  cnn_model_free (model);
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
  /* appsrc and appsink, for the tests in a playing pipeline */
  test_load_system_plugin ("app");
  tmp_dir = g_dir_make_tmp ("test-cnnclassify-XXXXXX", NULL);
  fail_unless (tmp_dir != NULL);
  grey_model = save_model ("grey.safetensors", GREY_ARCH, "1x28x28", 1,
      NULL, NULL);
  rgb_model = save_model ("rgb.safetensors", RGB_ARCH, "3x16x16", 2,
      rgb_labels, RGB_NAME);
  corrupt_model = save_corrupt_copy ("corrupt.safetensors", grey_model);
  wide_model = save_model ("wide.safetensors", GREY_ARCH, "1x16x32", 3,
      NULL, NULL);
  bars_model = save_bars_model ("bars.safetensors");
  digit_labels = save_text ("digits.txt",
      "zero\none\ntwo\nthree\nfour\n\n five \nsix\nseven\neight\nnine\n", -1);
  short_labels = save_text ("short.txt", "a\nb\nc\n", -1);
  rgb_labels_file = save_text ("colours.txt", "colour-r\ncolour-g\n"
      "colour-b\ncolour-w\ncolour-k\n", -1);
}

static void
models_teardown (void)
{
  const gchar *files[] = { grey_model, rgb_model, corrupt_model,
    wide_model, bars_model, digit_labels, short_labels, rgb_labels_file
  };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    g_unlink (files[i]);
  g_rmdir (tmp_dir);
  g_free (grey_model);
  g_free (rgb_model);
  g_free (corrupt_model);
  g_free (wide_model);
  g_free (bars_model);
  g_free (digit_labels);
  g_free (short_labels);
  g_free (rgb_labels_file);
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

/* The same frame inside a larger, 64-byte aligned one. */
static void
video_info_padded (GstVideoInfo * info, const gchar * format, guint width,
    guint height)
{
  GstVideoAlignment align;

  test_video_info (info, format, width, height);
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
  return harness_start (test_classify_new (model), info);
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

/* The region cnnclassify classifies by default with a square model: the
 * centred square of side min(width, height). */
static CnnRect
centred_square (guint width, guint height)
{
  CnnRect r;

  r.width = r.height = MIN (width, height);
  r.x = (width - r.width) / 2;
  r.y = (height - r.height) / 2;
  return r;
}

static void
check_meta_roi (const GstCnnClassificationMeta * meta, guint x, guint y,
    guint width, guint height)
{
  fail_unless (meta->roi_x == x && meta->roi_y == y
      && meta->roi_width == width && meta->roi_height == height,
      "roi %u,%u,%u,%u, expected %u,%u,%u,%u", meta->roi_x, meta->roi_y,
      meta->roi_width, meta->roi_height, x, y, width, height);
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
    test_video_info (&info, format, width, height);
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
  {
    CnnRect square = centred_square (width, height);

    check_meta_roi (meta, square.x, square.y, square.width, square.height);
  }
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

  test_video_info (&info, "GRAY8", 28, 28);
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

  test_video_info (&info, "BGRA", 16, 16);
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

  h = harness_start (test_classify_new (grey_model), &info);
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
 * range, over the element's default region (the centred square). */
static gfloat *
rgb_model_on_i420 (const GstVideoInfo * info, GstBuffer * buf, gfloat kr,
    gfloat kb, gboolean limited)
{
  CnnModel *model = cnn_model_load (rgb_model, NULL);
  CnnNetwork *net = cnn_model_network (model);
  CnnPreprocessor *pre =
      cnn_preprocessor_new ("resize", cnn_network_input_shape (net), NULL);
  CnnImage image = { 0 };
  CnnRect square = centred_square (GST_VIDEO_INFO_WIDTH (info),
      GST_VIDEO_INFO_HEIGHT (info));
  GstVideoFrame frame;
  gfloat input[3 * 16 * 16], *out;

  fail_unless (gst_video_frame_map (&frame, info, buf, GST_MAP_READ));
  image.width = GST_VIDEO_INFO_WIDTH (info);
  image.height = GST_VIDEO_INFO_HEIGHT (info);
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
  fail_unless (cnn_preprocessor_run (pre, &image, square, input));
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

    test_video_info (&info, "I420", 64, 48);
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

  test_video_info (&info, steps[0].format, steps[0].width, steps[0].height);
  h = harness_new (grey_model, &info);
  for (guint i = 0; i < G_N_ELEMENTS (steps); i++) {
    GstBuffer *out;
    const GstCnnClassificationMeta *meta;
    gfloat *alone;

    test_video_info (&info, steps[i].format, steps[i].width,
        steps[i].height);
    gst_harness_set_src_caps (h, gst_video_info_to_caps (&info));
    out = push_picture (h, &info, i * GST_SECOND);
    meta = check_meta (out, GREY_CLASSES);
    fail_unless_equals_int (meta->roi_width, MIN (steps[i].width,
            steps[i].height));
    fail_unless_equals_int (meta->roi_height, meta->roi_width);

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
  GstElement *element = test_classify_new (grey_model);
  GstHarness *h;
  guint64 classified;
  gdouble last, mean;

  g_object_set (element, "interval", 3, NULL);
  test_video_info (&info, "GRAY8", 28, 28);
  h = harness_start (element, &info);
  /* Every frame carries the latest result, the ones in between saying
   * how old it is. */
  for (guint i = 0; i < 7; i++) {
    GstBuffer *out = push_picture (h, &info, i * GST_SECOND / 30);
    GstCnnClassificationMeta *meta =
        gst_buffer_get_cnn_classification_meta (out);

    fail_unless (meta != NULL, "frame %u has no meta", i);
    fail_unless_equals_int (meta->frames_ago, i % 3);
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
  GstElement *element = test_classify_new (grey_model);
  GstHarness *h;
  GstBuffer *out;
  GstMessage *msg;
  const GstCnnClassificationMeta *meta;
  const GstStructure *s;
  gint class_id;

  g_object_set (element, "threshold", 1.0, NULL);
  test_video_info (&info, "GRAY8", 28, 28);
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

/* A copy of @path whose metadata says reject-below = @value. */
static gchar *
save_with_reject_below (const gchar * path, const gchar * name,
    const gchar * value)
{
  gchar *copy = g_build_filename (tmp_dir, name, NULL);
  GError *err = NULL;
  CnnModel *model = cnn_model_load (path, &err);

  fail_unless (model != NULL, "%s", err ? err->message : "");
  cnn_model_set_metadata (model, "reject-below", value);
  fail_unless (cnn_model_save (model, copy, &err), "%s",
      err ? err->message : "");
  cnn_model_free (model);
  return copy;
}

/* With threshold left at -1 the model's calibrated reject-below applies:
 * a random net's best class stays below 0.999, so no class; threshold 0
 * reports it. */
GST_START_TEST (test_model_reject_below)
{
  gchar *strict = save_with_reject_below (grey_model, "strict.safetensors",
      "0.999");
  GstElement *element = test_classify_new (strict);
  GstVideoInfo info;
  GstHarness *h;
  GstBuffer *out;
  const GstCnnClassificationMeta *meta;

  test_video_info (&info, "GRAY8", 28, 28);
  h = harness_start (element, &info);
  out = push_picture (h, &info, 0);
  meta = check_meta (out, GREY_CLASSES);
  fail_unless_equals_int (meta->class_id, -1);
  fail_unless (meta->confidence > 0.0f && meta->confidence < 0.999f);
  gst_buffer_unref (out);

  g_object_set (h->element, "threshold", 0.0, NULL);
  out = push_picture (h, &info, GST_SECOND);
  fail_unless (check_meta (out, GREY_CLASSES)->class_id >= 0);
  gst_buffer_unref (out);
  harness_teardown (h);
  g_unlink (strict);
  g_free (strict);
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
  /* 1, or less with smoothing over frames that had nothing to classify
   * (each counts as all zeros). */
  fail_unless (sum <= 1.0 + 1e-4, "sum %f", sum);
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
  GstElement *element = test_classify_new (rgb_model);
  GstHarness *h;
  GstSegment segment;
  GstBuffer *out;
  GstMessage *msg;
  const GstCnnClassificationMeta *meta;
  const GstStructure *s;

  g_object_set (element, "roi", " 4, 2,40 ,30", NULL);
  test_video_info (&info, "NV12", 56, 42);
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
  /* Digit mode's text is the label ("" for no class), as number mode's
   * is the number read. */
  fail_unless_equals_string (gst_structure_get_string (s, "text"),
      meta->label ? meta->label : "");
  fail_unless_equals_int (gst_structure_n_fields (s), 12);
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
  GstElement *element = test_classify_new (grey_model);
  GstHarness *h;
  GstBuffer *out;
  GstMessage *msg;
  const GstCnnClassificationMeta *meta;

  g_object_set (element, "roi", "100,100,10,10", NULL);
  test_video_info (&info, "I420", 56, 42);
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
  GstElement *element = test_classify_new (grey_model);
  GstHarness *h;
  GstBuffer *out;
  const GstCnnClassificationMeta *meta;

  g_object_set (element, "labels", digit_labels, NULL);
  test_video_info (&info, "GRAY8", 28, 28);
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
  GstElement *element = test_classify_new (grey_model);
  GstHarness *h;
  GstBuffer *out;
  const GstCnnClassificationMeta *meta;

  g_object_set (element, "threads", 3, NULL);
  test_video_info (&info, "GRAY8", 56, 42);
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
  gchar *model;

  test_video_info (&info, "RGBx", 32, 24);
  h = harness_new (grey_model, &info);
  out = push_picture (h, &info, 0);
  check_meta (out, GREY_CLASSES);
  gst_buffer_unref (out);

  g_object_set (h->element, "model", rgb_model, NULL);
  out = push_picture (h, &info, GST_SECOND);
  fail_unless_equals_string (check_meta (out, RGB_CLASSES)->model, RGB_NAME);
  gst_buffer_unref (out);

  /* A model that cannot be loaded: a warning naming the file and why,
   * no error (the element carries on), the last good model keeps working
   * and the property says it is the one in use. */
  g_object_set (h->element, "model", "/nonexistent/other.safetensors", NULL);
  msg = pop_message (h->element, GST_MESSAGE_ERROR | GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_WARNING);
  gst_message_parse_warning (msg, &err, NULL);
  fail_unless (strstr (err->message, "other.safetensors") != NULL, "%s",
      err->message);
  fail_unless (strstr (err->message, "No such file") != NULL, "%s",
      err->message);
  g_error_free (err);
  gst_message_unref (msg);
  g_object_get (h->element, "model", &model, NULL);
  fail_unless_equals_string (model, rgb_model);
  g_free (model);
  out = push_picture (h, &info, 2 * GST_SECOND);
  check_meta (out, RGB_CLASSES);
  gst_buffer_unref (out);

  /* A valid labels file afterwards is tried with the model in use, not
   * with the file that failed. */
  g_object_set (h->element, "labels", rgb_labels_file, NULL);
  fail_unless (pop_message (h->element,
          GST_MESSAGE_ERROR | GST_MESSAGE_WARNING) == NULL);
  out = push_picture (h, &info, 3 * GST_SECOND);
  fail_unless (g_str_has_prefix (check_meta (out, RGB_CLASSES)->label,
          "colour-"));
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

  test_video_info (&info, "GRAY8", 28, 28);
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
  guint interval, threads, smoothing;
  gint mode;
  gdouble threshold;
  gboolean post;
  GParamSpec **specs, *mode_spec;
  guint n_specs;

  g_object_get (element, "model", &model, "labels", &labels, "roi", &roi,
      "preprocess", &preprocess, "interval", &interval, "threshold",
      &threshold, "post-messages", &post, "threads", &threads,
      "smoothing", &smoothing, "smoothing-mode", &mode, NULL);
  fail_unless (model == NULL && labels == NULL && roi == NULL
      && preprocess == NULL);
  fail_unless_equals_int (interval, 1);
  fail_unless_equals_float (threshold, -1.0);   /* the model's */
  fail_unless (post);
  fail_unless_equals_int (threads, 1);
  fail_unless_equals_int (smoothing, 1);
  mode_spec = g_object_class_find_property (G_OBJECT_GET_CLASS (element),
      "smoothing-mode");
  fail_unless (G_IS_PARAM_SPEC_ENUM (mode_spec));
  fail_unless_equals_string (g_enum_get_value (G_PARAM_SPEC_ENUM
          (mode_spec)->enum_class, mode)->value_nick, "window");

  gst_util_set_object_arg (G_OBJECT (element), "smoothing-mode",
      "exponential");
  g_object_set (element, "model", "/m.safetensors", "labels", "/l.txt",
      "roi", "1,2,3,4", "preprocess", "resize mean=0.5 std=0.25",
      "interval", 5, "threshold", 0.75, "post-messages", FALSE,
      "threads", 4, "smoothing", 7, NULL);
  g_object_get (element, "model", &model, "labels", &labels, "roi", &roi,
      "preprocess", &preprocess, "interval", &interval, "threshold",
      &threshold, "post-messages", &post, "threads", &threads,
      "smoothing", &smoothing, "smoothing-mode", &mode, NULL);
  fail_unless_equals_string (model, "/m.safetensors");
  fail_unless_equals_string (labels, "/l.txt");
  fail_unless_equals_string (roi, "1,2,3,4");
  fail_unless_equals_string (preprocess, "resize mean=0.5 std=0.25");
  fail_unless_equals_int (interval, 5);
  fail_unless_equals_float (threshold, 0.75);
  fail_unless (!post);
  fail_unless_equals_int (threads, 4);
  fail_unless_equals_int (smoothing, 7);
  fail_unless_equals_string (g_enum_get_value (G_PARAM_SPEC_ENUM
          (mode_spec)->enum_class, mode)->value_nick, "exponential");
  /* 0 frames is no smoothing at all: refused by the range. */
  fail_unless_equals_int (G_PARAM_SPEC_UINT (g_object_class_find_property
          (G_OBJECT_GET_CLASS (element), "smoothing"))->minimum, 1);
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
  GstElement *element = test_classify_new (model);
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

/* A reject-below that is no probability fails the start. */
GST_START_TEST (test_bad_reject_below)
{
  gchar *bad = save_with_reject_below (grey_model, "bad.safetensors", "1.5");

  check_start_fails (bad, NULL, NULL, GST_RESOURCE_ERROR_OPEN_READ,
      "reject-below");
  g_unlink (bad);
  g_free (bad);
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

  test_video_info (&info, "GRAY8", 28, 28);
  h = harness_start (test_classify_new (NULL), &info);
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

/* ---- tests: the default region ---------------------------------------- */

/* Classifies one picture of @width × @height GRAY8 in a fresh element
 * on @model (with @roi unless NULL); checks that the meta and the
 * message report the region x, y, w, h; returns the probabilities. */
static gfloat *
classify_region (const gchar * model, guint n_classes, const gchar * roi,
    guint width, guint height, guint x, guint y, guint w, guint h)
{
  GstElement *element = test_classify_new (model);
  const GstCnnClassificationMeta *meta;
  const GstStructure *s;
  GstVideoInfo info;
  GstHarness *harness;
  GstMessage *msg;
  GstBuffer *out;
  gfloat *probabilities;

  if (roi != NULL)
    g_object_set (element, "roi", roi, NULL);
  test_video_info (&info, "GRAY8", width, height);
  harness = harness_start (element, &info);
  out = push_picture (harness, &info, 0);
  meta = check_meta (out, n_classes);
  check_meta_roi (meta, x, y, w, h);
  msg = pop_message (harness->element, GST_MESSAGE_ELEMENT);
  fail_unless (msg != NULL);
  s = gst_message_get_structure (msg);
  check_message_matches_meta (s, meta);
  check_message_uint (s, "roi-x", x);
  check_message_uint (s, "roi-y", y);
  check_message_uint (s, "roi-width", w);
  check_message_uint (s, "roi-height", h);
  probabilities = g_memdup2 (meta->probabilities, n_classes * sizeof (gfloat));
  gst_message_unref (msg);
  gst_buffer_unref (out);
  harness_teardown (harness);
  return probabilities;
}

/* Unset, the region is the middle of the frame shaped like the model's
 * input, and it is really what is classified: the same result as that
 * region set explicitly, another than the whole frame's. */
GST_START_TEST (test_default_region)
{
  static const struct
  {
    const gchar *model_name;
    guint width, height;
    guint x, y, w, h;
    const gchar *same;          /* the region as a roi setting */
  } cases[] = {
    /* 28×28 input: the centred square of side min(width, height). */
    {"grey", 640, 480, 80, 0, 480, 480, "80,0,480,480"},
    {"grey", 480, 640, 0, 80, 480, 480, "0,80,480,480"},
    {"grey", 57, 42, 7, 0, 42, 42, "7,0,42,42"},
    {"grey", 28, 28, 0, 0, 28, 28, "0,0,28,28"},
    /* 16×32 input (H×W): the largest centred 2:1 region. */
    {"wide", 640, 480, 0, 80, 640, 320, "0,80,640,320"},
    {"wide", 480, 640, 0, 200, 480, 240, "0,200,480,240"},
    {"wide", 1000, 100, 400, 0, 200, 100, "400,0,200,100"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    const gchar *model = g_str_equal (cases[i].model_name, "grey") ?
        grey_model : wide_model;
    guint W = cases[i].width, H = cases[i].height;
    gfloat *def, *same, *whole;
    gchar *all = g_strdup_printf ("0,0,%u,%u", W, H);

    def = classify_region (model, GREY_CLASSES, NULL, W, H, cases[i].x,
        cases[i].y, cases[i].w, cases[i].h);
    same = classify_region (model, GREY_CLASSES, cases[i].same, W, H,
        cases[i].x, cases[i].y, cases[i].w, cases[i].h);
    assert_probabilities_near (def, same, GREY_CLASSES, 1e-6, cases[i].same);
    if (cases[i].w != W || cases[i].h != H) {
      whole = classify_region (model, GREY_CLASSES, all, W, H, 0, 0, W, H);
      fail_unless (max_difference (def, whole, GREY_CLASSES) > 1e-6,
          "%s %ux%u: the default region gives the whole frame's result",
          cases[i].model_name, W, H);
      g_free (whole);
    }
    g_free (all);
    g_free (def);
    g_free (same);
  }
}

GST_END_TEST;

/* A region set explicitly is used as it is, whatever the model's shape,
 * only clipped to the frame. */
GST_START_TEST (test_explicit_region_kept)
{
  g_free (classify_region (grey_model, GREY_CLASSES, "10,20,30,40", 640,
          480, 10, 20, 30, 40));
  g_free (classify_region (wide_model, GREY_CLASSES, "5,6,100,100", 640,
          480, 5, 6, 100, 100));
  g_free (classify_region (wide_model, GREY_CLASSES, "600,400,100,100", 640,
          480, 600, 400, 40, 80));
}

GST_END_TEST;

/* ---- tests: smoothing --------------------------------------------------- */

typedef enum
{
  BLANK,                        /* paper only: no ink */
  ACROSS,                       /* a horizontal bar */
  UPRIGHT,                      /* a vertical bar */
} Bars;

static const gchar *bars_labels[] = { "across", "upright", "other" };

/* Dark ink on light paper, as a webcam sees a drawing: a bar 3/5 of the
 * frame long and 1/8 wide through the middle, or nothing. */
static GstBuffer *
bars_buffer (const GstVideoInfo * info, Bars bars)
{
  static GstClockTime pts = 0;
  guint width = GST_VIDEO_INFO_WIDTH (info);
  guint height = GST_VIDEO_INFO_HEIGHT (info);
  gint stride = GST_VIDEO_INFO_PLANE_STRIDE (info, 0);
  GstBuffer *buf = gst_buffer_new_and_alloc (GST_VIDEO_INFO_SIZE (info));
  GstMapInfo map;

  fail_unless_equals_int (GST_VIDEO_INFO_FORMAT (info),
      GST_VIDEO_FORMAT_GRAY8);
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_WRITE));
  for (guint y = 0; y < height; y++)
    for (guint x = 0; x < width; x++) {
      gboolean in_row = y >= 7 * height / 16 && y < 9 * height / 16;
      gboolean in_column = x >= 7 * width / 16 && x < 9 * width / 16;
      gboolean along_x = x >= width / 5 && x < 4 * width / 5;
      gboolean along_y = y >= height / 5 && y < 4 * height / 5;
      gboolean ink = (bars == ACROSS && in_row && along_x)
          || (bars == UPRIGHT && in_column && along_y);

      map.data[y * stride + x] = ink ? 30 : 225;
    }
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  pts += GST_SECOND / 30;
  return buf;
}

/* The bars model's own probabilities for one picture: a fresh element,
 * no smoothing. */
static gfloat *
bars_reference (const GstVideoInfo * info, Bars bars)
{
  GstHarness *h = harness_new (bars_model, info);
  GstBuffer *out = gst_harness_push_and_pull (h, bars_buffer (info, bars));
  const GstCnnClassificationMeta *meta =
      gst_buffer_get_cnn_classification_meta (out);
  gfloat *probabilities;

  fail_unless (meta != NULL);
  fail_unless_equals_int (meta->n_classes, BARS_CLASSES);
  probabilities = g_memdup2 (meta->probabilities,
      BARS_CLASSES * sizeof (gfloat));
  gst_buffer_unref (out);
  harness_teardown (h);
  return probabilities;
}

/* The class a result names: the most probable one, or -1 when nothing
 * was classified (all 0) or it is below @threshold. */
static gint
expected_class (const gfloat * p, gdouble threshold)
{
  guint best = 0;

  for (guint i = 1; i < BARS_CLASSES; i++)
    if (p[i] > p[best])
      best = i;
  return p[best] <= 0.0f || p[best] < threshold ? -1 : (gint) best;
}

/* out = mean of @n frames' probabilities (NULL: a frame without ink). */
static void
mean_of (const gfloat * const *frames, guint n, gfloat * out)
{
  for (guint i = 0; i < BARS_CLASSES; i++) {
    gdouble sum = 0.0;

    for (guint f = 0; f < n; f++)
      sum += frames[f] ? frames[f][i] : 0.0;
    out[i] = sum / n;
  }
}

/* out = the mean of the last @n of the first @end frames of @seq. */
static void
window_mean (const gfloat * const *seq, guint end, guint n, gfloat * out)
{
  guint first = end > n ? end - n : 0;

  mean_of (seq + first, end - first, out);
}

/* Pushes @bars (marked DISCONT when @discont) and checks that the meta
 * and the message report @expected (within 1e-6), with its class as
 * expected_class() says at @threshold.  Returns that class. */
static gint
push_bars_expect (GstHarness * h, const GstVideoInfo * info, Bars bars,
    gboolean discont, const gfloat * expected, gdouble threshold)
{
  GstBuffer *in = bars_buffer (info, bars), *out;
  const GstCnnClassificationMeta *meta;
  gint class_id = expected_class (expected, threshold);
  guint best = 0;
  GstMessage *msg;

  if (discont)
    GST_BUFFER_FLAG_SET (in, GST_BUFFER_FLAG_DISCONT);
  out = gst_harness_push_and_pull (h, in);
  meta = gst_buffer_get_cnn_classification_meta (out);
  fail_unless (meta != NULL);
  fail_unless_equals_int (meta->n_classes, BARS_CLASSES);
  assert_probabilities_near (meta->probabilities, expected, BARS_CLASSES,
      1e-6, "smoothed result");
  for (guint i = 1; i < BARS_CLASSES; i++)
    if (expected[i] > expected[best])
      best = i;
  fail_unless_equals_int (meta->class_id, class_id);
  fail_unless (fabs (meta->confidence - expected[best]) <= 1e-6,
      "confidence %g, expected %g", meta->confidence, expected[best]);
  if (class_id >= 0) {
    fail_unless_equals_string (meta->label, bars_labels[class_id]);
  } else {
    fail_unless (meta->label == NULL);
  }

  msg = pop_message (h->element, GST_MESSAGE_ELEMENT);
  fail_unless (msg != NULL);
  check_message_matches_meta (gst_message_get_structure (msg), meta);
  gst_message_unref (msg);
  gst_buffer_unref (out);
  return class_id;
}

static GstHarness *
bars_harness (const GstVideoInfo * info, guint smoothing, gdouble threshold)
{
  GstElement *element = test_classify_new (bars_model);

  g_object_set (element, "smoothing", smoothing, "threshold", threshold,
      NULL);
  return harness_start (element, info);
}

/* The premises of the smoothing tests: each bar is its own class,
 * clearly but not certainly, and a blank frame has no ink. */
static void
check_bars_references (const gfloat * across, const gfloat * upright,
    const gfloat * blank)
{
  fail_unless (expected_class (across, 0.0) == 0 && across[0] > 0.6
      && across[0] < 0.99, "across: %g %g %g", across[0], across[1],
      across[2]);
  fail_unless (expected_class (upright, 0.0) == 1 && upright[1] > 0.6
      && upright[1] < 0.99, "upright: %g %g %g", upright[0], upright[1],
      upright[2]);
  if (blank != NULL)
    for (guint i = 0; i < BARS_CLASSES; i++)
      fail_unless_equals_float (blank[i], 0.0f);
}

/* smoothing=3 over A, A, B, B, B: each result is the mean of the last
 * (up to) three frames' own probabilities, and the label changes at the
 * fourth frame, when the mean does, not at the third. */
GST_START_TEST (test_smoothing_window_means)
{
  static const Bars pictures[] = { ACROSS, ACROSS, UPRIGHT, UPRIGHT,
    UPRIGHT
  };
  static const gint classes[] = { 0, 0, 0, 1, 1 };
  const gfloat *seq[G_N_ELEMENTS (pictures)];
  GstVideoInfo info;
  gfloat *a, *b;
  GstHarness *h;

  test_video_info (&info, "GRAY8", 64, 64);
  a = bars_reference (&info, ACROSS);
  b = bars_reference (&info, UPRIGHT);
  check_bars_references (a, b, NULL);

  h = bars_harness (&info, 3, 0.0);
  for (guint i = 0; i < G_N_ELEMENTS (pictures); i++) {
    gfloat expected[BARS_CLASSES];

    seq[i] = pictures[i] == ACROSS ? a : b;
    window_mean (seq, i + 1, 3, expected);
    fail_unless_equals_int (push_bars_expect (h, &info, pictures[i], FALSE,
            expected, 0.0), classes[i]);
  }
  harness_teardown (h);
  g_free (a);
  g_free (b);
}

GST_END_TEST;

/* The exponential mode: m = m + 2/(N+1) (p - m), from the first frame's
 * own probabilities; frames without ink decay it towards 0.  N = 4, so
 * that the first upright frame weighs 0.4: with N = 3 (0.5) the mean of
 * the two mirror-image pictures is a tie between their classes, which
 * float rounding decides differently on each kernel path. */
GST_START_TEST (test_smoothing_exponential)
{
  static const Bars pictures[] = { ACROSS, ACROSS, UPRIGHT, UPRIGHT,
    UPRIGHT, BLANK, BLANK
  };
  GstVideoInfo info;
  GstElement *element;
  gfloat *a, *b;
  gdouble m[BARS_CLASSES] = { 0.0 };   /* set from the first frame */
  GstHarness *h;

  test_video_info (&info, "GRAY8", 64, 64);
  a = bars_reference (&info, ACROSS);
  b = bars_reference (&info, UPRIGHT);
  check_bars_references (a, b, NULL);

  element = test_classify_new (bars_model);
  g_object_set (element, "smoothing", 4, NULL);
  gst_util_set_object_arg (G_OBJECT (element), "smoothing-mode",
      "exponential");
  h = harness_start (element, &info);
  for (guint i = 0; i < G_N_ELEMENTS (pictures); i++) {
    const gfloat *p = pictures[i] == ACROSS ? a :
        pictures[i] == UPRIGHT ? b : NULL;
    gfloat expected[BARS_CLASSES];

    for (guint c = 0; c < BARS_CLASSES; c++) {
      gdouble own = p ? p[c] : 0.0;

      m[c] = i == 0 ? own : m[c] + 0.4 * (own - m[c]);
      expected[c] = m[c];
    }
    push_bars_expect (h, &info, pictures[i], FALSE, expected, 0.0);
  }
  /* A discontinuity restarts it here too. */
  push_bars_expect (h, &info, ACROSS, TRUE, a, 0.0);
  harness_teardown (h);
  g_free (a);
  g_free (b);
}

GST_END_TEST;

/* The mean restarts, the next result being that frame's own, after a
 * flush, at a DISCONT buffer, on new caps, on a new model and on new
 * smoothing settings; and not otherwise. */
GST_START_TEST (test_smoothing_restarts)
{
  GstVideoInfo info, big;
  GstSegment segment;
  gfloat *a, *b, *a_big, *b_big, mean[BARS_CLASSES];
  const gfloat *pair[2];
  GstHarness *h;

  test_video_info (&info, "GRAY8", 64, 64);
  test_video_info (&big, "GRAY8", 80, 80);
  a = bars_reference (&info, ACROSS);
  b = bars_reference (&info, UPRIGHT);
  a_big = bars_reference (&big, ACROSS);
  b_big = bars_reference (&big, UPRIGHT);
  check_bars_references (a, b, NULL);
  check_bars_references (a_big, b_big, NULL);

  h = bars_harness (&info, 3, 0.0);
  push_bars_expect (h, &info, ACROSS, FALSE, a, 0.0);
  push_bars_expect (h, &info, ACROSS, FALSE, a, 0.0);

  /* Flush (a seek): B alone, not (A + A + B) / 3. */
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&segment, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&segment)));
  push_bars_expect (h, &info, UPRIGHT, FALSE, b, 0.0);

  /* A DISCONT buffer: A alone, then the window goes on from there. */
  push_bars_expect (h, &info, ACROSS, TRUE, a, 0.0);
  pair[0] = a;
  pair[1] = b;
  mean_of (pair, 2, mean);
  push_bars_expect (h, &info, UPRIGHT, FALSE, mean, 0.0);

  /* New caps: the first bigger frame alone. */
  gst_harness_set_src_caps (h, gst_video_info_to_caps (&big));
  push_bars_expect (h, &big, UPRIGHT, FALSE, b_big, 0.0);

  /* A new model (the same file, loaded again). */
  push_bars_expect (h, &big, UPRIGHT, FALSE, b_big, 0.0);
  g_object_set (h->element, "model", bars_model, NULL);
  push_bars_expect (h, &big, ACROSS, FALSE, a_big, 0.0);

  /* New smoothing settings. */
  g_object_set (h->element, "smoothing", 4, NULL);
  push_bars_expect (h, &big, UPRIGHT, FALSE, b_big, 0.0);
  pair[0] = a_big;
  pair[1] = b_big;
  mean_of (pair, 2, mean);
  push_bars_expect (h, &big, ACROSS, FALSE, mean, 0.0);

  harness_teardown (h);
  g_free (a);
  g_free (b);
  g_free (a_big);
  g_free (b_big);
}

GST_END_TEST;

/* A frame that #GstCnnClassify:interval skips carries the latest
 * result, @frames_ago frames old, whatever its own picture. */
static void
check_carried (GstBuffer * out, const gfloat * probabilities,
    guint frames_ago)
{
  GstCnnClassificationMeta *meta = gst_buffer_get_cnn_classification_meta (out);

  fail_unless (meta != NULL);
  fail_unless_equals_int (meta->frames_ago, frames_ago);
  assert_probabilities_near (meta->probabilities, probabilities,
      BARS_CLASSES, 1e-6, "carried result");
}

/* Only classified frames enter the mean, and a DISCONT on a frame that
 * #GstCnnClassify:interval skips still restarts it. */
GST_START_TEST (test_smoothing_with_interval)
{
  GstVideoInfo info;
  gfloat *a, *b, mean[BARS_CLASSES];
  const gfloat *pair[2];
  GstBuffer *in, *out;
  GstHarness *h;

  test_video_info (&info, "GRAY8", 64, 64);
  a = bars_reference (&info, ACROSS);
  b = bars_reference (&info, UPRIGHT);
  check_bars_references (a, b, NULL);

  h = bars_harness (&info, 2, 0.0);
  g_object_set (h->element, "interval", 2, NULL);
  push_bars_expect (h, &info, ACROSS, FALSE, a, 0.0);
  out = gst_harness_push_and_pull (h, bars_buffer (&info, BLANK));
  check_carried (out, a, 1);
  gst_buffer_unref (out);
  /* The skipped blank frame did not count: (A + B) / 2, not B / 2. */
  pair[0] = a;
  pair[1] = b;
  mean_of (pair, 2, mean);
  push_bars_expect (h, &info, UPRIGHT, FALSE, mean, 0.0);

  /* A alone, not (B + A) / 2. */
  in = bars_buffer (&info, UPRIGHT);
  GST_BUFFER_FLAG_SET (in, GST_BUFFER_FLAG_DISCONT);
  out = gst_harness_push_and_pull (h, in);
  check_carried (out, mean, 1);
  gst_buffer_unref (out);
  push_bars_expect (h, &info, ACROSS, FALSE, a, 0.0);

  harness_teardown (h);
  g_free (a);
  g_free (b);
}

GST_END_TEST;

/* Frames without ink count as zeros: the mean, and the confidence, fall
 * as the bar leaves, and the result is no class once no frame in the
 * window had ink. */
GST_START_TEST (test_smoothing_no_ink)
{
  static const Bars pictures[] = { ACROSS, ACROSS, BLANK, BLANK, BLANK,
    ACROSS
  };
  static const gint classes[] = { 0, 0, 0, 0, -1, 0 };
  const gfloat *seq[G_N_ELEMENTS (pictures)];
  GstVideoInfo info;
  gfloat *a, *b, *blank;
  GstHarness *h;

  test_video_info (&info, "GRAY8", 64, 64);
  a = bars_reference (&info, ACROSS);
  b = bars_reference (&info, UPRIGHT);
  blank = bars_reference (&info, BLANK);
  check_bars_references (a, b, blank);

  h = bars_harness (&info, 3, 0.0);
  for (guint i = 0; i < G_N_ELEMENTS (pictures); i++) {
    gfloat expected[BARS_CLASSES];

    seq[i] = pictures[i] == ACROSS ? a : NULL;
    window_mean (seq, i + 1, 3, expected);
    fail_unless_equals_int (push_bars_expect (h, &info, pictures[i], FALSE,
            expected, 0.0), classes[i]);
  }
  harness_teardown (h);
  g_free (a);
  g_free (b);
  g_free (blank);
}

GST_END_TEST;

/* Pushes A A A A B A A A and then blank frames at @smoothing with a 0.5
 * threshold; returns the classes reported. */
static void
run_outlier_sequence (guint smoothing, gint * classes, guint n)
{
  GstVideoInfo info;
  gfloat *a, *b;
  const gfloat **seq = g_new0 (const gfloat *, n);
  GstHarness *h;

  test_video_info (&info, "GRAY8", 64, 64);
  a = bars_reference (&info, ACROSS);
  b = bars_reference (&info, UPRIGHT);
  check_bars_references (a, b, NULL);
  h = bars_harness (&info, smoothing, 0.5);
  for (guint i = 0; i < n; i++) {
    Bars picture = i == 4 ? UPRIGHT : i < 8 ? ACROSS : BLANK;
    gfloat expected[BARS_CLASSES];

    seq[i] = picture == ACROSS ? a : picture == UPRIGHT ? b : NULL;
    window_mean (seq, i + 1, smoothing, expected);
    classes[i] = push_bars_expect (h, &info, picture, FALSE, expected, 0.5);
  }
  harness_teardown (h);
  g_free (seq);
  g_free (a);
  g_free (b);
}

/* threshold + smoothing: one odd frame does not change the label, and
 * when the bar leaves the label goes to no class once, for good, a few
 * frames later.  Without smoothing the odd frame shows. */
GST_START_TEST (test_smoothing_steady_label)
{
  gint plain[14], smoothed[14];
  guint first_none = 0;

  run_outlier_sequence (1, plain, G_N_ELEMENTS (plain));
  fail_unless_equals_int (plain[3], 0);
  fail_unless_equals_int (plain[4], 1);
  fail_unless_equals_int (plain[8], -1);

  run_outlier_sequence (5, smoothed, G_N_ELEMENTS (smoothed));
  for (guint i = 0; i < 8; i++)
    fail_unless_equals_int (smoothed[i], 0);
  for (guint i = 8; i < G_N_ELEMENTS (smoothed); i++) {
    if (smoothed[i] == -1 && first_none == 0)
      first_none = i;
    fail_unless_equals_int (smoothed[i], first_none != 0 ? -1 : 0);
  }
  fail_unless (first_none > 8, "no class at once, at frame %u", first_none);
}

GST_END_TEST;

/* ---- tests: threads and smoothing changed while playing -------------- */

/* appsrc ! cnnclassify on @model ! appsink, playing. */
static void
playing_start (TestPlaying * p, const gchar * model, const GstVideoInfo * info)
{
  GstCaps *caps = gst_video_info_to_caps (info);
  gchar *caps_text = gst_caps_to_string (caps);
  gchar *launch = g_strdup_printf ("appsrc name=src format=time caps=\"%s\" "
      "! cnnclassify name=c model=%s post-messages=false "
      "! appsink name=sink sync=false", caps_text, model);

  test_playing_start (p, launch);
  gst_caps_unref (caps);
  g_free (caps_text);
  g_free (launch);
}

/* Pushes @in, waits for it at the sink and copies its meta's @n_classes
 * probabilities to @out. */
static void
playing_classify (TestPlaying * p, GstBuffer * in, guint n_classes,
    gfloat * out)
{
  GstSample *sample = test_playing_push_pull (p, in);
  const GstCnnClassificationMeta *meta =
      gst_buffer_get_cnn_classification_meta (gst_sample_get_buffer (sample));

  fail_unless (meta != NULL);
  fail_unless_equals_int (meta->n_classes, n_classes);
  memcpy (out, meta->probabilities, n_classes * sizeof (gfloat));
  gst_sample_unref (sample);
}

static void
playing_expect_bars (TestPlaying * p, const GstVideoInfo * info, Bars bars,
    const gfloat * expected, const gchar * what)
{
  gfloat got[BARS_CLASSES];

  playing_classify (p, bars_buffer (info, bars), BARS_CLASSES, got);
  assert_probabilities_near (got, expected, BARS_CLASSES, 1e-6, what);
}

/* The setters prepare, the next frame takes it up: a new smoothing
 * starts from that frame, a new thread count keeps the frames averaged,
 * and a new mode is a new smoothing. */
GST_START_TEST (test_retune_while_playing)
{
  GstVideoInfo info;
  gfloat *a, *b, mean[BARS_CLASSES];
  const gfloat *seq[3];
  TestPlaying p;

  test_video_info (&info, "GRAY8", 64, 64);
  a = bars_reference (&info, ACROSS);
  b = bars_reference (&info, UPRIGHT);
  check_bars_references (a, b, NULL);
  playing_start (&p, bars_model, &info);

  playing_expect_bars (&p, &info, ACROSS, a, "no smoothing");
  g_object_set (p.classify, "smoothing", 3, NULL);
  playing_expect_bars (&p, &info, UPRIGHT, b, "a new smoothing: B alone");
  seq[0] = b;
  seq[1] = a;
  seq[2] = a;
  mean_of (seq, 2, mean);
  playing_expect_bars (&p, &info, ACROSS, mean, "(B + A) / 2");

  g_object_set (p.classify, "threads", 3, NULL);
  mean_of (seq, 3, mean);
  playing_expect_bars (&p, &info, ACROSS, mean,
      "3 threads, the window kept: (B + A + A) / 3");

  g_object_set (p.classify, "smoothing", 4, NULL);
  gst_util_set_object_arg (G_OBJECT (p.classify), "smoothing-mode",
      "exponential");
  playing_expect_bars (&p, &info, UPRIGHT, b, "exponential: B alone");
  for (guint c = 0; c < BARS_CLASSES; c++)
    mean[c] = b[c] + 0.4 * (a[c] - b[c]);
  playing_expect_bars (&p, &info, ACROSS, mean, "B + 0.4 (A - B)");

  g_object_set (p.classify, "threads", 1, "smoothing", 1, NULL);
  playing_expect_bars (&p, &info, UPRIGHT, b, "back to none");
  test_playing_stop (&p);
  g_free (a);
  g_free (b);
}

GST_END_TEST;

typedef struct
{
  GstElement *element;
  gint done;
} Retuner;

/* Threads 1 to 4 and smoothing 1 to 5 in both modes, over and over. */
static gpointer
retune_repeatedly (gpointer data)
{
  Retuner *r = data;

  for (guint i = 0; i < 40; i++) {
    g_object_set (r->element, "threads", 1 + i % 4, "smoothing", 1 + i % 5,
        NULL);
    gst_util_set_object_arg (G_OBJECT (r->element), "smoothing-mode",
        i % 3 ? "window" : "exponential");
  }
  g_object_set (r->element, "threads", 2, "smoothing", 2, NULL);
  gst_util_set_object_arg (G_OBJECT (r->element), "smoothing-mode", "window");
  g_atomic_int_set (&r->done, 1);
  return NULL;
}

/* Changed from another thread while frames stream: every frame of one
 * picture keeps that picture's probabilities (a mean of equal frames is
 * that frame, whatever the smoothing; threads only reorder sums), and
 * the last settings are the ones left in use. */
GST_START_TEST (test_retune_race)
{
  gfloat *one = classify_picture (grey_model, GREY_CLASSES, "GRAY8", 56, 42,
      FALSE);
  Retuner retuner = { NULL, 0 };
  gfloat got[GREY_CLASSES];
  GstVideoInfo info;
  GThread *thread;
  guint frames = 0;
  TestPlaying p;

  test_video_info (&info, "GRAY8", 56, 42);
  playing_start (&p, grey_model, &info);
  retuner.element = p.classify;
  thread = g_thread_new ("retune", retune_repeatedly, &retuner);
  for (; frames < 60 || !g_atomic_int_get (&retuner.done); frames++) {
    playing_classify (&p, picture_buffer (&info, frames * GST_MSECOND),
        GREY_CLASSES, got);
    assert_probabilities_near (got, one, GREY_CLASSES, 1e-5,
        "while retuned");
  }
  g_thread_join (thread);
  GST_INFO ("%u frames while retuned", frames);
  test_playing_stop (&p);
  g_free (one);
}

GST_END_TEST;

/* The last settings of the race are in use: two frames averaged. */
GST_START_TEST (test_retune_last_settings_used)
{
  GstVideoInfo info;
  gfloat *a, *b, mean[BARS_CLASSES];
  const gfloat *pair[2];
  Retuner retuner = { NULL, 0 };
  TestPlaying p;

  test_video_info (&info, "GRAY8", 64, 64);
  a = bars_reference (&info, ACROSS);
  b = bars_reference (&info, UPRIGHT);
  playing_start (&p, bars_model, &info);
  playing_expect_bars (&p, &info, ACROSS, a, "before");
  retuner.element = p.classify;
  retune_repeatedly (&retuner);
  playing_expect_bars (&p, &info, ACROSS, a, "a new smoothing: A alone");
  pair[0] = a;
  pair[1] = b;
  mean_of (pair, 2, mean);
  playing_expect_bars (&p, &info, UPRIGHT, mean, "(A + B) / 2");
  playing_expect_bars (&p, &info, UPRIGHT, b, "(B + B) / 2");
  test_playing_stop (&p);
  g_free (a);
  g_free (b);
}

GST_END_TEST;

/* Sets @property to @value on @h's started element, which cannot have
 * it within its memory limit: a warning naming the setting and the
 * limit, the property back at @kept, and frames classified as before. */
static void
check_retune_refused (GstHarness * h, const GstVideoInfo * info,
    const gchar * property, guint value, guint kept)
{
  GstBuffer *out;
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL, *what = g_strdup_printf ("Could not use %s %u",
      property, value);
  guint now;

  g_object_set (h->element, property, value, NULL);
  msg = pop_message (h->element, GST_MESSAGE_ERROR | GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "no warning for %s", what);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_WARNING);
  gst_message_parse_warning (msg, &err, &debug);
  /* The memory limit is a resource that failed, not a bad setting. */
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_FAILED), "%s", err->message);
  fail_unless (g_str_has_prefix (err->message, what), "%s", err->message);
  fail_unless (strstr (err->message, "memory limit") != NULL, "%s",
      err->message);
  g_object_get (h->element, property, &now, NULL);
  fail_unless_equals_int (now, kept);
  out = push_picture (h, info, GST_SECOND);
  fail_unless (gst_buffer_get_cnn_classification_meta (out) != NULL);
  gst_buffer_unref (out);
  g_error_free (err);
  g_free (debug);
  g_free (what);
  gst_message_unref (msg);
}

/* A setting whose memory the element cannot have is refused where it is
 * set, with a warning, and the element carries on as it was. */
GST_START_TEST (test_retune_refused)
{
  gchar *many = save_model ("many-classes.safetensors",
      "flatten, dense 20000, softmax", "1x1x1", 4, NULL, NULL);
  gchar *wide = save_model ("wide-scratch.safetensors",
      "conv 2 3, maxpool 2, flatten, dense 2, softmax", "1x128x128", 5, NULL,
      NULL);
  GstElement *element;
  GstVideoInfo info;
  GstHarness *h;
  GstBuffer *out;

  /* 20,000 classes: 1,000 frames of them are 80 MB, 10 are 800 kB. */
  test_video_info (&info, "GRAY8", 32, 32);
  element = test_classify_new (many);
  g_object_set (element, "memory-limit", (guint64) 2 << 20, "smoothing", 2,
      NULL);
  h = harness_start (element, &info);
  gst_buffer_unref (push_picture (h, &info, 0));
  check_retune_refused (h, &info, "smoothing", 1000, 2);
  g_object_set (h->element, "smoothing", 10, NULL);
  fail_unless (pop_message (h->element,
          GST_MESSAGE_ERROR | GST_MESSAGE_WARNING) == NULL);
  out = push_picture (h, &info, 2 * GST_SECOND);
  check_meta (out, 20000);
  gst_buffer_unref (out);
  harness_teardown (h);

  /* A 128x128 input's im2col is 571 kB a thread: 64 threads are 37 MB. */
  test_video_info (&info, "GRAY8", 128, 128);
  element = test_classify_new (wide);
  g_object_set (element, "memory-limit", (guint64) 8 << 20, NULL);
  h = harness_start (element, &info);
  gst_buffer_unref (push_picture (h, &info, 0));
  check_retune_refused (h, &info, "threads", 64, 1);
  harness_teardown (h);

  g_unlink (many);
  g_unlink (wide);
  g_free (many);
  g_free (wide);
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

  /* Copies keep it: the probabilities copied, the names interned. */
  copy = gst_buffer_copy (buf);
  got = gst_buffer_get_cnn_classification_meta (copy);
  fail_unless (got != NULL && got != meta);
  fail_unless_equals_int (got->class_id, 1);
  fail_unless_equals_string (got->label, "b");
  fail_unless (got->label == meta->label
      && got->label == g_intern_static_string ("b"));
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

/* More classes than the meta holds in itself: on the heap, copied and
 * freed with the meta (valgrind.sh would see a leak). */
GST_START_TEST (test_meta_many_classes)
{
  const guint n = GST_CNN_CLASSIFICATION_META_INLINE_CLASSES + 5;
  gfloat probabilities[GST_CNN_CLASSIFICATION_META_INLINE_CLASSES + 5];
  GstBuffer *buf = gst_buffer_new (), *copy;
  GstCnnClassificationMeta *meta, *got;

  for (guint i = 0; i < n; i++)
    probabilities[i] = (gfloat) i / n;
  meta = gst_buffer_add_cnn_classification_meta (buf, (gint) n - 1, "last",
      probabilities[n - 1], n, probabilities, 0, 0, 1, 1, NULL);
  fail_unless (meta != NULL && meta->model == NULL);
  fail_unless (meta->probabilities != probabilities
      && meta->probabilities != meta->inline_probabilities);
  copy = gst_buffer_copy (buf);
  got = gst_buffer_get_cnn_classification_meta (copy);
  fail_unless (got->n_classes == n && got->probabilities != meta->probabilities);
  fail_unless (memcmp (got->probabilities, probabilities,
          sizeof probabilities) == 0);
  gst_buffer_unref (copy);
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
  tcase_add_test (tc, test_model_reject_below);
  tcase_add_test (tc, test_message_fields);
  tcase_add_test (tc, test_empty_region);
  tcase_add_test (tc, test_labels_override);
  tcase_add_test (tc, test_threads_same_result);
  tcase_add_test (tc, test_model_change_while_playing);
  tcase_add_test (tc, test_model_swap_race);
  tcase_add_test (tc, test_properties_round_trip);
  tcase_add_test (tc, test_bad_model_path);
  tcase_add_test (tc, test_corrupt_model);
  tcase_add_test (tc, test_bad_reject_below);
  tcase_add_test (tc, test_bad_settings);
  tcase_add_test (tc, test_default_model);
  tcase_add_test (tc, test_default_region);
  tcase_add_test (tc, test_explicit_region_kept);
  tcase_add_test (tc, test_smoothing_window_means);
  tcase_add_test (tc, test_smoothing_exponential);
  tcase_add_test (tc, test_smoothing_restarts);
  tcase_add_test (tc, test_smoothing_with_interval);
  tcase_add_test (tc, test_smoothing_no_ink);
  tcase_add_test (tc, test_smoothing_steady_label);
  tcase_add_test (tc, test_retune_while_playing);
  tcase_add_test (tc, test_retune_race);
  tcase_add_test (tc, test_retune_last_settings_used);
  tcase_add_test (tc, test_retune_refused);
  tcase_add_test (tc, test_meta_transforms);
  tcase_add_test (tc, test_meta_many_classes);
  return s;
}

GST_CHECK_MAIN (cnnclassify);
