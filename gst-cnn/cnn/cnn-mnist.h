/* The "mnist" preprocessing steps after scaling (internal to libcnn):
 * a grey picture of the region → the digit found in it, framed the way
 * the MNIST digits were. */
#ifndef CNN_MNIST_H
#define CNN_MNIST_H

#include "cnn.h"

G_BEGIN_DECLS

/* Model inputs smaller than this on either side are refused. */
#define CNN_MNIST_MIN_SIDE 8

/* A run of ink cells along a row of the work grid, and its place in the
 * union-find forest that gathers 8-connected runs into components. */
typedef struct
{
  guint y, x0, x1;              /* cells x0 .. x1 of row y */
  guint32 parent;               /* a run of the same component, or itself */
  guint32 id;                   /* its component's, 0 until given */
} CnnRun;

typedef struct _CnnMnist CnnMnist;

/* The work grid's longest side, in cells, for one digit ... */
#define CNN_MNIST_MAX_WORK_SIDE 256
/* ... and for any use (a number's is wider). */
#define CNN_MNIST_MAX_GRID_SIDE 512

/* Work cells per model pixel, each way: enough for a small digit in a
 * large region (a 45-pixel digit in a 480-pixel region is 21 cells of a
 * 224-cell grid)... */
#define CNN_MNIST_WORK_SCALE 8
/* ... and, for regions no larger than this many cells per model pixel,
 * as many cells as the region has pixels or more: the finer grid would
 * only interpolate between them, at seven times the cost. */
#define CNN_MNIST_COMPACT_SCALE 3

/* A digit framer for @out_w × @out_h model inputs (both ≥
 * CNN_MNIST_MIN_SIDE) on a work grid of @scale cells per model pixel
 * (at most 256 a side), which the caller reads with
 * cnn_mnist_work_size(); all memory is allocated here. */
CnnMnist *cnn_mnist_new (guint out_w, guint out_h, guint scale,
    GError ** error);
/* The same on a work grid of @work_w × @work_h cells (GRID (8) ..
 * CNN_MNIST_MAX_GRID_SIDE each). */
CnnMnist *cnn_mnist_new_sized (guint out_w, guint out_h, guint work_w,
    guint work_h, GError ** error);
void cnn_mnist_free (CnnMnist * mnist);

void cnn_mnist_work_size (const CnnMnist * mnist, guint * width,
    guint * height);
/* The work picture to fill before cnn_mnist_run(): height × width grey
 * values in 0..1, the region scaled to that grid. */
gfloat *cnn_mnist_work (CnnMnist * mnist);

/* Finds the digit in the work picture and writes it to @out (out_h ×
 * out_w, 0 background, 1 ink): fitted into 20/28 of the input keeping
 * its aspect and centred by its centre of mass.  @cell_aspect is the
 * width of a work cell over its height in frame pixels (the grid is
 * fixed, the region is not).  FALSE when there is no ink.  Allocates
 * nothing. */
gboolean cnn_mnist_run (CnnMnist * mnist, gdouble cell_aspect, gfloat * out);

/* The box of the ink the last successful cnn_mnist_run() framed, in
 * work cells, inclusive: x0, y0, x1, y1. */
void cnn_mnist_digit_box (const CnnMnist * mnist, guint box[4]);

G_END_DECLS

#endif /* CNN_MNIST_H */
