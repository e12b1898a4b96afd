/* GStreamer CNN plugin: how a mapped video frame is seen by libcnn.
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
#ifndef __GST_CNN_FRAME_H__
#define __GST_CNN_FRAME_H__

#include <gst/video/video.h>
#include <cnn.h>

G_BEGIN_DECLS

/* Decided once per caps: everything about a frame of one format and size
 * except where its planes are, which only the mapped frame knows. */
typedef struct
{
  CnnImage image;               /* template: data pointers and row strides unset */
  guint n_planes;               /* CnnImage planes used: 1 (grey) or 3 */
  guint frame_plane[3];         /* GstVideoFrame plane holding each */
  guint offset[3];              /* byte offset of the sample in a pixel */
} GstCnnFrameLayout;

gboolean gst_cnn_frame_layout_init (GstCnnFrameLayout * layout,
    const GstVideoInfo * info);

/* Points the template's planes at @frame; @frame must have the format
 * and size the layout was made for. */
const CnnImage *gst_cnn_frame_layout_apply (GstCnnFrameLayout * layout,
    const GstVideoFrame * frame);

G_END_DECLS

#endif /* __GST_CNN_FRAME_H__ */
