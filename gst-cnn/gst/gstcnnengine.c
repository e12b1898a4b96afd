/* GStreamer CNN plugin: a loaded model ready to classify frames.
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
#include "gstcnnengine.h"

#include <math.h>
#include <string.h>

/* What frames are prepared as when neither the element nor the model
 * says: plain area-average scaling. */
#define DEFAULT_PREPROCESS "resize"

static gboolean
gst_cnn_engine_replace_labels (GstCnnEngine * engine,
    const gchar * labels_path, GError ** error)
{
  GError *err = NULL;
  gchar **labels = cnn_labels_read (labels_path, error);
  gboolean ok;

  if (labels == NULL)
    return FALSE;
  ok = cnn_model_set_labels (engine->model, (const gchar * const *) labels,
      &err);
  if (!ok) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "labels file %s does not fit model %s: %s", labels_path,
        cnn_model_name (engine->model), err->message);
    g_error_free (err);
  }
  g_strfreev (labels);
  return ok;
}

/* The element hands frames of 1 (grey) or 3 (RGB) channels to libcnn. */
static gboolean
gst_cnn_engine_check_input (GstCnnEngine * engine, const gchar * model_path,
    GError ** error)
{
  CnnShape input = cnn_network_input_shape (engine->network);

  if (input.c != 1 && input.c != 3) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "%s: the model takes %u channels; frames give 1 (grey) or 3 (RGB)",
        model_path, input.c);
    return FALSE;
  }
  if (cnn_model_n_labels (engine->model) != engine->n_classes) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "%s: %u labels for %u network outputs", model_path,
        cnn_model_n_labels (engine->model), engine->n_classes);
    return FALSE;
  }
  return TRUE;
}

static const gchar *
gst_cnn_engine_choose_preprocess (GstCnnEngine * engine,
    const gchar * preprocess)
{
  if (preprocess != NULL && preprocess[0] != '\0')
    return preprocess;
  preprocess = cnn_model_get_metadata (engine->model, "preprocess");
  if (preprocess != NULL && preprocess[0] != '\0')
    return preprocess;
  return DEFAULT_PREPROCESS;
}

static gboolean
gst_cnn_engine_prepare (GstCnnEngine * engine, const gchar * model_path,
    const gchar * preprocess, GError ** error)
{
  CnnShape input = cnn_network_input_shape (engine->network);
  guint n_layers = cnn_network_n_layers (engine->network);
  const gchar *spec;
  GError *err = NULL;

  engine->n_classes =
      cnn_shape_size (cnn_network_output_shape (engine->network));
  if (!gst_cnn_engine_check_input (engine, model_path, error))
    return FALSE;

  spec = gst_cnn_engine_choose_preprocess (engine, preprocess);
  engine->preprocessor = cnn_preprocessor_new (spec, input, &err);
  if (engine->preprocessor == NULL) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "%s: preprocess \"%s\": %s", model_path, spec, err->message);
    g_error_free (err);
    return FALSE;
  }
  if (!cnn_network_reserve (engine->network, 1, error))
    return FALSE;

  engine->needs_softmax = n_layers == 0
      || g_strcmp0 (cnn_network_layer_kind (engine->network, n_layers - 1),
      "softmax") != 0;
  engine->input = g_new0 (gfloat, cnn_shape_size (input));
  engine->probabilities = g_new0 (gfloat, engine->n_classes);
  return TRUE;
}

GstCnnEngine *
gst_cnn_engine_new (const gchar * model_path, const gchar * labels_path,
    const gchar * preprocess, GError ** error)
{
  GstCnnEngine *engine = g_new0 (GstCnnEngine, 1);

  engine->model = cnn_model_load (model_path, error);
  if (engine->model == NULL)
    goto failed;
  engine->network = cnn_model_network (engine->model);
  if (labels_path != NULL && labels_path[0] != '\0'
      && !gst_cnn_engine_replace_labels (engine, labels_path, error))
    goto failed;
  if (!gst_cnn_engine_prepare (engine, model_path, preprocess, error))
    goto failed;
  return engine;

failed:
  gst_cnn_engine_free (engine);
  return NULL;
}

void
gst_cnn_engine_free (GstCnnEngine * engine)
{
  if (engine == NULL)
    return;
  if (engine->preprocessor != NULL)
    cnn_preprocessor_free (engine->preprocessor);
  if (engine->model != NULL)
    cnn_model_free (engine->model);
  g_free (engine->input);
  g_free (engine->probabilities);
  g_free (engine);
}

/* scores (n) → probabilities (n), in place; shifted by the maximum so
 * exp() cannot overflow. */
static void
gst_cnn_engine_softmax (gfloat * x, guint n)
{
  gfloat max = x[0], sum = 0.0f;

  for (guint i = 1; i < n; i++)
    max = MAX (max, x[i]);
  for (guint i = 0; i < n; i++) {
    x[i] = expf (x[i] - max);
    sum += x[i];
  }
  for (guint i = 0; i < n; i++)
    x[i] /= sum;
}

gint
gst_cnn_engine_classify (GstCnnEngine * engine, const CnnImage * image,
    CnnRect roi)
{
  const gfloat *output;
  gsize size = engine->n_classes * sizeof (gfloat);

  if (!cnn_preprocessor_run (engine->preprocessor, image, roi, engine->input)) {
    memset (engine->probabilities, 0, size);
    return -1;
  }
  output = cnn_network_forward (engine->network, engine->input, 1);
  memcpy (engine->probabilities, output, size);
  if (engine->needs_softmax)
    gst_cnn_engine_softmax (engine->probabilities, engine->n_classes);
  return (gint) cnn_argmax (engine->probabilities, engine->n_classes);
}

const gchar *
gst_cnn_engine_label (const GstCnnEngine * engine, gint class_id)
{
  if (class_id < 0)
    return NULL;
  return cnn_model_label (engine->model, class_id);
}

const gchar *
gst_cnn_engine_name (const GstCnnEngine * engine)
{
  return cnn_model_name (engine->model);
}
