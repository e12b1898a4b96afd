/* GStreamer CNN plugin: the metas and message fields of a number read
 * by cnnclassify mode=number.
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
#include "gstcnnnumber.h"
#include "gstcnnarray.h"

#include <gst/cnn/cnnmeta.h>

/* ---- its metas --------------------------------------------------------- */

void
gst_cnn_reading_attach (const CnnReading * r, GstBuffer * buffer,
    const CnnClassifier * classifier, guint frames_ago)
{
  const CnnShape input = cnn_network_input_shape (classifier->network);
  const guint n_classes = classifier->n_classes;
  const gchar *name = cnn_classifier_name (classifier);
  GstCnnReadingMeta *reading;

  for (guint i = 0; i < r->n_digits; i++) {
    const CnnRect *b = &r->boxes[i];
    const gint id = r->class_ids[i];
    GstCnnClassificationMeta *meta;

    meta = gst_buffer_add_cnn_classification_meta (buffer, id,
        cnn_classifier_label (classifier, id), r->confidences[i],
        n_classes, r->probabilities[i], b->x, b->y, b->width, b->height,
        name);
    if (meta == NULL)
      continue;
    meta->frames_ago = frames_ago;
    gst_cnn_classification_meta_set_input (meta, r->inputs[i], input.w,
        input.h);
  }
  if (r->n_digits == 0) {
    GstCnnClassificationMeta *none =
        gst_buffer_add_cnn_classification_meta (buffer, -1, NULL, 0.0f,
        n_classes, NULL, r->roi.x, r->roi.y, r->roi.width, r->roi.height,
        name);

    if (none)
      none->frames_ago = frames_ago;
  }
  reading = gst_buffer_add_cnn_reading_meta (buffer, r->shown, r->n_digits,
      r->roi.x, r->roi.y, r->roi.width, r->roi.height);
  if (reading)
    reading->frames_ago = frames_ago;
}

/* ---- its message ------------------------------------------------------- */

void
gst_cnn_reading_message_fields (const CnnReading * r, GstStructure * s)
{
  GValue ids = G_VALUE_INIT, confidences = G_VALUE_INIT, rois = G_VALUE_INIT;

  g_value_init (&ids, GST_TYPE_ARRAY);
  g_value_init (&confidences, GST_TYPE_ARRAY);
  g_value_init (&rois, GST_TYPE_ARRAY);
  for (guint i = 0; i < r->n_digits; i++) {
    const guint box[4] = { r->boxes[i].x, r->boxes[i].y, r->boxes[i].width,
      r->boxes[i].height
    };
    GValue roi = G_VALUE_INIT;

    gst_cnn_array_append (&ids, G_TYPE_INT, r->class_ids[i]);
    gst_cnn_array_append (&confidences, G_TYPE_DOUBLE,
        (gdouble) r->confidences[i]);
    g_value_init (&roi, GST_TYPE_ARRAY);
    for (guint k = 0; k < 4; k++)
      gst_cnn_array_append (&roi, G_TYPE_UINT, box[k]);
    gst_value_array_append_and_take_value (&rois, &roi);
  }
  gst_structure_set (s, "text", G_TYPE_STRING, r->shown, "n-digits",
      G_TYPE_UINT, r->n_digits, NULL);
  gst_structure_take_value (s, "class-ids", &ids);
  gst_structure_take_value (s, "confidences", &confidences);
  gst_structure_take_value (s, "rois", &rois);
}
