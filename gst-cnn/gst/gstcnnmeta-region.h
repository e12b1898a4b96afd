/* GStreamer CNN metas: where a region of a frame goes when a transform
 * copies, scales, crops or turns the frame (internal to the meta
 * library).
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
#ifndef __GST_CNN_META_REGION_H__
#define __GST_CNN_META_REGION_H__

#include <gst/gst.h>

G_BEGIN_DECLS

typedef enum
{
  GST_CNN_REGION_MOVED,         /* the meta goes on, with the region moved */
  GST_CNN_REGION_GONE,          /* a part of the buffer is copied: no meta,
                                 * and nothing wrong */
  GST_CNN_REGION_DROPPED,       /* the transform makes the region meaningless */
} GstCnnRegionFate;

/* What transform @type (with its @data, as a GstMetaTransformFunction
 * gets them) does to region (x, y, width, height), in frame pixels,
 * which it moves in place when MOVED. */
G_GNUC_INTERNAL GstCnnRegionFate gst_cnn_meta_map_region (GQuark type,
    gpointer data, guint * x, guint * y, guint * width, guint * height);

G_END_DECLS

#endif /* __GST_CNN_META_REGION_H__ */
