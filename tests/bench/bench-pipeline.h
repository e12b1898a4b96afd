/* The memory benchmarks' pipelines (bench-memory, bench-instances). */
#ifndef BENCH_PIPELINE_H
#define BENCH_PIPELINE_H

#include <gst/gst.h>

/* @launch run to its end and left in PLAYING, so that what it holds
 * stays; NULL on error, said on stderr after @program's name. */
static inline GstElement *
bench_start_pipeline (const gchar * program, const gchar * launch)
{
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch (launch, &err);
  GstMessage *msg;

  /* A pipeline may come back with an error too (an element missing). */
  if (err) {
    g_printerr ("%s: %s\n", program, err->message);
    g_error_free (err);
    gst_clear_object (&pipeline);
    return NULL;
  }
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipeline),
      GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_EOS) {
    gst_message_parse_error (msg, &err, NULL);
    g_printerr ("%s: %s\n", program, err->message);
    g_error_free (err);
    gst_element_set_state (pipeline, GST_STATE_NULL);
    gst_clear_object (&pipeline);
  }
  gst_message_unref (msg);
  return pipeline;
}

#endif /* BENCH_PIPELINE_H */
