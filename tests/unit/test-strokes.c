/* Stroke width normalisation of a framed digit (cnn-strokes.c): a
 * hairline comes out at full ink and MNIST's width, a marker's stroke
 * thinner by whole pixels, a stroke of MNIST's width untouched.  The
 * expectations are geometry: the ink across a straight line. */
#include "cnn-strokes.h"

#include <string.h>

#define SIDE 28
#define PIXELS (SIDE * SIDE)

/* A level bar across columns 4 .. 23, rows [top, top + rows), of @level. */
static void
draw_bar (gfloat * digit, guint top, guint rows, gfloat level)
{
  memset (digit, 0, sizeof (gfloat) * PIXELS);
  for (guint y = top; y < top + rows; y++)
    for (guint x = 4; x < 24; x++)
      digit[y * SIDE + x] = level;
}

/* The ink down column 14: the bar's width in pixels at full ink. */
static gdouble
ink_across (const gfloat * digit)
{
  gdouble sum = 0.0;

  for (guint y = 0; y < SIDE; y++)
    sum += digit[y * SIDE + 14];
  return sum;
}

static gfloat
peak (const gfloat * digit)
{
  gfloat most = 0.0f;

  for (guint i = 0; i < PIXELS; i++)
    most = MAX (most, digit[i]);
  return most;
}

/* A ballpoint line a third of a pixel wide, as area averaging gives it:
 * one row at a third of full ink. */
static void
test_hairline (void)
{
  gfloat digit[PIXELS], scratch[PIXELS];

  draw_bar (digit, 14, 1, 1.0f / 3);
  g_assert_cmpint (cnn_strokes_normalise (digit, SIDE, SIDE, 1.0 / 3,
          scratch), ==, 1);
  g_assert_cmpfloat (peak (digit), >=, 0.99f);
  g_assert_cmpfloat (ink_across (digit), >=, 1.7);
  g_assert_cmpfloat (ink_across (digit), <=, 3.0);
  /* Still a bar: nothing appears far from it. */
  g_assert_cmpfloat (digit[10 * SIDE + 14], ==, 0.0f);
}

/* A marker's stroke 9 pixels wide loses two pixels a side; one of 6.5,
 * one a side. */
static void
test_marker (void)
{
  gfloat digit[PIXELS], scratch[PIXELS];

  draw_bar (digit, 10, 9, 1.0f);
  g_assert_cmpint (cnn_strokes_normalise (digit, SIDE, SIDE, 9.0, scratch),
      ==, -2);
  g_assert_cmpfloat (ink_across (digit), ==, 5.0);
  draw_bar (digit, 10, 7, 1.0f);
  g_assert_cmpint (cnn_strokes_normalise (digit, SIDE, SIDE, 6.5, scratch),
      ==, -1);
  g_assert_cmpfloat (ink_across (digit), ==, 5.0);
}

/* Widths MNIST has are left as they are, to the bit. */
static void
test_mnist_widths_untouched (void)
{
  const gdouble widths[] = { CNN_STROKE_MIN_WIDTH, 1.7, 2.6, 4.5,
    CNN_STROKE_MAX_WIDTH
  };
  gfloat digit[PIXELS], before[PIXELS], scratch[PIXELS];

  for (guint i = 0; i < G_N_ELEMENTS (widths); i++) {
    draw_bar (digit, 12, 3, 0.8f);
    memcpy (before, digit, sizeof digit);
    g_assert_cmpint (cnn_strokes_normalise (digit, SIDE, SIDE, widths[i],
            scratch), ==, 0);
    g_assert_cmpmem (digit, sizeof digit, before, sizeof before);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/strokes/hairline", test_hairline);
  g_test_add_func ("/strokes/marker", test_marker);
  g_test_add_func ("/strokes/mnist-widths-untouched",
      test_mnist_widths_untouched);
  return g_test_run ();
}
