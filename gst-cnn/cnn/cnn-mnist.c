/* "mnist" preprocessing after scaling: find the digit in a grey picture
 * of the region and frame it as the MNIST digits were (size-normalised
 * into a 20×20 box keeping the aspect ratio, then placed in 28×28 with
 * the centre of mass of its pixels in the middle).
 *
 * A webcam picture of a digit on paper is not a clean picture of ink:
 * the ink is usually dark on light, the light falls unevenly, the sensor
 * adds noise, and the region holds other things (a table edge, a shadow,
 * the paper's border).  On a work grid of 8 cells per model pixel (at
 * most 256 a side; 224×224 for 28×28, which small digits in a large
 * region need):
 *
 *   1. block quartiles: the grid is cut into 8×8 blocks whose quartiles
 *      describe the local background and, by their spread, the noise;
 *   2. polarity, from two witnesses, the surer of which decides: ink is
 *      what stands out of the local median (of 3×3 blocks), on the side
 *      (darker or lighter) with more of it, which fails when the digit is
 *      larger than the neighbourhood; and the background is what the
 *      region's border shows, near the dark or the light end of all
 *      values, which fails when the light varies more than the ink does.
 *      A light background is inverted so that ink is bright on dark;
 *   3. flattening: a quadratic in the position, fitted to the blocks'
 *      quartiles away from the ink leaving out blocks that stand above
 *      it (ink, clutter), is subtracted: lighting gradients, a lamp's
 *      falloff and vignetting go;
 *   4. components: cells above the background by a noise- and
 *      contrast-based threshold, 8-connected (runs along rows joined by
 *      union-find, one pass); the main one is the large
 *      one near the centre.  Things lying along the region's border (a
 *      shadow, a strip, a table edge) never are, a digit the border cuts
 *      only when nothing inside competes.  Nearby parts that are ink too
 *      (a broken stroke) join it, other things do not;
 *   4b. rulings (cnn-rulings.c): the lines of ruled and squared paper
 *      are found by projection and erased where no stroke crosses them,
 *      then the components are labelled again; and a straight, flat
 *      stroke (a piece of a ruling, a pen's line along the page) is never
 *      the digit, since no digit is one.  What is left may hold nothing:
 *      that, not the network, says "no digit";
 *   5. levels: background → 0 and the main component's 97th percentile
 *      → 1, clamped; percentiles shrug off noise and specks, min/max
 *      would not;
 *   6. framing: the digit's box (its components' cells at ≥ 0.3) is
 *      scaled to fit 20/28 of the input, shifted by whole output pixels
 *      to bring the centre of mass to the middle, and area-averaged into
 *      the output; other components inside the box are left out;
 *   7. strokes (cnn-strokes.c): a hairline or a marker's stroke width,
 *      measured as twice the digit's area over its perimeter, is brought
 *      into MNIST's range.
 *
 * The work grid is fixed while regions vary, so its cells need not be
 * square: distances and the digit's aspect are measured in frame units
 * through the cell aspect.
 */
#include "cnn-clones.h"
#include "cnn-mnist.h"
#include "cnn-rulings.h"
#include "cnn-shadows.h"
#include "cnn-strokes.h"

#include <math.h>
#include <string.h>

#define WORK_SCALE 8            /* work cells per model pixel, each way */
#define MAX_WORK_SIDE 256
#define GRID 8                  /* blocks per side of the work grid */
#define N_TERMS 6               /* background: 1, u, v, u², uv, v² */
#define FIT_ROUNDS 6
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

/* Step 2 and 4: what counts as ink. */
#define BORDER_QUANTILE 0.75    /* of the border: its paper, though shaded in part */
#define NOISE_SIGMAS_ZERO 2.0   /* background → 0 this far above its median */
#define NOISE_SIGMAS_DETECT 3.0 /* cells this far above zero are ink ... */
#define MIN_CONTRAST 0.08       /* ... and at least this far */
#define SHADOW_SIGMAS 4.0       /* paper this far above the fit: shaded */
#define SHADOW_MIN_DEPTH 0.05   /* ... and at least this far */
#define MIN_INK_CONTRAST 0.10   /* the digit's ink level above zero */
#define MIN_AREA_FRACTION 0.0005        /* of the work grid, for the main one */
#define MIN_EXTENT_FRACTION 0.05        /* of the region's shorter side */
#define CENTRE_RADIUS 0.5       /* score halves at this distance (of half
                                 * the region's shorter side) */
#define MAX_BORDER_CONTACT 0.5  /* of its shorter side, for a component on
                                 * the border to be a digit cut by it */
#define MAX_SIDE_TO_SIDE 0.5    /* of the region: a long way */
#define STRAIGHT_ELONGATION 4.0 /* long over wide: straight */
#define BORDER_PENALTY 0.02     /* on the score of a digit cut by the border */
/* Step 4b: rulings, and strokes that are not a digit's. */
#define FLAT_ELONGATION 6.0     /* long over wide, of a flat stroke */
#define FLAT_ANGLE 20.0         /* degrees from level */
#define RULING_ANGLE 12.0       /* degrees from the rulings */
#define MAX_BLOB_WIDTH 0.42     /* stroke width over size, of strokes */
/* Parts joining the main component. */
#define PART_GAP 0.2            /* of the main one's longer side */
#define PART_MIN_FRACTION 0.03  /* of the main one's area */
#define PART_MIN_PEAK 0.5       /* of the ink level */
#define MAX_GROWTH 2.0          /* the digit's side, over the main one's */

/* Step 5 and 6. */
#define INK_PERCENTILE 0.97
#define BOX_LEVEL 0.3           /* MNIST's 20-pixel side holds for 0..0.3 */
#define BOX_FRACTION (20.0 / 28.0)
#define HALO_PIXELS 1.5         /* output pixels kept around the box */

enum
{ SIDE_TOP = 1, SIDE_BOTTOM = 2, SIDE_LEFT = 4, SIDE_RIGHT = 8 };

typedef struct
{
  guint counts[HIST_BINS];
  guint total;
  gfloat lo, scale;             /* bin = (v - lo) · scale, rounded */
} CnnHistogram;

typedef struct
{
  guint area;
  guint x0, y0, x1, y1;         /* bounding box, inclusive */
  gdouble sum_x, sum_y;         /* of cell centres */
  gdouble sum_xx, sum_xy, sum_yy;       /* ... and their products */
  guint n_runs, shared;         /* runs; cells shared with the row above */
  gfloat peak;
  guint border;                 /* cells on the region's edge */
  guint sides;                  /* SIDE_* it touches */
  gboolean selected;            /* part of the digit */
} CnnComponent;

/* The work cells one output pixel covers along one axis, and where
 * their weights start. */
typedef struct
{
  guint first, n, offset;
} CnnRenderTap;

/* Where the output sits on the work grid. */
typedef struct
{
  gdouble x0, y0;               /* work position of output corner (0, 0) */
  gdouble sx, sy;               /* output pixels per work cell */
  guint cx0, cy0, cx1, cy1;     /* cells read: the box and its halo, [0, 1) */
} CnnPlacement;

struct _CnnMnist
{
  guint out_w, out_h;
  guint w, h;                   /* work grid */
  gfloat *grey;                 /* h × w: the region, 0..1 */
  gfloat *ink;                  /* h × w: ink above background; 0..1 in
                                 * the digit's window once placed */
  guint32 *stack;               /* h × w: part candidates */
  CnnRun *runs;                 /* at most (w + 1) / 2 a row */
  guint n_runs;                 /* of this frame's ink */
  guint16 *bins;                /* h × w at most: histogram bins */
  guint8 *flags;                /* FLAGS_SIZE (w): one row's ink cells */
  CnnComponent *comps;          /* [1 .. max_comps] */
  CnnRulings *rulings;
  CnnShadows *shadows;
  /* Rendering: per output column and row, its cells and weights
   * (w + out_w and h + out_h at most), and the rows reduced to out_w
   * columns (h × out_w). */
  CnnRenderTap *x_taps, *y_taps;
  gfloat *x_weights, *y_weights;
  gfloat *columns;
  gfloat *strokes;              /* out_h × out_w: stroke normalisation */
  guint max_comps, n_comps;
  guint box[4];                 /* the digit's components: x0, y0, x1, y1 */

  /* GRID × GRID blocks: bounds in cells, quartiles, filtered levels. */
  guint bx[GRID + 1], by[GRID + 1];
  gfloat q25[GRID * GRID], q50[GRID * GRID], q75[GRID * GRID];
  gfloat level[GRID * GRID], scratch[GRID * GRID];
  gboolean fitted[GRID * GRID]; /* blocks the background fit uses */
  gdouble bu[GRID * GRID], bv[GRID * GRID];     /* block centres, -1..1 */
  gfloat *u, *v;                /* cell centres, -1..1: w columns, h rows */
  gfloat *centres;              /* w: x + 0.5, column x's centre */
  gfloat *line;                 /* w: one row of an interpolated grid */
  /* Bilinear weights between block centres, per column and per row. */
  guint *iy;
  gfloat *fx, *fy;
  /* Columns interpolated from block b and b + 1: x_stretch[b] ..
   * x_stretch[b + 1] - 1. */
  guint x_stretch[GRID];

  CnnHistogram hist;
  /* Of grey over the whole picture and over its border blocks: the sums
   * of the blocks' histograms, made with them. */
  CnnHistogram whole, border;
};

/* ---- histograms ---------------------------------------------------- */

static void
hist_reset (CnnHistogram * hist, gfloat lo, gfloat hi)
{
  memset (hist->counts, 0, sizeof hist->counts);
  hist->total = 0;
  hist->lo = lo;
  hist->scale = hi > lo ? (HIST_BINS - 1) / (hi - lo) : 0.0f;
}

/* values (n) → bins (n) of @hist: a loop apart from the counting, so
 * that it vectorises. */
static void
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
static void
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
static void
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
static void
hist_merge (CnnHistogram * hist, const CnnHistogram * part)
{
  for (guint i = 0; i < HIST_BINS; i++)
    hist->counts[i] += part->counts[i];
  hist->total += part->total;
}

/* For each of the @n ascending fractions @q, the value below which that
 * fraction of those added lie, to a bin: in one walk over the bins,
 * HIST_GROUP at a time while the rank lies beyond them. */
static void
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

static gfloat
hist_quantile (const CnnHistogram * hist, gdouble q)
{
  gfloat v;

  hist_quantiles (hist, &q, 1, &v);
  return v;
}

/* ---- life cycle ---------------------------------------------------- */

/* Per cell along one axis of n cells cut into GRID blocks at @bounds:
 * the block whose centre is at or before the cell's centre, and the
 * weight of the next one (0 before the first centre, 1 after the last). */
static void
compute_interpolation (const guint * bounds, guint n, guint * index,
    gfloat * frac)
{
  gdouble centres[GRID];

  for (guint b = 0; b < GRID; b++)
    centres[b] = 0.5 * (bounds[b] + bounds[b + 1]);
  for (guint i = 0; i < n; i++) {
    gdouble c = i + 0.5;
    guint b = 0;

    while (b + 2 < GRID && centres[b + 1] <= c)
      b++;
    index[i] = b;
    frac[i] = CLAMP ((c - centres[b]) / (centres[b + 1] - centres[b]), 0.0,
        1.0);
  }
}

CnnMnist *
cnn_mnist_new (guint out_w, guint out_h, GError ** error)
{
  CnnMnist *m;
  guint ix[MAX_WORK_SIDE];      /* each column's block, for x_stretch */
  gsize n;

  g_return_val_if_fail (out_w >= CNN_MNIST_MIN_SIDE
      && out_h >= CNN_MNIST_MIN_SIDE, NULL);

  m = g_new0 (CnnMnist, 1);
  m->out_w = out_w;
  m->out_h = out_h;
  m->w = MIN ((guint64) out_w * WORK_SCALE, MAX_WORK_SIDE);
  m->h = MIN ((guint64) out_h * WORK_SCALE, MAX_WORK_SIDE);
  n = (gsize) m->w * m->h;
  /* Two 8-connected components cannot share a 2×2 square. */
  m->max_comps = ((m->w + 1) / 2) * ((m->h + 1) / 2);

  m->grey = g_try_new (gfloat, n);
  m->ink = g_try_new (gfloat, n);
  m->stack = g_try_new (guint32, n);
  m->runs = g_try_new (CnnRun, (gsize) m->h * ((m->w + 1) / 2));
  m->bins = g_try_new (guint16, n);
  m->flags = g_try_new0 (guint8, FLAGS_SIZE (m->w));
  m->x_taps = g_try_new (CnnRenderTap, out_w);
  m->y_taps = g_try_new (CnnRenderTap, out_h);
  m->x_weights = g_try_new (gfloat, (gsize) m->w + out_w);
  m->y_weights = g_try_new (gfloat, (gsize) m->h + out_h);
  m->columns = g_try_new (gfloat, (gsize) m->h * out_w);
  m->comps = g_try_new (CnnComponent, m->max_comps + 1);
  m->iy = g_try_new (guint, m->h);
  m->fx = g_try_new (gfloat, m->w);
  m->fy = g_try_new (gfloat, m->h);
  m->u = g_try_new (gfloat, m->w);
  m->centres = g_try_new (gfloat, m->w);
  m->v = g_try_new (gfloat, m->h);
  m->line = g_try_new (gfloat, m->w);
  m->rulings = cnn_rulings_new (m->w, m->h);
  m->shadows = cnn_shadows_new (m->w, m->h);
  m->strokes = g_try_new (gfloat, (gsize) out_w * out_h);
  if (!m->rulings || !m->shadows || !m->strokes || !m->grey || !m->ink || !m->stack || !m->runs || !m->bins
      || !m->flags || !m->x_taps || !m->y_taps || !m->x_weights
      || !m->y_weights || !m->columns
      || !m->comps
      || !m->iy || !m->fx || !m->fy || !m->u || !m->centres || !m->v || !m->line) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "cannot allocate a %ux%u work picture for a %ux%u digit", m->w,
        m->h, out_w, out_h);
    cnn_mnist_free (m);
    return NULL;
  }

  for (guint b = 0; b <= GRID; b++) {
    m->bx[b] = b * m->w / GRID;
    m->by[b] = b * m->h / GRID;
  }
  compute_interpolation (m->bx, m->w, ix, m->fx);
  for (guint b = 0, x = 0; b < GRID; b++) {
    while (x < m->w && ix[x] < b)
      x++;
    m->x_stretch[b] = b == GRID - 1 ? m->w : x;
  }
  compute_interpolation (m->by, m->h, m->iy, m->fy);
  for (guint x = 0; x < m->w; x++) {
    m->u[x] = 2.0 * (x + 0.5) / m->w - 1.0;
    m->centres[x] = x + 0.5f;
  }
  for (guint y = 0; y < m->h; y++)
    m->v[y] = 2.0 * (y + 0.5) / m->h - 1.0;
  for (guint k = 0; k < GRID * GRID; k++) {
    m->bu[k] = (gdouble) (m->bx[k % GRID] + m->bx[k % GRID + 1]) / m->w - 1.0;
    m->bv[k] = (gdouble) (m->by[k / GRID] + m->by[k / GRID + 1]) / m->h - 1.0;
  }
  return m;
}

void
cnn_mnist_free (CnnMnist * m)
{
  if (!m)
    return;
  g_free (m->grey);
  g_free (m->ink);
  g_free (m->stack);
  g_free (m->runs);
  g_free (m->bins);
  g_free (m->flags);
  g_free (m->x_taps);
  g_free (m->y_taps);
  g_free (m->x_weights);
  g_free (m->y_weights);
  g_free (m->columns);
  g_free (m->comps);
  g_free (m->iy);
  g_free (m->fx);
  g_free (m->fy);
  g_free (m->u);
  g_free (m->centres);
  g_free (m->v);
  g_free (m->line);
  cnn_rulings_free (m->rulings);
  cnn_shadows_free (m->shadows);
  g_free (m->strokes);
  g_free (m);
}

void
cnn_mnist_work_size (const CnnMnist * m, guint * width, guint * height)
{
  *width = m->w;
  *height = m->h;
}

gfloat *
cnn_mnist_work (CnnMnist * m)
{
  return m->grey;
}

/* ---- the block grid ------------------------------------------------ */

static gfloat
median_of (gfloat * v, guint n)
{
  for (guint i = 1; i < n; i++) {
    gfloat x = v[i];
    guint j = i;

    for (; j > 0 && v[j - 1] > x; j--)
      v[j] = v[j - 1];
    v[j] = x;
  }
  return n % 2 ? v[n / 2] : 0.5f * (v[n / 2 - 1] + v[n / 2]);
}

/* grid (GRID × GRID) → out: median of each block's 3×3 neighbourhood */
static void
median_filter (const gfloat * grid, gfloat * out)
{
  for (gint by = 0; by < GRID; by++) {
    for (gint bx = 0; bx < GRID; bx++) {
      gfloat v[9];
      guint n = 0;

      for (gint y = MAX (by - 1, 0); y <= MIN (by + 1, GRID - 1); y++)
        for (gint x = MAX (bx - 1, 0); x <= MIN (bx + 1, GRID - 1); x++)
          v[n++] = grid[y * GRID + x];
      out[by * GRID + bx] = median_of (v, n);
    }
  }
}

/* grid (GRID × GRID, values at block centres) → m->line: row @y of its
 * bilinear interpolation, down the grid first (8 values), then along,
 * one stretch of cells between two block centres at a time. */
static void
interpolate_row (CnnMnist * m, const gfloat * grid, guint y)
{
  const gfloat *top = grid + m->iy[y] * GRID, *bottom = top + GRID;
  const gfloat fy = m->fy[y];
  gfloat column[GRID];

  for (guint b = 0; b < GRID; b++)
    column[b] = top[b] + fy * (bottom[b] - top[b]);
  for (guint b = 0; b + 1 < GRID; b++) {
    const gfloat c0 = column[b], step = column[b + 1] - column[b];

    for (guint x = m->x_stretch[b]; x < m->x_stretch[b + 1]; x++)
      m->line[x] = c0 + m->fx[x] * step;
  }
}

static void
block_quartiles (CnnMnist * m)
{
  static const gdouble quartiles[3] = { 0.25, 0.50, 0.75 };
  const guint ws = SAMPLED (m->w);

  hist_reset (&m->whole, 0.0f, 1.0f);
  hist_reset (&m->border, 0.0f, 1.0f);
  hist_bins_sampled (&m->whole, m->grey, m->w, m->h, m->bins);
  for (guint by = 0; by < GRID; by++) {
    /* The block's sampled cells: its bounds in the sampled grid. */
    const guint y0 = SAMPLED (m->by[by]), y1 = SAMPLED (m->by[by + 1]);

    for (guint bx = 0; bx < GRID; bx++) {
      const guint k = by * GRID + bx;
      const guint x0 = SAMPLED (m->bx[bx]), x1 = SAMPLED (m->bx[bx + 1]);
      gfloat q[3];

      hist_reset (&m->hist, 0.0f, 1.0f);
      hist_count (&m->hist, m->bins + (gsize) y0 * ws + x0, x1 - x0, y1 - y0,
          ws);
      hist_quantiles (&m->hist, quartiles, 3, q);
      m->q25[k] = q[0];
      m->q50[k] = q[1];
      m->q75[k] = q[2];
      hist_merge (&m->whole, &m->hist);
      if (by == 0 || by == GRID - 1 || bx == 0 || bx == GRID - 1)
        hist_merge (&m->border, &m->hist);
    }
  }
}

/* Standard deviation of the noise, from blocks' interquartile ranges.
 * A low one of them: blocks with ink or an edge have wider ranges. */
static gfloat
estimate_noise (CnnMnist * m)
{
  for (guint k = 0; k < GRID * GRID; k++)
    m->scratch[k] = (m->q75[k] - m->q25[k]) / 1.349f;
  median_of (m->scratch, GRID * GRID);
  return m->scratch[(GRID * GRID) * 3 / 10];
}

/* ---- polarity and background --------------------------------------- */

/* Polarity as the local median sees it: the picture's excess over it
 * beyond the noise, summed on each side.  In -1 (all of it darker) ..
 * 1 (all lighter). */
static gdouble
local_polarity (CnnMnist * m, gfloat noise)
{
  const gfloat tau = 3.0f * noise + 1.0f / 255;
  gdouble dark = 0.0, light = 0.0;

  median_filter (m->q50, m->level);
  for (guint y = 0; y < m->h; y++) {
    const gfloat *row = m->grey + (gsize) y * m->w;
    /* Per row in float, eight sums each way (one vector): no branch on
     * the noise, no chain of dependent double additions. */
    gfloat l[8] = { 0 }, d[8] = { 0 };
    const gfloat *line = m->line;
    gsize x = 0;                /* not guint: x + k must not wrap */

    interpolate_row (m, m->level, y);
    for (; x + 8 <= m->w; x += 8) {
      for (guint k = 0; k < 8; k++) {
        const gfloat e = row[x + k] - line[x + k];

        l[k] += MAX (e - tau, 0.0f);
        d[k] += MAX (-e - tau, 0.0f);
      }
    }
    for (; x < m->w; x++) {
      const gfloat e = row[x] - m->line[x];

      l[0] += MAX (e - tau, 0.0f);
      d[0] += MAX (-e - tau, 0.0f);
    }
    for (guint k = 0; k < 8; k++) {
      light += l[k];
      dark += d[k];
    }
  }
  return dark + light > 0.0 ? (light - dark) / (light + dark) : 0.0;
}

/* Polarity as the border sees it: its median (the blocks along the
 * edge) against the extremes of the whole picture.  A border near the
 * dark end means light ink: towards 1; near the light end, towards -1. */
static gdouble
border_polarity (CnnMnist * m)
{
  static const gdouble extremes[2] = { 0.005, 0.995 };
  gfloat range[2], lo, hi, border;

  hist_quantiles (&m->whole, extremes, 2, range);
  lo = range[0];
  hi = range[1];
  border = hist_quantile (&m->border, BORDER_QUANTILE);
  return hi > lo ? ((hi - border) - (border - lo)) / (hi - lo) : 0.0;
}

/* Whether the ink is darker than the background. */
static gboolean
ink_is_dark (CnnMnist * m, gfloat noise)
{
  gdouble local = local_polarity (m, noise), border = border_polarity (m);

  return (fabs (local) >= fabs (border) ? local : border) < 0.0;
}

/* The background model's terms at (u, v): 1, u, v, u², uv, v². */
static inline void
background_terms (gdouble u, gdouble v, gdouble t[N_TERMS])
{
  t[0] = 1.0;
  t[1] = u;
  t[2] = v;
  t[3] = u * u;
  t[4] = u * v;
  t[5] = v * v;
}

/* Least squares of the first @n terms to the fitted blocks' @levels:
 * normal equations solved by elimination with partial pivoting.  FALSE
 * when too few blocks pin them down. */
static gboolean
solve_background (const CnnMnist * m, const gfloat * levels, guint n,
    gdouble coef[N_TERMS])
{
  gdouble a[N_TERMS][N_TERMS + 1] = { {0} };
  gdouble tiny;

  for (guint k = 0; k < GRID * GRID; k++) {
    gdouble t[N_TERMS];

    if (!m->fitted[k])
      continue;
    background_terms (m->bu[k], m->bv[k], t);
    for (guint i = 0; i < n; i++) {
      for (guint j = 0; j < n; j++)
        a[i][j] += t[i] * t[j];
      a[i][n] += t[i] * levels[k];
    }
  }
  /* a[0][0] counts the blocks: a pivot this small relative to it means
   * the blocks do not pin the terms down (all in a row, say), and the
   * fit would run wild between them. */
  tiny = 1e-6 * MAX (a[0][0], 1.0);
  for (guint c = 0; c < n; c++) {
    guint pivot = c;

    for (guint r = c + 1; r < n; r++)
      if (fabs (a[r][c]) > fabs (a[pivot][c]))
        pivot = r;
    if (fabs (a[pivot][c]) < tiny)
      return FALSE;
    for (guint j = 0; j <= n; j++) {
      gdouble tmp = a[c][j];

      a[c][j] = a[pivot][j];
      a[pivot][j] = tmp;
    }
    for (guint r = 0; r < n; r++) {
      gdouble f = a[r][c] / a[c][c];

      if (r == c)
        continue;
      for (guint j = c; j <= n; j++)
        a[r][j] -= f * a[c][j];
    }
  }
  for (guint i = 0; i < N_TERMS; i++)
    coef[i] = i < n ? a[i][n] / a[i][i] : 0.0;
  return TRUE;
}

/* Fits the background to the blocks' @levels (ink bright): a quadratic
 * in the position, which holds lighting gradients, a lamp's falloff and
 * a vignette.  Ink only ever raises a block above the background, so
 * blocks more than @slack above the fit are left out and it is fitted
 * again, starting from those at or below the median.  Fewer blocks than
 * a quadratic needs: a plane, then a constant. */
static void
fit_background (CnnMnist * m, const gfloat * levels, gfloat slack,
    gdouble coef[N_TERMS])
{
  gfloat median;

  memcpy (m->scratch, levels, sizeof m->scratch);
  median = median_of (m->scratch, GRID * GRID);
  for (guint k = 0; k < GRID * GRID; k++)
    m->fitted[k] = levels[k] <= median + slack;

  for (guint round = 0; round < FIT_ROUNDS; round++) {
    gboolean changed = FALSE;

    if (!solve_background (m, levels, N_TERMS, coef)
        && !solve_background (m, levels, 3, coef)
        && !solve_background (m, levels, 1, coef)) {
      memset (coef, 0, N_TERMS * sizeof (gdouble));
      coef[0] = median;
      break;
    }
    for (guint k = 0; k < GRID * GRID; k++) {
      gdouble t[N_TERMS], fit = 0.0;
      gboolean keep;

      background_terms (m->bu[k], m->bv[k], t);
      for (guint i = 0; i < N_TERMS; i++)
        fit += coef[i] * t[i];
      keep = levels[k] <= fit + slack;
      changed |= keep != m->fitted[k];
      m->fitted[k] = keep;
    }
    if (!changed)
      break;
  }
}

/* grey → ink (h × w): bright ink minus the background.  Each block's
 * quartile on the far side from the ink sees background unless ink
 * covers three quarters of it; the fit through those leaves out what
 * stands above it, the rest of the digit and dark clutter alike. */
static void
flatten_background (CnnMnist * m, gboolean dark, gfloat noise)
{
  gdouble c[N_TERMS];

  for (guint k = 0; k < GRID * GRID; k++)
    m->level[k] = dark ? 1.0f - m->q75[k] : m->q25[k];
  fit_background (m, m->level, MAX (0.02f, 2.0f * noise), c);

  /* Bright ink is offset + sign · grey; per row the background is a
   * quadratic in u, worked out in float so that the loop vectorises. */
  const gfloat offset = dark ? 1.0f : 0.0f, sign = dark ? -1.0f : 1.0f;
  const gfloat c3 = c[3];

  for (guint y = 0; y < m->h; y++) {
    const gfloat *in = m->grey + (gsize) y * m->w;
    gfloat *out = m->ink + (gsize) y * m->w;
    const gdouble v = m->v[y];
    const gfloat row0 = c[0] + c[2] * v + c[5] * v * v;
    const gfloat row1 = c[1] + c[4] * v;

    for (guint x = 0; x < m->w; x++) {
      const gfloat u = m->u[x];

      out[x] = (offset + sign * in[x]) - (row0 + (row1 + c3 * u) * u);
    }
  }
}

static gfloat
median_ink (CnnMnist * m)
{
  const guint ws = SAMPLED (m->w), hs = SAMPLED (m->h);

  hist_reset (&m->hist, -1.0f, 1.0f);
  hist_bins_sampled (&m->hist, m->ink, m->w, m->h, m->bins);
  hist_count (&m->hist, m->bins, (gsize) ws * hs, 1, (gsize) ws * hs);
  return hist_quantile (&m->hist, 0.5);
}

/* ---- connected components ------------------------------------------ */

/* Components are found in one pass over the rows: each row's runs of
 * cells above the threshold are joined (union-find) to the runs of the
 * row above that touch them, diagonally included; then each run adds
 * itself to its component.  Ids go in the order of the components'
 * first cells in raster order, as a scan with flood fills would give. */

static guint32
run_root (CnnRun * runs, guint32 i)
{
  while (runs[i].parent != i) {
    runs[i].parent = runs[runs[i].parent].parent;       /* path halving */
    i = runs[i].parent;
  }
  return i;
}

/* The root of a component is its first run: the earlier one wins. */
static void
run_union (CnnRun * runs, guint32 a, guint32 b)
{
  a = run_root (runs, a);
  b = run_root (runs, b);
  if (a < b)
    runs[b].parent = a;
  else if (b < a)
    runs[a].parent = b;
}

/* Row @y's runs of cells above @thr → m->runs from @n; the new count.
 * The comparison is one vectorised pass into bytes; the scan for runs
 * then skips eight empty cells at a time, as most of a picture is. */
static guint
find_runs (CnnMnist * m, guint y, gfloat thr, guint n)
{
  const gsize w = m->w;         /* a local: bytes stored may alias m */
  const gfloat *restrict row = m->ink + (gsize) y * w;
  guint8 *restrict ink = m->flags;      /* w, then zeros after */

  for (gsize x = 0; x < w; x++)
    ink[x] = row[x] > thr;
  for (guint x = 0; x < w;) {
    guint64 word;
    CnnRun *r;

    memcpy (&word, ink + x, sizeof word);
    if (x % 8 == 0 && word == 0) {
      x += 8;
      continue;
    }
    if (!ink[x]) {
      x++;
      continue;
    }
    r = &m->runs[n];
    r->y = y;
    r->x0 = x;
    while (ink[x + 1])          /* the zeros after w end it */
      x++;
    r->x1 = x;
    r->parent = n;
    r->id = 0;
    n++;
    x++;
  }
  return n;
}

/* Joins each run of a row [cur, end) to the runs of the row above
 * [prev, cur) that it touches; both lists go left to right. */
static void
join_rows (CnnRun * runs, guint prev, guint cur, guint end)
{
  for (guint c = cur; c < end; c++) {
    while (prev < cur && runs[prev].x1 + 1 < runs[c].x0)
      prev++;
    for (guint p = prev; p < cur && runs[p].x0 <= runs[c].x1 + 1; p++)
      run_union (runs, p, c);
  }
}

/* Σ i² for i in 0 .. n - 1 */
static inline gdouble
squares_below (guint n)
{
  return (gdouble) n * (n - 1.0) * (2.0 * n - 1.0) / 6.0;
}

/* Run @r → component @id: its part of the statistics. */
static void
component_add_run (CnnMnist * m, guint32 id, const CnnRun * r)
{
  CnnComponent *c = &m->comps[id];
  const gsize row = (gsize) r->y * m->w;
  const guint len = r->x1 - r->x0 + 1;

  c->area += len;
  c->x0 = MIN (c->x0, r->x0);
  c->y0 = MIN (c->y0, r->y);
  c->x1 = MAX (c->x1, r->x1);
  c->y1 = MAX (c->y1, r->y);
  /* Σ (x + 0.5) and Σ (x + 0.5)² over the run, exact in a double. */
  const gdouble sx = 0.5 * len * (r->x0 + r->x1 + 1), cy = r->y + 0.5;
  const gdouble sxx = squares_below (r->x1 + 1) - squares_below (r->x0)
      + sx - 0.25 * len;

  c->sum_x += sx;
  c->sum_y += len * cy;
  c->sum_xx += sxx;
  c->sum_xy += sx * cy;
  c->sum_yy += len * cy * cy;
  for (guint x = r->x0; x <= r->x1; x++)
    c->peak = MAX (c->peak, m->ink[row + x]);
  if (r->y == 0 || r->y == m->h - 1)
    c->border += len;
  else
    c->border += (r->x0 == 0) + (r->x1 == m->w - 1);
  c->sides |= (r->y == 0 ? SIDE_TOP : 0) | (r->y == m->h - 1 ? SIDE_BOTTOM
      : 0) | (r->x0 == 0 ? SIDE_LEFT : 0) | (r->x1 == m->w - 1 ? SIDE_RIGHT
      : 0);
}

/* Cells shared by run @r and the runs [from, to) of the row above (left
 * to right), which are all of its component; @from moves past those left
 * of @r. */
static guint
overlap_above (const CnnMnist * m, const CnnRun * r, guint * from, guint to)
{
  guint shared = 0;

  while (*from < to && m->runs[*from].x1 < r->x0)
    (*from)++;
  for (guint i = *from; i < to && m->runs[i].x0 <= r->x1; i++) {
    const CnnRun *p = &m->runs[i];

    shared += MIN (p->x1, r->x1) - MAX (p->x0, r->x0) + 1;
  }
  return shared;
}

/* Each component's runs and the cells they share with the row above,
 * which make its perimeter. */
static void
count_shared_cells (CnnMnist * m)
{
  guint prev_start = 0, row_start = 0, from = 0;

  for (guint i = 0; i < m->n_runs; i++) {
    const CnnRun *r = &m->runs[i];

    if (i == 0 || r->y != m->runs[i - 1].y) {
      /* A new row: the one before it is above if adjacent. */
      prev_start = i > 0 && m->runs[i - 1].y + 1 == r->y ? row_start : i;
      row_start = i;
      from = prev_start;
    }
    if (r->id == 0)
      continue;
    m->comps[r->id].n_runs++;
    m->comps[r->id].shared += overlap_above (m, r, &from, row_start);
  }
}

/* The cell edges around a component: two a run along the rows, and
 * across them each row's cells less those shared with the row above,
 * counted on both sides. */
static inline guint64
component_edges (const CnnComponent * c)
{
  return 2 * (guint64) c->n_runs + 2 * ((guint64) c->area - c->shared);
}

static void
label_components (CnnMnist * m, gfloat thr)
{
  guint n = 0, prev = 0;

  for (guint y = 0; y < m->h; y++) {
    const guint cur = n;

    n = find_runs (m, y, thr, n);
    if (y > 0)
      join_rows (m->runs, prev, cur, n);
    prev = cur;
  }

  /* A run's root comes before it, so has its id by then; each run then
   * takes its component's id (0: past max_comps, which the 2×2 bound
   * rules out), and the runs are all the ink cells, by component. */
  m->n_runs = n;
  m->n_comps = 0;
  for (guint i = 0; i < n; i++) {
    CnnRun *root = &m->runs[run_root (m->runs, i)];

    if (root->id == 0 && m->n_comps < m->max_comps) {
      root->id = ++m->n_comps;
      m->comps[root->id] = (CnnComponent) {
      .x0 = G_MAXUINT,.y0 = G_MAXUINT,.peak = -G_MAXFLOAT};
    }
    m->runs[i].id = root->id;
    if (root->id != 0)
      component_add_run (m, root->id, &m->runs[i]);
  }
  count_shared_cells (m);
}

/* The spread of component @c's cells in frame units: the variances
 * along its main axis and across it, and the main axis's angle from the
 * rows, from the second moments. */
static void
component_axes (const CnnComponent * c, gdouble aspect, gdouble * major,
    gdouble * minor, gdouble * angle)
{
  const gdouble mx = c->sum_x / c->area, my = c->sum_y / c->area;
  const gdouble cxx = (c->sum_xx / c->area - mx * mx) * aspect * aspect;
  const gdouble cyy = c->sum_yy / c->area - my * my;
  const gdouble cxy = (c->sum_xy / c->area - mx * my) * aspect;
  const gdouble half_gap = sqrt (0.25 * (cxx - cyy) * (cxx - cyy) + cxy * cxy);

  *major = 0.5 * (cxx + cyy) + half_gap;
  *minor = MAX (0.5 * (cxx + cyy) - half_gap, 1e-9);
  *angle = 0.5 * atan2 (2.0 * cxy, cxx - cyy);
}

/* Whether component @c is @times longer than wide or more. */
static gboolean
is_elongated (const CnnComponent * c, gdouble aspect, gdouble times)
{
  gdouble major, minor, angle;

  component_axes (c, aspect, &major, &minor, &angle);
  return major >= times * times * minor;
}

/* Whether component @c is a straight piece lying along the rulings (or,
 * on any paper, flat: no digit is a horizontal bar). */
static gboolean
is_flat_stroke (const CnnMnist * m, const CnnComponent * c, gdouble aspect)
{
  const CnnLineFamily *rows = cnn_rulings_family (m->rulings, FALSE);
  gdouble major, minor, angle;

  component_axes (c, aspect, &major, &minor, &angle);
  if (major < FLAT_ELONGATION * FLAT_ELONGATION * minor)
    return FALSE;
  if (fabs (angle) <= FLAT_ANGLE * G_PI / 180.0)
    return TRUE;
  return rows->n_lines > 0 && fabs (angle - atan (rows->slope / aspect))
      <= RULING_ANGLE * G_PI / 180.0;
}

/* Whether a component on the region's border may be a digit that the
 * border cuts: its contact with the border is short, as a stroke's end;
 * a shadow, a strip, a table edge or the paper's border lie along it,
 * or run straight a long way from one side to another. */
static gboolean
may_be_cut_digit (const CnnMnist * m, const CnnComponent * c,
    gdouble aspect)
{
  const guint cw = c->x1 - c->x0 + 1, ch = c->y1 - c->y0 + 1;
  const gboolean side_to_side = (c->sides & (c->sides - 1)) != 0
      && (cw >= MAX_SIDE_TO_SIDE * m->w || ch >= MAX_SIDE_TO_SIDE * m->h);

  return c->border <= MAX_BORDER_CONTACT * MIN (cw, ch)
      && !(side_to_side && is_elongated (c, aspect, STRAIGHT_ELONGATION));
}

/* Whether component @c is a filled blob rather than strokes (a shadow,
 * a fingertip, a smudge): its stroke width is a large part of its
 * size.  A disc's is half its diameter; MNIST's boldest digits' about a
 * third of their height. */
static gboolean
is_blob (const CnnComponent * c, gdouble aspect)
{
  const gdouble width = 2.0 * c->area / MAX (component_edges (c), 1);
  const gdouble extent = MAX ((c->x1 - c->x0 + 1) * aspect,
      (gdouble) c->y1 - c->y0 + 1);

  return width > MAX_BLOB_WIDTH * extent;
}

/* The main ink component, 0 if none is large enough: the best by area
 * over (1 + (distance to the centre / radius)²).  Of those on the
 * region's border, only the ones it may have cut count, at a fiftieth:
 * any digit inside wins over them, but not a speck 50 times smaller. */
static guint32
choose_main (const CnnMnist * m, gdouble aspect)
{
  const gdouble half_short = 0.5 * MIN (m->w * aspect, (gdouble) m->h);
  const gdouble radius = CENTRE_RADIUS * half_short;
  const gdouble min_extent = MIN_EXTENT_FRACTION * 2.0 * half_short;
  const guint min_area = MAX (4, (guint) (MIN_AREA_FRACTION * m->w * m->h));
  guint32 best = 0;
  gdouble best_score = 0.0;

  for (guint32 id = 1; id <= m->n_comps; id++) {
    const CnnComponent *c = &m->comps[id];
    gdouble dx, dy, score;

    if (c->area < min_area || (c->border && !may_be_cut_digit (m, c, aspect))
        || is_flat_stroke (m, c, aspect) || is_blob (c, aspect))
      continue;
    if (MAX ((c->x1 - c->x0 + 1) * aspect, (gdouble) c->y1 - c->y0 + 1)
        < min_extent)
      continue;
    dx = (c->sum_x / c->area - 0.5 * m->w) * aspect;
    dy = c->sum_y / c->area - 0.5 * m->h;
    score = c->area / (1.0 + (dx * dx + dy * dy) / (radius * radius));
    if (c->border)
      score *= BORDER_PENALTY;
    if (score > best_score) {
      best = id;
      best_score = score;
    }
  }
  return best;
}

/* The level of the main component's ink: its cells' 97th percentile. */
static gfloat
ink_level (CnnMnist * m, guint32 id, gfloat thr)
{
  hist_reset (&m->hist, thr, m->comps[id].peak);
  for (guint i = 0; i < m->n_runs; i++) {
    const CnnRun *r = &m->runs[i];
    const guint n = r->x1 - r->x0 + 1;

    if (r->id != id)
      continue;
    hist_bins (&m->hist, m->ink + (gsize) r->y * m->w + r->x0, n, m->bins);
    for (guint x = 0; x < n; x++)
      m->hist.counts[m->bins[x]]++;
    m->hist.total += n;
  }
  return hist_quantile (&m->hist, INK_PERCENTILE);
}

/* Cells between intervals [a0, a1] and [b0, b1]; 0 if they overlap. */
static guint
interval_gap (guint a0, guint a1, guint b0, guint b1)
{
  guint lo = MAX (a0, b0), hi = MIN (a1, b1);

  return lo > hi ? lo - hi - 1 : 0;
}

/* Marks the main component and the parts of the same digit: inked as
 * strongly, not specks, within a small gap of the digit's box so far,
 * and not making it much larger than the main one.  The box ends in
 * m->box. */
static void
select_parts (CnnMnist * m, guint32 main, gdouble aspect, gfloat min_peak)
{
  CnnComponent *c = &m->comps[main];
  const gdouble side = MAX ((c->x1 - c->x0 + 1) * aspect,
      (gdouble) c->y1 - c->y0 + 1);
  const gdouble gap = PART_GAP * side, limit = MAX_GROWTH * side;
  const guint min_area = MAX (2, (guint) (PART_MIN_FRACTION * c->area));
  guint32 *candidates = m->stack;
  guint n = 0;
  gboolean grew = TRUE;

  c->selected = TRUE;
  m->box[0] = c->x0;
  m->box[1] = c->y0;
  m->box[2] = c->x1;
  m->box[3] = c->y1;
  for (guint32 id = 1; id <= m->n_comps; id++) {
    const CnnComponent *p = &m->comps[id];

    m->comps[id].selected = id == main;
    /* A blob (a fingertip) is no part of a digit, however near; a flat
     * stroke may be (a 5's or a 7's bar, broken off). */
    if (id != main && p->area >= min_area && p->peak >= min_peak
        && (!p->border || c->border) && !is_blob (p, aspect))
      candidates[n++] = id;
  }

  /* Each round adds what the box reaches; a part added may bring the
   * box within reach of another. */
  while (grew) {
    grew = FALSE;
    for (guint i = 0; i < n; i++) {
      CnnComponent *p = &m->comps[candidates[i]];
      guint x0 = MIN (m->box[0], p->x0), y0 = MIN (m->box[1], p->y0);
      guint x1 = MAX (m->box[2], p->x1), y1 = MAX (m->box[3], p->y1);

      if (p->selected
          || interval_gap (m->box[0], m->box[2], p->x0, p->x1) * aspect > gap
          || interval_gap (m->box[1], m->box[3], p->y0, p->y1) > gap
          || (x1 - x0 + 1) * aspect > limit || y1 - y0 + 1 > limit)
        continue;
      p->selected = TRUE;
      m->box[0] = x0;
      m->box[1] = y0;
      m->box[2] = x1;
      m->box[3] = y1;
      grew = TRUE;
    }
  }
}

/* ---- framing ------------------------------------------------------- */

/* Ink (background @zero → 0, the ink level → 1 at @scale = 1 / (level
 * - zero)) in 0..1. */
static inline gfloat
ink_value (gfloat ink, gfloat zero, gfloat scale)
{
  return CLAMP ((ink - zero) * scale, 0.0f, 1.0f);
}

/* Whether run @r belongs to a component selected as the digit's. */
static inline gboolean
run_selected (const CnnMnist * m, const CnnRun * r)
{
  return r->id != 0 && m->comps[r->id].selected;
}

/* Whether run @r is ink of a component left out of the digit (runs past
 * max_comps, id 0, are kept as the digit's). */
static inline gboolean
run_left_out (const CnnMnist * m, const CnnRun * r)
{
  return r->id != 0 && !run_selected (m, r);
}

/* m->box shrinks to the digit's cells at BOX_LEVEL or more: of the
 * selected components' runs, all inside m->box. */
static void
shrink_box (CnnMnist * m, gfloat zero, gfloat scale)
{
  guint x0 = G_MAXUINT, y0 = G_MAXUINT, x1 = 0, y1 = 0;

  for (guint i = 0; i < m->n_runs; i++) {
    const CnnRun *r = &m->runs[i];
    const gfloat *row = m->ink + (gsize) r->y * m->w;
    guint first = G_MAXUINT, last = 0;

    if (!run_selected (m, r))
      continue;
    for (guint x = r->x0; x <= r->x1; x++)
      if (ink_value (row[x], zero, scale) >= BOX_LEVEL) {
        first = MIN (first, x);
        last = x;
      }
    if (first == G_MAXUINT)
      continue;
    x0 = MIN (x0, first);
    x1 = MAX (x1, last);
    y0 = MIN (y0, r->y);
    y1 = MAX (y1, r->y);
  }
  /* The main component's ink level is 1, so the box is never empty. */
  m->box[0] = x0;
  m->box[1] = y0;
  m->box[2] = x1;
  m->box[3] = y1;
}

/* ink → ink_value() over the placement's window, the only cells that
 * framing reads (the rest of the grid is left as it is), and 0 on the
 * components left out of the digit. */
static void
normalise_window (CnnMnist * m, const CnnPlacement * p, gfloat zero,
    gfloat scale)
{
  for (guint y = p->cy0; y < p->cy1; y++) {
    gfloat *row = m->ink + (gsize) y * m->w;

    for (gsize x = p->cx0; x < p->cx1; x++)
      row[x] = ink_value (row[x], zero, scale);
  }
  for (guint i = 0; i < m->n_runs; i++) {
    const CnnRun *r = &m->runs[i];
    gfloat *row = m->ink + (gsize) r->y * m->w;
    const guint x0 = MAX (r->x0, p->cx0), x1 = MIN (r->x1 + 1, p->cx1);

    if (r->y < p->cy0 || r->y >= p->cy1 || !run_left_out (m, r))
      continue;
    for (guint x = x0; x < x1; x++)
      row[x] = 0.0f;
  }
}

/* Whole output pixels by which a box of @extent output pixels, whose
 * centre of mass is @com pixels into it, moves so that the mass lands on
 * the middle pixel of @n (pixel 14 of 28, as in MNIST), inside. */
static gdouble
whole_pixel_shift (gdouble com, gdouble extent, guint n)
{
  gdouble shift = floor ((n / 2 + 0.5) - com + 0.5);

  return CLAMP (shift, 0.0, floor (n - extent + 1e-9));
}

/* Σ v[x] and Σ v[x]·centre[x] over x0 .. x1 - 1, in eight float lanes
 * each: a row holds at most 256 values, no chain of double additions. */
static void
row_moments (const gfloat * v, const gfloat * centre, gsize x0, gsize x1,
    gfloat * sum, gfloat * sum_x)
{
  gfloat s[8] = { 0 }, sx[8] = { 0 };
  gsize x = x0;

  for (; x + 8 <= x1; x += 8)
    for (guint k = 0; k < 8; k++) {
      s[k] += v[x + k];
      sx[k] += v[x + k] * centre[x + k];
    }
  for (; x < x1; x++) {
    s[0] += v[x];
    sx[0] += v[x] * centre[x];
  }
  *sum = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  *sum_x = ((sx[0] + sx[1]) + (sx[2] + sx[3]))
      + ((sx[4] + sx[5]) + (sx[6] + sx[7]));
}

/* Places the digit of m->box: its scale, its window (the box and a
 * halo), normalised there by @zero and @scale, and its position. */
static void
place_digit (CnnMnist * m, gdouble aspect, gfloat zero, gfloat scale_ink,
    CnnPlacement * p)
{
  const guint bw = m->box[2] - m->box[0] + 1, bh = m->box[3] - m->box[1] + 1;
  const gdouble scale = MIN (BOX_FRACTION * m->out_w / (bw * aspect),
      BOX_FRACTION * m->out_h / bh);
  gint halo_x, halo_y;
  gdouble sum = 0.0, sum_x = 0.0, sum_y = 0.0;

  p->sx = scale * aspect;
  p->sy = scale;
  halo_x = (gint) ceil (HALO_PIXELS / p->sx);
  halo_y = (gint) ceil (HALO_PIXELS / p->sy);
  p->cx0 = MAX ((gint) m->box[0] - halo_x, 0);
  p->cy0 = MAX ((gint) m->box[1] - halo_y, 0);
  p->cx1 = MIN (m->box[2] + 1 + halo_x, m->w);
  p->cy1 = MIN (m->box[3] + 1 + halo_y, m->h);
  normalise_window (m, p, zero, scale_ink);

  for (guint y = p->cy0; y < p->cy1; y++) {
    gfloat row_sum, row_sum_x;

    row_moments (m->ink + (gsize) y * m->w, m->centres, p->cx0, p->cx1,
        &row_sum, &row_sum_x);
    sum += row_sum;
    sum_x += row_sum_x;
    sum_y += row_sum * (y + 0.5);
  }
  p->x0 = m->box[0] - whole_pixel_shift ((sum_x / sum - m->box[0]) * p->sx,
      bw * p->sx, m->out_w) / p->sx;
  p->y0 = m->box[1] - whole_pixel_shift ((sum_y / sum - m->box[1]) * p->sy,
      bh * p->sy, m->out_h) / p->sy;
}

/* Output pixels 0 .. n - 1 along one axis cover [origin + i·size,
 * origin + (i + 1)·size) work cells, of which cells lo .. hi - 1 are
 * read: each pixel's cells and their overlaps with it → @taps and
 * @weights (at most hi - lo + n, as neighbours share one cell). */
static void
render_taps (gdouble origin, gdouble size, guint n, guint lo, guint hi,
    CnnRenderTap * taps, gfloat * weights)
{
  guint offset = 0;

  for (guint i = 0; i < n; i++) {
    const gdouble a = origin + i * size, b = a + size;
    /* Signed: a pixel may lie wholly before the window. */
    const gint c0 = MAX ((gint) floor (a), (gint) lo);
    const gint c1 = MIN ((gint) ceil (b), (gint) hi);

    taps[i].first = MAX (c0, 0);
    taps[i].n = MAX (c1 - c0, 0);
    taps[i].offset = offset;
    for (guint j = 0; j < taps[i].n; j++) {
      const gdouble c = taps[i].first + j;

      weights[offset++] = MIN (b, c + 1.0) - MAX (a, c);
    }
  }
}

/* ink cells of the placement's window → out (out_h × out_w): each pixel
 * the mean over the work area it covers, nothing outside the window.
 * Separable: the window's rows are first reduced to out_w columns
 * (m->columns, one row of them per window row), which are then
 * combined down into out_h rows. */
static void
render_digit (CnnMnist * m, const CnnPlacement * p, gfloat * out)
{
  const gsize ow = m->out_w;
  const gfloat norm = p->sx * p->sy;

  render_taps (p->x0, 1.0 / p->sx, m->out_w, p->cx0, p->cx1, m->x_taps,
      m->x_weights);
  render_taps (p->y0, 1.0 / p->sy, m->out_h, p->cy0, p->cy1, m->y_taps,
      m->y_weights);
  for (guint y = p->cy0; y < p->cy1; y++) {
    const gfloat *row = m->ink + (gsize) y * m->w;
    gfloat *col = m->columns + (gsize) y * ow;

    for (guint u = 0; u < m->out_w; u++) {
      const CnnRenderTap *t = &m->x_taps[u];
      const gfloat *wx = m->x_weights + t->offset, *v = row + t->first;
      gfloat sum = 0.0f;

      for (guint j = 0; j < t->n; j++)
        sum += wx[j] * v[j];
      col[u] = sum;
    }
  }
  for (guint v = 0; v < m->out_h; v++) {
    const CnnRenderTap *t = &m->y_taps[v];
    const gfloat *wy = m->y_weights + t->offset;
    gfloat *dest = out + v * ow;

    for (gsize u = 0; u < ow; u++)
      dest[u] = 0.0f;
    for (guint j = 0; j < t->n; j++) {
      const gfloat *col = m->columns + (gsize) (t->first + j) * ow;

      for (gsize u = 0; u < ow; u++)
        dest[u] += wy[j] * col[u];
    }
    for (gsize u = 0; u < ow; u++)
      dest[u] = MIN (dest[u] * norm, 1.0f);
  }
}

/* ---- stroke width -------------------------------------------------- */

/* The digit's mean stroke width in work cells: twice its area over its
 * perimeter (a stroke w wide and l long has w·l cells and 2·(w + l)
 * edges), over the selected components. */
static gdouble
stroke_width (const CnnMnist * m)
{
  guint64 area = 0, edges = 0;

  for (guint32 id = 1; id <= m->n_comps; id++) {
    const CnnComponent *c = &m->comps[id];

    if (c->selected) {
      area += c->area;
      edges += component_edges (c);
    }
  }
  return edges ? 2.0 * area / edges : 0.0;
}

/* ---- per frame ----------------------------------------------------- */

CNN_VECTOR_CLONES gboolean
cnn_mnist_run (CnnMnist * m, gdouble aspect, gfloat * out)
{
  gfloat noise, zero, thr, ink;
  guint32 main;
  CnnPlacement placement;

  g_return_val_if_fail (m != NULL && out != NULL, FALSE);
  g_return_val_if_fail (aspect > 0.0 && isfinite (aspect), FALSE);

  block_quartiles (m);
  noise = estimate_noise (m);
  flatten_background (m, ink_is_dark (m, noise), noise);
  cnn_shadows_flatten (m->shadows, m->ink, MAX (SHADOW_SIGMAS * noise,
          SHADOW_MIN_DEPTH));

  zero = median_ink (m) + NOISE_SIGMAS_ZERO * noise;
  thr = zero + MAX (NOISE_SIGMAS_DETECT * noise, MIN_CONTRAST);
  label_components (m, thr);
  if (cnn_rulings_erase (m->rulings, m->ink, zero, thr) > 0)
    label_components (m, thr);
  main = choose_main (m, aspect);
  if (main == 0)
    return FALSE;
  ink = ink_level (m, main, thr);
  if (ink - zero < MIN_INK_CONTRAST)
    return FALSE;

  select_parts (m, main, aspect, zero + PART_MIN_PEAK * (ink - zero));
  shrink_box (m, zero, 1.0f / (ink - zero));
  place_digit (m, aspect, zero, 1.0f / (ink - zero), &placement);
  render_digit (m, &placement, out);
  /* In the pixels of a 28×28 input, which MNIST's widths are in. */
  cnn_strokes_normalise (out, m->out_w, m->out_h, stroke_width (m)
      * placement.sy * 28.0 / MIN (m->out_w, m->out_h), m->strokes);
  return TRUE;
}
