/* Steps 1 to 3 of the "mnist" digit finder (cnn-mnist.c): block
 * quartiles and the noise, polarity, and the background flattened. */
#include "cnn-clones.h"
#include "cnn-mnist-private.h"

#include <math.h>
#include <string.h>

#define N_TERMS 6               /* background: 1, u, v, u², uv, v² */
#define FIT_ROUNDS 6
/* Step 2 and 4: what counts as ink. */
#define BORDER_QUANTILE 0.75    /* of the border: its paper, though shaded in part */
/* Paper under good light, and the least share of it that dim paper's
 * ink contrast is scaled by (a room lit by a screen is about half). */
#define LIT_PAPER 0.75
#define MIN_LIGHT_SHARE 0.4
/* Stroke polarity: strokes up to 2r wide for r = 2, 4, 8, 16 cells, on
 * every STROKE_ROW_STEP-th row.  A work cell is at most a frame pixel's
 * size or three times a 28×28 digit's (an 84-cell grid): from a thin
 * pen's stroke (a cell or two) to a bold MNIST one (about 9). */
#define MIN_STROKE_RADIUS 2
#define MAX_STROKE_RADIUS 16
#define STROKE_ROW_STEP 4
#define MIN_STROKE_POLARITY 0.2 /* clear enough to decide alone */
/* Excess of one kind over the other, summed (ink levels × cells) on the
 * sampled rows, below which there are no strokes to tell by: a faint
 * ballpoint digit on the development desk frames gives 1.9 or more,
 * blank paper (a strip or a table edge at the border) under 0.5. */
#define MIN_STROKE_EXCESS 1.0

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

/* The thin structures' excess over the cells @r away on both sides
 * along rows and columns, beyond @tau: dark (a valley) into dark[],
 * light (a ridge) into light[], eight lanes each.  Every fourth row. */
static void
sum_valleys_and_ridges (const CnnMnist * m, guint r, gfloat tau,
    gfloat dark[8], gfloat light[8])
{
  const gsize w = m->w;

  for (guint y = r; y + r < m->h; y += STROKE_ROW_STEP) {
    const gfloat *row = m->grey + y * w, *up = row - r * w, *down = row + r * w;
    gsize x = r;                /* not guint: x + k must not wrap */

    for (; x + 8 + r <= w; x += 8) {
      for (guint k = 0; k < 8; k++) {
        const gfloat c = row[x + k];
        const gfloat a = row[x + k - r], b = row[x + k + r];
        const gfloat u = up[x + k], d = down[x + k];

        dark[k] += MAX (MIN (a, b) - c - tau, 0.0f)
            + MAX (MIN (u, d) - c - tau, 0.0f);
        light[k] += MAX (c - MAX (a, b) - tau, 0.0f)
            + MAX (c - MAX (u, d) - tau, 0.0f);
      }
    }
    for (; x + r < w; x++) {
      const gfloat c = row[x];

      dark[0] += MAX (MIN (row[x - r], row[x + r]) - c - tau, 0.0f)
          + MAX (MIN (up[x], down[x]) - c - tau, 0.0f);
      light[0] += MAX (c - MAX (row[x - r], row[x + r]) - tau, 0.0f)
          + MAX (c - MAX (up[x], down[x]) - tau, 0.0f);
    }
  }
}

/* Polarity as thin structures see it: a stroke is darker (or lighter)
 * than the paper on both sides of it, the edge of a shadow or of a lit
 * patch is a step, darker on one side only, and counts for neither.
 * Over widths from a thin pen's to a bold MNIST stroke's on the work
 * grid.  In -1 (dark strokes) .. 1 (light ones); 0 with too few to
 * tell. */
static gdouble
stroke_polarity (const CnnMnist * m, gfloat noise)
{
  const gfloat tau = 3.0f * noise + 1.0f / 255;
  gfloat d[8] = { 0 }, l[8] = { 0 };
  gdouble dark = 0.0, light = 0.0;

  for (guint r = MIN_STROKE_RADIUS; r <= MAX_STROKE_RADIUS; r *= 2)
    if (2 * r < MIN (m->w, m->h))
      sum_valleys_and_ridges (m, r, tau, d, l);
  for (guint k = 0; k < 8; k++) {
    dark += d[k];
    light += l[k];
  }
  if (fabs (light - dark) < MIN_STROKE_EXCESS)
    return 0.0;
  return (light - dark) / (light + dark);
}

/* Whether the ink is darker than the background.  The strokes decide
 * when they are clear: a lit patch or a shadow covering much of the
 * region stands out from the local median and shifts the border's
 * level, and would turn a faint digit into background.  Where they are
 * not (blank paper, a blurred blob), the local median and the border
 * do. */
static gboolean
ink_is_dark (CnnMnist * m, gfloat noise)
{
  gdouble stroke = stroke_polarity (m, noise), local, border;

  if (fabs (stroke) >= MIN_STROKE_POLARITY)
    return stroke < 0.0;
  local = local_polarity (m, noise);
  border = border_polarity (m);
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

CNN_VECTOR_CLONES gfloat
cnn_mnist_median_ink (CnnMnist * m)
{
  const guint ws = SAMPLED (m->w), hs = SAMPLED (m->h);

  hist_reset (&m->hist, -1.0f, 1.0f);
  hist_bins_sampled (&m->hist, m->ink, m->w, m->h, m->bins);
  hist_count (&m->hist, m->bins, (gsize) ws * hs, 1, (gsize) ws * hs);
  return hist_quantile (&m->hist, 0.5);
}


/* Light paper's brightness (the blocks' median upper quartile) over a
 * well-lit page's, in MIN_LIGHT_SHARE .. 1. */
static gfloat
paper_light_share (CnnMnist * m)
{
  memcpy (m->scratch, m->q75, sizeof m->scratch);
  return CLAMP (median_of (m->scratch, GRID * GRID) / LIT_PAPER,
      MIN_LIGHT_SHARE, 1.0f);
}

CNN_VECTOR_CLONES gfloat
cnn_mnist_flatten (CnnMnist * m)
{
  gboolean dark;
  gfloat noise;

  block_quartiles (m);
  noise = estimate_noise (m);
  dark = ink_is_dark (m, noise);
  m->dark_ink = dark;
  m->light_share = dark ? paper_light_share (m) : 1.0f;
  flatten_background (m, dark, noise);
  return noise;
}
