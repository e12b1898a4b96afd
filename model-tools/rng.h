/* Counter-based random numbers for training.
 *
 * Every random choice (the order of an epoch, one sample's augmentation,
 * one batch's dropout masks) gets its own generator seeded from the run's
 * seed and the position it belongs to, e.g. (seed, epoch, sample index).
 * Nothing depends on how many numbers were drawn before, so a run resumed
 * from a checkpoint draws exactly what an uninterrupted run would.
 */
#ifndef TOOL_RNG_H
#define TOOL_RNG_H

#include <glib.h>
#include <math.h>

G_BEGIN_DECLS

/* What a generator is for, so that streams of different purposes never
 * coincide even for equal positions. */
typedef enum
{
  TOOL_RNG_SHUFFLE = 1,
  TOOL_RNG_AUGMENT,
  TOOL_RNG_DROPOUT,
  TOOL_RNG_DESK_SCENE,          /* desk-scene.c: a digit scene's conditions */
  TOOL_RNG_DESK_BLANK,          /* ... a blank scene's */
  TOOL_RNG_DESK_JITTER,         /* ... a later frame's small moves */
  TOOL_RNG_WEBCAM_SCENES,       /* the seed of --augment webcam's scenes */
  TOOL_RNG_WEBCAM_PICK,         /* a sample's clean or webcam input */
  TOOL_RNG_WEBCAM_NEGATIVE,     /* ... or a negative in its place */
  TOOL_RNG_NUMBER_SCENE,        /* tests/eval: a number written on a desk */
} ToolRngStream;

typedef struct
{
  guint64 state;
} ToolRng;

/* SplitMix64's output function: a bijection that mixes every bit. */
static inline guint64
tool_rng_mix (guint64 z)
{
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* A 64-bit value that depends only on (seed, stream, a, b). */
static inline guint64
tool_rng_key (guint64 seed, ToolRngStream stream, guint64 a, guint64 b)
{
  guint64 k = tool_rng_mix (seed + G_GUINT64_CONSTANT (0x9E3779B97F4A7C15)
      * (guint64) stream);

  k = tool_rng_mix (k ^ (a + G_GUINT64_CONSTANT (0x632BE59BD9B4E019)));
  return tool_rng_mix (k ^ (b + G_GUINT64_CONSTANT (0x8CB92BA72F3D8DD7)));
}

static inline void
tool_rng_init (ToolRng * rng, guint64 seed, ToolRngStream stream, guint64 a,
    guint64 b)
{
  rng->state = tool_rng_key (seed, stream, a, b);
}

static inline guint64
tool_rng_next (ToolRng * rng)
{
  rng->state += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);
  return tool_rng_mix (rng->state);
}

/* Uniform in [0, 1), 53 bits. */
static inline gdouble
tool_rng_uniform (ToolRng * rng)
{
  return (gdouble) (tool_rng_next (rng) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform in [-1, 1). */
static inline gdouble
tool_rng_symmetric (ToolRng * rng)
{
  return 2.0 * tool_rng_uniform (rng) - 1.0;
}

/* Uniform in 0..n-1; the modulo bias is below 2^-32 for n < 2^32. */
static inline guint
tool_rng_below (ToolRng * rng, guint n)
{
  return (guint) (tool_rng_next (rng) % n);
}

/* Standard normal (Box-Muller; one value per call keeps it stateless). */
static inline gdouble
tool_rng_normal (ToolRng * rng)
{
  gdouble u = 1.0 - tool_rng_uniform (rng);     /* (0, 1]: log is finite */
  gdouble v = tool_rng_uniform (rng);

  return sqrt (-2.0 * log (u)) * cos (2.0 * G_PI * v);
}

G_END_DECLS

#endif /* TOOL_RNG_H */
