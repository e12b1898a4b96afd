/* Per-pixel code built for two instruction sets (internal to libcnn).
 *
 * The preprocessing loops (scaling, the digit finder) are plain C that
 * the compiler vectorises.  Built for the x86-64 baseline they get SSE2,
 * four floats at a time and clumsy conversions; CNN_VECTOR_CLONES on a
 * per-frame entry point builds it, and everything it calls in its file
 * (flatten), a second time for x86-64-v3 (AVX2), and the dynamic loader
 * picks the one the CPU runs (target_clones, an ifunc) at no cost per
 * call.
 *
 * Both give the same bits: libcnn is built with -ffp-contract=off, so
 * no a·b + c becomes an FMA, and without -ffast-math the vectoriser
 * reorders no float sum.  GCC only: elsewhere (clang, the fuzz build)
 * the baseline build alone is made, as with -Dvector_clones=false
 * (CNN_NO_VECTOR_CLONES), which tests/sanitize.sh uses so that the suite
 * runs the baseline build too: on a CPU with AVX2, the loader always
 * picks the other. */
#ifndef CNN_CLONES_H
#define CNN_CLONES_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) \
    && __GNUC__ >= 11 && defined(__ELF__) && !defined(CNN_NO_VECTOR_CLONES)
#define CNN_VECTOR_CLONES \
  __attribute__ ((flatten, target_clones ("arch=x86-64-v3", "default")))
#else
#define CNN_VECTOR_CLONES
#endif

#endif /* CNN_CLONES_H */
