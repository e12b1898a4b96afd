/* libcnn internals: which kernels a network runs, and the AVX-512 ones.
 *
 * The portable path (im2col + OpenBLAS, plain C) is always there and is
 * what training uses.  Inference may use faster kernels, chosen once per
 * network from the CPU's features; CNN_KERNELS=portable in the
 * environment forces the portable path (tests compare the two). */
#ifndef CNN_KERNELS_H
#define CNN_KERNELS_H

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  CNN_KERNELS_PORTABLE = 0,     /* zero: a layer set up on its own is portable */
  CNN_KERNELS_AVX512,
  CNN_KERNELS_AVX512_BF16,      /* AVX-512, convolutions' products in bf16 */
  CNN_KERNELS_AVX2,             /* AVX2 + FMA + F16C (cnn-vector.c) */
  CNN_KERNELS_AVX512_INT8,      /* AVX-512 + VNNI, int8 (cnn-avx512-int8.c) */
} CnnKernels;

/* The fastest kernels this build has and the CPU runs: AVX-512, else
 * AVX2 + FMA + F16C, else portable.  CNN_KERNELS=portable forces the
 * portable ones; CNN_KERNELS=avx2 the AVX2 ones where the CPU has them
 * (tests run both on a CPU with AVX-512); CNN_KERNELS=avx512-bf16, with
 * AVX512_BF16, the reduced-precision variant (opt-in);
 * CNN_KERNELS=avx512-int8, with AVX512_VNNI, int8 convolutions and
 * dense layers (opt-in).  Read afresh at each call. */
CnnKernels cnn_kernels_choose (void);
const gchar *cnn_kernels_name (CnnKernels kernels);

/* A 3×3 stride-1 convolution by Winograd's minimal filtering: the
 * output is cut into tiles, each computed from a patch of input 2 wider
 * with fewer products per channel than directly: F(2×2, 3×3) for
 * AVX-512 (2×2 tiles, 16 products for 36), F(4×4, 3×3) for AVX2 (4×4
 * tiles, 36 products for 144).  Optionally fused with the bias (always),
 * a ReLU and a 2×2 stride-2 max pool, whose windows lie in the tiles. */
typedef struct
{
  guint channels, height, width, pad;   /* input C×H×W, zero padding */
  guint filters;                /* output channels */
  guint oh, ow;                 /* output before pooling */
  gboolean relu, pool;
  /* The 16 products in bf16 (inputs rounded to 8 bits of mantissa, sums
   * in float): half the instructions, ~3 significant digits.  AVX-512
   * only. */
  gboolean bf16;
} CnnWinograd;

/* A convolution's int8 products in int32 sums can take this many
 * products of a u8 input (≤ 255) and an s8 weight (|w| ≤ 127) before an
 * int32 could overflow (255 · 127 · 66311 > 2³¹); deeper layers stay in
 * float. */
#define CNN_INT8_MAX_DEPTH 65536

/* The int8 kernels (AVX512-VNNI, cnn-avx512-int8.c): weights quantised
 * to s8 per output channel (symmetric, max |w| / 127) when packed,
 * inputs to u8 per sample and layer as they come (the largest |x| of
 * the layer's input to 255, or with negative values to 127 and offset by
 * 128).  Outputs: float, scale · (int32 sum - correction) + bias. */
typedef struct
{
  /* 3×3 stride-1 convolutions, described as for Winograd (bf16 unused),
   * fused with bias, ReLU and 2×2 pool alike; @scratch as many floats
   * as conv_scratch_floats */
  gsize (*conv_packed_floats) (const CnnWinograd * wg);
  gsize (*conv_scratch_floats) (const CnnWinograd * wg);
  void (*conv_pack) (const CnnWinograd * wg, const gfloat * w,
      gfloat * packed);
  void (*conv_forward) (const CnnWinograd * wg, const gfloat * packed,
      const gfloat * bias, const gfloat * x, gfloat * y, gfloat * scratch);
  /* Dense layers: W (out × in) → packed (dense_packed_bytes); then
   * W · x_s + b → y_s for @batch samples, @scratch as many floats as
   * dense_scratch_floats */
  gsize (*dense_packed_bytes) (guint n_out, guint n_in);
  gsize (*dense_scratch_floats) (guint n_in);
  void (*dense_pack) (const gfloat * w, guint n_out, guint n_in,
      void *packed);
  void (*dense_forward) (const void *packed, const gfloat * x,
      const gfloat * b, guint n_out, guint n_in, guint batch, gfloat * y,
      gfloat * scratch);
} CnnInt8Ops;

/* One family of fast kernels, what conv2d and dense call: one table per
 * instruction set, each function with the same contract in each. */
typedef struct
{
  const gchar *name;
  /* Floats of packed (transformed) weights, and of per-sample scratch. */
  gsize (*winograd_packed_floats) (const CnnWinograd * wg);
  gsize (*winograd_scratch_floats) (const CnnWinograd * wg);
  /* w (filters × C × 3 × 3) → packed: G g Gᵀ, laid out for the GEMM */
  void (*winograd_pack) (const CnnWinograd * wg, const gfloat * w,
      gfloat * packed);
  /* x (C×H×W) → y (filters × oh×ow, or × oh/2×ow/2 when pooled) */
  void (*winograd_forward) (const CnnWinograd * wg, const gfloat * packed,
      const gfloat * bias, const gfloat * x, gfloat * y, gfloat * scratch);
  /* The same convolution computed directly (no pooling), for inputs of
   * at most direct_max_channels channels, where Winograd's transforms
   * cost more than they save (AVX-512, 32 filters on 28×28 at batch 64,
   * µs per image, direct against Winograd: 1 channel 5.0 / 11.8, 2:
   * 10.0 / 13.0, 3: 14.8 / 14.5, 4: 19.8 / 16.5).  @w as the layer
   * holds it (filters × C × 3 × 3); @scratch as for Winograd. */
  guint direct_max_channels;
  void (*conv3x3_direct) (const CnnWinograd * wg, const gfloat * w,
      const gfloat * bias, const gfloat * x, gfloat * y, gfloat * scratch);
  /* W (out × in) · x_s (in) + b (out) → y_s (out) for each of @batch
   * samples s, x and y one after another; the weights are read once for
   * a few samples at a time */
  void (*gemv) (const gfloat * w, const gfloat * x, const gfloat * b,
      guint n_out, guint n_in, guint batch, gfloat * y);
  /* Half-precision weights for the matrix-vector product: a dense
   * layer's weights at batch 1 are read once per pass and, at 4.7 MB in
   * the reference network, from L3 cache or memory, so the bytes set
   * the pace; in IEEE fp16 (11 significant bits, 2⁻¹¹ relative
   * rounding) they are half as many, and the products and sums stay in
   * float.  w (n floats) → half (n, rounded to nearest even); FALSE, and
   * @half unusable, when a value is not finite or beyond fp16's
   * ±65504. */
  gboolean (*f16_pack) (const gfloat * w, guint16 * half, gsize n);
  /* W (out × in, fp16) · x_s (in) + b (out) → y_s (out), as gemv */
  void (*gemv_f16) (const guint16 * w, const gfloat * x, const gfloat * b,
      guint n_out, guint n_in, guint batch, gfloat * y);
  /* The int8 kernels, for the layers that take them (conv2d.c,
   * dense.c); NULL but for CNN_KERNELS_AVX512_INT8. */
  const CnnInt8Ops *int8;
} CnnKernelOps;

/* The table of @kernels (AVX-512's for its bf16 variant, and with int8
 * kernels for its int8 one); NULL for the portable path. */
const CnnKernelOps *cnn_kernels_ops (CnnKernels kernels);

/* Each family's functions, suffixed with its name: cnn-avx512.c, and
 * cnn-vector.c built as cnn-avx2. */
#define CNN_KERNEL_FAMILY(suffix) \
  gsize cnn_winograd_packed_floats_##suffix (const CnnWinograd * wg); \
  gsize cnn_winograd_scratch_floats_##suffix (const CnnWinograd * wg); \
  void cnn_winograd_pack_##suffix (const CnnWinograd * wg, \
      const gfloat * w, gfloat * packed); \
  void cnn_winograd_forward_##suffix (const CnnWinograd * wg, \
      const gfloat * packed, const gfloat * bias, const gfloat * x, \
      gfloat * y, gfloat * scratch); \
  void cnn_conv3x3_direct_##suffix (const CnnWinograd * wg, \
      const gfloat * w, const gfloat * bias, const gfloat * x, gfloat * y, \
      gfloat * scratch); \
  void cnn_gemv_##suffix (const gfloat * w, const gfloat * x, \
      const gfloat * b, guint n_out, guint n_in, guint batch, gfloat * y); \
  gboolean cnn_f16_pack_##suffix (const gfloat * w, guint16 * half, \
      gsize n); \
  void cnn_gemv_f16_##suffix (const guint16 * w, const gfloat * x, \
      const gfloat * b, guint n_out, guint n_in, guint batch, gfloat * y);

CNN_KERNEL_FAMILY (avx512)
CNN_KERNEL_FAMILY (avx2)

gsize cnn_conv_int8_packed_floats_avx512 (const CnnWinograd * wg);
gsize cnn_conv_int8_scratch_floats_avx512 (const CnnWinograd * wg);
void cnn_conv_int8_pack_avx512 (const CnnWinograd * wg, const gfloat * w,
    gfloat * packed);
void cnn_conv_int8_forward_avx512 (const CnnWinograd * wg,
    const gfloat * packed, const gfloat * bias, const gfloat * x, gfloat * y,
    gfloat * scratch);
gsize cnn_dense_int8_packed_bytes_avx512 (guint n_out, guint n_in);
gsize cnn_dense_int8_scratch_floats_avx512 (guint n_in);
void cnn_dense_int8_pack_avx512 (const gfloat * w, guint n_out, guint n_in,
    void *packed);
void cnn_dense_int8_forward_avx512 (const void *packed, const gfloat * x,
    const gfloat * b, guint n_out, guint n_in, guint batch, gfloat * y,
    gfloat * scratch);

G_END_DECLS

#endif /* CNN_KERNELS_H */
