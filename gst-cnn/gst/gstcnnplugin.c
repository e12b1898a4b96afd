/* GStreamer CNN plugin: registers the elements.
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
#include <gst/gst.h>

#include "gstcnnclassify.h"
#include "gstcnnoverlay.h"
#include "gstcnnpublish.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  ret |= GST_ELEMENT_REGISTER (cnnclassify, plugin);
  ret |= GST_ELEMENT_REGISTER (cnnoverlay, plugin);
  ret |= GST_ELEMENT_REGISTER (cnnpublish, plugin);
  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, cnn,
    "Image classification with small convolutional networks",
    plugin_init, GST_CNN_VERSION, "LGPL", GST_CNN_PACKAGE, GST_CNN_ORIGIN)
