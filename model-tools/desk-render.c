/* The pixels of a desk scene (desk-scene.h), in the physical order:
 *
 *   reflectance  paper 1, rulings and ink multiplied in, then what lies
 *                on the paper (a finger, the table beyond its edge);
 *   light        × the paper's illumination (level, gradient,
 *                vignette, a soft shadow edge);
 *   optics       defocus or motion blur;
 *   sensor       + Gaussian noise, quantised to 8 bits (the camera's
 *                output), then MJPEG: a JPEG round trip through libjpeg
 *                in memory.
 *
 * The pen.  MNIST's strokes are about 2.5 of its 20 px high, so merely
 * scaling a digit up gives a stroke width proportional to its size: a
 * 260 px digit would always be written with a 30 px marker.  Instead
 * the digit is upsampled 4× (bilinear), thresholded at half ink and
 * thinned to its skeleton (Zhang & Suen 1984, which keeps it connected
 * and one pixel wide), the skeleton's staircase is smoothed, and each
 * skeleton edge is drawn in the frame as a round-capped, anti-aliased
 * segment of the pen's width.  The stroke is then as wide as the pen,
 * whatever the digit's size, and the shape is the MNIST writer's.
 *
 * Speed: every working buffer lives in DeskWork, allocated once; each
 * full-frame step is one pass of simple float arithmetic that the
 * compiler vectorises, and the costly work (the skeleton, the pen) is
 * confined to the digit's box.
 */
#include "desk-private.h"
#include "rng.h"

#include <cnn.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#define GRID_SCALE 4            /* skeleton grid px per MNIST px */
/* The ink box (at most 28 px) with a pixel of margin on each side. */
#define GRID_SIDE ((DESK_MNIST_SIDE + 2) * GRID_SCALE)
#define GRID_CELLS (GRID_SIDE * GRID_SIDE)
#define SMOOTHING_ROUNDS 2
#define MAX_GAUSS_RADIUS 7      /* 2.8 σ at σ = 2.5 */
#define MAX_MOTION_TAPS 64
#define NOISE_TABLE 65536       /* row starts in the noise table */

/* The skeleton of the current digit: a grid of cells, then nodes. */
typedef struct
{
  guint8 *grid;                 /* GRID_CELLS: 1 = ink, after thinning */
  guint32 *doomed;              /* cells a thinning pass removes */
  gint32 *node_of;              /* cell → node, -1: none */
  guint32 *cell;                /* node → cell */
  gfloat *u, *v, *su, *sv;      /* node glyph position; smoothing's */
  gfloat *x, *y;                /* node frame position */
  guint grid_w, grid_h, n_nodes;
  gdouble u0, v0;               /* glyph position of cell (0, 0)'s corner */
} Skeleton;

typedef struct
{
  gint dx, dy;
  gfloat w;
} Tap;

typedef struct
{
  struct jpeg_error_mgr mgr;
  jmp_buf jump;
  gchar message[JMSG_LENGTH_MAX];
} JpegErrors;

typedef struct
{
  struct jpeg_compress_struct c;
  struct jpeg_decompress_struct d;
  struct jpeg_destination_mgr dest;
  JpegErrors errors;
  guint8 *buffer;
  gsize capacity, size;
} Jpeg;

struct _DeskWork
{
  guint width, height;
  gfloat *reflect;              /* W×H: reflectance, then radiance */
  gfloat *scratch;              /* W×H: pen coverage, blur's output */
  gfloat *row;                  /* W + 2·MAX_GAUSS_RADIUS: a padded row */
  gfloat *noise;                /* NOISE_TABLE + W standard normals */
  Skeleton skel;
  Tap taps[MAX_MOTION_TAPS];
  Jpeg jpeg;
};

static gfloat
clamp01 (gfloat v)
{
  return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
}

static gfloat
smoothstep (gfloat t)
{
  t = clamp01 (t);
  return t * t * (3.0f - 2.0f * t);
}

/* ---- paper --------------------------------------------------------- */

/* Distance from @t to the nearest multiple of @spacing, for @t > −4096
 * spacings (truncation toward zero, which vectorises, where floor()
 * would not). */
static gfloat
line_distance (gfloat t, gfloat spacing)
{
  gfloat f = t / spacing + 4096.0f;

  f -= (gfloat) (gint) f;
  return MIN (f, 1.0f - f) * spacing;
}

/* The rulings in paper coordinates, and the perspective to get there. */
typedef struct
{
  gfloat c, sn;                 /* cos, sin of the paper's angle */
  gfloat cx, cy, tilt_x, tilt_y;
  gfloat spacing, phase_u, phase_v, half, ink;
  gfloat margin_u, margin_half, margin_ink;
} Rulings;

/* One row of the sheet's reflectance: 1 with its rulings.  Each pixel
 * is taken back to paper coordinates (a, b) through the scene's
 * perspective (q = R(θ)·p / (1 + t·R(θ)·p) inverted: p = R(−θ)·q /
 * (1 − t·q)); a line's distance there times the local scale is its
 * distance on screen.  Inlined with constant @grid and @margin, so
 * that each kind of paper gets a loop of its own with nothing to
 * test per pixel. */
static G_ALWAYS_INLINE inline void
rule_row (const Rulings * r, guint y, guint w, gboolean grid,
    gboolean margin, gfloat * dst)
{
  const gfloat qy = y + 0.5f - r->cy;

  for (guint x = 0; x < w; x++) {
    const gfloat qx = x + 0.5f - r->cx;
    const gfloat den = 1.0f - r->tilt_x * qx - r->tilt_y * qy;
    const gfloat a = (r->c * qx + r->sn * qy) / den;
    const gfloat b = (-r->sn * qx + r->c * qy) / den;
    gfloat line = clamp01 (r->half - den * line_distance (b - r->phase_v,
            r->spacing));
    gfloat v;

    if (grid)
      line = MAX (line, clamp01 (r->half - den * line_distance (a
                  - r->phase_u, r->spacing)));
    v = 1.0f - r->ink * line;
    if (margin)
      v *= 1.0f - r->margin_ink * clamp01 (r->margin_half - den
          * fabsf (a - r->margin_u));
    dst[x] = v;
  }
}

static void
draw_paper (const DeskScene * s, gfloat * reflect)
{
  const DeskPose *p = &s->pose;
  const Rulings r = {
    cos (p->paper_angle), sin (p->paper_angle),
    p->cx, p->cy, p->tilt_x, p->tilt_y,
    s->line_spacing, s->line_phase_u, s->line_phase_v,
    0.5f * s->line_width + 0.5f, 1.0f - s->line_reflect,
    s->margin_u, 0.5f * s->margin_width + 0.5f, 1.0f - s->margin_reflect,
  };
  const guint w = s->width;

  for (guint y = 0; y < s->height; y++) {
    gfloat *dst = reflect + (gsize) y * w;

    switch (s->paper) {
      case DESK_PAPER_RULED:
        rule_row (&r, y, w, FALSE, FALSE, dst);
        break;
      case DESK_PAPER_MARGIN:
        rule_row (&r, y, w, FALSE, TRUE, dst);
        break;
      case DESK_PAPER_SQUARED:
        rule_row (&r, y, w, TRUE, FALSE, dst);
        break;
      default:
        for (guint x = 0; x < w; x++)
          dst[x] = 1.0f;
        break;
    }
  }
}

/* ---- the pen: skeleton --------------------------------------------- */

/* The 28×28 digit's coverage (0..1) at glyph point (u, v), pixel
 * centres at i + 0.5, bilinear, 0 outside. */
static gfloat
sample_digit (const guint8 * digit, gdouble u, gdouble v)
{
  const gdouble fu = u - 0.5, fv = v - 0.5;
  const gint iu = (gint) floor (fu), iv = (gint) floor (fv);
  const gdouble a = fu - iu, b = fv - iv;
  gdouble sum = 0.0;

  for (gint j = 0; j < 2; j++)
    for (gint i = 0; i < 2; i++) {
      const gint x = iu + i, y = iv + j;

      if (x >= 0 && y >= 0 && x < DESK_MNIST_SIDE && y < DESK_MNIST_SIDE)
        sum += (i ? a : 1.0 - a) * (j ? b : 1.0 - b)
            * digit[y * DESK_MNIST_SIDE + x];
    }
  return sum / 255.0;
}

gboolean
desk_digit_ink_box (const guint8 * digit, guint box[4])
{
  guint x0 = DESK_MNIST_SIDE, y0 = DESK_MNIST_SIDE, x1 = 0, y1 = 0;

  for (guint y = 0; y < DESK_MNIST_SIDE; y++)
    for (guint x = 0; x < DESK_MNIST_SIDE; x++)
      if (digit[y * DESK_MNIST_SIDE + x] > 0) {
        x0 = MIN (x0, x);
        y0 = MIN (y0, y);
        x1 = MAX (x1, x);
        y1 = MAX (y1, y);
      }
  box[0] = x0;
  box[1] = y0;
  box[2] = x1;
  box[3] = y1;
  return x0 <= x1;
}

/* The digit upsampled into the grid, thresholded at half ink; the
 * grid's outer ring stays empty so that neighbours need no checks.
 * FALSE when the digit has no ink. */
static gboolean
fill_grid (Skeleton * k, const guint8 * digit)
{
  guint box[4];

  if (!desk_digit_ink_box (digit, box))
    return FALSE;
  k->u0 = box[0] - 1.0;
  k->v0 = box[1] - 1.0;
  k->grid_w = (box[2] - box[0] + 3) * GRID_SCALE;
  k->grid_h = (box[3] - box[1] + 3) * GRID_SCALE;
  for (guint gy = 0; gy < k->grid_h; gy++)
    for (guint gx = 0; gx < k->grid_w; gx++) {
      const gboolean ring = gx == 0 || gy == 0 || gx == k->grid_w - 1
          || gy == k->grid_h - 1;
      const gdouble u = k->u0 + (gx + 0.5) / GRID_SCALE;
      const gdouble v = k->v0 + (gy + 0.5) / GRID_SCALE;

      k->grid[gy * k->grid_w + gx] = !ring && sample_digit (digit, u, v)
          >= 0.5f;
    }
  return TRUE;
}

/* One sub-iteration of Zhang–Suen: removes the contour cells whose
 * removal keeps the shape connected (one 0→1 transition around them),
 * that are no end points (2..6 neighbours), and that lie on the south-
 * east side (@first) or the north-west side.  Returns how many went. */
static guint
thin_pass (Skeleton * k, gboolean first)
{
  const guint w = k->grid_w;
  guint n = 0;

  for (guint y = 1; y + 1 < k->grid_h; y++) {
    for (guint x = 1; x + 1 < w; x++) {
      const guint8 *g = k->grid + y * w + x;
      /* P2..P9, clockwise from north. */
      const guint8 p[8] = { g[-(gint) w], g[1 - (gint) w], g[1], g[w + 1],
        g[w], g[w - 1], g[-1], g[-1 - (gint) w]
      };
      guint b = 0, a = 0;

      if (!*g)
        continue;
      for (guint i = 0; i < 8; i++) {
        b += p[i];
        a += !p[i] && p[(i + 1) % 8];
      }
      if (b < 2 || b > 6 || a != 1)
        continue;
      if (first ? (p[0] && p[2] && p[4]) || (p[2] && p[4] && p[6])
          : (p[0] && p[2] && p[6]) || (p[0] && p[4] && p[6]))
        continue;
      k->doomed[n++] = y * w + x;
    }
  }
  for (guint i = 0; i < n; i++)
    k->grid[k->doomed[i]] = 0;
  return n;
}

/* Offsets of the 8 neighbours of a cell. */
static void
neighbour_offsets (const Skeleton * k, gint off[8])
{
  const gint w = k->grid_w;
  const gint o[8] = { -w - 1, -w, -w + 1, -1, 1, w - 1, w, w + 1 };

  memcpy (off, o, sizeof o);
}

/* Ways out of @cell: groups of set neighbours, once the @n cells of
 * @path are taken away, counted as 0→1 steps around it (clockwise from
 * north-west); the first such neighbour goes to *next. */
static guint
branches (const Skeleton * k, guint cell, const guint32 * path, guint n,
    guint * next)
{
  const gint w = k->grid_w;
  const gint ring[8] = { -w - 1, -w, -w + 1, 1, w + 1, w, w - 1, -1 };
  gboolean on[8];
  guint count = 0;

  for (guint i = 0; i < 8; i++) {
    const guint c = cell + ring[i];

    on[i] = k->grid[c];
    for (guint j = 0; j < n && on[i]; j++)
      on[i] = path[j] != c;
  }
  for (guint i = 0; i < 8; i++)
    if (on[i] && !on[(i + 7) % 8]) {
      if (count++ == 0)
        *next = cell + ring[i];
    }
  if (count == 0)
    for (guint i = 0; i < 8; i++)
      if (on[i]) {
        *next = cell + ring[i];
        count = 1;
      }
  return count;
}

/* Thinning a shape with a bump in its outline leaves a short branch:
 * a tick that the writer never drew.  Each end point's branch that
 * meets a junction within SPUR_CELLS cells goes; a short stroke on its
 * own (no junction) stays. */
#define SPUR_CELLS 6

static void
prune_spurs (Skeleton * k)
{
  guint32 path[SPUR_CELLS];

  for (guint c = 0; c < k->grid_w * k->grid_h; c++) {
    guint n = 0, cur = c, next = 0, after;

    if (!k->grid[c] || branches (k, c, NULL, 0, &next) != 1)
      continue;
    /* Walk in from the end; a cell with two ways on is the junction. */
    while (n < SPUR_CELLS) {
      path[n++] = cur;
      if (branches (k, cur, path, n, &next) == 0)
        break;                  /* a short stroke on its own */
      if (branches (k, next, path, n, &after) >= 2) {
        for (guint i = 0; i < n; i++)
          k->grid[path[i]] = 0;
        break;
      }
      cur = next;
    }
  }
}

/* Numbers the skeleton's cells, then smooths the node positions: each
 * node with two or more neighbours moves halfway to their mean, which
 * turns the grid's staircases into slopes; end points stay, so that
 * strokes keep their length. */
static void
make_nodes (Skeleton * k)
{
  gint off[8];

  neighbour_offsets (k, off);
  k->n_nodes = 0;
  for (guint i = 0; i < k->grid_w * k->grid_h; i++) {
    k->node_of[i] = -1;
    if (k->grid[i]) {
      k->cell[k->n_nodes] = i;
      k->u[k->n_nodes] = k->u0 + (i % k->grid_w + 0.5) / GRID_SCALE;
      k->v[k->n_nodes] = k->v0 + (i / k->grid_w + 0.5) / GRID_SCALE;
      k->node_of[i] = k->n_nodes++;
    }
  }
  for (guint round = 0; round < SMOOTHING_ROUNDS; round++) {
    for (guint n = 0; n < k->n_nodes; n++) {
      gfloat su = 0.0f, sv = 0.0f;
      guint count = 0;

      for (guint j = 0; j < 8; j++) {
        const gint m = k->node_of[k->cell[n] + off[j]];

        if (m >= 0) {
          su += k->u[m];
          sv += k->v[m];
          count++;
        }
      }
      k->su[n] = count < 2 ? k->u[n] : 0.5f * (k->u[n] + su / count);
      k->sv[n] = count < 2 ? k->v[n] : 0.5f * (k->v[n] + sv / count);
    }
    memcpy (k->u, k->su, sizeof (gfloat) * k->n_nodes);
    memcpy (k->v, k->sv, sizeof (gfloat) * k->n_nodes);
  }
}

/* ---- the pen: drawing ---------------------------------------------- */

/* A frame rectangle, inclusive, clipped to the frame. */
typedef struct
{
  gint x0, y0, x1, y1;
} Rect;

static Rect
clip_rect (gdouble x0, gdouble y0, gdouble x1, gdouble y1, guint w, guint h)
{
  return (Rect) {
  MAX ((gint) floor (x0), 0), MAX ((gint) floor (y0), 0),
        MIN ((gint) ceil (x1), (gint) w - 1), MIN ((gint) ceil (y1),
            (gint) h - 1)};
}

/* Distance² from (px, py) to the segment (ax, ay)–(bx, by). */
static gfloat
segment_distance2 (gfloat px, gfloat py, gfloat ax, gfloat ay, gfloat bx,
    gfloat by)
{
  const gfloat ex = bx - ax, ey = by - ay, len2 = ex * ex + ey * ey;
  const gfloat t = len2 > 0.0f ?
      clamp01 (((px - ax) * ex + (py - ay) * ey) / len2) : 0.0f;
  const gfloat dx = px - ax - t * ex, dy = py - ay - t * ey;

  return dx * dx + dy * dy;
}

/* A round-capped segment of radius @r into @cov (W wide), kept as the
 * maximum so that joints do not darken. */
static void
draw_capsule (gfloat * cov, guint w, guint h, gfloat ax, gfloat ay,
    gfloat bx, gfloat by, gfloat r)
{
  const Rect box = clip_rect (MIN (ax, bx) - r - 1.0, MIN (ay, by) - r - 1.0,
      MAX (ax, bx) + r + 1.0, MAX (ay, by) + r + 1.0, w, h);
  const gfloat reach2 = (r + 0.5f) * (r + 0.5f);

  for (gint y = box.y0; y <= box.y1; y++) {
    gfloat *row = cov + (gsize) y * w;

    for (gint x = box.x0; x <= box.x1; x++) {
      const gfloat d2 = segment_distance2 (x + 0.5f, y + 0.5f, ax, ay, bx, by);

      row[x] = MAX (row[x], clamp01 (r + 0.5f - sqrtf (MIN (d2, reach2))));
    }
  }
}

/* The skeleton's nodes in the frame at @pose, and the box their strokes
 * cover. */
static Rect
place_nodes (Skeleton * k, const DeskScene * s, const DeskPose * pose,
    gfloat r)
{
  gdouble x0 = G_MAXDOUBLE, y0 = G_MAXDOUBLE, x1 = -G_MAXDOUBLE,
      y1 = -G_MAXDOUBLE;

  for (guint n = 0; n < k->n_nodes; n++) {
    gdouble x, y;

    desk_pose_map (pose, k->u[n], k->v[n], &x, &y);
    k->x[n] = x;
    k->y[n] = y;
    x0 = MIN (x0, x);
    y0 = MIN (y0, y);
    x1 = MAX (x1, x);
    y1 = MAX (y1, y);
  }
  return clip_rect (x0 - r - 1.0, y0 - r - 1.0, x1 + r + 1.0, y1 + r + 1.0,
      s->width, s->height);
}

/* Each node joined to its east, south-west, south and south-east
 * neighbours (every edge once); a lone node is a dot. */
static void
draw_strokes (const Skeleton * k, gfloat * cov, guint w, guint h, gfloat r)
{
  gint off[8];

  neighbour_offsets (k, off);
  for (guint n = 0; n < k->n_nodes; n++) {
    gboolean joined = FALSE;

    for (guint j = 0; j < 8; j++) {
      const gint m = k->node_of[k->cell[n] + off[j]];

      joined |= m >= 0;
      if (m >= 0 && j >= 4)
        draw_capsule (cov, w, h, k->x[n], k->y[n], k->x[m], k->y[m], r);
    }
    if (!joined)
      draw_capsule (cov, w, h, k->x[n], k->y[n], k->x[n], k->y[n], r);
  }
}

static void
draw_digit (const DeskScene * s, const DeskGlyph * glyph, DeskWork * work)
{
  Skeleton *k = &work->skel;
  const gfloat r = 0.5f * s->pen_width;
  const gfloat ink = 1.0f - s->ink_reflect;
  Rect box;

  if (!fill_grid (k, glyph->digit28))
    return;
  while (thin_pass (k, TRUE) + thin_pass (k, FALSE) > 0);
  prune_spurs (k);
  make_nodes (k);
  box = place_nodes (k, s, &glyph->pose, r);
  for (gint y = box.y0; y <= box.y1; y++)
    memset (work->scratch + (gsize) y * s->width + box.x0, 0,
        sizeof (gfloat) * (box.x1 - box.x0 + 1));
  draw_strokes (k, work->scratch, s->width, s->height, r);
  for (gint y = box.y0; y <= box.y1; y++) {
    const gfloat *cov = work->scratch + (gsize) y * s->width;
    gfloat *dst = work->reflect + (gsize) y * s->width;

    for (gint x = box.x0; x <= box.x1; x++)
      dst[x] *= 1.0f - ink * cov[x];
  }
}

/* ---- what lies on the paper ---------------------------------------- */

/* The table beyond the paper's edge, one pixel of soft edge. */
static void
draw_table (const DeskScene * s, gfloat * reflect)
{
  const DeskEdge *e = &s->table;
  const gfloat table = s->table_reflect;

  for (guint y = 0; y < s->height; y++) {
    const gfloat ey = e->ny * (y + 0.5f) - e->offset;
    gfloat *dst = reflect + (gsize) y * s->width;

    for (guint x = 0; x < s->width; x++) {
      const gfloat cover = clamp01 (e->nx * (x + 0.5f) + ey + 0.5f);

      dst[x] += cover * (table - dst[x]);
    }
  }
}

/* A finger: a capsule shaded as a cylinder lit from the camera (skin
 * × 0.55..1 from its rim to its ridge), over its own soft shadow,
 * which falls down and to the right of it. */
static void
draw_finger (const DeskScene * s, gfloat * reflect)
{
  const gfloat r = s->finger_radius;
  const gfloat ax = s->finger[0], ay = s->finger[1];
  const gfloat bx = s->finger[2], by = s->finger[3];
  const gfloat sx = 0.25f * r, sy = 0.35f * r;
  const Rect box = clip_rect (MIN (ax, bx) - 2.0 * r, MIN (ay, by) - 2.0 * r,
      MAX (ax, bx) + 2.0 * r, MAX (ay, by) + 2.0 * r, s->width, s->height);

  for (gint y = box.y0; y <= box.y1; y++) {
    gfloat *dst = reflect + (gsize) y * s->width;

    for (gint x = box.x0; x <= box.x1; x++) {
      const gfloat px = x + 0.5f, py = y + 0.5f;
      const gfloat d = sqrtf (segment_distance2 (px, py, ax, ay, bx, by));
      const gfloat ds = sqrtf (segment_distance2 (px - sx, py - sy, ax, ay,
              bx, by));
      const gfloat cover = clamp01 (r + 0.5f - d);
      const gfloat ridge = sqrtf (MAX (1.0f - (d * d) / (r * r), 0.0f));
      const gfloat shadow = 1.0f - 0.35f * (1.0f - smoothstep ((ds - 0.7f
                  * r) / (0.9f * r)));

      dst[x] = dst[x] * shadow * (1.0f - cover)
          + cover * s->skin * (0.55f + 0.45f * ridge);
    }
  }
}

/* ---- light --------------------------------------------------------- */

/* One row of reflect × illumination → radiance, in place; inlined
 * with a constant @shaded (rule_row). */
static G_ALWAYS_INLINE inline void
light_row (const DeskScene * s, guint y, gboolean shaded, gfloat * dst)
{
  const gfloat hw = 0.5f * s->width, hh = 0.5f * s->height;
  const gfloat inv_r2 = 1.0f / (hw * hw + hh * hh);
  const DeskEdge *e = &s->shadow;
  const gfloat inv_soft = 1.0f / MAX (s->shadow_soft, 1.0);
  const gfloat depth = s->shadow_depth;
  const gfloat dy = y + 0.5f - hh;
  const gfloat base = 1.0f + s->grad_y * dy;
  const gfloat ey = e->ny * (y + 0.5f) - e->offset;

  for (guint x = 0; x < s->width; x++) {
    const gfloat dx = x + 0.5f - hw;
    gfloat light = s->paper_level * (base + s->grad_x * dx)
        * (1.0f - s->vignette * (dx * dx + dy * dy) * inv_r2);

    if (shaded)
      light *= 1.0f - depth * smoothstep ((e->nx * (x + 0.5f) + ey)
          * inv_soft + 0.5f);
    dst[x] *= light;
  }
}

static void
apply_light (const DeskScene * s, gfloat * reflect)
{
  for (guint y = 0; y < s->height; y++) {
    gfloat *dst = reflect + (gsize) y * s->width;

    if (s->clutter == DESK_CLUTTER_SHADOW)
      light_row (s, y, TRUE, dst);
    else
      light_row (s, y, FALSE, dst);
  }
}

/* ---- optics -------------------------------------------------------- */

/* Defocus as a Gaussian: a real lens's blur is closer to a disc, but a
 * separable Gaussian costs 2·(2R+1) taps a pixel where a disc costs
 * (2R+1)², and after the sensor's own spread the two look alike. */
static guint
gauss_kernel (gdouble sigma, gfloat * kernel)
{
  const guint radius = MIN ((guint) ceil (2.8 * sigma), MAX_GAUSS_RADIUS);
  gdouble sum = 0.0;

  for (gint i = -(gint) radius; i <= (gint) radius; i++)
    sum += kernel[i + radius] = exp (-0.5 * i * i / (sigma * sigma));
  for (guint i = 0; i < 2 * radius + 1; i++)
    kernel[i] /= sum;
  return radius;
}

static void
defocus (const DeskScene * s, DeskWork * work)
{
  const guint w = s->width, h = s->height;
  gfloat kernel[2 * MAX_GAUSS_RADIUS + 1];
  const guint rad = gauss_kernel (s->blur_sigma, kernel);
  gfloat *pad = work->row;

  /* Along rows, edges clamped: reflect → scratch. */
  for (guint y = 0; y < h; y++) {
    const gfloat *src = work->reflect + (gsize) y * w;
    gfloat *dst = work->scratch + (gsize) y * w;

    for (guint i = 0; i < rad; i++) {
      pad[i] = src[0];
      pad[w + rad + i] = src[w - 1];
    }
    memcpy (pad + rad, src, sizeof (gfloat) * w);
    /* Tap by tap, so that the loop over the row vectorises. */
    memset (dst, 0, sizeof (gfloat) * w);
    for (guint i = 0; i < 2 * rad + 1; i++) {
      const gfloat kw = kernel[i];
      const gfloat *in = pad + i;

      for (guint x = 0; x < w; x++)
        dst[x] += kw * in[x];
    }
  }
  /* Along columns, a row at a time so that loops run along memory:
   * scratch → reflect. */
  for (guint y = 0; y < h; y++) {
    gfloat *dst = work->reflect + (gsize) y * w;

    memset (dst, 0, sizeof (gfloat) * w);
    for (gint i = -(gint) rad; i <= (gint) rad; i++) {
      const gint sy = CLAMP ((gint) y + i, 0, (gint) h - 1);
      const gfloat *src = work->scratch + (gsize) sy * w;
      const gfloat kw = kernel[i + rad];

      for (guint x = 0; x < w; x++)
        dst[x] += kw * src[x];
    }
  }
}

/* A streak of @length px at @angle as taps at whole offsets: one step
 * along the major axis per sample, the minor axis's fraction shared
 * between two neighbours, so that every tap shifts a whole row. */
static guint
motion_taps (gdouble length, gdouble angle, Tap * taps)
{
  const gdouble c = cos (angle), sn = sin (angle);
  const gboolean along_x = fabs (c) >= fabs (sn);
  const gdouble slope = along_x ? sn / c : c / sn;
  const gint half = MAX ((gint) lround (0.5 * length * (along_x ? fabs (c) :
              fabs (sn))), 1);
  const gfloat w = 1.0f / (2 * half + 1);
  guint n = 0;

  for (gint i = -half; i <= half && n + 2 <= MAX_MOTION_TAPS; i++) {
    const gdouble minor = i * slope;
    const gint m = (gint) floor (minor);
    const gfloat f = minor - m;

    taps[n++] = along_x ? (Tap) {
    i, m, w * (1.0f - f)} : (Tap) {
    m, i, w * (1.0f - f)};
    taps[n++] = along_x ? (Tap) {
    i, m + 1, w * f} : (Tap) {
    m + 1, i, w * f};
  }
  return n;
}

/* reflect ∗ taps → scratch, edges clamped; returns the result. */
static gfloat *
motion_blur (const DeskScene * s, DeskWork * work)
{
  const guint w = s->width, h = s->height;
  const guint n = motion_taps (s->motion_length, s->motion_angle, work->taps);

  for (guint y = 0; y < h; y++) {
    gfloat *dst = work->scratch + (gsize) y * w;

    memset (dst, 0, sizeof (gfloat) * w);
    for (guint t = 0; t < n; t++) {
      const Tap *tap = &work->taps[t];
      const gint sy = CLAMP ((gint) y + tap->dy, 0, (gint) h - 1);
      const gfloat *src = work->reflect + (gsize) sy * w;
      /* Columns lo..hi-1 read inside the row, the others its ends. */
      const guint lo = CLAMP (-tap->dx, 0, (gint) w);
      const guint hi = MAX (lo, (guint) CLAMP ((gint) w - tap->dx, 0,
              (gint) w));
      const gfloat *in = src + lo + tap->dx;
      gfloat *out = dst + lo;

      for (guint x = 0; x < lo; x++)
        dst[x] += tap->w * src[0];
      for (guint i = 0; i < hi - lo; i++)
        out[i] += tap->w * in[i];
      for (guint x = hi; x < w; x++)
        dst[x] += tap->w * src[w - 1];
    }
  }
  return work->scratch;
}

/* ---- sensor -------------------------------------------------------- */

/* Radiance + noise, quantised.  A frame wants W·H normal values: each
 * row takes W consecutive ones from a table drawn once, starting at a
 * random place, so that the loop runs along memory and vectorises.  Two
 * rows may share a stretch of the table at different columns; nothing
 * that looks at a few neighbouring pixels can tell. */
static void
sense (const DeskScene * s, const DeskWork * work, const gfloat * radiance,
    guint8 * frame, gsize stride)
{
  const gfloat sigma = s->noise;
  ToolRng rng = { s->noise_key };

  for (guint y = 0; y < s->height; y++) {
    const gfloat *src = radiance + (gsize) y * s->width;
    const gfloat *noise = work->noise + tool_rng_below (&rng, NOISE_TABLE);
    guint8 *dst = frame + y * stride;

    for (guint x = 0; x < s->width; x++) {
      const gfloat v = src[x] + 0.5f + sigma * noise[x];

      dst[x] = v <= 0.0f ? 0 : v >= 255.0f ? 255 : (guint8) v;
    }
  }
}

/* ---- MJPEG --------------------------------------------------------- */

static void
jpeg_fail (j_common_ptr cinfo)
{
  JpegErrors *e = (JpegErrors *) cinfo->err;

  (*cinfo->err->format_message) (cinfo, e->message);
  longjmp (e->jump, 1);
}

/* The destination is DeskWork's buffer; running out of it is an error
 * rather than a reallocation. */
static void
dest_init (j_compress_ptr c)
{
  Jpeg *j = c->client_data;

  j->dest.next_output_byte = j->buffer;
  j->dest.free_in_buffer = j->capacity;
}

static boolean
dest_full (j_compress_ptr c)
{
  ERREXIT (c, JERR_BUFFER_SIZE);
  return FALSE;
}

static void
dest_term (j_compress_ptr c)
{
  Jpeg *j = c->client_data;

  j->size = j->capacity - j->dest.free_in_buffer;
}

/* Fails only when out of memory, like g_malloc. */
static void
jpeg_setup (Jpeg * j, guint w, guint h)
{
  j->capacity = 2 * (gsize) w * h + 65536;
  j->buffer = g_malloc (j->capacity);
  j->c.err = j->d.err = jpeg_std_error (&j->errors.mgr);
  j->errors.mgr.error_exit = jpeg_fail;
  if (setjmp (j->errors.jump))
    g_error ("libjpeg: %s", j->errors.message);
  jpeg_create_compress (&j->c);
  jpeg_create_decompress (&j->d);
  j->c.client_data = j;
  j->dest.init_destination = dest_init;
  j->dest.empty_output_buffer = dest_full;
  j->dest.term_destination = dest_term;
  j->c.dest = &j->dest;
}

static void
jpeg_encode (Jpeg * j, const guint8 * frame, guint w, guint h, gsize stride,
    guint quality)
{
  j->c.image_width = w;
  j->c.image_height = h;
  j->c.input_components = 1;
  j->c.in_color_space = JCS_GRAYSCALE;
  jpeg_set_defaults (&j->c);
  jpeg_set_quality (&j->c, quality, TRUE);
  j->c.dct_method = JDCT_ISLOW;
  jpeg_start_compress (&j->c, TRUE);
  while (j->c.next_scanline < h) {
    JSAMPROW row = (JSAMPROW) (frame + j->c.next_scanline * stride);

    jpeg_write_scanlines (&j->c, &row, 1);
  }
  jpeg_finish_compress (&j->c);
}

static void
jpeg_decode (Jpeg * j, guint8 * frame, gsize stride)
{
  jpeg_mem_src (&j->d, j->buffer, j->size);
  jpeg_read_header (&j->d, TRUE);
  j->d.out_color_space = JCS_GRAYSCALE;
  j->d.dct_method = JDCT_ISLOW;
  jpeg_start_decompress (&j->d);
  while (j->d.output_scanline < j->d.output_height) {
    JSAMPROW row = frame + j->d.output_scanline * stride;

    jpeg_read_scanlines (&j->d, &row, 1);
  }
  jpeg_finish_decompress (&j->d);
}

static gboolean
jpeg_round_trip (Jpeg * j, guint8 * frame, guint w, guint h, gsize stride,
    guint quality, GError ** error)
{
  if (setjmp (j->errors.jump)) {
    jpeg_abort_compress (&j->c);
    jpeg_abort_decompress (&j->d);
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "JPEG round trip at quality %u: %s", quality, j->errors.message);
    return FALSE;
  }
  jpeg_encode (j, frame, w, h, stride, quality);
  jpeg_decode (j, frame, stride);
  return TRUE;
}

/* ---- the work and the frame ---------------------------------------- */

DeskWork *
desk_work_new (guint width, guint height)
{
  DeskWork *work = g_new0 (DeskWork, 1);
  const gsize n = (gsize) width * height;
  Skeleton *k = &work->skel;
  ToolRng rng;

  work->width = width;
  work->height = height;
  work->reflect = g_new (gfloat, n);
  work->scratch = g_new (gfloat, n);
  work->row = g_new (gfloat, width + 2 * MAX_GAUSS_RADIUS);
  work->noise = g_new (gfloat, NOISE_TABLE + width);
  tool_rng_init (&rng, 0, TOOL_RNG_DESK_SCENE, 0, 0);
  for (guint i = 0; i < NOISE_TABLE + width; i++)
    work->noise[i] = tool_rng_normal (&rng);

  k->grid = g_new (guint8, GRID_CELLS);
  k->doomed = g_new (guint32, GRID_CELLS);
  k->node_of = g_new (gint32, GRID_CELLS);
  k->cell = g_new (guint32, GRID_CELLS);
  k->u = g_new (gfloat, GRID_CELLS);
  k->v = g_new (gfloat, GRID_CELLS);
  k->su = g_new (gfloat, GRID_CELLS);
  k->sv = g_new (gfloat, GRID_CELLS);
  k->x = g_new (gfloat, GRID_CELLS);
  k->y = g_new (gfloat, GRID_CELLS);
  jpeg_setup (&work->jpeg, width, height);
  return work;
}

void
desk_work_free (DeskWork * work)
{
  Skeleton *k;

  if (!work)
    return;
  k = &work->skel;
  jpeg_destroy_compress (&work->jpeg.c);
  jpeg_destroy_decompress (&work->jpeg.d);
  g_free (work->jpeg.buffer);
  g_free (k->grid);
  g_free (k->doomed);
  g_free (k->node_of);
  g_free (k->cell);
  g_free (k->u);
  g_free (k->v);
  g_free (k->su);
  g_free (k->sv);
  g_free (k->x);
  g_free (k->y);
  g_free (work->reflect);
  g_free (work->scratch);
  g_free (work->row);
  g_free (work->noise);
  g_free (work);
}

gboolean
desk_scene_render (const DeskScene * s, const guint8 * digit28,
    guint8 * frame, guint width, guint height, gsize stride,
    DeskWork * work, GError ** error)
{
  const DeskGlyph glyph = { digit28, s->pose };

  return desk_scene_render_glyphs (s, &glyph, s->blank ? 0 : 1, frame, width,
      height, stride, work, error);
}

gboolean
desk_scene_render_glyphs (const DeskScene * s, const DeskGlyph * glyphs,
    guint n_glyphs, guint8 * frame, guint width, guint height, gsize stride,
    DeskWork * work, GError ** error)
{
  gfloat *radiance = work->reflect;

  if (s->width != width || s->height != height || work->width != width
      || work->height != height || stride < width) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "desk scene: frame %ux%u (stride %" G_GSIZE_FORMAT "), scene %ux%u,"
        " work %ux%u: sizes differ", width, height, stride, s->width,
        s->height, work->width, work->height);
    return FALSE;
  }
  draw_paper (s, work->reflect);
  for (guint i = 0; i < n_glyphs; i++)
    draw_digit (s, &glyphs[i], work);
  if (s->clutter == DESK_CLUTTER_TABLE)
    draw_table (s, work->reflect);
  else if (s->clutter == DESK_CLUTTER_FINGER)
    draw_finger (s, work->reflect);
  apply_light (s, work->reflect);
  if (s->blur == DESK_BLUR_DEFOCUS)
    defocus (s, work);
  else if (s->blur == DESK_BLUR_MOTION)
    radiance = motion_blur (s, work);
  sense (s, work, radiance, frame, stride);
  if (s->jpeg != DESK_JPEG_NONE)
    return jpeg_round_trip (&work->jpeg, frame, width, height, stride,
        s->jpeg_quality, error);
  return TRUE;
}
