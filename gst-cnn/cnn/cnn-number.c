/* Reading a number: the digits written on one line of the work picture,
 * in reading order, each framed as the "mnist" digit finder frames one
 * (docs/design.md, "The number mode").
 *
 * The paper, the light, the rulings and the components are the digit
 * finder's own (cnn_mnist_find_ink()), and so is the threshold, which
 * the first digit sets as it sets a digit's (cnn_mnist_choose_digit():
 * faint lines dropped, a faint pen's pieces joined), the same pen
 * having written the others; then, in frame units:
 *
 *   1. the line: the component that mnist mode would read is its first
 *      digit; the line grows from it, one component at a time, taking
 *      the nearest along the line that is as tall as its digits, no
 *      further from the line than half their height, and no more than
 *      1.5 heights beyond its ends.  The line's direction is fitted to
 *      the centres of what it holds (up to ±12°), so that a sheet held
 *      askew reads in order;
 *   2. the digits: every component near the line (parts, dots, flat
 *      strokes too; never blobs or what touches the region's border) is
 *      measured along and across the line.  Two that overlap along it
 *      by half the narrower are one digit, unless both are as tall as
 *      the line (a 7's bar over a 1); a low fragment (the dot of a
 *      broken stroke, a 5's bar) joins the digit it overlaps most; what
 *      is left low is no digit (a dot, a dash).  These groups are the
 *      units, ordered by their place along the line;
 *   3. doubts: two neighbouring units that nearly touch and together
 *      are no wider than a digit may be one digit broken in two (a 0 in
 *      two arcs where a ruling was erased): the piece of both is
 *      another reading; a unit wider than a digit may be two touching
 *      digits: the two sides of the cut that would part them
 *      (cnn-number-cuts.c) are another.  cnn-number-reader.c classifies
 *      every reading and keeps the surer;
 *   4. framing: a piece's components selected (and, for a cut one, what
 *      lies beyond its cuts set to paper), its own ink level taken, and
 *      framed as cnn_mnist_run() frames one digit; the work picture is
 *      put back after each.
 */
#include "cnn-number-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ANGLE (12.0 * G_PI / 180.0)
#define MIN_PART_AREA 4         /* cells: smaller is a speck of noise */
/* Step 1, in the line's heights. */
#define CORE_MIN_HEIGHT 0.45    /* a digit of the line is this tall ... */
#define CORE_MAX_HEIGHT 2.2     /* ... and no taller */
#define CORE_MIN_AREA 0.1       /* of the first digit's area */
#define LINE_TOLERANCE 0.5      /* a digit's centre off the line */
#define MAX_DIGIT_GAP 1.5       /* between two digits of one number */
#define MIN_FIT_SPREAD 0.6      /* centres spread along less than this:
                                 * no direction to fit */
/* Step 2. */
#define BAND 0.8                /* each side of the line: parts sought */
#define MAX_PART_HEIGHT 1.8     /* taller: a line drawn down the page */
#define MAX_PART_WIDTH 4.0      /* wider: an underline, a ruling left */
#define MERGE_OVERLAP 0.5       /* of the narrower of two: one digit */
#define FULL_HEIGHT 0.75        /* two this tall are two digits */
#define FRAGMENT_HEIGHT 0.6     /* lower: a fragment of a digit ... */
#define FRAGMENT_GAP 0.25       /* ... which joins one this near */
#define MIN_DIGIT_HEIGHT 0.45   /* lower, even after joining: no digit */
/* Step 3. */
#define JOIN_MAX_GAP 0.15       /* two units this near ... */
#define JOIN_MAX_WIDTH 1.1      /* ... no wider together: maybe one digit */

/* ---- life cycle ---------------------------------------------------- */

/* The sizes of the buffers of a reader on a @w × @h grid, in
 * CnnNumber's order: sizes[i] bytes for the i-th of *buffers[i]. */
#define N_BUFFERS 13

static void
number_buffers (CnnNumber * n, guint w, guint h, gsize sizes[N_BUFFERS],
    gpointer * places[N_BUFFERS])
{
  const gsize cells = (gsize) w * h, runs = (gsize) h * ((w + 1) / 2);
  const gsize comps = ((gsize) (w + 1) / 2) * ((h + 1) / 2) + 1;
  const gsize bytes[N_BUFFERS] = {
    cells * sizeof (gfloat), comps * sizeof (CnnSpan),
    comps * sizeof (guint32), comps * sizeof (guint32),
    comps * sizeof (guint32),
    (comps + CNN_NUMBER_MAX_OTHERS) * sizeof (CnnPiece),
    runs * sizeof (guint32), runs * sizeof (guint32),
    cells * sizeof (gfloat), cells, w * sizeof (gfloat), w * sizeof (gfloat),
    (gsize) CNN_NUMBER_MAX_CUTS * h * sizeof (guint16),
  };
  gpointer *const where[N_BUFFERS] = {
    (gpointer *) & n->saved, (gpointer *) & n->spans,
    (gpointer *) & n->group_of, (gpointer *) & n->list,
    (gpointer *) & n->parent, (gpointer *) & n->pieces,
    (gpointer *) & n->runs_a, (gpointer *) & n->runs_b,
    (gpointer *) & n->cost, (gpointer *) & n->moves,
    (gpointer *) & n->path_prev, (gpointer *) & n->path_cur,
    (gpointer *) & n->cuts[0].x,
  };

  memcpy (sizes, bytes, sizeof bytes);
  if (places)
    memcpy (places, where, sizeof where);
}

guint64
cnn_number_bytes (guint w, guint h)
{
  CnnNumber sizing;
  gsize sizes[N_BUFFERS];
  guint64 total = sizeof (CnnNumber);

  number_buffers (&sizing, w, h, sizes, NULL);
  for (guint i = 0; i < N_BUFFERS; i++)
    total += sizes[i];
  return total;
}

CnnNumber *
cnn_number_new (CnnMnist * mnist)
{
  gsize sizes[N_BUFFERS];
  gpointer *places[N_BUFFERS];
  CnnNumber *n;

  g_return_val_if_fail (mnist != NULL, NULL);

  n = g_new0 (CnnNumber, 1);
  n->m = mnist;
  cnn_mnist_work_size (mnist, &n->w, &n->h);
  number_buffers (n, n->w, n->h, sizes, places);
  for (guint i = 0; i < N_BUFFERS; i++)
    if (!(*places[i] = g_try_malloc0 (sizes[i]))) {
      cnn_number_free (n);
      return NULL;
    }
  for (guint i = 1; i < CNN_NUMBER_MAX_CUTS; i++)
    n->cuts[i].x = n->cuts[0].x + (gsize) i * n->h;
  return n;
}

void
cnn_number_free (CnnNumber * n)
{
  gsize sizes[N_BUFFERS];
  gpointer *places[N_BUFFERS];

  if (!n)
    return;
  number_buffers (n, n->w, n->h, sizes, places);
  for (guint i = 0; i < N_BUFFERS; i++)
    g_free (*places[i]);
  g_free (n);
}

/* ---- components along the line ------------------------------------- */

static gdouble
box_height (const CnnComponent * c)
{
  return (gdouble) c->y1 - c->y0 + 1;
}

/* The centre of @c's box in frame units. */
static void
box_centre (const CnnNumber * n, const CnnComponent * c, gdouble * x,
    gdouble * y)
{
  *x = 0.5 * (c->x0 + c->x1 + 1) * n->aspect;
  *y = 0.5 * (c->y0 + c->y1 + 1);
}

/* @c's span along and across the line from its box's corners: a little
 * wider than its cells' when the line is askew, enough to grow the line
 * with (step 1). */
static CnnSpan
box_span (const CnnNumber * n, const CnnComponent * c)
{
  CnnSpan s = { G_MAXDOUBLE, -G_MAXDOUBLE, G_MAXDOUBLE, -G_MAXDOUBLE };

  for (guint k = 0; k < 4; k++) {
    const gdouble x = k & 1 ? c->x1 + 1.0 : c->x0;
    const gdouble y = k & 2 ? c->y1 + 1.0 : c->y0;
    const gdouble u = number_u (n, x, y), v = number_v (n, x, y);

    s.u0 = MIN (s.u0, u);
    s.u1 = MAX (s.u1, u);
    s.v0 = MIN (s.v0, v);
    s.v1 = MAX (s.v1, v);
  }
  return s;
}

static void
span_add_cells (const CnnNumber * n, CnnSpan * s, guint x0, guint x1,
    guint y)
{
  for (guint k = 0; k < 4; k++) {
    const gdouble x = k & 1 ? x1 + 1.0 : x0, yy = k & 2 ? y + 1.0 : y;
    const gdouble u = number_u (n, x, yy), v = number_v (n, x, yy);

    s->u0 = MIN (s->u0, u);
    s->u1 = MAX (s->u1, u);
    s->v0 = MIN (s->v0, v);
    s->v1 = MAX (s->v1, v);
  }
}

static const CnnSpan empty_span =
    { G_MAXDOUBLE, -G_MAXDOUBLE, G_MAXDOUBLE, -G_MAXDOUBLE };

/* Every component's span along the line, from its runs. */
static void
measure_spans (CnnNumber * n)
{
  const CnnMnist *m = n->m;

  for (guint32 id = 1; id <= m->n_comps; id++)
    n->spans[id] = empty_span;
  for (guint i = 0; i < m->n_runs; i++) {
    const CnnRun *r = &m->runs[i];

    if (r->id != 0)
      span_add_cells (n, &n->spans[r->id], r->x0, r->x1, r->y);
  }
}

static gdouble
interval_overlap (gdouble a0, gdouble a1, gdouble b0, gdouble b1)
{
  return MIN (a1, b1) - MAX (a0, b0);
}

static gdouble
interval_gap (gdouble a0, gdouble a1, gdouble b0, gdouble b1)
{
  return MAX (MAX (b0 - a1, a0 - b1), 0.0);
}

/* Whether component @c may be part of a digit of the number whose ink
 * has parts peaking at @min_peak: not clutter, not a speck. */
static gboolean
may_be_part (const CnnNumber * n, const CnnComponent * c, gfloat min_peak)
{
  return c->area >= MIN_PART_AREA && c->border == 0 && c->peak >= min_peak
      && !cnn_mnist_component_is_blob (c, n->aspect);
}

/* ---- step 1: the line ---------------------------------------------- */

/* Components @list [0, count) → the line's direction (cos_a, sin_a),
 * fitted by least squares to their centres weighted by area; level
 * when they spread too little along it to say. */
static void
fit_direction (CnnNumber * n, const guint32 * list, guint count)
{
  const CnnMnist *m = n->m;
  gdouble sw = 0.0, sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0, height = 0.0;
  gdouble angle = 0.0;

  for (guint i = 0; i < count; i++) {
    const CnnComponent *c = &m->comps[list[i]];
    gdouble x, y;

    box_centre (n, c, &x, &y);
    sw += c->area;
    sx += c->area * x;
    sy += c->area * y;
    sxx += c->area * x * x;
    sxy += c->area * x * y;
    height = MAX (height, box_height (c));
  }
  {
    const gdouble vx = sxx / sw - (sx / sw) * (sx / sw);
    const gdouble cxy = sxy / sw - (sx / sw) * (sy / sw);

    if (count >= 2 && vx >= (MIN_FIT_SPREAD * height) * (MIN_FIT_SPREAD
            * height))
      angle = CLAMP (atan (cxy / vx), -MAX_ANGLE, MAX_ANGLE);
  }
  n->cos_a = cos (angle);
  n->sin_a = sin (angle);
}

static gint
compare_doubles (gconstpointer a, gconstpointer b)
{
  const gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return (x > y) - (x < y);
}

/* The median of @count heights in @v (sorted). */
static gdouble
median_of (gdouble * v, guint count)
{
  qsort (v, count, sizeof (gdouble), compare_doubles);
  return count % 2 ? v[count / 2] : 0.5 * (v[count / 2 - 1] + v[count / 2]);
}

#define MAX_LINE 64             /* components the line holds at most */

typedef struct
{
  guint32 ids[MAX_LINE];
  guint count;
  CnnSpan span;                 /* of their boxes */
  gdouble v_mid;                /* the line's place across */
  gdouble height;               /* of its digits (the median) */
} CnnLine;

static void
line_update (CnnNumber * n, CnnLine * line)
{
  const CnnMnist *m = n->m;
  gdouble heights[MAX_LINE], sum_v = 0.0, sum_w = 0.0;

  fit_direction (n, line->ids, line->count);
  line->span = empty_span;
  for (guint i = 0; i < line->count; i++) {
    const CnnComponent *c = &m->comps[line->ids[i]];
    const CnnSpan s = box_span (n, c);

    line->span.u0 = MIN (line->span.u0, s.u0);
    line->span.u1 = MAX (line->span.u1, s.u1);
    line->span.v0 = MIN (line->span.v0, s.v0);
    line->span.v1 = MAX (line->span.v1, s.v1);
    sum_v += c->area * 0.5 * (s.v0 + s.v1);
    sum_w += c->area;
    heights[i] = box_height (c);
  }
  line->v_mid = sum_v / sum_w;
  line->height = median_of (heights, line->count);
}

/* The component that may join @line next: the nearest along it that is
 * a digit's height and lies on it; 0: none. */
static guint32
line_next (CnnNumber * n, const CnnLine * line, gfloat min_peak,
    guint min_area)
{
  const CnnMnist *m = n->m;
  const gdouble h = line->height;
  gdouble best_gap = MAX_DIGIT_GAP * h;
  guint32 best = 0;

  for (guint32 id = 1; id <= m->n_comps; id++) {
    const CnnComponent *c = &m->comps[id];
    gboolean member = FALSE;
    CnnSpan s;
    gdouble gap;

    if (c->area < min_area || box_height (c) < CORE_MIN_HEIGHT * h
        || box_height (c) > CORE_MAX_HEIGHT * h || !may_be_part (n, c,
            min_peak) || cnn_mnist_component_is_flat (m, c, n->aspect))
      continue;
    for (guint i = 0; i < line->count && !member; i++)
      member = line->ids[i] == id;
    if (member)
      continue;
    s = box_span (n, c);
    if (fabs (0.5 * (s.v0 + s.v1) - line->v_mid) > LINE_TOLERANCE * h)
      continue;
    gap = interval_gap (line->span.u0, line->span.u1, s.u0, s.u1);
    if (gap <= best_gap) {
      best_gap = gap;
      best = id;
    }
  }
  return best;
}

static void
find_line (CnnNumber * n, guint32 first, gfloat min_peak, CnnLine * line)
{
  const guint min_area = MAX (MIN_PART_AREA,
      (guint) (CORE_MIN_AREA * n->m->comps[first].area));
  guint32 next;

  line->ids[0] = first;
  line->count = 1;
  line_update (n, line);
  while (line->count < MAX_LINE
      && (next = line_next (n, line, min_peak, min_area)) != 0) {
    line->ids[line->count++] = next;
    line_update (n, line);
  }
}

/* ---- step 2: the digits -------------------------------------------- */

static guint32
find_root (guint32 * parent, guint32 i)
{
  while (parent[i] != i) {
    parent[i] = parent[parent[i]];
    i = parent[i];
  }
  return i;
}

static void
join (guint32 * parent, guint32 a, guint32 b)
{
  a = find_root (parent, a);
  b = find_root (parent, b);
  if (a != b)
    parent[MAX (a, b)] = MIN (a, b);
}

static gdouble
span_height (const CnnSpan * s)
{
  return s->v1 - s->v0;
}

static gdouble
span_width (const CnnSpan * s)
{
  return s->u1 - s->u0;
}

/* The components near the line that may be its digits' → n->list;
 * their count. */
static guint
gather_parts (CnnNumber * n, const CnnLine * line, gfloat min_peak)
{
  const CnnMnist *m = n->m;
  const gdouble h = line->height;
  guint count = 0;

  for (guint32 id = 1; id <= m->n_comps; id++) {
    const CnnComponent *c = &m->comps[id];
    const CnnSpan *s = &n->spans[id];

    n->parent[id] = id;
    if (!may_be_part (n, c, min_peak) || span_height (s) > MAX_PART_HEIGHT * h
        || span_width (s) > MAX_PART_WIDTH * h
        || interval_overlap (s->v0, s->v1, line->v_mid - BAND * h,
            line->v_mid + BAND * h) <= 0.0
        || interval_gap (s->u0, s->u1, line->span.u0, line->span.u1)
        > FRAGMENT_GAP * h)
      continue;
    n->list[count++] = id;
  }
  return count;
}

/* The span of group @root's components among @list [0, count). */
static CnnSpan
group_span (CnnNumber * n, guint count, guint32 root)
{
  CnnSpan s = empty_span;

  for (guint i = 0; i < count; i++) {
    const guint32 id = n->list[i];
    const CnnSpan *c = &n->spans[id];

    if (find_root (n->parent, id) != root)
      continue;
    s.u0 = MIN (s.u0, c->u0);
    s.u1 = MAX (s.u1, c->u1);
    s.v0 = MIN (s.v0, c->v0);
    s.v1 = MAX (s.v1, c->v1);
  }
  return s;
}

/* Parts that overlap along the line are one digit, but two of the
 * line's height side by side are two. */
static void
join_overlapping (CnnNumber * n, guint count)
{
  const gdouble full = FULL_HEIGHT * n->height;

  for (guint i = 0; i < count; i++)
    for (guint j = i + 1; j < count; j++) {
      const CnnSpan *a = &n->spans[n->list[i]], *b = &n->spans[n->list[j]];
      const gdouble narrower = MIN (span_width (a), span_width (b));

      if (interval_overlap (a->u0, a->u1, b->u0, b->u1) >= MERGE_OVERLAP
          * narrower && !(span_height (a) >= full && span_height (b) >= full))
        join (n->parent, n->list[i], n->list[j]);
    }
}

/* Each group still low joins the group it overlaps most along the line,
 * or the nearest, if near enough. */
static void
join_fragments (CnnNumber * n, guint count)
{
  const gdouble h = n->height;

  for (guint i = 0; i < count; i++) {
    const guint32 root = find_root (n->parent, n->list[i]);
    const CnnSpan fs = group_span (n, count, root);
    gdouble best = -FRAGMENT_GAP * h;
    guint32 target = 0;

    if (root != n->list[i] || span_height (&fs) >= FRAGMENT_HEIGHT * h)
      continue;
    for (guint j = 0; j < count; j++) {
      const guint32 other = find_root (n->parent, n->list[j]);
      CnnSpan os;
      gdouble score;

      if (other != n->list[j] || other == root)
        continue;
      os = group_span (n, count, other);
      score = interval_overlap (fs.u0, fs.u1, os.u0, os.u1);
      if (score > best && span_height (&os) >= FRAGMENT_HEIGHT * h) {
        best = score;
        target = other;
      }
    }
    if (target)
      join (n->parent, root, target);
  }
}

/* The groups → n->pieces (one each, uncut) and n->group_of; groups too
 * low to be digits are left out. */
static void
make_pieces (CnnNumber * n, guint count)
{
  const CnnMnist *m = n->m;

  n->n_groups = n->n_pieces = 0;
  for (guint32 id = 1; id <= m->n_comps; id++)
    n->group_of[id] = 0;
  for (guint i = 0; i < count; i++) {
    const guint32 id = n->list[i];
    CnnSpan s;

    if (find_root (n->parent, id) != id)
      continue;
    s = group_span (n, count, id);
    if (span_height (&s) < MIN_DIGIT_HEIGHT * n->height)
      continue;
    n->group_of[id] = ++n->n_groups;
  }
  for (guint i = 0; i < count; i++) {
    const guint32 id = n->list[i];

    n->group_of[id] = n->group_of[find_root (n->parent, id)];
  }
  for (guint g = 1; g <= n->n_groups; g++) {
    CnnPiece *p = &n->pieces[n->n_pieces++];

    *p = (CnnPiece) {
    .group = g,.left_cut = -1,.right_cut = -1,.split = {-1, -1},.joined = -1};
    cnn_number_piece_measure (n, p);
  }
}

/* The line's height from its digits: the median of the groups' own
 * heights, of those not much lower than the tallest (fragments that
 * found no digit are lower). */
static gdouble
digits_height (CnnNumber * n)
{
  gdouble heights[MAX_LINE], tallest = 0.0;
  guint count = 0;

  for (guint i = 0; i < n->n_pieces; i++)
    tallest = MAX (tallest, span_height (&n->pieces[i].span));
  for (guint i = 0; i < n->n_pieces && count < MAX_LINE; i++)
    if (span_height (&n->pieces[i].span) >= 0.5 * tallest)
      heights[count++] = span_height (&n->pieces[i].span);
  return count ? median_of (heights, count) : n->height;
}

/* ---- pieces --------------------------------------------------------- */

gboolean
cnn_number_piece_keeps (const CnnNumber * n, const CnnPiece * p, guint x,
    guint y)
{
  const CnnCut *left = p->left_cut >= 0 ? &n->cuts[p->left_cut] : NULL;
  const CnnCut *right = p->right_cut >= 0 ? &n->cuts[p->right_cut] : NULL;

  if (left && y >= left->y0 && y <= left->y1 && x < left->x[y])
    return FALSE;
  if (right && y >= right->y0 && y <= right->y1 && x > right->x[y])
    return FALSE;
  return TRUE;
}

void
cnn_number_piece_measure (CnnNumber * n, CnnPiece * p)
{
  const CnnMnist *m = n->m;

  p->span = empty_span;
  p->x0 = p->y0 = G_MAXUINT;
  p->x1 = p->y1 = 0;
  p->area = 0;
  for (guint i = 0; i < m->n_runs; i++) {
    const CnnRun *r = &m->runs[i];
    guint first = G_MAXUINT, last = 0;

    if (r->id == 0 || !number_piece_owns (n, p, r->id))
      continue;
    for (guint x = r->x0; x <= r->x1; x++)
      if (cnn_number_piece_keeps (n, p, x, r->y)) {
        first = MIN (first, x);
        last = x;
        p->area++;
      }
    if (first == G_MAXUINT)
      continue;
    span_add_cells (n, &p->span, first, last, r->y);
    p->x0 = MIN (p->x0, first);
    p->x1 = MAX (p->x1, last);
    p->y0 = MIN (p->y0, r->y);
    p->y1 = MAX (p->y1, r->y);
  }
}

gint
cnn_number_add_piece (CnnNumber * n, const CnnPiece * p)
{
  if (n->n_pieces >= n->n_units + CNN_NUMBER_MAX_OTHERS)
    return -1;
  n->pieces[n->n_pieces] = *p;
  return (gint) n->n_pieces++;
}

/* ---- step 3: broken digits ------------------------------------------ */

/* The runs of @p's components → @runs; their count. */
static guint
piece_runs (const CnnNumber * n, const CnnPiece * p, guint32 * runs)
{
  const CnnMnist *m = n->m;
  guint count = 0;

  for (guint i = 0; i < m->n_runs; i++)
    if (m->runs[i].id != 0 && number_piece_owns (n, p, m->runs[i].id))
      runs[count++] = i;
  return count;
}

/* The shortest distance between a cell of @a and one of @b, in frame
 * units, or more than @limit (which it stops at). */
static gdouble
pieces_distance (CnnNumber * n, const CnnPiece * a, const CnnPiece * b,
    gdouble limit)
{
  const CnnRun *runs = n->m->runs;
  const guint na = piece_runs (n, a, n->runs_a);
  const guint nb = piece_runs (n, b, n->runs_b);
  gdouble best = limit * limit + 1.0;

  for (guint i = 0; i < na; i++) {
    const CnnRun *ra = &runs[n->runs_a[i]];

    for (guint j = 0; j < nb; j++) {
      const CnnRun *rb = &runs[n->runs_b[j]];
      const gdouble dy = MAX (abs ((gint) ra->y - (gint) rb->y) - 1, 0);
      const gdouble dx = MAX (MAX ((gint) rb->x0 - (gint) ra->x1,
              (gint) ra->x0 - (gint) rb->x1) - 1, 0) * n->aspect;

      best = MIN (best, dx * dx + dy * dy);
    }
  }
  return sqrt (best);
}

/* Neighbouring units that nearly touch and together are no wider than
 * a digit: the piece of both is another reading (unit.joined). */
static void
propose_joins (CnnNumber * n)
{
  const gdouble h = n->height;

  for (guint i = 0; i + 1 < n->n_units; i++) {
    CnnPiece *a = &n->pieces[i];
    const CnnPiece *b = &n->pieces[i + 1];
    CnnPiece both = *a;
    gdouble gap;

    if (MAX (a->span.u1, b->span.u1) - MIN (a->span.u0, b->span.u0)
        > JOIN_MAX_WIDTH * h
        || (gap = pieces_distance (n, a, b, JOIN_MAX_GAP * h))
        > JOIN_MAX_GAP * h)
      continue;
    a->gap = gap / h;
    both.group2 = b->group;
    both.split[0] = both.split[1] = both.joined = -1;
    cnn_number_piece_measure (n, &both);
    a->joined = cnn_number_add_piece (n, &both);
  }
}

/* ---- steps 2 to 4: order and framing -------------------------------- */

static gint
compare_pieces (gconstpointer a, gconstpointer b)
{
  const CnnPiece *p = a, *q = b;
  const gdouble pu = p->span.u0 + p->span.u1, qu = q->span.u0 + q->span.u1;

  return (pu > qu) - (pu < qu);
}

/* Sets the cells of @p's group beyond its cuts to the paper's level
 * (@restore FALSE), or back to what they were. */
static void
mask_beyond_cuts (CnnNumber * n, const CnnPiece * p, gboolean restore)
{
  CnnMnist *m = n->m;

  if (p->left_cut < 0 && p->right_cut < 0)
    return;
  for (guint i = 0; i < m->n_runs; i++) {
    const CnnRun *r = &m->runs[i];
    const gsize row = (gsize) r->y * n->w;

    if (r->id == 0 || !number_piece_owns (n, p, r->id))
      continue;
    for (guint x = r->x0; x <= r->x1; x++)
      if (!cnn_number_piece_keeps (n, p, x, r->y))
        m->ink[row + x] = restore ? n->saved[row + x] : n->zero;
  }
}

/* The cells framing rewrote, as they were. */
static void
restore_window (CnnNumber * n, const CnnPlacement * p)
{
  for (guint y = p->cy0; y < p->cy1; y++) {
    const gsize row = (gsize) y * n->w;

    memcpy (n->m->ink + row + p->cx0, n->saved + row + p->cx0,
        (p->cx1 - p->cx0) * sizeof (gfloat));
  }
}

gboolean
cnn_number_frame (CnnNumber * n, const CnnPiece * p, gfloat * out,
    CnnCellBox * box)
{
  CnnMnist *m = n->m;
  guint32 main = 0;
  gfloat ink, min_peak;
  CnnPlacement placement;
  gboolean framed;

  for (guint32 id = 1; id <= m->n_comps; id++) {
    CnnComponent *c = &m->comps[id];

    c->selected = number_piece_owns (n, p, id);
    if (c->selected && (main == 0 || c->area > m->comps[main].area))
      main = id;
  }
  if (main == 0 || !cnn_mnist_digit_level (m, main, n->zero, n->thr, &ink,
          &min_peak))
    return FALSE;
  mask_beyond_cuts (n, p, FALSE);
  framed = cnn_mnist_frame_digit (m, n->aspect, n->zero, ink, &placement,
      out);
  mask_beyond_cuts (n, p, TRUE);
  if (!framed)
    return FALSE;
  restore_window (n, &placement);
  box->x0 = m->box[0];
  box->y0 = m->box[1];
  box->x1 = m->box[2];
  box->y1 = m->box[3];
  return TRUE;
}

void
cnn_number_segment (CnnNumber * n, gdouble aspect)
{
  CnnMnist *m = n->m;
  gfloat min_peak;
  guint32 first;
  CnnLine line;
  guint count;

  n->aspect = aspect;
  n->cos_a = 1.0;
  n->sin_a = 0.0;
  n->n_pieces = n->n_units = 0;
  cnn_mnist_find_ink (m, &n->zero, &n->thr);
  first = cnn_mnist_choose_digit (m, aspect, n->zero, &n->thr);
  if (first == 0 || !cnn_mnist_digit_level (m, first, n->zero, n->thr,
          &n->level, &min_peak))
    return;

  find_line (n, first, min_peak, &line);
  n->height = line.height;
  measure_spans (n);
  count = gather_parts (n, &line, min_peak);
  join_overlapping (n, count);
  join_fragments (n, count);
  make_pieces (n, count);
  n->height = digits_height (n);
  qsort (n->pieces, n->n_pieces, sizeof (CnnPiece), compare_pieces);
  n->n_units = n->n_pieces = MIN (n->n_pieces, CNN_NUMBER_MAX_DIGITS);

  memcpy (n->saved, m->ink, (gsize) n->w * n->h * sizeof (gfloat));
  propose_joins (n);
  cnn_number_propose_cuts (n);
}
