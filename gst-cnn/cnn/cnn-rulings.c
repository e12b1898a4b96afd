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
 * sums and then finely on the cells themselves.  A sheet seen in
 * perspective has lines that converge, their slopes spread wider than a
 * family's search holds: passes over what the last ones left find the
 * rest, each at its own slope.
 *
 * A ruling's cells are erased (its own ink taken off) unless a stroke
 * goes on beyond the line on either side: a stroke crossing or touching
 * the line keeps its cells there, so a digit written across the rulings
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
#include "cnn-select.h"

#include <math.h>
#include <string.h>

#define MAX_SLOPE 0.5           /* ±26.6° */
#define COARSE_STEP 0.05
#define FINE_STEP 0.01
#define FINE_SPAN 3             /* fine slopes each side of the coarse one */
#define FINE_STRIP 4            /* along-cells summed, for the fine search
                                 * (sum_fine_strips() adds four) */
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
#define WEIGHT_RAMP 0.3         /* of the way from zero to thr: full weight */
#define EDGE_CELLS 2            /* left out along the grid's edges */
#define MAX_LINES 128           /* per family: a line is ≥ 3 cells apart */
#define N_SEGMENTS 4            /* along which each line is traced */
#define MIN_SEGMENTS 3          /* ... and found in at least this many */
#define DRIFT 3.0               /* cells a line may move per segment */
#define STROKE_GAIN 1.6         /* a stroke along a line inks it this much
                                 * more than the line alone (or by thr) */
#define CROSS_GAP 2             /* cells beyond the band a stroke must reach */
#define CROSS_REACH 2           /* ... within this many along-cells */
/* Passes, each finding a family per direction on what the last ones
 * left: a sheet seen in perspective has lines that converge, too far
 * from one slope for one family to hold them all (a pass takes about
 * ±0.04 of slope; a sheet tilted towards the camera spans ±0.18). */
#define MAX_PASSES 6

typedef struct
{
  gboolean vertical;
  guint along, across;          /* L and C */
  guint pad, n_offsets;         /* profile: C + 2 pad offsets */
  gfloat *fine, *coarse;        /* strip sums: (L / strip) × C each */
} CnnAxes;

/* A line's peak in one segment: its offset at the family's slope, where
 * it crosses the segment's middle (in cells), its band's half width. */
typedef struct
{
  gdouble offset;               /* in the family's profile */
  gdouble along, across;
  guint half;
} CnnPeak;

/* Peaks of successive segments that one line links. */
typedef struct
{
  CnnPeak peaks[N_SEGMENTS];
  guint n, last_segment;
} CnnChain;

/* A traced line: across = across + slope · (a + 0.5 - L / 2) at
 * along-position a, its band half + 1 cells each way. */
typedef struct
{
  gdouble across, slope;
  guint half;
} CnnLine;

struct _CnnRulings
{
  guint w, h;
  gfloat *block;                /* all of the memory below */
  guint8 *mask;                 /* w × h: cells in a line's band */
  CnnLine lines[2][MAX_LINES];
  CnnChain chains[MAX_LINES];
  CnnAxes axes[2];              /* rows, columns */
  gfloat *profile, *coverage;   /* n_offsets each, at most */
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
  /* The profiles also hold one value per along-cell (line_level), and
   * a row's weights with its last strip's missing cells
   * (sum_fine_strips). */
  offsets = MAX (MAX (r->axes[0].n_offsets, r->axes[1].n_offsets),
      MAX (w, h) + FINE_STRIP);
  /* The mask after the floats, in whole floats. */
  total = strip_floats (&r->axes[0]) + strip_floats (&r->axes[1])
      + 2 * offsets + ((gsize) w * h + sizeof (gfloat) - 1) / sizeof (gfloat);
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
  r->coverage = r->profile + offsets;
  r->mask = (guint8 *) (r->coverage + offsets);
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

/* Both families' fine strip sums of the cells' ink weights: 1 from
 * WEIGHT_RAMP of the way from @zero to @thr up, so that faint rulings
 * count whole and the noise (below zero) not at all.  The grid's outer cells are left
 * out: a background fit is least sure there, and its error along an
 * edge would look like a line. */
static void
sum_fine_strips (CnnRulings * r, const gfloat * ink, gfloat zero, gfloat thr)
{
  CnnAxes *rows = &r->axes[0], *cols = &r->axes[1];
  const gfloat scale = 1.0f / MAX (WEIGHT_RAMP * (thr - zero), 1e-6f);

  memset (rows->fine, 0, sizeof (gfloat) * n_strips (r->w, FINE_STRIP) * r->h);
  memset (cols->fine, 0, sizeof (gfloat) * n_strips (r->h, FINE_STRIP) * r->w);
  for (guint y = EDGE_CELLS; y + EDGE_CELLS < r->h; y++) {
    const gfloat *row = ink + (gsize) y * r->w;
    gfloat *col_sums = cols->fine + (gsize) (y / FINE_STRIP) * r->w;
    gfloat *weights = r->profile;       /* free until the search */
    const guint n = n_strips (r->w, FINE_STRIP);

    /* A loop without branches, which vectorises; the edges after. */
    for (guint x = 0; x < r->w; x++)
      weights[x] = CLAMP ((row[x] - zero) * scale, 0.0f, 1.0f);
    for (guint x = 0; x < EDGE_CELLS; x++)
      weights[x] = weights[r->w - 1 - x] = 0.0f;
    for (guint x = 0; x < r->w; x++)
      col_sums[x] += weights[x];
    /* Rows' strips lie across the rows: FINE_STRIP cells each, summed
     * first so that one store a strip goes across.  The last strip's
     * missing cells weigh 0 (the profile buffer is longer than a row),
     * so every strip is summed alike, in the cells' order, without a
     * loop of its own. */
    for (guint x = r->w; x < n * FINE_STRIP; x++)
      weights[x] = 0.0f;
    for (guint s = 0; s < n; s++) {
      const gfloat *cell = weights + s * FINE_STRIP;

      rows->fine[(gsize) s * r->h + y] = ((cell[0] + cell[1]) + cell[2])
          + cell[3];
    }
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
  /* Eight float lanes, not one chain of double additions: floats rank
   * the slopes as well, and a chain would wait on each addition. */
  gfloat lanes[8] = { 0 };
  gsize i = 0;

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
  for (; i + 8 <= ax->n_offsets; i += 8)
    for (guint k = 0; k < 8; k++)
      lanes[k] += r->profile[i + k] * r->profile[i + k];
  for (; i < ax->n_offsets; i++)
    lanes[0] += r->profile[i] * r->profile[i];
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
      + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
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

/* The family's slope, of most energy: coarse on wide strips, then fine
 * on narrow ones.  FALSE when the coarse profile
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
    }
  }
  *slope_out = best;
  return TRUE;
}

/* r->coverage[o]: the along-cells in [a0, a1) at which a line of @slope
 * at offset o lies inside the grid (a difference array, then its
 * running sum). */
static void
line_lengths (CnnRulings * r, const CnnAxes * ax, gdouble slope, guint a0,
    guint a1)
{
  gfloat run = 0.0f;

  memset (r->coverage, 0, sizeof (gfloat) * ax->n_offsets);
  for (guint a = a0; a < a1; a++) {
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

/* ---- tracing the lines --------------------------------------------- */

/* The along-cells of segment @k: a line is traced segment by segment,
 * so that lines that converge (a sheet seen in perspective) or bend a
 * little (a lens) are each followed. */
static void
segment_bounds (const CnnAxes * ax, guint k, guint * a0, guint * a1)
{
  const guint strips = n_strips (ax->along, FINE_STRIP);

  *a0 = MIN (k * strips / N_SEGMENTS * FINE_STRIP, ax->along);
  *a1 = MIN ((k + 1) * strips / N_SEGMENTS * FINE_STRIP, ax->along);
}

/* r->profile: segment @k's fine strips projected at @slope. */
static void
project_segment (CnnRulings * r, const CnnAxes * ax, guint k, gdouble slope)
{
  const guint strips = n_strips (ax->along, FINE_STRIP);

  memset (r->profile, 0, sizeof (gfloat) * ax->n_offsets);
  for (guint s = k * strips / N_SEGMENTS; s < (k + 1) * strips / N_SEGMENTS;
      s++) {
    const guint a0 = s * FINE_STRIP, a1 = MIN (a0 + FINE_STRIP, ax->along);
    const gint start = (gint) ax->pad - shift_at (ax, slope,
        0.5 * (a0 + a1) - 0.5);
    const gfloat *in = ax->fine + (gsize) s * ax->across;
    gfloat *out = r->profile + start;

    for (guint c = 0; c < ax->across; c++)
      out[c] += in[c];
  }
}

/* The band of the peak at offset @o of r->profile: the offsets beside
 * it holding BAND_FRACTION of its count.  FALSE when that is wider than
 * a line. */
static gboolean
peak_band (const CnnRulings * r, const CnnAxes * ax, guint o, gint * lo,
    gint * hi)
{
  const gfloat floor_count = BAND_FRACTION * r->profile[o];
  gint a = (gint) o, b = (gint) o;

  while (a > 0 && r->profile[a - 1] >= floor_count && (gint) o - a <
      MAX_HALF_BAND + 1)
    a--;
  while (b + 1 < (gint) ax->n_offsets && r->profile[b + 1] >= floor_count
      && b - (gint) o < MAX_HALF_BAND + 1)
    b++;
  *lo = a;
  *hi = b;
  return (gint) o - a <= MAX_HALF_BAND && b - (gint) o <= MAX_HALF_BAND;
}

/* Whether offset @o of r->profile is a line's peak: the highest within
 * two offsets, and with its higher neighbour it holds ink along most of
 * the segment's length there. */
static gboolean
is_peak (const CnnRulings * r, const CnnAxes * ax, guint o, guint length)
{
  const gfloat p = r->profile[o];

  if (o < 2 || o + 2 >= ax->n_offsets || p <= 0.0f)
    return FALSE;
  for (guint k = o - 2; k <= o + 2; k++)
    if (r->profile[k] > p || (k < o && r->profile[k] == p))
      return FALSE;
  return r->coverage[o] >= MIN_LENGTH * length
      && p + MAX (r->profile[o - 1], r->profile[o + 1])
      >= MIN_COVERAGE * r->coverage[o];
}

/* Segment @k's peaks → @peaks (at most MAX_LINES); how many. */
static guint
segment_peaks (CnnRulings * r, const CnnAxes * ax, guint k, gdouble slope,
    CnnPeak * peaks)
{
  guint a0, a1, n = 0;

  segment_bounds (ax, k, &a0, &a1);
  project_segment (r, ax, k, slope);
  line_lengths (r, ax, slope, a0, a1);
  for (guint o = 0; o < ax->n_offsets && n < MAX_LINES; o++) {
    gdouble sum = 0.0, moment = 0.0;
    gint lo, hi;

    if (!is_peak (r, ax, o, a1 - a0) || !peak_band (r, ax, o, &lo, &hi))
      continue;
    for (gint i = lo; i <= hi; i++) {
      sum += r->profile[i];
      moment += r->profile[i] * (gdouble) i;
    }
    /* Where the line crosses the segment's middle, across. */
    peaks[n].offset = moment / sum;
    peaks[n].along = 0.5 * (a0 + a1) - 0.5;
    peaks[n].across = peaks[n].offset - ax->pad + slope * (peaks[n].along + 0.5
        - 0.5 * ax->along);
    peaks[n].half = MAX (o - lo, hi - o);
    n++;
  }
  return n;
}

/* Adds @peak to the chain whose last peak, one or two segments back,
 * lies within DRIFT offsets of it a segment, or starts a chain. */
static void
link_peak (CnnChain * chains, guint * n_chains, const CnnPeak * peak,
    guint k)
{
  for (guint i = 0; i < *n_chains; i++) {
    CnnChain *c = &chains[i];
    const CnnPeak *last = &c->peaks[c->n - 1];

    if (c->last_segment < k && c->last_segment + 2 >= k
        && fabs (last->offset - peak->offset) <= DRIFT * (k
            - c->last_segment)) {
      c->peaks[c->n++] = *peak;
      c->last_segment = k;
      return;
    }
  }
  if (*n_chains < MAX_LINES) {
    chains[*n_chains].peaks[0] = *peak;
    chains[*n_chains].n = 1;
    chains[*n_chains].last_segment = k;
    (*n_chains)++;
  }
}

/* The least-squares line through a chain's peaks. */
static void
fit_chain (const CnnAxes * ax, const CnnChain * c, CnnLine * line)
{
  gdouble sa = 0, sc = 0, saa = 0, sac = 0;
  guint half = 0;

  for (guint i = 0; i < c->n; i++) {
    const gdouble a = c->peaks[i].along + 0.5 - 0.5 * ax->along;

    sa += a;
    sc += c->peaks[i].across;
    saa += a * a;
    sac += a * c->peaks[i].across;
    half = MAX (half, c->peaks[i].half);
  }
  line->slope = (c->n * sac - sa * sc) / (c->n * saa - sa * sa);
  line->across = (sc - line->slope * sa) / c->n;
  line->half = half;
}

/* The across-cell of @line at along-position @a. */
static inline gint
line_at (const CnnAxes * ax, const CnnLine * line, gint a)
{
  return (gint) lround (line->across + line->slope * (a + 0.5 - 0.5
          * ax->along));
}

/* ---- erasing ------------------------------------------------------- */

static inline gsize
cell_index (const CnnRulings * r, const CnnAxes * ax, gint a, gint c)
{
  return ax->vertical ? (gsize) a * r->w + c : (gsize) c * r->w + a;
}

/* Whether @line holds ink (above @level) within a cell of it at
 * MIN_COVERAGE of the along-positions where it is inside: a whole line,
 * not a digit's stroke that a chain of peaks happened to follow. */
static gboolean
line_is_whole (const CnnRulings * r, const CnnAxes * ax, const gfloat * ink,
    const CnnLine * line, gfloat level)
{
  guint inside = 0, inked = 0;

  for (gint a = 0; a < (gint) ax->along; a++) {
    const gint c = line_at (ax, line, a);
    gboolean hit = FALSE;

    if (c < 0 || c >= (gint) ax->across)
      continue;
    inside++;
    for (gint k = MAX (c - 1, 0); k <= MIN (c + 1, (gint) ax->across - 1);
        k++)
      hit |= ink[cell_index (r, ax, a, k)] > level;
    inked += hit;
  }
  return inside >= MIN_LENGTH * ax->along && inked >= MIN_COVERAGE * inside;
}

/* The cells of @line's band (and a cell of halo) at along-position @a:
 * [*c0, *c1], unclipped. */
static inline void
band_at (const CnnAxes * ax, const CnnLine * line, gint a, gint * c0,
    gint * c1)
{
  const gint c = line_at (ax, line, a);

  *c0 = c - (gint) line->half - 1;
  *c1 = c + (gint) line->half + 1;
}

/* Marks @line's band in r->mask. */
static void
mark_line (CnnRulings * r, const CnnAxes * ax, const CnnLine * line)
{
  for (gint a = 0; a < (gint) ax->along; a++) {
    gint c0, c1;

    band_at (ax, line, a, &c0, &c1);
    for (gint c = MAX (c0, 0); c <= MIN (c1, (gint) ax->across - 1); c++)
      r->mask[cell_index (r, ax, a, c)] = 1;
  }
}

/* Whether a stroke (ink on no line) reaches across-position @c near
 * along-position @a. */
static gboolean
stroke_at (const CnnRulings * r, const CnnAxes * ax, const gfloat * ink,
    gint a, gint c, gfloat thr)
{
  if (c < 0 || c >= (gint) ax->across)
    return FALSE;
  for (gint k = MAX (a - CROSS_REACH, 0);
      k <= MIN (a + CROSS_REACH, (gint) ax->along - 1); k++) {
    const gsize i = cell_index (r, ax, k, c);

    if (ink[i] > thr && !r->mask[i])
      return TRUE;
  }
  return FALSE;
}

/* The most ink in @line's band at along-position @a. */
static gfloat
band_peak (const CnnRulings * r, const CnnAxes * ax, const gfloat * ink,
    const CnnLine * line, gint a)
{
  gfloat peak = 0.0f;
  gint c0, c1;

  band_at (ax, line, a, &c0, &c1);
  for (gint c = MAX (c0, 0); c <= MIN (c1, (gint) ax->across - 1); c++)
    peak = MAX (peak, ink[cell_index (r, ax, a, c)]);
  return peak;
}

/* The line's own ink: the median of its band's peaks along it (the
 * rest of the profile buffer holds them). */
static gfloat
line_level (CnnRulings * r, const CnnAxes * ax, const gfloat * ink,
    const CnnLine * line)
{
  gfloat *peaks = r->profile;

  for (guint a = 0; a < ax->along; a++)
    peaks[a] = band_peak (r, ax, ink, line, (gint) a);
  return cnn_select_kth (peaks, ax->along, ax->along / 2);
}

/* Takes the line's own ink off @line's band, along-position by
 * along-position, where no stroke crosses it or runs along it: a stroke
 * crossing reaches beyond the band, one written along the line (a
 * digit's base on the ruling) inks it more than the line does.  Taken
 * off, not set to the background: a faint stroke whose crossing the
 * threshold broke (a light ballpoint) stands above the line by its own
 * ink, and is not cut at every ruling. */
static void
erase_line (CnnRulings * r, const CnnAxes * ax, gfloat * ink,
    const CnnLine * line, gfloat thr)
{
  const gfloat level = line_level (r, ax, ink, line);
  const gfloat stroke = MAX (STROKE_GAIN * level, level + thr);

  for (gint a = 0; a < (gint) ax->along; a++) {
    gint c0, c1;

    band_at (ax, line, a, &c0, &c1);
    if (stroke_at (r, ax, ink, a, c0 - CROSS_GAP, thr)
        || stroke_at (r, ax, ink, a, c1 + CROSS_GAP, thr)
        || band_peak (r, ax, ink, line, a) > stroke)
      continue;
    for (gint c = MAX (c0, 0); c <= MIN (c1, (gint) ax->across - 1); c++) {
      gfloat *v = ink + cell_index (r, ax, a, c);

      *v -= level;
    }
  }
}

/* ---- the families -------------------------------------------------- */

/* Finds one family's lines, in r->lines, and marks them in r->mask. */
static void
find_family (CnnRulings * r, gboolean vertical, const gfloat * ink,
    gfloat level)
{
  CnnAxes *ax = &r->axes[vertical ? 1 : 0];
  CnnLineFamily *family = &r->families[vertical ? 1 : 0];
  CnnLine *lines = r->lines[vertical ? 1 : 0];
  CnnPeak peaks[MAX_LINES];
  guint n_chains = 0;
  gdouble slope;

  family->slope = 0.0;
  family->n_lines = 0;
  sum_coarse_strips (ax);
  if (!find_slope (r, ax, &slope))
    return;
  family->slope = slope;
  for (guint k = 0; k < N_SEGMENTS; k++) {
    const guint n = segment_peaks (r, ax, k, slope, peaks);

    for (guint i = 0; i < n; i++)
      link_peak (r->chains, &n_chains, &peaks[i], k);
  }
  for (guint i = 0; i < n_chains; i++) {
    CnnLine *line = &lines[family->n_lines];

    if (r->chains[i].n < MIN_SEGMENTS)
      continue;
    fit_chain (ax, &r->chains[i], line);
    if (!line_is_whole (r, ax, ink, line, level))
      continue;
    mark_line (r, ax, line);
    family->n_lines++;
  }
}

/* One pass: a family of lines each way, erased; how many lines. */
static guint
erase_families (CnnRulings * r, gfloat * ink, gfloat zero, gfloat thr)
{
  const gfloat level = zero + WEIGHT_RAMP * (thr - zero);

  /* Both families are found on the ink as it came, then erased: a
   * line crossing a line is no stroke. */
  memset (r->mask, 0, (gsize) r->w * r->h);
  sum_fine_strips (r, ink, zero, thr);
  find_family (r, FALSE, ink, level);
  find_family (r, TRUE, ink, level);
  for (guint k = 0; k < 2; k++)
    for (guint i = 0; i < r->families[k].n_lines; i++)
      erase_line (r, &r->axes[k], ink, &r->lines[k][i], thr);
  return r->families[0].n_lines + r->families[1].n_lines;
}

/* Passes until one finds no line; the first pass's families, the
 * lines' main directions, are the ones kept to report. */
CNN_VECTOR_CLONES guint
cnn_rulings_erase (CnnRulings * r, gfloat * ink, gfloat zero, gfloat thr)
{
  CnnLineFamily first[2];
  guint total = 0;

  g_return_val_if_fail (r != NULL && ink != NULL, 0);

  for (guint pass = 0; pass < MAX_PASSES; pass++) {
    const guint n = erase_families (r, ink, zero, thr);

    if (pass == 0)
      memcpy (first, r->families, sizeof first);
    total += n;
    if (n == 0)
      break;
  }
  memcpy (r->families, first, sizeof first);
  return total;
}
