/* Step 4 of the "mnist" digit finder (cnn-mnist.c), continued: whether
 * a component is made of strokes (docs/design.md, "The mnist mode").
 *
 * A pen's stroke is a valley in the picture: inkier than the paper on
 * both sides of it.  The edge of a shadow, of a table or of a finger is
 * a step: the background fit and the shadow lift leave a band of "ink"
 * along it, as long and as thin as a stroke, but in the picture that
 * band is only as inky as the dark side next to it.  So a component
 * whose cells are rarely valleys is clutter, not a digit, whatever its
 * shape.  The test reads the region's grey picture, not the flattened
 * ink, which the shadow lift has made a valley of the band too.
 */
#include "cnn-mnist-private.h"

/* A valley stands above both sides by this share of its own ink. */
#define VALLEY_DEPTH 0.5f
/* Cells beyond the strokes' width: both sides are paper. */
#define VALLEY_MARGIN 2.5
#define MIN_VALLEY_DISTANCE 3
#define MAX_VALLEY_DISTANCE 24

/* Cell (x, y)'s inkiness in the grey picture: higher is inkier. */
static inline gfloat
grey_ink (const CnnMnist * m, gint x, gint y)
{
  const gfloat g = m->grey[(gsize) y * m->w + x];

  return m->dark_ink ? 1.0f - g : g;
}

static inline gboolean
inside (const CnnMnist * m, gint x, gint y)
{
  return x >= 0 && y >= 0 && x < (gint) m->w && y < (gint) m->h;
}

/* Whether cell (x, y) is a valley: inkier by VALLEY_DEPTH of its own ink
 * than the cells @d away on both sides, along a row, a column or a
 * diagonal (whichever crosses the stroke). */
static gboolean
is_valley (const CnnMnist * m, gint x, gint y, gint d)
{
  static const gint directions[4][2] = { {1, 0}, {0, 1}, {1, 1}, {1, -1} };
  const gfloat here = grey_ink (m, x, y);
  const gfloat depth = VALLEY_DEPTH * m->ink[(gsize) y * m->w + x];

  for (guint k = 0; k < 4; k++) {
    const gint ax = x - d * directions[k][0], ay = y - d * directions[k][1];
    const gint bx = x + d * directions[k][0], by = y + d * directions[k][1];

    if (!inside (m, ax, ay) || !inside (m, bx, by))
      continue;
    if (here - MAX (grey_ink (m, ax, ay), grey_ink (m, bx, by)) >= depth)
      return TRUE;
  }
  return FALSE;
}

/* Component @id's sampled cells: every other one of its even rows. */
static guint
sampled_cells (const CnnMnist * m, guint32 id)
{
  guint n = 0;

  for (guint i = 0; i < m->n_runs; i++) {
    const CnnRun *r = &m->runs[i];

    if (r->id == id && r->y % 2 == 0)
      n += (r->x1 - r->x0) / 2 + 1;
  }
  return n;
}

gboolean
cnn_mnist_is_strokes (const CnnMnist * m, guint32 id, gdouble min_share)
{
  const CnnComponent *c = &m->comps[id];
  const gdouble width = 2.0 * c->area / MAX (component_edges (c), 1);
  const gint d = CLAMP ((gint) (width + VALLEY_MARGIN), MIN_VALLEY_DISTANCE,
      MAX_VALLEY_DISTANCE);
  const guint n = sampled_cells (m, id);
  guint tested = 0, valleys = 0;

  /* Too small to sample: no sign of clutter. */
  if (n == 0)
    return TRUE;
  for (guint i = 0; i < m->n_runs; i++) {
    const CnnRun *r = &m->runs[i];

    if (r->id != id || r->y % 2 != 0)
      continue;
    for (guint x = r->x0; x <= r->x1; x += 2) {
      tested++;
      valleys += is_valley (m, (gint) x, (gint) r->y, d);
      /* Decided as soon as the share is reached, or can no longer be. */
      if ((gdouble) valleys / n >= min_share)
        return TRUE;
      if ((gdouble) (valleys + n - tested) / n < min_share)
        return FALSE;
    }
  }
  return (gdouble) valleys / n >= min_share;
}
