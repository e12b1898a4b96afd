/* The desk-scene renderer (model-tools/desk-scene.h): scenes depend on
 * (seed, index) alone, the digit stays in cnnclassify's default region
 * and clutter clear of it, every condition occurs, the pen's stroke is
 * as wide as the pen whatever the digit's size, blank paper has no ink,
 * the JPEG round trip runs, and bad sizes are refused. */
#include "desk-private.h"

#include <cnn.h>
#include <math.h>
#include <string.h>

#define W 640
#define H 480
#define SAMPLES 2000

/* A "1": a vertical bar, 3 px wide and 20 px high, like MNIST's. */
static void
make_bar (guint8 * digit)
{
  memset (digit, 0, DESK_MNIST_SIDE * DESK_MNIST_SIDE);
  for (guint y = 4; y < 24; y++)
    for (guint x = 13; x < 16; x++)
      digit[y * DESK_MNIST_SIDE + x] = 255;
}

/* A scene with nothing but the digit: plain paper at 200, even light,
 * no blur, noise, JPEG or clutter, upright, no perspective. */
static void
clean_scene (DeskScene * s, gdouble height, gdouble pen_width)
{
  desk_scene_draw (s, W, H, 1, 0, FALSE);
  s->paper = DESK_PAPER_PLAIN;
  s->light = DESK_LIGHT_EVEN;
  s->blur = DESK_BLUR_NONE;
  s->jpeg = DESK_JPEG_NONE;
  s->clutter = DESK_CLUTTER_NONE;
  s->paper_level = 200.0;
  s->grad_x = s->grad_y = s->vignette = s->noise = 0.0;
  s->ink_reflect = 0.2;
  s->pen_width = pen_width;
  s->pose = (DeskPose) {
  height, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, W / 2.0, H / 2.0};
}

static void
render (const DeskScene * s, const guint8 * digit, guint8 * frame,
    DeskWork * work)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (desk_scene_render (s, digit, frame, W, H, W, work, &error));
  g_assert_no_error (error);
}

static void
test_deterministic (void)
{
  DeskWork *work = desk_work_new (W, H);
  g_autofree guint8 *a = g_malloc (W * H);
  g_autofree guint8 *b = g_malloc (W * H);
  guint8 digit[DESK_MNIST_SIDE * DESK_MNIST_SIDE];
  DeskScene s1, s2;

  make_bar (digit);
  for (guint i = 0; i < 8; i++) {
    desk_scene_draw (&s1, W, H, 5, i, i % 2);
    desk_scene_draw (&s2, W, H, 5, i, i % 2);
    g_assert_cmpmem (&s1, sizeof s1, &s2, sizeof s2);
    render (&s1, digit, a, work);
    render (&s2, digit, b, work);
    g_assert_cmpmem (a, W * H, b, W * H);
  }
  desk_scene_draw (&s2, W, H, 6, 7, TRUE);
  g_assert_false (memcmp (&s1, &s2, sizeof s1) == 0);
  desk_work_free (work);
}

static gdouble
point_box_distance (gdouble x, gdouble y, const gdouble box[4])
{
  const gdouble dx = MAX (MAX (box[0] - x, x - box[2]), 0.0);
  const gdouble dy = MAX (MAX (box[1] - y, y - box[3]), 0.0);

  return hypot (dx, dy);
}

/* The digit inside the centred 480×480 square; a finger's tip in it and
 * clear of the digit; the table's edge clear of every corner of it. */
static void
check_placement (const DeskScene * s)
{
  if (!s->blank) {
    g_assert_cmpfloat (s->box[0], >=, 80.0);
    g_assert_cmpfloat (s->box[2], <=, 560.0);
    g_assert_cmpfloat (s->box[1], >=, 0.0);
    g_assert_cmpfloat (s->box[3], <=, 480.0);
    g_assert_cmpfloat (s->pose.height, >=, 44.0);
    g_assert_cmpfloat (s->pose.height, <=, 260.0);
    g_assert_cmpfloat (fabs (s->pose.angle), <=, 20.0 * G_PI / 180.0);
    g_assert_cmpfloat (s->pose.height, >=, 5.9 * s->pen_width);
  }
  if (s->clutter == DESK_CLUTTER_FINGER) {
    g_assert_cmpfloat (s->finger[2], >=, 80.0);
    g_assert_cmpfloat (s->finger[2], <=, 560.0);
    if (!s->blank)
      g_assert_cmpfloat (point_box_distance (s->finger[2], s->finger[3],
              s->box), >=, s->finger_radius);
  }
  if (s->clutter == DESK_CLUTTER_TABLE && !s->blank)
    for (guint i = 0; i < 4; i++)
      g_assert_cmpfloat (s->table.nx * s->box[i & 1 ? 2 : 0] + s->table.ny
          * s->box[i & 2 ? 3 : 1], <, s->table.offset);
}

static void
test_placement_and_conditions (void)
{
  guint paper[DESK_N_PAPERS] = { 0 }, pen[DESK_N_PENS] = { 0 };
  guint light[DESK_N_LIGHTS] = { 0 }, blur[DESK_N_BLURS] = { 0 };
  guint jpeg[DESK_N_JPEGS] = { 0 }, clutter[DESK_N_CLUTTERS] = { 0 };
  guint ink[DESK_N_INKS] = { 0 };

  for (guint i = 0; i < SAMPLES; i++) {
    DeskScene s;

    desk_scene_draw (&s, W, H, 3, i, i % 10 == 9);
    check_placement (&s);
    for (guint k = 1; k < 4; k++) {
      DeskScene moved = s;

      desk_scene_jitter (&moved, 3, i, k);
      check_placement (&moved);
      g_assert_cmpuint (moved.noise_key, !=, s.noise_key);
    }
    paper[s.paper]++;
    pen[s.pen]++;
    ink[s.ink]++;
    light[s.light]++;
    blur[s.blur]++;
    jpeg[s.jpeg]++;
    clutter[s.clutter]++;
    if (s.jpeg != DESK_JPEG_NONE) {
      g_assert_cmpuint (s.jpeg_quality, >=, 25);
      g_assert_cmpuint (s.jpeg_quality, <=, 80);
    }
    if (s.light == DESK_LIGHT_LOW) {
      g_assert_cmpfloat (fabs (s.paper_level - 100.0), <=, 15.0);
      g_assert_cmpfloat (s.noise, >=, 8.0);
    }
    if (s.ink == DESK_INK_LIGHT) {
      const gdouble contrast = (1.0 - s.ink_reflect) * s.paper_level;

      g_assert_cmpfloat (contrast, >=, 49.9);
      g_assert_cmpfloat (contrast, <=, 80.1);
    }
  }
  /* Each value at least 5 % of the scenes, so that each is scored. */
#define CHECK_ALL(counts) \
  for (guint v = 0; v < G_N_ELEMENTS (counts); v++) \
    g_assert_cmpuint (counts[v], >=, SAMPLES / 20)
  CHECK_ALL (paper);
  CHECK_ALL (pen);
  CHECK_ALL (ink);
  CHECK_ALL (light);
  CHECK_ALL (blur);
  CHECK_ALL (jpeg);
  CHECK_ALL (clutter);
#undef CHECK_ALL
}

/* Ink in pixels (0 paper, 1 full ink) of the clean scenes: 200 is the
 * paper, 40 the ink. */
static gdouble
ink_in (const guint8 * pixels, guint n)
{
  gdouble sum = 0.0;

  for (guint i = 0; i < n; i++)
    sum += (200.0 - pixels[i]) / 160.0;
  return sum;
}

static void
test_pen_width (void)
{
  DeskWork *work = desk_work_new (W, H);
  g_autofree guint8 *frame = g_malloc (W * H);
  guint8 digit[DESK_MNIST_SIDE * DESK_MNIST_SIDE];
  const gdouble heights[] = { 60.0, 240.0 };
  gdouble area[2];

  make_bar (digit);
  for (guint pen = 0; pen < 3; pen++) {
    const gdouble width = 2.0 + 5.0 * pen;

    for (guint i = 0; i < 2; i++) {
      DeskScene s;

      clean_scene (&s, heights[i], width);
      render (&s, digit, frame, work);
      /* The bar is 3 MNIST px wide: scaled, 9 and 36 px; its stroke
       * across the middle row is the pen's. */
      g_assert_cmpfloat (fabs (ink_in (frame + W * H / 2, W) - width), <=,
          0.25);
      area[i] = ink_in (frame, W * H);
    }
    /* Four times as long, as wide: about four times the ink. */
    g_assert_cmpfloat (area[1] / area[0], >, 3.0);
    g_assert_cmpfloat (area[1] / area[0], <, 5.0);
  }
  desk_work_free (work);
}

/* Blank ruled paper: nothing darker than its rulings; the same scene
 * with a digit: ink as dark as the pen's. */
static void
test_blank_has_no_ink (void)
{
  DeskWork *work = desk_work_new (W, H);
  g_autofree guint8 *frame = g_malloc (W * H);
  guint8 digit[DESK_MNIST_SIDE * DESK_MNIST_SIDE];
  DeskScene s;
  guint darkest = 255;

  make_bar (digit);
  clean_scene (&s, 200.0, 6.0);
  s.paper = DESK_PAPER_SQUARED;
  s.line_reflect = 0.8;
  s.blank = TRUE;
  render (&s, NULL, frame, work);
  for (guint i = 0; i < W * H; i++)
    darkest = MIN (darkest, frame[i]);
  g_assert_cmpuint (darkest, >=, 200 * 0.8 - 1);
  g_assert_cmpuint (darkest, <=, 200 * 0.8 + 10);

  s.blank = FALSE;
  render (&s, digit, frame, work);
  darkest = 255;
  for (guint i = 0; i < W * H; i++)
    darkest = MIN (darkest, frame[i]);
  g_assert_cmpuint (darkest, <=, 200 * 0.2 * 0.8 + 1);
  desk_work_free (work);
}

static void
test_jpeg_round_trip (void)
{
  DeskWork *work = desk_work_new (W, H);
  g_autofree guint8 *plain = g_malloc (W * H);
  g_autofree guint8 *coded = g_malloc (W * H);
  guint8 digit[DESK_MNIST_SIDE * DESK_MNIST_SIDE];
  DeskScene s;
  guint64 diff = 0;

  make_bar (digit);
  clean_scene (&s, 150.0, 4.0);
  s.noise = 4.0;
  render (&s, digit, plain, work);
  s.jpeg = DESK_JPEG_STRONG;
  s.jpeg_quality = 25;
  render (&s, digit, coded, work);
  for (guint i = 0; i < W * H; i++)
    diff += ABS ((gint) plain[i] - coded[i]);
  /* Changed, but still the same picture. */
  g_assert_cmpuint (diff, >, W * H / 4);
  g_assert_cmpfloat ((gdouble) diff / (W * H), <, 6.0);
  desk_work_free (work);
}

static void
test_describe_and_errors (void)
{
  DeskWork *work = desk_work_new (W, H);
  g_autofree guint8 *frame = g_malloc (W * H);
  g_autoptr (GString) words = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  DeskScene s;

  desk_scene_draw (&s, W, H, 1, 3, TRUE);
  desk_scene_describe (&s, words);
  g_assert_true (g_str_has_prefix (words->str, "paper="));
  g_assert_nonnull (strstr (words->str, " pen=none ink=none light="));
  g_assert_nonnull (strstr (words->str, " clutter="));

  desk_scene_draw (&s, W / 2, H / 2, 1, 3, TRUE);
  g_assert_false (desk_scene_render (&s, NULL, frame, W, H, W, work,
          &error));
  g_assert_error (error, CNN_ERROR, CNN_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "sizes differ"));
  desk_work_free (work);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/desk/deterministic", test_deterministic);
  g_test_add_func ("/desk/placement-and-conditions",
      test_placement_and_conditions);
  g_test_add_func ("/desk/pen-width", test_pen_width);
  g_test_add_func ("/desk/blank-has-no-ink", test_blank_has_no_ink);
  g_test_add_func ("/desk/jpeg-round-trip", test_jpeg_round_trip);
  g_test_add_func ("/desk/describe-and-errors", test_describe_and_errors);
  return g_test_run ();
}
