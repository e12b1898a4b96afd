/* gst-check tests of the cnnoverlay element.
 *
 * Frames are uniform grey; the tests attach a classification meta
 * themselves and look at which pixels the element changed: along the
 * edges of the region, in the tag above it and the chart beside it, and
 * nowhere else.  Pixels are compared after unpacking both frames to
 * 8-bit AYUV or ARGB with GStreamer's own unpack functions, so one
 * comparison serves every format.
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <gst/cnn/cnnmeta.h>

#include <string.h>

#include "test-common.h"

#define GREY 110                /* the frames' value, luma or R = G = B */

static const gchar *formats[] = { "GRAY8", "RGB", "BGR", "RGBx", "BGRx",
  "xRGB", "xBGR", "RGBA", "BGRA", "ARGB", "ABGR", "I420", "YV12", "NV12",
  "NV21", "YUY2", "UYVY", "AYUV", "Y444", "Y42B", NULL
};

/* The region of most tests: a 200×200 square in a 640×480 frame, with
 * room above it for the tag and to its right for the chart. */
#define FRAME_W 640
#define FRAME_H 480
#define ROI_X 220
#define ROI_Y 140
#define ROI_SIZE 200

/* The box is at most 3 pixels wide; chroma subsampling may spread a
 * change by one more pixel. */
#define BOX_REACH 5
/* The tag is less than this tall (the label text is 5.5% of 480 px). */
#define TAG_REACH 64
/* The chart is less than this wide, and its top is the region's top. */
#define CHART_REACH 128

typedef struct
{
  gint x0, y0, x1, y1;          /* [x0, x1) × [y0, y1) */
} Area;

/* ---- frames ------------------------------------------------------------ */

/* Opaque grey, packed by GStreamer from unpacked AYUV or ARGB lines. */
static GstBuffer *
grey_buffer (const GstVideoInfo * info)
{
  const GstVideoFormatInfo *finfo = info->finfo;
  guint width = GST_VIDEO_INFO_WIDTH (info);
  gboolean yuv = GST_VIDEO_FORMAT_INFO_IS_YUV (finfo)
      || GST_VIDEO_FORMAT_INFO_IS_GRAY (finfo);
  guint lines = MAX (finfo->pack_lines, 1);
  GstBuffer *buf = gst_buffer_new_and_alloc (GST_VIDEO_INFO_SIZE (info));
  guint8 *unpacked = g_malloc (width * 4 * lines);
  GstVideoFrame frame;

  for (guint i = 0; i < width * lines; i++) {
    unpacked[4 * i] = 255;
    unpacked[4 * i + 1] = GREY;
    unpacked[4 * i + 2] = yuv ? 128 : GREY;
    unpacked[4 * i + 3] = yuv ? 128 : GREY;
  }
  gst_buffer_memset (buf, 0, 0, GST_VIDEO_INFO_SIZE (info));
  fail_unless (gst_video_frame_map (&frame, info, buf, GST_MAP_WRITE));
  for (guint y = 0; y < (guint) GST_VIDEO_INFO_HEIGHT (info); y += lines)
    finfo->pack_func (finfo, GST_VIDEO_PACK_FLAG_NONE, unpacked, width * 4,
        frame.data, frame.info.stride, frame.info.chroma_site, y, width);
  gst_video_frame_unmap (&frame);
  g_free (unpacked);
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  return buf;
}

/* Digit-like probabilities: @winner most likely, with a runner-up. */
static void
make_probabilities (gfloat * p, guint n, gint winner, gfloat confidence)
{
  for (guint i = 0; i < n; i++)
    p[i] = (1.0f - confidence) / (n - 1);
  if (winner >= 0) {
    p[winner] = confidence;
    p[(winner + 1) % n] += 0.05f;
  }
}

static void
add_meta (GstBuffer * buf, gint class_id, const gchar * label,
    gfloat confidence, guint x, guint y, guint w, guint h)
{
  gfloat p[10];

  make_probabilities (p, 10, class_id, confidence);
  gst_buffer_add_cnn_classification_meta (buf, class_id, label, confidence,
      10, p, x, y, w, h, "test");
}

/* ---- comparing frames -------------------------------------------------- */

/* Which pixels differ between two frames of @info, as a width × height
 * map, after unpacking both. */
static gboolean *
changed_pixels (const GstVideoInfo * info, GstBuffer * a, GstBuffer * b)
{
  const GstVideoFormatInfo *finfo = info->finfo;
  guint width = GST_VIDEO_INFO_WIDTH (info);
  guint height = GST_VIDEO_INFO_HEIGHT (info);
  gboolean *changed = g_new0 (gboolean, width * height);
  guint8 *la = g_malloc (width * 4), *lb = g_malloc (width * 4);
  GstVideoFrame fa, fb;

  fail_unless (gst_video_frame_map (&fa, info, a, GST_MAP_READ));
  fail_unless (gst_video_frame_map (&fb, info, b, GST_MAP_READ));
  for (guint y = 0; y < height; y++) {
    finfo->unpack_func (finfo, GST_VIDEO_PACK_FLAG_NONE, la, fa.data,
        fa.info.stride, 0, y, width);
    finfo->unpack_func (finfo, GST_VIDEO_PACK_FLAG_NONE, lb, fb.data,
        fb.info.stride, 0, y, width);
    for (guint x = 0; x < width; x++)
      changed[y * width + x] = memcmp (la + 4 * x, lb + 4 * x, 4) != 0;
  }
  gst_video_frame_unmap (&fa);
  gst_video_frame_unmap (&fb);
  g_free (la);
  g_free (lb);
  return changed;
}

static guint
count_in (const gboolean * changed, guint width, guint height, Area a)
{
  guint n = 0;

  for (gint y = MAX (a.y0, 0); y < MIN (a.y1, (gint) height); y++)
    for (gint x = MAX (a.x0, 0); x < MIN (a.x1, (gint) width); x++)
      n += changed[y * width + x];
  return n;
}

static guint
count_outside (const gboolean * changed, guint width, guint height, Area a)
{
  guint n = 0;

  for (guint y = 0; y < height; y++)
    for (guint x = 0; x < width; x++)
      if ((gint) x < a.x0 || (gint) x >= a.x1 || (gint) y < a.y0
          || (gint) y >= a.y1)
        n += changed[y * width + x];
  return n;
}

static gboolean
changed_at (const gboolean * changed, guint width, gint x, gint y)
{
  return changed[y * width + x];
}

/* ---- running the element ------------------------------------------------ */

static GstHarness *
overlay_harness (const GstVideoInfo * info)
{
  GstHarness *h = gst_harness_new ("cnnoverlay");

  gst_harness_set_src_caps (h, gst_video_info_to_caps (info));
  return h;
}

/* Pushes a copy of @in through @h and returns what came out. */
static GstBuffer *
overlay_push (GstHarness * h, GstBuffer * in)
{
  GstBuffer *out = gst_harness_push_and_pull (h, gst_buffer_copy_deep (in));

  fail_unless (out != NULL);
  return out;
}

/* A grey frame of @format, size @width × @height, with a result for the
 * region (x, y, w, h), through a fresh cnnoverlay with @props set; returns
 * the changed-pixel map. */
static gboolean *
overlay_changes (const gchar * format, guint width, guint height,
    gint class_id, const gchar * label, guint x, guint y, guint w, guint h,
    const gchar * first_prop, ...)
{
  GstVideoInfo info;
  GstHarness *harness;
  GstBuffer *in, *out;
  gboolean *changed;
  va_list args;

  test_video_info (&info, format, width, height);
  harness = overlay_harness (&info);
  if (first_prop) {
    va_start (args, first_prop);
    g_object_set_valist (G_OBJECT (harness->element), first_prop, args);
    va_end (args);
  }
  in = grey_buffer (&info);
  add_meta (in, class_id, label, 0.9f, x, y, w, h);
  out = overlay_push (harness, in);
  changed = changed_pixels (&info, in, out);
  gst_buffer_unref (in);
  gst_buffer_unref (out);
  gst_harness_teardown (harness);
  return changed;
}

static const Area roi_centre = { ROI_X + BOX_REACH, ROI_Y + BOX_REACH,
  ROI_X + ROI_SIZE - BOX_REACH, ROI_Y + ROI_SIZE - BOX_REACH
};

static const Area tag_zone = { ROI_X - BOX_REACH, ROI_Y - TAG_REACH,
  ROI_X + ROI_SIZE, ROI_Y
};

static const Area chart_zone = { ROI_X + ROI_SIZE + BOX_REACH, ROI_Y,
  ROI_X + ROI_SIZE + CHART_REACH, ROI_Y + ROI_SIZE
};

/* Where anything may be drawn at all: the box, the tag, the chart. */
static const Area drawing_zone = { ROI_X - BOX_REACH, ROI_Y - TAG_REACH,
  ROI_X + ROI_SIZE + CHART_REACH, ROI_Y + ROI_SIZE + BOX_REACH
};

/* The box's four edges changed at their middles and at the corners, on
 * all of the line's outer pixel. */
static void
check_box_drawn (const gboolean * changed, const gchar * format)
{
  gint x1 = ROI_X + ROI_SIZE - 1, y1 = ROI_Y + ROI_SIZE - 1;
  gint mx = ROI_X + ROI_SIZE / 2, my = ROI_Y + ROI_SIZE / 2;

  fail_unless (changed_at (changed, FRAME_W, mx, ROI_Y), "%s: top", format);
  fail_unless (changed_at (changed, FRAME_W, mx, ROI_Y + 1), "%s", format);
  fail_unless (changed_at (changed, FRAME_W, mx, y1), "%s: bottom", format);
  fail_unless (changed_at (changed, FRAME_W, ROI_X, my), "%s: left", format);
  fail_unless (changed_at (changed, FRAME_W, x1, my), "%s: right", format);
  fail_unless (changed_at (changed, FRAME_W, x1, y1), "%s: corner", format);
  fail_unless (changed_at (changed, FRAME_W, ROI_X, y1), "%s: corner", format);
  /* The whole outer line. */
  fail_unless_equals_int (count_in (changed, FRAME_W, FRAME_H, (Area) {
          ROI_X, y1, x1 + 1, y1 + 1}), ROI_SIZE);
  fail_unless_equals_int (count_in (changed, FRAME_W, FRAME_H, (Area) {
          ROI_X, ROI_Y, ROI_X + 1, y1 + 1}), ROI_SIZE);
}

/* ---- tests ---------------------------------------------------------------- */

/* Frames without a result come out byte for byte as they went in; one
 * that upstream still holds is passed on as it is, not copied. */
GST_START_TEST (test_no_meta_untouched)
{
  for (guint f = 0; formats[f]; f++) {
    GstVideoInfo info;
    GstHarness *h;
    GstBuffer *in, *out;
    GstMapInfo map;

    test_video_info (&info, formats[f], 320, 240);
    h = overlay_harness (&info);
    in = grey_buffer (&info);
    out = overlay_push (h, in);
    fail_unless (gst_buffer_map (in, &map, GST_MAP_READ));
    fail_unless_equals_int (gst_buffer_get_size (out), map.size);
    fail_unless (gst_buffer_memcmp (out, 0, map.data, map.size) == 0,
        "%s changed", formats[f]);
    gst_buffer_unmap (in, &map);
    gst_buffer_unref (out);

    out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
    fail_unless (out == in, "%s: copied", formats[f]);
    gst_buffer_unref (out);
    gst_buffer_unref (in);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

GST_START_TEST (test_draws_only_where_it_should)
{
  for (guint f = 0; formats[f]; f++) {
    const gchar *format = formats[f];
    gboolean *changed = overlay_changes (format, FRAME_W, FRAME_H, 7, "7",
        ROI_X, ROI_Y, ROI_SIZE, ROI_SIZE, NULL);

    check_box_drawn (changed, format);
    fail_unless_equals_int (count_in (changed, FRAME_W, FRAME_H,
            roi_centre), 0);
    fail_unless (count_in (changed, FRAME_W, FRAME_H, tag_zone) > 200,
        "%s: no tag above the region", format);
    fail_unless (count_in (changed, FRAME_W, FRAME_H, chart_zone) > 1000,
        "%s: no chart beside the region", format);
    fail_unless_equals_int (count_outside (changed, FRAME_W, FRAME_H,
            drawing_zone), 0);
    g_free (changed);
  }
}

GST_END_TEST;

GST_START_TEST (test_no_class)
{
  for (guint f = 0; formats[f]; f++) {
    const gchar *format = formats[f];
    gboolean *none = overlay_changes (format, FRAME_W, FRAME_H, -1, NULL,
        ROI_X, ROI_Y, ROI_SIZE, ROI_SIZE, NULL);
    gboolean *seven = overlay_changes (format, FRAME_W, FRAME_H, 7,
        "seven", ROI_X, ROI_Y, ROI_SIZE, ROI_SIZE, NULL);
    guint tag_none = count_in (none, FRAME_W, FRAME_H, tag_zone);
    guint tag_seven = count_in (seven, FRAME_W, FRAME_H, tag_zone);

    check_box_drawn (none, format);
    fail_unless_equals_int (count_in (none, FRAME_W, FRAME_H, roi_centre), 0);
    /* A small "?" tag instead of "seven  90%". */
    fail_unless (tag_none > 0, "%s", format);
    fail_unless (tag_none < tag_seven / 2, "%s: %u vs %u", format, tag_none,
        tag_seven);
    fail_unless_equals_int (count_outside (none, FRAME_W, FRAME_H,
            drawing_zone), 0);
    g_free (none);
    g_free (seven);
  }
}

GST_END_TEST;

GST_START_TEST (test_show_bars_and_box)
{
  for (guint f = 0; formats[f]; f++) {
    const gchar *format = formats[f];
    gboolean *bars = overlay_changes (format, FRAME_W, FRAME_H, 3, "3",
        ROI_X, ROI_Y, ROI_SIZE, ROI_SIZE, NULL);
    gboolean *no_bars = overlay_changes (format, FRAME_W, FRAME_H, 3, "3",
        ROI_X, ROI_Y, ROI_SIZE, ROI_SIZE, "show-bars", FALSE, NULL);
    gboolean *no_box = overlay_changes (format, FRAME_W, FRAME_H, 3, "3",
        ROI_X, ROI_Y, ROI_SIZE, ROI_SIZE, "show-box", FALSE, NULL);
    Area all = { 0, 0, FRAME_W, FRAME_H };
    Area left_edge = { ROI_X, ROI_Y, ROI_X + BOX_REACH, ROI_Y + ROI_SIZE };
    Area bottom_edge = { ROI_X, ROI_Y + ROI_SIZE - BOX_REACH,
      ROI_X + ROI_SIZE, ROI_Y + ROI_SIZE
    };

    fail_unless (count_in (no_bars, FRAME_W, FRAME_H, all) <
        count_in (bars, FRAME_W, FRAME_H, all), "%s", format);
    fail_unless_equals_int (count_in (no_bars, FRAME_W, FRAME_H,
            chart_zone), 0);
    check_box_drawn (no_bars, format);

    fail_unless_equals_int (count_in (no_box, FRAME_W, FRAME_H, left_edge),
        0);
    fail_unless_equals_int (count_in (no_box, FRAME_W, FRAME_H,
            bottom_edge), 0);
    fail_unless (count_in (no_box, FRAME_W, FRAME_H, tag_zone) > 200);
    fail_unless (count_in (no_box, FRAME_W, FRAME_H, chart_zone) > 1000);
    g_free (bars);
    g_free (no_bars);
    g_free (no_box);
  }
}

GST_END_TEST;

/* An opaque colour covers the box's pixels exactly. */
GST_START_TEST (test_color)
{
  const gchar *rgb_formats[] = { "RGBx", "BGRA", "RGB", NULL };

  for (guint f = 0; rgb_formats[f]; f++) {
    GstVideoInfo info;
    GstHarness *h;
    GstBuffer *in, *out;
    GstVideoFrame frame;
    guint8 line[FRAME_W * 4];

    test_video_info (&info, rgb_formats[f], FRAME_W, FRAME_H);
    h = overlay_harness (&info);
    g_object_set (h->element, "color", 0xff1040f0, NULL);
    in = grey_buffer (&info);
    add_meta (in, 1, "1", 0.9f, ROI_X, ROI_Y, ROI_SIZE, ROI_SIZE);
    out = overlay_push (h, in);

    fail_unless (gst_video_frame_map (&frame, &info, out, GST_MAP_READ));
    info.finfo->unpack_func (info.finfo, GST_VIDEO_PACK_FLAG_NONE, line,
        frame.data, frame.info.stride, 0, ROI_Y + ROI_SIZE - 1, FRAME_W);
    gst_video_frame_unmap (&frame);
    /* ARGB, unpacked. */
    for (guint x = ROI_X; x < ROI_X + ROI_SIZE; x++) {
      fail_unless_equals_int (line[4 * x + 1], 0x10);
      fail_unless_equals_int (line[4 * x + 2], 0x40);
      fail_unless_equals_int (line[4 * x + 3], 0xf0);
    }
    fail_unless_equals_int (line[4 * (ROI_X - 1) + 1], GREY);
    gst_buffer_unref (in);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* Regions that are the whole frame, partly or wholly outside it, or
 * empty, on frames down to 1×1: no crash, and inside the frame the box
 * is drawn. */
GST_START_TEST (test_tiny_frames_and_odd_regions)
{
  const guint sizes[][2] = { {16, 16}, {1, 1}, {3, 17}, {160, 120} };
  const guint rois[][4] = { {0, 0, 16, 16}, {10, 10, 1000, 1000},
  {100, 100, 5, 5}, {0, 0, 0, 0}, {G_MAXUINT, G_MAXUINT, G_MAXUINT,
      G_MAXUINT}, {2, 2, 1, 1}
  };
  const gchar *some_formats[] = { "I420", "NV12", "YUY2", "RGBx", "GRAY8",
    NULL
  };

  for (guint f = 0; some_formats[f]; f++)
    for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
      for (guint r = 0; r < G_N_ELEMENTS (rois); r++) {
        guint w = sizes[s][0], h = sizes[s][1];
        gboolean *changed = overlay_changes (some_formats[f], w, h,
            r % 2 ? -1 : 4, "4", rois[r][0], rois[r][1], rois[r][2],
            rois[r][3], NULL);

        /* The top-left corner of a region starting inside the frame. */
        if (rois[r][0] < w && rois[r][1] < h && rois[r][2] > 0
            && rois[r][3] > 0)
          fail_unless (changed_at (changed, w, rois[r][0], rois[r][1]),
              "%s %ux%u region %u", some_formats[f], w, h, r);
        g_free (changed);
      }
}

GST_END_TEST;

/* A meta without probabilities or with strange values. */
GST_START_TEST (test_odd_results)
{
  GstVideoInfo info;
  GstHarness *h;
  gboolean *changed;
  gfloat odd[3] = { NAN, -1.0f, 7.0f };
  const gchar *labels[] = { "", "a very long label that does not fit the "
        "frame at all, not even nearly, with more words", "\xc3\xa9t\xc3\xa9",
    "bad \xff utf-8", "\xc3", NULL
  };

  test_video_info (&info, "I420", 160, 120);
  h = overlay_harness (&info);
  for (guint i = 0; labels[i]; i++) {
    GstBuffer *in = grey_buffer (&info), *out;

    gst_buffer_add_cnn_classification_meta (in, 1, labels[i], NAN, 3, odd,
        10, 10, 100, 100, NULL);
    out = overlay_push (h, in);
    changed = changed_pixels (&info, in, out);
    fail_unless (changed_at (changed, 160, 10, 10), "label %u", i);
    g_free (changed);
    gst_buffer_unref (in);
    gst_buffer_unref (out);
  }
  for (guint n = 0; n < 40; n += 13) {
    GstBuffer *in = grey_buffer (&info), *out;
    gfloat *p = g_new0 (gfloat, MAX (n, 1));

    gst_buffer_add_cnn_classification_meta (in, n ? 0 : -1, n ? "x" : NULL,
        0.5f, n, p, 0, 0, 160, 120, "m");
    out = overlay_push (h, in);
    gst_buffer_unref (in);
    gst_buffer_unref (out);
    g_free (p);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The drawing is reused while what it shows is the same, and redone
 * when it changes: same result, same pixels; another percentage,
 * other pixels; a new frame size, the box at the new place. */
GST_START_TEST (test_redraws_on_change)
{
  GstVideoInfo info, small;
  GstHarness *h;
  GstBuffer *in, *a, *b, *c, *d;
  gfloat p[10];
  gboolean *changed;

  test_video_info (&info, "NV12", FRAME_W, FRAME_H);
  h = overlay_harness (&info);
  in = grey_buffer (&info);
  make_probabilities (p, 10, 2, 0.8f);

  gst_buffer_add_cnn_classification_meta (in, 2, "2", 0.8f, 10, p, ROI_X,
      ROI_Y, ROI_SIZE, ROI_SIZE, "m");
  a = overlay_push (h, in);
  b = overlay_push (h, in);
  changed = changed_pixels (&info, a, b);
  fail_unless_equals_int (count_in (changed, FRAME_W, FRAME_H, (Area) {
          0, 0, FRAME_W, FRAME_H}), 0);
  g_free (changed);
  gst_buffer_unref (in);

  /* 80% → 61%: the tag's text changes. */
  in = grey_buffer (&info);
  make_probabilities (p, 10, 2, 0.61f);
  gst_buffer_add_cnn_classification_meta (in, 2, "2", 0.61f, 10, p, ROI_X,
      ROI_Y, ROI_SIZE, ROI_SIZE, "m");
  c = overlay_push (h, in);
  changed = changed_pixels (&info, a, c);
  fail_unless (count_in (changed, FRAME_W, FRAME_H, tag_zone) > 0);
  fail_unless (count_in (changed, FRAME_W, FRAME_H, chart_zone) > 0);
  fail_unless_equals_int (count_in (changed, FRAME_W, FRAME_H, roi_centre),
      0);
  g_free (changed);
  gst_buffer_unref (in);

  /* Smaller frames: the old drawing must not be reused. */
  test_video_info (&small, "NV12", 320, 240);
  gst_harness_set_src_caps (h, gst_video_info_to_caps (&small));
  in = grey_buffer (&small);
  gst_buffer_add_cnn_classification_meta (in, 2, "2", 0.61f, 10, p, 40, 30,
      100, 100, "m");
  d = overlay_push (h, in);
  changed = changed_pixels (&small, in, d);
  fail_unless (changed_at (changed, 320, 40, 30));
  fail_unless (changed_at (changed, 320, 139, 129));
  fail_unless (!changed_at (changed, 320, 90, 80));
  fail_unless (!changed_at (changed, 320, 319, 239));
  g_free (changed);

  gst_buffer_unref (in);
  gst_buffer_unref (a);
  gst_buffer_unref (b);
  gst_buffer_unref (c);
  gst_buffer_unref (d);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A buffer someone else still holds is drawn on a copy, never in place. */
GST_START_TEST (test_shared_buffer_not_written)
{
  GstVideoInfo info;
  GstHarness *h;
  GstBuffer *in, *reference, *out;
  gboolean *changed;

  test_video_info (&info, "I420", FRAME_W, FRAME_H);
  h = overlay_harness (&info);
  in = grey_buffer (&info);
  add_meta (in, 5, "5", 0.9f, ROI_X, ROI_Y, ROI_SIZE, ROI_SIZE);
  reference = gst_buffer_copy_deep (in);

  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  fail_unless (out != NULL);
  fail_unless (out != in);
  changed = changed_pixels (&info, reference, in);
  fail_unless_equals_int (count_in (changed, FRAME_W, FRAME_H, (Area) {
          0, 0, FRAME_W, FRAME_H}), 0);
  g_free (changed);
  changed = changed_pixels (&info, reference, out);
  check_box_drawn (changed, "I420");
  g_free (changed);

  gst_buffer_unref (in);
  gst_buffer_unref (reference);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_properties_round_trip)
{
  GstElement *element = gst_element_factory_make ("cnnoverlay", NULL);
  gboolean show_box, show_bars;
  guint color;
  gdouble font_scale;
  GParamSpec **specs;
  guint n_specs;
  gchar *klass;

  fail_unless (element != NULL);
  g_object_get (element, "show-box", &show_box, "show-bars", &show_bars,
      "color", &color, "font-scale", &font_scale, NULL);
  fail_unless (show_box);
  fail_unless (show_bars);
  fail_unless_equals_uint64 (color, 0xff20e060);
  fail_unless_equals_float (font_scale, 1.0);

  g_object_set (element, "show-box", FALSE, "show-bars", FALSE, "color",
      0x80123456, "font-scale", 2.5, NULL);
  g_object_get (element, "show-box", &show_box, "show-bars", &show_bars,
      "color", &color, "font-scale", &font_scale, NULL);
  fail_if (show_box);
  fail_if (show_bars);
  fail_unless_equals_uint64 (color, 0x80123456);
  fail_unless_equals_float (font_scale, 2.5);

  specs = g_object_class_list_properties (G_OBJECT_GET_CLASS (element),
      &n_specs);
  for (guint i = 0; i < n_specs; i++) {
    fail_unless (g_param_spec_get_nick (specs[i]) != NULL);
    fail_unless (strlen (g_param_spec_get_blurb (specs[i])) > 10,
        "%s has no blurb", specs[i]->name);
  }
  g_free (specs);

  klass = g_strdup (gst_element_class_get_metadata (GST_ELEMENT_GET_CLASS
          (element), GST_ELEMENT_METADATA_KLASS));
  fail_unless_equals_string (klass, "Filter/Effect/Video");
  g_free (klass);
  gst_object_unref (element);
}

GST_END_TEST;

/* A larger font-scale draws a larger tag. */
GST_START_TEST (test_font_scale)
{
  gboolean *normal = overlay_changes ("RGBx", FRAME_W, FRAME_H, 7, "7",
      ROI_X, ROI_Y, ROI_SIZE, ROI_SIZE, "show-bars", FALSE, NULL);
  gboolean *big = overlay_changes ("RGBx", FRAME_W, FRAME_H, 7, "7",
      ROI_X, ROI_Y, ROI_SIZE, ROI_SIZE, "show-bars", FALSE, "font-scale",
      2.0, NULL);
  Area above = { 0, 0, FRAME_W, ROI_Y };

  fail_unless (count_in (big, FRAME_W, FRAME_H, above) >
      3 * count_in (normal, FRAME_W, FRAME_H, above));
  g_free (normal);
  g_free (big);
}

GST_END_TEST;

/* videotestsrc ! cnnclassify ! cnnoverlay ! fakesink, run by
 * gst-launch-1.0 as a user would, with the system's plugins too. */
GST_START_TEST (test_pipeline)
{
  const gchar *argv[] = { "gst-launch-1.0", "-q", "videotestsrc",
    "num-buffers=15", "!", "video/x-raw,width=320,height=240,format=I420",
    "!", "cnnclassify", "!", "cnnoverlay", "!", "fakesink", NULL
  };
  const gchar *registry = g_getenv ("GST_REGISTRY");
  gchar **envp = g_get_environ ();
  gchar *out = NULL, *err = NULL, *launch;
  GError *error = NULL;
  gint status;

  launch = g_find_program_in_path (argv[0]);
  fail_unless (launch != NULL, "gst-launch-1.0 is not installed");
  argv[0] = launch;
  envp = g_environ_unsetenv (envp, "GST_PLUGIN_SYSTEM_PATH_1_0");
  if (registry) {
    gchar *own = g_strconcat (registry, ".with-system", NULL);

    envp = g_environ_setenv (envp, "GST_REGISTRY", own, TRUE);
    g_free (own);
  }
  fail_unless (g_spawn_sync (NULL, (gchar **) argv, envp,
          G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error), "%s",
      error ? error->message : "");
  fail_unless (g_spawn_check_wait_status (status, NULL),
      "gst-launch-1.0 failed: %s%s", out, err);
  g_free (out);
  g_free (err);
  g_free (launch);
  g_strfreev (envp);
}

GST_END_TEST;

/* A number (cnnclassify mode=number): each digit's box and tag, no
 * chart beside a digit, and the number's text under their boxes; an
 * empty reading adds no text. */
#define DIGIT_Y 150
#define DIGIT_H 80

static gboolean *
number_changes_at (const gchar * text, guint n_digits, guint second_x)
{
  const guint xs[] = { 200, second_x };
  GstVideoInfo info;
  GstHarness *h;
  GstBuffer *in, *out;
  gboolean *changed;

  test_video_info (&info, "NV12", FRAME_W, FRAME_H);
  h = overlay_harness (&info);
  in = grey_buffer (&info);
  for (guint i = 0; i < n_digits; i++)
    add_meta (in, 4 - 2 * (gint) i, i ? "2" : "4", 0.9f, xs[i], DIGIT_Y, 50,
        DIGIT_H);
  if (text)
    gst_buffer_add_cnn_reading_meta (in, text, n_digits, 0, 0, FRAME_W,
        FRAME_H);
  out = overlay_push (h, in);
  changed = changed_pixels (&info, in, out);
  gst_buffer_unref (in);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  return changed;
}

static gboolean *
number_changes (const gchar * text, guint n_digits)
{
  return number_changes_at (text, n_digits, 260);
}

GST_START_TEST (test_number_reading)
{
  /* Under the boxes (they end at DIGIT_Y + DIGIT_H): the text's tag. */
  const Area below = { 200, DIGIT_Y + DIGIT_H + BOX_REACH, 310,
    DIGIT_Y + DIGIT_H + 2 * TAG_REACH
  };
  /* Right of the last box: a digit's chart. */
  const Area right = { 310 + BOX_REACH, DIGIT_Y, 310 + CHART_REACH,
    DIGIT_Y + DIGIT_H
  };
  gboolean *number = number_changes ("42", 2);
  gboolean *digits = number_changes (NULL, 2);
  gboolean *empty = number_changes ("", 2);

  /* The boxes, both ways: the left edge of each, at its middle. */
  fail_unless (changed_at (number, FRAME_W, 200, DIGIT_Y + DIGIT_H / 2));
  fail_unless (changed_at (number, FRAME_W, 260, DIGIT_Y + DIGIT_H / 2));
  fail_unless (count_in (number, FRAME_W, FRAME_H, below) > 200);
  fail_unless_equals_int (count_in (number, FRAME_W, FRAME_H, right), 0);
  /* Without a reading meta the metas are drawn as any, with a chart. */
  fail_unless (count_in (digits, FRAME_W, FRAME_H, right) > 0);
  fail_unless_equals_int (count_in (empty, FRAME_W, FRAME_H, below), 0);
  g_free (number);
  g_free (digits);
  g_free (empty);
}

GST_END_TEST;

/* Digits' tags above their boxes when they fit apart; when the digits
 * are written close and two tags would overlap, none of them, the
 * number's text below saying it all. */
GST_START_TEST (test_number_tags_never_overlap)
{
  const Area above = { 190, DIGIT_Y - TAG_REACH, 330, DIGIT_Y - BOX_REACH };
  const Area below = { 200, DIGIT_Y + DIGIT_H + BOX_REACH, 310,
    DIGIT_Y + DIGIT_H + 2 * TAG_REACH
  };
  gboolean *apart = number_changes_at ("42", 2, 260);
  gboolean *close = number_changes_at ("42", 2, 212);

  fail_unless (count_in (apart, FRAME_W, FRAME_H, above) > 100);
  fail_unless_equals_int (count_in (close, FRAME_W, FRAME_H, above), 0);
  fail_unless (count_in (close, FRAME_W, FRAME_H, below) > 200);
  /* The boxes are still drawn, each of them. */
  fail_unless (changed_at (close, FRAME_W, 200, DIGIT_Y + DIGIT_H / 2));
  fail_unless (changed_at (close, FRAME_W, 212 + 49, DIGIT_Y + DIGIT_H / 2));
  g_free (apart);
  g_free (close);
}

GST_END_TEST;

static Suite *
cnnoverlay_suite (void)
{
  Suite *s = suite_create ("cnnoverlay");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 240);
  tcase_add_test (tc, test_no_meta_untouched);
  tcase_add_test (tc, test_draws_only_where_it_should);
  tcase_add_test (tc, test_no_class);
  tcase_add_test (tc, test_show_bars_and_box);
  tcase_add_test (tc, test_color);
  tcase_add_test (tc, test_tiny_frames_and_odd_regions);
  tcase_add_test (tc, test_odd_results);
  tcase_add_test (tc, test_redraws_on_change);
  tcase_add_test (tc, test_shared_buffer_not_written);
  tcase_add_test (tc, test_properties_round_trip);
  tcase_add_test (tc, test_font_scale);
  tcase_add_test (tc, test_number_reading);
  tcase_add_test (tc, test_number_tags_never_overlap);
  tcase_add_test (tc, test_pipeline);
  return s;
}

GST_CHECK_MAIN (cnnoverlay);
