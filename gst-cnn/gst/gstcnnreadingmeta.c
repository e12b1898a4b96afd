/* GStreamer CNN reading meta: the number `cnnclassify mode=number` read.
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/**
 * SECTION:gstcnnreadingmeta
 * @title: GstCnnReadingMeta
 * @short_description: the number read in a video frame
 *
 * `cnnclassify mode=number` attaches one #GstCnnReadingMeta to every
 * frame it reads, with the number's text, besides a
 * #GstCnnClassificationMeta per digit:
 *
 * |[<!-- language="C" -->
 * GstCnnReadingMeta *reading = gst_buffer_get_cnn_reading_meta (buffer);
 * if (reading)
 *   g_print ("%s (%u digits)\n", reading->text, reading->n_digits);
 * ]|
 */

#include "gstcnnmeta-region.h"

#include <gst/cnn/cnnmeta.h>
#include <gst/video/video.h>

#include <string.h>

/**
 * gst_cnn_reading_meta_api_get_type:
 *
 * Returns: the #GType of the reading meta's API.
 */
GType
gst_cnn_reading_meta_api_get_type (void)
{
  static GType type = 0;
  /* Its region is in frame pixels, as the classification meta's. */
  static const gchar *tags[] = { GST_META_TAG_VIDEO_STR,
    GST_META_TAG_VIDEO_ORIENTATION_STR, GST_META_TAG_VIDEO_SIZE_STR, NULL
  };

  if (g_once_init_enter (&type)) {
    GType api = gst_meta_api_type_register ("GstCnnReadingMetaAPI", tags);

    g_once_init_leave (&type, api);
  }
  return type;
}

static gboolean
gst_cnn_reading_meta_init (GstMeta * meta, gpointer params,
    GstBuffer * buffer)
{
  GstCnnReadingMeta *rmeta = (GstCnnReadingMeta *) meta;

  rmeta->frames_ago = 0;
  rmeta->n_digits = 0;
  rmeta->roi_x = rmeta->roi_y = rmeta->roi_width = rmeta->roi_height = 0;
  rmeta->text[0] = '\0';
  return TRUE;
}

static gboolean
gst_cnn_reading_meta_transform (GstBuffer * dest, GstMeta * meta,
    GstBuffer * buffer, GQuark type, gpointer data)
{
  GstCnnReadingMeta *src = (GstCnnReadingMeta *) meta, *added;
  guint x = src->roi_x, y = src->roi_y;
  guint width = src->roi_width, height = src->roi_height;

  switch (gst_cnn_meta_map_region (type, data, &x, &y, &width, &height)) {
    case GST_CNN_REGION_MOVED:
      break;
    case GST_CNN_REGION_GONE:
      return TRUE;
    default:
      return FALSE;
  }
  added = gst_buffer_add_cnn_reading_meta (dest, src->text, src->n_digits,
      x, y, width, height);
  if (added == NULL)
    return FALSE;
  added->frames_ago = src->frames_ago;
  return TRUE;
}

/**
 * gst_cnn_reading_meta_get_info:
 *
 * Returns: the #GstMetaInfo of the reading meta, registering it on first
 *   use.
 */
const GstMetaInfo *
gst_cnn_reading_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *registered =
        gst_meta_register (GST_CNN_READING_META_API_TYPE,
        "GstCnnReadingMeta", sizeof (GstCnnReadingMeta),
        gst_cnn_reading_meta_init, NULL, gst_cnn_reading_meta_transform);

    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) registered);
  }
  return info;
}

/**
 * gst_buffer_add_cnn_reading_meta:
 * @buffer: a writable #GstBuffer
 * @text: the number read: a digit's label or `?` each; cut at
 *   %GST_CNN_READING_META_MAX_TEXT bytes
 * @n_digits: the digits found on the frame read
 * @roi_x: left edge of the region read, in frame pixels
 * @roi_y: top edge of the region read, in frame pixels
 * @roi_width: width of the region read, in frame pixels
 * @roi_height: height of the region read, in frame pixels
 *
 * Attaches a reading to @buffer; the text is copied into the meta
 * itself, so that attaching one allocates nothing.
 *
 * Returns: (transfer none) (nullable): the meta, owned by @buffer.
 */
GstCnnReadingMeta *
gst_buffer_add_cnn_reading_meta (GstBuffer * buffer, const gchar * text,
    guint n_digits, guint roi_x, guint roi_y, guint roi_width,
    guint roi_height)
{
  GstCnnReadingMeta *meta;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  g_return_val_if_fail (gst_buffer_is_writable (buffer), NULL);
  g_return_val_if_fail (text != NULL, NULL);

  meta = (GstCnnReadingMeta *) gst_buffer_add_meta (buffer,
      GST_CNN_READING_META_INFO, NULL);
  if (meta == NULL)
    return NULL;
  g_strlcpy (meta->text, text, sizeof meta->text);
  meta->n_digits = n_digits;
  meta->roi_x = roi_x;
  meta->roi_y = roi_y;
  meta->roi_width = roi_width;
  meta->roi_height = roi_height;
  return meta;
}

/**
 * gst_buffer_get_cnn_reading_meta:
 * @buffer: a #GstBuffer
 *
 * Finds the reading meta of @buffer (the first, when several readers
 * ran on the frame).
 *
 * Returns: (transfer none) (nullable): the meta, or %NULL when no number
 *   was read on the frame.
 */
GstCnnReadingMeta *
gst_buffer_get_cnn_reading_meta (GstBuffer * buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);

  return (GstCnnReadingMeta *) gst_buffer_get_meta (buffer,
      GST_CNN_READING_META_API_TYPE);
}

/**
 * gst_cnn_reading_meta_get_text:
 * @meta: a #GstCnnReadingMeta
 *
 * Returns: (transfer none): the number read, as a string (for bindings,
 *   which see #GstCnnReadingMeta.text as an array of characters).
 */
const gchar *
gst_cnn_reading_meta_get_text (const GstCnnReadingMeta * meta)
{
  g_return_val_if_fail (meta != NULL, NULL);

  return meta->text;
}
