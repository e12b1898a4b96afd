/* make-webcam-frames: the MNIST test digits as a webcam pointed at a
 * digit written on paper would see them, to evaluate cnnclassify on
 * something like its real input rather than on MNIST itself.
 *
 * Each frame is 640×480 grey.  Its light: paper of brightness 170..240
 * at the centre, a lighting gradient in a random direction, a slight
 * vignette, sometimes a soft shadow band along one side.  On it, by
 * reflectance: the digit in dark ink (grey 20..90 where the paper is at
 * its centre brightness), 120..300 px on the longer side of its ink (the
 * height, for most digits), turned by up to ±10° and centred within ±60
 * px horizontally and ±40 px vertically of the frame's centre, inside
 * the centred 480×480 square; a dark table edge beyond one side; a few
 * specks.  Clutter keeps 30 px away from the
 * digit.  Then the optics (Gaussian blur, σ 0.7..1.3) and the sensor
 * (Gaussian noise, σ 3..8).
 *
 * With --repeat K each digit is shown for K consecutive frames, as a
 * hand holds a sheet: the scene stays, the digit moves by a few pixels,
 * turns by a degree or so, and each frame has its own noise.  Frames
 * depend only on the seed and the digit's index, so the first N frames
 * of a longer run are those of a shorter one.
 *
 * Frames go to PNG files (frame-00000.png, ...) or, with --raw, as raw
 * GRAY8 to stdout for `fdsrc ! rawvideoparse`.  The labels file has one
 * line per frame: frame, digit index, label, then the scene's numbers
 * (for looking into failures).
 */
#include "desk-scene.h"
#include "frame-sink.h"

#include <math.h>
#include <string.h>

#define FRAME_W 640
#define FRAME_H 480
#define SQUARE_X0 ((FRAME_W - FRAME_H) / 2)     /* the centred square */
#define SQUARE_X1 (SQUARE_X0 + FRAME_H)
#define MNIST_SIDE 28
#define CLUTTER_MARGIN 30.0     /* px between clutter and the digit's box */
#define EDGE_MARGIN 6.0         /* px between the digit and the square's edge */
#define JITTER_MAX 8.0          /* px, per frame with --repeat */
#define BLUR_RADIUS 3
#define MAX_SPECKS 8

/* ---- random numbers: splitmix64, seeded per digit and per frame ---- */

typedef struct
{
  guint64 state;
  gboolean has_spare;
  gdouble spare;
} Rng;

static guint64
mix64 (guint64 z)
{
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static void
rng_init (Rng * rng, guint64 seed, guint64 stream, guint64 sub)
{
  rng->state = mix64 (mix64 (mix64 (seed) ^ stream) ^ (sub * 0x9e37u));
  rng->has_spare = FALSE;
}

static guint64
rng_next (Rng * rng)
{
  rng->state += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);
  return mix64 (rng->state);
}

/* In [a, b). */
static gdouble
rng_uniform (Rng * rng, gdouble a, gdouble b)
{
  return a + (b - a) * ((rng_next (rng) >> 11) * (1.0 / 9007199254740992.0));
}

/* In [a, b]. */
static guint
rng_int (Rng * rng, guint a, guint b)
{
  return a + (guint) (rng_next (rng) % ((guint64) b - a + 1));
}

/* Standard normal, Box–Muller, two at a time. */
static gdouble
rng_gauss (Rng * rng)
{
  gdouble u, v, r;

  if (rng->has_spare) {
    rng->has_spare = FALSE;
    return rng->spare;
  }
  u = rng_uniform (rng, 0.0, 1.0);
  v = rng_uniform (rng, 0.0, 1.0);
  r = sqrt (-2.0 * log (1.0 - u));
  rng->spare = r * sin (2.0 * G_PI * v);
  rng->has_spare = TRUE;
  return r * cos (2.0 * G_PI * v);
}

/* Sensor noise wants hundreds of thousands of normal values a frame:
 * they come from a table of 65536 drawn once, four per random word. */
#define NOISE_TABLE_BITS 16

static gfloat noise_table[1 << NOISE_TABLE_BITS];

static void
fill_noise_table (void)
{
  Rng rng;

  rng_init (&rng, 0, 0, 0);
  for (guint i = 0; i < G_N_ELEMENTS (noise_table); i++)
    noise_table[i] = rng_gauss (&rng);
}

/* ---- the scene ----------------------------------------------------- */

enum
{ SIDE_LEFT, SIDE_RIGHT, SIDE_TOP, SIDE_BOTTOM, N_SIDES };

/* Where the digit is in one frame. */
typedef struct
{
  gdouble cx, cy;               /* centre of its ink box, frame px */
  gdouble scale;                /* frame px per MNIST px */
  gdouble angle;                /* radians, clockwise on screen */
} Pose;

typedef struct
{
  gdouble x, y, radius, reflectance;
} Speck;

/* What stays while a digit is shown. */
typedef struct
{
  /* The digit: its ink box in MNIST pixels (inclusive), its pose. */
  guint bx0, by0, bx1, by1;
  gdouble size;                 /* px, the ink box's longer side */
  Pose pose;
  gdouble ink_grey;             /* 20..90 */
  gdouble ink;                  /* reflectance: ink_grey / paper */

  /* Light: paper · (1 + g·(x, y)) · (1 − vignette·r²) · shadow. */
  gdouble paper;                /* 170..240, at the centre */
  gdouble grad_x, grad_y;       /* per px */
  gdouble vignette;
  gint shadow_side;             /* -1: none */
  gdouble shadow_width, shadow_depth;

  /* Things on the table and the paper. */
  gint table_side;              /* -1: none */
  gdouble table_a, table_b;     /* depth from the edge at both ends, px */
  gdouble table;                /* reflectance */
  Speck specks[MAX_SPECKS];
  guint n_specks;

  gdouble blur, noise;          /* σ, px and grey levels */
} Scene;

/* The ink box of a 28×28 MNIST digit: its nonzero pixels. */
static gboolean
find_ink_box (const guint8 * digit, Scene * scene)
{
  guint box[4];

  if (!desk_digit_ink_box (digit, box))
    return FALSE;
  scene->bx0 = box[0];
  scene->by0 = box[1];
  scene->bx1 = box[2];
  scene->by1 = box[3];
  return TRUE;
}

/* Half extents on screen of the digit's ink box at @pose. */
static void
pose_half_extents (const Scene * scene, const Pose * pose, gdouble * hx,
    gdouble * hy)
{
  const gdouble w = (scene->bx1 - scene->bx0 + 1) * pose->scale;
  const gdouble h = (scene->by1 - scene->by0 + 1) * pose->scale;
  const gdouble c = fabs (cos (pose->angle)), s = fabs (sin (pose->angle));

  *hx = 0.5 * (w * c + h * s);
  *hy = 0.5 * (w * s + h * c);
}

/* Keeps the digit inside the centred square, EDGE_MARGIN from its edge.
 * It always fits: 300 px turned by 13° (10° and a jitter of 3°) and
 * grown 6 % spans at most 381 px. */
static void
clamp_pose (const Scene * scene, Pose * pose)
{
  gdouble hx, hy;

  pose_half_extents (scene, pose, &hx, &hy);
  pose->cx = CLAMP (pose->cx, SQUARE_X0 + hx + EDGE_MARGIN,
      SQUARE_X1 - hx - EDGE_MARGIN);
  pose->cy = CLAMP (pose->cy, hy + EDGE_MARGIN, FRAME_H - hy - EDGE_MARGIN);
}

/* Free space between each side of the frame and the digit's box, less
 * the clutter margin and what jitter may add. */
static void
free_space (const Scene * scene, gdouble space[N_SIDES])
{
  Pose widest = scene->pose;
  gdouble hx, hy;

  widest.scale *= 1.06;
  pose_half_extents (scene, &widest, &hx, &hy);
  hx += CLUTTER_MARGIN + JITTER_MAX;
  hy += CLUTTER_MARGIN + JITTER_MAX;
  space[SIDE_LEFT] = scene->pose.cx - hx;
  space[SIDE_RIGHT] = FRAME_W - scene->pose.cx - hx;
  space[SIDE_TOP] = scene->pose.cy - hy;
  space[SIDE_BOTTOM] = FRAME_H - scene->pose.cy - hy;
}

static void
choose_light (Rng * rng, Scene * scene)
{
  const gdouble dir = rng_uniform (rng, 0.0, 2.0 * G_PI);
  /* Relative change of the light across the frame's diagonal. */
  const gdouble change = rng_uniform (rng, 0.0, 0.3);
  const gdouble diagonal = hypot (FRAME_W, FRAME_H);

  scene->paper = rng_uniform (rng, 170.0, 240.0);
  scene->grad_x = change * cos (dir) / diagonal;
  scene->grad_y = change * sin (dir) / diagonal;
  scene->vignette = rng_uniform (rng, 0.0, 0.15);
}

static void
choose_clutter (Rng * rng, Scene * scene)
{
  gdouble space[N_SIDES], hx, hy;
  gint side;

  free_space (scene, space);

  /* A table beyond one side, its edge slightly askew. */
  side = rng_int (rng, 0, N_SIDES - 1);
  scene->table_side = space[side] >= 8.0 ? side : -1;
  scene->table_a = rng_uniform (rng, 0.25, 1.0) * space[side];
  scene->table_b = rng_uniform (rng, 0.25, 1.0) * space[side];
  scene->table = rng_uniform (rng, 0.15, 0.5);

  /* A soft shadow along another side. */
  side = (side + rng_int (rng, 1, N_SIDES - 1)) % N_SIDES;
  scene->shadow_width = MIN (rng_uniform (rng, 30.0, 90.0), space[side]);
  scene->shadow_side = scene->shadow_width >= 15.0 ? side : -1;
  scene->shadow_depth = rng_uniform (rng, 0.1, 0.4);

  /* Specks anywhere away from the digit. */
  pose_half_extents (scene, &scene->pose, &hx, &hy);
  hx += CLUTTER_MARGIN + JITTER_MAX;
  hy += CLUTTER_MARGIN + JITTER_MAX;
  scene->n_specks = 0;
  for (guint i = rng_int (rng, 2, MAX_SPECKS), tries = 0; i > 0 && tries < 64;
      tries++) {
    Speck s = {
      rng_uniform (rng, 4.0, FRAME_W - 4.0),
      rng_uniform (rng, 4.0, FRAME_H - 4.0),
      rng_uniform (rng, 1.0, 4.0),
      rng_uniform (rng, 0.15, 0.6),
    };

    if (fabs (s.x - scene->pose.cx) < hx + s.radius
        && fabs (s.y - scene->pose.cy) < hy + s.radius)
      continue;
    scene->specks[scene->n_specks++] = s;
    i--;
  }
}

/* A new scene for @digit (28×28); FALSE when it has no ink. */
static gboolean
choose_scene (Rng * rng, const guint8 * digit, Scene * scene)
{
  memset (scene, 0, sizeof (*scene));
  if (!find_ink_box (digit, scene))
    return FALSE;

  /* MNIST made the longer side of each digit 20 px: the same side here,
   * so that a wide, flat digit stays as large as a tall one. */
  scene->size = rng_uniform (rng, 120.0, 300.0);
  scene->pose.scale = scene->size / (MAX (scene->bx1 - scene->bx0,
          scene->by1 - scene->by0) + 1);
  scene->pose.angle = rng_uniform (rng, -10.0, 10.0) * G_PI / 180.0;
  scene->pose.cx = FRAME_W / 2 + rng_uniform (rng, -60.0, 60.0);
  scene->pose.cy = FRAME_H / 2 + rng_uniform (rng, -40.0, 40.0);
  clamp_pose (scene, &scene->pose);

  choose_light (rng, scene);
  scene->ink_grey = rng_uniform (rng, 20.0, 90.0);
  scene->ink = scene->ink_grey / scene->paper;
  choose_clutter (rng, scene);
  scene->blur = rng_uniform (rng, 0.7, 1.3);
  scene->noise = rng_uniform (rng, 3.0, 8.0);
  return TRUE;
}

/* The pose of a later frame of the same digit: a hand's small moves. */
static Pose
jitter_pose (Rng * rng, const Scene * scene)
{
  Pose pose = scene->pose;

  pose.cx += CLAMP (3.0 * rng_gauss (rng), -JITTER_MAX, JITTER_MAX);
  pose.cy += CLAMP (3.0 * rng_gauss (rng), -JITTER_MAX, JITTER_MAX);
  pose.angle += CLAMP (rng_gauss (rng), -3.0, 3.0) * G_PI / 180.0;
  pose.scale *= 1.0 + CLAMP (0.02 * rng_gauss (rng), -0.06, 0.06);
  clamp_pose (scene, &pose);
  return pose;
}

/* ---- drawing ------------------------------------------------------- */

/* Working pictures, FRAME_H × FRAME_W floats. */
typedef struct
{
  gfloat *reflect;
  gfloat *light;
  gfloat *tmp;
  gfloat kernel[2 * BLUR_RADIUS + 1];
} Canvas;

/* Distance of (x, y) from the frame's edge on @side. */
static gdouble
depth_from_edge (gint side, gdouble x, gdouble y)
{
  switch (side) {
    case SIDE_LEFT:
      return x;
    case SIDE_RIGHT:
      return FRAME_W - x;
    case SIDE_TOP:
      return y;
    default:
      return FRAME_H - y;
  }
}

/* The table: reflectance `table` beyond a line from depth table_a at one
 * end of the side to table_b at the other, with a one-pixel soft edge.
 * Walks along the side (t) and in from it (d, pixel d from the edge). */
static void
draw_table (const Scene * s, gfloat * reflect)
{
  const gboolean vertical = s->table_side == SIDE_LEFT
      || s->table_side == SIDE_RIGHT;
  const guint length = vertical ? FRAME_H : FRAME_W;
  const guint across = vertical ? FRAME_W : FRAME_H;

  if (s->table_side < 0)
    return;
  for (guint t = 0; t < length; t++) {
    const gdouble edge = s->table_a
        + (t + 0.5) / length * (s->table_b - s->table_a);
    const guint reach = MIN ((guint) ceil (edge + 0.5), across);

    for (guint d = 0; d < reach; d++) {
      const gdouble cover = CLAMP (edge - d, 0.0, 1.0);
      const guint in = s->table_side == SIDE_LEFT
          || s->table_side == SIDE_TOP ? d : across - 1 - d;
      gfloat *r = reflect + (vertical ? (gsize) t * FRAME_W + in
          : (gsize) in * FRAME_W + t);

      *r = *r * (1.0 - cover) + s->table * cover;
    }
  }
}

static void
draw_specks (const Scene * s, gfloat * reflect)
{
  for (guint i = 0; i < s->n_specks; i++) {
    const Speck *k = &s->specks[i];
    const gint x0 = MAX ((gint) (k->x - k->radius - 1), 0);
    const gint x1 = MIN ((gint) (k->x + k->radius + 1), FRAME_W - 1);
    const gint y0 = MAX ((gint) (k->y - k->radius - 1), 0);
    const gint y1 = MIN ((gint) (k->y + k->radius + 1), FRAME_H - 1);

    for (gint y = y0; y <= y1; y++) {
      for (gint x = x0; x <= x1; x++) {
        const gdouble d = hypot (x + 0.5 - k->x, y + 0.5 - k->y);
        const gdouble cover = CLAMP (k->radius - d + 0.5, 0.0, 1.0);
        gfloat *r = reflect + (gsize) y * FRAME_W + x;

        *r = *r * (1.0 - cover) + k->reflectance * cover;
      }
    }
  }
}

/* The MNIST digit's coverage (0..1) at MNIST position (u, v), pixel
 * centres at i + 0.5, bilinear, 0 outside. */
static gdouble
sample_digit (const guint8 * digit, gdouble u, gdouble v)
{
  const gdouble fu = u - 0.5, fv = v - 0.5;
  const gint iu = (gint) floor (fu), iv = (gint) floor (fv);
  const gdouble a = fu - iu, b = fv - iv;
  gdouble p[2][2];

  for (gint j = 0; j < 2; j++)
    for (gint i = 0; i < 2; i++) {
      const gint x = iu + i, y = iv + j;

      p[j][i] = x >= 0 && y >= 0 && x < MNIST_SIDE && y < MNIST_SIDE ?
          digit[y * MNIST_SIDE + x] / 255.0 : 0.0;
    }
  return (1.0 - b) * ((1.0 - a) * p[0][0] + a * p[0][1])
      + b * ((1.0 - a) * p[1][0] + a * p[1][1]);
}

/* Ink where the digit covers the paper: each frame pixel mapped back
 * into the 28×28 digit through the pose (rotation about the ink box's
 * centre, then scale). */
static void
draw_digit (const Scene * s, const Pose * pose, const guint8 * digit,
    gfloat * reflect)
{
  const gdouble mu = 0.5 * (s->bx0 + s->bx1 + 1);
  const gdouble mv = 0.5 * (s->by0 + s->by1 + 1);
  const gdouble c = cos (pose->angle), sn = sin (pose->angle);
  const gdouble reach = MNIST_SIDE * G_SQRT2 * pose->scale / 2.0 + 2.0;
  const gint x0 = MAX ((gint) (pose->cx - reach), 0);
  const gint x1 = MIN ((gint) (pose->cx + reach), FRAME_W - 1);
  const gint y0 = MAX ((gint) (pose->cy - reach), 0);
  const gint y1 = MIN ((gint) (pose->cy + reach), FRAME_H - 1);

  for (gint y = y0; y <= y1; y++) {
    const gdouble dy = y + 0.5 - pose->cy;

    for (gint x = x0; x <= x1; x++) {
      const gdouble dx = x + 0.5 - pose->cx;
      const gdouble u = mu + (c * dx + sn * dy) / pose->scale;
      const gdouble v = mv + (-sn * dx + c * dy) / pose->scale;
      const gdouble a = sample_digit (digit, u, v);
      gfloat *r = reflect + (gsize) y * FRAME_W + x;

      if (a > 0.0)
        *r = *r * (1.0 - a) + s->ink * a;
    }
  }
}

/* How much light the shadow band leaves at @depth px from its side. */
static gfloat
shadow_factor (const Scene * s, gdouble depth)
{
  const gdouble t = CLAMP (1.0 - depth / s->shadow_width, 0.0, 1.0);

  return 1.0 - s->shadow_depth * t * t * (3.0 - 2.0 * t);
}

/* light (FRAME_H × FRAME_W): paper brightness with gradient, vignette
 * and shadow band. */
static void
draw_light (const Scene * s, gfloat * light)
{
  const gdouble hw = 0.5 * FRAME_W, hh = 0.5 * FRAME_H;
  const gdouble r2max = hw * hw + hh * hh;
  gfloat col[FRAME_W], row[FRAME_H];

  /* The band runs along one side: a factor per column or per row. */
  for (guint x = 0; x < FRAME_W; x++)
    col[x] = s->shadow_side == SIDE_LEFT || s->shadow_side == SIDE_RIGHT ?
        shadow_factor (s, depth_from_edge (s->shadow_side, x + 0.5, 0)) : 1;
  for (guint y = 0; y < FRAME_H; y++)
    row[y] = s->shadow_side == SIDE_TOP || s->shadow_side == SIDE_BOTTOM ?
        shadow_factor (s, depth_from_edge (s->shadow_side, 0, y + 0.5)) : 1;

  for (guint y = 0; y < FRAME_H; y++) {
    const gfloat dy = y + 0.5f - hh;
    const gfloat base = s->paper * row[y];
    gfloat *dst = light + (gsize) y * FRAME_W;

    for (guint x = 0; x < FRAME_W; x++) {
      const gfloat dx = x + 0.5f - hw;

      dst[x] = base * col[x] * (1.0f + s->grad_x * dx + s->grad_y * dy)
          * (1.0f - s->vignette * (dx * dx + dy * dy) / r2max);
    }
  }
}

static void
set_blur (Canvas * canvas, gdouble sigma)
{
  gdouble sum = 0.0;

  for (gint i = -BLUR_RADIUS; i <= BLUR_RADIUS; i++)
    sum += canvas->kernel[i + BLUR_RADIUS] = exp (-0.5 * i * i / (sigma
            * sigma));
  for (gint i = 0; i < 2 * BLUR_RADIUS + 1; i++)
    canvas->kernel[i] /= sum;
}

/* in (FRAME_H × FRAME_W) ∗ kernel along each row → out, edges clamped. */
static void
blur_rows (const Canvas * canvas, const gfloat * in, gfloat * out)
{
  gfloat pad[FRAME_W + 2 * BLUR_RADIUS];

  for (guint y = 0; y < FRAME_H; y++) {
    const gfloat *row = in + (gsize) y * FRAME_W;
    gfloat *dst = out + (gsize) y * FRAME_W;

    for (gint i = 0; i < BLUR_RADIUS; i++) {
      pad[i] = row[0];
      pad[FRAME_W + BLUR_RADIUS + i] = row[FRAME_W - 1];
    }
    memcpy (pad + BLUR_RADIUS, row, sizeof (gfloat) * FRAME_W);
    for (guint x = 0; x < FRAME_W; x++) {
      gfloat sum = 0.0f;

      for (gint i = 0; i < 2 * BLUR_RADIUS + 1; i++)
        sum += canvas->kernel[i] * pad[x + i];
      dst[x] = sum;
    }
  }
}

/* in (FRAME_H × FRAME_W) ∗ kernel along each column → out, edges
 * clamped; a row at a time, so that the inner loop runs along memory. */
static void
blur_columns (const Canvas * canvas, const gfloat * in, gfloat * out)
{
  for (gint y = 0; y < FRAME_H; y++) {
    gfloat *dst = out + (gsize) y * FRAME_W;

    memset (dst, 0, sizeof (gfloat) * FRAME_W);
    for (gint i = -BLUR_RADIUS; i <= BLUR_RADIUS; i++) {
      const gfloat *src = in + (gsize) CLAMP (y + i, 0, FRAME_H - 1) * FRAME_W;
      const gfloat k = canvas->kernel[i + BLUR_RADIUS];

      for (guint x = 0; x < FRAME_W; x++)
        dst[x] += k * src[x];
    }
  }
}

/* One frame of @scene with the digit at @pose → out (GRAY8). */
static void
render_frame (Canvas * canvas, const Scene * s, const Pose * pose,
    const guint8 * digit, Rng * noise, guint8 * out)
{
  const gsize n = (gsize) FRAME_W * FRAME_H;

  for (gsize i = 0; i < n; i++)
    canvas->reflect[i] = 1.0f;
  draw_table (s, canvas->reflect);
  draw_specks (s, canvas->reflect);
  draw_digit (s, pose, digit, canvas->reflect);
  draw_light (s, canvas->light);
  for (gsize i = 0; i < n; i++)
    canvas->light[i] *= canvas->reflect[i];

  set_blur (canvas, s->blur);
  blur_rows (canvas, canvas->light, canvas->tmp);
  blur_columns (canvas, canvas->tmp, canvas->light);

  for (gsize i = 0; i < n; i += 4) {
    guint64 bits = rng_next (noise);

    for (gsize j = i; j < i + 4; j++, bits >>= NOISE_TABLE_BITS) {
      const gfloat v = canvas->light[j] + 0.5f
          + s->noise * noise_table[bits & ((1 << NOISE_TABLE_BITS) - 1)];

      out[j] = v <= 0.0f ? 0 : v >= 255.0f ? 255 : (guint8) v;
    }
  }
}

/* ---- output -------------------------------------------------------- */

static void
write_label_line (FILE * labels, guint frame, guint index, guint label,
    const Scene * s, const Pose * pose)
{
  fprintf (labels, "%u %u %u %.1f %.1f %.1f %.1f %.1f %.1f %.2f %.2f %d %d"
      " %u\n", frame, index, label, s->size, pose->angle * 180.0 / G_PI,
      pose->cx, pose->cy, s->ink_grey, s->paper, s->blur, s->noise,
      s->table_side, s->shadow_side, s->n_specks);
}

/* ---- main ---------------------------------------------------------- */

static gboolean
generate (const FrameOptions * o, const CnnDataset * set, gpointer data,
    GError ** error)
{
  const gsize n = (gsize) FRAME_W * FRAME_H;
  const guint end = frame_options_end (o, set);
  g_autofree guint8 *pixels = g_malloc (n);
  Canvas canvas = {
    g_new (gfloat, n), g_new (gfloat, n), g_new (gfloat, n), {0}
  };
  FrameSink sink;
  gboolean ok = frame_sink_open (&sink, o, FRAME_W, FRAME_H, "frame digit"
      " label size angle cx cy ink paper blur noise table-side shadow-side"
      " specks", error);

  for (guint i = o->first; ok && i < end; i++) {
    const guint8 *digit = set->pixels + (gsize) i * MNIST_SIDE * MNIST_SIDE;
    Scene scene;
    Rng rng;

    rng_init (&rng, o->seed, i, 0);
    if (!choose_scene (&rng, digit, &scene)) {
      g_printerr ("make-webcam-frames: digit %u is blank, skipped\n", i);
      continue;
    }
    for (guint k = 0; ok && k < (guint) o->repeat; k++) {
      Rng frame_rng;
      Pose pose;

      rng_init (&frame_rng, o->seed, i, k + 1);
      pose = k == 0 ? scene.pose : jitter_pose (&frame_rng, &scene);
      render_frame (&canvas, &scene, &pose, digit, &frame_rng, pixels);
      write_label_line (sink.labels, sink.frame, i, set->labels[i], &scene,
          &pose);
      ok = frame_sink_write (&sink, pixels, error);
    }
  }
  ok = frame_sink_close (&sink, ok, error);
  g_free (canvas.reflect);
  g_free (canvas.light);
  g_free (canvas.tmp);
  return ok;
}

int
main (int argc, char **argv)
{
  fill_noise_table ();
  return frame_generator_main (argc, argv, "make-webcam-frames",
      "- webcam-like frames of MNIST digits", "Draws each MNIST digit "
      "as dark ink on lit paper in a 640x480 grey frame, with lighting "
      "gradient, blur, noise and clutter near the edges. Labels file "
      "columns: frame digit label size angle cx cy ink paper blur noise "
      "table-side shadow-side specks.", NULL, generate, NULL);
}
