/* The conditions of a desk scene, drawn at random (desk-scene.h).
 *
 * Every number comes from one generator seeded by (seed, index) and
 * whether the scene is blank, so a scene never depends on the scenes
 * drawn before it.  The categories are drawn with weights that keep
 * each of them frequent enough to be scored on its own in a few
 * hundred frames.
 */
#include "desk-private.h"
#include "rng.h"

#include <math.h>
#include <string.h>

/* The frames were designed at 640×480: lengths scale with the side of
 * the default region (480 there). */
#define DESIGN_SIDE 480.0
#define JITTER_MAX 8.0          /* px a later frame moves the digit */
#define MAX_ANGLE (20.0 * G_PI / 180.0)
/* Clutter keeps this far from the digit's ink, beyond the jitter. */
#define CLUTTER_GAP (6.0 + JITTER_MAX)
/* The nominal glyph box: MNIST's centring by mass can put ink a pixel
 * or two outside the 20×20 box (4..24), rarely further. */
#define GLYPH_LO 2.0
#define GLYPH_HI 26.0

static const gchar *const paper_names[] =
    { "plain", "ruled", "margin", "squared" };
static const gchar *const pen_names[] =
    { "ballpoint", "gel", "felt", "marker" };
static const gchar *const ink_names[] = { "dark", "light" };
static const gchar *const light_names[] =
    { "even", "gradient", "vignette", "low" };
static const gchar *const blur_names[] = { "none", "defocus", "motion" };
static const gchar *const jpeg_names[] = { "none", "mild", "strong" };
static const gchar *const clutter_names[] =
    { "none", "finger", "table", "shadow" };

G_STATIC_ASSERT (G_N_ELEMENTS (paper_names) == DESK_N_PAPERS);
G_STATIC_ASSERT (G_N_ELEMENTS (pen_names) == DESK_N_PENS);
G_STATIC_ASSERT (G_N_ELEMENTS (ink_names) == DESK_N_INKS);
G_STATIC_ASSERT (G_N_ELEMENTS (light_names) == DESK_N_LIGHTS);
G_STATIC_ASSERT (G_N_ELEMENTS (blur_names) == DESK_N_BLURS);
G_STATIC_ASSERT (G_N_ELEMENTS (jpeg_names) == DESK_N_JPEGS);
G_STATIC_ASSERT (G_N_ELEMENTS (clutter_names) == DESK_N_CLUTTERS);

/* Pen stroke widths, px at 640×480, per DeskPen. */
static const gdouble pen_widths[DESK_N_PENS][2] = {
  {1.6, 3.0}, {3.0, 5.5}, {5.5, 9.0}, {9.0, 14.0}
};

static gdouble
uniform (ToolRng * rng, gdouble a, gdouble b)
{
  return a + (b - a) * tool_rng_uniform (rng);
}

/* An index 0..n-1 drawn with the given weights (any positive scale). */
static guint
pick (ToolRng * rng, const gdouble * weights, guint n)
{
  gdouble total = 0.0, x;

  for (guint i = 0; i < n; i++)
    total += weights[i];
  x = uniform (rng, 0.0, total);
  for (guint i = 0; i + 1 < n; i++) {
    if (x < weights[i])
      return i;
    x -= weights[i];
  }
  return n - 1;
}

/* ---- geometry ------------------------------------------------------ */

typedef struct
{
  gdouble x0, y0, x1, y1;
} Box;

/* cnnclassify's default region: the centred square. */
static Box
default_region (const DeskScene * s)
{
  const gdouble side = MIN (s->width, s->height);
  const gdouble x0 = 0.5 * (s->width - side), y0 = 0.5 * (s->height - side);

  return (Box) {
  x0, y0, x0 + side, y0 + side};
}

static gdouble
region_scale (const DeskScene * s)
{
  return MIN (s->width, s->height) / DESIGN_SIDE;
}

void
desk_pose_map (const DeskPose * p, gdouble u, gdouble v, gdouble * x,
    gdouble * y)
{
  const gdouble k = p->height / DESK_MNIST_BOX;
  const gdouble c = cos (p->angle), sn = sin (p->angle);
  gdouble qx = (u - DESK_MNIST_CENTRE) * k * p->aspect;
  gdouble qy = (v - DESK_MNIST_CENTRE) * k;
  gdouble rx, ry, w;

  qx += p->shear * qy;
  rx = c * qx - sn * qy;
  ry = sn * qx + c * qy;
  w = 1.0 + p->tilt_x * rx + p->tilt_y * ry;
  *x = p->cx + rx / w;
  *y = p->cy + ry / w;
}

/* The frame box of the picture square [lo, hi]² at @pose: a pose maps
 * a quadrilateral, whose box is its corners'. */
static Box
pose_box (const DeskPose * pose, gdouble x_lo, gdouble y_lo, gdouble x_hi,
    gdouble y_hi)
{
  Box b = { G_MAXDOUBLE, G_MAXDOUBLE, -G_MAXDOUBLE, -G_MAXDOUBLE };

  for (guint i = 0; i < 4; i++) {
    gdouble x, y;

    desk_pose_map (pose, i & 1 ? x_hi : x_lo, i & 2 ? y_hi : y_lo, &x, &y);
    b.x0 = MIN (b.x0, x);
    b.y0 = MIN (b.y0, y);
    b.x1 = MAX (b.x1, x);
    b.y1 = MAX (b.y1, y);
  }
  return b;
}

/* The frame box of the nominal glyph box at @pose. */
static Box
glyph_box (const DeskPose * pose)
{
  return pose_box (pose, GLYPH_LO, GLYPH_LO, GLYPH_HI, GLYPH_HI);
}

gboolean
desk_scene_ink_box (const DeskScene * s, const guint8 * digit28,
    gdouble box[4])
{
  guint ink[4];
  Box b;

  if (!desk_digit_ink_box (digit28, ink))
    return FALSE;
  b = pose_box (&s->pose, ink[0], ink[1], ink[2] + 1.0, ink[3] + 1.0);
  box[0] = b.x0;
  box[1] = b.y0;
  box[2] = b.x1;
  box[3] = b.y1;
  return TRUE;
}

static gdouble
point_box_distance (gdouble x, gdouble y, const Box * b)
{
  const gdouble dx = MAX (MAX (b->x0 - x, x - b->x1), 0.0);
  const gdouble dy = MAX (MAX (b->y0 - y, y - b->y1), 0.0);

  return hypot (dx, dy);
}

static Box
grow_box (const Box * b, gdouble by)
{
  return (Box) {
  b->x0 - by, b->y0 - by, b->x1 + by, b->y1 + by};
}

/* Moves the digit's centre so that its box, grown by @margin, lies in
 * @region; the box must fit. */
static void
clamp_centre (DeskScene * s, const Box * region, gdouble margin)
{
  DeskPose centred = s->pose;
  Box b;

  centred.cx = centred.cy = 0.0;
  b = glyph_box (&centred);
  s->pose.cx = CLAMP (s->pose.cx, region->x0 + margin - b.x0,
      region->x1 - margin - b.x1);
  s->pose.cy = CLAMP (s->pose.cy, region->y0 + margin - b.y0,
      region->y1 - margin - b.y1);
  b = glyph_box (&s->pose);
  s->box[0] = b.x0;
  s->box[1] = b.y0;
  s->box[2] = b.x1;
  s->box[3] = b.y1;
}

/* ---- the conditions ------------------------------------------------ */

static void
draw_categories (ToolRng * rng, DeskScene * s)
{
  static const gdouble paper_w[] = { 25, 30, 15, 30 };
  static const gdouble pen_w[] = { 30, 30, 20, 20 };
  static const gdouble ink_w[] = { 65, 35 };
  static const gdouble light_w[] = { 30, 25, 20, 25 };
  static const gdouble blur_w[] = { 40, 30, 30 };
  static const gdouble jpeg_w[] = { 50, 25, 25 };
  static const gdouble clutter_w[] = { 35, 25, 20, 20 };

  s->paper = pick (rng, paper_w, DESK_N_PAPERS);
  s->pen = pick (rng, pen_w, DESK_N_PENS);
  s->ink = pick (rng, ink_w, DESK_N_INKS);
  s->light = pick (rng, light_w, DESK_N_LIGHTS);
  s->blur = pick (rng, blur_w, DESK_N_BLURS);
  s->jpeg = pick (rng, jpeg_w, DESK_N_JPEGS);
  s->clutter = pick (rng, clutter_w, DESK_N_CLUTTERS);
}

/* The pen, then the digit's size and place.  A person writing with a
 * marker writes large: a 14 px stroke in a 45 px digit fills its loops
 * and nobody could read it, so the digit is at least six strokes high. */
static void
draw_pen_and_pose (ToolRng * rng, DeskScene * s)
{
  const gdouble k = region_scale (s);
  const Box region = default_region (s);
  DeskPose *p = &s->pose;
  gdouble margin;

  s->pen_width = k * uniform (rng, pen_widths[s->pen][0],
      pen_widths[s->pen][1]);
  p->height = uniform (rng, MAX (45.0 * k, 6.0 * s->pen_width), 260.0 * k);
  p->aspect = uniform (rng, 0.85, 1.15);
  p->shear = uniform (rng, -0.25, 0.25);
  p->angle = uniform (rng, -MAX_ANGLE, MAX_ANGLE);
  /* The lines of the paper: the writer follows them within a few
   * degrees. */
  p->paper_angle = p->angle + uniform (rng, -6.0, 6.0) * G_PI / 180.0;
  {
    const gdouble tilt = uniform (rng, 0.0, 0.0009) / k;
    const gdouble dir = uniform (rng, 0.0, 2.0 * G_PI);

    p->tilt_x = tilt * cos (dir);
    p->tilt_y = tilt * sin (dir);
  }

  /* Ink, pen and blur stay inside the region: the box grown by this. */
  margin = 0.5 * s->pen_width + 4.0 * k;
  for (guint i = 0; i < 3; i++) {
    DeskPose centred = *p;
    Box b;
    gdouble extent;

    centred.cx = centred.cy = 0.0;
    b = glyph_box (&centred);
    extent = MAX (b.x1 - b.x0, b.y1 - b.y0) + 2.0 * margin;
    if (extent <= region.x1 - region.x0)
      break;
    p->height *= 0.98 * (region.x1 - region.x0) / extent;
  }
  p->cx = uniform (rng, region.x0, region.x1);
  p->cy = uniform (rng, region.y0, region.y1);
  clamp_centre (s, &region, margin);
}

static void
draw_paper (ToolRng * rng, DeskScene * s)
{
  const gdouble k = region_scale (s);

  s->line_spacing = k * uniform (rng, 24.0, 36.0);
  s->line_phase_u = uniform (rng, 0.0, s->line_spacing);
  s->line_phase_v = uniform (rng, 0.0, s->line_spacing);
  s->line_width = k * uniform (rng, 1.0, 2.2);
  /* Printed rulings are light blue or grey: light in luma, squared
   * paper's grid a little lighter still. */
  s->line_reflect = s->paper == DESK_PAPER_SQUARED ?
      uniform (rng, 0.68, 0.9) : uniform (rng, 0.6, 0.88);
  /* A red margin line is dark in luma (red weighs 0.3 in it).  It runs
   * left of the writing, in paper coordinates centred on the digit. */
  s->margin_width = k * uniform (rng, 1.5, 2.5);
  s->margin_reflect = uniform (rng, 0.45, 0.75);
  s->margin_u = -(0.6 * s->pose.height * (s->pose.aspect
          + fabs (s->pose.shear)) + 0.5 * s->pen_width + k * uniform (rng,
          8.0, 100.0));
}

static void
draw_light (ToolRng * rng, DeskScene * s)
{
  const gdouble diagonal = hypot (s->width, s->height);
  const gdouble dir = uniform (rng, 0.0, 2.0 * G_PI);
  gdouble change = 0.0;

  s->noise = uniform (rng, 2.0, 5.0);
  switch (s->light) {
    case DESK_LIGHT_EVEN:
      s->paper_level = uniform (rng, 170.0, 235.0);
      change = uniform (rng, 0.0, 0.05);
      s->vignette = uniform (rng, 0.0, 0.05);
      break;
    case DESK_LIGHT_GRADIENT:
      s->paper_level = uniform (rng, 150.0, 230.0);
      change = uniform (rng, 0.2, 0.45);
      s->vignette = uniform (rng, 0.0, 0.1);
      break;
    case DESK_LIGHT_VIGNETTE:
      s->paper_level = uniform (rng, 170.0, 235.0);
      change = uniform (rng, 0.0, 0.1);
      s->vignette = uniform (rng, 0.25, 0.5);
      break;
    default:
      s->paper_level = uniform (rng, 85.0, 115.0);
      change = uniform (rng, 0.0, 0.2);
      s->vignette = uniform (rng, 0.0, 0.25);
      s->noise = uniform (rng, 8.0, 12.0);
      break;
  }
  /* change = the relative difference between two opposite corners. */
  s->grad_x = change * cos (dir) / diagonal;
  s->grad_y = change * sin (dir) / diagonal;

  /* A light (blue) pen: 50..80 grey levels below the paper whatever
   * the light; a dark one: its reflectance. */
  s->ink_reflect = s->ink == DESK_INK_LIGHT ?
      1.0 - uniform (rng, 50.0, 80.0) / s->paper_level :
      uniform (rng, 0.06, 0.4);
}

static void
draw_camera (ToolRng * rng, DeskScene * s)
{
  s->blur_sigma = uniform (rng, 0.8, 2.5);
  s->motion_length = uniform (rng, 3.0, 9.0);
  s->motion_angle = uniform (rng, 0.0, G_PI);
  s->jpeg_quality = s->jpeg == DESK_JPEG_MILD ?
      (guint) uniform (rng, 50.0, 81.0) : (guint) uniform (rng, 25.0, 50.0);
}

/* The part of the scene clutter must keep clear of: the digit's box,
 * or nothing on blank paper. */
static gboolean
keep_clear (const DeskScene * s, Box * clear)
{
  const Box b = { s->box[0], s->box[1], s->box[2], s->box[3] };

  if (s->blank)
    return FALSE;
  *clear = grow_box (&b, 0.5 * s->pen_width + CLUTTER_GAP);
  return TRUE;
}

/* The side's inward unit normal and a point on the side: 0 left,
 * 1 right, 2 top, 3 bottom. */
static void
frame_side (const DeskScene * s, guint side, gdouble t, gdouble * px,
    gdouble * py, gdouble * nx, gdouble * ny)
{
  *nx = side == 0 ? 1.0 : side == 1 ? -1.0 : 0.0;
  *ny = side == 2 ? 1.0 : side == 3 ? -1.0 : 0.0;
  *px = side == 0 ? 0.0 : side == 1 ? s->width : t * s->width;
  *py = side == 2 ? 0.0 : side == 3 ? s->height : t * s->height;
}

/* A finger or thumb from a frame edge, its tip inside the region and
 * clear of the digit: walk the tip in from outside the frame until it
 * would touch the digit or leave the frame, then pick how far it got. */
static gboolean
place_finger (ToolRng * rng, DeskScene * s)
{
  const Box region = default_region (s);
  const gdouble r = s->finger_radius, step = 3.0;
  Box clear;
  const gboolean has_clear = keep_clear (s, &clear);
  const Box inner = grow_box (&region, -0.5 * r);
  gdouble px, py, nx, ny, dx, dy, a, entry = -1.0, last = -1.0;

  frame_side (s, tool_rng_below (rng, 4), uniform (rng, 0.15, 0.85), &px,
      &py, &nx, &ny);
  a = uniform (rng, -35.0, 35.0) * G_PI / 180.0;
  dx = nx * cos (a) - ny * sin (a);
  dy = nx * sin (a) + ny * cos (a);
  px -= 2.0 * r * nx;
  py -= 2.0 * r * ny;
  for (gdouble len = 0.0; len < s->width + s->height; len += step) {
    const gdouble x = px + len * dx, y = py + len * dy;

    if (has_clear && point_box_distance (x, y, &clear) < r)
      break;
    if (x < 0.0 || y < 0.0 || x > s->width || y > s->height) {
      if (entry >= 0.0)
        break;
      continue;
    }
    if (x >= inner.x0 && x <= inner.x1 && y >= inner.y0 && y <= inner.y1) {
      if (entry < 0.0)
        entry = len;
      last = len;
    } else if (entry >= 0.0) {
      break;
    }
  }
  if (entry < 0.0)
    return FALSE;
  {
    const gdouble len = uniform (rng, entry, last);

    s->finger[0] = px;
    s->finger[1] = py;
    s->finger[2] = px + len * dx;
    s->finger[3] = py + len * dy;
  }
  return TRUE;
}

/* The largest and smallest of n·p over the corners of @b. */
static void
edge_span (const Box * b, gdouble nx, gdouble ny, gdouble * lo, gdouble * hi)
{
  *lo = G_MAXDOUBLE;
  *hi = -G_MAXDOUBLE;
  for (guint i = 0; i < 4; i++) {
    const gdouble v = nx * (i & 1 ? b->x1 : b->x0) + ny * (i & 2 ? b->y1 :
        b->y0);

    *lo = MIN (*lo, v);
    *hi = MAX (*hi, v);
  }
}

/* The table beyond a slightly askew paper edge, the edge inside the
 * region and clear of the digit (on blank paper: short of the
 * region's centre). */
static gboolean
place_table (ToolRng * rng, DeskScene * s)
{
  const Box region = default_region (s);
  Box clear;
  gdouble px, py, nx, ny, a, lo, hi, clear_lo, clear_hi, region_lo, region_hi;

  frame_side (s, tool_rng_below (rng, 4), 0.5, &px, &py, &nx, &ny);
  a = uniform (rng, -8.0, 8.0) * G_PI / 180.0;
  /* Outward normal: the table is where n·p > offset. */
  s->table.nx = -(nx * cos (a) - ny * sin (a));
  s->table.ny = -(nx * sin (a) + ny * cos (a));
  edge_span (&region, s->table.nx, s->table.ny, &region_lo, &region_hi);
  if (keep_clear (s, &clear))
    edge_span (&clear, s->table.nx, s->table.ny, &clear_lo, &clear_hi);
  else
    clear_hi = 0.5 * (region_lo + region_hi) + 0.1 * (region_hi - region_lo);
  /* The whole of @clear on the paper's side, some table in the region. */
  lo = clear_hi;
  hi = region_hi - 12.0 * region_scale (s);
  if (lo > hi)
    return FALSE;
  s->table.offset = uniform (rng, lo, hi);
  return TRUE;
}

static void
place_shadow (ToolRng * rng, DeskScene * s)
{
  const Box region = default_region (s);
  const gdouble dir = uniform (rng, 0.0, 2.0 * G_PI);
  gdouble lo, hi;

  s->shadow.nx = cos (dir);
  s->shadow.ny = sin (dir);
  edge_span (&region, s->shadow.nx, s->shadow.ny, &lo, &hi);
  s->shadow.offset = uniform (rng, lo + 0.2 * (hi - lo), hi - 0.2 * (hi - lo));
}

/* Clutter that finds no room after a few tries (a large digit) is
 * dropped: the scene says clutter=none, which is what it shows. */
static void
draw_clutter (ToolRng * rng, DeskScene * s)
{
  const gdouble k = region_scale (s);
  gboolean placed = TRUE;
  guint tries;

  s->finger_radius = k * uniform (rng, 22.0, 45.0);
  s->skin = uniform (rng, 0.4, 0.75);
  s->table_reflect = uniform (rng, 0.05, 0.6);
  s->shadow_depth = uniform (rng, 0.25, 0.55);
  s->shadow_soft = k * uniform (rng, 20.0, 120.0);
  switch (s->clutter) {
    case DESK_CLUTTER_FINGER:
      for (tries = 0; tries < 16 && !place_finger (rng, s); tries++);
      placed = tries < 16;
      break;
    case DESK_CLUTTER_TABLE:
      for (tries = 0; tries < 16 && !place_table (rng, s); tries++);
      placed = tries < 16;
      break;
    case DESK_CLUTTER_SHADOW:
      place_shadow (rng, s);
      break;
    default:
      break;
  }
  if (!placed)
    s->clutter = DESK_CLUTTER_NONE;
}

void
desk_scene_draw (DeskScene * s, guint width, guint height, guint64 seed,
    guint64 index, gboolean blank)
{
  ToolRng rng;

  memset (s, 0, sizeof (*s));
  s->width = width;
  s->height = height;
  s->blank = blank;
  tool_rng_init (&rng, seed, blank ? TOOL_RNG_DESK_BLANK :
      TOOL_RNG_DESK_SCENE, index, 0);
  draw_categories (&rng, s);
  draw_pen_and_pose (&rng, s);
  draw_paper (&rng, s);
  draw_light (&rng, s);
  draw_camera (&rng, s);
  draw_clutter (&rng, s);
  s->noise_key = tool_rng_next (&rng);
}

/* Clamped normal: a hand's small moves are small. */
static gdouble
small_normal (ToolRng * rng, gdouble sigma, gdouble max)
{
  const gdouble v = sigma * tool_rng_normal (rng);     /* CLAMP reads it 3× */

  return CLAMP (v, -max, max);
}

void
desk_scene_jitter (DeskScene * s, guint64 seed, guint64 index, guint frame)
{
  const Box region = default_region (s);
  ToolRng rng;
  gdouble turn;

  if (frame == 0)
    return;
  tool_rng_init (&rng, seed, TOOL_RNG_DESK_JITTER, index,
      ((guint64) frame << 1) | (s->blank ? 1 : 0));
  s->pose.cx += small_normal (&rng, 3.0, JITTER_MAX);
  s->pose.cy += small_normal (&rng, 3.0, JITTER_MAX);
  /* The whole sheet moves: its rulings turn with the digit. */
  turn = s->pose.angle + small_normal (&rng, 1.0, 3.0) * G_PI / 180.0;
  turn = CLAMP (turn, -MAX_ANGLE, MAX_ANGLE) - s->pose.angle;
  s->pose.angle += turn;
  s->pose.paper_angle += turn;
  clamp_centre (s, &region, 0.5 * s->pen_width + 4.0 * region_scale (s));
  s->noise_key = tool_rng_next (&rng);
}

void
desk_scene_describe (const DeskScene * s, GString * out)
{
  const gdouble tilt = hypot (s->pose.tilt_x, s->pose.tilt_y);

  g_string_append_printf (out, "paper=%s pen=%s ink=%s light=%s blur=%s"
      " jpeg=%s clutter=%s", paper_names[s->paper],
      s->blank ? "none" : pen_names[s->pen],
      s->blank ? "none" : ink_names[s->ink], light_names[s->light],
      blur_names[s->blur], jpeg_names[s->jpeg], clutter_names[s->clutter]);
  if (!s->blank)
    g_string_append_printf (out, " height=%.0f angle=%.1f shear=%.2f"
        " tilt=%.5f x=%.0f y=%.0f width=%.1f contrast=%.0f",
        s->pose.height, s->pose.angle * 180.0 / G_PI, s->pose.shear, tilt,
        s->pose.cx, s->pose.cy, s->pen_width,
        (1.0 - s->ink_reflect) * s->paper_level);
  g_string_append_printf (out, " level=%.0f noise=%.1f", s->paper_level,
      s->noise);
  if (s->blur == DESK_BLUR_DEFOCUS)
    g_string_append_printf (out, " sigma=%.2f", s->blur_sigma);
  else if (s->blur == DESK_BLUR_MOTION)
    g_string_append_printf (out, " streak=%.1f", s->motion_length);
  if (s->jpeg != DESK_JPEG_NONE)
    g_string_append_printf (out, " quality=%u", s->jpeg_quality);
}
