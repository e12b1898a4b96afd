/* Area-average scaling: each output cell is the mean of the picture area
 * it covers, each source sample weighted by the part of it inside.
 *
 * The filter is separable: a cell is an x interval times a y interval,
 * so sample (x, y) weighs wx · wy.  Per output row, the source rows of
 * its y span are first combined with their weights into one line of the
 * region's width (a contiguous multiply-add the compiler vectorises).
 * Along that line (the plane's samples, packed), each cell is a dot
 * product of the samples from its first on with its weights (each
 * sample's coverage over the cell's width), padded with zeros to the
 * same count for every cell: 4 when no cell touches more samples
 * (downscaling by up to 3, and upscaling), two cells to an 8-float
 * vector; else a whole number of 8.  Eight cells at a time, their
 * products are then reduced into one vector of eight sums.  No loop
 * whose length varies per cell (and mispredicts), no chain of dependent
 * additions.
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

/* Eight floats, as GCC and clang's vector extensions build them for
 * whichever instruction set the code is built for. */
typedef gfloat CnnVec8 __attribute__ ((vector_size (8 * sizeof (gfloat))));
typedef gfloat CnnVec4 __attribute__ ((vector_size (4 * sizeof (gfloat))));
#define VEC 8
#define HALF 4
/* Passed between static functions only (and inlined into the entry
 * point): the warning that a 32-byte vector is passed differently with
 * and without AVX concerns no interface here. */
#if defined(__GNUC__)             /* and clang, which reads it too */
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

/* Bounds, taps and weights for one region on planes of one
 * subsampling. */
typedef struct
{
  gboolean valid;
  CnnRect rect;
  guint x_shift, y_shift;
  guint *x_first;               /* width: each cell's first sample */
  guint x_stride;               /* weights per cell: HALF, or n·VEC */
  gfloat *x_weights;            /* width × x_stride, zero padded */
  gsize x_capacity;             /* in weights */
  guint x0, n_samples;          /* the samples the cells read */
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
  gfloat *line;                 /* one vertically combined source row, and
                                 * room for the last cell's padded taps */
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
    r->tables[k].x_first = g_try_new (guint, width);
    r->tables[k].ys = g_try_new (CnnTaps, height);
    ok = ok && r->tables[k].x_first && r->tables[k].ys;
  }
  if (!ok) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM,
        "cannot allocate a scaler to %ux%u", width, height);
    cnn_resizer_free (r);
    return NULL;
  }
  return r;
}

guint64
cnn_resizer_bytes (guint width, guint height)
{
  return CNN_RESIZE_MAX_PLANES * ((guint64) width * sizeof (guint)
      + (guint64) height * sizeof (CnnTaps));
}

void
cnn_resizer_free (CnnResizer * resizer)
{
  if (!resizer)
    return;
  for (guint k = 0; k < CNN_RESIZE_MAX_PLANES; k++) {
    g_free (resizer->tables[k].x_first);
    g_free (resizer->tables[k].x_weights);
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

/* n cells over frame [start, start + length) along x, plane = frame >>
 * shift → each cell's first sample (from t->x0) and its weights, VEC
 * apiece padded with zeros; FALSE if the weights found no room. */
static gboolean
compute_x_taps (guint start, guint length, guint n, guint shift,
    CnnResizeTables * t)
{
  const guint64 den = (guint64) n << shift;
  const guint64 lo = (guint64) start * n, hi = lo + (guint64) n * length;
  const gdouble inv_length = 1.0 / length;
  guint max_taps = 1;

  t->x0 = lo / den;
  t->n_samples = (hi + den - 1) / den - t->x0;
  for (guint i = 0; i < n; i++) {
    const guint64 a = lo + (guint64) i * length, b = a + length;

    t->x_first[i] = a / den - t->x0;
    max_taps = MAX (max_taps, (guint) ((b + den - 1) / den - a / den));
  }
  /* Downscaling by up to 3 (a 640x480 or 1280x720 frame's region to
   * the digit finder's 224 cells) touches at most 4 samples a cell. */
  t->x_stride = max_taps <= HALF ? HALF
      : (max_taps + VEC - 1) / VEC * VEC;
  if (!reserve (&t->x_weights, &t->x_capacity, (gsize) n * t->x_stride,
          sizeof (gfloat)))
    return FALSE;
  for (guint i = 0; i < n; i++) {
    const guint64 a = lo + (guint64) i * length, b = a + length;
    gfloat *w = t->x_weights + (gsize) i * t->x_stride;

    /* Sample s covers [s·den, (s + 1)·den) of the cell's [a, b). */
    for (guint j = 0; j < t->x_stride; j++) {
      const guint64 s = t->x0 + t->x_first[i] + j;
      const guint64 from = MAX (a, s * den), to = MIN (b, (s + 1) * den);

      w[j] = to > from ? (to - from) * inv_length : 0.0f;
    }
  }
  return TRUE;
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
  t->valid = compute_x_taps (rect.x, rect.width, r->width, x_shift, t)
      && compute_taps (rect.y, rect.height, r->height, y_shift, t->ys,
      &t->y_weights, &t->y_capacity);
  return t->valid ? t : NULL;
}

/* Source rows of one y span (n samples each from @row, @ps bytes
 * apart) → line (n): line[i] = Σj wy[j] · row_j[i · ps] */
static void
combine_rows (const guint8 * restrict row, gint row_stride, gsize ps,
    const CnnTaps * ty, const gfloat * wy, gsize n, gfloat * restrict line)
{
  if (ps == 1) {                /* contiguous: vectorised */
    for (gsize i = 0; i < n; i++)
      line[i] = wy[0] * row[i];
    for (guint j = 1; j < ty->n; j++) {
      const gfloat w = wy[j];

      row += row_stride;
      for (gsize i = 0; i < n; i++)
        line[i] += w * row[i];
    }
    return;
  }
  for (gsize i = 0; i < n; i++)
    line[i] = wy[0] * row[i * ps];
  for (guint j = 1; j < ty->n; j++) {
    const gfloat w = wy[j];

    row += row_stride;
    for (gsize i = 0; i < n; i++)
      line[i] += w * row[i * ps];
  }
}

static inline CnnVec8
load_vec (const gfloat * p)
{
  CnnVec8 v;

  memcpy (&v, p, sizeof v);
  return v;
}

/* Lane-pair sums of a and b, per half: (a0+a1, a2+a3, b0+b1, b2+b3,
 * a4+a5, a6+a7, b4+b5, b6+b7), as SSE3/AVX's haddps. */
static inline CnnVec8
pair_sums (CnnVec8 a, CnnVec8 b)
{
  return __builtin_shufflevector (a, b, 0, 2, 8, 10, 4, 6, 12, 14)
      + __builtin_shufflevector (a, b, 1, 3, 9, 11, 5, 7, 13, 15);
}

/* p[k] (k < VEC) → (Σ p[0], ..., Σ p[7]) */
static inline CnnVec8
sum_each (const CnnVec8 * p)
{
  const CnnVec8 u0 = pair_sums (pair_sums (p[0], p[1]),
      pair_sums (p[2], p[3]));
  const CnnVec8 u1 = pair_sums (pair_sums (p[4], p[5]),
      pair_sums (p[6], p[7]));

  return __builtin_shufflevector (u0, u1, 0, 1, 2, 3, 8, 9, 10, 11)
      + __builtin_shufflevector (u0, u1, 4, 5, 6, 7, 12, 13, 14, 15);
}

/* Cell @i's samples times its weights, summed over its taps' vectors */
static inline CnnVec8
cell_products (const CnnResizeTables * t, const gfloat * line, guint i)
{
  const gfloat *w = t->x_weights + (gsize) i * t->x_stride;
  const gfloat *v = line + t->x_first[i];
  CnnVec8 p = load_vec (w) * load_vec (v);

  for (guint c = 1; c < t->x_stride / VEC; c++)
    p += load_vec (w + c * VEC) * load_vec (v + c * VEC);
  return p;
}

/* Cells @i and @i + 1 of at most HALF taps: their samples times their
 * weights, side by side in one vector */
static inline CnnVec8
cell_pair_products (const CnnResizeTables * t, const gfloat * line, guint i)
{
  CnnVec4 a, b, wa, wb;

  memcpy (&a, line + t->x_first[i], sizeof a);
  memcpy (&b, line + t->x_first[i + 1], sizeof b);
  memcpy (&wa, t->x_weights + (gsize) i * HALF, sizeof wa);
  memcpy (&wb, t->x_weights + (gsize) (i + 1) * HALF, sizeof wb);
  return __builtin_shufflevector (a, b, 0, 1, 2, 3, 4, 5, 6, 7)
      * __builtin_shufflevector (wa, wb, 0, 1, 2, 3, 4, 5, 6, 7);
}

/* The same as combine_columns() for cells of at most HALF taps: two
 * cells a vector, four vectors for eight cells, whose sums two rounds
 * of pair sums and one permutation put in order. */
static void
combine_columns_narrow (const gfloat * line, const CnnResizeTables * t,
    guint w, gfloat * out)
{
  guint i = 0;

  for (; i + VEC <= w; i += VEC) {
    const CnnVec8 p01 = cell_pair_products (t, line, i);
    const CnnVec8 p23 = cell_pair_products (t, line, i + 2);
    const CnnVec8 p45 = cell_pair_products (t, line, i + 4);
    const CnnVec8 p67 = cell_pair_products (t, line, i + 6);
    /* (0, 2, 4, 6 | 1, 3, 5, 7) */
    const CnnVec8 mixed = pair_sums (pair_sums (p01, p23),
        pair_sums (p45, p67));
    const CnnVec8 sums =
        __builtin_shufflevector (mixed, mixed, 0, 4, 1, 5, 2, 6, 3, 7);

    memcpy (out + i, &sums, sizeof sums);
  }
  for (; i < w; i++) {
    const gfloat *v = line + t->x_first[i];
    const gfloat *wx = t->x_weights + (gsize) i * HALF;

    out[i] = (wx[0] * v[0] + wx[1] * v[1]) + (wx[2] * v[2] + wx[3] * v[3]);
  }
}

/* line (the region's samples, packed) → out (w cells): the mean over
 * each cell's x interval, VEC cells at a time (a fixed count, so that
 * their products stay in registers), then the rest */
static void
combine_columns (const gfloat * line, const CnnResizeTables * t, guint w,
    gfloat * out)
{
  CnnVec8 p[VEC], sums;
  guint i = 0;

  for (; i + VEC <= w; i += VEC) {
    for (guint k = 0; k < VEC; k++)
      p[k] = cell_products (t, line, i + k);
    sums = sum_each (p);
    memcpy (out + i, &sums, sizeof sums);
  }
  if (i == w)
    return;
  for (guint k = 0; k < VEC; k++)
    p[k] = i + k < w ? cell_products (t, line, i + k) : (CnnVec8) { 0 };
  sums = sum_each (p);
  memcpy (out + i, &sums, (w - i) * sizeof (gfloat));
}

CNN_VECTOR_CLONES gboolean
cnn_resizer_run (CnnResizer * r, const CnnPlane * const *planes,
    guint n_planes, CnnRect rect, gfloat * const *out)
{
  const CnnResizeTables *t;
  const guint ps = planes[0]->pixel_stride;
  gsize n;

  g_return_val_if_fail (n_planes >= 1 && n_planes <= CNN_RESIZE_MAX_PLANES,
      FALSE);
  g_return_val_if_fail (rect.width > 0 && rect.height > 0, FALSE);

  t = get_tables (r, rect, planes[0]->x_shift, planes[0]->y_shift);
  if (!t)
    return FALSE;
  /* The last cells' padded taps read past the region's samples, with
   * zero weights: what lies there must be finite (zeros from the first
   * allocation, or an earlier region's samples). */
  n = t->n_samples + t->x_stride;
  if (n > r->line_capacity) {
    g_free (r->line);
    r->line = g_try_new0 (gfloat, n);
    r->line_capacity = r->line ? n : 0;
    if (!r->line)
      return FALSE;
  }

  for (guint k = 0; k < n_planes; k++) {
    const CnnPlane *p = planes[k];

    for (guint oy = 0; oy < r->height; oy++) {
      const CnnTaps *ty = &t->ys[oy];
      const guint8 *row = p->data + (gssize) ty->first * p->row_stride
          + (gsize) t->x0 * ps;
      gfloat *dest = out[k] + (gsize) oy * r->width;

      if (ty->repeats) {
        memcpy (dest, dest - r->width, r->width * sizeof (gfloat));
        continue;
      }
      combine_rows (row, p->row_stride, ps, ty, t->y_weights + ty->offset,
          t->n_samples, r->line);
      if (t->x_stride == HALF)
        combine_columns_narrow (r->line, t, r->width, dest);
      else
        combine_columns (r->line, t, r->width, dest);
    }
  }
  return TRUE;
}

/* [c0, c1] of @cells cells over @length pixels from @origin → the
 * pixels they cover, [*start, *start + *size). */
static void
cells_to_pixels (guint c0, guint c1, guint cells, guint origin, guint length,
    guint * start, guint * size)
{
  const guint64 first = (guint64) c0 * length / cells;
  const guint64 end = ((guint64) (c1 + 1) * length + cells - 1) / cells;

  *start = origin + (guint) first;
  *size = (guint) MAX (end - first, 1);
}

CnnRect
cnn_cells_to_rect (guint x0, guint y0, guint x1, guint y1, guint grid_w,
    guint grid_h, CnnRect region)
{
  CnnRect r;

  cells_to_pixels (x0, x1, grid_w, region.x, region.width, &r.x, &r.width);
  cells_to_pixels (y0, y1, grid_h, region.y, region.height, &r.y,
      &r.height);
  return r;
}
