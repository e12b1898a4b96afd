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
} CnnKernels;

/* AVX-512 when this build has it, the CPU has it and CNN_KERNELS is not
 * "portable"; with CNN_KERNELS=avx512-bf16 and AVX512_BF16, the
 * reduced-precision variant (opt-in).  Read afresh at each call. */
CnnKernels cnn_kernels_choose (void);
const gchar *cnn_kernels_name (CnnKernels kernels);

/* A 3×3 stride-1 convolution by Winograd F(2×2, 3×3): the output is cut
 * into 2×2 tiles, each computed from a 4×4 input patch with 16 products
 * per channel instead of 36.  Optionally fused with the bias (always),
 * a ReLU and a 2×2 stride-2 max pool, whose windows are the tiles. */
typedef struct
{
  guint channels, height, width, pad;   /* input C×H×W, zero padding */
  guint filters;                /* output channels */
  guint oh, ow;                 /* output before pooling */
  gboolean relu, pool;
  /* The 16 products in bf16 (inputs rounded to 8 bits of mantissa, sums
   * in float): half the instructions, ~3 significant digits. */
  gboolean bf16;
} CnnWinograd;

/* Floats of packed (transformed) weights, and of per-sample scratch. */
gsize cnn_winograd_packed_floats (const CnnWinograd * wg);
gsize cnn_winograd_scratch_floats (const CnnWinograd * wg);

/* w (filters × C × 3 × 3) → packed (16 × filters/8 × C × 8): G g Gᵀ */
void cnn_winograd_pack_avx512 (const CnnWinograd * wg, const gfloat * w,
    gfloat * packed);

/* x (C×H×W) → y (filters × oh×ow, or × oh/2×ow/2 when pooled) */
void cnn_winograd_forward_avx512 (const CnnWinograd * wg,
    const gfloat * packed, const gfloat * bias, const gfloat * x,
    gfloat * y, gfloat * scratch);

/* The same convolution computed directly (no pooling): for inputs of at
 * most CNN_DIRECT_MAX_CHANNELS channels, where Winograd's transforms
 * cost more than they save (32 filters on 28×28 at batch 64, µs per
 * image, direct against Winograd: 1 channel 5.0 / 11.8, 2: 10.0 / 13.0,
 * 3: 14.8 / 14.5, 4: 19.8 / 16.5).  @w as the layer holds it (filters ×
 * C × 3 × 3); @scratch as for Winograd. */
#define CNN_DIRECT_MAX_CHANNELS 2
void cnn_conv3x3_direct_avx512 (const CnnWinograd * wg, const gfloat * w,
    const gfloat * bias, const gfloat * x, gfloat * y, gfloat * scratch);

/* W (out × in) · x (in) + b (out) → y (out) */
void cnn_gemv_avx512 (const gfloat * w, const gfloat * x, const gfloat * b,
    guint n_out, guint n_in, gfloat * y);

/* Half-precision weights for the matrix-vector product: a dense layer's
 * weights at batch 1 are read once per pass and, at 4.7 MB in the
 * reference network, from L3 cache or memory, so the bytes set the pace;
 * in IEEE fp16 (11 significant bits, 2⁻¹¹ relative rounding) they are
 * half as many, and the products and sums stay in float.
 * w (n floats) → half (n, rounded to nearest even); FALSE, and @half
 * unusable, when a value is not finite or beyond fp16's ±65504. */
gboolean cnn_f16_pack_avx512 (const gfloat * w, guint16 * half, gsize n);

/* W (out × in, fp16) · x (in) + b (out) → y (out) */
void cnn_gemv_f16_avx512 (const guint16 * w, const gfloat * x,
    const gfloat * b, guint n_out, guint n_in, gfloat * y);

G_END_DECLS

#endif /* CNN_KERNELS_H */
