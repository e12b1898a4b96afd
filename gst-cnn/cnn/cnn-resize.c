/* Area-average scaling: each output cell is the mean of the picture area
 * it covers, each source sample weighted by the part of it inside.
 *
 * The filter is separable: a cell is an x interval times a y interval,
 * so sample (x, y) weighs wx · wy.  Every source row of a cell row's y
 * span is reduced horizontally into one sum per cell, and those sums
 * accumulate with the row's weight.  Fully covered samples (all but two
 * per cell and axis when downscaling) are summed as integers; only the
 * end samples of a span are multiplied by a fraction.
 *
 * Cell bounds are exact rationals: boundary i of n cells over the frame
 * interval [start, start + length) on a plane subsampled by 2^shift lies
 * at (start·n + i·length) / (n·2^shift) plane samples.  Which samples a
 * cell touches is thus decided by integer division, never by rounding,
 * and never steps outside the region.
 */
#include "cnn-resize.h"

#include <string.h>

/* The source samples of one cell along one axis. */
typedef struct
{
  guint first, last;            /* plane samples touched, inclusive */
  gdouble w_first, w_last;      /* their coverage in (0, 1]; inner ones 1 */
} CnnSpan;

struct _CnnResizer
{
  guint width, height;
  CnnSpan *xs;                  /* width spans */
  CnnSpan *ys;                  /* height spans */
  gdouble *acc;                 /* CNN_RESIZE_MAX_PLANES × width cell sums */
};

CnnResizer *
cnn_resizer_new (guint width, guint height, GError ** error)
{
  CnnResizer *r;

  g_return_val_if_fail (width > 0 && height > 0, NULL);

  r = g_new0 (CnnResizer, 1);
  r->width = width;
  r->height = height;
  r->xs = g_try_new (CnnSpan, width);
  r->ys = g_try_new (CnnSpan, height);
  r->acc = g_try_new (gdouble, (gsize) CNN_RESIZE_MAX_PLANES * width);
  if (!r->xs || !r->ys || !r->acc) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "cannot allocate a scaler to %ux%u", width, height);
    cnn_resizer_free (r);
    return NULL;
  }
  return r;
}

void
cnn_resizer_free (CnnResizer * resizer)
{
  if (!resizer)
    return;
  g_free (resizer->xs);
  g_free (resizer->ys);
  g_free (resizer->acc);
  g_free (resizer);
}

/* n cells over frame [start, start + length), plane = frame >> shift
 * → n spans; returns the length of one cell in plane samples. */
static gdouble
compute_spans (guint start, guint length, guint n, guint shift,
    CnnSpan * spans)
{
  guint64 den = (guint64) n << shift;
  gdouble inv_den = 1.0 / den;
  guint64 lo = (guint64) start * n;

  for (guint i = 0; i < n; i++) {
    guint64 hi = lo + length;
    CnnSpan *s = &spans[i];

    s->first = lo / den;
    s->last = (hi + den - 1) / den - 1;
    if (s->first == s->last) {
      s->w_first = s->w_last = (hi - lo) * inv_den;
    } else {
      s->w_first = (((guint64) s->first + 1) * den - lo) * inv_den;
      s->w_last = (hi - s->last * den) * inv_den;
    }
    lo = hi;
  }
  return length * inv_den;
}

/* Rows of n planes sharing @ps (bytes a sample) → for k < n, ox < w:
 *   acc[k·w + ox] += wy · Σx wx(ox, x) · rows[k][x]
 * Always inlined with constant n (and ps where it helps): interleaved
 * planes (packed RGB, NV12's and YUY2's U and V) are summed in one pass
 * over their pixels. */
G_ALWAYS_INLINE static inline void
accumulate_rows (const guint8 * const *rows, guint n, gsize ps,
    const CnnSpan * xs, guint w, gdouble wy, gdouble * acc)
{
  for (guint ox = 0; ox < w; ox++) {
    const CnnSpan *s = &xs[ox];
    const gsize first = s->first * ps, last = s->last * ps;
    guint64 s0 = 0, s1 = 0, s2 = 0;

    /* Fully covered samples: integer sums, no multiplication.  The
     * tests of n vanish once inlined. */
    for (gsize x = first + ps; x < last; x += ps) {
      s0 += rows[0][x];
      if (n > 1)
        s1 += rows[1][x];
      if (n > 2)
        s2 += rows[2][x];
    }

    for (guint k = 0; k < n; k++) {
      const guint64 inner = k == 0 ? s0 : k == 1 ? s1 : s2;
      gdouble sum = s->w_first * rows[k][first];

      if (last != first)
        sum += s->w_last * rows[k][last] + inner;
      acc[(gsize) k * w + ox] += wy * sum;
    }
  }
}

static void
accumulate_group (const guint8 * const *rows, guint n, guint ps,
    const CnnSpan * xs, guint w, gdouble wy, gdouble * acc)
{
  if (n == 1 && ps == 1)
    accumulate_rows (rows, 1, 1, xs, w, wy, acc);
  else if (n == 1)
    accumulate_rows (rows, 1, ps, xs, w, wy, acc);
  else if (n == 2)
    accumulate_rows (rows, 2, ps, xs, w, wy, acc);
  else
    accumulate_rows (rows, 3, ps, xs, w, wy, acc);
}

static gdouble
span_weight (const CnnSpan * s, guint i)
{
  if (i == s->first)
    return s->w_first;
  return i == s->last ? s->w_last : 1.0;
}

void
cnn_resizer_run (CnnResizer * r, const CnnPlane * const *planes,
    guint n_planes, CnnRect rect, gfloat * const *out)
{
  const guint w = r->width;
  gdouble cell_w, cell_h, norm;

  g_return_if_fail (n_planes >= 1 && n_planes <= CNN_RESIZE_MAX_PLANES);
  g_return_if_fail (rect.width > 0 && rect.height > 0);

  cell_w = compute_spans (rect.x, rect.width, w, planes[0]->x_shift, r->xs);
  cell_h = compute_spans (rect.y, rect.height, r->height,
      planes[0]->y_shift, r->ys);
  norm = 1.0 / (cell_w * cell_h);

  for (guint oy = 0; oy < r->height; oy++) {
    const CnnSpan *ys = &r->ys[oy];

    memset (r->acc, 0, (gsize) n_planes * w * sizeof (gdouble));
    for (guint y = ys->first; y <= ys->last; y++) {
      const guint8 *rows[CNN_RESIZE_MAX_PLANES];

      for (guint k = 0; k < n_planes; k++)
        rows[k] = planes[k]->data + (gssize) y * planes[k]->row_stride;
      accumulate_group (rows, n_planes, planes[0]->pixel_stride, r->xs, w,
          span_weight (ys, y), r->acc);
    }
    for (guint k = 0; k < n_planes; k++)
      for (guint ox = 0; ox < w; ox++)
        out[k][(gsize) oy * w + ox] = r->acc[(gsize) k * w + ox] * norm;
  }
}
