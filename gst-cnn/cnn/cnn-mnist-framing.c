/* Steps 5 and 6 of the "mnist" digit finder (cnn-mnist.c): the digit
 * framed into the model input as MNIST's digits were. */
#include "cnn-clones.h"
#include "cnn-mnist-private.h"

#include <math.h>
#include <string.h>

#define BOX_LEVEL 0.3           /* MNIST's 20-pixel side holds for 0..0.3 */
#define BOX_FRACTION (20.0 / 28.0)
#define HALO_PIXELS 1.5         /* output pixels kept around the box */

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
 * selected components' runs, all inside m->box.  FALSE, m->box left as
 * it was, when there are none: the main component's ink level is 1,
 * but a number's piece may have the main component's inkiest cells
 * masked beyond its cuts (cnn-number.c). */
static gboolean
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
  if (x0 == G_MAXUINT)
    return FALSE;
  m->box[0] = x0;
  m->box[1] = y0;
  m->box[2] = x1;
  m->box[3] = y1;
  return TRUE;
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


CNN_VECTOR_CLONES gboolean
cnn_mnist_frame (CnnMnist * m, gdouble aspect, gfloat zero, gfloat scale,
    CnnPlacement * placement, gfloat * out)
{
  if (!shrink_box (m, zero, scale))
    return FALSE;
  place_digit (m, aspect, zero, scale, placement);
  render_digit (m, placement, out);
  return TRUE;
}
