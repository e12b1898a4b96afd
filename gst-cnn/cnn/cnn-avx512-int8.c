/* AVX512-VNNI int8 inference kernels (CNN_KERNELS=avx512-int8): a 3×3
 * stride-1 convolution fused with bias, ReLU and 2×2 max pooling, and
 * the dense layers' products, on weights quantised to s8 per output
 * channel when they are packed and inputs quantised to u8 per sample as
 * they come (docs/design.md §2, "int8").
 *
 * vpdpbusd multiplies four unsigned bytes by four signed ones and adds
 * the four products to a 32-bit lane: 64 products an instruction, four
 * times an fp32 FMA's 16, summed exactly in int32.
 *
 * This file alone is compiled with -mavx512vnni; nothing here may run
 * before cnn_kernels_choose() has said the CPU has it. */
#include "cnn-kernels.h"
#include "cnn-avx512-lanes.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>


/* ---- quantisation ------------------------------------------------------ */

/* How a tensor's floats map to bytes: x ≈ scale · (q - offset).  A tensor
 * with no negative value (after a ReLU: most inputs) takes the whole of
 * 0..255 with offset 0; one with negative values takes q = x / scale +
 * 128 in 1..255, and the products' sums are corrected by 128 · Σ w of
 * the row (vpdpbusd's first operand is unsigned). */
typedef struct
{
  gfloat scale, inv;            /* inv = 1 / scale, 0 when scale is 0 */
  gint32 offset;                /* 0 or 128 */
  gboolean finite;              /* FALSE: a NaN or infinity in the tensor */
} Quant;

/* The largest |x| of @n floats, and whether any is negative or not
 * finite: one pass, the tensor's scale for the pass (dynamic, per
 * tensor).  fpclass catches NaNs, which max and min would drop. */
static Quant
quant_of (const gfloat * x, gsize n)
{
  __m512 hi = _mm512_setzero_ps (), lo = _mm512_setzero_ps ();
  __mmask16 odd = 0;
  Quant qt = { 0.0f, 0.0f, 0, TRUE };
  gfloat amax, least, levels;

  for (gsize i = 0; i < n; i += LANES) {
    __m512 v = _mm512_maskz_loadu_ps (first_lanes ((gint) MIN (n - i,
                LANES)), x + i);

    /* 0x99: quiet NaN, signalling NaN, +infinity, -infinity */
    odd |= _mm512_fpclass_ps_mask (v, 0x99);
    hi = _mm512_max_ps (hi, v);
    lo = _mm512_min_ps (lo, v);
  }
  if (odd) {
    qt.finite = FALSE;
    return qt;
  }
  least = _mm512_reduce_min_ps (lo);
  amax = MAX (_mm512_reduce_max_ps (hi), -least);
  qt.offset = least < 0.0f ? 128 : 0;
  levels = qt.offset ? 127.0f : 255.0f;
  /* Below ~1e-36 the inverse would overflow: such a tensor is zeros to
   * the products (each off by less than 1e-36 · Σ |w|). */
  if (amax > levels / G_MAXFLOAT) {
    qt.scale = amax / levels;
    qt.inv = levels / amax;
  }
  return qt;
}

/* 16 floats → their bytes q in 0..255, one a 32-bit lane */
static ALWAYS_INLINE __m512i
quantise16 (__m512 x, const Quant * qt)
{
  __m512i q = _mm512_cvt_roundps_epi32 (_mm512_mul_ps (x,
          _mm512_set1_ps (qt->inv)),
      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);

  q = _mm512_add_epi32 (q, _mm512_set1_epi32 (qt->offset));
  return _mm512_min_epi32 (_mm512_max_epi32 (q, _mm512_setzero_si512 ()),
      _mm512_set1_epi32 (255));
}

/* A row's weights → s8 at a scale of max |w| / 127 (symmetric, so
 * that a weight's zero is 0); @inv its inverse, 0 for a row of zeros.
 * FALSE for a weight that is not finite: the row's scale is then NaN and
 * its outputs are NaN, as the float kernels' would be. */
static gboolean
weight_scale (const gfloat * w, gsize n, gfloat * scale, gfloat * inv)
{
  gfloat amax = 0.0f;

  for (gsize i = 0; i < n; i++) {
    gfloat a = fabsf (w[i]);

    if (!isfinite (a)) {
      *scale = NAN;
      *inv = 0.0f;
      return FALSE;
    }
    amax = MAX (amax, a);
  }
  /* A row below ~1e-36 (whose inverse would overflow) is zeros. */
  *scale = amax > 127.0f / G_MAXFLOAT ? amax / 127.0f : 0.0f;
  *inv = amax > 127.0f / G_MAXFLOAT ? 127.0f / amax : 0.0f;
  return TRUE;
}

/* w · inv rounded to the nearest (ties to even), in -127..127 */
static gint8
weight_byte (gfloat w, gfloat inv)
{
  gfloat q = nearbyintf (w * inv);

  return (gint8) CLAMP (q, -127.0f, 127.0f);
}

/* y = scale · (acc - corr) + bias, ReLU'd when asked: int32 sums back
 * to floats */
static ALWAYS_INLINE __m512
rescale16 (__m512i acc, __m512i corr, __m512 scale, __m512 bias,
    gboolean relu)
{
  __m512 y = _mm512_fmadd_ps (_mm512_cvtepi32_ps (_mm512_sub_epi32 (acc,
              corr)), scale, bias);

  return relu ? _mm512_max_ps (y, _mm512_setzero_ps ()) : y;
}

/* ---- 3×3 convolution ---------------------------------------------------- */

/* The output's positions are numbered over the padded input's width wp
 * (p = oy · wp + ox), so that tap (ky, kx) of 16 consecutive positions
 * is 16 consecutive input pixels, at p + ky · wp + kx, across rows: each
 * row's last 2 positions (ox ≥ ow) are computed and thrown away.  The
 * input is held as groups of 4 channels, each pixel's 4 bytes one 32-bit
 * lane (what vpdpbusd multiplies by a filter's 4 weights of those
 * channels at one tap). */
#define FILTER_BLOCK 8          /* filters a register block: 8 broadcasts */
#define TILE_VECTORS 3          /* 3 × 16 positions: 24 accumulators */
#define TILE (TILE_VECTORS * LANES)
#define TAPS 9

typedef struct
{
  guint hp, wp;                 /* the padded input */
  guint groups;                 /* channel groups of 4 */
  gsize positions;              /* oh · wp, rounded up to a TILE */
  gsize plane;                  /* 32-bit lanes of a group's plane */
} Geometry;

static Geometry
geometry (const CnnWinograd * wg)
{
  Geometry g;

  g.hp = wg->height + 2 * wg->pad;
  g.wp = wg->width + 2 * wg->pad;
  g.groups = (wg->channels + 3) / 4;
  g.positions = ((gsize) wg->oh * g.wp + TILE - 1) / TILE * TILE;
  /* The last tile reads 2 rows and 2 pixels past its positions. */
  g.plane = MAX ((gsize) g.hp * g.wp, g.positions + 2 * g.wp + 2);
  g.plane = (g.plane + LANES - 1) / LANES * LANES;
  return g;
}

static guint
filter_blocks (const CnnWinograd * wg)
{
  return (wg->filters + FILTER_BLOCK - 1) / FILTER_BLOCK;
}

/* Packed: the filters' scales (floats), their weights' sums (int32),
 * both for whole blocks, then per block of 8 filters, group of 4
 * channels and tap, the 8 filters' 4 bytes, adjacent for 8 broadcasts. */
gsize
cnn_conv_int8_packed_floats_avx512 (const CnnWinograd * wg)
{
  gsize filters = (gsize) filter_blocks (wg) * FILTER_BLOCK;

  return 2 * filters + filters * geometry (wg).groups * TAPS;
}

gsize
cnn_conv_int8_scratch_floats_avx512 (const CnnWinograd * wg)
{
  Geometry g = geometry (wg);

  return g.groups * g.plane + (gsize) FILTER_BLOCK * g.positions;
}

void
cnn_conv_int8_pack_avx512 (const CnnWinograd * wg, const gfloat * w,
    gfloat * packed)
{
  gsize filters = (gsize) filter_blocks (wg) * FILTER_BLOCK;
  guint groups = geometry (wg).groups, c_n = wg->channels;
  gfloat *scale = packed;
  gint32 *sum = (gint32 *) packed + filters;
  gint8 *bytes = (gint8 *) (packed + 2 * filters);

  memset (packed, 0, cnn_conv_int8_packed_floats_avx512 (wg)
      * sizeof (gfloat));
  for (guint f = 0; f < wg->filters; f++) {
    const gfloat *wf = w + (gsize) f * c_n * TAPS;
    gfloat inv;

    if (!weight_scale (wf, (gsize) c_n * TAPS, &scale[f], &inv))
      continue;
    for (guint c = 0; c < c_n; c++)
      for (guint t = 0; t < TAPS; t++) {
        gint8 q = weight_byte (wf[c * TAPS + t], inv);
        gsize at = (((gsize) f / FILTER_BLOCK * groups + c / 4) * TAPS + t)
            * FILTER_BLOCK + f % FILTER_BLOCK;

        bytes[at * 4 + c % 4] = q;
        sum[f] += q;
      }
  }
}

/* x (C × H × W) → groups of 4 channels' bytes (groups × plane), the
 * padding and the channels past the last the quantised zero */
static void
pack_input (const CnnWinograd * wg, const Geometry * g, const Quant * qt,
    const gfloat * x, guint32 * q)
{
  gsize hw = (gsize) wg->height * wg->width;

  memset (q, qt->offset, g->groups * g->plane * sizeof (guint32));
  /* Columns outermost: each chunk's mask made once, not once a row */
  for (guint x0 = 0; x0 < wg->width; x0 += LANES) {
    __mmask16 keep = first_lanes ((gint) (wg->width - x0));

    for (guint k = 0; k < g->groups; k++)
      for (guint y = 0; y < wg->height; y++) {
        __m512i word = _mm512_setzero_si512 ();

        for (guint j = 0; j < 4; j++) {
          guint c = 4 * k + j;
          __m512 v = c < wg->channels ? _mm512_maskz_loadu_ps (keep,
              x + c * hw + (gsize) y * wg->width + x0) : _mm512_setzero_ps ();

          word = _mm512_or_si512 (word, _mm512_slli_epi32 (quantise16 (v,
                      qt), 8 * j));
        }
        _mm512_mask_storeu_epi32 (q + k * g->plane + (gsize) (y + wg->pad)
            * g->wp + wg->pad + x0, keep, word);
      }
  }
}

/* 8 filters' sums at 48 positions from t0: over every group of 4
 * channels and tap, 3 loads of 16 pixels' 4 bytes and 8 broadcasts of a
 * filter's 4 weights make 24 vpdpbusd.  → m (8 rows, @g positions
 * apart) */
static void
conv_tile (const Geometry * g, const gint32 * w, const guint32 * q,
    gsize t0, gint32 * m)
{
  __m512i acc[FILTER_BLOCK][TILE_VECTORS];
  gsize tap_at[TAPS];

  for (guint t = 0; t < TAPS; t++)
    tap_at[t] = (gsize) (t / 3) * g->wp + t % 3;
#pragma GCC unroll 16
  for (guint r = 0; r < FILTER_BLOCK; r++)
#pragma GCC unroll 16
    for (guint v = 0; v < TILE_VECTORS; v++)
      acc[r][v] = _mm512_setzero_si512 ();
  for (guint k = 0; k < g->groups; k++)
    for (guint t = 0; t < TAPS; t++) {
      const guint32 *p = q + k * g->plane + t0 + tap_at[t];
      const gint32 *wt = w + ((gsize) k * TAPS + t) * FILTER_BLOCK;
      __m512i x[TILE_VECTORS];

#pragma GCC unroll 16
      for (guint v = 0; v < TILE_VECTORS; v++)
        x[v] = _mm512_loadu_si512 (p + v * LANES);
#pragma GCC unroll 16
      for (guint r = 0; r < FILTER_BLOCK; r++) {
        __m512i wv = _mm512_set1_epi32 (wt[r]);

#pragma GCC unroll 16
        for (guint v = 0; v < TILE_VECTORS; v++)
          acc[r][v] = _mm512_dpbusd_epi32 (acc[r][v], x[v], wv);
      }
    }
#pragma GCC unroll 16
  for (guint r = 0; r < FILTER_BLOCK; r++)
#pragma GCC unroll 16
    for (guint v = 0; v < TILE_VECTORS; v++)
      _mm512_storeu_si512 (m + r * g->positions + t0 + v * LANES, acc[r][v]);
}

/* One filter's sums (oh rows of wp) → its output plane (oh × ow) */
static void
output_plane (const CnnWinograd * wg, const Geometry * g, const gint32 * m,
    __m512i corr, __m512 scale, __m512 bias, gfloat * y)
{
  for (guint ox = 0; ox < wg->ow; ox += LANES) {
    __mmask16 keep = first_lanes ((gint) (wg->ow - ox));

    for (guint oy = 0; oy < wg->oh; oy++) {
      __m512i acc = _mm512_maskz_loadu_epi32 (keep, m + (gsize) oy * g->wp
          + ox);

      _mm512_mask_storeu_ps (y + (gsize) oy * wg->ow + ox, keep,
          rescale16 (acc, corr, scale, bias, wg->relu));
    }
  }
}

/* One filter's sums → its pooled plane (oh/2 × ow/2): each window's
 * largest sum, then rescaled (the scale is positive, so the largest sum
 * gives the largest output, ReLU'd or not) */
static void
output_pooled (const CnnWinograd * wg, const Geometry * g, const gint32 * m,
    __m512i corr, __m512 scale, __m512 bias, gfloat * y)
{
  const __m512i even = _mm512_set_epi32 (30, 28, 26, 24, 22, 20, 18, 16,
      14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_add_epi32 (even, _mm512_set1_epi32 (1));
  guint ph = wg->oh / 2, pw = wg->ow / 2;

  for (guint px = 0; px < pw; px += LANES) {
    gint n = (gint) MIN (pw - px, LANES);
    __mmask16 keep = first_lanes (n), first = first_lanes (2 * n);
    __mmask16 second = first_lanes (2 * n - LANES);

    for (guint py = 0; py < ph; py++) {
      __m512i best = _mm512_set1_epi32 (G_MININT32);

      for (guint dy = 0; dy < 2; dy++) {
        const gint32 *row = m + (gsize) (2 * py + dy) * g->wp + 2 * px;
        __m512i a = _mm512_maskz_loadu_epi32 (first, row);
        __m512i b = _mm512_maskz_loadu_epi32 (second, row + LANES);

        best = _mm512_max_epi32 (best, _mm512_permutex2var_epi32 (a, even,
                b));
        best = _mm512_max_epi32 (best, _mm512_permutex2var_epi32 (a, odd,
                b));
      }
      _mm512_mask_storeu_ps (y + (gsize) py * pw + px, keep,
          rescale16 (best, corr, scale, bias, wg->relu));
    }
  }
}

/* A block's sums m (8 × positions) → its filters' planes of y */
static void
output_block (const CnnWinograd * wg, const Geometry * g, const Quant * qt,
    const gfloat * packed, guint fb, const gfloat * bias, const gint32 * m,
    gfloat * y)
{
  gsize filters = (gsize) filter_blocks (wg) * FILTER_BLOCK;
  const gint32 *sum = (const gint32 *) packed + filters;
  gsize plane = wg->pool ? (gsize) (wg->oh / 2) * (wg->ow / 2)
      : (gsize) wg->oh * wg->ow;

  for (guint r = 0; r < FILTER_BLOCK; r++) {
    guint f = fb * FILTER_BLOCK + r;
    __m512i corr;
    __m512 scale, b;

    if (f >= wg->filters)
      break;
    corr = _mm512_set1_epi32 (qt->offset * sum[f]);
    scale = _mm512_set1_ps (qt->scale * packed[f]);
    b = _mm512_set1_ps (bias[f]);
    if (wg->pool)
      output_pooled (wg, g, m + r * g->positions, corr, scale, b,
          y + f * plane);
    else
      output_plane (wg, g, m + r * g->positions, corr, scale, b,
          y + f * plane);
  }
}

static void
fill_nan (gfloat * y, gsize n)
{
  for (gsize i = 0; i < n; i++)
    y[i] = NAN;
}

/* Per block of 8 filters, every tile's sums into m (8 × positions, in
 * L1), then rescaled into the output.  An input with a NaN or an
 * infinity gives NaNs, as the float kernels would. */
void
cnn_conv_int8_forward_avx512 (const CnnWinograd * wg, const gfloat * packed,
    const gfloat * bias, const gfloat * x, gfloat * y, gfloat * scratch)
{
  Geometry g = geometry (wg);
  gsize filters = (gsize) filter_blocks (wg) * FILTER_BLOCK;
  const gint32 *w = (const gint32 *) (packed + 2 * filters);
  guint32 *q = (guint32 *) scratch;
  gint32 *m = (gint32 *) (scratch + g.groups * g.plane);
  Quant qt = quant_of (x, (gsize) wg->channels * wg->height * wg->width);

  if (!qt.finite) {
    fill_nan (y, (gsize) wg->filters * (wg->pool ? (gsize) (wg->oh / 2)
            * (wg->ow / 2) : (gsize) wg->oh * wg->ow));
    return;
  }
  pack_input (wg, &g, &qt, x, q);
  for (guint fb = 0; fb < filter_blocks (wg); fb++) {
    const gint32 *wb = w + (gsize) fb * g.groups * TAPS * FILTER_BLOCK;

    for (gsize t0 = 0; t0 < g.positions; t0 += TILE)
      conv_tile (&g, wb, q, t0, m);
    output_block (wg, &g, &qt, packed, fb, bias, m, y);
  }
}

/* ---- dense layers --------------------------------------------------- */

/* Rows padded to 64 bytes: a vpdpbusd's worth, so the loop has no tail
 * (the padding's weights are zero). */
#define ROW_ALIGN 64
/* Samples quantised at once: their bytes (16 × the padded row) stay in
 * L2 while each group of 4 rows, 4 × 9216 bytes in the reference
 * network, is read from L1 for all of them. */
#define CHUNK 16
#define GROUP 4                 /* samples a pass over 4 rows takes */

static gsize
padded_row (guint n_in)
{
  return ((gsize) n_in + ROW_ALIGN - 1) / ROW_ALIGN * ROW_ALIGN;
}

/* Packed: the rows' scales (floats), their weights' sums (int32), then
 * the rows' bytes, each padded_row() long. */
gsize
cnn_dense_int8_packed_bytes_avx512 (guint n_out, guint n_in)
{
  return (gsize) n_out * (2 * sizeof (gfloat) + padded_row (n_in));
}

gsize
cnn_dense_int8_scratch_floats_avx512 (guint n_in)
{
  return CHUNK * padded_row (n_in) / sizeof (gfloat);
}

void
cnn_dense_int8_pack_avx512 (const gfloat * w, guint n_out, guint n_in,
    void *packed)
{
  gfloat *scale = packed;
  gint32 *sum = (gint32 *) packed + n_out;
  gint8 *bytes = (gint8 *) (sum + n_out);
  gsize row = padded_row (n_in);

  memset (packed, 0, cnn_dense_int8_packed_bytes_avx512 (n_out, n_in));
  for (guint j = 0; j < n_out; j++) {
    const gfloat *wj = w + (gsize) j * n_in;
    gfloat inv;

    if (!weight_scale (wj, n_in, &scale[j], &inv))
      continue;
    for (guint i = 0; i < n_in; i++) {
      bytes[j * row + i] = weight_byte (wj[i], inv);
      sum[j] += bytes[j * row + i];
    }
  }
}

/* x (n floats) → its bytes (padded_row, the padding 0) */
static void
quantise_row (const gfloat * x, guint n, const Quant * qt, guint8 * q)
{
  gsize row = padded_row (n);

  for (gsize i = 0; i < row; i += LANES) {
    __mmask16 keep = first_lanes ((gint) MIN ((gsize) n - MIN (i, n),
            LANES));
    __m512i b = quantise16 (_mm512_maskz_loadu_ps (keep, x + i), qt);

    _mm_storeu_si128 ((__m128i *) (q + i), _mm512_cvtepi32_epi8
        (_mm512_maskz_mov_epi32 (keep, b)));
  }
}

/* Σ w_r · x_s (in int32) for 4 rows (@stride bytes apart) and @g
 * samples (@x_stride apart), @n bytes each (a multiple of 64) */
static ALWAYS_INLINE void
dot4_int8 (const gint8 * w, gsize stride, const guint8 * x, gsize x_stride,
    gsize n, const guint g, gint32 out[4][GROUP])
{
  __m512i acc[4][GROUP];

#pragma GCC unroll 16
  for (guint r = 0; r < 4; r++)
#pragma GCC unroll 4
    for (guint k = 0; k < g; k++)
      acc[r][k] = _mm512_setzero_si512 ();
  for (gsize i = 0; i < n; i += ROW_ALIGN) {
    __m512i xv[GROUP];

#pragma GCC unroll 4
    for (guint k = 0; k < g; k++)
      xv[k] = _mm512_loadu_si512 (x + k * x_stride + i);
#pragma GCC unroll 16
    for (guint r = 0; r < 4; r++) {
      __m512i wv = _mm512_loadu_si512 (w + r * stride + i);

#pragma GCC unroll 4
      for (guint k = 0; k < g; k++)
        acc[r][k] = _mm512_dpbusd_epi32 (acc[r][k], xv[k], wv);
    }
  }
#pragma GCC unroll 16
  for (guint r = 0; r < 4; r++)
#pragma GCC unroll 4
    for (guint k = 0; k < g; k++)
      out[r][k] = _mm512_reduce_add_epi32 (acc[r][k]);
}

/* Rows [j, j + 4) (fewer at the end: @rows) of @g samples' outputs from
 * their sums */
static ALWAYS_INLINE void
store_sums (const gint32 sums[4][GROUP], const gfloat * scale,
    const gint32 * sum, const gfloat * b, const Quant * qt, guint j,
    guint rows, guint n_out, const guint g, gfloat * y)
{
  for (guint r = 0; r < rows; r++)
#pragma GCC unroll 4
    for (guint k = 0; k < g; k++)
      y[(gsize) k * n_out + j + r] = qt[k].finite ? b[j + r] + qt[k].scale
          * scale[j + r] * (gfloat) (sums[r][k] - qt[k].offset * sum[j + r])
          : NAN;
}

/* Rows [j, j + @rows) of @g samples' outputs from their bytes (@row
 * apart), @rows 4 or 1: one row by dot4_int8 with a stride of 0, which
 * reads it 4 times from cache, as the last 1-3 rows of a layer can
 * afford */
static ALWAYS_INLINE void
dense_rows (const void *packed, guint j, guint rows, const guint8 * xq,
    gsize row, const Quant * qt, const gfloat * b, guint n_out,
    const guint g, gfloat * y)
{
  const gfloat *scale = packed;
  const gint32 *sum = (const gint32 *) packed + n_out;
  const gint8 *w = (const gint8 *) (sum + n_out);
  gint32 sums[4][GROUP];

  dot4_int8 (w + j * row, rows == 4 ? row : 0, xq, row, row, g, sums);
  store_sums (sums, scale, sum, b, qt, j, rows, n_out, g, y);
}

/* @n quantised samples' outputs: each group of 4 rows (36 kB in the
 * reference network) read from L1 for all of them, GROUP samples a
 * pass */
static void
dense_chunk (const void *packed, const guint8 * xq, gsize row,
    const Quant * qt, const gfloat * b, guint n_out, guint n, gfloat * y)
{
  for (guint j = 0, rows; j < n_out; j += rows) {
    rows = n_out - j >= 4 ? 4 : 1;
    for (guint s = 0; s < n; s += GROUP) {
      gfloat *ys = y + (gsize) s * n_out;
      const guint8 *xs = xq + s * row;

      switch (MIN (n - s, GROUP)) {
        case 1:
          dense_rows (packed, j, rows, xs, row, qt + s, b, n_out, 1, ys);
          break;
        case 2:
          dense_rows (packed, j, rows, xs, row, qt + s, b, n_out, 2, ys);
          break;
        case 3:
          dense_rows (packed, j, rows, xs, row, qt + s, b, n_out, 3, ys);
          break;
        default:
          dense_rows (packed, j, rows, xs, row, qt + s, b, n_out, GROUP,
              ys);
          break;
      }
    }
  }
}

/* W (out × in, s8) · x_s + b → y_s, the samples CHUNK at a time:
 * quantised each by its own largest |x|, then 4 at a time through every
 * row. */
void
cnn_dense_int8_forward_avx512 (const void *packed, const gfloat * x,
    const gfloat * b, guint n_out, guint n_in, guint batch, gfloat * y,
    gfloat * scratch)
{
  guint8 *xq = (guint8 *) scratch;
  gsize row = padded_row (n_in);

  for (guint s0 = 0; s0 < batch; s0 += CHUNK) {
    guint n = MIN (CHUNK, batch - s0);
    Quant qt[CHUNK];

    for (guint s = 0; s < n; s++) {
      const gfloat *xs = x + (gsize) (s0 + s) * n_in;

      qt[s] = quant_of (xs, n_in);
      if (qt[s].finite)
        quantise_row (xs, n_in, &qt[s], xq + s * row);
      else
        memset (xq + s * row, 0, row);
    }
    dense_chunk (packed, xq, row, qt, b, n_out, n, y + (gsize) s0 * n_out);
  }
}
