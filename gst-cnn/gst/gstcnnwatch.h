/* GStreamer CNN plugin: a watch on a model file.
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
#ifndef __GST_CNN_WATCH_H__
#define __GST_CNN_WATCH_H__

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _GstCnnWatch GstCnnWatch;

/* Called on the watch's own thread when the file was replaced or
 * rewritten, once a burst of changes has settled. */
typedef void (*GstCnnWatchFunc) (gpointer user_data);

/* Watches @path (a GFileMonitor, in a thread and main context of its
 * own, so that it works whatever main loop the application runs, or
 * none).  NULL with @error set when the file cannot be watched. */
GstCnnWatch *gst_cnn_watch_new (const gchar * path, GstCnnWatchFunc changed,
    gpointer user_data, GError ** error);
/* Stops the watch: no call of @changed begins after it returns.  May be
 * called from @changed itself. */
void gst_cnn_watch_free (GstCnnWatch * watch);

G_END_DECLS

#endif /* __GST_CNN_WATCH_H__ */
