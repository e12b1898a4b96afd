/* GStreamer CNN plugin: the metas and message fields of a number read
 * by cnnclassify mode=number.
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
#ifndef __GST_CNN_NUMBER_H__
#define __GST_CNN_NUMBER_H__

#include <gst/gst.h>
#include <cnn.h>

G_BEGIN_DECLS

/* Attaches @reading to @buffer: a classification meta per digit (with
 * its box, probabilities and input; one of class -1 over the region
 * when there is none) and a reading meta with the text shown, all
 * @frames_ago frames old. */
void gst_cnn_reading_attach (const CnnReading * reading, GstBuffer * buffer,
    const CnnClassifier * classifier, guint frames_ago);

/* The cnn-classification message's number fields: text, n-digits,
 * class-ids, confidences, rois. */
void gst_cnn_reading_message_fields (const CnnReading * reading,
    GstStructure * s);

G_END_DECLS

#endif /* __GST_CNN_NUMBER_H__ */
