/* Preprocessing benchmark: one frame's region → one model input, the
 * part of cnnclassify's per-frame work before the network.
 *
 *   bench-preprocess [--json] [--seconds S] [--spec TEXT] [--case WxH]
 *
 * For a 28x28 GRAY8, a 640x480 I420 and a 1280x720 NV12 frame holding a
 * synthetic digit (a dark ring on light paper, with a lighting gradient
 * and a little noise), it times cnn_preprocessor_run() on the centred
 * square region, as cnnclassify's default roi, into a 1x28x28 input
 * (default spec "mnist", the bundled model's), and prints the median and
 * p99 µs (--case WxH: that frame size only).  A benchmark, not a test: it asserts nothing (but that the
 * digit is found). */
#include "bench-sort.h"
#include "cnn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
  const gchar *name;
  guint width, height;
  guint chroma_planes;          /* 0 GRAY8, 2 I420, 1 NV12 (interleaved) */
} FrameCase;

static const FrameCase cases[] = {
  {"28x28 GRAY8", 28, 28, 0},
  {"640x480 I420", 640, 480, 2},
  {"1280x720 NV12", 1280, 720, 1},
};

/* Luma of the picture at (x, y): a ring a third of the height across,
 * dark on paper lit from one side, with noise. */
static guint8
digit_luma (const FrameCase * c, guint x, guint y, GRand * rand)
{
  const gdouble cx = c->width / 2.0, cy = c->height / 2.0;
  const gdouble r = hypot (x + 0.5 - cx, (y + 0.5 - cy) * 0.8);
  const gdouble outer = c->height / 6.0, inner = outer * 0.55;
  const gdouble paper = 200.0 - 40.0 * x / c->width;
  const gdouble v = (r < outer && r > inner ? 40.0 : paper)
      + g_rand_double_range (rand, -4.0, 4.0);

  return (guint8) CLAMP (v, 0.0, 255.0);
}

/* A frame of @c: the picture in @buf (kept by the caller), described by
 * @image as cnnclassify would for that format. */
static void
make_frame (const FrameCase * c, guint8 ** buf, CnnImage * image)
{
  const gsize luma = (gsize) c->width * c->height;
  const guint cw = (c->width + 1) / 2, ch = (c->height + 1) / 2;
  GRand *rand = g_rand_new_with_seed (1);
  guint8 *p;

  p = *buf = g_malloc (luma + 2 * (gsize) cw * ch);
  for (guint y = 0; y < c->height; y++)
    for (guint x = 0; x < c->width; x++)
      p[(gsize) y * c->width + x] = digit_luma (c, x, y, rand);
  memset (p + luma, 128, 2 * (gsize) cw * ch);
  g_rand_free (rand);

  *image = (CnnImage) {
  .width = c->width,.height = c->height,
        .color = c->chroma_planes ? CNN_COLOR_YUV : CNN_COLOR_GREY,
        .limited_range = c->chroma_planes != 0,.kr = 0.299f,.kb = 0.114f};
  image->planes[0] = (CnnPlane) {
  p, (gint) c->width, 1, 0, 0};
  if (c->chroma_planes == 2) {
    image->planes[1] = (CnnPlane) {
    p + luma, (gint) cw, 1, 1, 1};
    image->planes[2] = (CnnPlane) {
    p + luma + (gsize) cw * ch, (gint) cw, 1, 1, 1};
  } else if (c->chroma_planes == 1) {
    image->planes[1] = (CnnPlane) {
    p + luma, (gint) (2 * cw), 2, 1, 1};
    image->planes[2] = (CnnPlane) {
    p + luma + 1, (gint) (2 * cw), 2, 1, 1};
  }
}

/* Whether @c is the frame size @size ("WxH"). */
static gboolean
is_case (const FrameCase * c, const gchar * size)
{
  g_autofree gchar *name = g_strdup_printf ("%ux%u", c->width, c->height);

  return g_str_equal (name, size);
}

typedef struct
{
  gdouble median_us, p99_us;
  guint runs;
  gboolean found;
} Timing;

static Timing
time_case (CnnPreprocessor * pre, const FrameCase * c, gdouble seconds)
{
  GArray *samples = g_array_new (FALSE, FALSE, sizeof (gdouble));
  const guint side = MIN (c->width, c->height);
  const CnnRect roi = { (c->width - side) / 2, (c->height - side) / 2, side,
    side
  };
  gfloat out[28 * 28];
  CnnImage image;
  guint8 *buf;
  gint64 end;
  Timing t;

  make_frame (c, &buf, &image);
  t.found = cnn_preprocessor_run (pre, &image, roi, out);
  for (guint i = 0; i < 20; i++)
    cnn_preprocessor_run (pre, &image, roi, out);
  end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  while (g_get_monotonic_time () < end || samples->len < 10) {
    gint64 start = g_get_monotonic_time ();
    gdouble us;

    cnn_preprocessor_run (pre, &image, roi, out);
    us = (gdouble) (g_get_monotonic_time () - start);
    g_array_append_val (samples, us);
  }
  g_array_sort (samples, compare_doubles);
  t.runs = samples->len;
  t.median_us = g_array_index (samples, gdouble, samples->len / 2);
  t.p99_us = g_array_index (samples, gdouble, samples->len * 99 / 100);
  g_array_free (samples, TRUE);
  g_free (buf);
  return t;
}

int
main (int argc, char **argv)
{
  const CnnShape input = { 1, 28, 28 };
  const gchar *spec = "mnist", *only = NULL;
  gboolean json = FALSE, all_found = TRUE;
  gdouble seconds = 2.0;
  GError *error = NULL;
  CnnPreprocessor *pre;
  Timing t[G_N_ELEMENTS (cases)];
  gboolean run[G_N_ELEMENTS (cases)];
  guint n_run = 0;

  for (gint i = 1; i < argc; i++) {
    if (g_str_equal (argv[i], "--json"))
      json = TRUE;
    else if (g_str_equal (argv[i], "--seconds") && i + 1 < argc)
      seconds = g_ascii_strtod (argv[++i], NULL);
    else if (g_str_equal (argv[i], "--spec") && i + 1 < argc)
      spec = argv[++i];
    else if (g_str_equal (argv[i], "--case") && i + 1 < argc)
      only = argv[++i];
    else {
      fprintf (stderr, "usage: %s [--json] [--seconds S] [--spec TEXT] "
          "[--case WxH]\n",
          argv[0]);
      return 2;
    }
  }
  pre = cnn_preprocessor_new (spec, input, &error);
  if (!pre) {
    fprintf (stderr, "bench-preprocess: %s\n", error->message);
    return 1;
  }
  for (guint k = 0; k < G_N_ELEMENTS (cases); k++) {
    run[k] = !only || is_case (&cases[k], only);
    n_run += run[k];
  }
  if (n_run == 0) {
    fprintf (stderr, "bench-preprocess: no frame case is %s\n", only);
    return 2;
  }
  for (guint k = 0; k < G_N_ELEMENTS (cases); k++) {
    if (!run[k])
      continue;
    t[k] = time_case (pre, &cases[k], seconds / n_run);
    all_found = all_found && t[k].found;
  }

  if (json) {
    printf ("{\"spec\": \"%s\"", cnn_preprocessor_spec (pre));
    for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
      if (run[k])
        printf (", \"%s\": {\"median_us\": %.1f, \"p99_us\": %.1f, "
          "\"found\": %s}", cases[k].name, t[k].median_us, t[k].p99_us,
          t[k].found ? "true" : "false");
    printf ("}\n");
  } else {
    printf ("preprocess \"%s\" → 1x28x28, centred square region\n",
        cnn_preprocessor_spec (pre));
    printf ("%-16s%12s%10s%8s  %s\n", "frame", "median µs", "p99 µs",
        "runs", "digit found");
    for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
      if (run[k])
        printf ("%-16s%12.1f%10.1f%8u  %s\n", cases[k].name, t[k].median_us,
          t[k].p99_us, t[k].runs, t[k].found ? "yes" : "no");
  }
  cnn_preprocessor_free (pre);
  if (!all_found)
    fprintf (stderr, "bench-preprocess: the digit was not found in every "
        "frame: the figures are not those of a full pass\n");
  return all_found ? 0 : 1;
}
