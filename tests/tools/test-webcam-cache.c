/* `--augment webcam`'s scenes (model-tools/webcam-cache.h): a cached
 * input is what rendering the scene and preprocessing it by hand gives;
 * a digit the preprocessing finds no ink in falls back to the clean
 * digit; the result does not depend on the number of threads; the
 * choice between clean and webcam inputs follows its probability. */
#include "desk-scene.h"
#include "rng.h"
#include "webcam-cache.h"

#include <math.h>
#include <string.h>

#define SIDE 28
#define PIXELS (SIDE * SIDE)
#define N_DIGITS 12
#define PER_DIGIT 3
#define SEED 77

/* Digits: a ring (a "0") and a bar (a "1") in turn; digit 5 is empty. */
static CnnDataset *
make_digits (void)
{
  CnnDataset *d = g_new0 (CnnDataset, 1);

  d->n = N_DIGITS;
  d->shape = (CnnShape) {
  1, SIDE, SIDE};
  d->pixels = g_malloc0 (N_DIGITS * PIXELS);
  d->labels = g_new0 (guint, N_DIGITS);
  for (guint i = 0; i < N_DIGITS; i++) {
    guint8 *p = d->pixels + i * PIXELS;

    d->labels[i] = i % 2;
    for (guint y = 0; y < SIDE && i != 5; y++)
      for (guint x = 0; x < SIDE; x++) {
        const gdouble r = hypot (x - 13.5, (y - 13.5) * 0.8);

        if (i % 2 ? x >= 13 && x <= 15 && y >= 4 && y <= 23 : r >= 6.5
            && r <= 9.0)
          p[y * SIDE + x] = 255;
      }
  }
  return d;
}

static void
free_digits (CnnDataset * d)
{
  g_free (d->pixels);
  g_free (d->labels);
  g_free (d);
}

/* Scene j rendered and preprocessed here, as cnnclassify would: into
 * @out (0..1); FALSE when no ink was found. */
static gboolean
by_hand (const CnnDataset * d, guint j, gboolean blank, gfloat * out)
{
  const CnnShape shape = { 1, SIDE, SIDE };
  g_autoptr (GError) error = NULL;
  CnnPreprocessor *pre = cnn_preprocessor_new ("mnist", shape, &error);
  DeskWork *work = desk_work_new (640, 480);
  g_autofree guint8 *frame = g_malloc (640 * 480);
  CnnImage image = { 640, 480, CNN_COLOR_GREY };
  const CnnRect roi = { 80, 0, 480, 480 };
  DeskScene s;
  gboolean inked;

  g_assert_no_error (error);
  image.planes[0].data = frame;
  image.planes[0].row_stride = 640;
  image.planes[0].pixel_stride = 1;
  desk_scene_draw (&s, 640, 480, SEED, j, blank);
  g_assert_true (desk_scene_render (&s, blank ? NULL : d->pixels
          + (j / PER_DIGIT) * PIXELS, frame, 640, 480, 640, work, &error));
  inked = cnn_preprocessor_run (pre, &image, roi, out);
  cnn_preprocessor_free (pre);
  desk_work_free (work);
  return inked;
}

static void
test_cache_matches_the_pipeline (void)
{
  CnnDataset *d = make_digits ();
  g_autoptr (GError) error = NULL;
  WebcamCache *c = webcam_cache_new (d, N_DIGITS, PER_DIGIT, SEED, 2,
      &error);
  const WebcamStats *st;
  guint no_ink = 0, blank_ink = 0;
  gfloat want[PIXELS], got[PIXELS];

  g_assert_no_error (error);
  st = webcam_cache_stats (c);
  g_assert_cmpuint (st->digits, ==, N_DIGITS);
  g_assert_cmpuint (st->per_digit, ==, PER_DIGIT);
  g_assert_cmpuint (st->blanks, ==, (N_DIGITS * PER_DIGIT + 8) / 9);
  for (guint j = 0; j < N_DIGITS * PER_DIGIT; j++) {
    if (!by_hand (d, j, FALSE, want)) {
      /* The clean digit stands in. */
      for (guint i = 0; i < PIXELS; i++)
        want[i] = d->pixels[(j / PER_DIGIT) * PIXELS + i] / 255.0f;
      no_ink++;
    }
    webcam_cache_get (c, j / PER_DIGIT, j % PER_DIGIT, got);
    for (guint i = 0; i < PIXELS; i++)
      g_assert_cmpfloat (fabsf (got[i] - want[i]), <=, 0.5f / 255.0f + 1e-6f);
  }
  /* The empty digit has no ink in any scene (clutter aside). */
  g_assert_cmpuint (no_ink, >=, 1);
  g_assert_cmpuint (no_ink, ==, st->no_ink);
  for (guint b = 0; b < st->blanks; b++)
    if (by_hand (d, b, TRUE, want)) {
      webcam_cache_get_negative (c, blank_ink++, got);
      for (guint i = 0; i < PIXELS; i++)
        g_assert_cmpfloat (fabsf (got[i] - want[i]), <=, 0.5f / 255.0f
            + 1e-6f);
    }
  g_assert_cmpuint (blank_ink, ==, st->blank_ink);
  g_assert_cmpuint (webcam_cache_n_negatives (c), ==, blank_ink);
  webcam_cache_free (c);
  free_digits (d);
}

/* Scenes in which the preprocessing framed something other than the
 * digit are marked: every inked scene of an empty digit (what was framed
 * can only be clutter or paper), never a scene of a real digit with no
 * clutter. */
static void
test_strays_marked (void)
{
  const guint per_digit = 60;
  CnnDataset *d = make_digits ();
  g_autoptr (GError) error = NULL;
  WebcamCache *c;
  gfloat got[PIXELS];
  guint empty_inked = 0, clean_scenes = 0, strays = 0;

  /* Digit 4 is a ring, digit 5 empty. */
  c = webcam_cache_new (d, 6, per_digit, SEED, 2, &error);
  g_assert_no_error (error);
  for (guint k = 0; k < per_digit; k++) {
    DeskScene s;
    gboolean digit;
    gfloat ink = 0.0f;

    digit = webcam_cache_get (c, 5, k, got);
    for (guint i = 0; i < PIXELS; i++)
      ink += got[i];
    if (ink > 0.0f) {
      empty_inked++;
      g_assert_false (digit);
    } else {
      g_assert_true (digit);
    }
    desk_scene_draw (&s, 640, 480, SEED, 4 * per_digit + k, FALSE);
    if (s.clutter == DESK_CLUTTER_NONE) {
      clean_scenes++;
      g_assert_true (webcam_cache_get (c, 4, k, got));
    }
  }
  for (guint i = 0; i < 6; i++)
    for (guint k = 0; k < per_digit; k++)
      strays += !webcam_cache_get (c, i, k, got);
  g_assert_cmpuint (empty_inked, >=, 1);
  g_assert_cmpuint (clean_scenes, >=, 5);
  g_assert_cmpuint (strays, ==, webcam_cache_stats (c)->strays);
  webcam_cache_free (c);
  free_digits (d);
}

/* The scenes are held to the memory limit: refused with an error that
 * says what needed the memory, nothing rendered and nothing aborted;
 * under a limit they fit, made. */
static void
test_memory_limit (void)
{
  CnnDataset *d = make_digits ();
  g_autoptr (GError) error = NULL;
  WebcamCache *c;

  /* 6 digits × 64 scenes of 784 bytes and their blanks: about 340 KB. */
  cnn_set_memory_limit (256 * 1024);
  c = webcam_cache_new (d, 6, 64, SEED, 1, &error);
  g_assert_null (c);
  g_assert_error (error, CNN_ERROR, CNN_ERROR_NOMEM);
  g_assert_nonnull (strstr (error->message, "--augment webcam"));
  g_clear_error (&error);
  cnn_set_memory_limit (1024 * 1024);
  c = webcam_cache_new (d, 6, 64, SEED, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (webcam_cache_stats (c)->blanks, ==, (6 * 64 + 8) / 9);
  cnn_set_memory_limit (0);
  webcam_cache_free (c);
  free_digits (d);
}

static void
test_threads_change_nothing (void)
{
  CnnDataset *d = make_digits ();
  WebcamCache *one = webcam_cache_new (d, N_DIGITS, PER_DIGIT, SEED, 1,
      NULL);
  WebcamCache *three = webcam_cache_new (d, N_DIGITS, PER_DIGIT, SEED, 3,
      NULL);
  WebcamCache *other = webcam_cache_new (d, N_DIGITS, PER_DIGIT, SEED + 1, 1,
      NULL);
  gfloat a[PIXELS], b[PIXELS], o[PIXELS];
  guint same_as_other = 0;

  g_assert_cmpuint (webcam_cache_stats (one)->no_ink, ==,
      webcam_cache_stats (three)->no_ink);
  g_assert_cmpuint (webcam_cache_stats (one)->blank_ink, ==,
      webcam_cache_stats (three)->blank_ink);
  g_assert_cmpuint (webcam_cache_stats (one)->strays, ==,
      webcam_cache_stats (three)->strays);
  for (guint i = 0; i < N_DIGITS; i++)
    for (guint k = 0; k < PER_DIGIT; k++) {
      const gboolean digit = webcam_cache_get (one, i, k, a);

      /* The stray marks too. */
      g_assert_cmpint (webcam_cache_get (three, i, k, b), ==, digit);
      webcam_cache_get (other, i, k, o);
      g_assert_cmpmem (a, sizeof a, b, sizeof b);
      same_as_other += memcmp (a, o, sizeof a) == 0;
    }
  /* Another seed, other scenes (the empty digit's fallbacks aside). */
  g_assert_cmpuint (same_as_other, <=, PER_DIGIT);
  webcam_cache_free (one);
  webcam_cache_free (three);
  webcam_cache_free (other);
  free_digits (d);
}

static void
test_pick (void)
{
  const guint n = 20000;
  guint webcam = 0, per_scene[4] = { 0 };

  for (guint i = 0; i < n; i++) {
    const guint64 key = tool_rng_key (1, TOOL_RNG_WEBCAM_PICK, 0, i);
    const gint scene = webcam_pick (key, 0.3, 4);

    g_assert_cmpint (scene, ==, webcam_pick (key, 0.3, 4));
    g_assert_cmpint (webcam_pick (key, 0.0, 4), ==, -1);
    g_assert_cmpint (webcam_pick (key, 1.0, 4), >=, 0);
    g_assert_cmpint (scene, <, 4);
    if (scene >= 0) {
      webcam++;
      per_scene[scene]++;
    }
  }
  /* 0.3 ± 4 standard deviations; the scenes equally often. */
  g_assert_cmpfloat (fabs ((gdouble) webcam / n - 0.3), <, 0.013);
  for (guint k = 0; k < 4; k++)
    g_assert_cmpfloat (fabs ((gdouble) per_scene[k] / webcam - 0.25), <,
        0.03);
}

static void
test_bad_shape (void)
{
  CnnDataset *d = make_digits ();
  g_autoptr (GError) error = NULL;

  d->shape = (CnnShape) {
  1, 14, 56};
  g_assert_null (webcam_cache_new (d, 1, 1, SEED, 1, &error));
  g_assert_error (error, CNN_ERROR, CNN_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "1x14x56"));
  free_digits (d);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/webcam/cache-matches-the-pipeline",
      test_cache_matches_the_pipeline);
  g_test_add_func ("/webcam/threads-change-nothing",
      test_threads_change_nothing);
  g_test_add_func ("/webcam/strays-marked", test_strays_marked);
  g_test_add_func ("/webcam/memory-limit", test_memory_limit);
  g_test_add_func ("/webcam/pick", test_pick);
  g_test_add_func ("/webcam/bad-shape", test_bad_shape);
  return g_test_run ();
}
