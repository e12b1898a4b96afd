/* The number reader's state, shared by its files (internal to libcnn;
 * docs/design.md, "The number mode"):
 *   cnn-number.c         the line, the digits on it, their order, framing;
 *   cnn-number-cuts.c    where touching digits may be cut apart;
 *   cnn-number-reader.c  the public reader: every reading classified in
 *                        one batch, the surer kept.
 * Both work on the "mnist" digit finder's work grid and components
 * (cnn-mnist-private.h), in frame units: a work cell is @aspect wide
 * and 1 high. */
#ifndef CNN_NUMBER_PRIVATE_H
#define CNN_NUMBER_PRIVATE_H

#include "cnn-mnist-private.h"
#include "cnn-number.h"

G_BEGIN_DECLS

/* Most cuts through touching digits a number can take: a path, and for
 * a piece already cut, the path joined with each of its cuts (its sides
 * keep what the piece kept). */
#define CNN_NUMBER_MAX_CUTS (3 * CNN_NUMBER_MAX_DIGITS)

/* Where ink lies along the line (u) and across it (v, downwards), in
 * frame units about the grid's corner. */
typedef struct
{
  gdouble u0, u1, v0, v1;
} CnnSpan;

/* What may be one digit: the components of a group (and of a second
 * one), less what lies beyond its cuts (-1: none) on either side; a cut
 * is a path down the group, its cells shared by the pieces on both
 * sides.  The units, the pieces a number is made of when every doubt
 * is settled the simple way, come first in n->pieces, in reading
 * order; the other readings of a unit follow, named by its fields. */
typedef struct
{
  guint group, group2;          /* group2: 0, or the next unit's */
  gint left_cut, right_cut;
  CnnSpan span;                 /* of the cells kept */
  guint x0, y0, x1, y1;         /* their box, in cells */
  guint area;                   /* their count */
  gint split[2];                /* a unit that may be two touching
                                 * digits: the pieces of its cut, or -1 */
  gfloat cut_strokes;           /* ... and the ink it crosses, in stroke
                                 * widths */
  gint joined;                  /* a unit that may be one broken digit
                                 * with the next: the piece of both, -1 */
  gfloat gap;                   /* ... and the gap between them, in the
                                 * line's heights */
} CnnPiece;

/* A cut: for rows y0 .. y1, the column the path crosses. */
typedef struct
{
  guint y0, y1;
  guint16 *x;                   /* h columns, indexed by row */
} CnnCut;

struct _CnnNumber
{
  CnnMnist *m;                  /* borrowed */
  guint w, h;
  gdouble aspect;
  gfloat zero, thr, level;      /* the paper, where ink starts, the ink */
  /* The line: its direction, and the digits' height across it. */
  gdouble cos_a, sin_a, height;

  gfloat *saved;                /* w × h: m->ink before framing */
  CnnSpan *spans;               /* [1 .. max_comps]: each component's */
  guint32 *group_of;            /* [1 .. max_comps]: group + 1, 0: none */
  guint32 *list;                /* max_comps: components, groups, ... */
  guint32 *parent;              /* [1 .. max_comps]: union-find */
  guint32 *runs_a, *runs_b;     /* two pieces' runs, for their distance */
  CnnPiece *pieces;             /* max_comps + MAX_PIECES */
  guint n_pieces, n_units, n_groups;
  CnnCut cuts[CNN_NUMBER_MAX_CUTS];
  guint n_cuts;
  /* A cut's search over a piece's box: cost per cell, each step's
   * move, two rows of path costs. */
  gfloat *cost;                 /* w × h */
  gint8 *moves;                 /* w × h */
  gfloat *path_prev, *path_cur; /* w each */
};

/* Frame position of cell corner (x, y), along and across the line. */
static inline gdouble
number_u (const CnnNumber * n, gdouble x, gdouble y)
{
  return x * n->aspect * n->cos_a + y * n->sin_a;
}

static inline gdouble
number_v (const CnnNumber * n, gdouble x, gdouble y)
{
  return -x * n->aspect * n->sin_a + y * n->cos_a;
}

/* Pieces beyond the units: the other readings. */
#define CNN_NUMBER_MAX_OTHERS (3 * CNN_NUMBER_MAX_DIGITS)

/* Whether component @id is one of @p's. */
static inline gboolean
number_piece_owns (const CnnNumber * n, const CnnPiece * p, guint32 id)
{
  const guint32 g = n->group_of[id];

  return g != 0 && (g == p->group || g == p->group2);
}

/* cnn-number.c.  Finds the number in the work picture: its units in
 * reading order, with the other readings where there is a doubt (at
 * most CNN_NUMBER_MAX_DIGITS units are kept). */
void cnn_number_segment (CnnNumber * n, gdouble aspect);
/* Frames piece @p into @out as "mnist" frames one digit, its box of ink
 * into @box; FALSE when it is too faint to be a digit (or what it keeps
 * between its cuts is).  The work picture is left as it was. */
gboolean cnn_number_frame (CnnNumber * n, const CnnPiece * p, gfloat * out,
    CnnCellBox * box);
/* Whether cell (x, y) of a component of @p's is @p's (between its
 * cuts). */
gboolean cnn_number_piece_keeps (const CnnNumber * n, const CnnPiece * p,
    guint x, guint y);
/* @p's span, box and area from the cells it keeps. */
void cnn_number_piece_measure (CnnNumber * n, CnnPiece * p);
/* A new piece at the end of n->pieces, its index; -1 when full. */
gint cnn_number_add_piece (CnnNumber * n, const CnnPiece * p);

/* cnn-number-cuts.c: for each unit that may be two touching digits,
 * the pieces of the cut that would part them (unit.split). */
void cnn_number_propose_cuts (CnnNumber * n);

G_END_DECLS

#endif /* CNN_NUMBER_PRIVATE_H */
