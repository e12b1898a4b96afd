/* What the AVX-512 kernel files share (cnn-avx512.c, cnn-avx512-int8.c,
 * internal): 16 lanes a vector, forced inlining, the mask of a vector's
 * first lanes.  Only for files built with -mavx512f. */
#ifndef CNN_AVX512_LANES_H
#define CNN_AVX512_LANES_H

#include <glib.h>
#include <immintrin.h>

#define LANES 16
#define ALWAYS_INLINE inline __attribute__ ((always_inline))

/* Lanes [0, n) of a vector, n clamped to 0..16 */
static ALWAYS_INLINE __mmask16
first_lanes (gint n)
{
  return n >= LANES ? 0xFFFF : n <= 0 ? 0 : (__mmask16) ((1u << n) - 1);
}

#endif /* CNN_AVX512_LANES_H */
