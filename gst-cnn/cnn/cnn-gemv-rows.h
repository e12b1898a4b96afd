/* The row loop of the fast kernels' matrix-vector products (dense
 * layers at small batches), written once for every kernel family
 * (internal).  A family's source includes it after defining
 * ALWAYS_INLINE, GEMV_GROUP (the samples its registers take at once, at
 * most 4) and its own
 *
 *   static ALWAYS_INLINE void dot4 (const void *w, gsize stride,
 *       const gfloat * x, gsize x_stride, guint n, const guint g,
 *       gfloat out[4][GEMV_GROUP], const gboolean half);
 *
 * (Σ a (n) · x_s (n) for four rows a0..a3, @stride weights apart, floats
 * or @half fp16, and @g ≤ GEMV_GROUP samples x_s, @x_stride floats
 * apart), so that the loop is compiled inline with the family's target
 * flags around its dot4: sharing it costs neither family a call. */
#ifndef CNN_GEMV_ROWS_H
#define CNN_GEMV_ROWS_H

/* W (out × in, floats or @half) · x_s (in) + b (out) → y_s (out) for
 * @g samples s (x and y one after another) */
static ALWAYS_INLINE void
gemv_group (const void *w, const gfloat * x, const gfloat * b, guint n_out,
    guint n_in, const guint g, gfloat * y, const gboolean half)
{
  gsize row_bytes = (gsize) n_in * (half ? sizeof (guint16) : sizeof (gfloat));
  guint j = 0;

  for (; j + 4 <= n_out; j += 4) {
    gfloat sums[4][GEMV_GROUP];

    dot4 ((const guint8 *) w + j * row_bytes, n_in, x, n_in, n_in, g, sums,
        half);
#pragma GCC unroll 4
    for (guint r = 0; r < 4; r++)
#pragma GCC unroll 4
      for (guint k = 0; k < g; k++)
        y[(gsize) k * n_out + j + r] = b[j + r] + sums[r][k];
  }
  for (; j < n_out; j++) {
    gfloat sums[4][GEMV_GROUP];

    /* One row: dot4 with a stride of 0 reads it four times, from
     * cache, which the last 1-3 rows of a layer can afford. */
    dot4 ((const guint8 *) w + j * row_bytes, 0, x, n_in, n_in, g, sums,
        half);
#pragma GCC unroll 4
    for (guint k = 0; k < g; k++)
      y[(gsize) k * n_out + j] = b[j] + sums[0][k];
  }
}

/* The @batch samples GEMV_GROUP at a time, the weights read once a
 * group. */
static ALWAYS_INLINE void
gemv (const void *w, const gfloat * x, const gfloat * b, guint n_out,
    guint n_in, guint batch, gfloat * y, const gboolean half)
{
  for (guint s = 0; s < batch; s += GEMV_GROUP) {
    const gfloat *xs = x + (gsize) s * n_in;
    gfloat *ys = y + (gsize) s * n_out;

    switch (MIN (batch - s, GEMV_GROUP)) {
      case 1:
        gemv_group (w, xs, b, n_out, n_in, 1, ys, half);
        break;
#if GEMV_GROUP > 2
      case 2:
        gemv_group (w, xs, b, n_out, n_in, 2, ys, half);
        break;
      case 3:
        gemv_group (w, xs, b, n_out, n_in, 3, ys, half);
        break;
#endif
      default:
        gemv_group (w, xs, b, n_out, n_in, GEMV_GROUP, ys, half);
        break;
    }
  }
}

#endif /* CNN_GEMV_ROWS_H */
