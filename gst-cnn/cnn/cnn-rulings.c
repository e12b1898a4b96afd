/* Rulings of ruled and squared paper, found and erased on the digit
 * finder's work grid (docs/design.md, "The mnist mode").
 *
 * Why projections: a ruling is a straight line across the whole region,
 * a digit's stroke is short and curved, so summing the ink cells along
 * the lines' direction piles a ruling into one sharp peak that no stroke
 * reaches.  Morphology would need a structuring element per angle, and
 * the shape of components fails on squared paper, where the grid and
 * the digit are one component.  The direction is not known (the paper
 * is held at an angle, up to about ±25°): the slope whose profile has
 * the most energy (Σ peak²) is the lines', searched coarsely on strip
 * sums and then finely on the cells themselves.
 *
 * A ruling's cells are erased (set to background) unless a stroke goes
 * on beyond the line on either side: a stroke crossing or touching the
 * line keeps its cells there, so a digit written across the rulings
 * comes out whole.
 *
 * Coordinates: a family's lines run "along" (x for rows, y for
 * columns); "across" is the other axis.  A line of slope t crosses
 * across-position r + round (t · (a + 0.5 - L / 2)) at along-position a,
 * and r (offset by pad so that it is never negative) indexes the
 * profiles.
 */
#include "cnn-clones.h"
#include "cnn-rulings.h"

#include <math.h>
#include <string.h>

#define MAX_SLOPE 0.5           /* ±26.6° */
#define COARSE_STEP 0.05
#define FINE_STEP 0.01
#define FINE_SPAN 3             /* fine slopes each side of the coarse one */
#define FINE_STRIP 4            /* along-cells summed, for the fine search */
#define COARSE_STRIP 16         /* ... and for the coarse one */
/* A line crosses the whole region: its band holds ink at this fraction
 * of the along-positions where it lies in the grid, which themselves
 * are at least MIN_LENGTH of the grid's along side.  The tallest digit
 * is about half the region, a margin line all of it.  (The profile
 * alone cannot tell: a thick stroke piles up as much as a long line.) */
#define MIN_COVERAGE 0.7
#define MIN_LENGTH 0.3
/* The coarse profile blurs a line over a few offsets: one that holds
 * this little nowhere has no line, and the fine search is skipped. */
#define MIN_COARSE_COVERAGE 0.4
#define BAND_FRACTION 0.25      /* offsets in the band: ≥ this of its peak */
#define MAX_HALF_BAND 4         /* cells each side of the peak: thicker is
                                 * not a line (a table edge, a shadow) */
#define EDGE_CELLS 2            /* left out along the grid's edges */
#define MAX_LINES 128           /* per family: a line is ≥ 3 cells apart */
#define CROSS_GAP 2             /* cells beyond the band a stroke must reach */
#define CROSS_REACH 2           /* ... within this many along-cells */

typedef struct
{
  gboolean vertical;
  guint along, across;          /* L and C */
  guint pad, n_offsets;         /* profile: C + 2 pad offsets */
  gfloat *fine, *coarse;        /* strip sums: (L / strip) × C each */
} CnnAxes;

/* A line's band of offsets in its family's profile. */
typedef struct
{
  gint lo, hi;
} CnnLine;

struct _CnnRulings
{
  guint w, h;
  gfloat *block;                /* all of the memory below */
  guint8 *on_line[2];           /* per family, n_offsets: in a band */
  CnnLine lines[2][MAX_LINES];
  CnnAxes axes[2];              /* rows, columns */
  gfloat *profile, *best, *coverage;    /* n_offsets each, at most */
  CnnLineFamily families[2];
};

static guint
n_strips (guint along, guint strip)
{
  return (along + strip - 1) / strip;
}

static void
axes_init (CnnAxes * ax, guint w, guint h, gboolean vertical)
{
  ax->vertical = vertical;
  ax->along = vertical ? h : w;
  ax->across = vertical ? w : h;
  ax->pad = (guint) ceil (MAX_SLOPE * ax->along / 2.0) + 2;
  ax->n_offsets = ax->across + 2 * ax->pad;
}

static gsize
strip_floats (const CnnAxes * ax)
{
  return (gsize) (n_strips (ax->along, FINE_STRIP) + n_strips (ax->along,
          COARSE_STRIP)) * ax->across;
}

CnnRulings *
cnn_rulings_new (guint w, guint h)
{
  CnnRulings *r = g_try_new0 (CnnRulings, 1);
  gsize offsets, total;
  gfloat *next;

  if (!r)
    return NULL;
  r->w = w;
  r->h = h;
  axes_init (&r->axes[0], w, h, FALSE);
  axes_init (&r->axes[1], w, h, TRUE);
  offsets = MAX (r->axes[0].n_offsets, r->axes[1].n_offsets);
  /* The flags after the floats: 2 offsets' worth, in whole floats. */
  total = strip_floats (&r->axes[0]) + strip_floats (&r->axes[1])
      + 3 * offsets + (2 * offsets + sizeof (gfloat) - 1) / sizeof (gfloat);
  r->block = g_try_new (gfloat, total);
  if (!r->block) {
    g_free (r);
    return NULL;
  }
  next = r->block;
  for (guint k = 0; k < 2; k++) {
    CnnAxes *ax = &r->axes[k];

    ax->fine = next;
    ax->coarse = ax->fine + (gsize) n_strips (ax->along, FINE_STRIP)
        * ax->across;
    next += strip_floats (ax);
  }
  r->profile = next;
  r->best = r->profile + offsets;
  r->coverage = r->best + offsets;
  r->on_line[0] = (guint8 *) (r->coverage + offsets);
  r->on_line[1] = r->on_line[0] + offsets;
  return r;
}

void
cnn_rulings_free (CnnRulings * r)
{
  if (!r)
    return;
  g_free (r->block);
  g_free (r);
}

const CnnLineFamily *
cnn_rulings_family (const CnnRulings * r, gboolean vertical)
{
  return &r->families[vertical ? 1 : 0];
}

/* The across-shift of a line of @slope at along-position @a (a cell's
 * index, or a fraction between two). */
static inline gint
shift_at (const CnnAxes * ax, gdouble slope, gdouble a)
{
  return (gint) lround (slope * (a + 0.5 - 0.5 * ax->along));
}

/* ---- finding the direction ----------------------------------------- */

/* Both families' fine strip sums of the cells' ink weights: 1 from half
 * way between @zero and @thr up, so that faint rulings count whole and
 * the noise (below zero) not at all.  The grid's outer cells are left
 * out: a background fit is least sure there, and its error along an
 * edge would look like a line. */
static void
sum_fine_strips (CnnRulings * r, const gfloat * ink, gfloat zero, gfloat thr)
{
  CnnAxes *rows = &r->axes[0], *cols = &r->axes[1];
  const gfloat scale = 2.0f / MAX (thr - zero, 1e-6f);

  memset (rows->fine, 0, sizeof (gfloat) * n_strips (r->w, FINE_STRIP) * r->h);
  memset (cols->fine, 0, sizeof (gfloat) * n_strips (r->h, FINE_STRIP) * r->w);
  for (guint y = EDGE_CELLS; y + EDGE_CELLS < r->h; y++) {
    const gfloat *row = ink + (gsize) y * r->w;
    gfloat *col_sums = cols->fine + (gsize) (y / FINE_STRIP) * r->w;
    gfloat *weights = r->profile;       /* free until the search */

    for (guint x = 0; x < r->w; x++) {
      const gboolean inside = x >= EDGE_CELLS && x + EDGE_CELLS < r->w;

      weights[x] = !inside ? 0.0f : CLAMP ((row[x] - zero) * scale, 0.0f, 1.0f);
      col_sums[x] += weights[x];
    }
    /* Rows' strips lie across the rows: a pair of cells each. */
    for (guint x = 0; x < r->w; x++)
      rows->fine[(gsize) (x / FINE_STRIP) * r->h + y] += weights[x];
  }
}

/* The coarse strips: COARSE_STRIP / FINE_STRIP fine ones each. */
static void
sum_coarse_strips (CnnAxes * ax)
{
  const guint per = COARSE_STRIP / FINE_STRIP;
  const guint n_fine = n_strips (ax->along, FINE_STRIP);

  memset (ax->coarse, 0, sizeof (gfloat) * n_strips (ax->along,
          COARSE_STRIP) * ax->across);
  for (guint s = 0; s < n_fine; s++) {
    const gfloat *in = ax->fine + (gsize) s * ax->across;
    gfloat *out = ax->coarse + (gsize) (s / per) * ax->across;

    for (guint c = 0; c < ax->across; c++)
      out[c] += in[c];
  }
}

/* r->profile: strip sums of @strip along-cells projected at @slope; its
 * energy, Σ profile². */
static gdouble
project (CnnRulings * r, const CnnAxes * ax, const gfloat * sums, guint strip,
    gdouble slope)
{
  gdouble energy = 0.0;

  memset (r->profile, 0, sizeof (gfloat) * ax->n_offsets);
  for (guint s = 0; s < n_strips (ax->along, strip); s++) {
    const guint a0 = s * strip, a1 = MIN (a0 + strip, ax->along);
    const gint start = (gint) ax->pad - shift_at (ax, slope,
        0.5 * (a0 + a1) - 0.5);
    const gfloat *in = sums + (gsize) s * ax->across;
    gfloat *p = r->profile + start;

    for (guint c = 0; c < ax->across; c++)
      p[c] += in[c];
  }
  for (guint i = 0; i < ax->n_offsets; i++)
    energy += (gdouble) r->profile[i] * r->profile[i];
  return energy;
}

/* Whether the profile of r->profile (at most @along cells an offset)
 * has a pair of offsets holding MIN_COARSE_COVERAGE of that. */
static gboolean
may_hold_line (const CnnRulings * r, const CnnAxes * ax)
{
  const gfloat need = MIN_COARSE_COVERAGE * ax->along;

  for (guint o = 0; o + 1 < ax->n_offsets; o++)
    if (r->profile[o] + r->profile[o + 1] >= need)
      return TRUE;
  return FALSE;
}

/* The slope of most energy: coarse on wide strips, then fine on narrow
 * ones, whose profile ends in r->best.  FALSE when the coarse profile
 * shows no line. */
static gboolean
find_slope (CnnRulings * r, const CnnAxes * ax, gdouble * slope_out)
{
  const gint n_coarse = (gint) lround (MAX_SLOPE / COARSE_STEP);
  gdouble coarse = 0.0, best = 0.0, best_energy = -1.0;

  for (gint k = -n_coarse; k <= n_coarse; k++) {
    const gdouble e = project (r, ax, ax->coarse, COARSE_STRIP,
        k * COARSE_STEP);

    if (e > best_energy) {
      best_energy = e;
      coarse = k * COARSE_STEP;
    }
  }
  project (r, ax, ax->coarse, COARSE_STRIP, coarse);
  if (!may_hold_line (r, ax))
    return FALSE;
  best_energy = -1.0;
  for (gint k = -FINE_SPAN; k <= FINE_SPAN; k++) {
    const gdouble slope = CLAMP (coarse + k * FINE_STEP, -MAX_SLOPE,
        MAX_SLOPE);
    const gdouble e = project (r, ax, ax->fine, FINE_STRIP, slope);

    if (e > best_energy) {
      best_energy = e;
      best = slope;
      memcpy (r->best, r->profile, sizeof (gfloat) * ax->n_offsets);
    }
  }
  *slope_out = best;
  return TRUE;
}

/* r->coverage[o]: the along-cells at which a line of @slope at offset o
 * lies inside the grid (a difference array, then its running sum). */
static void
line_lengths (CnnRulings * r, const CnnAxes * ax, gdouble slope)
{
  gfloat run = 0.0f;

  memset (r->coverage, 0, sizeof (gfloat) * ax->n_offsets);
  for (guint a = 0; a < ax->along; a++) {
    const gint first = (gint) ax->pad - shift_at (ax, slope, a);

    r->coverage[first] += 1.0f;
    if (first + ax->across < ax->n_offsets)
      r->coverage[first + ax->across] -= 1.0f;
  }
  for (guint o = 0; o < ax->n_offsets; o++) {
    run += r->coverage[o];
    r->coverage[o] = run;
  }
}

/* ---- erasing ------------------------------------------------------- */

static inline gfloat *
cell (gfloat * ink, const CnnRulings * r, const CnnAxes * ax, gint a, gint c)
{
  return ax->vertical ? ink + (gsize) a * r->w + c : ink + (gsize) c * r->w
      + a;
}

/* Whether the line at offset @o holds ink (above @level) within a cell
 * of it at MIN_COVERAGE of the along-positions where it is inside. */
static gboolean
line_is_whole (const CnnRulings * r, const CnnAxes * ax, gfloat * ink,
    gdouble slope, guint o, gfloat level)
{
  guint inside = 0, inked = 0;

  for (gint a = 0; a < (gint) ax->along; a++) {
    const gint c = (gint) o - (gint) ax->pad + shift_at (ax, slope, a);
    gboolean hit = FALSE;

    if (c < 0 || c >= (gint) ax->across)
      continue;
    inside++;
    for (gint k = MAX (c - 1, 0); k <= MIN (c + 1, (gint) ax->across - 1);
        k++)
      hit |= *cell (ink, r, ax, a, k) > level;
    inked += hit;
  }
  return inked >= MIN_COVERAGE * inside;
}

/* Whether work cell (x, y) lies in a found line's band, of either
 * family. */
static inline gboolean
on_a_line (const CnnRulings * r, gint x, gint y)
{
  for (guint k = 0; k < 2; k++) {
    const CnnAxes *ax = &r->axes[k];
    const gint a = k ? y : x, c = k ? x : y;

    if (r->families[k].n_lines > 0 && r->on_line[k][(gint) ax->pad + c
            - shift_at (ax, r->families[k].slope, a)])
      return TRUE;
  }
  return FALSE;
}

/* Whether a stroke (ink on no line) reaches across-position @c near
 * along-position @a. */
static gboolean
stroke_at (gfloat * ink, const CnnRulings * r, const CnnAxes * ax, gint a,
    gint c, gfloat thr)
{
  if (c < 0 || c >= (gint) ax->across)
    return FALSE;
  for (gint k = MAX (a - CROSS_REACH, 0);
      k <= MIN (a + CROSS_REACH, (gint) ax->along - 1); k++)
    if (*cell (ink, r, ax, k, c) > thr
        && !on_a_line (r, ax->vertical ? c : k, ax->vertical ? k : c))
      return TRUE;
  return FALSE;
}

/* Sets the line's band (and a cell of halo) to at most 0,
 * along-position by along-position, where no stroke crosses. */
static void
erase_line (CnnRulings * r, const CnnAxes * ax, gfloat * ink, gdouble slope,
    const CnnLine * line, gfloat thr)
{
  for (gint a = 0; a < (gint) ax->along; a++) {
    const gint shift = shift_at (ax, slope, a) - (gint) ax->pad;
    const gint c0 = line->lo + shift - 1, c1 = line->hi + shift + 1;

    if (stroke_at (ink, r, ax, a, c0 - CROSS_GAP, thr)
        || stroke_at (ink, r, ax, a, c1 + CROSS_GAP, thr))
      continue;
    for (gint c = MAX (c0, 0); c <= MIN (c1, (gint) ax->across - 1); c++) {
      gfloat *v = cell (ink, r, ax, a, c);

      *v = MIN (*v, 0.0f);
    }
  }
}

/* The band of the line peaking at offset @o of r->best: the offsets
 * beside it holding BAND_FRACTION of its count.  FALSE when that is
 * wider than a line. */
static gboolean
line_band (const CnnRulings * r, const CnnAxes * ax, guint o, gint * lo,
    gint * hi)
{
  const gfloat floor_count = BAND_FRACTION * r->best[o];
  gint a = (gint) o, b = (gint) o;

  while (a > 0 && r->best[a - 1] >= floor_count && (gint) o - a <
      MAX_HALF_BAND + 1)
    a--;
  while (b + 1 < (gint) ax->n_offsets && r->best[b + 1] >= floor_count
      && b - (gint) o < MAX_HALF_BAND + 1)
    b++;
  *lo = a;
  *hi = b;
  return (gint) o - a <= MAX_HALF_BAND && b - (gint) o <= MAX_HALF_BAND;
}

/* Whether offset @o of r->best is a line's peak: the highest within two
 * offsets, and with its higher neighbour it holds ink along most of
 * its length. */
static gboolean
is_line_peak (const CnnRulings * r, const CnnAxes * ax, guint o)
{
  const gfloat p = r->best[o];
  gfloat band;

  if (o < 2 || o + 2 >= ax->n_offsets || p <= 0.0f)
    return FALSE;
  for (guint k = o - 2; k <= o + 2; k++)
    if (r->best[k] > p || (k < o && r->best[k] == p))
      return FALSE;
  band = p + MAX (r->best[o - 1], r->best[o + 1]);
  return r->coverage[o] >= MIN_LENGTH * ax->along
      && band >= MIN_COVERAGE * r->coverage[o];
}

/* Finds one family's lines: their bands in r->lines, and the offsets
 * they cover, a cell of halo each side, in r->on_line. */
static void
find_family (CnnRulings * r, gboolean vertical, gfloat * ink, gfloat zero,
    gfloat thr)
{
  CnnAxes *ax = &r->axes[vertical ? 1 : 0];
  CnnLineFamily *family = &r->families[vertical ? 1 : 0];
  guint8 *on_line = r->on_line[vertical ? 1 : 0];
  gdouble slope;

  family->slope = 0.0;
  family->n_lines = 0;
  memset (on_line, 0, ax->n_offsets);
  sum_coarse_strips (ax);
  if (!find_slope (r, ax, &slope))
    return;
  family->slope = slope;
  line_lengths (r, ax, slope);
  for (guint o = 0; o < ax->n_offsets && family->n_lines < MAX_LINES; o++) {
    CnnLine *line = &r->lines[vertical ? 1 : 0][family->n_lines];
    gint lo, hi;

    if (!is_line_peak (r, ax, o) || !line_band (r, ax, o, &lo, &hi)
        || !line_is_whole (r, ax, ink, slope, o, 0.5f * (zero + thr)))
      continue;
    line->lo = lo;
    line->hi = hi;
    for (gint k = MAX (lo - 1, 0); k <= MIN (hi + 1, (gint) ax->n_offsets
            - 1); k++)
      on_line[k] = 1;
    family->n_lines++;
  }
}

CNN_VECTOR_CLONES guint
cnn_rulings_erase (CnnRulings * r, gfloat * ink, gfloat zero, gfloat thr)
{
  guint n;

  g_return_val_if_fail (r != NULL && ink != NULL, 0);

  /* Both families are found on the ink as it came, then erased: a
   * line crossing a line is no stroke. */
  sum_fine_strips (r, ink, zero, thr);
  find_family (r, FALSE, ink, zero, thr);
  find_family (r, TRUE, ink, zero, thr);
  for (guint k = 0; k < 2; k++)
    for (guint i = 0; i < r->families[k].n_lines; i++)
      erase_line (r, &r->axes[k], ink, r->families[k].slope, &r->lines[k][i],
          thr);
  n = r->families[0].n_lines + r->families[1].n_lines;
  return n;
}
