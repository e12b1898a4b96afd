/* Many live streams in one process (issue 15): N independent pipelines
 *
 *   appsrc is-live=true (640x480 I420, 30 fps) ! cnnclassify ! fakesink sync=true
 *
 * run side by side for --seconds, for each N of --streams (default
 * 1,8,32), as an NVR with N cameras would.  A feeder thread plays the
 * cameras: every 1/30 s it gives each stream its next frame, which appsrc
 * stamps with the running time it arrives at, from distinct desk frames
 * (--desk FILE: raw 640x480 GRAY8, as tests/eval/make-desk-frames --raw
 * writes; each stream starts at its own frame).  A camera does not wait:
 * when a stream still holds 2 frames it has not taken, the new one is
 * dropped, as v4l2src drops.  It prints, for each N:
 *
 *   cpu/stream   CPU time of the whole process per stream, as a share of
 *                one core (getrusage), over the timed part;
 *   dropped      frames the cameras could not hand over, of all;
 *   skipped      frames cnnclassify let pass late with the last result
 *                (QoS, frames-skipped), of all;
 *   p50/p99      end-to-end latency, µs: from the frame's capture time
 *                to the sink's handoff (this includes the latency the
 *                pipeline configures, the element's mean inference time).
 *
 *   bench-streams --desk FILE [--streams N,...] [--seconds S] [--json]
 *
 * Pin it as a whole (taskset -c 0,1): the streams share the cores as
 * they would in an application.  A benchmark, not a test: it asserts
 * nothing. */
#include "bench-sort.h"

#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define WIDTH 640
#define HEIGHT 480
#define FPS 30
#define MAX_QUEUED 2            /* frames a stream may hold untaken */
#define MAX_FRAMES 120          /* distinct frames kept in memory */
#define WARM_UP_SECONDS 1.0

typedef struct
{
  GstElement *pipeline, *src;
  guint next_frame;
  guint64 pushed, dropped, received;
  gdouble *latency_us;          /* received latencies, preallocated */
  gsize max_latencies;
  gint timing;                  /* past the warm-up (atomic: the sink
                                 * reads it in its streaming thread) */
} Stream;

typedef struct
{
  GstBuffer **frames;
  guint n_frames;
} FrameSet;

/* I420 buffers of the desk frames in @path: their luma, grey chroma. */
static gboolean
load_frames (const gchar * path, FrameSet * set)
{
  const gsize luma = WIDTH * HEIGHT, chroma = luma / 4;
  GError *error = NULL;
  gchar *data;
  gsize len;

  if (!g_file_get_contents (path, &data, &len, &error)) {
    fprintf (stderr, "bench-streams: %s\n", error->message);
    g_error_free (error);
    return FALSE;
  }
  if (len < luma || len % luma) {
    fprintf (stderr, "bench-streams: %s is not whole 640x480 GRAY8 "
        "frames\n", path);
    g_free (data);
    return FALSE;
  }
  set->n_frames = MIN (len / luma, MAX_FRAMES);
  set->frames = g_new (GstBuffer *, set->n_frames);
  for (guint i = 0; i < set->n_frames; i++) {
    GstBuffer *b = gst_buffer_new_allocate (NULL, luma + 2 * chroma, NULL);
    GstMapInfo map;

    gst_buffer_map (b, &map, GST_MAP_WRITE);
    memcpy (map.data, data + i * luma, luma);
    memset (map.data + luma, 128, 2 * chroma);
    gst_buffer_unmap (b, &map);
    set->frames[i] = b;
  }
  g_free (data);
  return TRUE;
}

static void
on_handoff (GstElement * sink, GstBuffer * buffer, GstPad * pad,
    gpointer user_data)
{
  Stream *s = user_data;
  GstClock *clock = gst_element_get_clock (sink);
  GstClockTime now;

  if (!clock)
    return;
  now = gst_clock_get_time (clock) - gst_element_get_base_time (sink);
  gst_object_unref (clock);
  if (!g_atomic_int_get (&s->timing))
    return;
  if (s->received < s->max_latencies && GST_BUFFER_PTS_IS_VALID (buffer))
    s->latency_us[s->received] = (gdouble) GST_CLOCK_DIFF (GST_BUFFER_PTS
        (buffer), now) / 1e3;
  s->received++;
}

static gboolean
start_stream (Stream * s, guint index, gsize max_latencies)
{
  GError *error = NULL;
  GstElement *sink;

  /* Fatal errors: without them a missing element (cnnclassify not on
   * GST_PLUGIN_PATH) gives a pipeline without it and an error beside,
   * and every frame would count as dropped. */
  s->pipeline = gst_parse_launch_full ("appsrc name=src is-live=true"
      " format=time do-timestamp=true"
      " caps=video/x-raw,format=I420,width=640,height=480,framerate=30/1"
      " ! cnnclassify name=classify ! fakesink name=sink sync=true"
      " signal-handoffs=true", NULL, GST_PARSE_FLAG_FATAL_ERRORS, &error);
  if (!s->pipeline) {
    fprintf (stderr, "bench-streams: %s (is the plugin on "
        "GST_PLUGIN_PATH?)\n", error->message);
    g_error_free (error);
    return FALSE;
  }
  s->src = gst_bin_get_by_name (GST_BIN (s->pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (s->pipeline), "sink");
  g_signal_connect (sink, "handoff", G_CALLBACK (on_handoff), s);
  gst_object_unref (sink);
  s->next_frame = index * 7;
  s->max_latencies = max_latencies;
  s->latency_us = g_new (gdouble, max_latencies);
  /* Live: it reaches PLAYING without a frame, and appsrc stamps each
   * frame with the running time it is given at (do-timestamp). */
  if (gst_element_set_state (s->pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    fprintf (stderr, "bench-streams: a pipeline did not start\n");
    return FALSE;
  }
  return TRUE;
}

static void
stop_stream (Stream * s)
{
  gst_element_set_state (s->pipeline, GST_STATE_NULL);
  gst_object_unref (s->src);
  gst_object_unref (s->pipeline);
  g_free (s->latency_us);
}

/* One camera tick: each stream's next frame. */
static void
feed (Stream * streams, guint n, const FrameSet * set)
{
  for (guint i = 0; i < n; i++) {
    Stream *s = &streams[i];
    GstBuffer *b;

    if (s->timing)              /* only this thread writes it */
      s->pushed++;
    if (gst_app_src_get_current_level_buffers (GST_APP_SRC (s->src))
        >= MAX_QUEUED) {
      s->dropped += s->timing;
      continue;
    }
    b = gst_buffer_copy (set->frames[s->next_frame++ % set->n_frames]);
    GST_BUFFER_DURATION (b) = GST_SECOND / FPS;
    gst_app_src_push_buffer (GST_APP_SRC (s->src), b);
  }
}

typedef struct
{
  guint streams;
  gdouble cpu_per_stream, dropped, skipped, p50_us, p99_us;
} Figures;

static gdouble
cpu_seconds (void)
{
  struct rusage u;

  getrusage (RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec
      + u.ru_stime.tv_usec) / 1e6;
}

/* Median and 99th percentile of every stream's latencies. */
static void
latency_quantiles (const Stream * streams, guint n, Figures * f)
{
  GArray *all = g_array_new (FALSE, FALSE, sizeof (gdouble));

  for (guint i = 0; i < n; i++)
    g_array_append_vals (all, streams[i].latency_us,
        MIN (streams[i].received, streams[i].max_latencies));
  g_array_sort (all, compare_doubles);
  f->p50_us = all->len ? g_array_index (all, gdouble, all->len / 2) : 0;
  f->p99_us = all->len ? g_array_index (all, gdouble, all->len * 99 / 100) : 0;
  g_array_free (all, TRUE);
}

static guint64
frames_skipped (Stream * s)
{
  GstElement *classify = gst_bin_get_by_name (GST_BIN (s->pipeline),
      "classify");
  guint64 k;

  g_object_get (classify, "frames-skipped", &k, NULL);
  gst_object_unref (classify);
  return k;
}

static gboolean
run_streams (guint n, gdouble seconds, const FrameSet * set, Figures * f)
{
  Stream *streams = g_new0 (Stream, n);
  GstClock *clock = gst_system_clock_obtain ();
  const guint ticks = (guint) ((WARM_UP_SECONDS + seconds) * FPS);
  const guint warm_up = (guint) (WARM_UP_SECONDS * FPS);
  GstClockTime next;
  guint64 pushed = 0, dropped = 0, skipped = 0, skipped_before = 0;
  gdouble cpu = 0.0;

  for (guint i = 0; i < n; i++)
    if (!start_stream (&streams[i], i, (gsize) (seconds * FPS) + FPS))
      return FALSE;
  next = gst_clock_get_time (clock);
  for (guint t = 0; t < ticks; t++) {
    GstClockID tick;

    if (t == warm_up) {
      for (guint i = 0; i < n; i++) {
        skipped_before += frames_skipped (&streams[i]);
        g_atomic_int_set (&streams[i].timing, TRUE);
      }
      cpu = cpu_seconds ();
    }
    feed (streams, n, set);
    next += GST_SECOND / FPS;
    tick = gst_clock_new_single_shot_id (clock, next);
    gst_clock_id_wait (tick, NULL);
    gst_clock_id_unref (tick);
  }
  cpu = cpu_seconds () - cpu;
  for (guint i = 0; i < n; i++) {
    skipped += frames_skipped (&streams[i]);
    pushed += streams[i].pushed;
    dropped += streams[i].dropped;
  }
  f->streams = n;
  f->cpu_per_stream = cpu / seconds / n;
  f->dropped = pushed ? (gdouble) dropped / pushed : 0.0;
  f->skipped = pushed ? (gdouble) (skipped - skipped_before) / pushed : 0.0;
  latency_quantiles (streams, n, f);
  for (guint i = 0; i < n; i++)
    stop_stream (&streams[i]);
  g_free (streams);
  gst_object_unref (clock);
  return TRUE;
}

int
main (int argc, char **argv)
{
  const gchar *desk = NULL, *counts = "1,8,32";
  gdouble seconds = 10.0;
  gboolean json = FALSE;
  FrameSet set = { 0 };
  gchar **items;

  gst_init (&argc, &argv);
  for (gint i = 1; i < argc; i++) {
    if (g_str_equal (argv[i], "--json"))
      json = TRUE;
    else if (g_str_equal (argv[i], "--seconds") && i + 1 < argc)
      seconds = g_ascii_strtod (argv[++i], NULL);
    else if (g_str_equal (argv[i], "--streams") && i + 1 < argc)
      counts = argv[++i];
    else if (g_str_equal (argv[i], "--desk") && i + 1 < argc)
      desk = argv[++i];
    else {
      fprintf (stderr, "usage: %s --desk FILE [--streams N,...] "
          "[--seconds S] [--json]\n", argv[0]);
      return 2;
    }
  }
  if (!desk || seconds <= 0.0) {
    fprintf (stderr, "bench-streams: --desk FILE (640x480 GRAY8 frames) "
        "and a positive --seconds are needed\n");
    return 2;
  }
  if (!load_frames (desk, &set))
    return 1;
  if (!json)
    printf ("%7s %11s %9s %9s %10s %10s\n", "streams", "cpu/stream",
        "dropped", "skipped", "p50 µs", "p99 µs");
  else
    printf ("{\"fps\": %d, \"seconds\": %g, \"runs\": [", FPS, seconds);
  items = g_strsplit (counts, ",", -1);
  for (guint k = 0; items[k]; k++) {
    Figures f;
    guint64 n;

    if (!g_ascii_string_to_unsigned (items[k], 10, 1, 256, &n, NULL)
        || !run_streams ((guint) n, seconds, &set, &f))
      return 1;
    if (json)
      printf ("%s{\"streams\": %u, \"cpu_per_stream\": %.4f, \"dropped\": "
          "%.4f, \"skipped\": %.4f, \"p50_us\": %.0f, \"p99_us\": %.0f}",
          k ? ", " : "", f.streams, f.cpu_per_stream, f.dropped, f.skipped,
          f.p50_us, f.p99_us);
    else
      printf ("%7u %10.1f%% %8.2f%% %8.2f%% %10.0f %10.0f\n", f.streams,
          100.0 * f.cpu_per_stream, 100.0 * f.dropped, 100.0 * f.skipped,
          f.p50_us, f.p99_us);
    fflush (stdout);
  }
  if (json)
    printf ("]}\n");
  g_strfreev (items);
  for (guint i = 0; i < set.n_frames; i++)
    gst_buffer_unref (set.frames[i]);
  g_free (set.frames);
  return 0;
}
