/* Preprocessing benchmark: one frame's region → one model input, the
 * part of cnnclassify's per-frame work before the network.
 *
 *   bench-preprocess [--json] [--seconds S] [--spec TEXT] [--case WxH]
 *                    [--mnist DIR] [--desk FILE]
 *
 * For 28x28 GRAY8, 640x480 I420 and 1280x720 NV12 frames it times
 * cnn_preprocessor_run() on the centred square region, as cnnclassify's
 * default roi, into a 1x28x28 input (default spec "mnist", the bundled
 * model's), and prints the median and p99 µs (--case WxH: that frame size
 * only).
 *
 * The frames are distinct, real ones when given: --mnist DIR, the MNIST
 * test digits (t10k in DIR) as the 28x28 frames; --desk FILE, raw 640x480
 * GRAY8 desk frames (tests/eval/make-desk-frames --raw) as the luma of
 * the 640x480 frames and, doubled and cropped, of the 1280x720 ones.
 * Each run takes the next frame, so caches and the digit finder's work
 * vary as in a stream.  Otherwise one synthetic frame (a dark ring on
 * light paper, with a lighting gradient and a little noise) is repeated,
 * which flatters the figures.  A benchmark, not a test: it asserts
 * nothing (but that a digit is found in 7 frames in 10). */
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

/* Where a case's distinct frames come from: @n pictures of @w × @h. */
typedef struct
{
  const guint8 *pixels;
  guint n, w, h;
} LumaSource;

/* Luma of frame @index of @c at (x, y): the source's picture, scaled by
 * whole pixels to cover the frame and centred; or the synthetic ring. */
static guint8
frame_luma (const FrameCase * c, const LumaSource * src, guint index,
    guint x, guint y, GRand * rand)
{
  guint k, ox, oy;

  if (!src->n)
    return digit_luma (c, x, y, rand);
  k = MAX (1, MAX ((c->width + src->w - 1) / src->w, (c->height + src->h
              - 1) / src->h));
  ox = (src->w * k - c->width) / 2;
  oy = (src->h * k - c->height) / 2;
  return src->pixels[(gsize) (index % src->n) * src->w * src->h
      + (gsize) ((y + oy) / k) * src->w + (x + ox) / k];
}

/* Frame @index of @c: the picture in @buf (kept by the caller), described
 * by @image as cnnclassify would for that format. */
static void
make_frame (const FrameCase * c, const LumaSource * src, guint index,
    guint8 ** buf, CnnImage * image)
{
  const gsize luma = (gsize) c->width * c->height;
  const guint cw = (c->width + 1) / 2, ch = (c->height + 1) / 2;
  GRand *rand = g_rand_new_with_seed (1);
  guint8 *p;

  p = *buf = g_malloc (luma + 2 * (gsize) cw * ch);
  for (guint y = 0; y < c->height; y++)
    for (guint x = 0; x < c->width; x++)
      p[(gsize) y * c->width + x] = frame_luma (c, src, index, x, y, rand);
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
  guint runs, frames, found;
} Timing;

#define MAX_FRAMES 200          /* distinct frames made per case */

static Timing
time_case (CnnPreprocessor * pre, const FrameCase * c,
    const LumaSource * src, gdouble seconds)
{
  GArray *samples = g_array_new (FALSE, FALSE, sizeof (gdouble));
  const guint side = MIN (c->width, c->height);
  const CnnRect roi = { (c->width - side) / 2, (c->height - side) / 2, side,
    side
  };
  const guint n = CLAMP (src->n, 1, MAX_FRAMES);
  gfloat out[28 * 28];
  CnnImage *images = g_new (CnnImage, n);
  guint8 **bufs = g_new (guint8 *, n);
  gint64 end;
  Timing t = { 0 };

  for (guint i = 0; i < n; i++) {
    make_frame (c, src, i, &bufs[i], &images[i]);
    t.found += cnn_preprocessor_run (pre, &images[i], roi, out);
  }
  t.frames = n;
  for (guint i = 0; i < 20; i++)
    cnn_preprocessor_run (pre, &images[i % n], roi, out);
  end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  for (guint i = 0; g_get_monotonic_time () < end || samples->len < 10; i++) {
    gint64 start = g_get_monotonic_time ();
    gdouble us;

    cnn_preprocessor_run (pre, &images[i % n], roi, out);
    us = (gdouble) (g_get_monotonic_time () - start);
    g_array_append_val (samples, us);
  }
  g_array_sort (samples, compare_doubles);
  t.runs = samples->len;
  t.median_us = g_array_index (samples, gdouble, samples->len / 2);
  t.p99_us = g_array_index (samples, gdouble, samples->len * 99 / 100);
  g_array_free (samples, TRUE);
  for (guint i = 0; i < n; i++)
    g_free (bufs[i]);
  g_free (bufs);
  g_free (images);
  return t;
}

/* The MNIST test digits in @dir, or an empty source. */
static gboolean
load_mnist (const gchar * dir, CnnDataset ** ds, LumaSource * src)
{
  g_autofree gchar *images = g_build_filename (dir,
      "t10k-images-idx3-ubyte.gz", NULL);
  g_autofree gchar *labels = g_build_filename (dir,
      "t10k-labels-idx1-ubyte.gz", NULL);
  GError *error = NULL;

  *ds = cnn_dataset_load_idx (images, labels, &error);
  if (!*ds) {
    fprintf (stderr, "bench-preprocess: %s\n", error->message);
    g_error_free (error);
    return FALSE;
  }
  *src = (LumaSource) {
  (*ds)->pixels, (*ds)->n, (*ds)->shape.w, (*ds)->shape.h};
  return TRUE;
}

/* Raw 640x480 GRAY8 frames from @path (its whole length). */
static gboolean
load_desk (const gchar * path, gchar ** data, LumaSource * src)
{
  const gsize frame = 640 * 480;
  GError *error = NULL;
  gsize len;

  if (!g_file_get_contents (path, data, &len, &error)) {
    fprintf (stderr, "bench-preprocess: %s\n", error->message);
    g_error_free (error);
    return FALSE;
  }
  if (len < frame || len % frame) {
    fprintf (stderr, "bench-preprocess: %s: %" G_GSIZE_FORMAT " bytes is "
        "not a whole number of 640x480 GRAY8 frames\n", path, len);
    return FALSE;
  }
  *src = (LumaSource) {
  (const guint8 *) *data, len / frame, 640, 480};
  return TRUE;
}

int
main (int argc, char **argv)
{
  const CnnShape input = { 1, 28, 28 };
  const gchar *spec = "mnist", *only = NULL, *mnist_dir = NULL, *desk = NULL;
  g_autofree gchar *desk_data = NULL;
  CnnDataset *mnist = NULL;
  LumaSource none = { 0 }, digits = { 0 }, desks = { 0 };
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
    else if (g_str_equal (argv[i], "--mnist") && i + 1 < argc)
      mnist_dir = argv[++i];
    else if (g_str_equal (argv[i], "--desk") && i + 1 < argc)
      desk = argv[++i];
    else {
      fprintf (stderr, "usage: %s [--json] [--seconds S] [--spec TEXT] "
          "[--case WxH] [--mnist DIR] [--desk FILE]\n", argv[0]);
      return 2;
    }
  }
  if ((mnist_dir && !load_mnist (mnist_dir, &mnist, &digits))
      || (desk && !load_desk (desk, &desk_data, &desks)))
    return 1;
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
    t[k] = time_case (pre, &cases[k], cases[k].width == 28 ? &digits
        : desk ? &desks : &none, seconds / n_run);
    /* Desk frames include blank and hard ones, and the 1280x720 crop
     * cuts some digits off: most is enough. */
    all_found = all_found && t[k].found * 10 >= t[k].frames * 7;
  }

  if (json) {
    printf ("{\"spec\": \"%s\"", cnn_preprocessor_spec (pre));
    for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
      if (run[k])
        printf (", \"%s\": {\"median_us\": %.1f, \"p99_us\": %.1f, "
          "\"frames\": %u, \"found\": %u}", cases[k].name, t[k].median_us,
          t[k].p99_us, t[k].frames, t[k].found);
    printf ("}\n");
  } else {
    printf ("preprocess \"%s\" → 1x28x28, centred square region\n",
        cnn_preprocessor_spec (pre));
    printf ("%-16s%12s%10s%8s%8s  %s\n", "frame", "median µs", "p99 µs",
        "runs", "frames", "digit found");
    for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
      if (run[k])
        printf ("%-16s%12.1f%10.1f%8u%8u  %u\n", cases[k].name,
            t[k].median_us, t[k].p99_us, t[k].runs, t[k].frames, t[k].found);
  }
  cnn_preprocessor_free (pre);
  cnn_dataset_free (mnist);
  if (!all_found)
    fprintf (stderr, "bench-preprocess: a digit was found in fewer than 7 "
        "frames in 10: the figures are not those of a full pass\n");
  return all_found ? 0 : 1;
}
