/* The "mnist" digit finder's state, shared by its stages (internal to
 * libcnn; docs/design.md, "The mnist mode"): cnn-mnist.c runs them in
 * turn on one CnnMnist,
 *   cnn-mnist-background.c  block statistics, polarity, flattening;
 *   cnn-mnist-components.c  ink cells → 8-connected components;
 *   cnn-mnist-choice.c      which components are the digit;
 *   cnn-mnist-framing.c     the digit → the model input;
 * besides cnn-rulings.c, cnn-shadows.c and cnn-strokes.c. */
#ifndef CNN_MNIST_PRIVATE_H
#define CNN_MNIST_PRIVATE_H

#include "cnn-histogram.h"
#include "cnn-mnist.h"
#include "cnn-rulings.h"
#include "cnn-shadows.h"

G_BEGIN_DECLS

#define GRID 8                  /* blocks per side of the work grid */
#define STAT_STEP 2
/* One row's ink flags and the zeros after them: a whole number of
 * 8-byte words and one more byte, which ends the last run. */

enum
{ SIDE_TOP = 1, SIDE_BOTTOM = 2, SIDE_LEFT = 4, SIDE_RIGHT = 8 };


typedef struct
{
  guint area;
  guint x0, y0, x1, y1;         /* bounding box, inclusive */
  gdouble sum_x, sum_y;         /* of cell centres */
  gdouble sum_xx, sum_xy, sum_yy;       /* ... and their products */
  guint n_runs, shared;         /* runs; cells shared with the row above */
  gfloat peak;
  guint border;                 /* cells on the region's edge */
  guint sides;                  /* SIDE_* it touches */
  gboolean selected;            /* part of the digit */
  gint strokes;                 /* valley test: 0 not yet, 1 strokes,
                                 * -1 clutter */
} CnnComponent;

/* The work cells one output pixel covers along one axis, and where
 * their weights start. */
typedef struct
{
  guint first, n, offset;
} CnnRenderTap;

/* Where the output sits on the work grid. */
typedef struct
{
  gdouble x0, y0;               /* work position of output corner (0, 0) */
  gdouble sx, sy;               /* output pixels per work cell */
  guint cx0, cy0, cx1, cy1;     /* cells read: the box and its halo, [0, 1) */
} CnnPlacement;

struct _CnnMnist
{
  guint out_w, out_h;
  guint w, h;                   /* work grid */
  guint8 *block;                /* all of the buffers below */
  gfloat *grey;                 /* h × w: the region, 0..1 */
  gfloat *ink;                  /* h × w: ink above background; 0..1 in
                                 * the digit's window once placed */
  guint32 *stack;               /* h × w: part candidates */
  CnnRun *runs;                 /* at most (w + 1) / 2 a row */
  guint n_runs;                 /* of this frame's ink */
  guint16 *bins;                /* h × w at most: histogram bins */
  guint8 *flags;                /* FLAGS_SIZE (w): one row's ink cells */
  CnnComponent *comps;          /* [1 .. max_comps] */
  CnnRulings *rulings;
  CnnShadows *shadows;
  /* Rendering: per output column and row, its cells and weights
   * (w + out_w and h + out_h at most), and the rows reduced to out_w
   * columns (h × out_w). */
  CnnRenderTap *x_taps, *y_taps;
  gfloat *x_weights, *y_weights;
  gfloat *columns;
  gfloat *strokes;              /* out_h × out_w: stroke normalisation */
  guint max_comps, n_comps;
  guint box[4];                 /* the digit's components: x0, y0, x1, y1 */

  /* GRID × GRID blocks: bounds in cells, quartiles, filtered levels. */
  guint bx[GRID + 1], by[GRID + 1];
  gfloat q25[GRID * GRID], q50[GRID * GRID], q75[GRID * GRID];
  /* The paper's brightness over a well-lit page's (at most 1): ink on
   * dim paper stands out by that much less. */
  gfloat light_share;
  gboolean dark_ink;            /* strokes darker than the paper */
  gfloat level[GRID * GRID], scratch[GRID * GRID];
  gboolean fitted[GRID * GRID]; /* blocks the background fit uses */
  gdouble bu[GRID * GRID], bv[GRID * GRID];     /* block centres, -1..1 */
  gfloat *u, *v;                /* cell centres, -1..1: w columns, h rows */
  gfloat *centres;              /* w: x + 0.5, column x's centre */
  gfloat *line;                 /* w: one row of an interpolated grid */
  /* Bilinear weights between block centres, per column and per row. */
  guint *iy;
  gfloat *fx, *fy;
  /* Columns interpolated from block b and b + 1: x_stretch[b] ..
   * x_stretch[b + 1] - 1. */
  guint x_stretch[GRID];

  CnnHistogram hist;
  /* Of grey over the whole picture and over its border blocks: the sums
   * of the blocks' histograms, made with them. */
  CnnHistogram whole, border;
};

/* The cell edges around a component: two a run along the rows, and
 * across them each row's cells less those shared with the row above,
 * counted on both sides. */
static inline guint64
component_edges (const CnnComponent * c)
{
  return 2 * (guint64) c->n_runs + 2 * ((guint64) c->area - c->shared);
}

/* cnn-mnist.c, the steps as cnn_mnist_run() takes them, for other
 * readers of the work picture (cnn-number.c).  Steps 1 to 4b: m->grey →
 * m->ink, its components labelled and the rulings erased; ink above
 * @zero is the digits', cells above @thr are components'. */
void cnn_mnist_find_ink (CnnMnist * m, gfloat * zero, gfloat * thr);
/* The level of component @main's ink (@ink), and the peak that parts
 * of its digit reach; FALSE when it stands too little above the paper
 * to be a digit. */
gboolean cnn_mnist_digit_level (CnnMnist * m, guint32 main, gfloat zero,
    gfloat thr, gfloat * ink, gfloat * part_min_peak);
/* Steps 5 to 7: the selected components framed into @out, their strokes
 * brought to MNIST's widths; m->box ends as the digit's box, @placement
 * says which cells of m->ink were rewritten (its window).  FALSE, with
 * nothing framed or rewritten, when none of their cells reaches the
 * box's level (see cnn_mnist_frame()). */
gboolean cnn_mnist_frame_digit (CnnMnist * m, gdouble aspect, gfloat zero,
    gfloat ink, CnnPlacement * placement, gfloat * out);

/* cnn-mnist-background.c.  Steps 1 to 3: m->grey → m->ink, the ink
 * bright over a background at about 0.  Returns the noise's standard
 * deviation. */
gfloat cnn_mnist_flatten (CnnMnist * m);
/* The median of m->ink: the flattened background's level. */
gfloat cnn_mnist_median_ink (CnnMnist * m);

/* cnn-mnist-components.c.  Step 4: the cells of m->ink above @thr →
 * m->runs and m->comps. */
void cnn_mnist_label (CnnMnist * m, gfloat thr);
/* The same at @low, keeping only the components whose peak reaches
 * @high: the others are emptied (statistics of no cells). */
void cnn_mnist_label_hysteresis (CnnMnist * m, gfloat low, gfloat high);

/* cnn-mnist-choice.c.  The main component (0: none), the level of its
 * ink (the 97th percentile of its cells), the parts that join it
 * (c->selected, their box in m->box), and the selected components' mean
 * stroke width in work cells.  choose_main notes the valley test's
 * verdicts in m->comps, once a labelling. */
guint32 cnn_mnist_choose_main (CnnMnist * m, gdouble aspect);
/* Step 4c: labelled again at the threshold the likeliest digit's ink
 * sets; the main component, *@thr the threshold used. */
guint32 cnn_mnist_choose_digit (CnnMnist * m, gdouble aspect, gfloat zero,
    gfloat * thr);
gfloat cnn_mnist_ink_level (CnnMnist * m, guint32 id, gfloat thr);
void cnn_mnist_select_parts (CnnMnist * m, guint32 main, gdouble aspect,
    gfloat min_peak);
gdouble cnn_mnist_stroke_width (const CnnMnist * m);
/* Whether @min_share or more of component @id's cells (every other one)
 * are valleys of ink (cnn-mnist-valleys.c): strokes, not a step. */
gboolean cnn_mnist_is_strokes (const CnnMnist * m, guint32 id,
    gdouble min_share);
/* The main component's tests, for components of several digits: a
 * filled blob is no digit's part, a flat stroke no digit alone. */
gboolean cnn_mnist_component_is_blob (const CnnComponent * c,
    gdouble aspect);
gboolean cnn_mnist_component_is_flat (const CnnMnist * m,
    const CnnComponent * c, gdouble aspect);

/* cnn-mnist-framing.c.  Steps 5 and 6: the selected components, ink
 * from @zero (→ 0) to @zero + 1 / @scale (→ 1), framed into @out;
 * @placement says where the output lies on the work grid.  FALSE, with
 * m->ink and @out untouched, when none of their cells is inked enough
 * to bound a digit. */
gboolean cnn_mnist_frame (CnnMnist * m, gdouble aspect, gfloat zero,
    gfloat scale, CnnPlacement * placement, gfloat * out);

G_END_DECLS

#endif /* CNN_MNIST_PRIVATE_H */
