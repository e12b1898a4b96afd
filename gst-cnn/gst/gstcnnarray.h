/* GStreamer CNN plugin: filling the GstValueArray fields of the
 * elements' messages.
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
#ifndef __GST_CNN_ARRAY_H__
#define __GST_CNN_ARRAY_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* Appends one value of @type, given after it as g_object_set() takes
 * it (a gdouble for G_TYPE_DOUBLE, a gint for G_TYPE_INT ...), to
 * @array (a GST_TYPE_ARRAY value). */
void gst_cnn_array_append (GValue * array, GType type, ...);

G_END_DECLS

#endif /* __GST_CNN_ARRAY_H__ */
