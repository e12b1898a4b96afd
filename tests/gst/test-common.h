/* Shared by the gst-check tests: model files made with libcnn from
 * seeded random weights (so that the tests depend on nothing else), and
 * video infos. */
#pragma once

#include <gst/check/gstharness.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

/* Writes a model of @arch on @input ("CxHxW") with weights from @seed to
 * @dir/@name and returns its path (free with g_free()).  @labels
 * (NULL-terminated) and @meta_name (the metadata "name") are optional.
 * Fails the running test on any error. */
gchar *test_save_model (const gchar * dir, const gchar * name,
    const gchar * arch, const gchar * input, guint64 seed,
    const gchar ** labels, const gchar * meta_name);

/* A model of @arch on @input with weights from @seed, in a temporary
 * folder of its own: for tests to which what it answers does not
 * matter.  test_model_file_remove() deletes both. */
typedef struct
{
  gchar *dir;
  gchar *path;
} TestModelFile;

void test_model_file_make (TestModelFile * file, const gchar * arch,
    const gchar * input, guint64 seed);
void test_model_file_remove (TestModelFile * file);

/* @info for a @width × @height frame of @format at 30/1 fps, packed as
 * GStreamer lays it out by default; fails the running test on a format
 * name GStreamer does not know. */
void test_video_info (GstVideoInfo * info, const gchar * format,
    guint width, guint height);

/* Loads GStreamer's own plugin @name ("coreelements", "videotestsrc")
 * from the system's plugin folder, which the tests' registry leaves out
 * so that only this build's cnn plugin is found otherwise. */
void test_load_system_plugin (const gchar * name);

/* A cnnclassify on @model with a bus of its own, so that a test reads
 * its messages. */
GstElement *test_classify_new (const gchar * model);

/* Tears @h down after dropping the messages on its element's own bus
 * (test_classify_new's), which hold references to the element. */
void test_harness_teardown (GstHarness * h);

/* What reached the sink of a pipeline, buffer by buffer. */
typedef struct
{
  guint n_metas;                /* classification metas on the buffer */
  /* Of the first meta, when there is one: */
  gint class_id;
  const gchar *label;           /* interned: lives on */
  guint roi_x, roi_y, roi_width, roi_height;
  guint frames_ago;
  gchar md5[33];                /* of the buffer's bytes, in hex; "" unless
                                 * asked for */
} TestSinkBuffer;

#define TEST_SINK_MAX_BUFFERS 64

typedef struct
{
  guint n_buffers;
  TestSinkBuffer buffers[TEST_SINK_MAX_BUFFERS];
  guint width, height;          /* of the sink's caps */
  guint n_messages;             /* "cnn-classification" messages posted */
  gboolean digests;             /* whether to fill in the md5s */
} TestSinkLog;

/* Runs @launch, a gst-launch-1.0 line ending in an element named "sink",
 * to its end (EOS; an error fails the test) and logs every buffer that
 * reached the sink's pad; with @digests the md5 of its bytes too (only
 * where no element leaves padding bytes unwritten, which valgrind would
 * see read). */
void test_run_to_sink (const gchar * launch, gboolean digests,
    TestSinkLog * log);

/* A playing "appsrc name=src ... ! cnnclassify name=c ... ! ... appsink
 * name=sink" pipeline (@launch names the three so): frames go through
 * the elements' streaming threads, one at a time, while the test thread
 * (or another) sets properties. */
typedef struct
{
  GstElement *pipeline, *src, *classify, *sink;
} TestPlaying;

void test_playing_start (TestPlaying * p, const gchar * launch);
/* Pushes @in (taken) and waits for it at the sink; free the sample with
 * gst_sample_unref(). */
GstSample *test_playing_push_pull (TestPlaying * p, GstBuffer * in);
/* Stops the pipeline, failing the test if it posted an error. */
void test_playing_stop (TestPlaying * p);

G_END_DECLS
