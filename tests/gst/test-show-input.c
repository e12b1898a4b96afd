/* gst-check tests of what the network sees: the input cnnclassify keeps
 * in the classification meta, and cnnoverlay's show-input inset.
 *
 * The frames are what a webcam shows: 640×480 I420 of white paper with
 * a real MNIST test digit drawn large in dark ink.  They go through the
 * real elements, built from launch lines as a user writes them; the
 * meta's input is checked against libcnn's preprocessor run here on the
 * same frame, and the inset's pixels against the meta's input.
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <gst/cnn/cnnmeta.h>
#include <glib/gstdio.h>

#include "test-common.h"

#include <cnn.h>
#include <math.h>
#include <string.h>

#define FRAME_W 640
#define FRAME_H 480
#define INPUT 28                /* the bundled model's input, 28×28 */
#define PAPER 220               /* luma of the paper */
#define INK 40                  /* luma of full-strength ink */

/* The region of the overlay tests: room above it for the tag and the
 * inset beside it, the digit inside it. */
#define ROI_X 200
#define ROI_Y 160
#define ROI_SIZE 240

typedef struct
{
  gint x0, y0, x1, y1;          /* [x0, x1) × [y0, y1) */
} Area;

static guint8 digit[INPUT * INPUT];     /* an MNIST test digit, 0 paper */
static gchar *tmp_dir;

/* ---- fixtures ----------------------------------------------------------- */

static void
digit_setup (void)
{
  GError *err = NULL;
  CnnDataset *set = cnn_dataset_load_idx (MNIST_DIR
      "/t10k-images-idx3-ubyte.gz", MNIST_DIR "/t10k-labels-idx1-ubyte.gz",
      &err);

  fail_unless (set != NULL, "MNIST test set: %s", err ? err->message : "?");
  /* The first test digit, a 7. */
  memcpy (digit, set->pixels, sizeof (digit));
  cnn_dataset_free (set);
  tmp_dir = g_dir_make_tmp ("test-show-input-XXXXXX", NULL);
  fail_unless (tmp_dir != NULL);
}

static void
digit_teardown (void)
{
  g_rmdir (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
}

/* ---- frames ------------------------------------------------------------- */

/* White paper, with the digit scaled @scale times (nearest) and centred
 * on (@cx, @cy) when @with_digit; chroma neutral. */
static GstBuffer *
paper_buffer (const GstVideoInfo * info, gboolean with_digit, guint cx,
    guint cy, guint scale)
{
  GstBuffer *buf = gst_buffer_new_and_alloc (GST_VIDEO_INFO_SIZE (info));
  gint x0 = (gint) cx - INPUT * scale / 2, y0 = (gint) cy - INPUT * scale / 2;
  GstVideoFrame frame;

  fail_unless (gst_video_frame_map (&frame, info, buf, GST_MAP_WRITE));
  for (guint p = 1; p < GST_VIDEO_FRAME_N_PLANES (&frame); p++)
    memset (GST_VIDEO_FRAME_PLANE_DATA (&frame, p), 128,
        GST_VIDEO_FRAME_PLANE_STRIDE (&frame, p) *
        GST_VIDEO_FRAME_COMP_HEIGHT (&frame, p));
  for (gint y = 0; y < GST_VIDEO_FRAME_HEIGHT (&frame); y++) {
    guint8 *row = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
        y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);

    for (gint x = 0; x < GST_VIDEO_FRAME_WIDTH (&frame); x++) {
      gint u = (x - x0) / (gint) scale, v = (y - y0) / (gint) scale;
      guint ink = with_digit && x >= x0 && y >= y0 && u < INPUT && v < INPUT
          ? digit[v * INPUT + u] : 0;

      row[x] = PAPER - ink * (PAPER - INK) / 255;
    }
  }
  gst_video_frame_unmap (&frame);
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  return buf;
}

/* The digit as big as a hand writes it on paper held up to a webcam,
 * in the middle of the frame. */
static GstBuffer *
digit_buffer (const GstVideoInfo * info)
{
  return paper_buffer (info, TRUE, FRAME_W / 2, FRAME_H / 2, 10);
}

/* The frame unpacked to AYUV, width × height × 4 bytes. */
static guint8 *
unpack (const GstVideoInfo * info, GstBuffer * buf)
{
  const GstVideoFormatInfo *finfo = info->finfo;
  guint width = GST_VIDEO_INFO_WIDTH (info);
  guint height = GST_VIDEO_INFO_HEIGHT (info);
  guint8 *pixels = g_malloc ((gsize) width * height * 4);
  GstVideoFrame frame;

  fail_unless (gst_video_frame_map (&frame, info, buf, GST_MAP_READ));
  for (guint y = 0; y < height; y++)
    finfo->unpack_func (finfo, GST_VIDEO_PACK_FLAG_NONE,
        pixels + (gsize) y * width * 4, frame.data, frame.info.stride, 0, y,
        width);
  gst_video_frame_unmap (&frame);
  return pixels;
}

#define LUMA(p, x, y) ((p)[((gsize) (y) * FRAME_W + (x)) * 4 + 1])

/* ---- running the elements ----------------------------------------------- */

/* @launch in a harness fed 640×480 I420.  cnnclassify's model, unset,
 * is the bundled digit model. */
static GstHarness *
pipeline_new (const gchar * launch, GstVideoInfo * info)
{
  GstHarness *h = gst_harness_new_parse (launch);

  test_video_info (info, "I420", FRAME_W, FRAME_H);
  gst_harness_set_src_caps (h, gst_video_info_to_caps (info));
  return h;
}

/* Pushes a copy of @in through a fresh @launch pipeline; returns what
 * came out. */
static GstBuffer *
run_pipeline (const gchar * launch, GstBuffer * in)
{
  GstVideoInfo info;
  GstHarness *h = pipeline_new (launch, &info);
  GstBuffer *out = gst_harness_push_and_pull (h, gst_buffer_copy_deep (in));

  fail_unless (out != NULL);
  gst_harness_teardown (h);
  return out;
}

static const GstCnnClassificationMeta *
get_meta (GstBuffer * buf)
{
  const GstCnnClassificationMeta *meta =
      gst_buffer_get_cnn_classification_meta (buf);

  fail_unless (meta != NULL, "no meta");
  return meta;
}

/* ---- what libcnn gives, run here -------------------------------------- */

/* The luma plane of @frame as libcnn reads it. */
static CnnImage
image_of (const GstVideoFrame * frame)
{
  CnnImage image = { 0 };
  gdouble kr, kb;

  image.width = GST_VIDEO_FRAME_WIDTH (frame);
  image.height = GST_VIDEO_FRAME_HEIGHT (frame);
  image.color = CNN_COLOR_YUV;
  image.limited_range =
      frame->info.colorimetry.range != GST_VIDEO_COLOR_RANGE_0_255;
  fail_unless (gst_video_color_matrix_get_Kr_Kb (frame->info.
          colorimetry.matrix, &kr, &kb));
  image.kr = kr;
  image.kb = kb;
  for (guint p = 0; p < 3; p++) {
    image.planes[p].data = GST_VIDEO_FRAME_PLANE_DATA (frame, p);
    image.planes[p].row_stride = GST_VIDEO_FRAME_PLANE_STRIDE (frame, p);
    image.planes[p].pixel_stride = 1;
    image.planes[p].x_shift = image.planes[p].y_shift = p > 0;
  }
  return image;
}

/* The bundled model's preprocessing of @roi of @buf, as bytes 0..255;
 * FALSE when it finds nothing to classify. */
static gboolean
preprocess_directly (const GstVideoInfo * info, GstBuffer * buf, CnnRect roi,
    guint8 * bytes)
{
  CnnShape shape = { 1, INPUT, INPUT };
  GError *err = NULL;
  CnnPreprocessor *pre = cnn_preprocessor_new ("mnist", shape, &err);
  gfloat values[INPUT * INPUT];
  GstVideoFrame frame;
  CnnImage image;
  gboolean found;

  fail_unless (pre != NULL, "%s", err ? err->message : "");
  fail_unless (gst_video_frame_map (&frame, info, buf, GST_MAP_READ));
  image = image_of (&frame);
  found = cnn_preprocessor_run (pre, &image, roi, values);
  gst_video_frame_unmap (&frame);
  cnn_preprocessor_free (pre);
  for (guint i = 0; found && i < INPUT * INPUT; i++)
    bytes[i] = (guint8) lround (CLAMP (values[i], 0.0f, 1.0f) * 255.0);
  return found;
}

static void
assert_bytes_near (const guint8 * got, const guint8 * expected, guint n,
    guint tolerance)
{
  for (guint i = 0; i < n; i++)
    fail_unless (ABS ((gint) got[i] - (gint) expected[i]) <= (gint) tolerance,
        "input pixel %u,%u is %u, expected %u", i % INPUT, i / INPUT,
        got[i], expected[i]);
}

/* Both dark paper and bright ink: a digit, not a blank or a blot. */
static void
assert_looks_like_a_digit (const guint8 * input, guint n)
{
  guint dark = 0, bright = 0;

  for (guint i = 0; i < n; i++) {
    dark += input[i] < 20;
    bright += input[i] > 200;
  }
  fail_unless (dark > n / 2 && bright > 20, "%u dark, %u bright", dark,
      bright);
}

/* ---- tests: the meta's input --------------------------------------- */

/* After cnnclassify the meta holds the 28×28 input, byte for byte what
 * libcnn's preprocessor gives for the same frame and region. */
GST_START_TEST (test_meta_input_is_preprocessed_region)
{
  GstVideoInfo info;
  GstBuffer *in, *out;
  const GstCnnClassificationMeta *meta;
  CnnRect roi = { (FRAME_W - FRAME_H) / 2, 0, FRAME_H, FRAME_H };
  guint8 expected[INPUT * INPUT];

  test_video_info (&info, "I420", FRAME_W, FRAME_H);
  in = digit_buffer (&info);
  fail_unless (preprocess_directly (&info, in, roi, expected));
  assert_looks_like_a_digit (expected, INPUT * INPUT);

  out = run_pipeline ("cnnclassify", in);
  meta = get_meta (out);
  /* The default region, the centred square: the one preprocessed above. */
  fail_unless (meta->roi_x == roi.x && meta->roi_y == roi.y
      && meta->roi_width == roi.width && meta->roi_height == roi.height);
  fail_unless_equals_int (meta->input_width, INPUT);
  fail_unless_equals_int (meta->input_height, INPUT);
  /* 1: rounding half-way values either way. */
  assert_bytes_near (meta->input, expected, INPUT * INPUT, 1);
  fail_unless_equals_int (meta->class_id, 7);

  gst_buffer_unref (out);
  gst_buffer_unref (in);
}

GST_END_TEST;

/* Blank paper: nothing to classify, no input. */
GST_START_TEST (test_meta_no_ink_no_input)
{
  GstVideoInfo info;
  GstBuffer *in, *out;
  const GstCnnClassificationMeta *meta;

  test_video_info (&info, "I420", FRAME_W, FRAME_H);
  in = paper_buffer (&info, FALSE, 0, 0, 1);
  out = run_pipeline ("cnnclassify", in);
  meta = get_meta (out);
  fail_unless_equals_int (meta->class_id, -1);
  fail_unless_equals_int (meta->input_width, 0);
  fail_unless_equals_int (meta->input_height, 0);
  gst_buffer_unref (out);
  gst_buffer_unref (in);
}

GST_END_TEST;

/* A model whose input is more than the meta holds gives 0×0; a
 * normalised one is stretched from its minimum to its maximum. */
GST_START_TEST (test_meta_input_large_and_normalised)
{
  const gchar *arch = "flatten, dense 2, softmax";
  gchar *large = test_save_model (tmp_dir, "large.safetensors", arch,
      "1x40x40", 1, NULL, NULL);
  gchar *small = test_save_model (tmp_dir, "small.safetensors", arch,
      "1x16x16", 1, NULL, NULL);
  GstVideoInfo info;
  GstBuffer *in, *out;
  const GstCnnClassificationMeta *meta;
  gchar *launch;
  guint min = 255, max = 0;

  test_video_info (&info, "I420", FRAME_W, FRAME_H);
  in = digit_buffer (&info);

  launch = g_strdup_printf ("cnnclassify model=\"%s\" preprocess=resize",
      large);
  out = run_pipeline (launch, in);
  meta = get_meta (out);
  fail_unless_equals_int (meta->input_width, 0);
  fail_unless_equals_int (meta->input_height, 0);
  gst_buffer_unref (out);
  g_free (launch);

  /* Paper and ink normalised to about 1.9 and 1.1: white and black
   * after stretching, where 0..1 would have clipped both to white. */
  launch = g_strdup_printf ("cnnclassify model=\"%s\" "
      "preprocess=\"resize mean=-1 std=1\"", small);
  out = run_pipeline (launch, in);
  meta = get_meta (out);
  fail_unless_equals_int (meta->input_width, 16);
  fail_unless_equals_int (meta->input_height, 16);
  for (guint i = 0; i < 16 * 16; i++) {
    min = MIN (min, meta->input[i]);
    max = MAX (max, meta->input[i]);
  }
  fail_unless_equals_int (min, 0);
  fail_unless_equals_int (max, 255);
  /* The paper in the corner is the brightest. */
  fail_unless_equals_int (meta->input[0], 255);
  gst_buffer_unref (out);
  g_free (launch);

  gst_buffer_unref (in);
  g_unlink (large);
  g_unlink (small);
  g_free (large);
  g_free (small);
}

GST_END_TEST;

/* The setter's mapping, on values made here. */
GST_START_TEST (test_meta_set_input_values)
{
  GstBuffer *buf = gst_buffer_new ();
  GstCnnClassificationMeta *meta =
      gst_buffer_add_cnn_classification_meta (buf, -1, NULL, 0.0f, 0, NULL,
      0, 0, 1, 1, NULL);
  const gfloat unit[4] = { 0.0f, 0.5f, 1.0f, NAN };
  const gfloat normalised[3] = { -2.0f, 0.0f, 2.0f };
  gfloat too_big[GST_CNN_CLASSIFICATION_META_MAX_INPUT + 1] = { 0 };

  fail_unless_equals_int (meta->input_width, 0);
  gst_cnn_classification_meta_set_input (meta, unit, 2, 2);
  fail_unless (meta->input_width == 2 && meta->input_height == 2);
  fail_unless (meta->input[0] == 0 && meta->input[1] == 128
      && meta->input[2] == 255 && meta->input[3] == 0);

  gst_cnn_classification_meta_set_input (meta, normalised, 3, 1);
  fail_unless (meta->input[0] == 0 && meta->input[1] == 128
      && meta->input[2] == 255);

  gst_cnn_classification_meta_set_input (meta, too_big, 1,
      GST_CNN_CLASSIFICATION_META_MAX_INPUT + 1);
  fail_unless (meta->input_width == 0 && meta->input_height == 0);
  gst_cnn_classification_meta_set_input (meta, unit, 2, 2);
  gst_cnn_classification_meta_set_input (meta, NULL, 2, 2);
  fail_unless (meta->input_width == 0 && meta->input_height == 0);
  gst_buffer_unref (buf);
}

GST_END_TEST;

/* cnnclassify ! videoscale: the region is scaled with the frame, the
 * input is what the network saw, unchanged. */
GST_START_TEST (test_meta_input_survives_videoscale)
{
  GstVideoInfo info;
  GstBuffer *in, *classified, *scaled;
  const GstCnnClassificationMeta *before, *after;

  /* videoscale and capsfilter are GStreamer's own. */
  test_load_system_plugin ("coreelements");
  test_load_system_plugin ("videoconvertscale");
  test_video_info (&info, "I420", FRAME_W, FRAME_H);
  in = digit_buffer (&info);
  classified = run_pipeline ("cnnclassify", in);
  scaled = run_pipeline ("cnnclassify ! videoscale "
      "! capsfilter caps=video/x-raw,width=320,height=240", in);
  before = get_meta (classified);
  after = get_meta (scaled);

  fail_unless (after->roi_x == before->roi_x / 2
      && after->roi_width == before->roi_width / 2,
      "the region was not scaled: %u,%u %ux%u", after->roi_x, after->roi_y,
      after->roi_width, after->roi_height);
  fail_unless_equals_int (after->input_width, INPUT);
  fail_unless_equals_int (after->input_height, INPUT);
  fail_unless (memcmp (after->input, before->input, INPUT * INPUT) == 0);

  gst_buffer_unref (classified);
  gst_buffer_unref (scaled);
  gst_buffer_unref (in);
}

GST_END_TEST;

/* ---- tests: the overlay's inset ------------------------------------ */

#define OVERLAY_LAUNCH(show) "cnnclassify roi=200,160,240,240 " \
  "! cnnoverlay show-input=" show

/* The smallest area holding every pixel whose luma differs. */
static Area
luma_changes (const guint8 * a, const guint8 * b)
{
  Area area = { FRAME_W, FRAME_H, 0, 0 };

  for (gint y = 0; y < FRAME_H; y++)
    for (gint x = 0; x < FRAME_W; x++)
      if (LUMA (a, x, y) != LUMA (b, x, y)) {
        area.x0 = MIN (area.x0, x);
        area.y0 = MIN (area.y0, y);
        area.x1 = MAX (area.x1, x + 1);
        area.y1 = MAX (area.y1, y + 1);
      }
  return area;
}

static guint
pixels_changed_in (const guint8 * a, const guint8 * b, Area area)
{
  guint n = 0;

  for (gint y = area.y0; y < area.y1; y++)
    for (gint x = area.x0; x < area.x1; x++)
      n += memcmp (a + ((gsize) y * FRAME_W + x) * 4,
          b + ((gsize) y * FRAME_W + x) * 4, 4) != 0;
  return n;
}

/* Pearson's correlation of two series of n values. */
static gdouble
correlation (const gdouble * a, const gdouble * b, guint n)
{
  gdouble ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;

  for (guint i = 0; i < n; i++) {
    ma += a[i] / n;
    mb += b[i] / n;
  }
  for (guint i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return sab / sqrt (saa * sbb);
}

/* Each cell's centre in the inset @area of @pixels against the meta's
 * input: the same bright/dark pattern, black and white where it is. */
static void
check_inset_shows (const guint8 * pixels, Area area,
    const GstCnnClassificationMeta * meta)
{
  gint side = area.x1 - area.x0;
  gint cell = side / INPUT, border = (side - INPUT * cell) / 2;
  gdouble shown[INPUT * INPUT], input[INPUT * INPUT];

  fail_unless_equals_int (area.y1 - area.y0, side);
  /* Readable: a few frame pixels per input pixel, in a thin frame. */
  fail_unless (cell >= 3 && cell <= 5, "%d pixels a cell", cell);
  fail_unless (border >= 1 && border <= 3, "border %d", border);
  for (guint v = 0; v < INPUT; v++)
    for (guint u = 0; u < INPUT; u++) {
      guint i = v * INPUT + u;
      gint x = area.x0 + border + u * cell + cell / 2;
      gint y = area.y0 + border + v * cell + cell / 2;

      shown[i] = LUMA (pixels, x, y);
      input[i] = meta->input[i];
      /* Limited-range luma: 16 black, 235 white. */
      if (meta->input[i] == 0)
        fail_unless (shown[i] <= 20, "cell %u,%u: %g on black", u, v,
            shown[i]);
      if (meta->input[i] == 255)
        fail_unless (shown[i] >= 230, "cell %u,%u: %g on white", u, v,
            shown[i]);
    }
  fail_unless (correlation (shown, input, INPUT * INPUT) > 0.99,
      "correlation %g", correlation (shown, input, INPUT * INPUT));
}

/* One frame through cnnclassify ! cnnoverlay with show-input on and
 * off. */
typedef struct
{
  GstBuffer *in, *shown, *hidden;
  guint8 *paper, *with_inset, *without;     /* the three, unpacked */
} InsetRun;

static void
inset_run (InsetRun * run, gboolean with_digit)
{
  GstVideoInfo info;

  test_video_info (&info, "I420", FRAME_W, FRAME_H);
  run->in = paper_buffer (&info, with_digit, ROI_X + ROI_SIZE / 2,
      ROI_Y + ROI_SIZE / 2, 8);
  run->shown = run_pipeline (OVERLAY_LAUNCH ("true"), run->in);
  run->hidden = run_pipeline (OVERLAY_LAUNCH ("false"), run->in);
  run->paper = unpack (&info, run->in);
  run->with_inset = unpack (&info, run->shown);
  run->without = unpack (&info, run->hidden);
}

static void
inset_run_clear (InsetRun * run)
{
  g_free (run->paper);
  g_free (run->with_inset);
  g_free (run->without);
  gst_buffer_unref (run->in);
  gst_buffer_unref (run->shown);
  gst_buffer_unref (run->hidden);
}

/* cnnclassify ! cnnoverlay show-input=true draws the input beside the
 * tag, above the region; with show-input=false those pixels are the
 * frame's. */
GST_START_TEST (test_overlay_draws_input)
{
  const GstCnnClassificationMeta *meta;
  InsetRun run;
  Area inset;

  inset_run (&run, TRUE);
  meta = get_meta (run.shown);
  fail_unless_equals_int (meta->input_width, INPUT);
  assert_looks_like_a_digit (meta->input, INPUT * INPUT);

  inset = luma_changes (run.with_inset, run.without);
  fail_unless (inset.x1 > inset.x0, "show-input drew nothing");
  /* Beside the tag, on top of the region: the digit stays in view. */
  fail_unless (inset.x0 > ROI_X && inset.y1 <= ROI_Y,
      "inset at %d,%d..%d,%d", inset.x0, inset.y0, inset.x1, inset.y1);
  check_inset_shows (run.with_inset, inset, meta);
  fail_unless_equals_int (pixels_changed_in (run.paper, run.without, inset),
      0);
  inset_run_clear (&run);
}

GST_END_TEST;

/* No ink, so no input in the meta: show-input draws nothing more. */
GST_START_TEST (test_overlay_no_input_no_inset)
{
  Area all = { 0, 0, FRAME_W, FRAME_H };
  InsetRun run;

  inset_run (&run, FALSE);
  fail_unless_equals_int (get_meta (run.shown)->input_width, 0);
  fail_unless_equals_int (pixels_changed_in (run.with_inset, run.without,
          all), 0);
  inset_run_clear (&run);
}

GST_END_TEST;

/* While playing, turning show-input on and off adds and removes the
 * inset on the next frame. */
GST_START_TEST (test_overlay_show_input_while_playing)
{
  GstVideoInfo info;
  GstHarness *h = pipeline_new (OVERLAY_LAUNCH ("false"), &info);
  GstElement *overlay = gst_harness_find_element (h, "cnnoverlay");
  GstBuffer *in = paper_buffer (&info, TRUE, ROI_X + ROI_SIZE / 2,
      ROI_Y + ROI_SIZE / 2, 8);
  GstBuffer *off, *on, *off_again;
  guint8 *a, *b, *c;
  Area all = { 0, 0, FRAME_W, FRAME_H };
  gboolean show;

  g_object_get (overlay, "show-input", &show, NULL);
  fail_if (show, "show-input is on by default");
  off = gst_harness_push_and_pull (h, gst_buffer_copy_deep (in));
  g_object_set (overlay, "show-input", TRUE, NULL);
  on = gst_harness_push_and_pull (h, gst_buffer_copy_deep (in));
  g_object_set (overlay, "show-input", FALSE, NULL);
  off_again = gst_harness_push_and_pull (h, gst_buffer_copy_deep (in));

  a = unpack (&info, off);
  b = unpack (&info, on);
  c = unpack (&info, off_again);
  fail_unless (pixels_changed_in (a, b, all) > 1000);
  fail_unless_equals_int (pixels_changed_in (a, c, all), 0);

  g_free (a);
  g_free (b);
  g_free (c);
  gst_buffer_unref (off);
  gst_buffer_unref (on);
  gst_buffer_unref (off_again);
  gst_buffer_unref (in);
  gst_object_unref (overlay);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
show_input_suite (void)
{
  Suite *s = suite_create ("show-input");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_unchecked_fixture (tc, digit_setup, digit_teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_meta_input_is_preprocessed_region);
  tcase_add_test (tc, test_meta_no_ink_no_input);
  tcase_add_test (tc, test_meta_input_large_and_normalised);
  tcase_add_test (tc, test_meta_set_input_values);
  tcase_add_test (tc, test_meta_input_survives_videoscale);
  tcase_add_test (tc, test_overlay_draws_input);
  tcase_add_test (tc, test_overlay_no_input_no_inset);
  tcase_add_test (tc, test_overlay_show_input_while_playing);
  return s;
}

GST_CHECK_MAIN (show_input);
