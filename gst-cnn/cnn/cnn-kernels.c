/* Which kernels a network runs: the CPU's features and CNN_KERNELS. */
#include "cnn-kernels.h"

#if defined(CNN_HAVE_AVX2)
#include <cpuid.h>
#endif

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

static gboolean
cpu_has_vnni (void)
{
#if defined(CNN_HAVE_AVX512_INT8)
  return cpu_has_avx512 () && __builtin_cpu_supports ("avx512vnni");
#else
  return FALSE;
#endif
}

/* AVX2 and FMA, and F16C for the fp16 weights: every CPU with the first
 * two has the third (x86-64-v3 counts it in), but it is its own CPUID
 * bit, which clang's __builtin_cpu_supports does not know. */
static gboolean
cpu_has_avx2 (void)
{
#if defined(CNN_HAVE_AVX2)
  guint eax, ebx, ecx, edx;

  __builtin_cpu_init ();
  return __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma")
      && __get_cpuid (1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C);
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
  if (want && g_str_equal (want, "avx512-int8") && cpu_has_vnni ())
    return CNN_KERNELS_AVX512_INT8;
  if (want && g_str_equal (want, "avx2") && cpu_has_avx2 ())
    return CNN_KERNELS_AVX2;
  if (cpu_has_avx512 ())
    return CNN_KERNELS_AVX512;
  return cpu_has_avx2 ()? CNN_KERNELS_AVX2 : CNN_KERNELS_PORTABLE;
}

const gchar *
cnn_kernels_name (CnnKernels kernels)
{
  switch (kernels) {
    case CNN_KERNELS_AVX512:
      return "avx512";
    case CNN_KERNELS_AVX512_BF16:
      return "avx512-bf16";
    case CNN_KERNELS_AVX512_INT8:
      return "avx512-int8";
    case CNN_KERNELS_AVX2:
      return "avx2";
    default:
      return "portable";
  }
}

/* The tables of the families this build has; cnn_kernels_choose()
 * never picks one it has not. */
#define CNN_KERNEL_TABLE(suffix, direct_channels, int8_ops) { \
    .name = #suffix, \
    .winograd_packed_floats = cnn_winograd_packed_floats_##suffix, \
    .winograd_scratch_floats = cnn_winograd_scratch_floats_##suffix, \
    .winograd_pack = cnn_winograd_pack_##suffix, \
    .winograd_forward = cnn_winograd_forward_##suffix, \
    .direct_max_channels = direct_channels, \
    .conv3x3_direct = cnn_conv3x3_direct_##suffix, \
    .gemv = cnn_gemv_##suffix, \
    .f16_pack = cnn_f16_pack_##suffix, \
    .gemv_f16 = cnn_gemv_f16_##suffix, \
    .int8 = int8_ops, \
  }

#if defined(CNN_HAVE_AVX512)
static const CnnKernelOps avx512_ops = CNN_KERNEL_TABLE (avx512, 2, NULL);
#endif
#if defined(CNN_HAVE_AVX512_INT8)
static const CnnInt8Ops int8_ops = {
  .conv_packed_floats = cnn_conv_int8_packed_floats_avx512,
  .conv_scratch_floats = cnn_conv_int8_scratch_floats_avx512,
  .conv_pack = cnn_conv_int8_pack_avx512,
  .conv_forward = cnn_conv_int8_forward_avx512,
  .dense_packed_bytes = cnn_dense_int8_packed_bytes_avx512,
  .dense_scratch_floats = cnn_dense_int8_scratch_floats_avx512,
  .dense_pack = cnn_dense_int8_pack_avx512,
  .dense_forward = cnn_dense_int8_forward_avx512,
};
static const CnnKernelOps avx512_int8_ops = CNN_KERNEL_TABLE (avx512, 2,
    &int8_ops);
#endif
#if defined(CNN_HAVE_AVX2)
static const CnnKernelOps avx2_ops = CNN_KERNEL_TABLE (avx2, 2, NULL);
#endif

const CnnKernelOps *
cnn_kernels_ops (CnnKernels kernels)
{
  switch (kernels) {
#if defined(CNN_HAVE_AVX512)
    case CNN_KERNELS_AVX512:
    case CNN_KERNELS_AVX512_BF16:
      return &avx512_ops;
#endif
#if defined(CNN_HAVE_AVX512_INT8)
    case CNN_KERNELS_AVX512_INT8:
      return &avx512_int8_ops;
#endif
#if defined(CNN_HAVE_AVX2)
    case CNN_KERNELS_AVX2:
      return &avx2_ops;
#endif
    default:
      return NULL;
  }
}
