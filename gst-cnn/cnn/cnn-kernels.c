/* Which kernels a network runs: the CPU's features and CNN_KERNELS. */
#include "cnn-kernels.h"

static gboolean
cpu_has_avx512 (void)
{
#if defined(CNN_HAVE_AVX512)
  __builtin_cpu_init ();
  return __builtin_cpu_supports ("avx512f")
      && __builtin_cpu_supports ("avx512bw")
      && __builtin_cpu_supports ("avx512vl")
      && __builtin_cpu_supports ("avx512dq");
#else
  return FALSE;
#endif
}

static gboolean
cpu_has_bf16 (void)
{
#if defined(CNN_HAVE_AVX512)
  return cpu_has_avx512 () && __builtin_cpu_supports ("avx512bf16");
#else
  return FALSE;
#endif
}

CnnKernels
cnn_kernels_choose (void)
{
  const gchar *want = g_getenv ("CNN_KERNELS");

  if (want && g_str_equal (want, "portable"))
    return CNN_KERNELS_PORTABLE;
  if (want && g_str_equal (want, "avx512-bf16") && cpu_has_bf16 ())
    return CNN_KERNELS_AVX512_BF16;
  return cpu_has_avx512 ()? CNN_KERNELS_AVX512 : CNN_KERNELS_PORTABLE;
}

const gchar *
cnn_kernels_name (CnnKernels kernels)
{
  switch (kernels) {
    case CNN_KERNELS_AVX512:
      return "avx512";
    case CNN_KERNELS_AVX512_BF16:
      return "avx512-bf16";
    default:
      return "portable";
  }
}

#if !defined(CNN_HAVE_AVX512)
/* Built without AVX-512: cnn_kernels_choose() never picks these. */
gsize
cnn_winograd_packed_floats (const CnnWinograd * wg)
{
  g_assert_not_reached ();
}

gsize
cnn_winograd_scratch_floats (const CnnWinograd * wg)
{
  g_assert_not_reached ();
}

void
cnn_winograd_pack_avx512 (const CnnWinograd * wg, const gfloat * w,
    gfloat * packed)
{
  g_assert_not_reached ();
}

void
cnn_winograd_forward_avx512 (const CnnWinograd * wg, const gfloat * packed,
    const gfloat * bias, const gfloat * x, gfloat * y, gfloat * scratch)
{
  g_assert_not_reached ();
}

void
cnn_gemv_avx512 (const gfloat * w, const gfloat * x, const gfloat * b,
    guint n_out, guint n_in, gfloat * y)
{
  g_assert_not_reached ();
}

void
cnn_conv3x3_direct_avx512 (const CnnWinograd * wg, const gfloat * w,
    const gfloat * bias, const gfloat * x, gfloat * y, gfloat * scratch)
{
  g_assert_not_reached ();
}

gboolean
cnn_f16_pack_avx512 (const gfloat * w, guint16 * half, gsize n)
{
  g_assert_not_reached ();
}

void
cnn_gemv_f16_avx512 (const guint16 * w, const gfloat * x, const gfloat * b,
    guint n_out, guint n_in, gfloat * y)
{
  g_assert_not_reached ();
}
#endif
