/* The row loop of the fast kernels' matrix-vector product (dense layers
 * at batch 1), written once for every kernel family (internal).  A
 * family's source includes it after defining ALWAYS_INLINE and its own
 *
 *   static ALWAYS_INLINE void dot4 (const void *w, gsize stride,
 *       const gfloat * x, guint n, gfloat out[4], const gboolean half);
 *
 * (Σ a (n) · x (n) for four rows a0..a3, @stride weights apart, floats
 * or @half fp16), so that the loop is compiled inline with the family's
 * target flags around its dot4: sharing it costs neither family a call. */
#ifndef CNN_GEMV_ROWS_H
#define CNN_GEMV_ROWS_H

/* W (out × in, floats or @half) · x (in) + b (out) → y (out) */
static ALWAYS_INLINE void
gemv (const void *w, const gfloat * x, const gfloat * b, guint n_out,
    guint n_in, gfloat * y, const gboolean half)
{
  gsize row_bytes = (gsize) n_in * (half ? sizeof (guint16) : sizeof (gfloat));
  guint j = 0;

  for (; j + 4 <= n_out; j += 4) {
    gfloat sums[4];

    dot4 ((const guint8 *) w + j * row_bytes, n_in, x, n_in, sums, half);
#pragma GCC unroll 4
    for (guint r = 0; r < 4; r++)
      y[j + r] = b[j + r] + sums[r];
  }
  for (; j < n_out; j++) {
    gfloat sum[4];

    /* One row: dot4 with a stride of 0 reads it four times, from
     * cache, which the last 1-3 rows of a layer can afford. */
    dot4 ((const guint8 *) w + j * row_bytes, 0, x, n_in, sum, half);
    y[j] = b[j] + sum[0];
  }
}

#endif /* CNN_GEMV_ROWS_H */
