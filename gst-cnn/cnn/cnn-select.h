/* The k-th smallest of a few hundred floats, exactly (internal to the
 * "mnist" digit finder: a block's paper level, a ruling's median ink).
 * Quickselect: a sort would give the same value at several times the
 * cost, and a median per line per frame adds up. */
#ifndef CNN_SELECT_H
#define CNN_SELECT_H

#include <glib.h>

/* The @k-th smallest of @v (@n values, reordered; k < n). */
static inline gfloat
cnn_select_kth (gfloat * v, guint n, guint k)
{
  guint lo = 0, hi = n - 1;

  while (lo < hi) {
    const gfloat pivot = v[(lo + hi) / 2];
    guint i = lo, j = hi;

    while (i <= j) {
      while (v[i] < pivot)
        i++;
      while (v[j] > pivot)
        j--;
      if (i <= j) {
        const gfloat t = v[i];

        v[i++] = v[j];
        v[j] = t;
        if (j == 0)
          break;
        j--;
      }
    }
    if (k <= j)
      hi = j;
    else if (k >= i)
      lo = i;
    else
      break;
  }
  return v[k];
}

#endif /* CNN_SELECT_H */
