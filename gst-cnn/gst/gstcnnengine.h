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

/* How the probabilities of successive frames are combined. */
typedef enum
{
  GST_CNN_SMOOTHING_WINDOW,     /* mean of the last N frames */
  GST_CNN_SMOOTHING_EXPONENTIAL,        /* mean decaying by 2 / (N + 1) a frame */
} GstCnnSmoothingMode;

/* The average of the probabilities of the last frames: its window is
 * allocated when it is made, so that adding a frame allocates nothing,
 * and a change of its settings is a new one, made on any thread and
 * swapped in (gst_cnn_engine_swap_smoothing()). */
typedef struct
{
  GstCnnSmoothingMode mode;
  guint n_frames;               /* N, frames averaged; 1: none */
  guint n_classes;
  guint n_smoothed;             /* frames in the result, ≤ N */
  guint window_next;            /* window row the next frame goes in */
  gfloat *window;               /* N × n_classes, a ring of frames' own
                                 * probabilities; window mode only */
} GstCnnSmoothing;

/* What the engine runs with that takes memory to change: made on any
 * thread while another classifies, and swapped in between two frames. */
typedef struct
{
  guint threads;                /* of the network's passes */
  guint smoothing;              /* frames averaged */
  GstCnnSmoothingMode smoothing_mode;
} GstCnnEngineTuning;

/* One model with everything a classification needs, allocated once so
 * that classifying a frame allocates nothing.  Used by one thread at a
 * time, except for what gst_cnn_engine_workspace_new() and
 * gst_cnn_engine_smoothing_new() read; replaced as a whole when the
 * model changes, so no frame ever sees two models, and a new model
 * starts with an empty window. */
typedef struct
{
  CnnModel *model;
  CnnNetwork *network;          /* owned by model; frozen */
  CnnWorkspace *ws;             /* this engine's passes of the network */
  CnnPreprocessor *preprocessor;
  gfloat *input;                /* one model input, C×H×W */
  gboolean input_valid;         /* input holds the last frame's (it had
                                 * something to classify) */
  gfloat *frame_probabilities;  /* n_classes: the last frame's own */
  gfloat *probabilities;        /* n_classes: the result, smoothed */
  gdouble reject_below;         /* the model's "no class" confidence, or 0 */
  guint n_classes;
  guint64 memory_limit;         /* 0: libcnn's, cnn_memory_limit () */
  GstCnnSmoothing *smoothing;
} GstCnnEngine;

/* The step of gst_cnn_engine_new() that failed. */
typedef enum
{
  GST_CNN_ENGINE_STEP_MODEL,    /* loading the model file */
  GST_CNN_ENGINE_STEP_LABELS,   /* reading or fitting the labels file */
  GST_CNN_ENGINE_STEP_SETTINGS, /* preprocess, memory, the model's shape */
} GstCnnEngineStep;

/* Loads @model_path, replaces its labels by those of @labels_path when
 * not NULL, prepares frames as @preprocess says (NULL: as the model
 * says) and runs as @tuning says, all within @memory_limit bytes (0:
 * libcnn's default).  Errors are CNN_ERROR: _IO and _MODEL for files
 * that cannot be read, _INVALID for settings that do not fit the model,
 * _NOMEM past the memory limit; @failed says which step. */
GstCnnEngine *gst_cnn_engine_new (const gchar * model_path,
    const gchar * labels_path, const gchar * preprocess,
    guint64 memory_limit, const GstCnnEngineTuning * tuning,
    GstCnnEngineStep * failed, GError ** error);
void gst_cnn_engine_free (GstCnnEngine * engine);

/* A workspace for @engine's network on @n_threads threads, or a
 * smoothing of @n_frames frames (1 or more) as @mode says, for
 * @engine's classes: both within the engine's memory limit
 * (CNN_ERROR_NOMEM), and safe to call on one thread while another
 * classifies with @engine. */
CnnWorkspace *gst_cnn_engine_workspace_new (GstCnnEngine * engine,
    guint n_threads, GError ** error);
GstCnnSmoothing *gst_cnn_engine_smoothing_new (GstCnnEngine * engine,
    guint n_frames, GstCnnSmoothingMode mode, GError ** error);
void gst_cnn_smoothing_free (GstCnnSmoothing * smoothing);

/* Put @ws or @smoothing (made for this engine, above) in use and return
 * the one it replaces, for the caller to free; allocate nothing.  A new
 * smoothing starts empty. */
CnnWorkspace *gst_cnn_engine_swap_workspace (GstCnnEngine * engine,
    CnnWorkspace * ws);
GstCnnSmoothing *gst_cnn_engine_swap_smoothing (GstCnnEngine * engine,
    GstCnnSmoothing * smoothing);
/* What @engine runs with now. */
void gst_cnn_engine_get_tuning (const GstCnnEngine * engine,
    GstCnnEngineTuning * tuning);

/* Forgets the frames seen: the next result is that frame's own. */
void gst_cnn_engine_reset_smoothing (GstCnnEngine * engine);

/* Classifies @roi of @image: its own probabilities go to
 * engine->frame_probabilities (all 0 when there was nothing to
 * classify, e.g. no ink), and their average with the frames before, as
 * the smoothing says, to engine->probabilities.  Returns the most
 * probable class of that average, or -1 when it is all 0 (nothing to
 * classify in any frame averaged). */
gint gst_cnn_engine_classify (GstCnnEngine * engine, const CnnImage * image,
    CnnRect roi);

const gchar *gst_cnn_engine_label (const GstCnnEngine * engine, gint class_id);
const gchar *gst_cnn_engine_name (const GstCnnEngine * engine);

G_END_DECLS

#endif /* __GST_CNN_ENGINE_H__ */
