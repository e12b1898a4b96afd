/* Inference kernels in GCC vector extensions, 8 floats a vector: a
 * Winograd F(4×4, 3×3) convolution fused with bias, ReLU and 2×2 max
 * pooling, a direct 3×3 convolution for few input channels, and
 * matrix-vector products (float or fp16 weights) for dense layers at
 * batch 1.
 *
 * One source for every instruction set with 8-float (or 2 × 4-float)
 * vectors: meson builds it once per target with that target's flags
 * and CNN_VECTOR_TARGET naming it, which suffixes the entry points
 * (cnn_winograd_forward_avx2, ...).  The kernels are plain vector
 * arithmetic; the few operations C's vector extensions do not express
 * well (max, lane-masked loads and stores, fp16 conversions) are the
 * target's primitives below.  Built for x86-64 with -mavx2 -mfma -mf16c
 * -ffp-contract=fast (so that a·b + c is one FMA); nothing here may run
 * before cnn_kernels_choose() has said the CPU has those.
 *
 * Why F(4×4, 3×3) where the AVX-512 kernels use F(2×2, 3×3): with half
 * the lanes, products are what this path runs short of, and a 4×4 tile
 * takes 36 products per channel for 16 outputs (2.25 an output) where
 * a 2×2 tile takes 16 for 4 (4 an output).  The transforms' larger
 * coefficients cost about a decimal digit of float precision
 * (tests/unit/test-layers.c bounds it). */
#include "cnn-kernels.h"

#include <math.h>
#include <string.h>

#if !defined(CNN_VECTOR_TARGET)
#error "cnn-vector.c is built once per target, with -DCNN_VECTOR_TARGET=name"
#endif

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_ (a, b)
#define KERNEL(name) CAT (name, CNN_VECTOR_TARGET)

#define LANES 8
#define ALWAYS_INLINE inline __attribute__ ((always_inline))

typedef gfloat vf __attribute__ ((vector_size (LANES * sizeof (gfloat))));
typedef gint32 vi __attribute__ ((vector_size (LANES * sizeof (gint32))));
/* The same vector at any float's address, for loads and stores */
typedef gfloat vf_at __attribute__ ((vector_size (LANES * sizeof (gfloat)),
        aligned (sizeof (gfloat)), may_alias));

static ALWAYS_INLINE vf
load (const gfloat * p)
{
  return *(const vf_at *) p;
}

static ALWAYS_INLINE void
store (gfloat * p, vf v)
{
  *(vf_at *) p = v;
}

static ALWAYS_INLINE vf
splat (gfloat x)
{
  return (vf) { x, x, x, x, x, x, x, x };
}

/* ---- the target's primitives ----------------------------------------- */

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>

static ALWAYS_INLINE vf
vmax (vf a, vf b)
{
  return (vf) _mm256_max_ps ((__m256) a, (__m256) b);
}

/* Lanes [0, n) set, n clamped to 0..8 */
static ALWAYS_INLINE __m256i
first_lanes (gint n)
{
  const vi lane = { 0, 1, 2, 3, 4, 5, 6, 7 };

  return (__m256i) (lane < n);
}

/* p[0, n) into lanes [0, n), the rest zero; nothing past p + n is read */
static ALWAYS_INLINE vf
load_first (const gfloat * p, gint n)
{
  return (vf) _mm256_maskload_ps (p, first_lanes (n));
}

static ALWAYS_INLINE void
store_first (gfloat * p, gint n, vf v)
{
  _mm256_maskstore_ps (p, first_lanes (n), (__m256) v);
}

/* 8 fp16 at p, widened */
static ALWAYS_INLINE vf
load_half (const guint16 * p)
{
  return (vf) _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) p));
}

static ALWAYS_INLINE vf
load_half_first (const guint16 * p, gint n)
{
  guint16 part[LANES] = { 0 };

  memcpy (part, p, (gsize) CLAMP (n, 0, LANES) * sizeof (guint16));
  return load_half (part);
}

/* v rounded to the nearest fp16, ties to even */
static ALWAYS_INLINE void
store_half (guint16 * p, vf v)
{
  _mm_storeu_si128 ((__m128i *) p, _mm256_cvtps_ph ((__m256) v,
          _MM_FROUND_TO_NEAREST_INT));
}
#else
#error "cnn-vector.c has no primitives for this target yet"
#endif

/* ---- Winograd F(4×4, 3×3) -------------------------------------------- */

#define TILE 4                  /* outputs a tile side */
#define PATCH 6                 /* its input patch a side */
#define POSITIONS 36            /* PATCH × PATCH transformed values */
#define FILTER_BLOCK 4          /* filters per GEMM block: 4 broadcasts */
#define TILE_VECTORS 3          /* 3 vectors of 8 tiles: 12 accumulators */
#define TILE_BLOCK (TILE_VECTORS * LANES)

/* The small fixed loops are unrolled (#pragma GCC unroll) so that their
 * arrays of vectors become registers. */

/* th × tw tiles of 4×4 outputs, numbered row after row (t = ty·tw + tx)
 * and packed, without a gap between tile rows; the input padded with
 * zeros to hp × wp so that every 6×6 patch is inside it.  V keeps a row
 * of tiles_padded slots per position and channel (whole vectors), and
 * a vector's room more: a tile row's last vector is stored whole and
 * runs on into the next tile row's slots, before that row is stored. */
typedef struct
{
  guint th, tw, tiles;
  gsize tiles_padded, v_row;
  gsize v_position;             /* floats from one position's V to the next */
  guint hp, wp;
  guint row_floats;             /* a row of the vertical pass's output */
  gboolean copy;                /* the input is not already hp × wp */
} Geometry;

static Geometry
geometry (const CnnWinograd * wg)
{
  Geometry g;

  g.th = (wg->oh + TILE - 1) / TILE;
  g.tw = (wg->ow + TILE - 1) / TILE;
  g.tiles = g.th * g.tw;
  g.tiles_padded = ((gsize) g.tiles + LANES - 1) / LANES * LANES;
  g.v_row = g.tiles_padded + LANES;
  /* A cache line more than the position's rows: a power of two (as
   * 32 × 48 floats is a multiple of 2 kB) would put every position's
   * row of a tile in the same few cache sets, and a transform's 36
   * stores would evict one another. */
  g.v_position = wg->channels * g.v_row + 64 / sizeof (gfloat);
  g.hp = TILE * g.th + 2;
  g.wp = TILE * g.tw + 2;
  /* The horizontal pass reads 5 vectors from 4·tx. */
  g.row_floats = TILE * ((g.tw + LANES - 1) / LANES * LANES) + LANES;
  g.copy = wg->pad != 0 || g.hp != wg->height || g.wp != wg->width;
  return g;
}

static guint
filter_blocks (const CnnWinograd * wg)
{
  return (wg->filters + FILTER_BLOCK - 1) / FILTER_BLOCK;
}

gsize
KERNEL (cnn_winograd_packed_floats) (const CnnWinograd * wg)
{
  return (gsize) POSITIONS * filter_blocks (wg) * FILTER_BLOCK
      * wg->channels;
}

gsize
KERNEL (cnn_winograd_scratch_floats) (const CnnWinograd * wg)
{
  Geometry g = geometry (wg);

  return (gsize) wg->channels * g.hp * g.wp     /* padded input */
      + (gsize) PATCH * g.row_floats    /* the vertical pass, one tile row */
      + (gsize) POSITIONS * g.v_position        /* V */
      + (gsize) POSITIONS * FILTER_BLOCK * TILE_BLOCK;  /* M, one block */
}

/* g (3×3) → u = G g Gᵀ (6×6), in double, with
 * G = (1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6;
 *      1/24 -1/12 1/6; 0 0 1) */
static void
transform_filter (const gfloat * g, gfloat u[POSITIONS])
{
  static const gdouble G[PATCH][3] = {
    {1.0 / 4, 0, 0},
    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6},
    {1.0 / 24, -1.0 / 12, 1.0 / 6},
    {0, 0, 1},
  };
  gdouble gg[PATCH][3];

  for (guint i = 0; i < PATCH; i++)
    for (guint j = 0; j < 3; j++)
      gg[i][j] = G[i][0] * g[j] + G[i][1] * g[3 + j] + G[i][2] * g[6 + j];
  for (guint i = 0; i < PATCH; i++)
    for (guint j = 0; j < PATCH; j++)
      u[i * PATCH + j] = (gfloat) (gg[i][0] * G[j][0] + gg[i][1] * G[j][1]
          + gg[i][2] * G[j][2]);
}

/* w (filters × C × 3 × 3) → packed (36 × filters/4 × C × 4): for each
 * position and block of 4 filters, the 4 filters' values channel after
 * channel, so that one channel's 4 broadcasts are adjacent.  Filters
 * past the last are zero. */
void
KERNEL (cnn_winograd_pack) (const CnnWinograd * wg, const gfloat * w,
    gfloat * packed)
{
  guint nfb = filter_blocks (wg), c_n = wg->channels;

  memset (packed, 0, KERNEL (cnn_winograd_packed_floats) (wg)
      * sizeof (gfloat));
  for (guint f = 0; f < wg->filters; f++)
    for (guint c = 0; c < c_n; c++) {
      gfloat u[POSITIONS];

      transform_filter (w + ((gsize) f * c_n + c) * 9, u);
      for (guint p = 0; p < POSITIONS; p++)
        packed[(((gsize) p * nfb + f / FILTER_BLOCK) * c_n + c)
            * FILTER_BLOCK + f % FILTER_BLOCK] = u[p];
    }
}

/* x (C×H×W) → C × hp × wp with the zero border (pad, and what the last
 * tiles need) */
static const gfloat *
pad_input (const CnnWinograd * wg, guint hp, guint wp, gboolean copy,
    const gfloat * x, gfloat * buf)
{
  if (!copy)
    return x;
  memset (buf, 0, (gsize) wg->channels * hp * wp * sizeof (gfloat));
  for (guint c = 0; c < wg->channels; c++)
    for (guint y = 0; y < wg->height; y++)
      memcpy (buf + ((gsize) c * hp + y + wg->pad) * wp + wg->pad,
          x + ((gsize) c * wg->height + y) * wg->width,
          wg->width * sizeof (gfloat));
  return buf;
}

/* d (6) → Bᵀ d, Bᵀ = (4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0;
 *                     0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1) */
static ALWAYS_INLINE void
input_combine (const vf d[PATCH], vf s[PATCH])
{
  vf a = d[4] - 4.0f * d[2], b = d[3] - 4.0f * d[1];
  vf c = d[4] - d[2], e = 2.0f * (d[3] - d[1]);

  s[0] = 4.0f * d[0] - 5.0f * d[2] + d[4];
  s[1] = a + b;
  s[2] = a - b;
  s[3] = c + e;
  s[4] = c - e;
  s[5] = 4.0f * d[1] - 5.0f * d[3] + d[5];
}

/* One tile row of one channel, first down the columns: rows 4·ty.. of
 * the padded image (row_floats wide, zeros past wp) → s (6 rows) */
static void
vertical_pass (const Geometry * g, const gfloat * rows, gfloat * s)
{
  for (guint x = 0; x < g->row_floats; x += LANES) {
    gint n = (gint) g->wp - (gint) x;
    vf d[PATCH], out[PATCH];

#pragma GCC unroll 6
    for (guint r = 0; r < PATCH; r++)
      d[r] = n >= LANES ? load (rows + (gsize) r * g->wp + x)
          : load_first (rows + (gsize) r * g->wp + x, n);
    input_combine (d, out);
#pragma GCC unroll 6
    for (guint i = 0; i < PATCH; i++)
      store (s + (gsize) i * g->row_floats + x, out[i]);
  }
}

/* 8 tiles' patch rows from 34 floats at p: d[k] = p[4·t + k], t = 0..7,
 * k = 0..5.  Only whole vectors at p + 8·i are loaded: the vertical
 * pass has just stored them, and a load straddling two stores in flight
 * waits for both to retire. */
static ALWAYS_INLINE void
deinterleave_patches (const gfloat * p, vf d[PATCH])
{
  vf v0 = load (p), v1 = load (p + 8), v2 = load (p + 16), v3 = load (p + 24);
  vf next = load (p + 32);
  vf x01 = __builtin_shufflevector (v0, v1, 0, 4, 8, 12, 1, 5, 9, 13);
  vf x23 = __builtin_shufflevector (v2, v3, 0, 4, 8, 12, 1, 5, 9, 13);
  vf y01 = __builtin_shufflevector (v0, v1, 2, 6, 10, 14, 3, 7, 11, 15);
  vf y23 = __builtin_shufflevector (v2, v3, 2, 6, 10, 14, 3, 7, 11, 15);

  d[0] = __builtin_shufflevector (x01, x23, 0, 1, 2, 3, 8, 9, 10, 11);
  d[1] = __builtin_shufflevector (x01, x23, 4, 5, 6, 7, 12, 13, 14, 15);
  d[2] = __builtin_shufflevector (y01, y23, 0, 1, 2, 3, 8, 9, 10, 11);
  d[3] = __builtin_shufflevector (y01, y23, 4, 5, 6, 7, 12, 13, 14, 15);
  /* p[4·t + 4] is the next tile's p[4·t']: d[0] and d[1] a lane on */
  d[4] = __builtin_shufflevector (d[0], next, 1, 2, 3, 4, 5, 6, 7, 8);
  d[5] = __builtin_shufflevector (d[1], next, 1, 2, 3, 4, 5, 6, 7, 9);
}

/* Then across: s (6 rows) → V's 36 positions of the tile row's tiles,
 * 8 tiles a vector, stored at tile @t0 of channel row @v. */
static void
horizontal_pass (const Geometry * g, const gfloat * s, gsize t0,
    gsize pos_stride, gfloat * v)
{
  for (guint tx = 0; tx < g->tw; tx += LANES)
#pragma GCC unroll 6
    for (guint i = 0; i < PATCH; i++) {
      const gfloat *row = s + (gsize) i * g->row_floats + TILE * tx;
      vf d[PATCH], out[PATCH];

      deinterleave_patches (row, d);
      input_combine (d, out);
#pragma GCC unroll 6
      for (guint j = 0; j < PATCH; j++)
        store (v + (i * PATCH + j) * pos_stride + t0 + tx, out[j]);
    }
}

/* image (C × hp × wp) → V (36 × v_position): Bᵀ d B for every tile */
static void
transform_input (const Geometry * g, guint channels, const gfloat * img,
    gfloat * s, gfloat * v)
{
  gsize pos_stride = g->v_position;

  /* Slots past the tiles hold whatever a last vector put there, or
   * zero: never a value that was not written. */
  for (guint p = 0; p < POSITIONS; p++)
    for (guint c = 0; c < channels; c++)
      store (v + p * pos_stride + c * g->v_row + g->tiles_padded - LANES,
          splat (0.0f));
  for (guint c = 0; c < channels; c++)
    for (guint ty = 0; ty < g->th; ty++) {
      vertical_pass (g, img + ((gsize) c * g->hp + TILE * ty) * g->wp, s);
      horizontal_pass (g, s, (gsize) ty * g->tw, pos_stride,
          v + c * g->v_row);
    }
}

/* U (C × 4) · V (C × 8·nv, rows @stride apart) → M (4 × 24) */
static ALWAYS_INLINE void
gemm_block (const gfloat * u, const gfloat * v, gsize stride,
    guint channels, gfloat * m, const guint nv)
{
  vf acc[FILTER_BLOCK][TILE_VECTORS];

#pragma GCC unroll 16
  for (guint r = 0; r < FILTER_BLOCK; r++)
#pragma GCC unroll 16
    for (guint k = 0; k < nv; k++)
      acc[r][k] = splat (0.0f);
  for (guint c = 0; c < channels; c++) {
    const gfloat *vr = v + c * stride;
    vf x[TILE_VECTORS];

#pragma GCC unroll 16
    for (guint k = 0; k < nv; k++)
      x[k] = load (vr + k * LANES);
#pragma GCC unroll 16
    for (guint r = 0; r < FILTER_BLOCK; r++) {
      vf w = splat (u[c * FILTER_BLOCK + r]);

#pragma GCC unroll 16
      for (guint k = 0; k < nv; k++)
        acc[r][k] += w * x[k];
    }
  }
#pragma GCC unroll 16
  for (guint r = 0; r < FILTER_BLOCK; r++)
#pragma GCC unroll 16
    for (guint k = 0; k < nv; k++)
      store (m + r * TILE_BLOCK + k * LANES, acc[r][k]);
}

/* gemm_block with the vector count a constant, so that the
 * accumulators stay in registers */
static void
gemm_block_n (const gfloat * u, const gfloat * v, gsize stride,
    guint channels, gfloat * m, guint nv)
{
  switch (nv) {
    case 3:
      gemm_block (u, v, stride, channels, m, 3);
      break;
    case 2:
      gemm_block (u, v, stride, channels, m, 2);
      break;
    default:
      gemm_block (u, v, stride, channels, m, 1);
      break;
  }
}

/* m (6) → Aᵀ m, Aᵀ = (1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0;
 *                     0 1 -1 8 -8 1) */
static ALWAYS_INLINE void
output_combine (const vf m[PATCH], vf y[TILE])
{
  vf a = m[1] + m[2], b = m[1] - m[2], c = m[3] + m[4], d = m[3] - m[4];

  y[0] = m[0] + a + c;
  y[1] = b + 2.0f * d;
  y[2] = a + 4.0f * c;
  y[3] = b + 8.0f * d + m[5];
}

/* m (6×6 per tile, rows @stride floats apart) → Aᵀ m A (4×4) */
static ALWAYS_INLINE void
output_transform (const gfloat * m, gsize stride, vf y[TILE * TILE])
{
  vf t[TILE][PATCH];

#pragma GCC unroll 6
  for (guint j = 0; j < PATCH; j++) {
    vf col[PATCH], out[TILE];

#pragma GCC unroll 6
    for (guint i = 0; i < PATCH; i++)
      col[i] = load (m + (i * PATCH + j) * stride);
    output_combine (col, out);
#pragma GCC unroll 4
    for (guint i = 0; i < TILE; i++)
      t[i][j] = out[i];
  }
#pragma GCC unroll 4
  for (guint i = 0; i < TILE; i++)
    output_combine (t[i], y + i * TILE);
}

/* Where one tile's outputs go in a filter's plane: its first output's
 * offset, and how many rows and columns of outputs it has there (the
 * last tiles overhang an edge; none past the last tile). */
typedef struct
{
  gsize offset;
  guint rows, cols;
} Spot;

/* The spots of tiles t0 .. t0 + 8·nv - 1, worked out once per block of
 * tiles, not per filter (it takes divisions) */
static void
find_spots (const CnnWinograd * wg, const Geometry * g, guint t0, guint nv,
    Spot spots[TILE_BLOCK])
{
  guint side = wg->pool ? TILE / 2 : TILE;
  guint oh = wg->pool ? wg->oh / 2 : wg->oh, ow = wg->pool ? wg->ow / 2
      : wg->ow;

  for (guint i = 0; i < nv * LANES; i++) {
    guint t = t0 + i, ty = t / g->tw, tx = t % g->tw;
    Spot *sp = &spots[i];

    sp->offset = ((gsize) ty * ow + tx) * side;
    sp->rows = sp->cols = 0;
    if (t < g->tiles && side * ty < oh && side * tx < ow) {
      sp->rows = MIN (side, oh - side * ty);
      sp->cols = MIN (side, ow - side * tx);
    }
  }
}

/* A vector of 8 tiles' outputs, @n a tile (a side × side block each,
 * out[q] the q-th of them in row order) → the plane (rows @ow apart).
 * The tiles are not neighbours in the plane (a vector runs on into the
 * next tile row): each lane is stored on its own. */
static ALWAYS_INLINE void
scatter_tiles (const Spot * spots, const vf * out, const guint side,
    guint ow, gfloat * plane)
{
  gfloat lanes[TILE * TILE][LANES];

#pragma GCC unroll 16
  for (guint q = 0; q < side * side; q++)
    store (lanes[q], out[q]);
  for (guint l = 0; l < LANES; l++) {
    const Spot *sp = &spots[l];
    gfloat *at = plane + sp->offset;

    if (sp->rows == side && sp->cols == side) {
#pragma GCC unroll 16
      for (guint q = 0; q < side * side; q++)
        at[(q / side) * ow + q % side] = lanes[q][l];
    } else {
      for (guint a = 0; a < sp->rows; a++)
        for (guint b = 0; b < sp->cols; b++)
          at[a * ow + b] = lanes[a * side + b][l];
    }
  }
}

/* M (36 × 4 × 24) of filters f0.. and tiles t0.. → bias, ReLU, pool, y */
static void
output_block (const CnnWinograd * wg, const Spot * spots, const gfloat * m,
    guint f0, guint nv, const gfloat * bias, gfloat * y)
{
  guint ow = wg->pool ? wg->ow / 2 : wg->ow;
  gsize plane_size = wg->pool ? (gsize) (wg->oh / 2) * ow
      : (gsize) wg->oh * ow;

  for (guint r = 0; r < FILTER_BLOCK && f0 + r < wg->filters; r++) {
    vf b = splat (bias[f0 + r]);
    gfloat *plane = y + (f0 + r) * plane_size;

    for (guint k = 0; k < nv; k++) {
      vf out[TILE * TILE];

      output_transform (m + r * TILE_BLOCK + k * LANES,
          FILTER_BLOCK * TILE_BLOCK, out);
      if (wg->pool) {
        /* The max first, then the bias and the ReLU: both keep the
         * order of values, so the result is the same, in fewer steps. */
#pragma GCC unroll 4
        for (guint q = 0; q < 4; q++) {
          guint at = (q / 2) * 2 * TILE + (q % 2) * 2;

          out[q] = vmax (vmax (out[at], out[at + 1]), vmax (out[at + TILE],
                  out[at + TILE + 1])) + b;
          if (wg->relu)
            out[q] = vmax (out[q], splat (0.0f));
        }
        scatter_tiles (spots + k * LANES, out, 2, ow, plane);
      } else {
#pragma GCC unroll 16
        for (guint q = 0; q < TILE * TILE; q++) {
          out[q] += b;
          if (wg->relu)
            out[q] = vmax (out[q], splat (0.0f));
        }
        scatter_tiles (spots + k * LANES, out, TILE, ow, plane);
      }
    }
  }
}

/* Per block of 24 tiles and 4 filters, the 36 products M = U · V are
 * made and at once turned into outputs, so M never leaves L1. */
void
KERNEL (cnn_winograd_forward) (const CnnWinograd * wg, const gfloat * packed,
    const gfloat * bias, const gfloat * x, gfloat * y, gfloat * scratch)
{
  Geometry g = geometry (wg);
  guint nfb = filter_blocks (wg), c_n = wg->channels;
  gsize tp = g.tiles_padded, pos_stride = g.v_position;
  gfloat *s = scratch + (gsize) c_n * g.hp * g.wp;
  gfloat *v = s + (gsize) PATCH * g.row_floats;
  gfloat *m = v + (gsize) POSITIONS * pos_stride;
  const gfloat *img = pad_input (wg, g.hp, g.wp, g.copy, x, scratch);

  transform_input (&g, c_n, img, s, v);
  for (guint t0 = 0; t0 < tp; t0 += TILE_BLOCK) {
    guint nv = MIN (TILE_VECTORS, (guint) (tp - t0) / LANES);
    Spot spots[TILE_BLOCK];

    find_spots (wg, &g, t0, nv, spots);
    for (guint fb = 0; fb < nfb; fb++) {
      for (guint p = 0; p < POSITIONS; p++)
        gemm_block_n (packed + ((gsize) p * nfb + fb) * c_n * FILTER_BLOCK,
            v + p * pos_stride + t0, g.v_row, c_n,
            m + p * FILTER_BLOCK * TILE_BLOCK, nv);
      output_block (wg, spots, m, fb * FILTER_BLOCK, nv, bias, y);
    }
  }
}

/* ---- direct 3×3 convolution, for few input channels ------------------ */

/* One output vector (8 positions) of every filter, from channel @c's 9
 * input vectors @in: the bias (c = 0) or the sum so far, + the 9
 * products, [ReLU after the last channel]; @n positions kept. */
static ALWAYS_INLINE void
direct_filters (const CnnWinograd * wg, const gfloat * w, const gfloat * bias,
    guint c, const vf in[9], gint n, gfloat * y, gsize plane)
{
  gboolean last = c + 1 == wg->channels;

  for (guint f = 0; f < wg->filters; f++) {
    const gfloat *wf = w + ((gsize) f * wg->channels + c) * 9;
    gfloat *yf = y + f * plane;
    vf acc = c == 0 ? splat (bias[f]) : n >= LANES ? load (yf)
        : load_first (yf, n);

#pragma GCC unroll 9
    for (guint k = 0; k < 9; k++)
      acc += wf[k] * in[k];
    if (last && wg->relu)
      acc = vmax (acc, splat (0.0f));
    if (n >= LANES)
      store (yf, acc);
    else
      store_first (yf, n, acc);
  }
}

/* With one or two input channels, Winograd's transforms cost more than
 * the products they save: each output vector of each filter is 9 FMAs
 * per channel on input vectors loaded once for all filters.  @scratch
 * holds the padded input. */
void
KERNEL (cnn_conv3x3_direct) (const CnnWinograd * wg, const gfloat * w,
    const gfloat * bias, const gfloat * x, gfloat * y, gfloat * scratch)
{
  guint hp = wg->height + 2 * wg->pad, wp = wg->width + 2 * wg->pad;
  const gfloat *img = pad_input (wg, hp, wp, wg->pad != 0, x, scratch);
  gsize plane = (gsize) wg->oh * wg->ow;

  for (guint oy = 0; oy < wg->oh; oy++)
    for (guint ox = 0; ox < wg->ow; ox += LANES) {
      gint n = (gint) (wg->ow - ox);

      for (guint c = 0; c < wg->channels; c++) {
        const gfloat *p = img + ((gsize) c * hp + oy) * wp + ox;
        vf in[9];

        /* Lanes past the row's end read nothing (load_first): the
         * last of them would be past the image. */
#pragma GCC unroll 9
        for (guint k = 0; k < 9; k++)
          in[k] = n >= LANES ? load (p + (k / 3) * wp + k % 3)
              : load_first (p + (k / 3) * wp + k % 3, n);
        direct_filters (wg, w, bias, c, in, n, y + (gsize) oy * wg->ow + ox,
            plane);
      }
    }
}

/* ---- matrix-vector products (dense layers at small batches) ---------- */

#define STEP (2 * LANES)        /* weights of a row per step, 2 vectors */

/* 8 weights of a row from @w at @i (@n of them, the rest zero): floats,
 * or (@half) fp16 widened to floats */
static ALWAYS_INLINE vf
load_weights (const void *w, gsize i, gint n, const gboolean half)
{
  if (half)
    return n >= LANES ? load_half ((const guint16 *) w + i)
        : load_half_first ((const guint16 *) w + i, n);
  return n >= LANES ? load ((const gfloat *) w + i)
      : load_first ((const gfloat *) w + i, n);
}

static ALWAYS_INLINE gfloat
sum_lanes (vf a)
{
  vf b = a + __builtin_shufflevector (a, a, 4, 5, 6, 7, 0, 1, 2, 3);

  b += __builtin_shufflevector (b, b, 2, 3, 0, 1, 6, 7, 4, 5);
  b += __builtin_shufflevector (b, b, 1, 0, 3, 2, 5, 4, 7, 6);
  return b[0];
}

/* Samples a pass over the weights takes at once: with 16 vector
 * registers, 4 rows × 2 samples of sums and 2 inputs. */
#define GEMV_GROUP 2

/* Σ a (n) · x_s (n) for four rows a0..a3 and @g samples (@x_stride
 * floats apart) at once, rows @stride weights apart: each weight,
 * streamed from memory, is loaded once for the @g samples, each input
 * once for four rows; one sample takes two vectors a row at a time (8
 * sums in flight). */
static ALWAYS_INLINE void
dot4 (const void *w, gsize stride, const gfloat * x, gsize x_stride, guint n,
    const guint g, gfloat out[4][GEMV_GROUP], const gboolean half)
{
  vf acc[4][2];
  guint i = 0;

#pragma GCC unroll 8
  for (guint r = 0; r < 4; r++)
    acc[r][0] = acc[r][1] = splat (0.0f);
  if (g == 1) {
    for (; i + STEP <= n; i += STEP) {
      vf x0 = load (x + i), x1 = load (x + i + LANES);

#pragma GCC unroll 4
      for (guint r = 0; r < 4; r++) {
        acc[r][0] += load_weights (w, r * stride + i, LANES, half) * x0;
        acc[r][1] += load_weights (w, r * stride + i + LANES, LANES,
            half) * x1;
      }
    }
  } else {
    for (; i + LANES <= n; i += LANES) {
      vf x0 = load (x + i), x1 = load (x + x_stride + i);

#pragma GCC unroll 4
      for (guint r = 0; r < 4; r++) {
        vf wv = load_weights (w, r * stride + i, LANES, half);

        acc[r][0] += wv * x0;
        acc[r][1] += wv * x1;
      }
    }
  }
  for (; i < n; i += LANES) {
    gint left = (gint) (n - i);

#pragma GCC unroll 2
    for (guint k = 0; k < g; k++) {
      const gfloat *xk = x + k * x_stride + i;
      vf xv = left >= LANES ? load (xk) : load_first (xk, left);

#pragma GCC unroll 4
      for (guint r = 0; r < 4; r++)
        acc[r][k] += load_weights (w, r * stride + i, left, half) * xv;
    }
  }
#pragma GCC unroll 4
  for (guint r = 0; r < 4; r++) {
    if (g == 1) {
      out[r][0] = sum_lanes (acc[r][0] + acc[r][1]);
    } else {
      out[r][0] = sum_lanes (acc[r][0]);
      out[r][1] = sum_lanes (acc[r][1]);
    }
  }
}

#include "cnn-gemv-rows.h"

void
KERNEL (cnn_gemv) (const gfloat * w, const gfloat * x, const gfloat * b,
    guint n_out, guint n_in, guint batch, gfloat * y)
{
  gemv (w, x, b, n_out, n_in, batch, y, FALSE);
}

gboolean
KERNEL (cnn_f16_pack) (const gfloat * w, guint16 * half, gsize n)
{
  gsize i = 0;

  /* The check first: an infinity or a value that would round to one
   * must leave the layer on its float weights. */
  for (gsize j = 0; j < n; j++)
    if (!(fabsf (w[j]) <= 65504.0f))
      return FALSE;
  for (; i + LANES <= n; i += LANES)
    store_half (half + i, load (w + i));
  if (i < n) {
    guint16 part[LANES];

    store_half (part, load_first (w + i, (gint) (n - i)));
    memcpy (half + i, part, (n - i) * sizeof (guint16));
  }
  return TRUE;
}

void
KERNEL (cnn_gemv_f16) (const guint16 * w, const gfloat * x,
    const gfloat * b, guint n_out, guint n_in, guint batch, gfloat * y)
{
  gemv (w, x, b, n_out, n_in, batch, y, TRUE);
}
