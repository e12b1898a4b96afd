/* GStreamer CNN plugin: where cnnoverlay puts its tags, as geometry
 * alone (no drawing), so that tests can check the layout.
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
#ifndef __GST_CNN_OVERLAY_LAYOUT_H__
#define __GST_CNN_OVERLAY_LAYOUT_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  gint x, y, width, height;
} GstCnnOverlayRect;

/* Whether @a and @b share a pixel (an empty one shares none). */
gboolean gst_cnn_overlay_rects_overlap (const GstCnnOverlayRect * a,
    const GstCnnOverlayRect * b);

/* A @width × @height tag for the box @roi: above its top-left corner,
 * flush with its left edge; inside the box when there is no room above;
 * moved left to stay in a frame @frame_width wide. */
GstCnnOverlayRect gst_cnn_overlay_place_tag (const GstCnnOverlayRect * roi,
    gint width, gint height, gint frame_width);

/* Whether the tags of a number's @n digits (each placed by
 * gst_cnn_overlay_place_tag()) may all be drawn: no two of them closer
 * than @gap pixels, across and down (0: sharing a pixel), so that tags
 * of one colour side by side do not read as one ("1" "0" as "10").
 * When they would, none is (the number's text says every digit, '?'
 * included): tags moved aside to make room would part from their
 * digits, and some tags without the others would leave a reader
 * guessing which digit a tag names. */
gboolean gst_cnn_overlay_number_tags_fit (const GstCnnOverlayRect * tags,
    guint n, gint gap);

G_END_DECLS

#endif /* __GST_CNN_OVERLAY_LAYOUT_H__ */
