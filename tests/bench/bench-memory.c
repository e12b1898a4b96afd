/* Load time and memory benchmark (issue 6).
 *
 *   bench-memory [--runs N] [--model PATH]
 *
 * Prints one JSON object: the median and minimum wall time of
 * cnn_model_load() of the model (the bundled digits model by default)
 * over N runs, and the resident memory (VmRSS, from /proc/self/statm)
 * that cnnclassify instances add: a pipeline
 *   videotestsrc num-buffers=5 ! video/x-raw,format=I420,width=640,
 *   height=480 ! cnnclassify ! fakesink
 * taken to PLAYING and run to its end, then a second one beside it.  The
 * plugin is loaded before the first is measured, so the first figure is
 * an instance's own cost plus what its first use touches (the model
 * file's pages, BLAS and GStreamer state); the second is an instance's
 * alone.  Both include the source's few 640x480 buffers and the fakesink
 * (well under 1 MiB).  A benchmark: it asserts nothing.  Uses GST_PLUGIN_PATH as
 * usual. */
#include "bench-pipeline.h"
#include "bench-sort.h"
#include "cnn.h"

#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Resident memory of this process, in KiB. */
static gdouble
resident_kib (void)
{
  FILE *f = fopen ("/proc/self/statm", "r");
  unsigned long size = 0, resident = 0;

  if (f) {
    if (fscanf (f, "%lu %lu", &size, &resident) != 2)
      resident = 0;
    fclose (f);
  }
  return resident * (sysconf (_SC_PAGESIZE) / 1024.0);
}

/* Median of @runs loads of @path, in ms; the minimum in *@min_ms. */
static gdouble
time_loads (const gchar * path, guint runs, gdouble * min_ms)
{
  gdouble *ms = g_new (gdouble, runs), median;

  for (guint i = 0; i < runs; i++) {
    GError *err = NULL;
    gint64 start = g_get_monotonic_time ();
    CnnModel *model = cnn_model_load (path, &err);

    ms[i] = (g_get_monotonic_time () - start) / 1000.0;
    if (!model) {
      g_printerr ("bench-memory: %s\n", err->message);
      exit (1);
    }
    cnn_model_free (model);
  }
  qsort (ms, runs, sizeof ms[0], compare_doubles);
  median = ms[runs / 2];
  *min_ms = ms[0];
  g_free (ms);
  return median;
}

/* A pipeline with one cnnclassify (the bundled model), run to its end
 * and left in PLAYING; NULL on error. */
static GstElement *
start_instance (void)
{
  return bench_start_pipeline ("bench-memory", "videotestsrc num-buffers=5 "
      "! video/x-raw,format=I420,width=640,height=480 "
      "! cnnclassify post-messages=false ! fakesink");
}

int
main (int argc, char **argv)
{
  gint runs = 20;
  gchar *model = NULL;
  GOptionEntry entries[] = {
    {"runs", 0, 0, G_OPTION_ARG_INT, &runs, "model loads timed", "N"},
    {"model", 0, 0, G_OPTION_ARG_FILENAME, &model, "model file", "PATH"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("- load time and memory");
  GError *err = NULL;
  GstElement *first, *second, *probe;
  gdouble load_ms, load_min_ms, base_kib, first_kib, second_kib;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err) || runs < 1) {
    g_printerr ("bench-memory: %s\n", err ? err->message : "--runs < 1");
    return 2;
  }
  g_option_context_free (ctx);

  load_ms = time_loads (model ? model : DIGITS_MODEL, runs, &load_min_ms);

  /* Load the plugin, so that its code is not counted as an instance's. */
  probe = gst_element_factory_make ("cnnclassify", NULL);
  if (!probe) {
    g_printerr ("bench-memory: no cnnclassify (GST_PLUGIN_PATH?)\n");
    return 1;
  }
  gst_object_unref (probe);

  base_kib = resident_kib ();
  if (!(first = start_instance ()))
    return 1;
  first_kib = resident_kib ();
  if (!(second = start_instance ()))
    return 1;
  second_kib = resident_kib ();

  printf ("{\"model\": \"%s\", \"load_runs\": %d, \"load_median_ms\": %.3f, "
      "\"load_min_ms\": %.3f, \"rss_before_kib\": %.0f, "
      "\"rss_first_instance_kib\": %.0f, \"rss_second_instance_kib\": %.0f}\n",
      model ? model : DIGITS_MODEL, runs, load_ms, load_min_ms, base_kib,
      first_kib - base_kib, second_kib - first_kib);

  gst_element_set_state (second, GST_STATE_NULL);
  gst_element_set_state (first, GST_STATE_NULL);
  gst_object_unref (second);
  gst_object_unref (first);
  g_free (model);
  return 0;
}
