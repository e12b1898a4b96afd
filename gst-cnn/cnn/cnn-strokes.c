/* Stroke width normalisation (docs/design.md, "The mnist mode").
 *
 * The network learnt MNIST's strokes: a 20-pixel digit drawn about 2.6
 * pixels wide.  A ballpoint on a large sheet comes out of framing as a
 * faint line a fraction of a pixel wide, a marker on a small digit as
 * strokes of 6 pixels that fill the loops.  Done on the framed digit,
 * where a pass costs a few hundred operations: a hairline's level is
 * restored (its area average is its coverage of a pixel), then one soft
 * dilation widens it by about 1.4 pixels with MNIST's soft edges; a
 * thick stroke loses a pixel on each side per erosion.
 */
#include "cnn-strokes.h"

#include <string.h>

#define DILATE_SIDE 0.7f        /* of a 4-neighbour's ink */
#define DILATE_CORNER 0.45f     /* of a diagonal neighbour's */
#define MIN_COVERAGE 0.3        /* a hairline's level is raised at most
                                 * 1 / this times */
#define WIDTH_PER_EROSION 2.0   /* pixels a cross-shaped erosion takes */

static inline gfloat
at (const gfloat * d, guint w, guint h, gint x, gint y)
{
  return x < 0 || y < 0 || x >= (gint) w || y >= (gint) h ? 0.0f
      : d[(gsize) y * w + x];
}

/* Pixel (x, y)'s four neighbours beside it, or the four at its
 * corners, → @v. */
static void
neighbours (const gfloat * d, guint w, guint h, gint x, gint y,
    gboolean corners, gfloat v[4])
{
  static const gint sides[4][2] = { {-1, 0}, {1, 0}, {0, -1}, {0, 1} };
  static const gint diagonals[4][2] = { {-1, -1}, {1, -1}, {-1, 1}, {1, 1} };
  const gint (*offsets)[2] = corners ? diagonals : sides;

  for (guint i = 0; i < 4; i++)
    v[i] = at (d, w, h, x + offsets[i][0], y + offsets[i][1]);
}

static inline gfloat
most_of (const gfloat v[4])
{
  return MAX (MAX (v[0], v[1]), MAX (v[2], v[3]));
}

static inline gfloat
least_of (const gfloat v[4])
{
  return MIN (MIN (v[0], v[1]), MIN (v[2], v[3]));
}

/* digit → scratch → digit: each pixel the most of itself and its
 * neighbours' ink, weighted by nearness. */
static void
soft_dilate (gfloat * digit, guint w, guint h, gfloat * scratch)
{
  for (gint y = 0; y < (gint) h; y++) {
    for (gint x = 0; x < (gint) w; x++) {
      gfloat side[4], corner[4];

      neighbours (digit, w, h, x, y, FALSE, side);
      neighbours (digit, w, h, x, y, TRUE, corner);
      scratch[(gsize) y * w + x] = MAX (digit[(gsize) y * w + x],
          MAX (DILATE_SIDE * most_of (side),
              DILATE_CORNER * most_of (corner)));
    }
  }
  memcpy (digit, scratch, sizeof (gfloat) * w * h);
}

/* digit → scratch → digit: each pixel the least of itself and its four
 * neighbours (the frame's outside counts as background). */
static void
erode (gfloat * digit, guint w, guint h, gfloat * scratch)
{
  for (gint y = 0; y < (gint) h; y++) {
    for (gint x = 0; x < (gint) w; x++) {
      gfloat side[4];

      neighbours (digit, w, h, x, y, FALSE, side);
      scratch[(gsize) y * w + x] = MIN (digit[(gsize) y * w + x],
          least_of (side));
    }
  }
  memcpy (digit, scratch, sizeof (gfloat) * w * h);
}

gint
cnn_strokes_normalise (gfloat * digit, guint w, guint h, gdouble width,
    gfloat * scratch)
{
  const gsize n = (gsize) w * h;

  if (width < CNN_STROKE_MIN_WIDTH) {
    const gfloat gain = 1.0 / MAX (MIN (width, 1.0), MIN_COVERAGE);

    for (gsize i = 0; i < n; i++)
      digit[i] = MIN (digit[i] * gain, 1.0f);
    soft_dilate (digit, w, h, scratch);
    return 1;
  }
  if (width > CNN_STROKE_MAX_WIDTH) {
    /* Down to MNIST's widest, not to its median: each erosion also
     * shortens the strokes' ends. */
    gint passes = 1 + (gint) ((width - CNN_STROKE_MAX_WIDTH)
        / WIDTH_PER_EROSION);

    for (gint k = 0; k < passes; k++)
      erode (digit, w, h, scratch);
    return -passes;
  }
  return 0;
}
