/* Step 4 of the "mnist" digit finder (cnn-mnist.c), continued: which
 * components are the digit, and how strongly it is inked. */
#include "cnn-clones.h"
#include "cnn-mnist-private.h"

#include <math.h>
#include <string.h>

#define MIN_AREA_FRACTION 0.0005        /* of the work grid, for the main one */
#define MIN_EXTENT_FRACTION 0.05        /* of the region's shorter side */
#define CENTRE_RADIUS 0.5       /* score halves at this distance (of half
                                 * the region's shorter side) */
#define MAX_BORDER_CONTACT 0.5  /* of its shorter side, for a component on
                                 * the border to be a digit cut by it */
#define MAX_SIDE_TO_SIDE 0.5    /* of the region: a long way */
#define STRAIGHT_ELONGATION 4.0 /* long over wide: straight */
#define BORDER_PENALTY 0.001    /* on the score of a digit cut by the border */
/* Of its cells, those that are valleys (cnn-mnist-valleys.c) in a
 * component of strokes: a shadow's edge, a table's or a finger's has
 * few; the candidates tried in turn. */
#define MIN_VALLEY_SHARE 0.4
#define MAX_CANDIDATES 4
/* Step 4b: rulings, and strokes that are not a digit's. */
#define FLAT_ELONGATION 6.0     /* long over wide, of a flat stroke */
#define FLAT_ANGLE 20.0         /* degrees from level */
#define RULING_ANGLE 12.0       /* degrees from the rulings */
#define MAX_BLOB_WIDTH 0.42     /* stroke width over size, of strokes */
/* Parts joining the main component. */
#define PART_GAP 0.2            /* of the main one's longer side */
#define PART_MIN_FRACTION 0.03  /* of the main one's area */
#define MAX_GROWTH 2.0          /* the digit's side, over the main one's */
/* Step 4c: cells below this share of the likeliest digit's ink level
 * are not its ink.  Below PART_MIN_PEAK (cnn-mnist.c), so that a stroke
 * that blur left fainter than the rest (one across a motion) stays. */
#define FAINT_FRACTION 0.3
/* ... unless that level is within this many thresholds (above zero) of
 * the paper: then components are taken from this share of the
 * threshold, when they reach it, if that joins this much more ink above
 * it to the piece it gave. */
#define WEAK_LEVEL 3.0
#define WEAK_FRACTION 0.5
#define JOIN_GROWTH 1.3
/* Step 5 and 6. */
#define INK_PERCENTILE 0.97

/* The spread of component @c's cells in frame units: the variances
 * along its main axis and across it, and the main axis's angle from the
 * rows, from the second moments. */
static void
component_axes (const CnnComponent * c, gdouble aspect, gdouble * major,
    gdouble * minor, gdouble * angle)
{
  const gdouble mx = c->sum_x / c->area, my = c->sum_y / c->area;
  const gdouble cxx = (c->sum_xx / c->area - mx * mx) * aspect * aspect;
  const gdouble cyy = c->sum_yy / c->area - my * my;
  const gdouble cxy = (c->sum_xy / c->area - mx * my) * aspect;
  const gdouble half_gap = sqrt (0.25 * (cxx - cyy) * (cxx - cyy) + cxy * cxy);

  *major = 0.5 * (cxx + cyy) + half_gap;
  *minor = MAX (0.5 * (cxx + cyy) - half_gap, 1e-9);
  *angle = 0.5 * atan2 (2.0 * cxy, cxx - cyy);
}

/* Whether component @c is @times longer than wide or more. */
static gboolean
is_elongated (const CnnComponent * c, gdouble aspect, gdouble times)
{
  gdouble major, minor, angle;

  component_axes (c, aspect, &major, &minor, &angle);
  return major >= times * times * minor;
}

/* Whether component @c is a straight piece lying along the rulings (or,
 * on any paper, flat: no digit is a horizontal bar). */
static gboolean
is_flat_stroke (const CnnMnist * m, const CnnComponent * c, gdouble aspect)
{
  const CnnLineFamily *rows = cnn_rulings_family (m->rulings, FALSE);
  gdouble major, minor, angle;

  component_axes (c, aspect, &major, &minor, &angle);
  if (major < FLAT_ELONGATION * FLAT_ELONGATION * minor)
    return FALSE;
  if (fabs (angle) <= FLAT_ANGLE * G_PI / 180.0)
    return TRUE;
  return rows->n_lines > 0 && fabs (angle - atan (rows->slope / aspect))
      <= RULING_ANGLE * G_PI / 180.0;
}

/* Whether a component on the region's border may be a digit that the
 * border cuts: its contact with the border is short, as a stroke's end;
 * a shadow, a strip, a table edge or the paper's border lie along it,
 * or run straight a long way from one side to another. */
static gboolean
may_be_cut_digit (const CnnMnist * m, const CnnComponent * c,
    gdouble aspect)
{
  const guint cw = c->x1 - c->x0 + 1, ch = c->y1 - c->y0 + 1;
  const gboolean side_to_side = (c->sides & (c->sides - 1)) != 0
      && (cw >= MAX_SIDE_TO_SIDE * m->w || ch >= MAX_SIDE_TO_SIDE * m->h);

  return c->border <= MAX_BORDER_CONTACT * MIN (cw, ch)
      && !(side_to_side && is_elongated (c, aspect, STRAIGHT_ELONGATION));
}

/* Whether component @c is a filled blob rather than strokes (a shadow,
 * a fingertip, a smudge): its stroke width is a large part of its
 * size.  A disc's is half its diameter; MNIST's boldest digits' about a
 * third of their height. */
static gboolean
is_blob (const CnnComponent * c, gdouble aspect)
{
  const gdouble width = 2.0 * c->area / MAX (component_edges (c), 1);
  const gdouble extent = MAX ((c->x1 - c->x0 + 1) * aspect,
      (gdouble) c->y1 - c->y0 + 1);

  return width > MAX_BLOB_WIDTH * extent;
}

/* The main ink component, 0 if none is large enough: the best by area
 * over (1 + (distance to the centre / radius)²).  Of those on the
 * region's border, only the ones it may have cut count, at a thousandth:
 * any digit inside wins over them, even a thin 1 beside a finger that
 * comes in from the edge (a thick stroke cut by the border, to these
 * tests); specks are out already (MIN_AREA_FRACTION). */
static guint32
choose_best (const CnnMnist * m, gdouble aspect, gdouble border_penalty)
{
  const gdouble half_short = 0.5 * MIN (m->w * aspect, (gdouble) m->h);
  const gdouble radius = CENTRE_RADIUS * half_short;
  const gdouble min_extent = MIN_EXTENT_FRACTION * 2.0 * half_short;
  const guint min_area = MAX (4, (guint) (MIN_AREA_FRACTION * m->w * m->h));
  guint32 best = 0;
  gdouble best_score = 0.0;

  for (guint32 id = 1; id <= m->n_comps; id++) {
    const CnnComponent *c = &m->comps[id];
    gdouble dx, dy, score;

    if (c->area < min_area || (c->border && !may_be_cut_digit (m, c, aspect))
        || is_flat_stroke (m, c, aspect) || is_blob (c, aspect)
        || c->strokes < 0)
      continue;
    if (MAX ((c->x1 - c->x0 + 1) * aspect, (gdouble) c->y1 - c->y0 + 1)
        < min_extent)
      continue;
    dx = (c->sum_x / c->area - 0.5 * m->w) * aspect;
    dy = c->sum_y / c->area - 0.5 * m->h;
    score = c->area / (1.0 + (dx * dx + dy * dy) / (radius * radius));
    if (c->border)
      score *= border_penalty;
    if (score > best_score) {
      best = id;
      best_score = score;
    }
  }
  return best;
}

/* Whether component @id is made of strokes, tested once a labelling. */
static gboolean
is_strokes (CnnMnist * m, guint32 id)
{
  CnnComponent *c = &m->comps[id];

  if (c->strokes == 0)
    c->strokes = cnn_mnist_is_strokes (m, id, MIN_VALLEY_SHARE) ? 1 : -1;
  return c->strokes > 0;
}

/* choose_best() of the components made of strokes: the best ones tried
 * in turn (the valley test costs more than the shape's), 0 when
 * MAX_CANDIDATES are clutter. */
static guint32
choose_strokes (CnnMnist * m, gdouble aspect, gdouble border_penalty)
{
  for (guint k = 0; k < MAX_CANDIDATES; k++) {
    const guint32 best = choose_best (m, aspect, border_penalty);

    if (best == 0 || is_strokes (m, best))
      return best;
  }
  return 0;
}

guint32
cnn_mnist_choose_main (CnnMnist * m, gdouble aspect)
{
  return choose_strokes (m, aspect, BORDER_PENALTY);
}

/* The component that would be the main one if the border cut nothing:
 * the likeliest digit, even when a ruling or a faint line joins it to
 * the border. */
static guint32
choose_likeliest (CnnMnist * m, gdouble aspect)
{
  return choose_strokes (m, aspect, 1.0);
}

/* The level of the main component's ink: its cells' 97th percentile. */
CNN_VECTOR_CLONES gfloat
cnn_mnist_ink_level (CnnMnist * m, guint32 id, gfloat thr)
{
  hist_reset (&m->hist, thr, m->comps[id].peak);
  for (guint i = 0; i < m->n_runs; i++) {
    const CnnRun *r = &m->runs[i];
    const guint n = r->x1 - r->x0 + 1;

    if (r->id != id)
      continue;
    hist_bins (&m->hist, m->ink + (gsize) r->y * m->w + r->x0, n, m->bins);
    for (guint x = 0; x < n; x++)
      m->hist.counts[m->bins[x]]++;
    m->hist.total += n;
  }
  return hist_quantile (&m->hist, INK_PERCENTILE);
}

/* ---- step 4c: the digit's own threshold ---------------------------- */

/* Component @id's cells at or above @thr. */
static guint
strong_cells (const CnnMnist * m, guint32 id, gfloat thr)
{
  guint n = 0;

  for (guint i = 0; i < m->n_runs; i++) {
    const CnnRun *r = &m->runs[i];
    const gfloat *ink = m->ink + (gsize) r->y * m->w;

    if (r->id != id)
      continue;
    for (guint x = r->x0; x <= r->x1; x++)
      n += ink[x] >= thr;
  }
  return n;
}

/* A weakly inked digit: labelled with hysteresis from @low, keeping the
 * components that reach @thr; the main component then, unless it holds
 * less than JOIN_GROWTH times @piece_area (the piece the threshold
 * gave; 0: none) of cells above @thr, when what came in is the strokes'
 * faint edges (which would only widen them) or a faint thing beside
 * them, not other pieces: 0 then, with the labelling at @thr back. */
static guint32
join_pieces (CnnMnist * m, gdouble aspect, gfloat low, gfloat thr,
    guint piece_area)
{
  guint32 main;

  cnn_mnist_label_hysteresis (m, low, thr);
  main = cnn_mnist_choose_main (m, aspect);
  if (main != 0 && strong_cells (m, main, thr) >= JOIN_GROWTH * piece_area)
    return main;
  cnn_mnist_label (m, thr);
  return 0;
}

/* A strongly inked digit: labelled above @raised, the
 * main component then; when that leaves none, 0 with the labelling at
 * @thr back. */
static guint32
drop_faint_lines (CnnMnist * m, gdouble aspect, gfloat raised, gfloat thr)
{
  guint32 main;

  cnn_mnist_label (m, raised);
  main = cnn_mnist_choose_main (m, aspect);
  if (main != 0)
    return main;
  cnn_mnist_label (m, thr);
  return 0;
}

/* Step 4c: the digit labelled again, at a threshold its own ink sets,
 * since a digit's ink is as strong as its strongest strokes:
 *   - a strongly inked digit is labelled above FAINT_FRACTION of its
 *     level: rulings that the projections missed (the page seen in
 *     perspective, or curved), a pencil line, a shadow's edge or a halo
 *     are fainter, and joined to the digit they make it touch the border
 *     (so that a speck wins) or swell its box;
 *   - a weakly inked one (a light ballpoint, low light, blur: its level
 *     within WEAK_LEVEL thresholds of the paper), or one of which no
 *     piece is large enough to be taken, breaks into pieces at the
 *     threshold: labelled from WEAK_FRACTION of it with hysteresis, the
 *     pieces join through their fainter parts and noise stays out.
 * The likeliest digit is the best candidate were the border to cut
 * nothing.  When neither labelling leaves a digit, the first stands.
 * The main component; *@thr the threshold it was labelled at. */
guint32
cnn_mnist_choose_digit (CnnMnist * m, gdouble aspect, gfloat zero,
    gfloat * thr)
{
  const guint32 likeliest = choose_likeliest (m, aspect);
  const gfloat level = likeliest ? cnn_mnist_ink_level (m, likeliest, *thr)
      : zero;
  gfloat to;
  guint32 main;

  if (level - zero < WEAK_LEVEL * (*thr - zero)) {
    const guint32 piece = cnn_mnist_choose_main (m, aspect);

    to = zero + WEAK_FRACTION * (*thr - zero);
    main = join_pieces (m, aspect, to, *thr, piece ? m->comps[piece].area
        : 0);
    if (main == 0)
      return piece;
  } else {
    to = zero + FAINT_FRACTION * (level - zero);
    if (to <= *thr)
      return cnn_mnist_choose_main (m, aspect);
    main = drop_faint_lines (m, aspect, to, *thr);
    if (main == 0)
      return cnn_mnist_choose_main (m, aspect);
  }
  *thr = to;
  return main;
}

/* Cells between intervals [a0, a1] and [b0, b1]; 0 if they overlap. */
static guint
interval_gap (guint a0, guint a1, guint b0, guint b1)
{
  guint lo = MAX (a0, b0), hi = MIN (a1, b1);

  return lo > hi ? lo - hi - 1 : 0;
}

/* Marks the main component and the parts of the same digit: inked as
 * strongly, not specks, within a small gap of the digit's box so far,
 * and not making it much larger than the main one.  The box ends in
 * m->box. */
void
cnn_mnist_select_parts (CnnMnist * m, guint32 main, gdouble aspect,
    gfloat min_peak)
{
  CnnComponent *c = &m->comps[main];
  const gdouble side = MAX ((c->x1 - c->x0 + 1) * aspect,
      (gdouble) c->y1 - c->y0 + 1);
  const gdouble gap = PART_GAP * side, limit = MAX_GROWTH * side;
  const guint min_area = MAX (2, (guint) (PART_MIN_FRACTION * c->area));
  guint32 *candidates = m->stack;
  guint n = 0;
  gboolean grew = TRUE;

  c->selected = TRUE;
  m->box[0] = c->x0;
  m->box[1] = c->y0;
  m->box[2] = c->x1;
  m->box[3] = c->y1;
  for (guint32 id = 1; id <= m->n_comps; id++) {
    const CnnComponent *p = &m->comps[id];

    m->comps[id].selected = id == main;
    /* A blob (a fingertip) is no part of a digit, however near; a flat
     * stroke may be (a 5's or a 7's bar, broken off). */
    if (id != main && p->area >= min_area && p->peak >= min_peak
        && (!p->border || c->border) && !is_blob (p, aspect))
      candidates[n++] = id;
  }

  /* Each round adds what the box reaches; a part added may bring the
   * box within reach of another. */
  while (grew) {
    grew = FALSE;
    for (guint i = 0; i < n; i++) {
      CnnComponent *p = &m->comps[candidates[i]];
      guint x0 = MIN (m->box[0], p->x0), y0 = MIN (m->box[1], p->y0);
      guint x1 = MAX (m->box[2], p->x1), y1 = MAX (m->box[3], p->y1);

      if (p->selected
          || interval_gap (m->box[0], m->box[2], p->x0, p->x1) * aspect > gap
          || interval_gap (m->box[1], m->box[3], p->y0, p->y1) > gap
          || (x1 - x0 + 1) * aspect > limit || y1 - y0 + 1 > limit)
        continue;
      p->selected = TRUE;
      m->box[0] = x0;
      m->box[1] = y0;
      m->box[2] = x1;
      m->box[3] = y1;
      grew = TRUE;
    }
  }
}

/* The digit's mean stroke width in work cells: twice its area over its
 * perimeter (a stroke w wide and l long has w·l cells and 2·(w + l)
 * edges), over the selected components. */
gdouble
cnn_mnist_stroke_width (const CnnMnist * m)
{
  guint64 area = 0, edges = 0;

  for (guint32 id = 1; id <= m->n_comps; id++) {
    const CnnComponent *c = &m->comps[id];

    if (c->selected) {
      area += c->area;
      edges += component_edges (c);
    }
  }
  return edges ? 2.0 * area / edges : 0.0;
}


/* The tests above, for readers of several digits (cnn-number.c): a
 * component that is no digit's part (a blob) or no digit on its own (a
 * flat stroke, which may still be a part). */
gboolean
cnn_mnist_component_is_blob (const CnnComponent * c, gdouble aspect)
{
  return is_blob (c, aspect);
}

gboolean
cnn_mnist_component_is_flat (const CnnMnist * m, const CnnComponent * c,
    gdouble aspect)
{
  return is_flat_stroke (m, c, aspect);
}
