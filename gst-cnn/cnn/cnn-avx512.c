/* AVX-512 inference kernels: Winograd F(2×2, 3×3) convolution fused with
 * bias, ReLU and 2×2 max pooling, and a matrix-vector product for dense
 * layers at batch 1.
 *
 * This file alone is compiled with -mavx512f etc.; nothing here may run
 * before cnn_kernels_choose() has said the CPU has AVX-512.  The bf16
 * variant's functions (BF16) also need AVX512_BF16, which they alone are
 * compiled for. */
#include "cnn-kernels.h"
#include "cnn-avx512-lanes.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

#define FILTER_BLOCK 8          /* filters per GEMM block: 8 broadcasts */
#define TILE_VECTORS 3          /* 3 vectors of 16 tiles: 24 accumulators */
#define TILE_BLOCK (TILE_VECTORS * LANES)
#define POSITIONS 16            /* a 4×4 transformed tile */

#define BF16 __attribute__ ((target ("avx512bf16")))

/* The small fixed loops below are unrolled (#pragma GCC unroll) so that
 * their arrays of vectors become registers: -O2 would keep them on the
 * stack, and a kernel whose accumulators live in memory runs at the
 * speed of its stores. */

/* Where the tiles are: th × tw tiles of 2×2 outputs, numbered row by
 * row (t = ty·row + tx); the input they read, padded with zeros to
 * hp × wp so that every 4×4 patch is inside it.  Pooled, the rows are
 * packed (row = tw) and the pooled outputs are numbered like the tiles;
 * otherwise each row starts a vector (row = tw rounded up to 16), so
 * that a vector's 2×2 outputs can be interleaved into two output rows. */
typedef struct
{
  guint th, tw, row, tiles;
  gsize tiles_padded;           /* slots for tiles, whole vectors */
  guint hp, wp;
  gboolean copy;                /* the input is not already hp × wp */
} Geometry;

static Geometry
geometry (const CnnWinograd * wg)
{
  Geometry g;

  g.th = (wg->oh + 1) / 2;
  g.tw = (wg->ow + 1) / 2;
  g.tiles = g.th * g.tw;
  g.row = wg->pool ? g.tw : (g.tw + LANES - 1) / LANES * LANES;
  g.tiles_padded = wg->pool ? (g.tiles + LANES - 1) / LANES * LANES
      : (gsize) g.th * g.row;
  g.hp = 2 * g.th + 2;
  g.wp = 2 * g.tw + 2;
  g.copy = wg->pad != 0 || g.hp != wg->height || g.wp != wg->width;
  return g;
}

static guint
filter_blocks (const CnnWinograd * wg)
{
  return (wg->filters + FILTER_BLOCK - 1) / FILTER_BLOCK;
}

/* Rows of V and of packed weights: a channel each, or in bf16 a pair of
 * channels, two bf16 in each float's place (the last one's second zero
 * when C is odd). */
static guint
channel_slots (const CnnWinograd * wg)
{
  return wg->bf16 ? (wg->channels + 1) / 2 : wg->channels;
}

gsize
cnn_winograd_packed_floats_avx512 (const CnnWinograd * wg)
{
  return (gsize) POSITIONS * filter_blocks (wg) * FILTER_BLOCK
      * channel_slots (wg);
}

gsize
cnn_winograd_scratch_floats_avx512 (const CnnWinograd * wg)
{
  Geometry g = geometry (wg);

  return (gsize) wg->channels * g.hp * g.wp      /* padded input */
      + (gsize) POSITIONS * channel_slots (wg) * g.tiles_padded /* V */
      + (gsize) POSITIONS * FILTER_BLOCK * TILE_BLOCK;  /* M, one block */
}

/* g (3×3) → u = G g Gᵀ (4×4), G = (1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1) */
static void
transform_filter (const gfloat * g, gfloat u[16])
{
  gfloat gg[4][3];

#pragma GCC unroll 16
  for (guint j = 0; j < 3; j++) {
    gg[0][j] = g[j];
    gg[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
    gg[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
    gg[3][j] = g[6 + j];
  }
#pragma GCC unroll 16
  for (guint i = 0; i < 4; i++) {
    u[i * 4 + 0] = gg[i][0];
    u[i * 4 + 1] = 0.5f * (gg[i][0] + gg[i][1] + gg[i][2]);
    u[i * 4 + 2] = 0.5f * (gg[i][0] - gg[i][1] + gg[i][2]);
    u[i * 4 + 3] = gg[i][2];
  }
}

/* The layout the GEMM reads: for each position and block of 8 filters,
 * the 8 filters' values channel after channel, so that one channel's 8
 * broadcasts are adjacent.  Filters past the last are zero. */
/* float → bf16, rounded to nearest even (values here are finite) */
static guint16
to_bf16 (gfloat x)
{
  guint32 bits;

  memcpy (&bits, &x, sizeof bits);
  return (guint16) ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
}

void
cnn_winograd_pack_avx512 (const CnnWinograd * wg, const gfloat * w,
    gfloat * packed)
{
  guint nfb = filter_blocks (wg), c_n = wg->channels;
  guint slots = channel_slots (wg);
  guint16 *halves = (guint16 *) packed;

  memset (packed, 0, cnn_winograd_packed_floats_avx512 (wg)
      * sizeof (gfloat));
  for (guint f = 0; f < wg->filters; f++)
    for (guint c = 0; c < c_n; c++) {
      gfloat u[16];

      transform_filter (w + ((gsize) f * c_n + c) * 9, u);
      for (guint p = 0; p < POSITIONS; p++) {
        gsize at = (((gsize) p * nfb + f / FILTER_BLOCK) * slots
            + (wg->bf16 ? c / 2 : c)) * FILTER_BLOCK + f % FILTER_BLOCK;

        if (wg->bf16)
          halves[2 * at + c % 2] = to_bf16 (u[p]);
        else
          packed[at] = u[p];
      }
    }
}

/* x (C×H×W) → C × hp × wp with the zero border the tiles need */
static const gfloat *
pad_input (const CnnWinograd * wg, const Geometry * g, const gfloat * x,
    gfloat * buf)
{
  if (!g->copy)
    return x;
  memset (buf, 0, (gsize) wg->channels * g->hp * g->wp * sizeof (gfloat));
  for (guint c = 0; c < wg->channels; c++)
    for (guint y = 0; y < wg->height; y++)
      memcpy (buf + ((gsize) c * g->hp + y + wg->pad) * g->wp + wg->pad,
          x + ((gsize) c * wg->height + y) * wg->width,
          wg->width * sizeof (gfloat));
  return buf;
}

/* One row of 16 tiles' patches: row (2·16 + 2 floats, @count of them
 * readable) → d[j] = row[2·tile + j], j = 0..3, one vector each. */
static ALWAYS_INLINE void
load_patch_row (const gfloat * row, gint count, __m512 d[4])
{
  const __m512i even = _mm512_set_epi32 (30, 28, 26, 24, 22, 20, 18, 16,
      14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_add_epi32 (even, _mm512_set1_epi32 (1));
  __m512 a = _mm512_maskz_loadu_ps (first_lanes (count), row);
  __m512 b = _mm512_maskz_loadu_ps (first_lanes (count - 16), row + 16);
  __m512 a2 = _mm512_maskz_loadu_ps (first_lanes (count - 2), row + 2);
  __m512 b2 = _mm512_maskz_loadu_ps (first_lanes (count - 18), row + 18);

  d[0] = _mm512_permutex2var_ps (a, even, b);
  d[1] = _mm512_permutex2var_ps (a, odd, b);
  d[2] = _mm512_permutex2var_ps (a2, even, b2);
  d[3] = _mm512_permutex2var_ps (a2, odd, b2);
}

/* x (4) → Bᵀ x, Bᵀ = (1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1) */
static ALWAYS_INLINE void
input_combine (const __m512 x[4], __m512 y[4])
{
  y[0] = _mm512_sub_ps (x[0], x[2]);
  y[1] = _mm512_add_ps (x[1], x[2]);
  y[2] = _mm512_sub_ps (x[2], x[1]);
  y[3] = _mm512_sub_ps (x[1], x[3]);
}

/* 16 tiles' 4×4 patches d (from padded rows at @p) → Bᵀ d B, a vector
 * per position */
static ALWAYS_INLINE void
transform_16_tiles (const gfloat * p, guint wp, gint count, __m512 v[16])
{
  __m512 d[4][4], s[4][4], col[4], out[4];

#pragma GCC unroll 16
  for (guint r = 0; r < 4; r++) {
    load_patch_row (p + (gsize) r * wp, count, d[r]);
    input_combine (d[r], s[r]);
  }
#pragma GCC unroll 16
  for (guint j = 0; j < 4; j++) {
#pragma GCC unroll 16
    for (guint r = 0; r < 4; r++)
      col[r] = s[r][j];
    input_combine (col, out);
#pragma GCC unroll 16
    for (guint i = 0; i < 4; i++)
      v[i * 4 + j] = out[i];
  }
}

/* Slots past the tiles are zero: they then give zeros, not NaNs. */
static void
zero_tail_slots (const Geometry * g, guint slots, gfloat * v)
{
  gsize tp = g->tiles_padded;

  if (g->row != g->tw)
    return;                     /* each row's own tail: the loads' zeros */
  for (guint p = 0; p < POSITIONS; p++)
    for (guint c = 0; c < slots; c++)
      memset (v + ((gsize) p * slots + c) * tp + g->tiles, 0,
          (tp - g->tiles) * sizeof (gfloat));
}

/* Which of a chunk's lanes to store: packed rows must not overwrite
 * the next row's slots. */
static __mmask16
chunk_lanes (const Geometry * g, guint n)
{
  return g->row == g->tw ? first_lanes ((gint) n) : 0xFFFF;
}

/* image (C × hp × wp) → V (16 × C × tiles_padded) */
static void
transform_input (const Geometry * g, guint channels, const gfloat * img,
    gfloat * v)
{
  gsize tp = g->tiles_padded, pos_stride = (gsize) channels * tp;

  zero_tail_slots (g, channels, v);
  for (guint c = 0; c < channels; c++)
    for (guint ty = 0; ty < g->th; ty++)
      for (guint tx = 0; tx < g->tw; tx += LANES) {
        guint n = MIN (LANES, g->tw - tx);
        const gfloat *p = img + ((gsize) c * g->hp + 2 * ty) * g->wp + 2 * tx;
        gfloat *at = v + c * tp + ty * g->row + tx;
        __m512 out[16];

        transform_16_tiles (p, g->wp, (gint) (2 * n + 2), out);
#pragma GCC unroll 16
        for (guint q = 0; q < POSITIONS; q++)
          _mm512_mask_storeu_ps (at + q * pos_stride, chunk_lanes (g, n),
              out[q]);
      }
}

/* Two channels' 16 tiles (a, b) → 16 bf16 pairs (a₀ b₀ a₁ b₁ ...) */
BF16 static ALWAYS_INLINE __m512
pair_bf16 (__m512 a, __m512 b)
{
  static const guint16 order[32] = {
    0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23,
    8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31
  };
  /* cvtne2ps: the second argument fills the low half */
  __m512i halves = (__m512i) _mm512_cvtne2ps_pbh (b, a);

  return _mm512_castsi512_ps (_mm512_permutexvar_epi16 (_mm512_loadu_si512
          (order), halves));
}

/* image (C × hp × wp) → V (16 × C/2 × tiles_padded bf16 pairs) */
BF16 static void
transform_input_bf16 (const Geometry * g, guint channels, const gfloat * img,
    gfloat * v)
{
  guint slots = (channels + 1) / 2;
  gsize tp = g->tiles_padded, pos_stride = (gsize) slots * tp;
  gsize plane = (gsize) g->hp * g->wp;

  zero_tail_slots (g, slots, v);
  for (guint c = 0; c < channels; c += 2)
    for (guint ty = 0; ty < g->th; ty++)
      for (guint tx = 0; tx < g->tw; tx += LANES) {
        guint n = MIN (LANES, g->tw - tx);
        const gfloat *p = img + c * plane + (gsize) 2 * ty * g->wp + 2 * tx;
        gfloat *at = v + c / 2 * tp + ty * g->row + tx;
        __m512 a[16], b[16];

        transform_16_tiles (p, g->wp, (gint) (2 * n + 2), a);
        if (c + 1 < channels)
          transform_16_tiles (p + plane, g->wp, (gint) (2 * n + 2), b);
        else
          for (guint q = 0; q < POSITIONS; q++)
            b[q] = _mm512_setzero_ps ();
#pragma GCC unroll 16
        for (guint q = 0; q < POSITIONS; q++)
          _mm512_mask_storeu_ps (at + q * pos_stride, chunk_lanes (g, n),
              pair_bf16 (a[q], b[q]));
      }
}

/* The 8 × nv accumulators of a GEMM block: zeroed, and stored to M */
static ALWAYS_INLINE void
zero_block (__m512 acc[FILTER_BLOCK][TILE_VECTORS], const guint nv)
{
#pragma GCC unroll 16
  for (guint r = 0; r < FILTER_BLOCK; r++)
#pragma GCC unroll 16
    for (guint k = 0; k < nv; k++)
      acc[r][k] = _mm512_setzero_ps ();
}

static ALWAYS_INLINE void
store_block (__m512 acc[FILTER_BLOCK][TILE_VECTORS], gfloat * m,
    const guint nv)
{
#pragma GCC unroll 16
  for (guint r = 0; r < FILTER_BLOCK; r++)
#pragma GCC unroll 16
    for (guint k = 0; k < nv; k++)
      _mm512_storeu_ps (m + r * TILE_BLOCK + k * LANES, acc[r][k]);
}

/* U (C × 8) · V (C × 16·nv, rows @tp apart) → M (8 × 48) */
static ALWAYS_INLINE void
gemm_block (const gfloat * u, const gfloat * v, gsize tp, guint channels,
    gfloat * m, const guint nv)
{
  __m512 acc[FILTER_BLOCK][TILE_VECTORS];

  zero_block (acc, nv);
  for (guint c = 0; c < channels; c++) {
    const gfloat *vr = v + c * tp;
    __m512 x[TILE_VECTORS];

#pragma GCC unroll 16
    for (guint k = 0; k < nv; k++)
      x[k] = _mm512_loadu_ps (vr + k * LANES);
#pragma GCC unroll 16
    for (guint r = 0; r < FILTER_BLOCK; r++) {
      __m512 w = _mm512_set1_ps (u[c * FILTER_BLOCK + r]);

#pragma GCC unroll 16
      for (guint k = 0; k < nv; k++)
        acc[r][k] = _mm512_fmadd_ps (w, x[k], acc[r][k]);
    }
  }
  store_block (acc, m, nv);
}

/* gemm_block with the vector count made a constant, so that the
 * accumulators stay in registers */
static void
gemm_block_n (const gfloat * u, const gfloat * v, gsize tp, guint channels,
    gfloat * m, guint nv)
{
  switch (nv) {
    case 3:
      gemm_block (u, v, tp, channels, m, 3);
      break;
    case 2:
      gemm_block (u, v, tp, channels, m, 2);
      break;
    default:
      gemm_block (u, v, tp, channels, m, 1);
      break;
  }
}

/* U (C/2 × 8 bf16 pairs) · V (C/2 × 16·nv pairs) → M (8 × 48): each
 * dpbf16 adds two channels' products, half the instructions of fp32 */
BF16 static ALWAYS_INLINE void
gemm_block_bf16 (const gfloat * u, const gfloat * v, gsize tp, guint slots,
    gfloat * m, const guint nv)
{
  __m512 acc[FILTER_BLOCK][TILE_VECTORS];

  zero_block (acc, nv);
  for (guint c = 0; c < slots; c++) {
    const gfloat *vr = v + c * tp;
    __m512bh x[TILE_VECTORS];

#pragma GCC unroll 16
    for (guint k = 0; k < nv; k++)
      x[k] = (__m512bh) _mm512_loadu_si512 (vr + k * LANES);
#pragma GCC unroll 16
    for (guint r = 0; r < FILTER_BLOCK; r++) {
      __m512bh w = (__m512bh) _mm512_castps_si512 (_mm512_set1_ps
          (u[c * FILTER_BLOCK + r]));

#pragma GCC unroll 16
      for (guint k = 0; k < nv; k++)
        acc[r][k] = _mm512_dpbf16_ps (acc[r][k], w, x[k]);
    }
  }
  store_block (acc, m, nv);
}

BF16 static void
gemm_block_bf16_n (const gfloat * u, const gfloat * v, gsize tp,
    guint slots, gfloat * m, guint nv)
{
  switch (nv) {
    case 3:
      gemm_block_bf16 (u, v, tp, slots, m, 3);
      break;
    case 2:
      gemm_block_bf16 (u, v, tp, slots, m, 2);
      break;
    default:
      gemm_block_bf16 (u, v, tp, slots, m, 1);
      break;
  }
}

/* m (4×4 per tile) → Aᵀ m A (2×2), Aᵀ = (1 1 1 0; 0 1 -1 -1) */
static ALWAYS_INLINE void
output_transform (const __m512 m[16], __m512 y[4])
{
  __m512 t[2][4];

#pragma GCC unroll 16
  for (guint j = 0; j < 4; j++) {
    t[0][j] = _mm512_add_ps (_mm512_add_ps (m[j], m[4 + j]), m[8 + j]);
    t[1][j] = _mm512_sub_ps (_mm512_sub_ps (m[4 + j], m[8 + j]), m[12 + j]);
  }
#pragma GCC unroll 16
  for (guint i = 0; i < 2; i++) {
    y[i * 2] = _mm512_add_ps (_mm512_add_ps (t[i][0], t[i][1]), t[i][2]);
    y[i * 2 + 1] = _mm512_sub_ps (_mm512_sub_ps (t[i][1], t[i][2]),
        t[i][3]);
  }
}

/* Where a block's tiles put their outputs, worked out once per block
 * (not per filter: it takes divisions).  Pooled: each tile's pooled
 * output's offset in a plane, and which tiles have one.  Not pooled:
 * each vector's first output row (tiles of one tile row), how many
 * outputs of that row are inside the plane, whether the second row is,
 * and whether each row may be stored whole (see store_row). */
typedef struct
{
  __m512i offset[TILE_VECTORS];
  __mmask16 pooled[TILE_VECTORS];
  gboolean contiguous;          /* pooled offset == tile number */
  gsize row_offset[TILE_VECTORS];
  gint row_count[TILE_VECTORS];
  gboolean down[TILE_VECTORS];
  gboolean whole[TILE_VECTORS][2];
} Spots;

static void
find_pooled_spots (const CnnWinograd * wg, const Geometry * g, guint t0,
    guint nv, Spots * sp)
{
  guint ph = wg->oh / 2, pw = wg->ow / 2;

  sp->contiguous = pw == g->tw;
  for (guint k = 0; k < nv; k++) {
    gint32 offset[LANES];
    __mmask16 pooled = 0;

    for (guint i = 0; i < LANES; i++) {
      guint t = t0 + k * LANES + i, ty = t / g->tw, tx = t % g->tw;

      offset[i] = (gint32) (ty * pw + tx);
      pooled |= (t < g->tiles && ty < ph && tx < pw) ? 1u << i : 0;
    }
    sp->offset[k] = _mm512_loadu_si512 (offset);
    sp->pooled[k] = pooled;
  }
}

static void
find_row_spots (const CnnWinograd * wg, const Geometry * g, guint t0,
    guint nv, Spots * sp)
{
  for (guint k = 0; k < nv; k++) {
    guint t = t0 + k * LANES, ty = t / g->row, tx = t % g->row;

    gsize plane = (gsize) wg->oh * wg->ow;

    sp->row_offset[k] = (gsize) 2 * ty * wg->ow + 2 * tx;
    sp->row_count[k] = (gint) wg->ow - (gint) (2 * tx);
    sp->down[k] = 2 * ty + 1 < wg->oh;
    /* A row's second vector must not spill into the row below, which
     * the first vector has stored already. */
    sp->whole[k][0] = tx == 0 && sp->row_offset[k] + 2 * LANES <= plane;
    sp->whole[k][1] = sp->row_offset[k] + wg->ow + 2 * LANES <= plane;
  }
}

/* 16 tiles' pooled maxima → plane (oh/2 × ow/2) */
static ALWAYS_INLINE void
store_pooled (const Spots * sp, guint k, guint t, __m512 best, gfloat * plane)
{
  if (sp->contiguous)
    _mm512_mask_storeu_ps (plane + t, sp->pooled[k], best);
  else
    _mm512_mask_i32scatter_ps (plane, sp->pooled[k], sp->offset[k], best, 4);
}

/* Two vectors a, b of 16 tiles → one output row a₀ b₀ a₁ b₁ ... of
 * @count values.  Masked stores are slow here (Zen 4), so the row is
 * stored whole, 32 values, when that stays inside the plane (@whole): what
 * runs past the row's end lands in later rows of the same plane, which
 * are stored after it (tile rows go in order within a filter). */
static ALWAYS_INLINE void
store_row (gfloat * row, gint count, gboolean whole, __m512 a, __m512 b)
{
  const __m512i lo = _mm512_set_epi32 (23, 7, 22, 6, 21, 5, 20, 4, 19, 3,
      18, 2, 17, 1, 16, 0);
  const __m512i hi = _mm512_add_epi32 (lo, _mm512_set1_epi32 (8));
  __m512 first = _mm512_permutex2var_ps (a, lo, b);
  __m512 second = _mm512_permutex2var_ps (a, hi, b);

  if (whole) {
    _mm512_storeu_ps (row, first);
    _mm512_storeu_ps (row + LANES, second);
  } else {
    _mm512_mask_storeu_ps (row, first_lanes (count), first);
    _mm512_mask_storeu_ps (row + LANES, first_lanes (count - LANES), second);
  }
}

/* 16 tiles of one tile row: y00, y01 → output row 2ty, and y10, y11 →
 * row 2ty + 1 (clipped at odd edges) */
static ALWAYS_INLINE void
store_rows (const Spots * sp, guint k, guint ow, const __m512 y[4],
    gfloat * plane)
{
  gfloat *row = plane + sp->row_offset[k];

  store_row (row, sp->row_count[k], sp->whole[k][0], y[0], y[1]);
  if (sp->down[k])
    store_row (row + ow, sp->row_count[k], sp->whole[k][1], y[2], y[3]);
}

/* M (16 × 8 × 48) of filters f0.. and tiles t0.. → bias, ReLU, pool, y */
static void
output_block (const CnnWinograd * wg, const Spots * sp, const gfloat * m,
    guint f0, guint t0, guint nv, const gfloat * bias, gfloat * y)
{
  gsize plane_size = wg->pool ? (gsize) (wg->oh / 2) * (wg->ow / 2)
      : (gsize) wg->oh * wg->ow;

  for (guint r = 0; r < FILTER_BLOCK && f0 + r < wg->filters; r++) {
    __m512 b = _mm512_set1_ps (bias[f0 + r]);
    gfloat *plane = y + (f0 + r) * plane_size;

    for (guint k = 0; k < nv; k++) {
      __m512 mm[16], out[4];

#pragma GCC unroll 16
      for (guint p = 0; p < POSITIONS; p++)
        mm[p] = _mm512_loadu_ps (m + (p * FILTER_BLOCK + r) * TILE_BLOCK
            + k * LANES);
      output_transform (mm, out);
#pragma GCC unroll 16
      for (guint q = 0; q < 4; q++) {
        out[q] = _mm512_add_ps (out[q], b);
        if (wg->relu)
          out[q] = _mm512_max_ps (out[q], _mm512_setzero_ps ());
      }
      if (wg->pool)
        store_pooled (sp, k, t0 + k * LANES, _mm512_max_ps (_mm512_max_ps
                (out[0], out[1]), _mm512_max_ps (out[2], out[3])), plane);
      else
        store_rows (sp, k, wg->ow, out, plane);
    }
  }
}

/* Per block of 48 tiles and 8 filters, the 16 products M = U · V are
 * made and at once turned into outputs, so M never leaves L1. */
void
cnn_winograd_forward_avx512 (const CnnWinograd * wg, const gfloat * packed,
    const gfloat * bias, const gfloat * x, gfloat * y, gfloat * scratch)
{
  Geometry g = geometry (wg);
  guint slots = channel_slots (wg), nfb = filter_blocks (wg);
  gsize tp = g.tiles_padded;
  gfloat *v = scratch + (gsize) wg->channels * g.hp * g.wp;
  gfloat *m = v + (gsize) POSITIONS * slots * tp;
  const gfloat *img = pad_input (wg, &g, x, scratch);

  if (wg->bf16)
    transform_input_bf16 (&g, wg->channels, img, v);
  else
    transform_input (&g, wg->channels, img, v);
  for (guint t0 = 0; t0 < tp; t0 += TILE_BLOCK) {
    guint nv = MIN (TILE_VECTORS, (guint) (tp - t0) / LANES);
    Spots spots = { 0 };

    if (wg->pool)
      find_pooled_spots (wg, &g, t0, nv, &spots);
    else
      find_row_spots (wg, &g, t0, nv, &spots);
    for (guint fb = 0; fb < nfb; fb++) {
      for (guint p = 0; p < POSITIONS; p++) {
        const gfloat *u = packed + ((gsize) p * nfb + fb) * slots
            * FILTER_BLOCK;
        const gfloat *vp = v + (gsize) p * slots * tp + t0;
        gfloat *mp = m + p * FILTER_BLOCK * TILE_BLOCK;

        if (wg->bf16)
          gemm_block_bf16_n (u, vp, tp, slots, mp, nv);
        else
          gemm_block_n (u, vp, tp, slots, mp, nv);
      }
      output_block (wg, &spots, m, fb * FILTER_BLOCK, t0, nv, bias, y);
    }
  }
}

/* ---- direct 3×3 convolution, for few input channels ------------------ */

/* One output vector (16 x positions) of every filter, from channel @c's
 * 9 input vectors @in: the bias (c = 0) or the sum so far, + the 9
 * products, [ReLU after the last channel]. */
static ALWAYS_INLINE void
direct_filters (const CnnWinograd * wg, const gfloat * w, const gfloat * bias,
    guint c, const __m512 in[9], __mmask16 keep, gfloat * y, gsize plane)
{
  gboolean last = c + 1 == wg->channels;

  for (guint f = 0; f < wg->filters; f++) {
    const gfloat *wf = w + ((gsize) f * wg->channels + c) * 9;
    gfloat *yf = y + f * plane;
    __m512 acc = c == 0 ? _mm512_set1_ps (bias[f])
        : _mm512_maskz_loadu_ps (keep, yf);

#pragma GCC unroll 9
    for (guint k = 0; k < 9; k++)
      acc = _mm512_fmadd_ps (_mm512_set1_ps (wf[k]), in[k], acc);
    if (last && wg->relu)
      acc = _mm512_max_ps (acc, _mm512_setzero_ps ());
    _mm512_mask_storeu_ps (yf, keep, acc);
  }
}

/* With one or two input channels, Winograd's transforms cost more than
 * the products they save: each output vector of each filter is 9 FMAs
 * per channel on input vectors loaded once for all filters. */
void
cnn_conv3x3_direct_avx512 (const CnnWinograd * wg, const gfloat * w,
    const gfloat * bias, const gfloat * x, gfloat * y, gfloat * scratch)
{
  Geometry g = geometry (wg);
  const gfloat *img = pad_input (wg, &g, x, scratch);
  gsize plane = (gsize) wg->oh * wg->ow;

  for (guint oy = 0; oy < wg->oh; oy++)
    for (guint ox = 0; ox < wg->ow; ox += LANES) {
      __mmask16 keep = first_lanes ((gint) (wg->ow - ox));

      for (guint c = 0; c < wg->channels; c++) {
        const gfloat *p = img + ((gsize) c * g.hp + oy) * g.wp + ox;
        __m512 in[9];

#pragma GCC unroll 9
        for (guint k = 0; k < 9; k++)
          in[k] = _mm512_maskz_loadu_ps (keep, p + (k / 3) * g.wp + k % 3);
        direct_filters (wg, w, bias, c, in, keep, y + (gsize) oy * wg->ow
            + ox, plane);
      }
    }
}

/* ---- matrix-vector products (dense layers at small batches) ---------- */

/* 16 weights of a row from @w at @i, lanes past @keep zero: floats, or
 * (@half) fp16 widened to floats */
static ALWAYS_INLINE __m512
load_weights (const void *w, gsize i, __mmask16 keep, const gboolean half)
{
  if (half)
    return _mm512_cvtph_ps (_mm256_maskz_loadu_epi16 (keep,
            (const guint16 *) w + i));
  return _mm512_maskz_loadu_ps (keep, (const gfloat *) w + i);
}

/* Samples a pass over the weights takes at once: 4 rows × 4 samples of
 * sums (16 registers of 32) and 4 inputs in flight. */
#define GEMV_GROUP 4

/* Σ a (n) · x_s (n) for four rows a0..a3 and @g samples x_0..x_g-1
 * (@x_stride floats apart) at once, rows @stride weights apart: each
 * weight, streamed from memory, is loaded once for all @g samples, each
 * input once for four rows. */
static ALWAYS_INLINE void
dot4 (const void *w, gsize stride, const gfloat * x, gsize x_stride, guint n,
    const guint g, gfloat out[4][GEMV_GROUP], const gboolean half)
{
  __m512 acc[4][GEMV_GROUP];
  guint i = 0;

#pragma GCC unroll 16
  for (guint r = 0; r < 4; r++)
#pragma GCC unroll 4
    for (guint k = 0; k < g; k++)
      acc[r][k] = _mm512_setzero_ps ();
  for (; i + LANES <= n; i += LANES) {
    __m512 xv[GEMV_GROUP];

#pragma GCC unroll 4
    for (guint k = 0; k < g; k++)
      xv[k] = _mm512_loadu_ps (x + k * x_stride + i);
#pragma GCC unroll 16
    for (guint r = 0; r < 4; r++) {
      __m512 wv = load_weights (w, r * stride + i, 0xffff, half);

#pragma GCC unroll 4
      for (guint k = 0; k < g; k++)
        acc[r][k] = _mm512_fmadd_ps (wv, xv[k], acc[r][k]);
    }
  }
  if (i < n) {
    __mmask16 keep = first_lanes ((gint) (n - i));
    __m512 xv[GEMV_GROUP];

#pragma GCC unroll 4
    for (guint k = 0; k < g; k++)
      xv[k] = _mm512_maskz_loadu_ps (keep, x + k * x_stride + i);
#pragma GCC unroll 16
    for (guint r = 0; r < 4; r++) {
      __m512 wv = load_weights (w, r * stride + i, keep, half);

#pragma GCC unroll 4
      for (guint k = 0; k < g; k++)
        acc[r][k] = _mm512_fmadd_ps (wv, xv[k], acc[r][k]);
    }
  }
#pragma GCC unroll 16
  for (guint r = 0; r < 4; r++)
#pragma GCC unroll 4
    for (guint k = 0; k < g; k++)
      out[r][k] = _mm512_reduce_add_ps (acc[r][k]);
}

#include "cnn-gemv-rows.h"

void
cnn_gemv_avx512 (const gfloat * w, const gfloat * x, const gfloat * b,
    guint n_out, guint n_in, guint batch, gfloat * y)
{
  gemv (w, x, b, n_out, n_in, batch, y, FALSE);
}

gboolean
cnn_f16_pack_avx512 (const gfloat * w, guint16 * half, gsize n)
{
  gsize i = 0;

  /* The check first, in plain C: an infinity or a value that would
   * round to one must leave the layer on its float weights. */
  for (gsize j = 0; j < n; j++)
    if (!(fabsf (w[j]) <= 65504.0f))
      return FALSE;
  for (; i + LANES <= n; i += LANES)
    _mm256_storeu_si256 ((__m256i *) (half + i),
        _mm512_cvtps_ph (_mm512_loadu_ps (w + i), _MM_FROUND_TO_NEAREST_INT));
  if (i < n) {
    __mmask16 keep = first_lanes ((gint) (n - i));
    __m256i h = _mm512_cvtps_ph (_mm512_maskz_loadu_ps (keep, w + i),
        _MM_FROUND_TO_NEAREST_INT);

    _mm256_mask_storeu_epi16 (half + i, keep, h);
  }
  return TRUE;
}

void
cnn_gemv_f16_avx512 (const guint16 * w, const gfloat * x, const gfloat * b,
    guint n_out, guint n_in, guint batch, gfloat * y)
{
  gemv (w, x, b, n_out, n_in, batch, y, TRUE);
}
