/* GStreamer CNN metas: where a region of a frame goes when a transform
 * copies, scales, crops or turns the frame (shared by the metas of the
 * meta library).
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
#include "gstcnnmeta-region.h"

#include <gst/video/video.h>

/* Maps the span [start, start + size) of @in pixels onto @out pixels,
 * widening to whole pixels so a non-empty span stays non-empty. */
static void
gst_cnn_meta_scale_span (guint start, guint size, gint in,
    gint out, guint * new_start, guint * new_size)
{
  guint64 first, end;

  if (in <= 0 || out <= 0) {
    *new_start = *new_size = 0;
    return;
  }
  first = (guint64) start * out / in;
  end = ((guint64) start + size) * out + in - 1;
  end /= in;
  if (size > 0 && end <= first)
    end = first + 1;
  first = MIN (first, (guint64) out);
  end = CLAMP (end, first, (guint64) out);
  *new_start = first;
  *new_size = end - first;
}

#ifdef GST_VIDEO_META_TRANSFORM_IS_MATRIX
/* GStreamer 1.28 and later: where a crop, a border or a rotation puts
 * the region; FALSE when none of it is left in the output frame. */
static gboolean
gst_cnn_meta_map_matrix (const GstVideoMetaTransformMatrix * trans,
    guint * x, guint * y, guint * width, guint * height)
{
  GstVideoRectangle rect = { (gint) * x, (gint) * y, (gint) * width,
    (gint) * height
  };

  if (!gst_video_meta_transform_matrix_rectangle_clipped (trans, &rect)
      || rect.x < 0 || rect.y < 0 || rect.w <= 0 || rect.h <= 0)
    return FALSE;
  *x = rect.x;
  *y = rect.y;
  *width = rect.w;
  *height = rect.h;
  return TRUE;
}
#endif

GstCnnRegionFate
gst_cnn_meta_map_region (GQuark type, gpointer data, guint * x, guint * y,
    guint * width, guint * height)
{
  if (GST_META_TRANSFORM_IS_COPY (type)) {
    GstMetaTransformCopy *copy = data;

    /* A part of the buffer's memory is no longer the frame classified. */
    return copy->region ? GST_CNN_REGION_GONE : GST_CNN_REGION_MOVED;
  }
  if (GST_VIDEO_META_TRANSFORM_IS_SCALE (type)) {
    GstVideoMetaTransform *trans = data;

    gst_cnn_meta_scale_span (*x, *width, GST_VIDEO_INFO_WIDTH
        (trans->in_info), GST_VIDEO_INFO_WIDTH (trans->out_info), x, width);
    gst_cnn_meta_scale_span (*y, *height, GST_VIDEO_INFO_HEIGHT
        (trans->in_info), GST_VIDEO_INFO_HEIGHT (trans->out_info), y,
        height);
    return GST_CNN_REGION_MOVED;
  }
#ifdef GST_VIDEO_META_TRANSFORM_IS_MATRIX
  if (GST_VIDEO_META_TRANSFORM_IS_MATRIX (type))
    /* Cropped away entirely: nothing left to point at. */
    return gst_cnn_meta_map_matrix (data, x, y, width, height) ?
        GST_CNN_REGION_MOVED : GST_CNN_REGION_DROPPED;
#endif
  /* Any other transform: the region would no longer mean anything. */
  return GST_CNN_REGION_DROPPED;
}
