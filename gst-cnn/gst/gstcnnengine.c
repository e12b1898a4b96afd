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
  return CNN_DEFAULT_PREPROCESS;
}

/* The per-class arrays, which classifying a frame writes to. */
static gboolean
gst_cnn_engine_alloc (GstCnnEngine * engine, const gchar * model_path,
    GError ** error)
{
  CnnShape input = cnn_network_input_shape (engine->network);

  /* The network's memory check counted the input and the output. */
  engine->input = g_try_new0 (gfloat, cnn_shape_size (input));
  engine->frame_probabilities = g_try_new0 (gfloat, engine->n_classes);
  engine->probabilities = g_try_new0 (gfloat, engine->n_classes);
  if (engine->input && engine->frame_probabilities && engine->probabilities)
    return TRUE;
  g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID, "%s: cannot allocate "
      "the input and results of %u classes", model_path, engine->n_classes);
  return FALSE;
}

/* The model's calibrated "no digit" confidence (metadata reject-below,
 * written by cnn train --augment webcam); 0 when it has none. */
static gboolean
gst_cnn_engine_read_reject_below (GstCnnEngine * engine,
    const gchar * model_path, GError ** error)
{
  const gchar *text = cnn_model_get_metadata (engine->model, "reject-below");
  gchar *end = NULL;
  gdouble value;

  engine->reject_below = 0.0;
  if (!text)
    return TRUE;
  value = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || !(value >= 0.0 && value <= 1.0)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: __metadata__ "
        "'reject-below' is \"%s\", not a probability from 0 to 1",
        model_path, text);
    return FALSE;
  }
  engine->reject_below = value;
  return TRUE;
}

static gboolean
gst_cnn_engine_prepare (GstCnnEngine * engine, const gchar * model_path,
    const gchar * preprocess, GError ** error)
{
  CnnShape input = cnn_network_input_shape (engine->network);
  const gchar *spec;
  GError *err = NULL;

  engine->n_classes =
      cnn_shape_size (cnn_network_output_shape (engine->network));
  if (!gst_cnn_engine_check_input (engine, model_path, error))
    return FALSE;
  if (!gst_cnn_engine_read_reject_below (engine, model_path, error))
    return FALSE;

  spec = gst_cnn_engine_choose_preprocess (engine, preprocess);
  engine->preprocessor = cnn_preprocessor_new_full (spec, input,
      engine->memory_limit, &err);
  if (engine->preprocessor == NULL) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "%s: preprocess \"%s\": %s", model_path, spec, err->message);
    g_error_free (err);
    return FALSE;
  }
  if (!gst_cnn_engine_alloc (engine, model_path, error))
    return FALSE;
  return TRUE;
}

/* The workspace and the smoothing @tuning asks for. */
static gboolean
gst_cnn_engine_tune (GstCnnEngine * engine, const gchar * model_path,
    const GstCnnEngineTuning * tuning, GError ** error)
{
  GError *err = NULL;

  engine->ws = gst_cnn_engine_workspace_new (engine, tuning->threads, &err);
  if (engine->ws != NULL)
    engine->smoothing = gst_cnn_engine_smoothing_new (engine,
        tuning->smoothing, tuning->smoothing_mode, &err);
  if (engine->smoothing != NULL)
    return TRUE;
  g_set_error (error, err->domain, err->code, "%s: %s", model_path,
      err->message);
  g_error_free (err);
  return FALSE;
}

GstCnnEngine *
gst_cnn_engine_new (const gchar * model_path, const gchar * labels_path,
    const gchar * preprocess, guint64 memory_limit,
    const GstCnnEngineTuning * tuning, GstCnnEngineStep * failed,
    GError ** error)
{
  GstCnnEngine *engine = g_new0 (GstCnnEngine, 1);

  engine->memory_limit = memory_limit;
  *failed = GST_CNN_ENGINE_STEP_MODEL;
  engine->model = cnn_model_load_full (model_path, memory_limit, error);
  if (engine->model == NULL)
    goto failed;
  engine->network = cnn_model_network (engine->model);
  *failed = GST_CNN_ENGINE_STEP_LABELS;
  if (labels_path != NULL && labels_path[0] != '\0'
      && !gst_cnn_engine_replace_labels (engine, labels_path, error))
    goto failed;
  *failed = GST_CNN_ENGINE_STEP_SETTINGS;
  if (!gst_cnn_engine_prepare (engine, model_path, preprocess, error)
      || !gst_cnn_engine_tune (engine, model_path, tuning, error))
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
  cnn_workspace_free (engine->ws);
  if (engine->model != NULL)
    cnn_model_free (engine->model);
  g_free (engine->input);
  g_free (engine->frame_probabilities);
  g_free (engine->probabilities);
  gst_cnn_smoothing_free (engine->smoothing);
  g_free (engine);
}

/* The frame's own probabilities, all 0 when there is nothing to
 * classify. */
static void
gst_cnn_engine_run_frame (GstCnnEngine * engine, const CnnImage * image,
    CnnRect roi)
{
  gfloat *probabilities = engine->frame_probabilities;
  gsize size = engine->n_classes * sizeof (gfloat);
  const gfloat *output;

  engine->input_valid = cnn_preprocessor_run (engine->preprocessor, image,
      roi, engine->input);
  if (!engine->input_valid) {
    memset (probabilities, 0, size);
    return;
  }
  output = cnn_workspace_forward (engine->ws, engine->input, 1);
  cnn_network_probabilities (engine->network, output, probabilities);
}

CnnWorkspace *
gst_cnn_engine_workspace_new (GstCnnEngine * engine, guint n_threads,
    GError ** error)
{
  /* Reads only the frozen network, which passes do not write. */
  return cnn_workspace_new (engine->network, 1, n_threads, error);
}

CnnWorkspace *
gst_cnn_engine_swap_workspace (GstCnnEngine * engine, CnnWorkspace * ws)
{
  CnnWorkspace *old = engine->ws;

  engine->ws = ws;
  return old;
}

GstCnnSmoothing *
gst_cnn_engine_smoothing_new (GstCnnEngine * engine, guint n_frames,
    GstCnnSmoothingMode mode, GError ** error)
{
  guint64 bytes = (guint64) n_frames * engine->n_classes * sizeof (gfloat);
  GstCnnSmoothing *smoothing;
  gfloat *window = NULL;

  g_return_val_if_fail (n_frames >= 1, NULL);

  if (mode == GST_CNN_SMOOTHING_WINDOW) {
    if (!cnn_memory_check (bytes, engine->memory_limit, "the smoothing "
            "window", error))
      return NULL;
    window = g_try_malloc (bytes);
    if (window == NULL) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM, "cannot allocate "
          "a smoothing window of %u frames of %u classes", n_frames,
          engine->n_classes);
      return NULL;
    }
  }
  smoothing = g_new0 (GstCnnSmoothing, 1);
  smoothing->mode = mode;
  smoothing->n_frames = n_frames;
  smoothing->n_classes = engine->n_classes;
  smoothing->window = window;
  return smoothing;
}

void
gst_cnn_smoothing_free (GstCnnSmoothing * smoothing)
{
  if (smoothing == NULL)
    return;
  g_free (smoothing->window);
  g_free (smoothing);
}

GstCnnSmoothing *
gst_cnn_engine_swap_smoothing (GstCnnEngine * engine,
    GstCnnSmoothing * smoothing)
{
  GstCnnSmoothing *old = engine->smoothing;

  g_return_val_if_fail (smoothing->n_classes == engine->n_classes, smoothing);
  engine->smoothing = smoothing;
  return old;
}

void
gst_cnn_engine_get_tuning (const GstCnnEngine * engine,
    GstCnnEngineTuning * tuning)
{
  tuning->threads = cnn_workspace_n_threads (engine->ws);
  tuning->smoothing = engine->smoothing->n_frames;
  tuning->smoothing_mode = engine->smoothing->mode;
}

void
gst_cnn_engine_reset_smoothing (GstCnnEngine * engine)
{
  engine->smoothing->n_smoothed = 0;
  engine->smoothing->window_next = 0;
}

/* window (n_frames × n) → mean (n); summed in double so that long
 * windows lose nothing to rounding. */
static void
gst_cnn_engine_window_mean (const gfloat * window, guint n_frames, guint n,
    gfloat * mean)
{
  for (guint i = 0; i < n; i++) {
    gdouble sum = 0.0;

    for (guint f = 0; f < n_frames; f++)
      sum += window[(gsize) f * n + i];
    mean[i] = sum / n_frames;
  }
}

/* mean (n) ← mean + alpha · (frame (n) - mean) */
static void
gst_cnn_engine_decay_mean (const gfloat * frame, guint n, gfloat alpha,
    gfloat * mean)
{
  for (guint i = 0; i < n; i++)
    mean[i] += alpha * (frame[i] - mean[i]);
}

/* Adds the last frame to the average in engine->probabilities.  The
 * window mean is recomputed from the frames it holds rather than kept as
 * a running sum, so that it never drifts: N × n_classes additions are
 * nothing next to a network pass. */
static void
gst_cnn_engine_smooth (GstCnnEngine * engine)
{
  GstCnnSmoothing *s = engine->smoothing;
  guint n = engine->n_classes;

  s->n_smoothed = MIN (s->n_smoothed + 1, s->n_frames);
  if (s->mode == GST_CNN_SMOOTHING_EXPONENTIAL) {
    if (s->n_smoothed == 1)
      memcpy (engine->probabilities, engine->frame_probabilities,
          n * sizeof (gfloat));
    else
      gst_cnn_engine_decay_mean (engine->frame_probabilities, n,
          2.0f / (s->n_frames + 1), engine->probabilities);
    return;
  }
  memcpy (s->window + (gsize) s->window_next * n,
      engine->frame_probabilities, n * sizeof (gfloat));
  s->window_next = (s->window_next + 1) % s->n_frames;
  gst_cnn_engine_window_mean (s->window, s->n_smoothed, n,
      engine->probabilities);
}

gint
gst_cnn_engine_classify (GstCnnEngine * engine, const CnnImage * image,
    CnnRect roi)
{
  guint best;

  gst_cnn_engine_run_frame (engine, image, roi);
  gst_cnn_engine_smooth (engine);
  best = cnn_argmax (engine->probabilities, engine->n_classes);
  return engine->probabilities[best] > 0.0f ? (gint) best : -1;
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
