/* Preprocessing "mnist": MNIST test digits, printed dark on light paper
 * into camera-like frames (off centre, uneven light, noise, a dark strip
 * or shadow at the edge), must come back close to the original 28×28;
 * frames without ink give nothing; every frame layout gives the same
 * digit; an MNIST digit given as it is comes back as it was.
 *
 * The digits come from t10k-images-idx3-ubyte.gz in $CNN_MNIST_DIR (by
 * default the shared data directory beside the source tree); the tests
 * that need them are skipped when it is absent. */
#include "cnn.h"

#include <math.h>
#include <string.h>

#define BT601_KR 0.299f
#define BT601_KB 0.114f
#define DIGIT 28
#define DIGIT_PIXELS (DIGIT * DIGIT)

/* What "close to the original" means, checked below to reject other
 * digits.  MNIST centres by whole pixels, so a digit drawn again may
 * land one pixel off its original: comparisons take the best of the
 * shifts by up to one pixel each way. */
#define MAX_MEAN_ABS_DIFF 0.08
#define MIN_CORRELATION 0.9
#define MAX_SHIFT 1

/* ---- MNIST --------------------------------------------------------- */

static CnnDataset *
load_mnist (void)
{
  static CnnDataset *dataset;
  static gboolean tried;
  const gchar *dir;
  gchar *images, *labels;
  GError *err = NULL;

  if (tried)
    return dataset;
  tried = TRUE;
  dir = g_getenv ("CNN_MNIST_DIR");
  if (!dir || !*dir)
    dir = MNIST_DIR_DEFAULT;
  images = g_build_filename (dir, "t10k-images-idx3-ubyte.gz", NULL);
  labels = g_build_filename (dir, "t10k-labels-idx1-ubyte.gz", NULL);
  if (g_file_test (images, G_FILE_TEST_EXISTS)
      && g_file_test (labels, G_FILE_TEST_EXISTS)) {
    dataset = cnn_dataset_load_idx (images, labels, &err);
    g_assert_no_error (err);
    g_assert_cmpuint (dataset->shape.c, ==, 1);
    g_assert_cmpuint (dataset->shape.h, ==, DIGIT);
    g_assert_cmpuint (dataset->shape.w, ==, DIGIT);
  }
  g_free (images);
  g_free (labels);
  return dataset;
}

/* The dataset, or NULL with the test marked skipped. */
static CnnDataset *
need_mnist (void)
{
  CnnDataset *ds = load_mnist ();

  if (!ds)
    g_test_skip ("no MNIST test set (set CNN_MNIST_DIR)");
  return ds;
}

static const guint8 *
mnist_digit (const CnnDataset * ds, guint i)
{
  return ds->pixels + (gsize) i * DIGIT_PIXELS;
}

/* ---- comparing pictures -------------------------------------------- */

/* Pixel (x, y) of @want moved by (dx, dy); black outside. */
static gdouble
shifted (const guint8 * want, gint x, gint y, gint dx, gint dy)
{
  x -= dx;
  y -= dy;
  if (x < 0 || y < 0 || x >= DIGIT || y >= DIGIT)
    return 0.0;
  return want[y * DIGIT + x] / 255.0;
}

static gdouble
mean_abs_diff_shifted (const gfloat * got, const guint8 * want, gint dx,
    gint dy)
{
  gdouble sum = 0.0;

  for (gint y = 0; y < DIGIT; y++)
    for (gint x = 0; x < DIGIT; x++)
      sum += fabs (got[y * DIGIT + x] - shifted (want, x, y, dx, dy));
  return sum / DIGIT_PIXELS;
}

/* Pearson's correlation of the two pictures' pixels. */
static gdouble
correlation_shifted (const gfloat * got, const guint8 * want, gint dx,
    gint dy)
{
  gdouble sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  const gdouble n = DIGIT_PIXELS;

  for (gint y = 0; y < DIGIT; y++) {
    for (gint x = 0; x < DIGIT; x++) {
      gdouble a = got[y * DIGIT + x], b = shifted (want, x, y, dx, dy);

      sa += a;
      sb += b;
      saa += a * a;
      sbb += b * b;
      sab += a * b;
    }
  }
  return (sab - sa * sb / n) / sqrt ((saa - sa * sa / n) * (sbb - sb * sb
          / n));
}

typedef struct
{
  gdouble mad, correlation;     /* at the best shift */
  gint dx, dy;
} Likeness;

/* @got against @want moved by up to MAX_SHIFT pixels: the shift of
 * highest correlation. */
static Likeness
compare (const gfloat * got, const guint8 * want)
{
  Likeness best = { 0.0, -2.0, 0, 0 };

  for (gint dy = -MAX_SHIFT; dy <= MAX_SHIFT; dy++) {
    for (gint dx = -MAX_SHIFT; dx <= MAX_SHIFT; dx++) {
      gdouble c = correlation_shifted (got, want, dx, dy);

      if (c > best.correlation)
        best = (Likeness) {
        mean_abs_diff_shifted (got, want, dx, dy), c, dx, dy};
    }
  }
  return best;
}

static gboolean
looks_like (const gfloat * got, const guint8 * want)
{
  Likeness l = compare (got, want);

  return l.mad < MAX_MEAN_ABS_DIFF && l.correlation > MIN_CORRELATION;
}

/* ---- frames -------------------------------------------------------- */

typedef struct
{
  guint left, top;              /* where the digit's 28×28 picture goes */
  guint scale;                  /* frame pixels per digit pixel */
  gboolean bilinear;            /* else nearest */
  gdouble noise;                /* sensor noise, standard deviation */
  gboolean strip;               /* a dark strip along the left edge */
  gboolean shadow;              /* a dark shadow in the bottom-right corner */
  gboolean speck;               /* a small dark speck far from the centre */
  gdouble vignette;             /* light lost in the corners, 0..1 */
  gdouble absorb;               /* light the ink takes; 0: 0.75 */
  guint paper;                  /* PAPER_PLAIN, _RULED or _SQUARED */
  gdouble paper_angle;          /* degrees the sheet is turned by */
  gboolean finger;              /* a finger coming in from the left */
  gdouble cast;                 /* a shadow across the sheet: light lost */
  gdouble cast_edge;            /* px its edge goes soft over; 0: 30 */
  gdouble lit;                  /* dim light, but for a sunlit patch at the
                                 * bottom left @lit + 1 times as bright */
  gboolean thumb;               /* a thumb coming in slanted at the bottom */
  gboolean faint_line;          /* a faint pencil line from the left edge
                                 * into the digit's middle */
  gdouble dim;                  /* the light's share left (0: all of it) */
  gboolean skips;               /* a pen running dry: every other band of
                                 * SKIP_BAND rows inked at SKIP_INK */
} Scene;

enum
{ PAPER_PLAIN, PAPER_RULED, PAPER_SQUARED };

#define RULING_SPACING 30.0     /* px, as a school exercise book */
#define RULING_WIDTH 1.6        /* px */
#define RULING_ABSORB 0.3       /* light a ruling takes (a light blue) */

#define THUMB_HALF_WIDTH 42.0   /* px */

#define SKIP_BAND 6             /* px */
#define SKIP_INK 0.45

#define FRAME_W 640
#define FRAME_H 480

static gdouble
gaussian (GRand * rand)
{
  /* Box–Muller */
  gdouble u = g_rand_double_range (rand, 1e-12, 1.0);
  gdouble v = g_rand_double (rand);

  return sqrt (-2.0 * log (u)) * cos (2.0 * G_PI * v);
}

/* Ink of @digit (0..1) at frame pixel (x, y) of a digit placed at
 * (left, top) and magnified @scale times. */
static gdouble
ink_at (const guint8 * digit, const Scene * s, guint x, guint y)
{
  gdouble dx = ((gdouble) x - s->left + 0.5) / s->scale - 0.5;
  gdouble dy = ((gdouble) y - s->top + 0.5) / s->scale - 0.5;
  gint x0 = (gint) floor (dx), y0 = (gint) floor (dy);
  gdouble fx = dx - x0, fy = dy - y0, v = 0.0;

  if (!s->bilinear) {
    gint nx = (gint) floor (dx + 0.5), ny = (gint) floor (dy + 0.5);

    if (nx < 0 || ny < 0 || nx >= DIGIT || ny >= DIGIT)
      return 0.0;
    return digit[ny * DIGIT + nx] / 255.0;
  }
  for (gint j = 0; j < 2; j++) {
    for (gint i = 0; i < 2; i++) {
      gint px = x0 + i, py = y0 + j;
      gdouble w = (i ? fx : 1 - fx) * (j ? fy : 1 - fy);

      if (px >= 0 && py >= 0 && px < DIGIT && py < DIGIT)
        v += w * digit[py * DIGIT + px] / 255.0;
    }
  }
  return v;
}

/* Light on the paper: brighter at the top left, darker in the corners
 * by as much as @vignette. */
static gdouble
lighting (guint x, guint y, gdouble vignette)
{
  gdouble dx = 2.0 * x / FRAME_W - 1.0, dy = 2.0 * y / FRAME_H - 1.0;

  return (215.0 - 70.0 * x / FRAME_W - 35.0 * y / FRAME_H)
      * (1.0 - vignette * (dx * dx + dy * dy) / 2.0);
}

/* How much of the light the rulings at (x, y) take: lines every
 * RULING_SPACING along the turned sheet, anti-aliased over a pixel. */
static gdouble
ruling_absorb (const Scene * s, guint x, guint y)
{
  const gdouble a = s->paper_angle * G_PI / 180.0;
  const gdouble u = x * cos (a) + y * sin (a), v = -x * sin (a) + y * cos (a);
  gdouble cover = 0.0;

  for (guint axis = 0; axis < (s->paper == PAPER_SQUARED ? 2 : 1); axis++) {
    const gdouble t = fmod (axis ? u : v, RULING_SPACING);
    const gdouble d = MIN (t, RULING_SPACING - t);

    cover = MAX (cover, CLAMP (0.5 * RULING_WIDTH + 0.5 - d, 0.0, 1.0));
  }
  return RULING_ABSORB * cover;
}

/* Whether (x, y) is on the finger: a capsule 50 px wide coming 150 px
 * in from the left edge at height 360. */
static gboolean
on_finger (guint x, guint y)
{
  const gdouble dx = MAX ((gdouble) x - 150.0, 0.0), dy = (gdouble) y - 360.0;

  return dx * dx + dy * dy < 25.0 * 25.0;
}

/* How far (x, y) lies from the thumb's axis, a slanted segment from
 * below the bottom edge up to (250, 200), and across it (-1 .. 1 of
 * its half width, 0 on the axis; beyond 1 off the thumb). */
static gdouble
thumb_across (guint x, guint y)
{
  const gdouble ax = 120.0, ay = 560.0, bx = 250.0, by = 200.0;
  const gdouble dx = bx - ax, dy = by - ay;
  const gdouble t = CLAMP (((x - ax) * dx + (y - ay) * dy)
      / (dx * dx + dy * dy), 0.0, 1.0);
  const gdouble px = x - (ax + t * dx), py = y - (ay + t * dy);

  return sqrt (px * px + py * py) / THUMB_HALF_WIDTH;
}

#define FAINT_LINE_ABSORB 0.2   /* a hard pencil's: the ink takes 0.75 */
#define FAINT_LINE_HALF_WIDTH 1.5       /* px */

/* Whether (x, y) is on the faint line: a segment falling at 30° from
 * the left edge to the middle of the digit's 28×28 picture. */
static gboolean
on_faint_line (const Scene * s, guint x, guint y)
{
  const gdouble bx = s->left + 14.0 * s->scale, by = s->top + 14.0 * s->scale;
  const gdouble ax = 0.0, ay = by - bx * tan (G_PI / 6.0);
  const gdouble dx = bx - ax, dy = by - ay;
  const gdouble t = CLAMP (((x - ax) * dx + (y - ay) * dy)
      / (dx * dx + dy * dy), 0.0, 1.0);
  const gdouble px = x - (ax + t * dx), py = y - (ay + t * dy);

  return px * px + py * py <= FAINT_LINE_HALF_WIDTH * FAINT_LINE_HALF_WIDTH;
}

/* How far (x, y) lies in the sunlit patch: the corner below a line from
 * (0, 200) to (420, 480), its edge sharp (a window frame's shadow). */
static gdouble
lit_share (guint x, guint y)
{
  const gdouble d = ((gdouble) y - 200.0 - x * 280.0 / 420.0) / 1.2;

  return CLAMP (0.5 + d / 2.0, 0.0, 1.0);
}

/* How far (x, y) lies in the cast shadow: the half-plane above a line
 * from (0, 420) to (640, 60), its edge soft over @s's cast_edge px. */
static gdouble
cast_shade (const Scene * s, guint x, guint y)
{
  const gdouble d = ((gdouble) y - 420.0 + x * 360.0 / 640.0) / 1.147;

  return CLAMP (0.5 - d / (s->cast_edge > 0.0 ? s->cast_edge : 30.0), 0.0,
      1.0);
}

/* A FRAME_W × FRAME_H grey frame: paper under uneven light, the digit
 * (if any) in dark ink, clutter and noise as @s says. */
static guint8 *
paper_frame (const guint8 * digit, const Scene * s, GRand * rand)
{
  guint8 *frame = g_malloc (FRAME_W * FRAME_H);

  for (guint y = 0; y < FRAME_H; y++) {
    for (guint x = 0; x < FRAME_W; x++) {
      gdouble v = lighting (x, y, s->vignette);
      gdouble sx = (gdouble) x - FRAME_W, sy = (gdouble) y - FRAME_H;

      if (s->paper != PAPER_PLAIN)
        v *= 1.0 - ruling_absorb (s, x, y);
      if (s->faint_line && on_faint_line (s, x, y))
        v *= 1.0 - FAINT_LINE_ABSORB;
      if (digit)
        v *= 1.0 - (s->absorb > 0.0 ? s->absorb : 0.75) * ink_at (digit, s,
            x, y) * (s->skips && (y / SKIP_BAND) % 2 == 0 ? SKIP_INK : 1.0);
      /* Skin in shade: a little darker towards its edges. */
      if (s->finger && on_finger (x, y))
        v = 0.6 * lighting (x, y, s->vignette) * (1.0 - 0.2
            * fabs ((gdouble) y - 360.0) / 25.0);
      if (s->thumb && thumb_across (x, y) < 1.0)
        v = 0.55 * lighting (x, y, s->vignette) * (1.0 - 0.25
            * thumb_across (x, y));
      if (s->strip && x < 22)
        v = 40.0;
      if (s->shadow && sx * sx + sy * sy < 150.0 * 150.0)
        v *= 0.45;
      if (s->speck && (x - 70.0) * (x - 70.0) + (y - 400.0) * (y - 400.0)
          < 7.0 * 7.0)
        v = 60.0;
      if (s->cast > 0.0)
        v *= 1.0 - s->cast * cast_shade (s, x, y);
      if (s->lit > 0.0)
        v *= (1.0 + s->lit * lit_share (x, y)) / (1.0 + s->lit);
      if (s->dim > 0.0)
        v *= s->dim;
      v += s->noise * gaussian (rand);
      frame[y * FRAME_W + x] = (guint8) CLAMP (lround (v), 0, 255);
    }
  }
  return frame;
}

/* Another digit, printed over @frame. */
static void
print_digit (guint8 * frame, const guint8 * digit, const Scene * s)
{
  for (guint y = 0; y < FRAME_H; y++)
    for (guint x = 0; x < FRAME_W; x++)
      frame[y * FRAME_W + x] *= 1.0 - 0.75 * ink_at (digit, s, x, y);
}

static CnnImage
grey_image (const guint8 * data, guint w, guint h)
{
  CnnImage img = { w, h, CNN_COLOR_GREY, {{data, (gint) w, 1, 0, 0}},
    FALSE, 0, 0
  };

  return img;
}

static CnnPreprocessor *
new_mnist (const gchar * spec, guint h, guint w)
{
  GError *err = NULL;
  CnnPreprocessor *pre =
      cnn_preprocessor_new (spec, (CnnShape) { 1, h, w }, &err);

  g_assert_no_error (err);
  return pre;
}

static const CnnRect whole_frame = { 0, 0, FRAME_W, FRAME_H };

/* ---- digits in frames ---------------------------------------------- */

/* The first test digit after @i with another label. */
static guint
other_digit (const CnnDataset * ds, guint i)
{
  guint j = (i + 1) % ds->n;

  while (ds->labels[j] == ds->labels[i])
    j = (j + 1) % ds->n;
  return j;
}

/* One of each class, and a second 9. */
static const guint test_digits[] = { 0, 1, 2, 3, 4, 7, 11, 18, 61, 99 };

/* Digit @index drawn in scene @s and prepared by a new "mnist"
 * preprocessor into @out; it must be found. */
static void
prepare_scene (const CnnDataset * ds, guint index, const Scene * s,
    GRand * rand, gfloat * out)
{
  CnnPreprocessor *pre = new_mnist ("mnist", DIGIT, DIGIT);
  guint8 *frame = paper_frame (mnist_digit (ds, index), s, rand);
  CnnImage img = grey_image (frame, FRAME_W, FRAME_H);

  if (!cnn_preprocessor_run (pre, &img, whole_frame, out))
    g_error ("digit %u at (%u, %u) x%u: no ink found", index, s->left, s->top,
        s->scale);
  g_free (frame);
  cnn_preprocessor_free (pre);
}

static void
check_scene (const CnnDataset * ds, guint index, const Scene * s,
    GRand * rand)
{
  const guint8 *want = mnist_digit (ds, index);
  const guint8 *other = mnist_digit (ds, other_digit (ds, index));
  gfloat out[DIGIT_PIXELS];
  Likeness same, diff;

  prepare_scene (ds, index, s, rand, out);
  same = compare (out, want);
  diff = compare (out, other);
  g_test_message ("digit %u (a %u) at (%u, %u) x%u: mean |diff| %.4f, "
      "correlation %.4f (shifted %d, %d); against a %u: %.4f, %.4f", index,
      ds->labels[index], s->left, s->top, s->scale, same.mad,
      same.correlation, same.dx, same.dy,
      ds->labels[other_digit (ds, index)], diff.mad, diff.correlation);
  if (!looks_like (out, want))
    g_error ("digit %u: mean |diff| %.4f (want < %g), correlation %.4f "
        "(want > %g)", index, same.mad, MAX_MEAN_ABS_DIFF, same.correlation,
        MIN_CORRELATION);
  /* The thresholds mean something: digits of other classes fail. */
  g_assert_false (looks_like (out, other));
  for (guint j = 0; j < G_N_ELEMENTS (test_digits); j++)
    if (ds->labels[test_digits[j]] != ds->labels[index])
      g_assert_false (looks_like (out, mnist_digit (ds, test_digits[j])));
}

/* A weaker check than check_scene()'s, for scenes whose strokes stand
 * barely above the floor: the digit is found, and it correlates better
 * with the clean digit than with any other class's, and at least
 * MIN_FOUND_CORRELATION.  Its strokes come out wider than MNIST's (the
 * cells of a faint stroke's edges reach the threshold, where a dark
 * stroke's edges fall below it), so the mean |diff| is held only to
 * MAX_FOUND_MEAN_ABS_DIFF. */
#define MIN_FOUND_CORRELATION 0.7
#define MAX_FOUND_MEAN_ABS_DIFF 0.1

static void
check_scene_found (const CnnDataset * ds, guint index, const Scene * s,
    GRand * rand)
{
  gfloat out[DIGIT_PIXELS];
  Likeness same;

  prepare_scene (ds, index, s, rand, out);
  same = compare (out, mnist_digit (ds, index));
  g_test_message ("digit %u (a %u) x%u: mean |diff| %.4f, correlation %.4f",
      index, ds->labels[index], s->scale, same.mad, same.correlation);
  g_assert_cmpfloat (same.mad, <, MAX_FOUND_MEAN_ABS_DIFF);
  g_assert_cmpfloat (same.correlation, >, MIN_FOUND_CORRELATION);
  for (guint j = 0; j < G_N_ELEMENTS (test_digits); j++)
    if (ds->labels[test_digits[j]] != ds->labels[index])
      g_assert_cmpfloat (compare (out, mnist_digit (ds,
                  test_digits[j])).correlation, <, same.correlation);
}

typedef void (*SceneCheck) (const CnnDataset * ds, guint index,
    const Scene * s, GRand * rand);

/* @check on every test digit in every one of the @n scenes. */
static void
check_scenes_with (const CnnDataset * ds, const Scene * scenes, guint n,
    GRand * rand, SceneCheck check)
{
  if (!ds)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (test_digits); i++)
    for (guint j = 0; j < n; j++)
      check (ds, test_digits[i], &scenes[j], rand);
}

static void
check_scenes (const CnnDataset * ds, const Scene * scenes, guint n,
    GRand * rand)
{
  check_scenes_with (ds, scenes, n, rand, check_scene);
}

static void
test_digit_on_paper (void)
{
  const CnnDataset *ds = need_mnist ();
  GRand *rand = g_rand_new_with_seed (11);
  /* Off centre in both directions, magnified 4 times (112 pixels). */
  const Scene scenes[] = {
    {380, 90, 4, FALSE, 8.0, TRUE, FALSE, FALSE},
    {150, 250, 4, TRUE, 8.0, TRUE, FALSE, FALSE},
    {300, 200, 4, TRUE, 12.0, FALSE, TRUE, TRUE},
    {200, 120, 4, FALSE, 5.0, TRUE, TRUE, TRUE},
    /* Dark corners (a cheap lens), the digit towards one of them. */
    {420, 40, 4, TRUE, 6.0, FALSE, FALSE, FALSE, 0.7},
    /* Pencil: the ink takes a third of the light. */
    {120, 60, 4, TRUE, 4.0, TRUE, FALSE, FALSE, 0.0, 0.33},
  };

  check_scenes (ds, scenes, G_N_ELEMENTS (scenes), rand);
  g_rand_free (rand);
}

/* ---- frames without ink -------------------------------------------- */

static void
test_no_ink (void)
{
  CnnPreprocessor *pre = new_mnist ("mnist", DIGIT, DIGIT);
  GRand *rand = g_rand_new_with_seed (12);
  const Scene lit = { 0, 0, 1, FALSE, 0.0, FALSE, FALSE, FALSE };
  const Scene noisy = { 0, 0, 1, FALSE, 8.0, FALSE, FALSE, FALSE };
  const Scene vignette = { 0, 0, 1, FALSE, 6.0, FALSE, FALSE, FALSE, 0.7 };
  /* A digit too faint to be told from the paper: 4 % of the light. */
  const Scene faint = { 260, 180, 4, TRUE, 3.0, FALSE, FALSE, FALSE, 0.0,
    0.04
  };
  /* Blank (black), white paper, uniformly lit grey. */
  const guint8 levels[] = { 0, 255, 180 };
  const CnnDataset *ds = load_mnist ();
  guint8 *frame = g_malloc (FRAME_W * FRAME_H);
  CnnImage img = grey_image (frame, FRAME_W, FRAME_H);
  gfloat out[DIGIT_PIXELS];
  guint8 *gradient;

  for (guint i = 0; i < G_N_ELEMENTS (levels); i++) {
    memset (frame, levels[i], FRAME_W * FRAME_H);
    g_assert_false (cnn_preprocessor_run (pre, &img, whole_frame, out));
  }

  /* Noise alone: Gaussian on mid grey, then uniform random bytes. */
  for (guint i = 0; i < FRAME_W * FRAME_H; i++)
    frame[i] = (guint8) CLAMP (lround (128 + 20 * gaussian (rand)), 0, 255);
  g_assert_false (cnn_preprocessor_run (pre, &img, whole_frame, out));
  for (guint i = 0; i < FRAME_W * FRAME_H; i++)
    frame[i] = (guint8) g_rand_int_range (rand, 0, 256);
  g_assert_false (cnn_preprocessor_run (pre, &img, whole_frame, out));
  /* ... also when each frame pixel is many work cells. */
  g_assert_false (cnn_preprocessor_run (pre, &img, (CnnRect) { 7, 9, 28,
              28}, out));

  /* A lighting gradient alone, clean and noisy. */
  gradient = paper_frame (NULL, &lit, rand);
  img.planes[0].data = gradient;
  g_assert_false (cnn_preprocessor_run (pre, &img, whole_frame, out));
  g_free (gradient);
  gradient = paper_frame (NULL, &noisy, rand);
  img.planes[0].data = gradient;
  g_assert_false (cnn_preprocessor_run (pre, &img, whole_frame, out));
  g_free (gradient);
  gradient = paper_frame (NULL, &vignette, rand);
  img.planes[0].data = gradient;
  g_assert_false (cnn_preprocessor_run (pre, &img, whole_frame, out));
  if (ds) {
    g_free (gradient);
    gradient = paper_frame (mnist_digit (ds, 0), &faint, rand);
    img.planes[0].data = gradient;
    g_assert_false (cnn_preprocessor_run (pre, &img, whole_frame, out));
  }

  g_free (gradient);
  g_free (frame);
  g_rand_free (rand);
  cnn_preprocessor_free (pre);
}

/* ---- one digit, every layout --------------------------------------- */

typedef struct
{
  const gchar *name;
  guint8 *mem;
  CnnImage image;
} Layout;

static CnnPlane
plane (const guint8 * data, gint row_stride, guint pixel_stride,
    guint x_shift, guint y_shift)
{
  return (CnnPlane) {
  data, row_stride, pixel_stride, x_shift, y_shift};
}

/* Grey @g (w × h, even sizes) as limited-range luma with neutral chroma:
 * planar (I420) or interleaved chroma (NV12). */
static Layout
layout_yuv420 (const guint8 * g, guint w, guint h, gboolean nv12)
{
  const gsize y_size = (gsize) w * h;
  Layout l = { nv12 ? "NV12" : "I420", g_malloc (y_size + y_size / 2) };
  guint8 *c = l.mem + y_size;

  for (gsize i = 0; i < y_size; i++)
    l.mem[i] = (guint8) lround (16 + g[i] * 219.0 / 255.0);
  memset (c, 128, y_size / 2);
  if (nv12)
    l.image = (CnnImage) {
    w, h, CNN_COLOR_YUV, {
    plane (l.mem, w, 1, 0, 0), plane (c, w, 2, 1, 1), plane (c + 1, w, 2, 1,
              1)}, TRUE, BT601_KR, BT601_KB};
  else
    l.image = (CnnImage) {
    w, h, CNN_COLOR_YUV, {
    plane (l.mem, w, 1, 0, 0), plane (c, w / 2, 1, 1, 1),
          plane (c + y_size / 4, w / 2, 1, 1, 1)}, TRUE, BT601_KR, BT601_KB};
  return l;
}

static Layout
layout_rgbx (const guint8 * g, guint w, guint h)
{
  Layout l = { "RGBx", g_malloc ((gsize) 4 * w * h) };

  for (gsize i = 0; i < (gsize) w * h; i++) {
    memset (l.mem + 4 * i, g[i], 3);
    l.mem[4 * i + 3] = 0x5a;
  }
  l.image = (CnnImage) {
  w, h, CNN_COLOR_RGB, {
  plane (l.mem, 4 * w, 4, 0, 0), plane (l.mem + 1, 4 * w, 4, 0, 0),
        plane (l.mem + 2, 4 * w, 4, 0, 0)}, FALSE, BT601_KR, BT601_KB};
  return l;
}

static void
test_layouts_agree (void)
{
  const CnnDataset *ds = need_mnist ();
  GRand *rand = g_rand_new_with_seed (13);
  const Scene s = { 260, 130, 4, TRUE, 8.0, TRUE, FALSE, FALSE };
  const guint digits[] = { 5, 8 };

  if (!ds)
    return;
  for (guint d = 0; d < G_N_ELEMENTS (digits); d++) {
    CnnPreprocessor *pre = new_mnist ("mnist", DIGIT, DIGIT);
    const guint8 *want = mnist_digit (ds, digits[d]);
    guint8 *frame = paper_frame (want, &s, rand);
    CnnImage grey = grey_image (frame, FRAME_W, FRAME_H);
    Layout layouts[] = {
      layout_yuv420 (frame, FRAME_W, FRAME_H, FALSE),
      layout_yuv420 (frame, FRAME_W, FRAME_H, TRUE),
      layout_rgbx (frame, FRAME_W, FRAME_H),
    };
    gfloat ref[DIGIT_PIXELS], out[DIGIT_PIXELS];

    g_assert_true (cnn_preprocessor_run (pre, &grey, whole_frame, ref));
    g_assert_true (looks_like (ref, want));
    for (guint i = 0; i < G_N_ELEMENTS (layouts); i++) {
      gdouble diff = 0.0;

      g_assert_true (cnn_preprocessor_run (pre, &layouts[i].image,
              whole_frame, out));
      for (guint k = 0; k < DIGIT_PIXELS; k++)
        diff = MAX (diff, fabs (out[k] - ref[k]));
      g_test_message ("digit %u as %s: largest difference from GRAY8 %.4f",
          digits[d], layouts[i].name, diff);
      /* 8-bit limited-range luma rounds; the digit must not move. */
      if (diff > (layouts[i].image.color == CNN_COLOR_RGB ? 1e-5 : 0.02))
        g_error ("digit %u as %s differs from GRAY8 by %g", digits[d],
            layouts[i].name, diff);
      g_free (layouts[i].mem);
    }
    g_free (frame);
    cnn_preprocessor_free (pre);
  }
  g_rand_free (rand);
}

/* None of the @n scenes, drawn without a digit, is taken for one. */
static void
check_no_digit (CnnPreprocessor * pre, const Scene * scenes, guint n,
    GRand * rand, const gchar * what)
{
  for (guint i = 0; i < n; i++) {
    guint8 *frame = paper_frame (NULL, &scenes[i], rand);
    CnnImage img = grey_image (frame, FRAME_W, FRAME_H);
    gfloat out[DIGIT_PIXELS];

    if (cnn_preprocessor_run (pre, &img, whole_frame, out))
      g_error ("%s scene %u taken for a digit", what, i);
    g_free (frame);
  }
}

/* From one seed: none of the @n_blanks blank scenes (@what) is taken
 * for a digit, then @check on every test digit in each of the @n
 * scenes. */
static void
check_blanks_then_digits (guint32 seed, const Scene * blanks, guint n_blanks,
    const gchar * what, const Scene * scenes, guint n, SceneCheck check)
{
  const CnnDataset *ds = need_mnist ();
  CnnPreprocessor *pre = new_mnist ("mnist", DIGIT, DIGIT);
  GRand *rand = g_rand_new_with_seed (seed);

  check_no_digit (pre, blanks, n_blanks, rand, what);
  check_scenes_with (ds, scenes, n, rand, check);
  g_rand_free (rand);
  cnn_preprocessor_free (pre);
}

/* Things at the region's edge that are not digits: a dark strip along
 * it, a shadow across a corner, a small speck. */
static void
test_clutter_alone (void)
{
  CnnPreprocessor *pre = new_mnist ("mnist", DIGIT, DIGIT);
  GRand *rand = g_rand_new_with_seed (14);
  const Scene scenes[] = {
    {0, 0, 1, FALSE, 6.0, TRUE, FALSE, FALSE},
    {0, 0, 1, FALSE, 6.0, FALSE, TRUE, FALSE},
    {0, 0, 1, FALSE, 6.0, FALSE, FALSE, TRUE},
    {0, 0, 1, FALSE, 6.0, TRUE, TRUE, TRUE},
  };

  check_no_digit (pre, scenes, G_N_ELEMENTS (scenes), rand, "clutter");
  g_rand_free (rand);
  cnn_preprocessor_free (pre);
}

/* ---- ruled and squared paper --------------------------------------- */

/* A digit written across the rulings, the sheet square or turned, comes
 * back close to the clean digit: the lines are gone, the strokes that
 * cross them are not. */
static void
test_ruled_paper (void)
{
  const CnnDataset *ds = need_mnist ();
  GRand *rand = g_rand_new_with_seed (17);
  const Scene scenes[] = {
    {250, 150, 5, TRUE, 5.0,.paper = PAPER_RULED},
    {200, 100, 6, TRUE, 5.0,.paper = PAPER_RULED,.paper_angle = 9.0},
    {260, 160, 5, TRUE, 5.0,.paper = PAPER_SQUARED,.paper_angle = -6.0},
    {230, 120, 5, TRUE, 5.0,.paper = PAPER_SQUARED,.finger = TRUE},
  };

  check_scenes (ds, scenes, G_N_ELEMENTS (scenes), rand);
  g_rand_free (rand);
}

/* Blank ruled or squared paper, alone or with a finger at the edge, or
 * with a pen's straight line along the rulings, holds no digit. */
static void
test_blank_rulings (void)
{
  CnnPreprocessor *pre = new_mnist ("mnist", DIGIT, DIGIT);
  GRand *rand = g_rand_new_with_seed (18);
  const Scene scenes[] = {
    {0, 0, 1, FALSE, 5.0,.paper = PAPER_RULED},
    {0, 0, 1, FALSE, 5.0,.paper = PAPER_RULED,.paper_angle = 12.0},
    {0, 0, 1, FALSE, 5.0,.paper = PAPER_SQUARED,.paper_angle = -7.0},
    {0, 0, 1, FALSE, 5.0,.paper = PAPER_RULED,.finger = TRUE},
    {0, 0, 1, FALSE, 8.0,.paper = PAPER_SQUARED,.finger = TRUE,
        .vignette = 0.6},
  };

  for (guint i = 0; i < G_N_ELEMENTS (scenes); i++) {
    guint8 *frame = paper_frame (NULL, &scenes[i], rand);
    CnnImage img = grey_image (frame, FRAME_W, FRAME_H);
    gfloat out[DIGIT_PIXELS];

    if (cnn_preprocessor_run (pre, &img, whole_frame, out))
      g_error ("blank paper scene %u taken for a digit", i);
    /* A dash drawn level in the middle: a pen's line, no digit. */
    for (guint y = 238; y < 243; y++)
      memset (frame + y * FRAME_W + 260, 40, 120);
    if (cnn_preprocessor_run (pre, &img, whole_frame, out))
      g_error ("a level dash on paper scene %u taken for a digit", i);
    g_free (frame);
  }
  g_rand_free (rand);
  cnn_preprocessor_free (pre);
}

/* A shadow cast across the sheet, over most of the region's border:
 * blank, the paper holds no digit (the shadow's edge, soft or diagonal,
 * leaves no band of false ink); a digit in its shade comes back close to
 * the clean digit (the shaded border is still taken for paper, not for
 * the background of light ink).  A digit across the edge may lose some
 * of its strokes on the lit side: not checked here. */
static void
test_cast_shadow (void)
{
  const Scene blanks[] = {
    {0, 0, 1, FALSE, 5.0,.cast = 0.45},
    {0, 0, 1, FALSE, 8.0,.cast = 0.55,.paper = PAPER_RULED},
  };
  const Scene scenes[] = {
    {200, 60, 4, TRUE, 5.0,.cast = 0.45},      /* in the shade */
    {120, 40, 4, TRUE, 5.0,.cast = 0.5,.paper = PAPER_RULED},
  };

  check_blanks_then_digits (19, blanks, G_N_ELEMENTS (blanks),
      "blank paper with a shadow", scenes, G_N_ELEMENTS (scenes),
      check_scene);
}

/* A shadow's edge, hard (a ruler's, a phone's held close) or soft over
 * up to 100 px in dim light: the background fit and the shadow lift,
 * which work block by block, leave a band of ink along it on the shaded
 * side, as thin and as long as a stroke; but it is a step, not a valley
 * between paper on both sides, so it is no digit, alone or beside one.
 * (Without the valley test the dim paper's soft edges are taken for
 * one.) */
static void
test_shadow_edge (void)
{
  const Scene blanks[] = {
    {0, 0, 1, FALSE, 4.0,.cast = 0.5,.cast_edge = 1.5},
    {0, 0, 1, FALSE, 6.0,.cast = 0.4,.cast_edge = 3.0},
    {0, 0, 1, FALSE, 6.0,.cast = 0.5,.cast_edge = 1.5,.paper = PAPER_RULED},
    {0, 0, 1, FALSE, 10.0,.cast = 0.4,.cast_edge = 60.0,.dim = 0.45},
    {0, 0, 1, FALSE, 10.0,.cast = 0.5,.cast_edge = 100.0,.dim = 0.45},
    {0, 0, 1, FALSE, 10.0,.cast = 0.3,.cast_edge = 40.0,.dim = 0.5},
  };
  const Scene scenes[] = {
    {300, 250, 3, TRUE, 4.0,.cast = 0.5,.cast_edge = 1.5},
  };

  check_blanks_then_digits (23, blanks, G_N_ELEMENTS (blanks),
      "blank paper with a shadow's edge", scenes, G_N_ELEMENTS (scenes),
      check_scene);
}

/* Dim light but for a sunlit patch over a corner of the region: the
 * patch stands far above the local median and lifts the border's
 * level, yet the ink is the digit's dark strokes, not the patch (the
 * strokes' polarity decides). */
static void
test_sunlit_patch (void)
{
  const CnnDataset *ds = need_mnist ();
  GRand *rand = g_rand_new_with_seed (21);
  const Scene scenes[] = {
    {300, 40, 4, TRUE, 5.0,.lit = 1.0},
    {380, 80, 4, TRUE, 4.0,.lit = 1.3,.vignette = 0.3},
  };

  check_scenes (ds, scenes, G_N_ELEMENTS (scenes), rand);
  g_rand_free (rand);
}

/* A thumb coming in slanted at the bottom edge, far larger than the
 * digit beside it: the digit is taken, small and thin as it may be (a
 * 1 of 40 px against 80 × 300 of thumb). */
static void
test_thumb_beside_digit (void)
{
  const CnnDataset *ds = need_mnist ();
  GRand *rand = g_rand_new_with_seed (22);
  const Scene scenes[] = {
    {400, 220, 2, TRUE, 4.0,.thumb = TRUE},
    {380, 150, 3, TRUE, 4.0,.thumb = TRUE,.paper = PAPER_RULED},
  };

  check_scenes (ds, scenes, G_N_ELEMENTS (scenes), rand);
  g_rand_free (rand);
}

/* A faint line (a hard pencil's, a crease) runs from the region's edge
 * into the digit: joined to it, it would make the digit one thing with
 * the border, and a speck inside would be taken instead.  The digit
 * comes back close to the clean one, the line left out. */
static void
test_faint_line_to_the_edge (void)
{
  const CnnDataset *ds = need_mnist ();
  GRand *rand = g_rand_new_with_seed (23);
  const Scene scenes[] = {
    {250, 150, 5, TRUE, 4.0,.speck = TRUE,.faint_line = TRUE},
    {220, 110, 6, TRUE, 4.0,.speck = TRUE,.faint_line = TRUE,
        .paper = PAPER_RULED},
  };

  check_scenes (ds, scenes, G_N_ELEMENTS (scenes), rand);
  g_rand_free (rand);
}

/* A dim room (the paper at about 80 of 255) and a light pen: the
 * strokes stand some 24 grey levels below the paper, fewer than the
 * floor for good light asks (0.10 of full scale), yet far above the
 * noise; the digit is found, and is more like the clean digit than
 * like any other (check_scene_found()).  Dim blank paper, ruled or not,
 * still holds none. */
static void
test_dim_light (void)
{
  const Scene scenes[] = {
    {250, 150, 5, TRUE, 2.5,.absorb = 0.3,.dim = 0.45},
    {220, 110, 6, TRUE, 3.0,.absorb = 0.3,.dim = 0.42,.vignette = 0.3},
  };
  const Scene blanks[] = {
    {0, 0, 1, FALSE, 2.5,.dim = 0.45},
    {0, 0, 1, FALSE, 4.0,.dim = 0.42,.paper = PAPER_RULED},
  };

  check_blanks_then_digits (24, blanks, G_N_ELEMENTS (blanks),
      "dim blank paper", scenes, G_N_ELEMENTS (scenes), check_scene_found);
}

/* A light pen running dry: every other band of rows is inked at less
 * than half, below the threshold, so the strokes come apart into
 * slices there; the fainter bands still stand well above the noise.
 * The digit comes back whole, more like the clean one than like any
 * other (check_scene_found()), not a slice or nothing. */
static void
test_pen_skipping (void)
{
  const CnnDataset *ds = need_mnist ();
  GRand *rand = g_rand_new_with_seed (25);
  const Scene scenes[] = {
    {250, 150, 5, TRUE, 2.0,.absorb = 0.3,.skips = TRUE},
    {220, 110, 6, TRUE, 2.0,.absorb = 0.28,.skips = TRUE,.vignette = 0.2},
  };

  check_scenes_with (ds, scenes, G_N_ELEMENTS (scenes), rand,
      check_scene_found);
  g_rand_free (rand);
}

/* The region is what is looked at, clipped to the frame as "resize"
 * clips it. */
static void
test_region (void)
{
  const CnnDataset *ds = need_mnist ();
  GRand *rand = g_rand_new_with_seed (15);
  const Scene s = { 470, 340, 4, TRUE, 8.0, TRUE, FALSE, TRUE };
  CnnPreprocessor *pre;
  guint8 *frame;
  CnnImage img;
  gfloat out[DIGIT_PIXELS];

  if (!ds)
    return;
  pre = new_mnist ("mnist", DIGIT, DIGIT);
  frame = paper_frame (mnist_digit (ds, 18), &s, rand);
  img = grey_image (frame, FRAME_W, FRAME_H);

  /* Around the digit; the same running off the frame's corner. */
  g_assert_true (cnn_preprocessor_run (pre, &img,
          (CnnRect) { 420, 280, 200, 200 }, out));
  g_assert_true (looks_like (out, mnist_digit (ds, 18)));
  g_assert_true (cnn_preprocessor_run (pre, &img,
          (CnnRect) { 420, 280, 5000, 5000 }, out));
  g_assert_true (looks_like (out, mnist_digit (ds, 18)));
  /* Paper only, and paper with the strip along its left side. */
  g_assert_false (cnn_preprocessor_run (pre, &img,
          (CnnRect) { 100, 40, 200, 200 }, out));
  g_assert_false (cnn_preprocessor_run (pre, &img,
          (CnnRect) { 0, 40, 250, 200 }, out));
  /* Outside the frame. */
  g_assert_false (cnn_preprocessor_run (pre, &img,
          (CnnRect) { FRAME_W, 0, 10, 10 }, out));

  /* A larger digit nearer the centre, which the region's edge touches,
   * does not win over the one inside. */
  print_digit (frame, mnist_digit (ds, 3), &(Scene) {
      200, 26, 8});
  g_assert_true (cnn_preprocessor_run (pre, &img,
          (CnnRect) { 100, 60, 500, 400 }, out));
  g_assert_true (looks_like (out, mnist_digit (ds, 18)));
  /* Moved inside, it is the digit. */
  g_assert_true (cnn_preprocessor_run (pre, &img,
          (CnnRect) { 100, 40, 500, 420 }, out));
  g_assert_true (looks_like (out, mnist_digit (ds, 3)));
  g_free (frame);
  g_rand_free (rand);
  cnn_preprocessor_free (pre);
}

/* Of two digits, the one near the centre is taken even when the other,
 * nearer a corner, is larger. */
static void
test_prefers_the_centre (void)
{
  const CnnDataset *ds = need_mnist ();
  GRand *rand = g_rand_new_with_seed (17);
  const Scene s = { 264, 184, 4, TRUE, 6.0, FALSE, FALSE, FALSE };
  CnnPreprocessor *pre;
  guint8 *frame;
  CnnImage img;
  gfloat out[DIGIT_PIXELS];

  if (!ds)
    return;
  pre = new_mnist ("mnist", DIGIT, DIGIT);
  frame = paper_frame (mnist_digit (ds, 18), &s, rand);
  print_digit (frame, mnist_digit (ds, 4), &(Scene) {
      440, 290, 6});
  img = grey_image (frame, FRAME_W, FRAME_H);
  g_assert_true (cnn_preprocessor_run (pre, &img, whole_frame, out));
  g_assert_true (looks_like (out, mnist_digit (ds, 18)));
  g_assert_true (cnn_preprocessor_run (pre, &img,
          (CnnRect) { 400, 260, 240, 220 }, out));
  g_assert_true (looks_like (out, mnist_digit (ds, 4)));
  g_free (frame);
  g_rand_free (rand);
  cnn_preprocessor_free (pre);
}

/* Inputs other than 28×28 get the same framing, scaled: the digit's
 * longer side fills 20/28 of the input and its centre of mass lies
 * within half a pixel of the middle pixel; in 8×8 the digit's blurred
 * edge may be cut off at the canvas's edge, and the mass moves with it. */
static void
test_other_input_sizes (void)
{
  const CnnDataset *ds = need_mnist ();
  GRand *rand = g_rand_new_with_seed (16);
  const Scene s = { 200, 220, 4, FALSE, 6.0, TRUE, FALSE, FALSE };
  const struct
  {
    CnnShape shape;
    gdouble centre_tolerance;
  } shapes[] = {
    {{1, 16, 16}, 0.5}, {{1, 20, 32}, 0.5}, {{1, 40, 12}, 0.5},
    {{1, 8, 8}, 1.0},
  };
  guint8 *frame;
  CnnImage img;

  if (!ds)
    return;
  /* A 2: wider than most digits, so either side may be the longer. */
  frame = paper_frame (mnist_digit (ds, 1), &s, rand);
  img = grey_image (frame, FRAME_W, FRAME_H);
  for (guint i = 0; i < G_N_ELEMENTS (shapes); i++) {
    const guint w = shapes[i].shape.w, h = shapes[i].shape.h;
    const gdouble tolerance = shapes[i].centre_tolerance + 1e-6;
    CnnPreprocessor *pre = new_mnist ("mnist", h, w);
    gfloat *out = g_new (gfloat, (gsize) w * h);
    gdouble sum = 0, sum_x = 0, sum_y = 0, box_w, box_h, fill;
    guint x0 = w, y0 = h, x1 = 0, y1 = 0;

    g_assert_true (cnn_preprocessor_run (pre, &img, whole_frame, out));
    for (guint y = 0; y < h; y++) {
      for (guint x = 0; x < w; x++) {
        gfloat v = out[y * w + x];

        g_assert_cmpfloat (v, >=, 0.0f);
        g_assert_cmpfloat (v, <=, 1.0f);
        sum += v;
        sum_x += v * x;
        sum_y += v * y;
        if (v >= 0.3f) {
          x0 = MIN (x0, x);
          y0 = MIN (y0, y);
          x1 = MAX (x1, x);
          y1 = MAX (y1, y);
        }
      }
    }
    /* The box's sides over the 20/28 box of the input: one of them is
     * filled, to within the pixels an edge may gain or lose. */
    box_w = (x1 - x0 + 1) / (w * 20.0 / 28);
    box_h = (y1 - y0 + 1) / (h * 20.0 / 28);
    fill = MAX (box_w, box_h);
    g_test_message ("%ux%u: digit box %ux%u (fills %.2f), centre of mass "
        "(%.2f, %.2f)", h, w, x1 - x0 + 1, y1 - y0 + 1, fill, sum_x / sum,
        sum_y / sum);
    g_assert_cmpfloat (fill, <=, 1.0 + 1.5 / (MIN (w, h) * 20.0 / 28));
    g_assert_cmpfloat (fill, >=, 1.0 - 1.5 / (MIN (w, h) * 20.0 / 28));
    g_assert_cmpfloat (fabs (sum_x / sum - w / 2), <=, tolerance);
    g_assert_cmpfloat (fabs (sum_y / sum - h / 2), <=, tolerance);
    g_free (out);
    cnn_preprocessor_free (pre);
  }
  g_free (frame);
  g_rand_free (rand);
}

/* ---- MNIST in, MNIST out ------------------------------------------- */

/* The MNIST digits were made by this very procedure: given as they are,
 * white on black in a 28×28 frame, they come back nearly unchanged.  A
 * thousand of them, bold ones among them, which fill much of the frame.
 * A digit whose centre of mass MNIST left half a pixel off may come back
 * one pixel over: the worst is also taken at the best such shift. */
static void
test_mnist_is_a_fixed_point (void)
{
  const CnnDataset *ds = need_mnist ();
  const guint n = MIN (1000, ds ? ds->n : 0);
  CnnPreprocessor *pre;
  gdouble total = 0.0, total_200 = 0.0, worst = 0.0, worst_shifted = 0.0;
  guint worst_index = 0, n_shifted = 0;

  if (!ds)
    return;
  pre = new_mnist ("mnist", DIGIT, DIGIT);
  for (guint i = 0; i < n; i++) {
    const guint8 *want = mnist_digit (ds, i);
    CnnImage img = grey_image (want, DIGIT, DIGIT);
    gfloat out[DIGIT_PIXELS];
    gdouble mad, best = G_MAXDOUBLE;

    g_assert_true (cnn_preprocessor_run (pre, &img,
            (CnnRect) { 0, 0, DIGIT, DIGIT }, out));
    mad = mean_abs_diff_shifted (out, want, 0, 0);
    for (gint dy = -1; dy <= 1; dy++)
      for (gint dx = -1; dx <= 1; dx++)
        best = MIN (best, mean_abs_diff_shifted (out, want, dx, dy));
    total += mad;
    if (i < 200)
      total_200 = total;
    n_shifted += best < mad;
    worst_shifted = MAX (worst_shifted, best);
    if (mad > worst) {
      worst = mad;
      worst_index = i;
    }
  }
  g_test_message ("%u MNIST digits through \"mnist\": mean |diff| %.5f per "
      "pixel (%.5f over the first 200), worst %.5f (digit %u); %u came back "
      "a pixel over, and at the best shift the worst is %.5f", n, total / n,
      total_200 / MIN (n, 200), worst, worst_index, n_shifted,
      worst_shifted);
  g_assert_cmpfloat (total / n, <, 0.003);
  g_assert_cmpuint (n_shifted, <, n / 100);
  g_assert_cmpfloat (worst_shifted, <, 0.02);
  cnn_preprocessor_free (pre);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/mnist/digit-on-paper", test_digit_on_paper);
  g_test_add_func ("/mnist/no-ink", test_no_ink);
  g_test_add_func ("/mnist/clutter-alone", test_clutter_alone);
  g_test_add_func ("/mnist/ruled-paper", test_ruled_paper);
  g_test_add_func ("/mnist/blank-rulings", test_blank_rulings);
  g_test_add_func ("/mnist/cast-shadow", test_cast_shadow);
  g_test_add_func ("/mnist/shadow-edge", test_shadow_edge);
  g_test_add_func ("/mnist/sunlit-patch", test_sunlit_patch);
  g_test_add_func ("/mnist/thumb-beside-digit", test_thumb_beside_digit);
  g_test_add_func ("/mnist/faint-line-to-the-edge",
      test_faint_line_to_the_edge);
  g_test_add_func ("/mnist/dim-light", test_dim_light);
  g_test_add_func ("/mnist/pen-skipping", test_pen_skipping);
  g_test_add_func ("/mnist/region", test_region);
  g_test_add_func ("/mnist/prefers-the-centre", test_prefers_the_centre);
  g_test_add_func ("/mnist/input-sizes", test_other_input_sizes);
  g_test_add_func ("/mnist/layouts", test_layouts_agree);
  g_test_add_func ("/mnist/fixed-point", test_mnist_is_a_fixed_point);
  return g_test_run ();
}
