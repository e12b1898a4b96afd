/* Reading numbers (cnn_classifier_read_number()): synthetic strokes on
 * paper, drawn here as round-capped segments of known geometry, must
 * come back as the digits drawn, in order along the line, each box
 * where the strokes were: glyphs apart, on a line turned by ±10°, of
 * different heights on a wavering baseline; a ring broken in two
 * (one digit), a 7 touching a 0 (two digits); specks, a dash and
 * blank paper (no digit).  The expectations are the drawing's: its
 * boxes and its count, not the reader's.  The bundled model decides the
 * doubts, as it does in cnnclassify. */
#include "cnn.h"

#include <math.h>
#include <string.h>

#define W 640
#define H 480
#define PAPER 225
#define INK 40
#define PEN 2.0                 /* half the stroke's width, px */
#define BOX_SLACK 5             /* px a box may differ by: antialiasing,
                                 * the 2.5-pixel work cells */

typedef struct
{
  gdouble x0, y0, x1, y1;
} Box;

typedef struct
{
  guint8 pixels[W * H];
  /* What was drawn, digit by digit: the boxes of its strokes' ink. */
  Box boxes[CNN_NUMBER_MAX_DIGITS];
  guint n;
  gdouble angle, cx, cy;        /* the whole drawing turned about (cx, cy) */
} Sheet;

static void
sheet_init (Sheet * s, gdouble angle)
{
  memset (s->pixels, PAPER, sizeof s->pixels);
  s->n = 0;
  s->angle = angle * G_PI / 180.0;
  s->cx = W / 2.0;
  s->cy = H / 2.0;
}

static void
turn (const Sheet * s, gdouble x, gdouble y, gdouble * tx, gdouble * ty)
{
  const gdouble c = cos (s->angle), sn = sin (s->angle);

  *tx = s->cx + c * (x - s->cx) - sn * (y - s->cy);
  *ty = s->cy + sn * (x - s->cx) + c * (y - s->cy);
}

static gdouble
segment_distance (gdouble px, gdouble py, gdouble ax, gdouble ay,
    gdouble bx, gdouble by)
{
  const gdouble ex = bx - ax, ey = by - ay, len2 = ex * ex + ey * ey;
  gdouble t = len2 > 0.0 ? ((px - ax) * ex + (py - ay) * ey) / len2 : 0.0;

  t = CLAMP (t, 0.0, 1.0);
  return hypot (px - ax - t * ex, py - ay - t * ey);
}

/* A stroke (x0, y0)–(x1, y1) of the current digit, turned with the
 * sheet: ink darkening the paper by its coverage of each pixel. */
static void
stroke (Sheet * s, gdouble x0, gdouble y0, gdouble x1, gdouble y1)
{
  Box *b = &s->boxes[s->n];
  gdouble ax, ay, bx, by;

  turn (s, x0, y0, &ax, &ay);
  turn (s, x1, y1, &bx, &by);
  for (gint y = (gint) (MIN (ay, by) - PEN - 2); y <= MAX (ay, by) + PEN + 2;
      y++)
    for (gint x = (gint) (MIN (ax, bx) - PEN - 2);
        x <= MAX (ax, bx) + PEN + 2; x++) {
      const gdouble d = segment_distance (x + 0.5, y + 0.5, ax, ay, bx, by);
      const gdouble cover = CLAMP (PEN + 0.5 - d, 0.0, 1.0);
      guint8 *p;

      if (x < 0 || y < 0 || x >= W || y >= H || cover <= 0.0)
        continue;
      p = &s->pixels[y * W + x];
      *p = (guint8) MIN (*p, PAPER - cover * (PAPER - INK));
      b->x0 = MIN (b->x0, x);
      b->y0 = MIN (b->y0, y);
      b->x1 = MAX (b->x1, x + 1);
      b->y1 = MAX (b->y1, y + 1);
    }
}

static void
begin_digit (Sheet * s)
{
  s->boxes[s->n] = (Box) {
  G_MAXDOUBLE, G_MAXDOUBLE, -G_MAXDOUBLE, -G_MAXDOUBLE};
}

static void
end_digit (Sheet * s)
{
  s->n++;
}

/* A ring (a 0) of @w × @h about (x, y), from angle @from to @to
 * (degrees, clockwise from the right), as 36 strokes a turn. */
static void
arc (Sheet * s, gdouble x, gdouble y, gdouble w, gdouble h, gdouble from,
    gdouble to)
{
  const guint steps = (guint) ceil ((to - from) / 10.0);

  for (guint i = 0; i < steps; i++) {
    const gdouble a = (from + (to - from) * i / steps) * G_PI / 180.0;
    const gdouble b = (from + (to - from) * (i + 1) / steps) * G_PI / 180.0;

    stroke (s, x + 0.5 * w * cos (a), y + 0.5 * h * sin (a),
        x + 0.5 * w * cos (b), y + 0.5 * h * sin (b));
  }
}

static void
draw_zero (Sheet * s, gdouble x, gdouble y, gdouble h)
{
  begin_digit (s);
  arc (s, x, y, 0.6 * h, h, 0.0, 360.0);
  end_digit (s);
}

static void
draw_one (Sheet * s, gdouble x, gdouble y, gdouble h)
{
  begin_digit (s);
  stroke (s, x + 0.05 * h, y - 0.5 * h, x - 0.05 * h, y + 0.5 * h);
  end_digit (s);
}

static void
draw_seven (Sheet * s, gdouble x, gdouble y, gdouble h)
{
  begin_digit (s);
  stroke (s, x - 0.3 * h, y - 0.5 * h, x + 0.3 * h, y - 0.5 * h);
  stroke (s, x + 0.3 * h, y - 0.5 * h, x - 0.05 * h, y + 0.5 * h);
  end_digit (s);
}

static CnnClassifier *
classifier (void)
{
  static CnnClassifier *c;
  const CnnClassifierTuning tuning = { 1, 1, CNN_SMOOTHING_WINDOW };
  CnnClassifierStep step;
  GError *err = NULL;

  if (!c) {
    c = cnn_classifier_new_number (DIGITS_MODEL, NULL, NULL, 0, &tuning,
        &step, &err);
    g_assert_no_error (err);
  }
  return c;
}

/* Reads @s and checks the digits against what was drawn: as many, in
 * order, each box within @slack px of its drawing's; with @classes, the
 * classes too.  Returns the text read. */
static const gchar *
read_and_check (const Sheet * s, const gint * classes, gdouble slack)
{
  const CnnImage image = { W, H, CNN_COLOR_GREY, {{s->pixels, W, 1, 0, 0}},
    FALSE, 0.0f, 0.0f
  };
  const CnnRect roi = { 0, 0, W, H };
  CnnClassifier *c = classifier ();
  const CnnReading *r = &c->reading;
  guint n;

  /* The smoothing of one frame: each text is its frame's own. */
  n = cnn_classifier_read_number (c, &image, roi, 0.0);
  if (n != s->n)
    g_error ("read %u digits (\"%s\"), drew %u", n, r->text, s->n);
  for (guint i = 0; i < n; i++) {
    const CnnRect *got = &r->boxes[i];
    const Box *want = &s->boxes[i];

    if (fabs (got->x - want->x0) > slack
        || fabs (got->y - want->y0) > slack
        || fabs (got->x + got->width - want->x1) > slack
        || fabs (got->y + got->height - want->y1) > slack)
      g_error ("digit %u: box %u,%u %ux%u, drawn %.0f,%.0f %.0fx%.0f", i,
          got->x, got->y, got->width, got->height, want->x0, want->y0,
          want->x1 - want->x0, want->y1 - want->y0);
    if (classes && r->class_ids[i] != classes[i])
      g_error ("digit %u: class %d (%.2f), drew %d (\"%s\")", i,
          r->class_ids[i], r->confidences[i], classes[i], r->text);
  }
  g_assert_cmpstr (r->shown, ==, r->text);
  return r->text;
}

/* ---- tests ----------------------------------------------------------- */

static void
test_apart (void)
{
  static const gint classes[] = { 1, 0, 7, 0 };
  Sheet *s = g_new (Sheet, 1);

  sheet_init (s, 0.0);
  draw_one (s, 180, 240, 80);
  draw_zero (s, 260, 240, 80);
  draw_seven (s, 350, 240, 80);
  draw_zero (s, 440, 240, 80);
  g_assert_cmpstr (read_and_check (s, classes, BOX_SLACK), ==, "1070");
  g_free (s);
}

/* The line turned either way: the order is along it, not along x. */
static void
test_turned_line (void)
{
  static const gint classes[] = { 7, 0, 1 };

  for (gint sign = -1; sign <= 1; sign += 2) {
    Sheet *s = g_new (Sheet, 1);

    sheet_init (s, 10.0 * sign);
    draw_seven (s, 220, 240, 90);
    draw_zero (s, 320, 240, 90);
    draw_one (s, 410, 240, 90);
    read_and_check (s, classes, BOX_SLACK);
    g_free (s);
  }
}

/* Different heights on a baseline that goes up and down. */
static void
test_wavering_baseline (void)
{
  static const gint classes[] = { 0, 1, 0, 7, 1 };
  Sheet *s = g_new (Sheet, 1);

  sheet_init (s, 4.0);
  draw_zero (s, 160, 232, 74);
  draw_one (s, 240, 248, 82);
  draw_zero (s, 310, 240, 70);
  draw_seven (s, 400, 230, 86);
  draw_one (s, 470, 250, 76);
  read_and_check (s, classes, BOX_SLACK);
  g_free (s);
}

/* A 0 whose stroke broke (as where a ruling was erased) is one digit:
 * its two arcs are one piece, not a "(" and a ")". */
static void
test_broken_stroke (void)
{
  static const gint classes[] = { 1, 0, 7 };
  Sheet *s = g_new (Sheet, 1);

  sheet_init (s, 0.0);
  draw_one (s, 220, 240, 90);
  begin_digit (s);
  arc (s, 310, 240, 54, 90, -80.0, 80.0);
  arc (s, 310, 240, 54, 90, 100.0, 260.0);
  end_digit (s);
  draw_seven (s, 400, 240, 90);
  read_and_check (s, classes, BOX_SLACK);
  g_free (s);
}

#define JOINT (0.3 * 90 * G_SQRT2 / 2)   /* px: the 7's bar to the 0 */

/* A 7 whose bar runs into the 0 after it, one component: cut where
 * they meet, as digits written close touch (at a point, a stroke's
 * end on the next digit's curve). */
static void
test_touching (void)
{
  static const gint classes[] = { 7, 0, 1 };
  Sheet *s = g_new (Sheet, 1);

  sheet_init (s, 0.0);
  draw_seven (s, 250, 240, 90);
  /* The bar drawn on to the 0's upper left, 45 degrees up its ring: a
   * joint of either digit, in neither's box (the box of each side may
   * end anywhere along it). */
  {
    const Box keep = s->boxes[s->n];

    stroke (s, 250 + 0.3 * 90, 240 - 0.5 * 90, 320 - JOINT, 240 - 0.5 * 90);
    s->boxes[s->n] = keep;
  }
  draw_zero (s, 320, 240 - 0.5 * 90 + 0.5 * 90 * G_SQRT2 / 2, 90);
  draw_one (s, 400, 240, 90);
  read_and_check (s, classes, BOX_SLACK + JOINT);
  g_free (s);
}

/* Specks and a dash beside the digits are no digits; nothing on blank
 * paper. */
static void
test_no_digits (void)
{
  static const gint classes[] = { 7, 1 };
  Sheet *s = g_new (Sheet, 1);

  sheet_init (s, 0.0);
  read_and_check (s, NULL, BOX_SLACK);
  draw_seven (s, 280, 240, 90);
  draw_one (s, 370, 240, 90);
  /* Not digits: a speck after the 1, a short dash on the line. */
  for (guint i = 0; i < 2; i++) {
    Box keep = s->boxes[s->n];

    begin_digit (s);
    if (i == 0)
      stroke (s, 420, 270, 421, 271);
    else
      stroke (s, 200, 240, 214, 240);
    s->boxes[s->n] = keep;
  }
  read_and_check (s, classes, BOX_SLACK);
  g_free (s);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/number/apart", test_apart);
  g_test_add_func ("/number/turned-line", test_turned_line);
  g_test_add_func ("/number/wavering-baseline", test_wavering_baseline);
  g_test_add_func ("/number/broken-stroke", test_broken_stroke);
  g_test_add_func ("/number/touching", test_touching);
  g_test_add_func ("/number/no-digits", test_no_digits);
  return g_test_run ();
}
