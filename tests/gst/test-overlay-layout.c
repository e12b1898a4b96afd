/* cnnoverlay's tag layout (gstcnnoverlay-layout.c) in number mode: the
 * tags of a number's digits are drawn only when no two come closer than
 * the gap.  Checked against a reference that paints every tag, with the
 * gap added on its right and below, into a grid of the frame's pixels
 * and looks for a pixel painted twice; and on the geometry of
 * docs/number-overlay.png as it was drawn before (a "1" beside a "0",
 * whose tags overlapped). */
#include "gstcnnoverlay-layout.h"

#define FRAME_W 640
#define FRAME_H 480
#define MAX_DIGITS 12
#define GAP 5                   /* cnnoverlay's at 640×480: line + 2 */

/* Reference: whether any pixel lies in two of the @n tags, each with
 * @gap pixels more on its right and below (so that two tags closer than
 * @gap across and down share one).  The grid has room for the gap past
 * the frame's edges. */
static gboolean
reference_too_close (const GstCnnOverlayRect * tags, guint n, gint gap)
{
  const gint w = FRAME_W + gap, h = FRAME_H + gap;
  guint8 *painted = g_new0 (guint8, (gsize) w * h);
  gboolean twice = FALSE;

  for (guint i = 0; i < n; i++)
    for (gint y = MAX (tags[i].y, 0);
        y < MIN (tags[i].y + tags[i].height + gap, h); y++)
      for (gint x = MAX (tags[i].x, 0);
          x < MIN (tags[i].x + tags[i].width + gap, w); x++)
        twice |= painted[y * w + x]++ > 0;
  g_free (painted);
  return twice;
}

static void
place_tags (const GstCnnOverlayRect * boxes, guint n, gint width,
    gint height, GstCnnOverlayRect * tags)
{
  for (guint i = 0; i < n; i++)
    tags[i] = gst_cnn_overlay_place_tag (&boxes[i], width, height, FRAME_W);
}

/* The boxes read in docs/number-overlay.png ("7210", 640×480) and the
 * size of a one-digit tag there (font 26.4 px, padding 8 × 2 px): the
 * tags of the 1 and the 0 overlapped.  They are all hidden now. */
static void
test_picture (void)
{
  static const GstCnnOverlayRect boxes[] = {
    {313, 157, 64, 89}, {397, 153, 77, 80}, {480, 157, 15, 78},
    {496, 158, 58, 78},
  };
  GstCnnOverlayRect tags[G_N_ELEMENTS (boxes)];

  place_tags (boxes, G_N_ELEMENTS (boxes), 32, 35, tags);
  g_assert_true (reference_too_close (tags, G_N_ELEMENTS (boxes), 0));
  g_assert_false (gst_cnn_overlay_number_tags_fit (tags,
          G_N_ELEMENTS (boxes), GAP));
}

/* Digits apart: every tag drawn, each above its box's corner; tags
 * that touch, or come within the gap, are not. */
static void
test_apart (void)
{
  GstCnnOverlayRect boxes[4], tags[4];

  for (guint i = 0; i < 4; i++)
    boxes[i] = (GstCnnOverlayRect) {
    180 + 80 * i, 200, 60, 90};
  place_tags (boxes, 4, 32, 35, tags);
  g_assert_true (gst_cnn_overlay_number_tags_fit (tags, 4, GAP));
  g_assert_false (reference_too_close (tags, 4, GAP));
  /* 32-pixel tags 32 + GAP apart fit; 32 + GAP - 1 or 32 apart do not */
  for (gint pitch = 32; pitch <= 32 + GAP; pitch++) {
    for (guint i = 0; i < 4; i++)
      boxes[i].x = 180 + pitch * i;
    place_tags (boxes, 4, 32, 35, tags);
    g_assert_true (gst_cnn_overlay_number_tags_fit (tags, 4, GAP)
        == (pitch == 32 + GAP));
  }
  for (guint i = 0; i < 4; i++)
    boxes[i].x = 180 + 80 * i;
  place_tags (boxes, 4, 32, 35, tags);
  for (guint i = 0; i < 4; i++) {
    g_assert_cmpint (tags[i].x, ==, boxes[i].x);
    g_assert_cmpint (tags[i].y + tags[i].height, ==, boxes[i].y);
  }
}

/* Numbers of 1 to 12 digits of random sizes, gaps (some negative:
 * touching, overlapping boxes), heights and places in the frame (at its
 * top and right edges too, where the tags move), with gaps of 0 to 8
 * between tags: the tags are drawn exactly when the reference finds no
 * two too close, and a tag is inside the frame's width. */
static void
test_random (void)
{
  GRand *rand = g_rand_new_with_seed (16);
  guint shown = 0, hidden = 0;

  for (guint trial = 0; trial < 2000; trial++) {
    const guint n = g_rand_int_range (rand, 1, MAX_DIGITS + 1);
    const gint tag_w = g_rand_int_range (rand, 10, 60);
    const gint tag_h = g_rand_int_range (rand, 10, 50);
    const gint gap = g_rand_int_range (rand, 0, 9);
    GstCnnOverlayRect boxes[MAX_DIGITS], tags[MAX_DIGITS];
    gint x = g_rand_int_range (rand, 0, FRAME_W - 40);
    gboolean fit;

    for (guint i = 0; i < n; i++) {
      boxes[i].width = g_rand_int_range (rand, 4, 90);
      boxes[i].height = g_rand_int_range (rand, 20, 120);
      boxes[i].x = MIN (x, FRAME_W - boxes[i].width);
      boxes[i].y = g_rand_int_range (rand, 0, FRAME_H - boxes[i].height);
      x += boxes[i].width + g_rand_int_range (rand, -10, 60);
    }
    place_tags (boxes, n, tag_w, tag_h, tags);
    fit = gst_cnn_overlay_number_tags_fit (tags, n, gap);
    if (fit == reference_too_close (tags, n, gap))
      g_error ("trial %u: %u digits, tags %dx%d, gap %d: fit says %d",
          trial, n, tag_w, tag_h, gap, fit);
    for (guint i = 0; i < n; i++) {
      g_assert_cmpint (tags[i].x, >=, 0);
      g_assert_cmpint (tags[i].x + tags[i].width, <=, FRAME_W);
      g_assert_cmpint (tags[i].y, >=, 0);
    }
    if (fit)
      shown++;
    else
      hidden++;
  }
  /* both outcomes seen: the comparison above tested something */
  g_assert_cmpuint (shown, >, 100);
  g_assert_cmpuint (hidden, >, 100);
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/overlay-layout/picture", test_picture);
  g_test_add_func ("/overlay-layout/apart", test_apart);
  g_test_add_func ("/overlay-layout/random", test_random);
  return g_test_run ();
}
