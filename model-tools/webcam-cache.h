/* `--augment webcam` (issue 11): each training digit rendered in a few
 * desk scenes (desk-scene.h), once at the start of training, and passed
 * through libcnn's own "mnist" preprocessing as cnnclassify would pass
 * a webcam frame, so that the network learns from the inputs it will
 * see.  Blank scenes are rendered too: those that the preprocessing
 * takes for ink are kept as would-be negatives.
 */
#ifndef TOOL_WEBCAM_CACHE_H
#define TOOL_WEBCAM_CACHE_H

#include <cnn.h>

G_BEGIN_DECLS

/* One blank scene for this many digit scenes, as in the evaluation. */
#define WEBCAM_SCENES_PER_BLANK 9

typedef struct
{
  guint digits, per_digit;      /* digits rendered, scenes of each */
  guint no_ink;                 /* digit scenes the preprocessing found no
                                 * ink in: the clean digit stands in */
  guint strays;                 /* digit scenes in which it framed
                                 * something else (webcam_cache_get()) */
  guint blanks, blank_ink;      /* blank scenes; of them taken for ink */
  guint threads;
  gdouble seconds;
} WebcamStats;

typedef struct _WebcamCache WebcamCache;

/* Renders @per_digit scenes of each of the first @n digits of @data
 * (1×28×28 grey) and one blank scene per WEBCAM_SCENES_PER_BLANK digit
 * scenes, on @threads threads.  The scenes depend on @seed alone, the
 * result on nothing else (not on the number of threads). */
WebcamCache *webcam_cache_new (const CnnDataset * data, guint n,
    guint per_digit, guint64 seed, guint threads, GError ** error);
void webcam_cache_free (WebcamCache * cache);
const WebcamStats *webcam_cache_stats (const WebcamCache * cache);

/* Scene @scene of digit @index as the network's input before
 * normalisation (28×28, 0..1) → @out.  FALSE when that input is not the
 * digit: most of what the preprocessing framed lies outside the digit's
 * box (a finger, a shadow's edge), so it is to be learnt as no digit. */
gboolean webcam_cache_get (const WebcamCache * cache, guint index,
    guint scene, gfloat * out);
/* The blank scenes taken for ink, in the same form. */
guint webcam_cache_n_negatives (const WebcamCache * cache);
void webcam_cache_get_negative (const WebcamCache * cache, guint i,
    gfloat * out);

/* Which input a sample gets: -1 for the clean digit, else one of its
 * @per_digit scenes, the scene with probability @p; from @key alone. */
gint webcam_pick (guint64 key, gdouble p, guint per_digit);

G_END_DECLS

#endif /* TOOL_WEBCAM_CACHE_H */
