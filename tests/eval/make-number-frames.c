/* make-number-frames: numbers of 2 to 5 MNIST test digits written on a
 * line of a sheet, as a webcam sees them (issue 16), for cnnclassify
 * mode=number.
 *
 * The sheet, the pen, the light and the camera are the desk scenes'
 * (model-tools/desk-scene.h; desk_scene_render_glyphs() draws several
 * digits), kept to a webcam's ordinary view of a number held up to it,
 * as the webcam evaluation's (make-webcam-frames) are: plain, ruled or
 * squared paper; ballpoint, gel or felt pens, the stroke at most a sixth
 * of the digits' height; dark ink; even, graded or vignetted light with
 * sensor noise; mild defocus or motion blur and mild MJPEG; no clutter.
 * --hard adds the desk scenes' light inks and low light (paper at about
 * 100 grey levels, noise σ 8 to 12), where thin strokes fade into the
 * noise.  The number:
 * digits 40 to 110 pixels high (each within ±8 % of the number's), one
 * slant for all of them, the line turned up to ±8° (each digit up to 2°
 * more), its baseline wavering by up to a tenth of the height, gaps of
 * 0.05 to 0.4 heights between the digits' ink, and one gap in seven
 * closed so that the two digits' strokes run into each other.  The
 * number lies anywhere in the frame, 16 pixels from its edges.
 *
 * Frame F holds the digits 5F + first .. 5F + first + n - 1 of the set
 * (n drawn from 2..5), so that `--first`, `--count` and the seed alone
 * say what a frame shows, and a frame can be drawn again on its own.
 *
 * Frames are 640×480 GRAY8, to PNG files or, with --raw, to stdout.  The
 * labels file has one line per frame: frame, first digit index, the
 * number, then the conditions as key=value words (paper= pen= ink=
 * light= blur= jpeg= digits= touching= and the numbers).
 */
#include "desk-scene.h"
#include "frame-sink.h"
#include "rng.h"

#include <math.h>
#include <string.h>

#define FRAME_W 640
#define FRAME_H 480
#define MAX_DIGITS 5
#define DIGITS_PER_FRAME 5      /* of the set, whatever a frame uses */
#define EDGE 16.0               /* px between the number and the frame's edges */
#define INK_LEVEL 128           /* an MNIST pixel this bright is the stroke's */
#define TOUCH_ODDS 7            /* one gap in this many closed */
#define LIGHT_INK_ODDS 7        /* one number in this many in light ink */

static const gchar *const paper_names[] = { "plain", "ruled", "squared" };
static const gchar *const pen_names[] = { "ballpoint", "gel", "felt" };

/* Stroke widths, px, per pen, as the desk scenes' (desk-scene.c). */
static const gdouble pen_widths[][2] = { {1.6, 3.0}, {3.0, 5.5}, {5.5, 9.0} };

typedef struct
{
  guint n;
  guint index[MAX_DIGITS];
  gchar text[MAX_DIGITS + 1];
  gboolean touching[MAX_DIGITS];        /* the gap after digit i */
  gdouble height, angle, shear, waver;
  guint paper, pen;
  DeskGlyph glyphs[MAX_DIGITS];
  gdouble boxes[MAX_DIGITS][4]; /* each digit's ink, in the frame */
} Number;

static gdouble
uniform (ToolRng * rng, gdouble a, gdouble b)
{
  return a + (b - a) * tool_rng_uniform (rng);
}

/* ---- where the digits go ------------------------------------------- */

/* A digit on the line before rotation: its glyph pixel (u, v) lies at
 * (a, b) = (ca + (u - 14)·k·aspect + shear·(v - 14)·k, cb + (v - 14)·k),
 * a along the line, b down across it (desk_pose_map() with the line's
 * angle taken out). */
typedef struct
{
  const guint8 *pixels;
  gdouble k, aspect, ca, cb;
} Placed;

static void
placed_point (const Placed * p, gdouble shear, guint u, guint v, gdouble * a,
    gdouble * b)
{
  const gdouble qy = (v + 0.5 - 14.0) * p->k;

  *a = p->ca + (u + 0.5 - 14.0) * p->k * p->aspect + shear * qy;
  *b = p->cb + qy;
}

#define ROWS 256                /* rows of 1 px across the line, centred */

/* The leftmost (@right FALSE) or rightmost ink of @p per row of the
 * line, about row ROWS / 2 = b of 0; NAN where it has none.  A glyph
 * pixel covers k rows of the frame: it counts in each. */
static void
ink_profile (const Placed * p, gdouble shear, gboolean right,
    gdouble profile[ROWS])
{
  for (guint r = 0; r < ROWS; r++)
    profile[r] = NAN;
  for (guint v = 0; v < FRAME_MNIST_SIDE; v++)
    for (guint u = 0; u < FRAME_MNIST_SIDE; u++) {
      gdouble a, b;

      if (p->pixels[v * FRAME_MNIST_SIDE + u] < INK_LEVEL)
        continue;
      placed_point (p, shear, u, v, &a, &b);
      for (gint r = (gint) floor (b - 0.5 * p->k) + ROWS / 2;
          r <= (gint) floor (b + 0.5 * p->k) + ROWS / 2; r++)
        if (r >= 0 && r < ROWS && (isnan (profile[r])
                || (right ? a > profile[r] : a < profile[r])))
          profile[r] = a;
    }
}

/* Where along the line @next must lie (its ca; it is at 0) for the gap
 * between the ink of @prev and its own to be @gap at its narrowest (on
 * rows both have ink; over their whole spans when they share none). */
static gdouble
offset_for_gap (const Placed * prev, const Placed * next, gdouble shear,
    gdouble gap)
{
  gdouble right[ROWS], left[ROWS], closest = G_MAXDOUBLE;
  gdouble most_right = -G_MAXDOUBLE, most_left = G_MAXDOUBLE;

  ink_profile (prev, shear, TRUE, right);
  ink_profile (next, shear, FALSE, left);
  for (guint r = 0; r < ROWS; r++) {
    if (!isnan (right[r]))
      most_right = MAX (most_right, right[r]);
    if (!isnan (left[r]))
      most_left = MIN (most_left, left[r]);
    if (!isnan (right[r]) && !isnan (left[r]))
      closest = MIN (closest, left[r] - right[r]);
  }
  if (closest == G_MAXDOUBLE)
    closest = most_left - most_right;
  return gap - closest;
}

/* The ink's pixel centres lie about half a glyph pixel (@k frame px)
 * either side of the pen's path (MNIST's strokes are 2 to 3 pixels
 * wide), the rendered ink half a pen width: a gap of @gap px between
 * rendered strokes is this far between pixel centres. */
static gdouble
centre_gap (gdouble gap, gdouble pen, gdouble k)
{
  return gap + pen - k;
}

/* The digits' centres along and across the line: the baseline is a
 * slow wave (its place for digit i taken at about 0.8 heights a digit,
 * so that it is known before the gap is measured). */
static void
lay_out_line (Number * num, ToolRng * rng, const CnnDataset * set,
    Placed * placed, gdouble pen)
{
  const gdouble waves = uniform (rng, 3.0, 8.0);
  const gdouble phase = uniform (rng, 0.0, 2.0 * G_PI);
  const gdouble aspect = uniform (rng, 0.9, 1.1);

  num->waver = uniform (rng, 0.0, 0.1) * num->height;
  for (guint i = 0; i < num->n; i++) {
    Placed *p = &placed[i];

    p->pixels = set->pixels + (gsize) num->index[i] * FRAME_MNIST_SIDE
        * FRAME_MNIST_SIDE;
    p->k = num->height * uniform (rng, 0.92, 1.08) / 20.0;
    p->aspect = aspect * uniform (rng, 0.95, 1.05);
    p->ca = 0.0;
    p->cb = num->waver * sin (2.0 * G_PI * 0.8 * i / waves + phase)
        + uniform (rng, -0.03, 0.03) * num->height;
    if (i > 0) {
      const gdouble gap = num->touching[i - 1] ? -0.3 * pen
          : uniform (rng, 0.05, 0.4) * num->height;

      p->ca = offset_for_gap (&placed[i - 1], p, num->shear,
          centre_gap (gap, pen, MAX (p->k, placed[i - 1].k)));
    }
  }
}

/* The box (x0, y0, x1, y1) of the digits' nominal glyph boxes turned by
 * the line's angle, about the line's origin. */
static void
line_box (const Number * num, const Placed * placed, gdouble box[4])
{
  const gdouble c = cos (num->angle), s = sin (num->angle);

  box[0] = box[1] = G_MAXDOUBLE;
  box[2] = box[3] = -G_MAXDOUBLE;
  for (guint i = 0; i < num->n; i++)
    for (guint k = 0; k < 4; k++) {
      gdouble a, b, x, y;

      placed_point (&placed[i], num->shear, k & 1 ? 25 : 2, k & 2 ? 25 : 2,
          &a, &b);
      x = c * a - s * b;
      y = s * a + c * b;
      box[0] = MIN (box[0], x);
      box[1] = MIN (box[1], y);
      box[2] = MAX (box[2], x);
      box[3] = MAX (box[3], y);
    }
}

/* The line's origin in the frame, anywhere that keeps the number EDGE
 * pixels inside; FALSE when it does not fit. */
static gboolean
place_line (ToolRng * rng, const gdouble box[4], gdouble * ox, gdouble * oy)
{
  const gdouble x_lo = EDGE - box[0], x_hi = FRAME_W - EDGE - box[2];
  const gdouble y_lo = EDGE - box[1], y_hi = FRAME_H - EDGE - box[3];

  if (x_lo > x_hi || y_lo > y_hi)
    return FALSE;
  *ox = uniform (rng, x_lo, x_hi);
  *oy = uniform (rng, y_lo, y_hi);
  return TRUE;
}

/* ---- a frame's number ---------------------------------------------- */

/* The pen and ink of the scene, as this evaluation draws them. */
static void
draw_pen (Number * num, ToolRng * rng, DeskScene * s, gboolean hard)
{
  const gdouble widest = MIN (pen_widths[2][1], num->height / 6.0);

  do
    num->pen = tool_rng_below (rng, G_N_ELEMENTS (pen_widths));
  while (pen_widths[num->pen][0] > widest);
  s->pen_width = uniform (rng, pen_widths[num->pen][0],
      MIN (pen_widths[num->pen][1], widest));
  s->pen = (DeskPen) num->pen;
  s->ink = hard && tool_rng_below (rng, LIGHT_INK_ODDS) == 0 ?
      DESK_INK_LIGHT : DESK_INK_DARK;
  s->ink_reflect = s->ink == DESK_INK_LIGHT ?
      1.0 - uniform (rng, 50.0, 80.0) / s->paper_level :
      uniform (rng, 0.06, 0.4);
}

/* Frame @f's desk scene: the first of its draws whose light is not low,
 * unless @hard. */
static void
draw_scene (DeskScene * s, guint64 seed, guint f, gboolean hard)
{
  guint draw = 0;

  do
    desk_scene_draw (s, FRAME_W, FRAME_H, tool_rng_key (seed,
            TOOL_RNG_NUMBER_SCENE, f, 1 + draw++), f, FALSE);
  while (!hard && s->light == DESK_LIGHT_LOW);
}

/* The desk scene's conditions kept to those above. */
static void
tame_scene (Number * num, ToolRng * rng, DeskScene * s, gboolean hard)
{
  static const DeskPaper papers[] =
      { DESK_PAPER_PLAIN, DESK_PAPER_RULED, DESK_PAPER_SQUARED };

  num->paper = tool_rng_below (rng, G_N_ELEMENTS (papers));
  s->paper = papers[num->paper];
  s->clutter = DESK_CLUTTER_NONE;
  if (s->jpeg == DESK_JPEG_STRONG)
    s->jpeg = DESK_JPEG_MILD;
  s->jpeg_quality = (guint) uniform (rng, 50.0, 81.0);
  s->blur_sigma = uniform (rng, 0.6, 1.5);
  s->motion_length = uniform (rng, 2.0, 5.0);
  /* A sheet held up to the camera faces it: a third of the desk's
   * perspective (which, across a whole 640-pixel frame, bends ruled
   * lines more than the digit finder traces). */
  s->pose.tilt_x /= 3.0;
  s->pose.tilt_y /= 3.0;
  draw_pen (num, rng, s, hard);
}

/* The glyphs' poses, the line at (ox, oy) turned by its angle. */
static void
pose_glyphs (Number * num, ToolRng * rng, const DeskScene * s,
    const Placed * placed, gdouble ox, gdouble oy)
{
  const gdouble c = cos (num->angle), sn = sin (num->angle);

  for (guint i = 0; i < num->n; i++) {
    DeskPose *p = &num->glyphs[i].pose;
    const Placed *q = &placed[i];

    num->glyphs[i].digit28 = q->pixels;
    *p = s->pose;
    p->height = q->k * 20.0;
    p->aspect = q->aspect;
    p->shear = num->shear;
    p->angle = num->angle + uniform (rng, -2.0, 2.0) * G_PI / 180.0;
    p->cx = ox + c * q->ca - sn * q->cb;
    p->cy = oy + sn * q->ca + c * q->cb;
  }
}

/* Digit @i's ink box in the frame (x0, y0, x1, y1): its pixels of
 * INK_LEVEL or more placed on the line, turned by the line's angle,
 * about (ox, oy), the pen's half width around them. */
static void
glyph_box (const Number * num, const Placed * p, gdouble ox, gdouble oy,
    gdouble pen, gdouble box[4])
{
  const gdouble c = cos (num->angle), sn = sin (num->angle);

  box[0] = box[1] = G_MAXDOUBLE;
  box[2] = box[3] = -G_MAXDOUBLE;
  for (guint v = 0; v < FRAME_MNIST_SIDE; v++)
    for (guint u = 0; u < FRAME_MNIST_SIDE; u++) {
      gdouble a, b, x, y;

      if (p->pixels[v * FRAME_MNIST_SIDE + u] < INK_LEVEL)
        continue;
      placed_point (p, num->shear, u, v, &a, &b);
      x = ox + c * a - sn * b;
      y = oy + sn * a + c * b;
      box[0] = MIN (box[0], x - 0.5 * pen);
      box[1] = MIN (box[1], y - 0.5 * pen);
      box[2] = MAX (box[2], x + 0.5 * pen);
      box[3] = MAX (box[3], y + 0.5 * pen);
    }
}

/* Draws frame @f's number and scene; FALSE when the set has too few
 * digits left for it. */
static gboolean
draw_number (Number * num, DeskScene * s, const FrameOptions * o,
    const CnnDataset * set, guint f, gboolean hard, guint digits)
{
  const guint first = (guint) o->first + f * DIGITS_PER_FRAME;
  Placed placed[MAX_DIGITS];
  gdouble box[4], ox = 0.0, oy = 0.0;
  ToolRng rng;

  tool_rng_init (&rng, o->seed, TOOL_RNG_NUMBER_SCENE, f, 0);
  memset (num, 0, sizeof *num);
  num->n = 2 + tool_rng_below (&rng, MAX_DIGITS - 1);
  if (digits > 0)
    num->n = digits;
  if (first + num->n > set->n)
    return FALSE;
  for (guint i = 0; i < num->n; i++) {
    num->index[i] = first + i;
    num->text[i] = '0' + set->labels[first + i];
    num->touching[i] = i + 1 < num->n && tool_rng_below (&rng, TOUCH_ODDS)
        == 0;
  }
  draw_scene (s, o->seed, f, hard);
  num->height = uniform (&rng, 40.0, 110.0);
  num->angle = uniform (&rng, -8.0, 8.0) * G_PI / 180.0;
  num->shear = uniform (&rng, -0.2, 0.2);
  tame_scene (num, &rng, s, hard);
  /* A number too wide for the frame is written smaller. */
  for (guint tries = 0;; tries++) {
    lay_out_line (num, &rng, set, placed, s->pen_width);
    line_box (num, placed, box);
    if (place_line (&rng, box, &ox, &oy) || tries == 8)
      break;
    num->height *= 0.9;
  }
  pose_glyphs (num, &rng, s, placed, ox, oy);
  for (guint i = 0; i < num->n; i++)
    glyph_box (num, &placed[i], ox, oy, s->pen_width, num->boxes[i]);
  /* The sheet's rulings run along the line, within a few degrees. */
  s->pose.cx = ox;
  s->pose.cy = oy;
  s->pose.paper_angle = num->angle + uniform (&rng, -3.0, 3.0) * G_PI / 180.0;
  return TRUE;
}

static void
describe (const Number * num, const DeskScene * s, GString * out)
{
  static const gchar *const light[] = { "even", "gradient", "vignette",
    "low"
  };
  static const gchar *const blur[] = { "none", "defocus", "motion" };
  static const gchar *const jpeg[] = { "none", "mild", "strong" };
  guint touching = 0;

  for (guint i = 0; i < num->n; i++)
    touching += num->touching[i];
  g_string_append_printf (out, "paper=%s pen=%s ink=%s light=%s blur=%s "
      "jpeg=%s digits=%u touching=%s height=%.0f angle=%.1f shear=%.2f "
      "waver=%.1f width=%.1f boxes=", paper_names[num->paper], pen_names[num->pen],
      s->ink == DESK_INK_LIGHT ? "light" : "dark", light[s->light],
      blur[s->blur], jpeg[s->jpeg], num->n, touching ? "yes" : "no",
      num->height, num->angle * 180.0 / G_PI, num->shear, num->waver,
      s->pen_width);
  for (guint i = 0; i < num->n; i++)
    g_string_append_printf (out, "%s%.0f,%.0f,%.0f,%.0f", i ? ";" : "",
        num->boxes[i][0], num->boxes[i][1], num->boxes[i][2] - num->boxes[i][0],
        num->boxes[i][3] - num->boxes[i][1]);
}

typedef struct
{
  FrameSink sink;
  gboolean hard, alone;
  guint digits;                 /* --digits: every number's; 0: 2..5 */
  DeskWork *work;
  guint8 *pixels;
  GString *words;
} Generator;

/* --alone: each digit of the number alone in a frame of its own, where
 * it was and in the same scene (paper, pen, light, camera), labelled
 * "frame digit-index label conditions": the single-digit figure of
 * these conditions, for cnnclassify's digit mode with the whole frame
 * as its region (roi=0,0,640,480), as number mode reads it. */
static gboolean
write_alone (Generator * g, const Number * num, const DeskScene * scene,
    GError ** error)
{
  for (guint i = 0; i < num->n; i++) {
    if (!desk_scene_render_glyphs (scene, &num->glyphs[i], 1, g->pixels,
            FRAME_W, FRAME_H, FRAME_W, g->work, error))
      return FALSE;
    g_string_truncate (g->words, 0);
    describe (num, scene, g->words);
    fprintf (g->sink.labels, "%u %u %c %s\n", g->sink.frame, num->index[i],
        num->text[i], g->words->str);
    if (!frame_sink_write (&g->sink, g->pixels, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
write_frame (Generator * g, const FrameOptions * o, const CnnDataset * set,
    guint f, gboolean * done, GError ** error)
{
  DeskScene scene;
  Number num;

  *done = !draw_number (&num, &scene, o, set, f, g->hard, g->digits);
  if (*done)
    return TRUE;
  if (g->alone)
    return write_alone (g, &num, &scene, error);
  for (guint k = 0; k < (guint) o->repeat; k++) {
    if (k > 0)
      scene.noise_key = tool_rng_key (o->seed, TOOL_RNG_NUMBER_SCENE, f,
          G_MAXUINT32 + (guint64) k);
    if (!desk_scene_render_glyphs (&scene, num.glyphs, num.n, g->pixels,
            FRAME_W, FRAME_H, FRAME_W, g->work, error))
      return FALSE;
    g_string_truncate (g->words, 0);
    describe (&num, &scene, g->words);
    fprintf (g->sink.labels, "%u %u %s %s\n", g->sink.frame, num.index[0],
        num.text, g->words->str);
    if (!frame_sink_write (&g->sink, g->pixels, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
generate (const FrameOptions * o, const CnnDataset * set, gpointer data,
    GError ** error)
{
  const guint frames = o->all ? set->n / DIGITS_PER_FRAME : (guint) o->count;
  Generator g = {
    .hard = ((const gint *) data)[0],
    .alone = ((const gint *) data)[1],
    .digits = (guint) ((const gint *) data)[2],
    .work = desk_work_new (FRAME_W, FRAME_H),
    .pixels = g_malloc ((gsize) FRAME_W * FRAME_H),
    .words = g_string_new (NULL),
  };
  gboolean ok, done = FALSE;

  if (g.digits != 0 && (g.digits < 2 || g.digits > MAX_DIGITS)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID, "--digits %u: a "
        "number has 2 to %u digits", g.digits, MAX_DIGITS);
    ok = FALSE;
  } else {
    ok = frame_sink_open (&g.sink, o, FRAME_W, FRAME_H,
        "frame first-digit number conditions", error);
  }

  for (guint f = 0; ok && !done && f < frames; f++)
    ok = write_frame (&g, o, set, f, &done, error);
  ok = frame_sink_close (&g.sink, ok, error);
  desk_work_free (g.work);
  g_free (g.pixels);
  g_string_free (g.words, TRUE);
  return ok;
}

int
main (int argc, char **argv)
{
  gint flags[3] = { FALSE, FALSE, 0 };  /* hard, alone, digits */
  const GOptionEntry extra[] = {
    {"hard", 0, 0, G_OPTION_ARG_NONE, &flags[0],
        "Also light inks and low light, as the desk scenes have", NULL},
    {"alone", 0, 0, G_OPTION_ARG_NONE, &flags[1],
        "Each digit of each number alone in a frame of its own, where it "
        "was (labels: frame digit-index label conditions): the single-digit "
        "figure of the same scenes", NULL},
    {"digits", 0, 0, G_OPTION_ARG_INT, &flags[2],
        "Every number of D digits, 2 to 5 (default: drawn from 2..5)", "D"},
    {NULL}
  };


  return frame_generator_main (argc, argv, "make-number-frames",
      "- numbers of MNIST test digits on a webcam's desk", "Draws numbers "
      "of 2 to 5 MNIST digits written on a line of a sheet (plain, ruled or "
      "squared; gaps, some closed; a wavering, turned baseline) as a webcam "
      "sees them, in 640x480 grey frames; --count is the number of frames, "
      "frame F using digits 5F.. of the set. Labels file: frame "
      "first-digit number key=value...", extra, generate, flags);
}
