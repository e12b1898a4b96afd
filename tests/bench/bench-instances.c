/* Memory of many cnnclassify instances of one model in one process
 * (issue 13 item 6: an NVR with 16 cameras).
 *
 *   bench-instances [--instances N] [--caps CAPS] [--model PATH] [--json]
 *
 * Starts one pipeline
 *   videotestsrc num-buffers=5 ! CAPS ! cnnclassify model=PATH ! fakesink
 * (CAPS by default video/x-raw,format=GRAY8,width=64,height=64; the
 * bundled digit model), runs it to its end and leaves it in PLAYING, and
 * reads the process's peak resident memory (VmHWM, /proc/self/status);
 * then N - 1 more beside it (17 in all by default), and the peak again.
 * Prints both peaks and the memory each extra instance adds:
 * (peak with N - peak with 1) / (N - 1).  The plugin and GStreamer are
 * loaded before the first is counted.  A benchmark: it asserts nothing.
 * Uses GST_PLUGIN_PATH as usual. */
#include "bench-pipeline.h"

#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A line "Key:   N kB" of /proc/self/status, in KiB; 0 if absent. */
static gdouble
status_kib (const gchar * key)
{
  gchar *text = NULL, **lines;
  gdouble kib = 0.0;
  gsize key_len = strlen (key);

  if (!g_file_get_contents ("/proc/self/status", &text, NULL, NULL))
    return 0.0;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    if (strncmp (lines[i], key, key_len) == 0 && lines[i][key_len] == ':')
      kib = g_ascii_strtod (lines[i] + key_len + 1, NULL);
  g_strfreev (lines);
  g_free (text);
  return kib;
}

/* One pipeline run to its end and left in PLAYING; NULL on error. */
static GstElement *
start_instance (const gchar * caps, const gchar * model)
{
  gchar *launch = g_strdup_printf ("videotestsrc num-buffers=5 ! %s ! "
      "cnnclassify post-messages=false%s%s ! fakesink", caps,
      model ? " model=" : "", model ? model : "");
  GstElement *pipeline = bench_start_pipeline ("bench-instances", launch);

  g_free (launch);
  return pipeline;
}

int
main (int argc, char **argv)
{
  gint n = 17;
  gchar *caps = NULL, *model = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    {"instances", 0, 0, G_OPTION_ARG_INT, &n, "instances in all (17)", "N"},
    {"caps", 0, 0, G_OPTION_ARG_STRING, &caps, "the frames' caps", "CAPS"},
    {"model", 0, 0, G_OPTION_ARG_FILENAME, &model, "model file", "PATH"},
    {"json", 0, 0, G_OPTION_ARG_NONE, &json, "one JSON object", NULL},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("- memory of N instances");
  GstElement **pipelines, *probe;
  gdouble before, one, all, extra;
  GError *err = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err) || n < 2) {
    g_printerr ("bench-instances: %s\n", err ? err->message :
        "--instances < 2");
    return 2;
  }
  g_option_context_free (ctx);
  if (!caps)
    caps = g_strdup ("video/x-raw,format=GRAY8,width=64,height=64");

  /* The plugin, so that its code is not counted as the first
   * instance's. */
  probe = gst_element_factory_make ("cnnclassify", NULL);
  if (!probe) {
    g_printerr ("bench-instances: no cnnclassify (GST_PLUGIN_PATH?)\n");
    return 1;
  }
  gst_object_unref (probe);

  pipelines = g_new0 (GstElement *, n);
  before = status_kib ("VmHWM");
  if (!(pipelines[0] = start_instance (caps, model)))
    return 1;
  one = status_kib ("VmHWM");
  for (gint i = 1; i < n; i++)
    if (!(pipelines[i] = start_instance (caps, model)))
      return 1;
  all = status_kib ("VmHWM");
  extra = (all - one) / (n - 1);

  if (json)
    printf ("{\"caps\": \"%s\", \"instances\": %d, \"peak_rss_before_kib\": "
        "%.0f, \"peak_rss_1_kib\": %.0f, \"peak_rss_%d_kib\": %.0f, "
        "\"per_extra_instance_kib\": %.0f}\n", caps, n, before, one, n, all,
        extra);
  else
    printf ("%s, %s\npeak RSS: %.1f MB before, %.1f MB with 1 instance, "
        "%.1f MB with %d: %.2f MB per extra instance\n", caps,
        model ? model : "the bundled digit model", before / 1024.0,
        one / 1024.0, all / 1024.0, n, extra / 1024.0);

  for (gint i = 0; i < n; i++) {
    gst_element_set_state (pipelines[i], GST_STATE_NULL);
    gst_object_unref (pipelines[i]);
  }
  g_free (pipelines);
  g_free (caps);
  g_free (model);
  return 0;
}
