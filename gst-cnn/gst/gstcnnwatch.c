/* GStreamer CNN plugin: a watch on a model file.
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
#include "gstcnnwatch.h"

/* A trainer writes a temporary file and renames it over the model: the
 * monitor reports the move and, for a file rewritten in place, a burst
 * of changes; one call once they have been quiet this long. */
#define SETTLE_MS 150

struct _GstCnnWatch
{
  GMainContext *context;
  GMainLoop *loop;
  GFileMonitor *monitor;
  GSource *settle;              /* pending call, or NULL */
  GThread *thread;
  GstCnnWatchFunc changed;
  gpointer user_data;
  gint stopped;                 /* atomic: no more calls */
  gboolean detached;            /* freed by its own thread at its end */
};

static gboolean
gst_cnn_watch_settled (gpointer data)
{
  GstCnnWatch *watch = data;

  g_clear_pointer (&watch->settle, g_source_unref);
  if (!g_atomic_int_get (&watch->stopped))
    watch->changed (watch->user_data);
  return G_SOURCE_REMOVE;
}

static void
gst_cnn_watch_on_event (GFileMonitor * monitor, GFile * file, GFile * other,
    GFileMonitorEvent event, gpointer data)
{
  GstCnnWatch *watch = data;

  switch (event) {
    case G_FILE_MONITOR_EVENT_CHANGED:
    case G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT:
    case G_FILE_MONITOR_EVENT_CREATED:
    case G_FILE_MONITOR_EVENT_MOVED_IN:
    case G_FILE_MONITOR_EVENT_RENAMED:
      break;
    default:
      /* Deleted, attributes, unmounts: nothing new to load. */
      return;
  }
  /* Start the quiet time again. */
  if (watch->settle != NULL) {
    g_source_destroy (watch->settle);
    g_source_unref (watch->settle);
  }
  watch->settle = g_timeout_source_new (SETTLE_MS);
  g_source_set_callback (watch->settle, gst_cnn_watch_settled, watch, NULL);
  g_source_attach (watch->settle, watch->context);
}

static void
gst_cnn_watch_destroy (GstCnnWatch * watch)
{
  if (watch->settle != NULL) {
    g_source_destroy (watch->settle);
    g_source_unref (watch->settle);
  }
  g_signal_handlers_disconnect_by_data (watch->monitor, watch);
  g_file_monitor_cancel (watch->monitor);
  g_object_unref (watch->monitor);
  g_main_loop_unref (watch->loop);
  g_main_context_unref (watch->context);
  g_free (watch);
}

static gpointer
gst_cnn_watch_run (gpointer data)
{
  GstCnnWatch *watch = data;

  g_main_context_push_thread_default (watch->context);
  g_main_loop_run (watch->loop);
  g_main_context_pop_thread_default (watch->context);
  if (watch->detached)
    gst_cnn_watch_destroy (watch);
  return NULL;
}

GstCnnWatch *
gst_cnn_watch_new (const gchar * path, GstCnnWatchFunc changed,
    gpointer user_data, GError ** error)
{
  GstCnnWatch *watch = g_new0 (GstCnnWatch, 1);
  GFile *file = g_file_new_for_path (path);

  watch->context = g_main_context_new ();
  watch->loop = g_main_loop_new (watch->context, FALSE);
  watch->changed = changed;
  watch->user_data = user_data;
  /* The monitor delivers its events in the thread-default context of
   * the thread that makes it. */
  g_main_context_push_thread_default (watch->context);
  watch->monitor = g_file_monitor_file (file, G_FILE_MONITOR_WATCH_MOVES,
      NULL, error);
  g_main_context_pop_thread_default (watch->context);
  g_object_unref (file);
  if (watch->monitor == NULL) {
    g_main_loop_unref (watch->loop);
    g_main_context_unref (watch->context);
    g_free (watch);
    return NULL;
  }
  g_signal_connect (watch->monitor, "changed",
      G_CALLBACK (gst_cnn_watch_on_event), watch);
  watch->thread = g_thread_new ("cnn-watch", gst_cnn_watch_run, watch);
  return watch;
}

static gboolean
gst_cnn_watch_quit (gpointer data)
{
  GstCnnWatch *watch = data;

  g_main_loop_quit (watch->loop);
  return G_SOURCE_REMOVE;
}

void
gst_cnn_watch_free (GstCnnWatch * watch)
{
  GSource *quit;

  if (watch == NULL)
    return;
  g_atomic_int_set (&watch->stopped, TRUE);
  if (g_thread_self () == watch->thread) {
    /* From its own callback: the thread ends when that returns. */
    watch->detached = TRUE;
    g_main_loop_quit (watch->loop);
    g_thread_unref (watch->thread);
    return;
  }
  /* From the loop itself: a quit before it runs would be lost. */
  quit = g_idle_source_new ();
  g_source_set_callback (quit, gst_cnn_watch_quit, watch, NULL);
  g_source_attach (quit, watch->context);
  g_source_unref (quit);
  g_thread_join (watch->thread);
  gst_cnn_watch_destroy (watch);
}
