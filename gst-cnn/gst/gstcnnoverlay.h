/* GStreamer CNN plugin: the cnnoverlay element.
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
#ifndef __GST_CNN_OVERLAY_H__
#define __GST_CNN_OVERLAY_H__

#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

#define GST_TYPE_CNN_OVERLAY (gst_cnn_overlay_get_type ())
G_DECLARE_FINAL_TYPE (GstCnnOverlay, gst_cnn_overlay, GST, CNN_OVERLAY,
    GstVideoFilter);

GST_ELEMENT_REGISTER_DECLARE (cnnoverlay);

G_END_DECLS

#endif /* __GST_CNN_OVERLAY_H__ */
