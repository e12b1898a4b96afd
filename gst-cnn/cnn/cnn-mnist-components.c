/* Step 4 of the "mnist" digit finder (cnn-mnist.c): connected
 * components of the ink cells. */
#include "cnn-clones.h"
#include "cnn-mnist-private.h"

#include <math.h>
#include <string.h>

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

CNN_VECTOR_CLONES void
cnn_mnist_label (CnnMnist * m, gfloat thr)
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
      /* Every field not named is zeroed: strokes = 0 undoes the valley
       * test's verdict on the last labelling's component of this id. */
      m->comps[root->id] = (CnnComponent) {
      .x0 = G_MAXUINT,.y0 = G_MAXUINT,.peak = -G_MAXFLOAT};
    }
    m->runs[i].id = root->id;
    if (root->id != 0)
      component_add_run (m, root->id, &m->runs[i]);
  }
  count_shared_cells (m);
}


/* Labelled at @low; the components whose peak stays below @high are
 * then emptied: statistics of no cells, which no rule takes and no
 * measure divides by.  Their runs keep their ids, so that the framing
 * still leaves their cells out as another component's. */
void
cnn_mnist_label_hysteresis (CnnMnist * m, gfloat low, gfloat high)
{
  cnn_mnist_label (m, low);
  if (high <= low)
    return;
  for (guint32 id = 1; id <= m->n_comps; id++) {
    CnnComponent *c = &m->comps[id];

    /* Zeroed as a new component is, the verdict of the valley test
     * with it. */
    if (c->peak < high)
      *c = (CnnComponent) {
      .x0 = G_MAXUINT,.y0 = G_MAXUINT,.peak = c->peak};
  }
}
