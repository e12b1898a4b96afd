/* GStreamer CNN plugin: a loaded model ready to classify frames.
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
#ifndef __GST_CNN_ENGINE_H__
#define __GST_CNN_ENGINE_H__

#include <cnn.h>

G_BEGIN_DECLS

/* One model with everything a classification needs, allocated once so
 * that classifying a frame allocates nothing.  Used by one thread at a
 * time; replaced as a whole when the model changes, so no frame ever
 * sees two models. */
typedef struct
{
  CnnModel *model;
  CnnNetwork *network;          /* owned by model */
  CnnPreprocessor *preprocessor;
  gfloat *input;                /* one model input, C×H×W */
  gfloat *probabilities;        /* n_classes: the last result */
  guint n_classes;
  gboolean needs_softmax;       /* the network ends in raw scores */
} GstCnnEngine;

/* Loads @model_path, replaces its labels by those of @labels_path when
 * not NULL, and prepares frames as @preprocess says (NULL: as the model
 * says).  Errors are CNN_ERROR: _IO and _MODEL for files that cannot be
 * read, _INVALID for settings that do not fit the model. */
GstCnnEngine *gst_cnn_engine_new (const gchar * model_path,
    const gchar * labels_path, const gchar * preprocess, GError ** error);
void gst_cnn_engine_free (GstCnnEngine * engine);

/* Classifies @roi of @image into engine->probabilities.  Returns the
 * most probable class, or -1 when there was nothing to classify (then
 * every probability is 0). */
gint gst_cnn_engine_classify (GstCnnEngine * engine, const CnnImage * image,
    CnnRect roi);

const gchar *gst_cnn_engine_label (const GstCnnEngine * engine, gint class_id);
const gchar *gst_cnn_engine_name (const GstCnnEngine * engine);

G_END_DECLS

#endif /* __GST_CNN_ENGINE_H__ */
