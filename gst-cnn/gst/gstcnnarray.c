/* GStreamer CNN plugin: filling the GstValueArray fields of the
 * elements' messages.
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
#include "gstcnnarray.h"

#include <gobject/gvaluecollector.h>

void
gst_cnn_array_append (GValue * array, GType type, ...)
{
  GValue value = G_VALUE_INIT;
  gchar *error = NULL;
  va_list args;

  g_return_if_fail (GST_VALUE_HOLDS_ARRAY (array));

  va_start (args, type);
  G_VALUE_COLLECT_INIT (&value, type, args, 0, &error);
  va_end (args);
  if (error != NULL) {
    /* a caller's mistake (a type the arguments cannot give) */
    g_critical ("gst_cnn_array_append: %s", error);
    g_free (error);
    return;
  }
  gst_value_array_append_and_take_value (array, &value);
}
