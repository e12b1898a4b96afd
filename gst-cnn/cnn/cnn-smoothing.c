/* Smoothing probabilities over frames (docs/design.md §1): the mean of
 * the last N frames' probabilities, or a mean in which each new frame
 * weighs 2 / (N + 1). */
#include "cnn.h"

#include <string.h>

CnnSmoothing *
cnn_smoothing_new (guint n_classes, guint n_frames, CnnSmoothingMode mode,
    guint64 memory_limit, GError ** error)
{
  guint64 bytes = (guint64) n_frames * n_classes * sizeof (gfloat);
  CnnSmoothing *smoothing;
  gfloat *window = NULL;

  g_return_val_if_fail (n_frames >= 1, NULL);

  if (mode == CNN_SMOOTHING_WINDOW) {
    if (!cnn_memory_check (bytes, memory_limit, "the smoothing window",
            error))
      return NULL;
    window = g_try_malloc (bytes);
    if (window == NULL) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM, "cannot allocate "
          "a smoothing window of %u frames of %u classes", n_frames,
          n_classes);
      return NULL;
    }
  }
  smoothing = g_new0 (CnnSmoothing, 1);
  smoothing->mode = mode;
  smoothing->n_frames = n_frames;
  smoothing->n_classes = n_classes;
  smoothing->window = window;
  return smoothing;
}

void
cnn_smoothing_free (CnnSmoothing * smoothing)
{
  if (smoothing == NULL)
    return;
  g_free (smoothing->window);
  g_free (smoothing);
}

void
cnn_smoothing_reset (CnnSmoothing * smoothing)
{
  smoothing->n_smoothed = 0;
  smoothing->window_next = 0;
}

/* window (n_frames × n) → mean (n); summed in double so that long
 * windows lose nothing to rounding. */
static void
window_mean (const gfloat * window, guint n_frames, guint n, gfloat * mean)
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
decay_mean (const gfloat * frame, guint n, gfloat alpha, gfloat * mean)
{
  for (guint i = 0; i < n; i++)
    mean[i] += alpha * (frame[i] - mean[i]);
}

/* The window mean is recomputed from the frames it holds rather than
 * kept as a running sum, so that it never drifts: N × n_classes
 * additions are nothing next to a network pass. */
void
cnn_smoothing_add (CnnSmoothing * s, const gfloat * frame, gfloat * mean)
{
  guint n = s->n_classes;

  s->n_smoothed = MIN (s->n_smoothed + 1, s->n_frames);
  if (s->mode == CNN_SMOOTHING_EXPONENTIAL) {
    if (s->n_smoothed == 1)
      memcpy (mean, frame, n * sizeof (gfloat));
    else
      decay_mean (frame, n, 2.0f / (s->n_frames + 1), mean);
    return;
  }
  memcpy (s->window + (gsize) s->window_next * n, frame,
      n * sizeof (gfloat));
  s->window_next = (s->window_next + 1) % s->n_frames;
  window_mean (s->window, s->n_smoothed, n, mean);
}
