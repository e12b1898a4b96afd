/* Smoothing probabilities over frames (docs/design.md §1): the mean of
 * the last N frames' probabilities, or a mean in which each new frame
 * weighs 2 / (N + 1); for numbers, the text read most often of the last
 * N frames'. */
#include "cnn.h"

#include <string.h>

/* A buffer of @bytes for the frames' window or texts, checked against
 * @memory_limit first (@what names it in errors); NULL on failure. */
static gpointer
try_frames_buffer (guint64 bytes, const gchar * what, guint n_frames,
    guint64 memory_limit, GError ** error)
{
  gpointer buffer;

  if (!cnn_memory_check (bytes, memory_limit, what, error))
    return NULL;
  buffer = g_try_malloc (bytes);
  if (buffer == NULL)
    g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM, "cannot allocate %s "
        "(%u frames)", what, n_frames);
  return buffer;
}

static CnnSmoothing *
smoothing_state (guint n_classes, guint n_frames, CnnSmoothingMode mode)
{
  CnnSmoothing *smoothing = g_new0 (CnnSmoothing, 1);

  smoothing->mode = mode;
  smoothing->n_frames = n_frames;
  smoothing->n_classes = n_classes;
  return smoothing;
}

CnnSmoothing *
cnn_smoothing_new (guint n_classes, guint n_frames, CnnSmoothingMode mode,
    guint64 memory_limit, GError ** error)
{
  gfloat *window = NULL;
  CnnSmoothing *smoothing;

  g_return_val_if_fail (n_frames >= 1, NULL);

  if (mode == CNN_SMOOTHING_WINDOW) {
    window = try_frames_buffer ((guint64) n_frames * n_classes
        * sizeof (gfloat), "the smoothing window", n_frames, memory_limit,
        error);
    if (window == NULL)
      return NULL;
  }
  smoothing = smoothing_state (n_classes, n_frames, mode);
  smoothing->window = window;
  return smoothing;
}

CnnSmoothing *
cnn_smoothing_new_texts (guint n_classes, guint n_frames,
    CnnSmoothingMode mode, guint64 memory_limit, GError ** error)
{
  gpointer texts;
  CnnSmoothing *smoothing;

  g_return_val_if_fail (n_frames >= 1, NULL);

  texts = try_frames_buffer ((guint64) n_frames * CNN_NUMBER_TEXT_SIZE,
      "the texts smoothed over", n_frames, memory_limit, error);
  if (texts == NULL)
    return NULL;
  smoothing = smoothing_state (n_classes, n_frames, mode);
  smoothing->texts = texts;
  return smoothing;
}

void
cnn_smoothing_free (CnnSmoothing * smoothing)
{
  if (smoothing == NULL)
    return;
  g_free (smoothing->window);
  g_free (smoothing->texts);
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

/* The kept text @age frames old (0: the newest). */
static const gchar *
kept_text (const CnnSmoothing * s, guint age)
{
  return s->texts[(s->window_next + s->n_frames - 1 - age) % s->n_frames];
}

/* Each distinct kept text's weight, newest first, so that an older one
 * wins only by more: N² comparisons of a few bytes for N frames, nothing
 * next to a pass of the network. */
void
cnn_smoothing_add_text (CnnSmoothing * s, const gchar * text, gchar * shown)
{
  const gdouble keep = s->mode == CNN_SMOOTHING_EXPONENTIAL ?
      1.0 - 2.0 / (s->n_frames + 1) : 1.0;
  gdouble best_weight = -1.0;
  guint best = 0;

  g_return_if_fail (s->texts != NULL);

  g_strlcpy (s->texts[s->window_next], text, CNN_NUMBER_TEXT_SIZE);
  s->window_next = (s->window_next + 1) % s->n_frames;
  s->n_smoothed = MIN (s->n_smoothed + 1, s->n_frames);
  for (guint age = 0; age < s->n_smoothed; age++) {
    const gchar *candidate = kept_text (s, age);
    gdouble weight = 0.0, w = 1.0;
    gboolean counted = FALSE;

    for (guint newer = 0; newer < age && !counted; newer++)
      counted = strcmp (kept_text (s, newer), candidate) == 0;
    if (counted)
      continue;
    for (guint other = 0; other < s->n_smoothed; other++, w *= keep)
      if (strcmp (kept_text (s, other), candidate) == 0)
        weight += w;
    if (weight > best_weight) {
      best_weight = weight;
      best = age;
    }
  }
  g_strlcpy (shown, kept_text (s, best), CNN_NUMBER_TEXT_SIZE);
}
