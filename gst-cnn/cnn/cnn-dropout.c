/* dropout: zeroes a random fraction of values while training (inverted
 * dropout: survivors are scaled up), so inference is the identity. */
#include "cnn-private.h"

#include <string.h>

static gsize
mask_words (gsize n)
{
  return (n + 31) / 32;
}

static gboolean
dropout_setup (CnnLayer * l, GError ** error)
{
  if (!cnn_layer_setup_same_shape (l, error))
    return FALSE;
  /* The mask of a training pass, a bit per value (set: kept): a float
   * per value would be as much memory traffic as the values. */
  l->train_state_bytes = mask_words (cnn_shape_size (l->in))
      * sizeof (guint32);
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

/* One sample: x (n) → y (n) = x · mask · scale, and the mask's bits.
 * Values are drawn in pairs from one hash, 32 to a mask word. */
static void
drop_sample (const gfloat * x, gfloat * y, guint32 * mask, gsize n,
    guint64 key, guint32 threshold, gfloat scale)
{
  for (gsize w = 0; w < mask_words (n); w++) {
    gsize base = w * 32, end = MIN (base + 32, n);
    guint32 word = 0;

    for (gsize i = base; i < end; i += 2) {
      guint64 bits = pair_bits (key, i / 2);

      /* (past the end when n is odd: never read) */
      word |= (guint32) ((guint32) bits >= threshold) << (i - base);
      word |= (guint32) ((guint32) (bits >> 32) >= threshold)
          << (i - base + 1);
    }
    mask[w] = word;
    /* (gfloat) of the bit rather than a select, which the compiler makes
     * a branch that fails half the time */
    for (gsize i = base; i < end; i++)
      y[i] = x[i] * (scale * (gfloat) ((word >> (i - base)) & 1));
  }
}

/* x (batch × n) → y (batch × n), masks (batch × n bits); @in may be @out */
static void
dropout_forward_train (CnnLayer * l, const gfloat * in, gfloat * out,
    guint batch, CnnTrainPass * pass)
{
  gsize n = cnn_shape_size (l->in);
  guint32 *masks = pass->state;

  for (guint b = 0; b < batch; b++)
    drop_sample (in + b * n, out + b * n, masks + b * mask_words (n), n,
        sample_key (pass->seed, pass->first + b),
        drop_threshold (l->spec.rate), 1.0f / (1.0f - l->spec.rate));
}

/* dx (batch × n) = dy · mask · scale */
static void
dropout_backward (CnnLayer * l, const gfloat * in, const gfloat * out,
    const gfloat * dout, gfloat * din, guint batch, CnnTrainPass * pass)
{
  gsize n = cnn_shape_size (l->in);
  gfloat scale = 1.0f / (1.0f - l->spec.rate);
  const guint32 *masks = pass->state;

  if (!din)
    return;
  for (guint b = 0; b < batch; b++) {
    const guint32 *mask = masks + b * mask_words (n);

    for (gsize i = 0; i < n; i++)
      din[b * n + i] = dout[b * n + i]
          * (scale * (gfloat) ((mask[i / 32] >> (i % 32)) & 1));
  }
}

static gchar *
dropout_describe (const CnnLayer * l)
{
  return g_strdup_printf ("%g", l->spec.rate);
}

static gchar *
dropout_to_text (const CnnLayer * l)
{
  gchar buf[80], format[8];

  /* The fewest decimals that read back as the same float, in the plain
   * decimal the parser takes: "%g" made 0.9999999 "1" (refused as a
   * rate) and 0.00001 "1e-05". */
  for (gint digits = 1; digits <= 60; digits++) {
    /* g_ascii_formatd: '.' whatever the host application's locale. */
    g_snprintf (format, sizeof format, "%%.%df", digits);
    g_ascii_formatd (buf, sizeof buf, format, l->spec.rate);
    if ((gfloat) g_ascii_strtod (buf, NULL) == l->spec.rate)
      break;
  }
  return g_strdup_printf ("dropout %s", buf);
}

static const CnnLayerArg dropout_args[] = {
  {NULL, CNN_FIELD_RATE, 0, 0},
};

const CnnLayerOps cnn_dropout_ops = {
  .name = "dropout",
  .keyword = "dropout",
  .usage = "dropout RATE (0 <= RATE < 1)",
  .args = dropout_args,
  .n_args = G_N_ELEMENTS (dropout_args),
  .setup = dropout_setup,
  .inference = {.passes_through = TRUE},
  .forward = dropout_forward,
  .forward_train = dropout_forward_train,
  .backward = dropout_backward,
  .in_place = TRUE,
  .describe = dropout_describe,
  .to_text = dropout_to_text,
};
