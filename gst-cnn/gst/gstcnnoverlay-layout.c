/* GStreamer CNN plugin: where cnnoverlay puts its tags.
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
#include "gstcnnoverlay-layout.h"

gboolean
gst_cnn_overlay_rects_overlap (const GstCnnOverlayRect * a,
    const GstCnnOverlayRect * b)
{
  return a->width > 0 && a->height > 0 && b->width > 0 && b->height > 0
      && a->x < b->x + b->width && b->x < a->x + a->width
      && a->y < b->y + b->height && b->y < a->y + a->height;
}

GstCnnOverlayRect
gst_cnn_overlay_place_tag (const GstCnnOverlayRect * roi, gint width,
    gint height, gint frame_width)
{
  GstCnnOverlayRect tag = { roi->x, roi->y - height, width, height };

  if (tag.y < 0)
    tag.y = roi->y;
  if (tag.x + tag.width > frame_width)
    tag.x = MAX (frame_width - tag.width, 0);
  return tag;
}

/* @r with @gap more pixels on its right and below: two rectangles so
 * grown share a pixel exactly when they are closer than @gap both
 * across and down. */
static GstCnnOverlayRect
grown (const GstCnnOverlayRect * r, gint gap)
{
  GstCnnOverlayRect g = { r->x, r->y, r->width + gap, r->height + gap };

  return g;
}

gboolean
gst_cnn_overlay_number_tags_fit (const GstCnnOverlayRect * tags, guint n,
    gint gap)
{
  /* A dozen digits at the most: every pair is cheap. */
  for (guint i = 0; i < n; i++)
    for (guint j = i + 1; j < n; j++) {
      const GstCnnOverlayRect a = grown (&tags[i], gap);
      const GstCnnOverlayRect b = grown (&tags[j], gap);

      if (gst_cnn_overlay_rects_overlap (&a, &b))
        return FALSE;
    }
  return TRUE;
}
