/* Rulings (cnn-rulings.c) on a synthetic ink grid: lines at a known
 * slope and spacing are found and erased, a stroke crossing them stays
 * whole, and wide or short things that are no ruling (a table edge, a
 * tall "1") are left alone.  Expectations come from the drawing. */
#include "cnn-rulings.h"

#include <math.h>
#include <string.h>

#define SIDE 224
#define CELLS (SIDE * SIDE)
#define SPACING 14
#define SLOPE 0.1
#define ZERO 0.05f
#define THR 0.2f

/* Rows of ruled paper: one cell thick, every SPACING cells, SLOPE cells
 * down per cell along; ink 0.6 on a background of 0. */
static gboolean
on_ruling (guint x, guint y, gint * line)
{
  const gdouble v = y - SLOPE * (x + 0.5 - SIDE / 2.0);
  const glong n = lround (v / SPACING);

  *line = (gint) n;
  return fabs (v - n * SPACING) < 0.5;
}

static gfloat *
ruled_grid (void)
{
  gfloat *ink = g_new0 (gfloat, CELLS);

  for (guint y = 0; y < SIDE; y++)
    for (guint x = 0; x < SIDE; x++) {
      gint line;

      if (on_ruling (x, y, &line))
        ink[y * SIDE + x] = 0.6f;
    }
  return ink;
}

/* A stroke: columns x0 .. x1, rows y0 .. y1, full ink. */
static void
draw_block (gfloat * ink, guint x0, guint x1, guint y0, guint y1)
{
  for (guint y = y0; y <= y1; y++)
    for (guint x = x0; x <= x1; x++)
      ink[y * SIDE + x] = 1.0f;
}

static void
test_ruled_with_stroke (void)
{
  CnnRulings *r = cnn_rulings_new (SIDE, SIDE);
  gfloat *ink = ruled_grid ();
  const CnnLineFamily *rows;
  guint left = 0, whole_lines = 0;

  /* Whole lines: those whose every cell lies inside the grid, away
   * from its edges. */
  for (gint n = -20; n <= 20; n++) {
    const gdouble y_left = n * SPACING + SLOPE * (0.5 - SIDE / 2.0);
    const gdouble y_right = n * SPACING + SLOPE * (SIDE - 0.5 - SIDE / 2.0);

    whole_lines += MIN (y_left, y_right) >= 3 && MAX (y_left, y_right)
        <= SIDE - 4;
  }
  draw_block (ink, 100, 103, 60, 160);
  g_assert_cmpuint (cnn_rulings_erase (r, ink, ZERO, THR), >=, whole_lines);
  rows = cnn_rulings_family (r, FALSE);
  g_assert_cmpfloat (fabs (rows->slope - SLOPE), <=, 0.011);
  g_assert_cmpuint (cnn_rulings_family (r, TRUE)->n_lines, ==, 0);

  /* Rows 12 .. 211 hold only lines wholly inside the grid. */
  for (guint y = 12; y < SIDE - 12; y++)
    for (guint x = 0; x < SIDE; x++) {
      gint line;

      /* Ruling cells well away from the stroke are gone ... */
      if (on_ruling (x, y, &line) && (x < 94 || x > 109)
          && ink[y * SIDE + x] > 0.0f) {
        if (left++ < 5)
          g_test_message ("ruling %d: cell (%u, %u) left", line, x, y);
      }
    }
  g_assert_cmpuint (left, ==, 0);
  /* ... and the stroke is whole. */
  for (guint y = 60; y <= 160; y++)
    for (guint x = 100; x <= 103; x++)
      g_assert_cmpfloat (ink[y * SIDE + x], ==, 1.0f);
  g_free (ink);
  cnn_rulings_free (r);
}

/* A stroke written along a ruling (a digit's base on the line), inked
 * more than the line, stays where it lies on it. */
static void
test_stroke_along_ruling (void)
{
  CnnRulings *r = cnn_rulings_new (SIDE, SIDE);
  gfloat *ink = ruled_grid ();
  guint kept = 0, along = 0;

  for (guint x = 40; x < 90; x++)
    for (guint y = 0; y < SIDE; y++) {
      gint line;

      if (on_ruling (x, y, &line) && line == 8) {
        ink[y * SIDE + x] = 1.0f;
        along++;
      }
    }
  g_assert_cmpuint (cnn_rulings_erase (r, ink, ZERO, THR), >=, 10);
  for (guint x = 40; x < 90; x++)
    for (guint y = 0; y < SIDE; y++) {
      gint line;

      if (on_ruling (x, y, &line) && line == 8)
        kept += ink[y * SIDE + x] == 1.0f;
    }
  g_assert_cmpuint (kept, ==, along);
  g_free (ink);
  cnn_rulings_free (r);
}

/* A faint stroke (a light ballpoint) below the threshold, across the
 * rulings: no crossing is seen, but where it lies on a line it keeps
 * its own ink, the line's taken off, and is not cut at every ruling.
 * (Shorter than a ruling's least length: a faint straight stroke the
 * grid's height would be a ruling.) */
static void
test_faint_stroke_across (void)
{
  CnnRulings *r = cnn_rulings_new (SIDE, SIDE);
  gfloat *ink = ruled_grid ();
  const gfloat faint = 0.15f;
  guint on_lines = 0;

  for (guint y = 80; y <= 140; y++)
    for (guint x = 150; x <= 151; x++)
      ink[y * SIDE + x] += faint;
  g_assert_cmpuint (cnn_rulings_erase (r, ink, ZERO, THR), >=, 10);
  for (guint y = 80; y <= 140; y++)
    for (guint x = 150; x <= 151; x++) {
      gint line;

      if (!on_ruling (x, y, &line))
        continue;
      on_lines++;
      g_assert_cmpfloat_with_epsilon (ink[y * SIDE + x], faint, 0.02);
    }
  g_assert_cmpuint (on_lines, >=, 6);
  g_free (ink);
  cnn_rulings_free (r);
}

/* A table edge (30 cells of ink along the bottom) and a tall stroke
 * (half the grid, a big "1") are no rulings. */
static void
test_not_rulings (void)
{
  CnnRulings *r = cnn_rulings_new (SIDE, SIDE);
  gfloat *ink = g_new0 (gfloat, CELLS), *before = g_new (gfloat, CELLS);

  draw_block (ink, 0, SIDE - 1, SIDE - 30, SIDE - 1);
  draw_block (ink, 110, 113, 40, 40 + SIDE / 2);
  memcpy (before, ink, sizeof (gfloat) * CELLS);
  g_assert_cmpuint (cnn_rulings_erase (r, ink, ZERO, THR), ==, 0);
  g_assert_cmpmem (ink, sizeof (gfloat) * CELLS, before,
      sizeof (gfloat) * CELLS);
  g_free (before);
  g_free (ink);
  cnn_rulings_free (r);
}

/* Squared paper: both families, the second at right angles. */
static void
test_squared (void)
{
  CnnRulings *r = cnn_rulings_new (SIDE, SIDE);
  gfloat *ink = g_new0 (gfloat, CELLS);
  guint left = 0;

  for (guint y = 0; y < SIDE; y++)
    for (guint x = 0; x < SIDE; x++)
      if (y % SPACING == 7 || x % SPACING == 5)
        ink[y * SIDE + x] = 0.5f;
  g_assert_cmpuint (cnn_rulings_erase (r, ink, ZERO, THR), >=,
      2 * (SIDE / SPACING) - 2);
  g_assert_cmpfloat (fabs (cnn_rulings_family (r, FALSE)->slope), <=, 0.005);
  g_assert_cmpfloat (fabs (cnn_rulings_family (r, TRUE)->slope), <=, 0.005);
  for (guint y = 4; y < SIDE - 4; y++)
    for (guint x = 4; x < SIDE - 4; x++)
      if (ink[y * SIDE + x] > 0.0f && left++ < 8)
        g_test_message ("cell (%u, %u) left", x, y);
  g_assert_cmpuint (left, ==, 0);
  g_free (ink);
  cnn_rulings_free (r);
}

/* Ruled paper seen in perspective: the lines run to a vanishing point
 * far to the left, their slopes from -0.18 at the top to 0.18 at the
 * bottom, more than one family's slope holds.  Each is one cell thick,
 * ink 0.6, SPACING apart along the middle column. */
#define VANISHING_X -500.0
#define VANISHING_Y (SIDE / 2.0)

static gboolean
on_converging_ruling (guint x, guint y)
{
  const gdouble run = SIDE / 2.0 - VANISHING_X;
  const gdouble t = (x + 0.5 - VANISHING_X) / run;     /* 1 at the middle */
  /* The line through (x, y) meets the middle column at c. */
  const gdouble c = VANISHING_Y + (y + 0.5 - VANISHING_Y) / t;
  const gdouble n = round ((c - 7.0) / SPACING);

  /* Distance across, in cells at (x, y): the offset at the middle
   * column scaled back to this column. */
  return fabs (c - 7.0 - n * SPACING) * t < 0.5;
}

static void
test_converging (void)
{
  CnnRulings *r = cnn_rulings_new (SIDE, SIDE);
  gfloat *ink = g_new0 (gfloat, CELLS);
  guint cells = 0, left = 0;

  for (guint y = 0; y < SIDE; y++)
    for (guint x = 0; x < SIDE; x++)
      if (on_converging_ruling (x, y))
        ink[y * SIDE + x] = 0.6f;
  g_assert_cmpuint (cnn_rulings_erase (r, ink, ZERO, THR), >=, 10);
  /* Away from the top and bottom, where a line leaves the grid part
   * way (too short to be a ruling), every line cell is gone. */
  for (guint y = 40; y < SIDE - 40; y++)
    for (guint x = 0; x < SIDE; x++) {
      if (!on_converging_ruling (x, y))
        continue;
      cells++;
      if (ink[y * SIDE + x] > 0.0f && left++ < 5)
        g_test_message ("cell (%u, %u) left", x, y);
    }
  g_test_message ("%u of %u line cells left", left, cells);
  g_assert_cmpuint (cells, >, 1000);
  g_assert_cmpuint (left, ==, 0);
  g_free (ink);
  cnn_rulings_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rulings/ruled-with-stroke", test_ruled_with_stroke);
  g_test_add_func ("/rulings/stroke-along-ruling",
      test_stroke_along_ruling);
  g_test_add_func ("/rulings/faint-stroke-across",
      test_faint_stroke_across);
  g_test_add_func ("/rulings/not-rulings", test_not_rulings);
  g_test_add_func ("/rulings/squared", test_squared);
  g_test_add_func ("/rulings/converging", test_converging);
  return g_test_run ();
}
