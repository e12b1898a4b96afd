/* Stress tests of cnnclassify: many state cycles, models replaced from
 * another thread while frames stream, caps renegotiated every few
 * frames, and a long run whose memory must stay flat.
 *
 * CNN_STRESS_SCALE=N divides every count by N: the valgrind run uses it
 * to keep the same code paths in a few minutes instead of hours.
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <gst/cnn/cnnmeta.h>
#include <glib/gstdio.h>

#include <cnn.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"

/* Two models of the same input with different outputs: 10 classes and
 * 4 classes, different weights. */
#define TEN_ARCH "conv 4 3, relu, maxpool 2, flatten, dense 10, softmax"
#define FOUR_ARCH "conv 2 5, relu, maxpool 2, flatten, dense 4, softmax"
#define MAX_CLASSES 10

/* The RSS the long run may gain after its warm-up. */
#define RSS_BOUND_KIB 2048

static gchar *tmp_dir, *ten_model, *four_model;

static void
models_setup (void)
{
  tmp_dir = g_dir_make_tmp ("test-stress-XXXXXX", NULL);
  fail_unless (tmp_dir != NULL);
  ten_model = test_save_model (tmp_dir, "ten.safetensors", TEN_ARCH,
      "1x28x28", 21, NULL, "ten");
  four_model = test_save_model (tmp_dir, "four.safetensors", FOUR_ARCH,
      "1x28x28", 22, NULL, "four");
}

static void
models_teardown (void)
{
  g_unlink (ten_model);
  g_unlink (four_model);
  g_rmdir (tmp_dir);
  g_free (ten_model);
  g_free (four_model);
  g_free (tmp_dir);
}

static guint
scaled (guint n)
{
  const gchar *scale = g_getenv ("CNN_STRESS_SCALE");
  guint64 divisor = scale ? g_ascii_strtoull (scale, NULL, 10) : 1;

  return divisor > 1 ? MAX (1, n / divisor) : n;
}

/* ---- frames ----------------------------------------------------------- */

/* Fills every component of every pixel from a pattern that moves with
 * @variant, so that consecutive frames give different results. */
static void
draw_pattern (GstVideoFrame * frame, guint variant)
{
  const GstVideoFormatInfo *finfo = frame->info.finfo;

  for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS (frame); c++) {
    guint8 *data = GST_VIDEO_FRAME_COMP_DATA (frame, c);
    gint stride = GST_VIDEO_FRAME_COMP_STRIDE (frame, c);
    gint pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, c);
    guint w = GST_VIDEO_FRAME_COMP_WIDTH (frame, c);
    guint h = GST_VIDEO_FRAME_COMP_HEIGHT (frame, c);

    for (guint y = 0; y < h; y++)
      for (guint x = 0; x < w; x++)
        data[y * stride + x * pstride] = c == GST_VIDEO_COMP_A
            && GST_VIDEO_FORMAT_INFO_HAS_ALPHA (finfo) ? 255
            : (guint8) ((x * (3 + variant) + y * (5 + 2 * c) + 40 * variant)
            % 256);
  }
}

static GstBuffer *
pattern_buffer (const GstVideoInfo * info, guint variant, GstClockTime pts)
{
  GstBuffer *buf = gst_buffer_new_and_alloc (GST_VIDEO_INFO_SIZE (info));
  GstVideoFrame frame;

  fail_unless (gst_video_frame_map (&frame, info, buf, GST_MAP_WRITE));
  draw_pattern (&frame, variant);
  gst_video_frame_unmap (&frame);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  return buf;
}

/* ---- running the element ---------------------------------------------- */

static GstHarness *
harness_new (const gchar * model, const GstVideoInfo * info,
    gboolean post_messages)
{
  GstHarness *h = gst_harness_new ("cnnclassify");
  GstBus *bus = gst_bus_new ();

  g_object_set (h->element, "model", model, "post-messages", post_messages,
      NULL);
  gst_element_set_bus (h->element, bus);
  gst_object_unref (bus);
  gst_harness_set_src_caps (h, gst_video_info_to_caps (info));
  return h;
}

/* Messages on the element's bus hold references to the element: drop
 * them, or it is never freed. */
static void
harness_teardown (GstHarness * h)
{
  GstBus *bus = gst_element_get_bus (h->element);

  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

static GstMessage *
pop_classification (GstHarness * h)
{
  GstBus *bus = gst_element_get_bus (h->element);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT);

  gst_object_unref (bus);
  if (msg)
    fail_unless (gst_message_has_name (msg, "cnn-classification"));
  return msg;
}

/* A result as it came out: from the meta, or from a message. */
typedef struct
{
  guint n_classes;
  gfloat p[MAX_CLASSES];
} Result;

static void
result_from_meta (GstBuffer * buf, Result * r)
{
  const GstCnnClassificationMeta *meta =
      gst_buffer_get_cnn_classification_meta (buf);

  fail_unless (meta != NULL, "no meta on a classified buffer");
  fail_unless (meta->n_classes >= 1 && meta->n_classes <= MAX_CLASSES,
      "%u classes", meta->n_classes);
  r->n_classes = meta->n_classes;
  memcpy (r->p, meta->probabilities, meta->n_classes * sizeof (gfloat));
}

static void
result_from_message (GstMessage * msg, Result * r)
{
  const GValue *array =
      gst_structure_get_value (gst_message_get_structure (msg),
      "probabilities");

  fail_unless (array != NULL && GST_VALUE_HOLDS_ARRAY (array));
  r->n_classes = gst_value_array_get_size (array);
  fail_unless (r->n_classes >= 1 && r->n_classes <= MAX_CLASSES);
  for (guint i = 0; i < r->n_classes; i++)
    r->p[i] = (gfloat) g_value_get_double (gst_value_array_get_value (array,
            i));
}

/* Bit for bit: the element is deterministic, so a result that is "close"
 * to a model's is a result computed from something else. */
static gboolean
result_equal (const Result * a, const Result * b)
{
  return a->n_classes == b->n_classes
      && memcmp (a->p, b->p, a->n_classes * sizeof (gfloat)) == 0;
}

static GstClockTime
message_timestamp (GstMessage * msg)
{
  guint64 ts = GST_CLOCK_TIME_NONE;

  fail_unless (gst_structure_get_uint64 (gst_message_get_structure (msg),
          "timestamp", &ts));
  return ts;
}

/* ---- (a) state cycles ------------------------------------------------- */

/* The tests see no system plugins but this build's; the pipeline needs
 * two of GStreamer's own. */
static GstElement *
cycling_pipeline (void)
{
  gchar *desc = g_strdup_printf ("videotestsrc pattern=ball ! "
      "video/x-raw,format=GRAY8,width=64,height=48 ! "
      "cnnclassify name=c model=\"%s\" post-messages=false ! "
      "fakesink sync=false", ten_model);
  GError *err = NULL;
  GstElement *pipeline;

  test_load_system_plugin ("coreelements");
  test_load_system_plugin ("videotestsrc");
  pipeline = gst_parse_launch (desc, &err);

  fail_unless (pipeline != NULL, "%s", err ? err->message : "");
  g_free (desc);
  return pipeline;
}

/* Every cycle reaches PLAYING (so a frame was prerolled and classified)
 * and goes back to NULL, which unloads and frees the model. */
GST_START_TEST (test_state_cycles)
{
  GstElement *pipeline = cycling_pipeline ();
  GstElement *classify = gst_bin_get_by_name (GST_BIN (pipeline), "c");
  guint cycles = scaled (1000);

  for (guint i = 0; i < cycles; i++) {
    guint64 classified = 0;

    fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING)
        == GST_STATE_CHANGE_FAILURE, "cycle %u: PLAYING failed", i);
    fail_unless_equals_int (gst_element_get_state (pipeline, NULL, NULL,
            10 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
    g_object_get (classify, "frames-classified", &classified, NULL);
    fail_unless (classified >= 1, "cycle %u: no frame classified", i);
    fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
  }
  GST_INFO ("%u cycles", cycles);
  gst_object_unref (classify);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* ---- (b) models swapped while streaming ------------------------------- */

#define SWAP_VARIANTS 4
#define SWAP_EVERY 3

/* The result each model gives on each of the pictures, from an element
 * that only ever had that model. */
static void
reference_results (const gchar * model, const GstVideoInfo * info,
    Result refs[SWAP_VARIANTS])
{
  GstHarness *h = harness_new (model, info, FALSE);

  for (guint v = 0; v < SWAP_VARIANTS; v++) {
    GstBuffer *out = gst_harness_push_and_pull (h, pattern_buffer (info, v,
            v * GST_MSECOND));

    fail_unless (out != NULL);
    result_from_meta (out, &refs[v]);
    gst_buffer_unref (out);
  }
  harness_teardown (h);
}

/* The swapping thread and the streaming side wait for each other on a
 * condition, never by polling: under valgrind, which runs one thread at
 * a time, a thread that sleeps and checks in a loop can keep the one it
 * waits for from running. */
typedef struct
{
  GstElement *element;
  GMutex lock;
  GCond changed;
  guint frames;                 /* pushed so far, by the streaming side */
  guint swaps;                  /* done so far, by the swapping thread */
  guint stop;                   /* 1 once the streaming side is done */
} Swapper;

/* How long the streaming side waits for a swap before it fails: a model
 * loads in milliseconds, in well under a second under valgrind. */
#define SWAP_WAIT_LIMIT (60 * G_TIME_SPAN_SECOND)

/* Every SWAP_EVERY frames, the other model. */
static gpointer
swap_models (gpointer data)
{
  Swapper *s = data;
  guint next = SWAP_EVERY;

  g_mutex_lock (&s->lock);
  for (;;) {
    const gchar *model;

    while (!s->stop && s->frames < next)
      g_cond_wait (&s->changed, &s->lock);
    if (s->stop)
      break;
    model = s->swaps % 2 ? ten_model : four_model;
    g_mutex_unlock (&s->lock);
    g_object_set (s->element, "model", model, NULL);
    g_mutex_lock (&s->lock);
    s->swaps++;
    next += SWAP_EVERY;
    g_cond_broadcast (&s->changed);
  }
  g_mutex_unlock (&s->lock);
  return NULL;
}

static void
swapper_set (Swapper * s, guint * field, guint value)
{
  g_mutex_lock (&s->lock);
  *field = value;
  g_cond_broadcast (&s->changed);
  g_mutex_unlock (&s->lock);
}

static guint
swapper_swaps (Swapper * s)
{
  guint swaps;

  g_mutex_lock (&s->lock);
  swaps = s->swaps;
  g_mutex_unlock (&s->lock);
  return swaps;
}

/* Loading a model takes longer than a few frames: the streaming side
 * lets at most one swap be pending, so that swaps stay every few frames
 * while each still races with the frames that follow it. */
static void
wait_for_swapper (Swapper * s, guint frame)
{
  gint64 deadline = g_get_monotonic_time () + SWAP_WAIT_LIMIT;
  gboolean late = FALSE;

  if (frame % SWAP_EVERY != 0)
    return;
  g_mutex_lock (&s->lock);
  while (!late && frame / SWAP_EVERY > s->swaps + 1)
    late = !g_cond_wait_until (&s->changed, &s->lock, deadline);
  g_mutex_unlock (&s->lock);
  fail_if (late, "frame %u: %u swaps after waiting %d s for the next", frame,
      swapper_swaps (s), (gint) (SWAP_WAIT_LIMIT / G_TIME_SPAN_SECOND));
}

/* Which of the two models @r is exactly, for picture @variant; fails
 * when it is neither (a mix, or garbage). */
static guint
which_model (const Result * r, const Result refs[2][SWAP_VARIANTS],
    guint variant, const gchar * what, guint frame)
{
  for (guint m = 0; m < 2; m++)
    if (result_equal (r, &refs[m][variant]))
      return m;
  fail ("frame %u: the %s's result (%u classes) is neither model's", frame,
      what, r->n_classes);
  return 0;
}

static void
check_swap_messages (GstHarness * h, const Result refs[2][SWAP_VARIANTS],
    guint seen[2])
{
  GstMessage *msg;

  while ((msg = pop_classification (h))) {
    guint frame = message_timestamp (msg) / GST_MSECOND;
    Result r;

    result_from_message (msg, &r);
    seen[which_model (&r, refs, frame % SWAP_VARIANTS, "message", frame)]++;
    gst_message_unref (msg);
  }
}

GST_START_TEST (test_model_swaps_while_streaming)
{
  Result refs[2][SWAP_VARIANTS];
  guint metas[2] = { 0, 0 }, messages[2] = { 0, 0 };
  guint n_frames = scaled (3000);
  Swapper swapper = { NULL };
  GstVideoInfo info;
  GstHarness *h;
  GThread *thread;

  test_video_info (&info, "GRAY8", 64, 48);
  reference_results (ten_model, &info, refs[0]);
  reference_results (four_model, &info, refs[1]);
  fail_unless (refs[0][0].n_classes == 10 && refs[1][0].n_classes == 4);

  h = harness_new (ten_model, &info, TRUE);
  swapper.element = h->element;
  g_mutex_init (&swapper.lock);
  g_cond_init (&swapper.changed);
  thread = g_thread_new ("swap", swap_models, &swapper);
  for (guint i = 0; i < n_frames; i++) {
    guint v = i % SWAP_VARIANTS;
    GstBuffer *out;
    Result r;

    wait_for_swapper (&swapper, i);
    out = gst_harness_push_and_pull (h, pattern_buffer (&info, v,
            i * GST_MSECOND));

    fail_unless (out != NULL);
    result_from_meta (out, &r);
    metas[which_model (&r, refs, v, "meta", i)]++;
    gst_buffer_unref (out);
    check_swap_messages (h, refs, messages);
    swapper_set (&swapper, &swapper.frames, i + 1);
  }
  swapper_set (&swapper, &swapper.stop, 1);
  g_thread_join (thread);
  g_mutex_clear (&swapper.lock);
  g_cond_clear (&swapper.changed);

  GST_INFO ("%u swaps; metas: %u ten, %u four", swapper.swaps, metas[0],
      metas[1]);
  fail_unless (swapper.swaps + 2 >= n_frames / SWAP_EVERY,
      "only %u swaps in %u frames", swapper.swaps, n_frames);
  fail_unless (metas[0] > 0 && metas[1] > 0, "one model never used");
  fail_unless_equals_int (messages[0] + messages[1], n_frames);
  harness_teardown (h);
}

GST_END_TEST;

/* ---- (c) caps changing every few frames ------------------------------- */

typedef struct
{
  const gchar *format;
  guint width, height;
} CapsCase;

static const CapsCase caps_cases[] = {
  {"GRAY8", 64, 48}, {"I420", 50, 40}, {"RGB", 33, 21}, {"NV12", 64, 64},
  {"BGRx", 80, 30}, {"YUY2", 32, 48}, {"GRAY8", 17, 90}, {"RGBA", 28, 28},
  {"NV21", 96, 54}, {"YV12", 40, 40}, {"UYVY", 30, 60},
};

#define N_CAPS G_N_ELEMENTS (caps_cases)
#define CAPS_VARIANTS 3
#define CAPS_EVERY 4

typedef struct
{
  Result result;
  guint roi[4];
} Expected;

static void
expected_from (GstBuffer * out, Expected * e)
{
  const GstCnnClassificationMeta *meta =
      gst_buffer_get_cnn_classification_meta (out);

  result_from_meta (out, &e->result);
  e->roi[0] = meta->roi_x;
  e->roi[1] = meta->roi_y;
  e->roi[2] = meta->roi_width;
  e->roi[3] = meta->roi_height;
}

/* What an element that never renegotiated gives for each case and
 * picture. */
static void
caps_references (Expected refs[N_CAPS][CAPS_VARIANTS])
{
  for (guint c = 0; c < N_CAPS; c++) {
    GstVideoInfo info;
    GstHarness *h;

    test_video_info (&info, caps_cases[c].format, caps_cases[c].width,
        caps_cases[c].height);
    h = harness_new (ten_model, &info, FALSE);
    for (guint v = 0; v < CAPS_VARIANTS; v++) {
      GstBuffer *out = gst_harness_push_and_pull (h, pattern_buffer (&info,
              v, 0));

      fail_unless (out != NULL);
      expected_from (out, &refs[c][v]);
      gst_buffer_unref (out);
    }
    harness_teardown (h);
  }
}

/* The GRAY8 reference checked against libcnn run directly: the
 * references themselves are right, not only consistent. */
static void
check_grey_reference (const Expected * e, guint variant)
{
  GstVideoInfo info;
  GstBuffer *buf;
  GstMapInfo map;
  GError *err = NULL;
  CnnModel *model = cnn_model_load (ten_model, &err);
  CnnShape in = { 1, 28, 28 };
  CnnPreprocessor *pre = cnn_preprocessor_new ("resize", in, &err);
  CnnImage image = { 64, 48, CNN_COLOR_GREY };
  CnnRect square = { 8, 0, 48, 48 };
  gfloat input[28 * 28];
  const gfloat *p;

  fail_unless (model != NULL && pre != NULL, "%s", err ? err->message : "");
  test_video_info (&info, "GRAY8", 64, 48);
  buf = pattern_buffer (&info, variant, 0);
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  image.planes[0].data = map.data;
  image.planes[0].row_stride = GST_VIDEO_INFO_PLANE_STRIDE (&info, 0);
  image.planes[0].pixel_stride = 1;
  fail_unless (cnn_preprocessor_run (pre, &image, square, input));
  fail_unless (cnn_network_reserve (cnn_model_network (model), 1, NULL));
  p = cnn_network_forward (cnn_model_network (model), input, 1);
  fail_unless (e->result.n_classes == 10);
  fail_unless (memcmp (p, e->result.p, 10 * sizeof (gfloat)) == 0,
      "the element's GRAY8 result differs from libcnn's");
  fail_unless (e->roi[0] == 8 && e->roi[1] == 0 && e->roi[2] == 48
      && e->roi[3] == 48);
  gst_buffer_unmap (buf, &map);
  gst_buffer_unref (buf);
  cnn_preprocessor_free (pre);
  cnn_model_free (model);
}

static void
check_renegotiated (GstBuffer * out, const Expected * want, guint frame)
{
  const CapsCase *c = &caps_cases[(frame / CAPS_EVERY) % N_CAPS];
  Expected got;

  expected_from (out, &got);
  fail_unless (result_equal (&got.result, &want->result),
      "frame %u (%s %ux%u): result differs from a fresh element's", frame,
      c->format, c->width, c->height);
  fail_unless (memcmp (got.roi, want->roi, sizeof got.roi) == 0,
      "frame %u (%s %ux%u): roi %u,%u,%u,%u, expected %u,%u,%u,%u", frame,
      c->format, c->width, c->height, got.roi[0], got.roi[1], got.roi[2],
      got.roi[3], want->roi[0], want->roi[1], want->roi[2], want->roi[3]);
}

GST_START_TEST (test_caps_change_every_few_frames)
{
  Expected refs[N_CAPS][CAPS_VARIANTS];
  guint n_frames = MAX (scaled (1200), 2 * N_CAPS * CAPS_EVERY);
  GstVideoInfo info;
  GstHarness *h;

  caps_references (refs);
  for (guint v = 0; v < CAPS_VARIANTS; v++)
    check_grey_reference (&refs[0][v], v);

  test_video_info (&info, caps_cases[0].format, caps_cases[0].width,
      caps_cases[0].height);
  h = harness_new (ten_model, &info, FALSE);
  for (guint i = 0; i < n_frames; i++) {
    guint c = (i / CAPS_EVERY) % N_CAPS, v = i % CAPS_VARIANTS;
    GstBuffer *out;

    if (i % CAPS_EVERY == 0 && i > 0) {
      test_video_info (&info, caps_cases[c].format, caps_cases[c].width,
          caps_cases[c].height);
      gst_harness_set_src_caps (h, gst_video_info_to_caps (&info));
    }
    out = gst_harness_push_and_pull (h, pattern_buffer (&info, v,
            i * GST_MSECOND));
    fail_unless (out != NULL, "frame %u: nothing came out", i);
    check_renegotiated (out, &refs[c][v], i);
    gst_buffer_unref (out);
  }
  harness_teardown (h);
}

GST_END_TEST;

/* ---- (d) a long run in flat memory ------------------------------------ */

static guint64
rss_kib (void)
{
  gchar *status = NULL, *line;
  guint64 kib = 0;

  fail_unless (g_file_get_contents ("/proc/self/status", &status, NULL,
          NULL));
  line = strstr (status, "\nVmRSS:");
  fail_unless (line != NULL, "no VmRSS in /proc/self/status");
  kib = g_ascii_strtoull (line + strlen ("\nVmRSS:"), NULL, 10);
  g_free (status);
  return kib;
}

static void
push_frames (GstHarness * h, const GstVideoInfo * info, guint from, guint to)
{
  for (guint i = from; i < to; i++) {
    GstBuffer *out = gst_harness_push_and_pull (h, pattern_buffer (info,
            i % 2, i * GST_MSECOND));
    GstMessage *msg = pop_classification (h);

    fail_unless (out != NULL && msg != NULL, "frame %u: no result", i);
    fail_unless (gst_buffer_get_cnn_classification_meta (out) != NULL);
    gst_message_unref (msg);
    gst_buffer_unref (out);
  }
}

/* A sanitizer's quarantine or valgrind's freed-block queue holds freed
 * memory on purpose: RSS says nothing about leaks there (both check
 * leaks their own way), so the bound applies to plain builds only. */
static gboolean
rss_is_meaningful (void)
{
#if defined(__SANITIZE_ADDRESS__)
  return FALSE;
#else
  return g_getenv ("CNN_STRESS_SCALE") == NULL;
#endif
}

GST_START_TEST (test_long_run_flat_memory)
{
  guint n_frames = scaled (100000), warm_up = scaled (1000);
  guint64 start, end, classified = 0;
  GstVideoInfo info;
  GstHarness *h;

  test_video_info (&info, "GRAY8", 64, 48);
  h = harness_new (ten_model, &info, TRUE);
  push_frames (h, &info, 0, warm_up);
  start = rss_kib ();
  push_frames (h, &info, warm_up, n_frames);
  end = rss_kib ();
  g_object_get (h->element, "frames-classified", &classified, NULL);
  fail_unless_equals_uint64 (classified, n_frames);
  g_print ("test_long_run_flat_memory: %u frames; VmRSS after %u frames: "
      "%" G_GUINT64_FORMAT " kB, at the end: %" G_GUINT64_FORMAT " kB\n",
      n_frames, warm_up, start, end);
  if (rss_is_meaningful ())
    fail_unless (end <= start + RSS_BOUND_KIB, "VmRSS grew from %"
        G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT " kB", start, end);
  harness_teardown (h);
}

GST_END_TEST;

static Suite *
stress_suite (void)
{
  Suite *s = suite_create ("stress");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_unchecked_fixture (tc, models_setup, models_teardown);
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_state_cycles);
  tcase_add_test (tc, test_model_swaps_while_streaming);
  tcase_add_test (tc, test_caps_change_every_few_frames);
  tcase_add_test (tc, test_long_run_flat_memory);
  return s;
}

GST_CHECK_MAIN (stress);
