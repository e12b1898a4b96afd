/* Histograms of work-grid values for quantiles (internal to the "mnist"
 * digit finder; docs/design.md, "The mnist mode").  Static inline:
 * each stage inlines them into its own vector clones (cnn-clones.h). */
#ifndef CNN_HISTOGRAM_H
#define CNN_HISTOGRAM_H

#include <glib.h>
#include <string.h>

#define HIST_BINS 511           /* [0, 1] or [-1, 1] in steps of 1/255 */
#define HIST_GROUP 16           /* bins a quantile walk may skip at once */
#define HIST_GROUPS ((HIST_BINS + HIST_GROUP - 1) / HIST_GROUP)
/* Statistics (block quartiles, the median of the ink) read every other
 * cell each way: the work grid is an area average at least as fine as
 * the frame's pixels allow, so neighbouring cells tell the same, and a
 * quarter of them estimate the same quantiles four times as fast. */
#define STAT_STEP 2
/* One row's ink flags and the zeros after them: a whole number of
 * 8-byte words and one more byte, which ends the last run. */
#define FLAGS_SIZE(w) (((w) / 8 + 1) * 8 + 8)
#define SAMPLED(n) (((n) + STAT_STEP - 1) / STAT_STEP)

typedef struct
{
  guint counts[HIST_BINS];
  guint total;
  gfloat lo, scale;             /* bin = (v - lo) · scale, rounded */
} CnnHistogram;

static inline void
hist_reset (CnnHistogram * hist, gfloat lo, gfloat hi)
{
  memset (hist->counts, 0, sizeof hist->counts);
  hist->total = 0;
  hist->lo = lo;
  hist->scale = hi > lo ? (HIST_BINS - 1) / (hi - lo) : 0.0f;
}

/* values (n) → bins (n) of @hist: a loop apart from the counting, so
 * that it vectorises. */
static inline void
hist_bins (const CnnHistogram * hist, const gfloat * values, gsize n,
    guint16 * bins)
{
  const gfloat lo = hist->lo, scale = hist->scale;

  for (gsize i = 0; i < n; i++) {
    const gfloat b = (values[i] - lo) * scale + 0.5f;

    /* Through a signed int: SSE and AVX convert to those, not to
     * unsigned shorts. */
    bins[i] = (guint16) (gint32) CLAMP (b, 0.0f, (gfloat) (HIST_BINS - 1));
  }
}

/* The sampled cells of @values (h × w): every STAT_STEP-th of every
 * STAT_STEP-th row → bins of @hist, (h / STAT_STEP) rows of
 * (w / STAT_STEP), rounded up. */
static inline void
hist_bins_sampled (const CnnHistogram * hist, const gfloat * values, guint w,
    guint h, guint16 * bins)
{
  const gsize ws = SAMPLED (w);
  const gfloat lo = hist->lo, scale = hist->scale;

  for (guint y = 0; y < h; y += STAT_STEP, bins += ws) {
    const gfloat *row = values + (gsize) y * w;

    for (gsize x = 0; x < ws; x++) {
      const gfloat b = (row[x * STAT_STEP] - lo) * scale + 0.5f;

      bins[x] = (guint16) (gint32) CLAMP (b, 0.0f, (gfloat) (HIST_BINS - 1));
    }
  }
}

/* Counts @rows rows of @n bins, @stride apart.  On a flat picture most
 * bins are the same, and each increment would wait for the one before
 * through memory: a second lane of counts keeps two going at once. */
static inline void
hist_count (CnnHistogram * hist, const guint16 * bins, gsize n, guint rows,
    gsize stride)
{
  guint lane[HIST_BINS];

  memset (lane, 0, sizeof lane);
  for (guint r = 0; r < rows; r++, bins += stride) {
    gsize i = 0;

    for (; i + 2 <= n; i += 2) {
      hist->counts[bins[i]]++;
      lane[bins[i + 1]]++;
    }
    if (i < n)
      hist->counts[bins[i]]++;
  }
  for (guint b = 0; b < HIST_BINS; b++)
    hist->counts[b] += lane[b];
  hist->total += n * rows;
}

/* @hist += @part, both on the same range */
static inline void
hist_merge (CnnHistogram * hist, const CnnHistogram * part)
{
  for (guint i = 0; i < HIST_BINS; i++)
    hist->counts[i] += part->counts[i];
  hist->total += part->total;
}

/* For each of the @n ascending fractions @q, the value below which that
 * fraction of those added lie, to a bin: in one walk over the bins,
 * HIST_GROUP at a time while the rank lies beyond them. */
static inline void
hist_quantiles (const CnnHistogram * hist, const gdouble * q, guint n,
    gfloat * out)
{
  guint group_counts[HIST_GROUPS];
  guint64 seen = 0;
  guint i = 0;

  for (guint g = 0; g < HIST_GROUPS; g++) {
    const guint end = MIN ((g + 1) * HIST_GROUP, HIST_BINS);
    guint sum = 0;

    for (guint b = g * HIST_GROUP; b < end; b++)
      sum += hist->counts[b];
    group_counts[g] = sum;
  }
  for (guint k = 0; k < n; k++) {
    guint64 rank = (guint64) (q[k] * hist->total);

    if (hist->total == 0 || hist->scale == 0.0f) {
      out[k] = hist->lo;
      continue;
    }
    rank = MIN (rank, hist->total - 1);
    /* Whole groups, from a group's start only. */
    while (i % HIST_GROUP == 0 && i / HIST_GROUP + 1 < HIST_GROUPS
        && seen + group_counts[i / HIST_GROUP] <= rank) {
      seen += group_counts[i / HIST_GROUP];
      i += HIST_GROUP;
    }
    for (; i < HIST_BINS - 1 && seen + hist->counts[i] <= rank; i++)
      seen += hist->counts[i];
    out[k] = hist->lo + i / hist->scale;
  }
}

static inline gfloat
hist_quantile (const CnnHistogram * hist, gdouble q)
{
  gfloat v;

  hist_quantiles (hist, &q, 1, &v);
  return v;
}


#endif /* CNN_HISTOGRAM_H */
