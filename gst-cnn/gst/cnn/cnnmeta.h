/* GStreamer CNN classification meta
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
#ifndef __GST_CNN_META_H__
#define __GST_CNN_META_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/**
 * GST_CNN_CLASSIFICATION_META_API_TYPE:
 *
 * The #GType of the classification meta's API, for gst_buffer_get_meta()
 * and allocation queries.
 */
#define GST_CNN_CLASSIFICATION_META_API_TYPE \
  (gst_cnn_classification_meta_api_get_type ())

/**
 * GST_CNN_CLASSIFICATION_META_INFO:
 *
 * The #GstMetaInfo of the classification meta.
 */
#define GST_CNN_CLASSIFICATION_META_INFO \
  (gst_cnn_classification_meta_get_info ())

typedef struct _GstCnnClassificationMeta GstCnnClassificationMeta;

/**
 * GST_CNN_CLASSIFICATION_META_INLINE_CLASSES:
 *
 * Up to this many classes, a meta holds its probabilities in itself, so
 * that attaching one allocates nothing.
 */
#define GST_CNN_CLASSIFICATION_META_INLINE_CLASSES 32

/**
 * GST_CNN_CLASSIFICATION_META_MAX_INPUT:
 *
 * The largest network input, in pixels (height × width), that a meta
 * keeps for showing (#GstCnnClassificationMeta.input): 784, the 28×28
 * of MNIST.  It is held in the meta itself, so keeping it allocates
 * nothing; a larger one would make the meta too big for GLib's slice
 * allocator to serve without a malloc per frame.
 */
#define GST_CNN_CLASSIFICATION_META_MAX_INPUT 784

/**
 * GstCnnClassificationMeta:
 * @meta: the parent #GstMeta
 * @class_id: index of the winning class in label order, or -1 when there
 *   is no class (confidence below the threshold, nothing to classify)
 * @frames_ago: 0 when this frame was classified; otherwise the result is
 *   that of the frame this many frames earlier, carried to every frame
 *   in between (`cnnclassify interval=N` classifies one frame in N, so
 *   that its results are steady on every frame)
 * @label: (nullable): label of @class_id; %NULL when @class_id is -1
 * @confidence: probability of the most probable class, 0..1, also when
 *   it fell below the threshold; 0 when there was nothing to classify
 * @n_classes: number of classes, the length of @probabilities
 * @probabilities: (array length=n_classes): the probability of every
 *   class, in label order; all zero when there was nothing to classify
 * @roi_x: left edge of the region classified, in frame pixels
 * @roi_y: top edge of the region classified, in frame pixels
 * @roi_width: width of the region classified, in frame pixels
 * @roi_height: height of the region classified, in frame pixels
 * @model: (nullable): name of the model that produced the result
 * @input_width: width of @input in pixels; 0 when the meta holds no input
 * @input_height: height of @input in pixels; 0 when the meta holds no input
 * @input: (array fixed-size=784): what the network was given, as a grey
 *   picture for people to look at: @input_width × @input_height bytes, row
 *   by row, of the input's first channel, 0 black to 255 white.  An input
 *   in 0..1 (the `mnist` and plain `resize` preprocessing) is mapped
 *   from 0..1, a normalised one from its own minimum..maximum.  0×0 when
 *   nothing was classified (no ink), or when the network's input is
 *   larger than %GST_CNN_CLASSIFICATION_META_MAX_INPUT pixels
 *
 * The result of classifying one video frame (or a region of it) with a
 * convolutional network, attached by the `cnnclassify` element.  The
 * strings and the arrays belong to the meta and are only to be read:
 * @label and @model are interned (g_intern_string()), and @probabilities
 * points into the meta itself for up to
 * %GST_CNN_CLASSIFICATION_META_INLINE_CLASSES classes.
 *
 * The meta survives buffer copies; when a frame is scaled (`videoscale`,
 * `videoconvert`) the region is scaled with it and @input kept as it
 * is.  With GStreamer 1.28 or later a crop, border or rotation
 * (`videocrop`, `videobox`, `videoflip`) moves the region with the
 * picture and drops the meta when the region is cropped away; GStreamer
 * 1.22 tells a meta nothing of these, so they drop it there.  Any other
 * transform drops it.
 */
struct _GstCnnClassificationMeta
{
  GstMeta meta;

  gint class_id;
  /* Here, in the hole before @label: the meta's item must stay within
   * 1008 bytes (see gstcnnmeta.c). */
  guint frames_ago;
  gchar *label;
  gfloat confidence;
  guint n_classes;
  gfloat *probabilities;
  guint roi_x, roi_y, roi_width, roi_height;
  gchar *model;
  guint input_width, input_height;
  guint8 input[GST_CNN_CLASSIFICATION_META_MAX_INPUT];

  /*< private >*/
  gfloat inline_probabilities[GST_CNN_CLASSIFICATION_META_INLINE_CLASSES];
};

GType gst_cnn_classification_meta_api_get_type (void);

const GstMetaInfo *gst_cnn_classification_meta_get_info (void);

GstCnnClassificationMeta *gst_buffer_add_cnn_classification_meta (GstBuffer *
    buffer, gint class_id, const gchar * label, gfloat confidence,
    guint n_classes, const gfloat * probabilities, guint roi_x, guint roi_y,
    guint roi_width, guint roi_height, const gchar * model);

GstCnnClassificationMeta *gst_buffer_get_cnn_classification_meta (GstBuffer *
    buffer);

GList *gst_buffer_get_cnn_classification_metas (GstBuffer * buffer);

void gst_cnn_classification_meta_set_input (GstCnnClassificationMeta * meta,
    const gfloat * values, guint width, guint height);

/**
 * GST_CNN_READING_META_API_TYPE:
 *
 * The #GType of the reading meta's API.
 */
#define GST_CNN_READING_META_API_TYPE (gst_cnn_reading_meta_api_get_type ())

/**
 * GST_CNN_READING_META_INFO:
 *
 * The #GstMetaInfo of the reading meta.
 */
#define GST_CNN_READING_META_INFO (gst_cnn_reading_meta_get_info ())

/**
 * GST_CNN_READING_META_MAX_TEXT:
 *
 * The longest text a reading meta holds, in bytes: the most digits
 * `cnnclassify mode=number` reads.
 */
#define GST_CNN_READING_META_MAX_TEXT 12

typedef struct _GstCnnReadingMeta GstCnnReadingMeta;

/**
 * GstCnnReadingMeta:
 * @meta: the parent #GstMeta
 * @frames_ago: as #GstCnnClassificationMeta's: 0 when this frame was read
 * @n_digits: the digits found on the frame read, each of which has a
 *   #GstCnnClassificationMeta of its own (attached with this one, in
 *   reading order); 0 when none was found
 * @roi_x: left edge of the region read, in frame pixels
 * @roi_y: top edge of the region read, in frame pixels
 * @roi_width: width of the region read, in frame pixels
 * @roi_height: height of the region read, in frame pixels
 * @text: (array fixed-size=13) (element-type gchar): the number read,
 *   NUL-terminated: one character per digit, its label, or `?` for a
 *   digit below the threshold; with `smoothing`, the reading seen most
 *   often over the last frames, which may differ from the digits'
 *   metas of this frame.  Read it with gst_cnn_reading_meta_get_text()
 *
 * What `cnnclassify mode=number` read in a region as a whole: the
 * number's text, besides a #GstCnnClassificationMeta for each of its
 * digits.  It survives copies and scaling (its region scaled), and is
 * dropped by other transforms, as the classification meta is.
 */
struct _GstCnnReadingMeta
{
  GstMeta meta;

  guint frames_ago;
  guint n_digits;
  guint roi_x, roi_y, roi_width, roi_height;
  gchar text[GST_CNN_READING_META_MAX_TEXT + 1];
};

GType gst_cnn_reading_meta_api_get_type (void);

const GstMetaInfo *gst_cnn_reading_meta_get_info (void);

GstCnnReadingMeta *gst_buffer_add_cnn_reading_meta (GstBuffer * buffer,
    const gchar * text, guint n_digits, guint roi_x, guint roi_y,
    guint roi_width, guint roi_height);

GstCnnReadingMeta *gst_buffer_get_cnn_reading_meta (GstBuffer * buffer);

const gchar *gst_cnn_reading_meta_get_text (const GstCnnReadingMeta * meta);

G_END_DECLS

#endif /* __GST_CNN_META_H__ */
