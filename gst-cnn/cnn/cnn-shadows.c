/* Shadows on the paper (docs/design.md, "The mnist mode").
 *
 * The background fit is a quadratic: it holds a lamp's falloff and a
 * vignette, not the edge of a shadow, which cuts the region into a lit
 * and a shaded part.  Left alone, the shaded part is one huge "ink"
 * component along the edge, and a digit in it is lost.  The paper's own
 * level, block by block (a low quantile of a block's ink: three
 * quarters of it may be strokes), shows such a part as blocks standing
 * above the fit; those connected to the region's edge are the shadow
 * (a block raised by a stroke inside the region is not), and their
 * level, median-filtered so that a block a stroke covers takes its
 * neighbours', is interpolated between block centres and taken off.
 * A shadow's soft edge is wider than a block, so it is followed; a hard
 * one leaves a band of at most half a block along it.
 */
#include "cnn-select.h"
#include "cnn-shadows.h"

#include <string.h>

#define BLOCKS 16               /* per side of the grid */
#define SAMPLE_STEP 2           /* cells between sampled cells, each way */
#define PAPER_QUANTILE 0.25     /* of a block's ink: its paper */
#define MIN_EDGE_BLOCKS 8       /* of the 60 along the grid's edge */

struct _CnnShadows
{
  guint w, h;
  guint bx[BLOCKS + 1], by[BLOCKS + 1];
  gfloat level[BLOCKS * BLOCKS];        /* paper above the fit */
  gfloat lift[BLOCKS * BLOCKS]; /* taken off: shadow blocks only */
  gboolean shadow[BLOCKS * BLOCKS];
  guint stack[BLOCKS * BLOCKS];
  gfloat *samples;              /* one block's sampled cells */
  gfloat *row;                  /* w: one row of the interpolated lift */
  guint *ix;                    /* w: block left of column x's centre */
  gfloat *fx;                   /* w: weight of the block right of it */
};

static void
block_bounds (guint *bounds, guint n)
{
  for (guint b = 0; b <= BLOCKS; b++)
    bounds[b] = b * n / BLOCKS;
}

CnnShadows *
cnn_shadows_new (guint w, guint h)
{
  CnnShadows *s = g_try_new0 (CnnShadows, 1);
  const gsize block_cells = ((gsize) w / BLOCKS + 1) * (h / BLOCKS + 1);

  if (!s)
    return NULL;
  s->w = w;
  s->h = h;
  block_bounds (s->bx, w);
  block_bounds (s->by, h);
  s->samples = g_try_new (gfloat, block_cells + 2 * (gsize) w);
  s->ix = g_try_new (guint, w);
  if (!s->samples || !s->ix || w < BLOCKS || h < BLOCKS) {
    cnn_shadows_free (s);
    return NULL;
  }
  s->row = s->samples + block_cells;
  s->fx = s->row + w;
  for (guint x = 0; x < w; x++) {
    const gdouble c = x + 0.5;
    guint b = 0;

    while (b + 2 < BLOCKS && 0.5 * (s->bx[b + 1] + s->bx[b + 2]) <= c)
      b++;
    s->ix[x] = b;
    s->fx[x] = CLAMP ((c - 0.5 * (s->bx[b] + s->bx[b + 1]))
        / (0.5 * (s->bx[b + 2] - s->bx[b])), 0.0, 1.0);
  }
  return s;
}

void
cnn_shadows_free (CnnShadows * s)
{
  if (!s)
    return;
  g_free (s->samples);
  g_free (s->ix);
  g_free (s);
}

/* Block (bx, by)'s paper level: the PAPER_QUANTILE of its sampled
 * cells. */
static gfloat
paper_level (CnnShadows * s, const gfloat * ink, guint bx, guint by)
{
  guint n = 0;

  for (guint y = s->by[by]; y < s->by[by + 1]; y += SAMPLE_STEP)
    for (guint x = s->bx[bx]; x < s->bx[bx + 1]; x += SAMPLE_STEP)
      s->samples[n++] = ink[(gsize) y * s->w + x];
  return cnn_select_kth (s->samples, n, (guint) (PAPER_QUANTILE * (n - 1)));
}

static gboolean
is_edge_block (guint bx, guint by)
{
  return bx == 0 || by == 0 || bx == BLOCKS - 1 || by == BLOCKS - 1;
}

/* The blocks' paper levels, the edge's first: unless MIN_EDGE_BLOCKS of
 * those stand above @slack there is no shadow, and the inner blocks are
 * not looked at (FALSE). */
static gboolean
paper_levels (CnnShadows * s, const gfloat * ink, gfloat slack)
{
  guint raised = 0;

  for (guint b = 0; b < BLOCKS * BLOCKS; b++)
    if (is_edge_block (b % BLOCKS, b / BLOCKS)) {
      s->level[b] = paper_level (s, ink, b % BLOCKS, b / BLOCKS);
      raised += s->level[b] > slack;
    }
  if (raised < MIN_EDGE_BLOCKS)
    return FALSE;
  for (guint b = 0; b < BLOCKS * BLOCKS; b++)
    if (!is_edge_block (b % BLOCKS, b / BLOCKS))
      s->level[b] = paper_level (s, ink, b % BLOCKS, b / BLOCKS);
  return TRUE;
}

/* s->shadow: the raised blocks (level > @slack) 4-connected to the
 * grid's edge.  FALSE when there are none, or when they meet the edge
 * along less than MIN_EDGE_BLOCKS: a shadow falls across the sheet, a
 * finger or a pen comes in at one place. */
static gboolean
find_shadow (CnnShadows * s, gfloat slack)
{
  guint top = 0, on_edge;

  memset (s->shadow, 0, sizeof s->shadow);
  for (guint b = 0; b < BLOCKS * BLOCKS; b++) {
    const guint x = b % BLOCKS, y = b / BLOCKS;

    if (is_edge_block (x, y) && s->level[b] > slack) {
      s->shadow[b] = TRUE;
      s->stack[top++] = b;
    }
  }
  on_edge = top;
  while (top > 0) {
    const guint b = s->stack[--top], x = b % BLOCKS, y = b / BLOCKS;
    const gint next[4] = { x > 0 ? (gint) b - 1 : -1,
      x + 1 < BLOCKS ? (gint) b + 1 : -1, y > 0 ? (gint) (b - BLOCKS) : -1,
      y + 1 < BLOCKS ? (gint) (b + BLOCKS) : -1
    };

    for (guint i = 0; i < 4; i++)
      if (next[i] >= 0 && !s->shadow[next[i]] && s->level[next[i]] > slack) {
        s->shadow[next[i]] = TRUE;
        s->stack[top++] = next[i];
      }
  }
  return on_edge >= MIN_EDGE_BLOCKS;
}

/* s->lift: a shadow block's level, the median of the shadow blocks'
 * among its 3 × 3 (a block a stroke covers takes its neighbours'); 0
 * elsewhere. */
static void
shadow_lift (CnnShadows * s)
{
  for (gint by = 0; by < BLOCKS; by++)
    for (gint bx = 0; bx < BLOCKS; bx++) {
      gfloat v[9];
      guint n = 0;

      s->lift[by * BLOCKS + bx] = 0.0f;
      if (!s->shadow[by * BLOCKS + bx])
        continue;
      for (gint y = MAX (by - 1, 0); y <= MIN (by + 1, BLOCKS - 1); y++)
        for (gint x = MAX (bx - 1, 0); x <= MIN (bx + 1, BLOCKS - 1); x++)
          if (s->shadow[y * BLOCKS + x])
            v[n++] = s->level[y * BLOCKS + x];
      s->lift[by * BLOCKS + bx] = cnn_select_kth (v, n, n / 2);
    }
}

/* ink -= the lift, bilinear between block centres; along the shadow's
 * edge, the shaded paper's whole lift. */
static void
take_off_lift (CnnShadows * s, gfloat * ink)
{
  for (guint y = 0; y < s->h; y++) {
    const gdouble c = y + 0.5;
    guint b = 0;
    gfloat fy, top[BLOCKS], high[BLOCKS], *out = ink + (gsize) y * s->w;

    while (b + 2 < BLOCKS && 0.5 * (s->by[b + 1] + s->by[b + 2]) <= c)
      b++;
    fy = CLAMP ((c - 0.5 * (s->by[b] + s->by[b + 1]))
        / (0.5 * (s->by[b + 2] - s->by[b])), 0.0, 1.0);
    for (guint k = 0; k < BLOCKS; k++) {
      top[k] = s->lift[b * BLOCKS + k] + fy * (s->lift[(b + 1) * BLOCKS + k]
          - s->lift[b * BLOCKS + k]);
      high[k] = MAX (s->lift[b * BLOCKS + k], s->lift[(b + 1) * BLOCKS + k]);
    }
    for (guint x = 0; x < s->w; x++) {
      const guint k = s->ix[x];
      const gfloat lift = top[k] + s->fx[x] * (top[k + 1] - top[k]);
      const gfloat most = MAX (high[k], high[k + 1]);

      /* Where the shadow's edge crosses, paper in the shade stands up
       * to the most of the blocks around, more than the interpolation:
       * it loses as much, and no cell loses more than it has. */
      out[x] -= MAX (lift, MIN (MAX (out[x], 0.0f), most));
    }
  }
}

gboolean
cnn_shadows_flatten (CnnShadows * s, gfloat * ink, gfloat slack)
{
  g_return_val_if_fail (s != NULL && ink != NULL, FALSE);

  if (!paper_levels (s, ink, slack) || !find_shadow (s, slack))
    return FALSE;
  shadow_lift (s);
  take_off_lift (s, ink);
  return TRUE;
}
