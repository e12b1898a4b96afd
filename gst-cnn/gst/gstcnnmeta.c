/* GStreamer CNN classification meta
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/**
 * SECTION:gstcnnmeta
 * @title: GstCnnClassificationMeta
 * @short_description: the result of classifying a video frame
 *
 * `cnnclassify` attaches a #GstCnnClassificationMeta to every frame it
 * classifies.  Applications include `<gst/cnn/cnnmeta.h>`, link the
 * `gstreamer-cnn-meta-1.0` pkg-config module and read the result with
 * gst_buffer_get_cnn_classification_meta(), e.g. from a pad probe:
 *
 * |[<!-- language="C" -->
 * GstCnnClassificationMeta *meta =
 *     gst_buffer_get_cnn_classification_meta (buffer);
 * if (meta && meta->class_id >= 0)
 *   g_print ("%s (%.0f%%)\n", meta->label, 100 * meta->confidence);
 * ]|
 */

#include "gstcnnmeta-region.h"

#include <gst/cnn/cnnmeta.h>
#include <gst/video/video.h>

#include <math.h>
#include <string.h>

/* gst_buffer_add_meta() takes the meta's item (the struct and 16 bytes)
 * from g_slice_alloc(); GStreamer sets no limit of its own (1.22's
 * gst_meta_register() only wants a size above 0).  GLib 2.74's g_slice
 * (Debian 12) serves chunks of up to 1008 bytes from per-thread
 * magazines ((8192-byte pages - 48) / 8, in steps of 16) and mallocs
 * anything larger: past this every classified frame would cost a malloc
 * (tests/gst/test-allocations.c counts them).  From GLib 2.76 g_slice is
 * malloc itself and the bound goes.  A new field must fit (frames_ago
 * took the hole after class_id), or something else shrink (the input
 * to 4 bits a pixel). */
G_STATIC_ASSERT (sizeof (GstCnnClassificationMeta) + 16 <= 1008);

/**
 * gst_cnn_classification_meta_api_get_type:
 *
 * Returns: the #GType of the classification meta's API.
 */
GType
gst_cnn_classification_meta_api_get_type (void)
{
  static GType type = 0;
  /* The region is in frame pixels, so it depends on the frame's size and
   * orientation: the tags of GstVideoRegionOfInterestMeta.  What each
   * element does with them in GStreamer 1.22:
   * - videoscale, videoconvert (videoconvertscale) hand a meta tagged
   *   "size" to the scale transform (one tagged "video" alone they copy
   *   as it is);
   * - videocrop, videobox and videoflip have no transform of their own:
   *   GstVideoFilter copies a meta tagged "video" alone as it is (its
   *   region would then point at the wrong pixels) and drops any other,
   *   so this one is dropped, never misplaced;
   * - from 1.28 these three call the matrix transform (crop offset,
   *   borders, rotation) for metas tagged "size" or "orientation". */
  static const gchar *tags[] = { GST_META_TAG_VIDEO_STR,
    GST_META_TAG_VIDEO_ORIENTATION_STR, GST_META_TAG_VIDEO_SIZE_STR, NULL
  };

  if (g_once_init_enter (&type)) {
    GType api = gst_meta_api_type_register ("GstCnnClassificationMetaAPI",
        tags);

    g_once_init_leave (&type, api);
  }
  return type;
}

static gboolean
gst_cnn_classification_meta_init (GstMeta * meta, gpointer params,
    GstBuffer * buffer)
{
  GstCnnClassificationMeta *cmeta = (GstCnnClassificationMeta *) meta;

  cmeta->class_id = -1;
  cmeta->frames_ago = 0;
  cmeta->label = NULL;
  cmeta->confidence = 0.0f;
  cmeta->n_classes = 0;
  cmeta->probabilities = NULL;
  cmeta->roi_x = cmeta->roi_y = 0;
  cmeta->roi_width = cmeta->roi_height = 0;
  cmeta->model = NULL;
  /* The input's bytes are only read within its size: no need to clear. */
  cmeta->input_width = cmeta->input_height = 0;
  return TRUE;
}

static void
gst_cnn_classification_meta_free (GstMeta * meta, GstBuffer * buffer)
{
  GstCnnClassificationMeta *cmeta = (GstCnnClassificationMeta *) meta;

  /* The strings are interned, the probabilities often inline. */
  if (cmeta->probabilities != cmeta->inline_probabilities)
    g_free (cmeta->probabilities);
}

static void
gst_cnn_classification_meta_copy_input (GstCnnClassificationMeta * dest,
    const GstCnnClassificationMeta * src)
{
  dest->input_width = src->input_width;
  dest->input_height = src->input_height;
  memcpy (dest->input, src->input,
      (gsize) src->input_width * src->input_height);
}

static gboolean
gst_cnn_classification_meta_transform (GstBuffer * dest, GstMeta * meta,
    GstBuffer * buffer, GQuark type, gpointer data)
{
  GstCnnClassificationMeta *src = (GstCnnClassificationMeta *) meta;
  GstCnnClassificationMeta *added;
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

  added = gst_buffer_add_cnn_classification_meta (dest, src->class_id,
      src->label, src->confidence, src->n_classes, src->probabilities,
      x, y, width, height, src->model);
  if (added == NULL)
    return FALSE;
  added->frames_ago = src->frames_ago;
  /* What the network saw does not change with the frame's size. */
  gst_cnn_classification_meta_copy_input (added, src);
  return TRUE;
}

/**
 * gst_cnn_classification_meta_get_info:
 *
 * Returns: the #GstMetaInfo of the classification meta, registering it
 *   on first use.
 */
const GstMetaInfo *
gst_cnn_classification_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *registered =
        gst_meta_register (GST_CNN_CLASSIFICATION_META_API_TYPE,
        "GstCnnClassificationMeta", sizeof (GstCnnClassificationMeta),
        gst_cnn_classification_meta_init, gst_cnn_classification_meta_free,
        gst_cnn_classification_meta_transform);

    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) registered);
  }
  return info;
}

/**
 * gst_buffer_add_cnn_classification_meta:
 * @buffer: a writable #GstBuffer
 * @class_id: index of the winning class, or -1 for no class
 * @label: (nullable): label of @class_id, %NULL when @class_id is -1
 * @confidence: probability of the winning class, 0..1
 * @n_classes: number of values in @probabilities
 * @probabilities: (array length=n_classes) (nullable): the probability of
 *   every class, in label order; %NULL stores @n_classes zeros
 * @roi_x: left edge of the region classified, in frame pixels
 * @roi_y: top edge of the region classified, in frame pixels
 * @roi_width: width of the region classified, in frame pixels
 * @roi_height: height of the region classified, in frame pixels
 * @model: (nullable): name of the model that produced the result
 *
 * Attaches a classification result to @buffer.  The probabilities are
 * copied (into the meta itself for up to
 * %GST_CNN_CLASSIFICATION_META_INLINE_CLASSES classes); @label and @model
 * are interned (g_intern_string()): the meta points at the process's one
 * copy of each, made the first time it is seen, so that attaching a
 * result allocates nothing once its names are known.  They are meant to
 * come from a fixed set (a model's labels and name), not to be made up
 * afresh for every frame.
 *
 * Returns: (transfer none) (nullable): the meta, owned by @buffer.
 */
GstCnnClassificationMeta *
gst_buffer_add_cnn_classification_meta (GstBuffer * buffer, gint class_id,
    const gchar * label, gfloat confidence, guint n_classes,
    const gfloat * probabilities, guint roi_x, guint roi_y, guint roi_width,
    guint roi_height, const gchar * model)
{
  GstCnnClassificationMeta *meta;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  g_return_val_if_fail (gst_buffer_is_writable (buffer), NULL);
  g_return_val_if_fail (class_id >= -1, NULL);
  g_return_val_if_fail (class_id < 0 || (guint) class_id < n_classes, NULL);

  meta = (GstCnnClassificationMeta *) gst_buffer_add_meta (buffer,
      GST_CNN_CLASSIFICATION_META_INFO, NULL);
  if (meta == NULL)
    return NULL;

  meta->class_id = class_id;
  meta->label = (gchar *) g_intern_string (label);
  meta->confidence = confidence;
  meta->n_classes = n_classes;
  if (n_classes > 0) {
    meta->probabilities = n_classes <= GST_CNN_CLASSIFICATION_META_INLINE_CLASSES
        ? meta->inline_probabilities : g_new (gfloat, n_classes);
    if (probabilities != NULL)
      memcpy (meta->probabilities, probabilities, n_classes * sizeof (gfloat));
    else
      memset (meta->probabilities, 0, n_classes * sizeof (gfloat));
  }
  meta->roi_x = roi_x;
  meta->roi_y = roi_y;
  meta->roi_width = roi_width;
  meta->roi_height = roi_height;
  meta->model = (gchar *) g_intern_string (model);
  return meta;
}

/**
 * gst_buffer_get_cnn_classification_meta:
 * @buffer: a #GstBuffer
 *
 * Finds the classification meta of @buffer.  When several classifiers
 * ran on the frame this is the first; gst_buffer_get_cnn_classification_metas()
 * (or gst_buffer_iterate_meta_filtered() in C) gives them all.
 *
 * Returns: (transfer none) (nullable): the meta, or %NULL when the frame
 *   was not classified.
 */
GstCnnClassificationMeta *
gst_buffer_get_cnn_classification_meta (GstBuffer * buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);

  return (GstCnnClassificationMeta *) gst_buffer_get_meta (buffer,
      GST_CNN_CLASSIFICATION_META_API_TYPE);
}

/**
 * gst_buffer_get_cnn_classification_metas:
 * @buffer: a #GstBuffer
 *
 * Every classification meta of @buffer, in the order they were attached
 * (with two `cnnclassify` in series, the first one's first).  For
 * bindings: Python's `Gst.Buffer` has no iterate_meta_filtered(), so
 * that `GstCnn.buffer_get_cnn_classification_metas (buffer)` is the way
 * there to read more than the first.
 *
 * Returns: (transfer container) (element-type GstCnnClassificationMeta):
 *   the metas, which @buffer owns; free the list (not the metas) with
 *   g_list_free().  %NULL, the empty list, when there is none.
 */
GList *
gst_buffer_get_cnn_classification_metas (GstBuffer * buffer)
{
  GList *metas = NULL;
  gpointer state = NULL;
  GstMeta *meta;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);

  while ((meta = gst_buffer_iterate_meta_filtered (buffer, &state,
              GST_CNN_CLASSIFICATION_META_API_TYPE)))
    metas = g_list_prepend (metas, meta);
  return g_list_reverse (metas);
}

/* values (n) → min, max of those that are numbers; FALSE when none is. */
static gboolean
gst_cnn_classification_meta_range (const gfloat * values, guint n,
    gfloat * min, gfloat * max)
{
  gboolean any = FALSE;

  for (guint i = 0; i < n; i++) {
    if (isnan (values[i]))
      continue;
    if (!any || values[i] < *min)
      *min = values[i];
    if (!any || values[i] > *max)
      *max = values[i];
    any = TRUE;
  }
  return any;
}

/**
 * gst_cnn_classification_meta_set_input:
 * @meta: a #GstCnnClassificationMeta
 * @values: (array) (nullable): @width × @height values, row by row: the
 *   first channel of the network's input
 * @width: width of the input in pixels
 * @height: height of the input in pixels
 *
 * Keeps what the network was given in @meta, as a grey picture for
 * people to look at (#GstCnnClassificationMeta.input): values in 0..1
 * become 0..255 as they are, so that the ink's strength shows; values
 * outside it (a normalised input) are stretched from their minimum and
 * maximum to 0..255.  Not-a-number values become 0.
 *
 * %NULL @values, an empty size, or one of more than
 * %GST_CNN_CLASSIFICATION_META_MAX_INPUT pixels leave @meta without an
 * input (0×0).
 */
void
gst_cnn_classification_meta_set_input (GstCnnClassificationMeta * meta,
    const gfloat * values, guint width, guint height)
{
  guint n = width * height;
  gfloat min = 0.0f, max = 0.0f, offset = 0.0f, scale = 255.0f;

  g_return_if_fail (meta != NULL);

  meta->input_width = meta->input_height = 0;
  if (values == NULL || width == 0 || height == 0
      || width > GST_CNN_CLASSIFICATION_META_MAX_INPUT
      || n > GST_CNN_CLASSIFICATION_META_MAX_INPUT)
    return;

  if (gst_cnn_classification_meta_range (values, n, &min, &max)
      && (min < 0.0f || max > 1.0f)) {
    offset = min;
    scale = max > min ? 255.0f / (max - min) : 0.0f;
  }
  for (guint i = 0; i < n; i++) {
    gfloat v = (values[i] - offset) * scale;

    /* NaN fails both tests and becomes 0. */
    meta->input[i] = v >= 255.0f ? 255 : v > 0.0f ? (guint8) lrintf (v) : 0;
  }
  meta->input_width = width;
  meta->input_height = height;
}
