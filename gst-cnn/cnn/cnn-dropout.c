/* dropout: zeroes a random fraction of values while training (inverted
 * dropout: survivors are scaled up), so inference is the identity. */
#include "cnn-private.h"

#include <string.h>

static gboolean
dropout_setup (CnnLayer * l, GError ** error)
{
  if (!cnn_layer_setup_same_shape (l, error))
    return FALSE;
  /* The mask of a training pass: 0 or 1 / (1 - rate) per value. */
  l->train_state_bytes = cnn_shape_size (l->in) * sizeof (gfloat);
  return TRUE;
}

/* SplitMix64's finaliser: every input bit reaches every output bit. */
static inline guint64
mix64 (guint64 z)
{
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static inline guint64
sample_key (guint64 seed, guint sample)
{
  return mix64 (seed ^ mix64 ((guint64) sample
          + G_GUINT64_CONSTANT (0xD1B54A32D192ED03)));
}

/* 64 random bits for positions 2·pair (low half) and 2·pair + 1 (high
 * half): a counter-based generator, so any thread can draw any sample's
 * mask without sharing state. */
static inline guint64
pair_bits (guint64 key, gsize pair)
{
  return mix64 (key + (guint64) pair
      * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15));
}

static inline guint32
position_bits (guint64 key, gsize position)
{
  return (guint32) (pair_bits (key, position / 2) >> (position % 2 * 32));
}

/* Values whose bits fall below this are dropped: P = rate. */
static inline guint32
drop_threshold (gfloat rate)
{
  return (guint32) MIN ((gdouble) rate * 4294967296.0, 4294967295.0);
}

gboolean
cnn_dropout_keeps (guint64 seed, guint sample, gsize position, gfloat rate)
{
  return position_bits (sample_key (seed, sample), position)
      >= drop_threshold (rate);
}

/* Inference: the identity (inverted dropout scaled while training). */
static void
dropout_forward (CnnLayer * l, const gfloat * in, gfloat * out, guint batch,
    CnnScratch * scratch)
{
  if (out != in)
    memcpy (out, in, (gsize) batch * cnn_shape_size (l->in) * sizeof (gfloat));
}

/* z (n) = x (n) ⊙ y (n); written for -O2's cheap vectorizer, which takes
 * restrict pointers and loops without remainder (and not inlined, which
 * would lose the restrict). */
G_GNUC_NO_INLINE static void
multiply (const gfloat * restrict x, const gfloat * restrict y,
    gfloat * restrict z, gsize n)
{
  gsize bulk = n & ~(gsize) 7, i;

  for (i = 0; i < bulk; i++)
    z[i] = x[i] * y[i];
  for (; i < n; i++)
    z[i] = x[i] * y[i];
}

/* x (n) ⊙= y (n) */
G_GNUC_NO_INLINE static void
multiply_in_place (gfloat * restrict x, const gfloat * restrict y, gsize n)
{
  gsize bulk = n & ~(gsize) 7, i;

  for (i = 0; i < bulk; i++)
    x[i] *= y[i];
  for (; i < n; i++)
    x[i] *= y[i];
}

/* x (batch × n) · mask (batch × n) → y; the mask is kept for backward */
static void
dropout_forward_train (CnnLayer * l, const gfloat * in, gfloat * out,
    guint batch, CnnTrainPass * pass)
{
  gsize n = cnn_shape_size (l->in);
  guint32 threshold = drop_threshold (l->spec.rate);
  gfloat scale = 1.0f / (1.0f - l->spec.rate);
  gfloat *mask = pass->state;

  for (guint b = 0; b < batch; b++) {
    guint64 key = sample_key (pass->seed, pass->first + b);
    gfloat *m = mask + b * n;
    gsize i;

    for (i = 0; i + 2 <= n; i += 2) {
      guint64 bits = pair_bits (key, i / 2);

      m[i] = (guint32) bits >= threshold ? scale : 0.0f;
      m[i + 1] = (guint32) (bits >> 32) >= threshold ? scale : 0.0f;
    }
    if (i < n)
      m[i] = position_bits (key, i) >= threshold ? scale : 0.0f;
  }
  if (in == out)
    multiply_in_place (out, mask, batch * n);
  else
    multiply (in, mask, out, batch * n);
}

/* dx = dy · mask */
static void
dropout_backward (CnnLayer * l, const gfloat * in, const gfloat * out,
    const gfloat * dout, gfloat * din, guint batch, CnnTrainPass * pass)
{
  if (din)
    multiply (dout, pass->state, din, (gsize) batch * cnn_shape_size (l->in));
}

static gchar *
dropout_describe (const CnnLayer * l)
{
  return g_strdup_printf ("%g", l->spec.rate);
}

static gchar *
dropout_to_text (const CnnLayer * l)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  return g_strdup_printf ("dropout %s",
      g_ascii_formatd (buf, sizeof buf, "%g", l->spec.rate));
}

const CnnLayerOps cnn_dropout_ops = {
  .name = "dropout",
  .keyword = "dropout",
  .setup = dropout_setup,
  .forward = dropout_forward,
  .forward_train = dropout_forward_train,
  .backward = dropout_backward,
  .in_place = TRUE,
  .describe = dropout_describe,
  .to_text = dropout_to_text,
};
