/* Allocations per frame in steady streaming (issue 6: "zero allocations
 * per frame after the first").
 *
 * The C allocator is interposed in this executable: malloc and its
 * kin below count their calls while `counting` is set and forward to
 * glibc's own (__libc_malloc ...).  GLib 2.74 has no g_mem_set_vtable,
 * and g_malloc, g_slice (which falls back to malloc) and GStreamer all
 * end up here.
 *
 * What must not allocate: libcnn's preprocessing and forward pass, after
 * the first frame of a region and layout (the scaler makes its weights
 * then).  Nor does cnnclassify with post-messages=false: the
 * GstCnnClassificationMeta each buffer carries holds its probabilities
 * inline and points at interned label and model names; nor do the
 * frames between classifications (interval), which carry the latest
 * result, nor cnnpublish's JSON lines.  What is left is
 * gst_buffer_add_meta()'s item, which comes from g_slice and reaches
 * malloc only when a magazine of them runs dry: once in many frames.
 * Counting is meant for the default GST_DEBUG: debug logs allocate. */
#include "cnn.h"

#include <errno.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/cnn/cnnmeta.h>
#include <gst/video/video.h>
#include <math.h>
#include <stdlib.h>

/* ---- the counting allocator ---------------------------------------- */

void *__libc_malloc (size_t size);
void *__libc_calloc (size_t n, size_t size);
void *__libc_realloc (void *ptr, size_t size);
void *__libc_memalign (size_t alignment, size_t size);
void __libc_free (void *ptr);

void *malloc (size_t size);
void *calloc (size_t n, size_t size);
void *realloc (void *ptr, size_t size);
void free (void *ptr);
int posix_memalign (void **ptr, size_t alignment, size_t size);
void *aligned_alloc (size_t alignment, size_t size);
void *memalign (size_t alignment, size_t size);

static gint counting;
static gint n_allocations;

static void
note_allocation (void)
{
  if (__atomic_load_n (&counting, __ATOMIC_RELAXED))
    __atomic_add_fetch (&n_allocations, 1, __ATOMIC_RELAXED);
}

void *
malloc (size_t size)
{
  note_allocation ();
  return __libc_malloc (size);
}

void *
calloc (size_t n, size_t size)
{
  note_allocation ();
  return __libc_calloc (n, size);
}

void *
realloc (void *ptr, size_t size)
{
  note_allocation ();
  return __libc_realloc (ptr, size);
}

void
free (void *ptr)
{
  __libc_free (ptr);
}

void *
memalign (size_t alignment, size_t size)
{
  note_allocation ();
  return __libc_memalign (alignment, size);
}

void *
aligned_alloc (size_t alignment, size_t size)
{
  return memalign (alignment, size);
}

int
posix_memalign (void **ptr, size_t alignment, size_t size)
{
  *ptr = memalign (alignment, size);
  return *ptr != NULL || size == 0 ? 0 : ENOMEM;
}

static void
start_counting (void)
{
  __atomic_store_n (&n_allocations, 0, __ATOMIC_RELAXED);
  __atomic_store_n (&counting, 1, __ATOMIC_SEQ_CST);
}

/* The allocations since start_counting(). */
static gint
stop_counting (void)
{
  __atomic_store_n (&counting, 0, __ATOMIC_SEQ_CST);
  return __atomic_load_n (&n_allocations, __ATOMIC_RELAXED);
}

/* ---- frames --------------------------------------------------------- */

#define N_FRAMES 8

/* Luma of a dark ring (a zero) on light paper with a gradient and some
 * noise: the mnist preprocessing finds ink in it and runs every step. */
static guint8
paper_luma (guint x, guint y, guint width, guint height)
{
  const gdouble dx = x - width / 2.0, dy = y - height / 2.0;
  const gdouble r = sqrt (dx * dx + dy * dy), side = MIN (width, height);
  gint v = 200 - (gint) (30.0 * x / width) + (gint) ((x * 7 + y * 13) % 9) - 4;

  if (fabs (r - 0.25 * side) < 0.04 * side)
    v -= 150;
  return CLAMP (v, 0, 255);
}

/* @info's frame of paper_luma(), neutral chroma; free with
 * gst_buffer_unref(). */
static GstBuffer *
paper_buffer (const GstVideoInfo * info)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, info->size, NULL);
  GstVideoFrame frame;
  const GstVideoFormatInfo *finfo = info->finfo;

  fail_unless (gst_video_frame_map (&frame, (GstVideoInfo *) info, buf,
          GST_MAP_WRITE));
  for (guint c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS (finfo); c++) {
    guint8 *data = GST_VIDEO_FRAME_COMP_DATA (&frame, c);
    const gint stride = GST_VIDEO_FRAME_COMP_STRIDE (&frame, c);
    const gint ps = GST_VIDEO_FRAME_COMP_PSTRIDE (&frame, c);
    const gboolean luma = GST_VIDEO_FORMAT_INFO_IS_RGB (finfo) || c == 0;

    for (gint y = 0; y < GST_VIDEO_FRAME_COMP_HEIGHT (&frame, c); y++)
      for (gint x = 0; x < GST_VIDEO_FRAME_COMP_WIDTH (&frame, c); x++)
        data[y * stride + x * ps] = luma ? paper_luma (x, y, info->width,
            info->height) : 128;
  }
  gst_video_frame_unmap (&frame);
  return buf;
}

/* @info's frame as libcnn sees it: grey, RGB or YUV planes. */
static void
image_of_frame (const GstVideoFrame * frame, CnnImage * image)
{
  const GstVideoFormatInfo *finfo = frame->info.finfo;
  const guint n = GST_VIDEO_FORMAT_INFO_N_COMPONENTS (finfo);

  memset (image, 0, sizeof *image);
  image->width = GST_VIDEO_FRAME_WIDTH (frame);
  image->height = GST_VIDEO_FRAME_HEIGHT (frame);
  image->color = GST_VIDEO_FORMAT_INFO_IS_GRAY (finfo) ? CNN_COLOR_GREY :
      GST_VIDEO_FORMAT_INFO_IS_RGB (finfo) ? CNN_COLOR_RGB : CNN_COLOR_YUV;
  image->kr = 0.299f;
  image->kb = 0.114f;
  for (guint c = 0; c < MIN (n, 3); c++) {
    CnnPlane *p = &image->planes[c];

    p->data = GST_VIDEO_FRAME_COMP_DATA (frame, c);
    p->row_stride = GST_VIDEO_FRAME_COMP_STRIDE (frame, c);
    p->pixel_stride = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, c);
    p->x_shift = GST_VIDEO_FORMAT_INFO_W_SUB (finfo, c);
    p->y_shift = GST_VIDEO_FORMAT_INFO_H_SUB (finfo, c);
  }
}

/* ---- libcnn ----------------------------------------------------------- */

typedef struct
{
  const gchar *format;
  guint width, height;
  CnnRect roi;
} FrameCase;

static const FrameCase frame_cases[] = {
  {"GRAY8", 28, 28, {0, 0, 28, 28}},
  {"I420", 640, 480, {80, 0, 480, 480}},
  {"NV12", 1280, 720, {0, 0, 1280, 720}},
  {"RGBx", 320, 240, {60, 20, 200, 200}},
  {"RGB", 101, 77, {20, 5, 60, 70}},
};

/* Preprocessing @c's frame with @pre and the forward pass: once to warm
 * up, then N_FRAMES times counted. */
static gint
count_libcnn_frames (CnnPreprocessor * pre, CnnNetwork * net,
    const FrameCase * c, gfloat * input)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  GstBuffer *buf;
  CnnImage image;
  gint n;

  fail_unless (gst_video_info_set_format (&info,
          gst_video_format_from_string (c->format), c->width, c->height));
  buf = paper_buffer (&info);
  fail_unless (gst_video_frame_map (&frame, &info, buf, GST_MAP_READ));
  image_of_frame (&frame, &image);

  fail_unless (cnn_preprocessor_run (pre, &image, c->roi, input),
      "no digit found in the %s frame", c->format);
  cnn_network_forward (net, input, 1);
  start_counting ();
  for (guint i = 0; i < N_FRAMES; i++) {
    cnn_preprocessor_run (pre, &image, c->roi, input);
    cnn_network_forward (net, input, 1);
  }
  n = stop_counting ();

  gst_video_frame_unmap (&frame);
  gst_buffer_unref (buf);
  return n;
}

GST_START_TEST (test_libcnn_frames_allocate_nothing)
{
  GError *err = NULL;
  CnnModel *model = cnn_model_load (SOURCE_MODEL, &err);
  CnnNetwork *net;
  CnnShape shape;
  gfloat *input;

  fail_unless (model != NULL, "%s", err ? err->message : "");
  net = cnn_model_network (model);
  shape = cnn_network_input_shape (net);
  fail_unless (cnn_network_reserve (net, 1, &err));
  input = g_new (gfloat, cnn_shape_size (shape));

  for (guint s = 0; s < 2; s++) {
    const gchar *spec = s == 0 ? cnn_model_get_metadata (model,
        "preprocess") : "resize mean=0.5 std=0.25";
    CnnPreprocessor *pre = cnn_preprocessor_new (spec, shape, &err);

    fail_unless (pre != NULL, "%s", err ? err->message : "");
    for (guint i = 0; i < G_N_ELEMENTS (frame_cases); i++) {
      const FrameCase *c = &frame_cases[i];
      gint n = count_libcnn_frames (pre, net, c, input);

      GST_INFO ("%s: %s %ux%u: %d allocations in %d frames", spec,
          c->format, c->width, c->height, n, N_FRAMES);
      fail_unless_equals_int (n, 0);
    }
    cnn_preprocessor_free (pre);
  }
  g_free (input);
  cnn_model_free (model);
}

GST_END_TEST;

/* ---- the element ---------------------------------------------------- */

/* Frames counted through the element. */
#define N_ELEMENT_FRAMES 32

/* Called on @h's element between the frames that set up and those
 * counted. */
typedef void (*BeforeCounting) (GstElement * element);

/* Steady streaming through @h, after three frames that set up what
 * lasts (and @before, unless NULL); returns the allocations of
 * N_ELEMENT_FRAMES frames, and in @valid whether each came out with a
 * real result. */
static gint
count_harness_frames (GstHarness * h, BeforeCounting before,
    gboolean * valid)
{
  GstBuffer *in[N_ELEMENT_FRAMES];
  gboolean all_zeros = TRUE;
  GstVideoInfo info;
  gint n;

  fail_unless (gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 640,
          480));
  gst_harness_set_src_caps (h, gst_video_info_to_caps (&info));
  /* The first frames set up what lasts: caps, the scaler's weights, the
   * harness's queues. */
  for (guint i = 0; i < 3; i++)
    gst_buffer_unref (gst_harness_push_and_pull (h, paper_buffer (&info)));
  for (guint i = 0; i < N_ELEMENT_FRAMES; i++)
    in[i] = paper_buffer (&info);
  if (before != NULL)
    before (h->element);

  /* Steady streaming: each frame is let go before the next comes, as a
   * sink does, so the meta's item (from g_slice) is the one just freed. */
  start_counting ();
  for (guint i = 0; i < N_ELEMENT_FRAMES; i++) {
    GstBuffer *out = gst_harness_push_and_pull (h, in[i]);
    GstCnnClassificationMeta *meta =
        gst_buffer_get_cnn_classification_meta (out);

    /* A real result, with its names and probabilities (checked after the
     * count: a failing check allocates). */
    all_zeros = all_zeros && meta != NULL && meta->class_id == 0
        && g_str_equal (meta->label, "0") && meta->n_classes == 10
        && meta->probabilities[0] > 0.5f && meta->model && *meta->model;
    gst_buffer_unref (out);
  }
  n = stop_counting ();
  *valid = all_zeros;
  return n;
}

GST_START_TEST (test_element_allocates_nothing)
{
  GstHarness *h = gst_harness_new ("cnnclassify");
  gboolean valid;
  gint n;

  g_object_set (h->element, "model", SOURCE_MODEL, "post-messages", FALSE,
      NULL);
  n = count_harness_frames (h, NULL, &valid);
  fail_unless (valid, "a frame's meta is not the ring's class 0");
  g_print ("cnnclassify, post-messages=false: %d allocations in %d frames\n",
      n, N_ELEMENT_FRAMES);
  fail_unless (n == 0, "%d allocations in %d frames", n, N_ELEMENT_FRAMES);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The frames between classifications carry the latest result, and
 * cnnpublish writes a JSON line for every one: neither allocates. */
GST_START_TEST (test_interval_and_publish_allocate_nothing)
{
  gchar *launch = g_strdup_printf ("cnnclassify model=%s interval=3 "
      "post-messages=false ! cnnpublish location=/dev/null", SOURCE_MODEL);
  GstHarness *h = gst_harness_new_parse (launch);
  gboolean valid;
  gint n;

  n = count_harness_frames (h, NULL, &valid);
  fail_unless (valid, "a frame's meta is not the ring's class 0");
  g_print ("cnnclassify interval=3 ! cnnpublish: %d allocations in %d "
      "frames\n", n, N_ELEMENT_FRAMES);
  fail_unless (n == 0, "%d allocations in %d frames", n, N_ELEMENT_FRAMES);
  gst_harness_teardown (h);
  g_free (launch);
}

GST_END_TEST;

/* While playing: what the new settings need is made here, in the
 * setters, and the first counted frame only swaps it in. */
static void
retune (GstElement * element)
{
  g_object_set (element, "threads", 3, "smoothing", 4, NULL);
}

/* Threads and smoothing changed between frames: the frames after the
 * change allocate nothing either. */
GST_START_TEST (test_retuned_frames_allocate_nothing)
{
  GstHarness *h = gst_harness_new ("cnnclassify");
  gboolean valid;
  guint threads, smoothing;
  gint n;

  g_object_set (h->element, "model", SOURCE_MODEL, "post-messages", FALSE,
      NULL);
  n = count_harness_frames (h, retune, &valid);
  g_object_get (h->element, "threads", &threads, "smoothing", &smoothing,
      NULL);
  fail_unless_equals_int (threads, 3);
  fail_unless_equals_int (smoothing, 4);
  fail_unless (valid, "a frame's meta is not the ring's class 0");
  g_print ("cnnclassify, threads and smoothing changed: %d allocations in "
      "%d frames\n", n, N_ELEMENT_FRAMES);
  fail_unless (n == 0, "%d allocations in %d frames", n, N_ELEMENT_FRAMES);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
allocations_suite (void)
{
  Suite *s = suite_create ("allocations");
  TCase *tc = tcase_create ("per-frame");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_libcnn_frames_allocate_nothing);
  tcase_add_test (tc, test_element_allocates_nothing);
  tcase_add_test (tc, test_interval_and_publish_allocate_nothing);
  tcase_add_test (tc, test_retuned_frames_allocate_nothing);
  return s;
}

GST_CHECK_MAIN (allocations);
