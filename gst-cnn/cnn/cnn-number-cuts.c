/* Where touching digits may be cut apart (step 3 of cnn-number.c;
 * docs/design.md, "The number mode").
 *
 * Two digits written close touch at a point or along a short stroke,
 * and come out of labelling as one component.  Such a unit is wider
 * than most digits of its line's height: anything wider than 0.8
 * heights is looked at.  The cut proposed is the path from its top to
 * its bottom that crosses the least ink (a shortest path through the
 * unit's box, moving down one row a step, straight or diagonally; ink
 * costs its level, paper nothing), starting and ending away from its
 * sides and drawn gently towards its middle.  The two sides are then
 * another reading of the unit, which cnn-number-reader.c weighs against
 * the whole by what the network makes of each.
 *
 * Why a path, not a projection profile: a vertical line through the
 * joint of two round digits ("00", "69") runs along the strokes that
 * meet there and crosses more ink than one through either digit's
 * middle, so the profile's minimum is in the wrong place; the path
 * finds the joint, one stroke thick, where a cut through a digit's body
 * crosses two or three strokes.  Why the network decides, not a width
 * rule: digits are as narrow as a 1 and as wide as a flat 4, so a width
 * cannot tell "10" touching from a wide 0, but the classifier is sure
 * of a 1 and a 0 and unsure of half a 0.  Only cuts that could part two
 * digits are proposed (no more than 2 stroke widths of ink crossed, the
 * width measured on the unit as twice its area over its perimeter; both
 * sides at least half the line's height tall and a tenth of its ink),
 * so that most wide digits cost no second look.
 */
#include "cnn-number-private.h"

#include <math.h>
#include <string.h>

#define SPLIT_WIDTH 0.9         /* of the line's height: may be two digits */
#define CUT_MAX_STROKES 1.5     /* ink a cut may cross, in stroke widths */
#define CUT_MARGIN 0.15         /* of the piece's width: where cuts may
                                 * start and end, away from its sides */
#define CENTRE_COST 0.5         /* stroke widths a path pays for running
                                 * all the way half the width off centre */
#define STEP_COST 0.02          /* of a cell of ink: a diagonal step */
#define PIECE_MIN_HEIGHT 0.6    /* of the line's height */
#define PIECE_MIN_INK 0.1       /* of the two pieces' cells */
#define MAX_DEPTH 3             /* cuts of cuts: up to 5 digits touching */
#define MAX_TRIES 3             /* paths tried, cheapest first */

/* The mean stroke width of @p's group's components in cells: twice
 * their area over their perimeter (as cnn_mnist_stroke_width()). */
static gdouble
group_stroke_width (const CnnNumber * n, guint group)
{
  const CnnMnist *m = n->m;
  guint64 area = 0, edges = 0;

  for (guint32 id = 1; id <= m->n_comps; id++)
    if (n->group_of[id] == group) {
      area += m->comps[id].area;
      edges += component_edges (&m->comps[id]);
    }
  return edges ? 2.0 * area / edges : 1.0;
}

/* n->cost over @p's box (bw wide): each kept cell's ink, 0..1. */
static void
fill_costs (CnnNumber * n, const CnnPiece * p, guint bw)
{
  const CnnMnist *m = n->m;
  const gfloat scale = 1.0f / MAX (n->level - n->zero, 1e-6f);

  memset (n->cost, 0, sizeof (gfloat) * bw * (p->y1 - p->y0 + 1));
  for (guint i = 0; i < m->n_runs; i++) {
    const CnnRun *r = &m->runs[i];
    const gfloat *ink = m->ink + (gsize) r->y * n->w;
    gfloat *cost = n->cost + (gsize) (r->y - p->y0) * bw - p->x0;

    if (r->id == 0 || !number_piece_owns (n, p, r->id) || r->y < p->y0
        || r->y > p->y1)
      continue;
    for (guint x = MAX (r->x0, p->x0); x <= MIN (r->x1, p->x1); x++)
      if (cnn_number_piece_keeps (n, p, x, r->y))
        cost[x] = CLAMP ((ink[x] - n->zero) * scale, 0.0f, 1.0f);
  }
}

/* The path's pull to the middle in row @y, column @x: the middle moves
 * across as the line is askew (a cut runs square to it). */
static gfloat
centre_cost (const CnnNumber * n, const CnnPiece * p, gdouble per_cell,
    guint x, guint y)
{
  const gdouble mid_y = 0.5 * (p->y0 + p->y1);
  const gdouble mid_x = 0.5 * (p->x0 + p->x1) - (y - mid_y) * n->sin_a
      / (n->cos_a * n->aspect);

  return per_cell * fabs (x - mid_x);
}

/* The cheapest paths down @p's box (bw wide), one ending at each column
 * of its last row: their costs, which n->moves leads back from. */
static const gfloat *
path_costs (CnnNumber * n, const CnnPiece * p, gdouble stroke, guint bw)
{
  const guint bh = p->y1 - p->y0 + 1;
  const guint lo = (guint) ceil (CUT_MARGIN * bw);
  const guint hi = bw - 1 - lo;
  /* All bh rows half the width off centre cost CENTRE_COST strokes. */
  const gdouble per_cell = CENTRE_COST * stroke / (0.5 * bw * bh);
  gfloat *prev = n->path_prev, *cur = n->path_cur;

  fill_costs (n, p, bw);
  for (guint x = 0; x < bw; x++)
    prev[x] = x < lo || x > hi ? G_MAXFLOAT : n->cost[x]
        + centre_cost (n, p, per_cell, p->x0 + x, p->y0);
  for (guint y = 1; y < bh; y++) {
    const gfloat *cost = n->cost + (gsize) y * bw;
    gint8 *moves = n->moves + (gsize) y * bw;

    for (guint x = 0; x < bw; x++) {
      gfloat from = prev[x];
      gint8 move = 0;

      if (x > 0 && prev[x - 1] + STEP_COST < from) {
        from = prev[x - 1] + STEP_COST;
        move = -1;
      }
      if (x + 1 < bw && prev[x + 1] + STEP_COST < from) {
        from = prev[x + 1] + STEP_COST;
        move = 1;
      }
      moves[x] = move;
      cur[x] = from >= G_MAXFLOAT ? G_MAXFLOAT : from + cost[x]
          + centre_cost (n, p, per_cell, p->x0 + x, p->y0 + y);
    }
    {
      gfloat *swap = prev;

      prev = cur;
      cur = swap;
    }
  }
  for (guint x = 0; x < bw; x++)
    if (x < lo || x > hi)
      prev[x] = G_MAXFLOAT;
  return prev;
}

/* The path ending at column @end of @p's box → @cut; the ink it
 * crosses. */
static gdouble
trace_path (CnnNumber * n, const CnnPiece * p, guint bw, guint end,
    CnnCut * cut)
{
  const guint bh = p->y1 - p->y0 + 1;
  gdouble ink = 0.0;

  cut->y0 = p->y0;
  cut->y1 = p->y1;
  for (guint y = bh; y-- > 0;) {
    cut->x[p->y0 + y] = p->x0 + end;
    ink += n->cost[(gsize) y * bw + end];
    if (y > 0)
      end += n->moves[(gsize) y * bw + end];
  }
  return ink;
}

/* Of the paths' ends in @costs (bw), the cheapest not yet @taken that
 * is a local minimum; -1: none left. */
static gint
next_end (const gfloat * costs, guint bw, const gboolean * taken)
{
  gint best = -1;

  for (guint x = 0; x < bw; x++) {
    if (taken[x] || costs[x] >= G_MAXFLOAT
        || (x > 0 && costs[x - 1] < costs[x])
        || (x + 1 < bw && costs[x + 1] < costs[x]))
      continue;
    if (best < 0 || costs[x] < costs[best])
      best = (gint) x;
  }
  return best;
}

static gboolean
is_wide (const CnnNumber * n, const CnnPiece * p)
{
  return p->span.u1 - p->span.u0 > SPLIT_WIDTH * n->height;
}

/* Whether @p, one side of a cut, is a digit. */
static gboolean
piece_is_digit (const CnnNumber * n, const CnnPiece * p, guint total)
{
  return p->area >= PIECE_MIN_INK * total
      && p->span.v1 - p->span.v0 >= PIECE_MIN_HEIGHT * n->height;
}

/* @path and @bound (a cut of the piece the path runs down) as one cut
 * → @out: the rows of both, in each the column nearer the side kept
 * (@keep_left: a right cut's, the lesser). */
static void
combine_cuts (const CnnNumber * n, const CnnCut * path, const CnnCut * bound,
    gboolean keep_left, CnnCut * out)
{
  out->y0 = MIN (path->y0, bound->y0);
  out->y1 = MAX (path->y1, bound->y1);
  for (guint y = out->y0; y <= out->y1; y++) {
    const gboolean in_path = y >= path->y0 && y <= path->y1;
    const gboolean in_bound = y >= bound->y0 && y <= bound->y1;
    /* Neither: a column that removes nothing. */
    guint x = keep_left ? n->w : 0;

    if (in_path && in_bound)
      x = keep_left ? MIN (path->x[y], bound->x[y])
          : MAX (path->x[y], bound->x[y]);
    else if (in_path || in_bound)
      x = in_path ? path->x[y] : bound->x[y];
    out->x[y] = (guint16) x;
  }
}

/* The sides of @p along the path in cut @index → @left and @right,
 * each keeping what @p kept beyond its own cuts: where @p has one, the
 * path joined with it in the next free cut.  FALSE when the cuts are
 * used up. */
static gboolean
sides_of_path (CnnNumber * n, const CnnPiece * p, gint index,
    CnnPiece * left, CnnPiece * right)
{
  gint next = index + 1;

  left->right_cut = right->left_cut = index;
  if (p->right_cut >= 0) {
    if (next >= CNN_NUMBER_MAX_CUTS)
      return FALSE;
    combine_cuts (n, &n->cuts[index], &n->cuts[p->right_cut], TRUE,
        &n->cuts[next]);
    left->right_cut = next++;
  }
  if (p->left_cut >= 0) {
    if (next >= CNN_NUMBER_MAX_CUTS)
      return FALSE;
    combine_cuts (n, &n->cuts[index], &n->cuts[p->left_cut], FALSE,
        &n->cuts[next]);
    right->left_cut = next++;
  }
  return TRUE;
}

/* The cuts @left and @right use, from the path in cut @index on. */
static guint
cuts_used (const CnnPiece * left, const CnnPiece * right, gint index)
{
  return (guint) (MAX (MAX (left->right_cut, right->left_cut), index)
      - index + 1);
}

/* The two sides of the thinnest cut down piece @i, as another reading
 * of it, when the cut could part two digits; and so on for each side
 * still wide, @depth more times. */
static void
propose_cut (CnnNumber * n, guint i, guint depth)
{
  CnnPiece *p = &n->pieces[i];
  const gdouble stroke = group_stroke_width (n, p->group);
  const gint index = (gint) n->n_cuts;
  const guint bw = p->x1 - p->x0 + 1;
  gboolean taken[CNN_MNIST_MAX_GRID_SIDE] = { FALSE };
  CnnPiece left = *p, right = *p;
  const gfloat *costs;
  gint l, r;

  if (bw < 5 || p->y1 <= p->y0 || n->n_cuts >= CNN_NUMBER_MAX_CUTS)
    return;
  costs = path_costs (n, p, stroke, bw);
  left.split[0] = left.split[1] = right.split[0] = right.split[1] = -1;
  left.joined = right.joined = -1;
  /* The cheapest paths first: the first that leaves two digits. */
  for (guint tries = 0; tries < MAX_TRIES; tries++) {
    const gint end = next_end (costs, bw, taken);
    gdouble ink;

    if (end < 0)
      return;
    taken[end] = TRUE;
    ink = trace_path (n, p, bw, (guint) end, &n->cuts[index]);
    if (ink > CUT_MAX_STROKES * stroke
        || !sides_of_path (n, p, index, &left, &right))
      return;
    cnn_number_piece_measure (n, &left);
    cnn_number_piece_measure (n, &right);
    if (piece_is_digit (n, &left, left.area + right.area)
        && piece_is_digit (n, &right, left.area + right.area)) {
      p->cut_strokes = ink / stroke;
      break;
    }
    if (tries + 1 == MAX_TRIES)
      return;
  }
  l = cnn_number_add_piece (n, &left);
  r = cnn_number_add_piece (n, &right);
  if (l < 0 || r < 0)
    return;
  n->n_cuts += cuts_used (&left, &right, index);
  p = &n->pieces[i];
  p->split[0] = l;
  p->split[1] = r;
  for (guint k = 0; k < 2 && depth > 0; k++)
    if (is_wide (n, &n->pieces[p->split[k]]))
      propose_cut (n, p->split[k], depth - 1);
}

void
cnn_number_propose_cuts (CnnNumber * n)
{
  n->n_cuts = 0;
  for (guint i = 0; i < n->n_units; i++)
    if (is_wide (n, &n->pieces[i]))
      propose_cut (n, i, MAX_DEPTH);
}
