/* Area-average scaling: each output cell is the mean of the picture area
 * it covers, each source sample weighted by the part of it inside.
 *
 * The filter is separable: a cell is an x interval times a y interval,
 * so sample (x, y) weighs wx · wy.  Per output row, the source rows of
 * its y span are first combined with their weights into one line of the
 * region's width (a contiguous multiply-add the compiler vectorises).
 * Along that line, a cell from bound a to bound b (sample index + frac)
 * sums the samples from a's to b's, less a's part before a, plus b's
 * part before b: one add per sample and two multiplications per cell.
 *
 * Cell bounds are exact rationals: boundary i of n cells over the frame
 * interval [start, start + length) on a plane subsampled by 2^shift lies
 * at (start·n + i·length) / (n·2^shift) plane samples.  Which samples a
 * cell touches is thus decided by integer division, never by rounding,
 * and never steps outside the region.  The row weights (coverage over
 * the cell's height, so that each cell's sum to 1) and the column bounds
 * are worked out once per region and subsampling, not per frame.
 */
#include "cnn-clones.h"
#include "cnn-resize.h"

#include <string.h>

/* The source samples of one cell along one axis. */
typedef struct
{
  guint first, n;               /* samples first .. first + n - 1 */
  guint offset;                 /* of their weights in the table */
  gboolean repeats;             /* same samples and weights as the cell
                                 * before: upscaling makes many */
} CnnTaps;

/* A cell bound along x: sample index + frac, in plane samples. */
typedef struct
{
  guint index;
  gfloat frac;                  /* in [0, 1) */
} CnnBound;

/* Bounds, taps and weights for one region on planes of one
 * subsampling. */
typedef struct
{
  gboolean valid;
  CnnRect rect;
  guint x_shift, y_shift;
  CnnBound *xs;                 /* width + 1 */
  gfloat x_scale;               /* 1 / cell width in samples */
  CnnTaps *ys;                  /* height */
  gfloat *y_weights;
  gsize y_capacity;             /* in weights */
} CnnResizeTables;

struct _CnnResizer
{
  guint width, height;
  /* A frame may hold one group of planes per layout (luma, chroma):
   * one set of tables each, so that none is recomputed every frame. */
  CnnResizeTables tables[CNN_RESIZE_MAX_PLANES];
  guint next_tables;            /* replaced next on a miss */
  gfloat *line;                 /* one vertically combined source row */
  gsize line_capacity;
};

CnnResizer *
cnn_resizer_new (guint width, guint height, GError ** error)
{
  CnnResizer *r;
  gboolean ok = TRUE;

  g_return_val_if_fail (width > 0 && height > 0, NULL);

  r = g_new0 (CnnResizer, 1);
  r->width = width;
  r->height = height;
  for (guint k = 0; k < CNN_RESIZE_MAX_PLANES; k++) {
    r->tables[k].xs = g_try_new (CnnBound, width + 1);
    r->tables[k].ys = g_try_new (CnnTaps, height);
    ok = ok && r->tables[k].xs && r->tables[k].ys;
  }
  if (!ok) {
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
  for (guint k = 0; k < CNN_RESIZE_MAX_PLANES; k++) {
    g_free (resizer->tables[k].xs);
    g_free (resizer->tables[k].ys);
    g_free (resizer->tables[k].y_weights);
  }
  g_free (resizer->line);
  g_free (resizer);
}

/* Grows *@buf to hold @n items of @size bytes; contents are not kept. */
static gboolean
reserve (gpointer buf, gsize * capacity, gsize n, gsize size)
{
  gpointer grown;

  if (n <= *capacity)
    return TRUE;
  grown = g_try_malloc_n (n, size);
  if (!grown)
    return FALSE;
  g_free (*(gpointer *) buf);
  *(gpointer *) buf = grown;
  *capacity = n;
  return TRUE;
}

/* n cells over frame [start, start + length), plane = frame >> shift
 * → n taps and their weights; FALSE if the weights found no room. */
static gboolean
compute_taps (guint start, guint length, guint n, guint shift,
    CnnTaps * taps, gfloat ** weights, gsize * capacity)
{
  const guint64 den = (guint64) n << shift;
  const gdouble inv_length = 1.0 / length;
  guint64 lo = (guint64) start * n;
  gsize offset = 0;

  for (guint i = 0; i < n; i++) {
    const guint64 hi = lo + length;

    taps[i].first = lo / den;
    taps[i].n = (hi + den - 1) / den - taps[i].first;
    taps[i].offset = offset;
    offset += taps[i].n;
    lo = hi;
  }
  if (!reserve (weights, capacity, offset, sizeof (gfloat)))
    return FALSE;

  lo = (guint64) start * n;
  for (guint i = 0; i < n; i++) {
    const guint64 hi = lo + length;

    /* Sample s covers [s·den, (s + 1)·den) of the cell's [lo, hi). */
    for (guint j = 0; j < taps[i].n; j++) {
      const guint64 s = taps[i].first + j;
      const guint64 a = MAX (lo, s * den), b = MIN (hi, (s + 1) * den);

      (*weights)[taps[i].offset + j] = (b - a) * inv_length;
    }
    taps[i].repeats = i > 0 && taps[i].first == taps[i - 1].first
        && taps[i].n == taps[i - 1].n
        && !memcmp (*weights + taps[i].offset, *weights + taps[i - 1].offset,
        taps[i].n * sizeof (gfloat));
    lo = hi;
  }
  return TRUE;
}

/* The n + 1 bounds of n cells over frame [start, start + length) along
 * x, plane = frame >> shift; returns 1 / cell width in samples. */
static gfloat
compute_bounds (guint start, guint length, guint n, guint shift,
    CnnBound * bounds)
{
  const guint64 den = (guint64) n << shift;

  for (guint i = 0; i <= n; i++) {
    const guint64 at = (guint64) start * n + (guint64) i * length;

    bounds[i].index = at / den;
    bounds[i].frac = (gdouble) (at % den) / den;
  }
  return (gdouble) den / length;
}

/* The tables for @rect on planes subsampled by @x_shift, @y_shift. */
static const CnnResizeTables *
get_tables (CnnResizer * r, CnnRect rect, guint x_shift, guint y_shift)
{
  CnnResizeTables *t;

  for (guint k = 0; k < CNN_RESIZE_MAX_PLANES; k++) {
    t = &r->tables[k];
    if (t->valid && t->x_shift == x_shift && t->y_shift == y_shift
        && !memcmp (&t->rect, &rect, sizeof rect))
      return t;
  }
  t = &r->tables[r->next_tables];
  r->next_tables = (r->next_tables + 1) % CNN_RESIZE_MAX_PLANES;
  t->rect = rect;
  t->x_shift = x_shift;
  t->y_shift = y_shift;
  t->x_scale = compute_bounds (rect.x, rect.width, r->width, x_shift, t->xs);
  t->valid = compute_taps (rect.y, rect.height, r->height, y_shift, t->ys,
      &t->y_weights, &t->y_capacity);
  return t->valid ? t : NULL;
}

/* Source rows of one y span (n bytes each from @row) → line (n):
 *   line[i] = Σj wy[j] · row_j[i] */
static void
combine_rows (const guint8 * restrict row, gint row_stride,
    const CnnTaps * ty, const gfloat * wy, gsize n, gfloat * restrict line)
{
  for (gsize i = 0; i < n; i++)
    line[i] = wy[0] * row[i];
  for (guint j = 1; j < ty->n; j++) {
    const gfloat w = wy[j];

    row += row_stride;
    for (gsize i = 0; i < n; i++)
      line[i] += w * row[i];
  }
}

/* line (samples from @x0, @ps floats apart) → out (w cells): the mean
 * over each cell's x interval */
static void
combine_columns (const gfloat * line, guint ps, guint x0,
    const CnnResizeTables * t, guint w, gfloat * out)
{
  for (guint ox = 0; ox < w; ox++) {
    const CnnBound *a = &t->xs[ox], *b = &t->xs[ox + 1];
    const gfloat *v = line - (gsize) x0 * ps;
    gfloat sum = -a->frac * v[(gsize) a->index * ps];

    for (guint j = a->index; j < b->index; j++)
      sum += v[(gsize) j * ps];
    /* A bound on the last sample's far edge reads nothing past it. */
    if (b->frac > 0.0f)
      sum += b->frac * v[(gsize) b->index * ps];
    out[ox] = sum * t->x_scale;
  }
}

CNN_VECTOR_CLONES gboolean
cnn_resizer_run (CnnResizer * r, const CnnPlane * const *planes,
    guint n_planes, CnnRect rect, gfloat * const *out)
{
  const CnnResizeTables *t;
  const guint ps = planes[0]->pixel_stride;
  guint x0;
  gsize n_samples, n;

  g_return_val_if_fail (n_planes >= 1 && n_planes <= CNN_RESIZE_MAX_PLANES,
      FALSE);
  g_return_val_if_fail (rect.width > 0 && rect.height > 0, FALSE);

  t = get_tables (r, rect, planes[0]->x_shift, planes[0]->y_shift);
  if (!t)
    return FALSE;
  /* Bytes from the region's first sample to its last, of one plane:
   * interleaved planes are combined as bytes, others' samples and all. */
  x0 = t->xs[0].index;
  n_samples = t->xs[r->width].index + (t->xs[r->width].frac > 0.0) - x0;
  n = (n_samples - 1) * ps + 1;
  if (!reserve (&r->line, &r->line_capacity, n, sizeof (gfloat)))
    return FALSE;

  for (guint k = 0; k < n_planes; k++) {
    const CnnPlane *p = planes[k];

    for (guint oy = 0; oy < r->height; oy++) {
      const CnnTaps *ty = &t->ys[oy];
      const guint8 *row = p->data + (gssize) ty->first * p->row_stride
          + (gsize) x0 * ps;
      gfloat *dest = out[k] + (gsize) oy * r->width;

      if (ty->repeats) {
        memcpy (dest, dest - r->width, r->width * sizeof (gfloat));
        continue;
      }
      combine_rows (row, p->row_stride, ty, t->y_weights + ty->offset, n,
          r->line);
      combine_columns (r->line, ps, x0, t, r->width, dest);
    }
  }
  return TRUE;
}
