/* Area-average scaling of picture planes (internal to libcnn). */
#ifndef CNN_RESIZE_H
#define CNN_RESIZE_H

#include "cnn.h"

G_BEGIN_DECLS

/* At most this many planes are scaled in one sweep. */
#define CNN_RESIZE_MAX_PLANES 3
/* Larger subsampling shifts are refused (no real format comes close). */
#define CNN_RESIZE_MAX_SHIFT 8

typedef struct _CnnResizer CnnResizer;

/* A scaler to @width × @height outputs.  NULL (with @error set) when
 * its memory cannot be had. */
CnnResizer *cnn_resizer_new (guint width, guint height, GError ** error);
void cnn_resizer_free (CnnResizer * resizer);
/* Bytes cnn_resizer_new() allocates for @width × @height outputs. */
guint64 cnn_resizer_bytes (guint width, guint height);

/* Box filter of the frame region @rect (already inside the frame) of
 * @n_planes planes sharing subsampling and pixel stride: out[k]
 * (height × width) receives the mean sample value of plane k over each
 * output cell's area, every source sample weighted by the part of it
 * the cell covers.  Reads samples (x, y) of plane k with
 * x < ceil ((rect.x + rect.width) / 2^x_shift), likewise for y.
 * Allocates only when @rect or the subsampling is new to it (its weight
 * tables, kept for up to CNN_RESIZE_MAX_PLANES layouts); FALSE when
 * that memory cannot be had. */
gboolean cnn_resizer_run (CnnResizer * resizer, const CnnPlane * const *planes,
    guint n_planes, CnnRect rect, gfloat * const *out);

/* The cells [@x0, @x1] × [@y0, @y1] of a @grid_w × @grid_h grid scaled
 * from @region of a frame → the frame pixels they cover (at least one
 * each way). */
CnnRect cnn_cells_to_rect (guint x0, guint y0, guint x1, guint y1,
    guint grid_w, guint grid_h, CnnRect region);

G_END_DECLS

#endif /* CNN_RESIZE_H */
