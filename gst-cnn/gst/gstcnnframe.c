/* GStreamer CNN plugin: how a mapped video frame is seen by libcnn.
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
#include "gstcnnframe.h"

#include <string.h>

/* BT.601: what libcnn uses for RGB → grey and when YUV says nothing. */

static CnnColorModel
gst_cnn_frame_color_model (const GstVideoFormatInfo * finfo)
{
  if (GST_VIDEO_FORMAT_INFO_IS_GRAY (finfo))
    return CNN_COLOR_GREY;
  if (GST_VIDEO_FORMAT_INFO_IS_RGB (finfo))
    return CNN_COLOR_RGB;
  return CNN_COLOR_YUV;
}

/* Components 0, 1, 2 are Y, U, V or R, G, B in every format we accept:
 * GstVideoFormatInfo tells where each lives, so one loop fits them all
 * (planar, semi-planar, packed 4:2:2 and packed RGB with padding). */
static void
gst_cnn_frame_layout_set_plane (GstCnnFrameLayout * layout, guint i,
    const GstVideoFormatInfo * finfo, guint component)
{
  CnnPlane *plane = &layout->image.planes[i];

  layout->frame_plane[i] = GST_VIDEO_FORMAT_INFO_PLANE (finfo, component);
  layout->offset[i] = GST_VIDEO_FORMAT_INFO_POFFSET (finfo, component);
  plane->data = NULL;
  plane->row_stride = 0;
  plane->pixel_stride = GST_VIDEO_FORMAT_INFO_PSTRIDE (finfo, component);
  plane->x_shift = GST_VIDEO_FORMAT_INFO_W_SUB (finfo, component);
  plane->y_shift = GST_VIDEO_FORMAT_INFO_H_SUB (finfo, component);
}

gboolean
gst_cnn_frame_layout_init (GstCnnFrameLayout * layout,
    const GstVideoInfo * info)
{
  const GstVideoFormatInfo *finfo = info->finfo;
  CnnImage *image = &layout->image;
  gdouble kr, kb;

  if (finfo == NULL || GST_VIDEO_FORMAT_INFO_IS_TILED (finfo)
      || GST_VIDEO_FORMAT_INFO_IS_COMPLEX (finfo)
      || GST_VIDEO_FORMAT_INFO_BITS (finfo) != 8
      || GST_VIDEO_INFO_WIDTH (info) <= 0 || GST_VIDEO_INFO_HEIGHT (info) <= 0)
    return FALSE;

  memset (layout, 0, sizeof (*layout));
  image->width = GST_VIDEO_INFO_WIDTH (info);
  image->height = GST_VIDEO_INFO_HEIGHT (info);
  image->color = gst_cnn_frame_color_model (finfo);
  layout->n_planes = image->color == CNN_COLOR_GREY ? 1 : 3;
  if (GST_VIDEO_FORMAT_INFO_N_COMPONENTS (finfo) < layout->n_planes)
    return FALSE;
  for (guint i = 0; i < layout->n_planes; i++)
    gst_cnn_frame_layout_set_plane (layout, i, finfo, i);

  image->limited_range = image->color == CNN_COLOR_YUV
      && info->colorimetry.range != GST_VIDEO_COLOR_RANGE_0_255;
  if (image->color == CNN_COLOR_YUV
      && gst_video_color_matrix_get_Kr_Kb (info->colorimetry.matrix, &kr,
          &kb)) {
    image->kr = kr;
    image->kb = kb;
  } else {
    image->kr = CNN_BT601_KR;
    image->kb = CNN_BT601_KB;
  }
  return TRUE;
}

const CnnImage *
gst_cnn_frame_layout_apply (GstCnnFrameLayout * layout,
    const GstVideoFrame * frame)
{
  for (guint i = 0; i < layout->n_planes; i++) {
    guint p = layout->frame_plane[i];
    const guint8 *data = GST_VIDEO_FRAME_PLANE_DATA (frame, p);

    layout->image.planes[i].data = data + layout->offset[i];
    layout->image.planes[i].row_stride = GST_VIDEO_FRAME_PLANE_STRIDE (frame,
        p);
  }
  return &layout->image;
}
