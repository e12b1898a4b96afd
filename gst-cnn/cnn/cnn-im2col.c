/* Convolution as a matrix product: unfold each k×k window into a column
 * so that weights (filters × C·k·k) · columns (C·k·k × oh·ow) is the
 * convolution.  Rows are ordered (channel, ky, kx), the order of the
 * weights' (out, in, k, k) layout. */
#include "cnn-private.h"

#include <string.h>

/* image (C×H×W) → columns (C·k·k × oh·ow) */
void
cnn_im2col (const gfloat * image, guint channels, guint height, guint width,
    guint kernel, guint stride, guint pad, gfloat * columns)
{
  guint oh = cnn_window_output (height, kernel, stride, pad);
  guint ow = cnn_window_output (width, kernel, stride, pad);
  gsize n_cols = (gsize) oh * ow;

  for (guint c = 0; c < channels; c++) {
    const gfloat *plane = image + (gsize) c * height * width;

    for (guint ky = 0; ky < kernel; ky++) {
      for (guint kx = 0; kx < kernel; kx++) {
        gfloat *row = columns + (((gsize) c * kernel + ky) * kernel + kx)
            * n_cols;

        for (guint oy = 0; oy < oh; oy++) {
          gint iy = (gint) (oy * stride + ky) - (gint) pad;
          gfloat *dst = row + (gsize) oy * ow;

          if (iy < 0 || iy >= (gint) height) {
            memset (dst, 0, ow * sizeof (gfloat));
            continue;
          }
          if (stride == 1 && pad == 0) {
            memcpy (dst, plane + (gsize) iy * width + kx,
                ow * sizeof (gfloat));
            continue;
          }
          for (guint ox = 0; ox < ow; ox++) {
            gint ix = (gint) (ox * stride + kx) - (gint) pad;

            dst[ox] = (ix < 0 || ix >= (gint) width) ? 0.0f
                : plane[(gsize) iy * width + ix];
          }
        }
      }
    }
  }
}

/* dst (n) += src (n).  Restrict pointers and a bulk in whole groups of 8
 * let -O2's cheap vectorizer take it: this is col2im's inner loop. */
static inline void
add_row (gfloat * restrict dst, const gfloat * restrict src, guint n)
{
  guint bulk = n & ~7u, i;

  for (i = 0; i < bulk; i++)
    dst[i] += src[i];
  for (; i < n; i++)
    dst[i] += src[i];
}

/* columns (C·k·k × oh·ow) → image (C×H×W), summing where windows overlap */
void
cnn_col2im (const gfloat * columns, guint channels, guint height, guint width,
    guint kernel, guint stride, guint pad, gfloat * image)
{
  guint oh = cnn_window_output (height, kernel, stride, pad);
  guint ow = cnn_window_output (width, kernel, stride, pad);
  gsize n_cols = (gsize) oh * ow;

  memset (image, 0, (gsize) channels * height * width * sizeof (gfloat));
  for (guint c = 0; c < channels; c++) {
    gfloat *plane = image + (gsize) c * height * width;

    for (guint ky = 0; ky < kernel; ky++) {
      for (guint kx = 0; kx < kernel; kx++) {
        const gfloat *row = columns + (((gsize) c * kernel + ky) * kernel
            + kx) * n_cols;

        for (guint oy = 0; oy < oh; oy++) {
          gint iy = (gint) (oy * stride + ky) - (gint) pad;
          const gfloat *src = row + (gsize) oy * ow;
          gfloat *dst;

          if (iy < 0 || iy >= (gint) height)
            continue;
          dst = plane + (gsize) iy * width;
          if (stride == 1 && pad == 0) {
            add_row (dst + kx, src, ow);
            continue;
          }
          for (guint ox = 0; ox < ow; ox++) {
            gint ix = (gint) (ox * stride + kx) - (gint) pad;

            if (ix >= 0 && ix < (gint) width)
              dst[ix] += src[ox];
          }
        }
      }
    }
  }
}
