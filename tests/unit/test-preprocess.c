/* Frame preprocessing: the spec text, area-average scaling against a
 * naive reference, and the same picture in every frame layout giving
 * the same model input. */
#include "cnn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BT601_KR 0.299f
#define BT601_KB 0.114f

/* ---- the reference ------------------------------------------------- */

/* Written independently of the library: overlaps are measured in frame
 * pixels with a plain double loop over every sample near the cell. */

static guint8
ref_sample (const CnnPlane * p, guint x, guint y)
{
  return p->data[(gssize) y * p->row_stride + (gssize) x * p->pixel_stride];
}

/* Mean of a plane over the frame area [fx0, fx1) × [fy0, fy1). */
static gdouble
ref_area_mean (const CnnPlane * p, gdouble fx0, gdouble fx1, gdouble fy0,
    gdouble fy1)
{
  const gdouble sx = 1 << p->x_shift, sy = 1 << p->y_shift;
  gdouble sum = 0.0, total = 0.0;

  for (guint py = (guint) floor (fy0 / sy); py * sy < fy1; py++) {
    for (guint px = (guint) floor (fx0 / sx); px * sx < fx1; px++) {
      /* The sample covers frame [px·sx, (px+1)·sx) × [py·sy, (py+1)·sy). */
      gdouble ox = MIN (fx1, (px + 1) * sx) - MAX (fx0, px * sx);
      gdouble oy = MIN (fy1, (py + 1) * sy) - MAX (fy0, py * sy);

      if (ox <= 0.0 || oy <= 0.0)
        continue;
      sum += ox * oy * ref_sample (p, px, py);
      total += ox * oy;
    }
  }
  return sum / total;
}

static gdouble
clamp01 (gdouble v)
{
  return v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
}

/* Plane means (in sample units) of one cell → model channels in 0..1. */
static void
ref_colour (const CnnImage * img, const gdouble m[3], guint channels,
    gdouble v[3])
{
  const gdouble kr = img->kr, kb = img->kb, kg = 1.0 - kr - kb;

  if (img->color == CNN_COLOR_GREY) {
    for (guint c = 0; c < channels; c++)
      v[c] = m[0] / 255.0;
  } else if (img->color == CNN_COLOR_RGB) {
    if (channels == 1)
      v[0] = (kr * m[0] + kg * m[1] + kb * m[2]) / 255.0;
    else
      for (guint c = 0; c < 3; c++)
        v[c] = m[c] / 255.0;
  } else {
    gdouble y, cb, cr;

    if (img->limited_range) {
      y = (m[0] - 16.0) / 219.0;
      cb = (m[1] - 128.0) / 224.0;
      cr = (m[2] - 128.0) / 224.0;
    } else {
      y = m[0] / 255.0;
      cb = (m[1] - 128.0) / 255.0;
      cr = (m[2] - 128.0) / 255.0;
    }
    if (channels == 1) {
      v[0] = y;
    } else {
      /* Invert Cb = (B - Y) / 2(1 - kb), Cr = (R - Y) / 2(1 - kr),
       * Y = kr R + kg G + kb B. */
      v[0] = y + 2.0 * (1.0 - kr) * cr;
      v[2] = y + 2.0 * (1.0 - kb) * cb;
      v[1] = (y - kr * v[0] - kb * v[2]) / kg;
    }
  }
  for (guint c = 0; c < channels; c++)
    v[c] = clamp01 (v[c]);
}

static gboolean
ref_preprocess (const CnnImage * img, CnnRect roi, CnnShape shape,
    const gdouble * mean, const gdouble * std, gdouble * out)
{
  guint64 x1 = MIN ((guint64) roi.x + roi.width, img->width);
  guint64 y1 = MIN ((guint64) roi.y + roi.height, img->height);
  gdouble w, h;
  gsize n = (gsize) shape.h * shape.w;
  gboolean need_three = img->color != CNN_COLOR_GREY
      && (shape.c == 3 || img->color == CNN_COLOR_RGB);

  if (x1 <= roi.x || y1 <= roi.y)
    return FALSE;
  w = (gdouble) (x1 - roi.x);
  h = (gdouble) (y1 - roi.y);

  for (guint oy = 0; oy < shape.h; oy++) {
    for (guint ox = 0; ox < shape.w; ox++) {
      gdouble fx0 = roi.x + w * ox / shape.w;
      gdouble fx1 = roi.x + w * (ox + 1) / shape.w;
      gdouble fy0 = roi.y + h * oy / shape.h;
      gdouble fy1 = roi.y + h * (oy + 1) / shape.h;
      gdouble m[3] = { 0, 0, 0 }, v[3];

      for (guint k = 0; k < (need_three ? 3u : 1u); k++)
        m[k] = ref_area_mean (&img->planes[k], fx0, fx1, fy0, fy1);
      ref_colour (img, m, shape.c, v);
      for (guint c = 0; c < shape.c; c++)
        out[c * n + (gsize) oy * shape.w + ox] =
            (v[c] - (mean ? mean[c] : 0.0)) / (std ? std[c] : 1.0);
    }
  }
  return TRUE;
}

/* ---- helpers ------------------------------------------------------- */

static guint8 *
random_bytes (GRand * rand, gsize n)
{
  guint8 *b = g_malloc (n);

  for (gsize i = 0; i < n; i++)
    b[i] = (guint8) g_rand_int_range (rand, 0, 256);
  return b;
}

static CnnPlane
plane (const guint8 * data, gint row_stride, guint pixel_stride,
    guint x_shift, guint y_shift)
{
  return (CnnPlane) {
  data, row_stride, pixel_stride, x_shift, y_shift};
}

static CnnPreprocessor *
new_pre (const gchar * spec, guint c, guint h, guint w)
{
  GError *err = NULL;
  CnnPreprocessor *pre =
      cnn_preprocessor_new (spec, (CnnShape) { c, h, w }, &err);

  g_assert_no_error (err);
  g_assert_nonnull (pre);
  return pre;
}

static void
assert_close (const gfloat * got, const gdouble * want, gsize n,
    gdouble tolerance, const gchar * what)
{
  for (gsize i = 0; i < n; i++) {
    if (fabs (got[i] - want[i]) > tolerance)
      g_error ("%s: value %" G_GSIZE_FORMAT " is %.8f, expected %.8f "
          "(tolerance %g)", what, i, got[i], want[i], tolerance);
  }
}

/* Runs @pre and the reference on the same frame and compares. */
static void
check_against_reference (const gchar * spec, const gdouble * mean,
    const gdouble * std, CnnShape shape, const CnnImage * img, CnnRect roi,
    const gchar * what)
{
  CnnPreprocessor *pre = new_pre (spec, shape.c, shape.h, shape.w);
  gsize n = cnn_shape_size (shape);
  gfloat *got = g_new (gfloat, n);
  gdouble *want = g_new (gdouble, n);

  g_assert_true (ref_preprocess (img, roi, shape, mean, std, want));
  g_assert_true (cnn_preprocessor_run (pre, img, roi, got));
  assert_close (got, want, n, 1e-5, what);
  g_free (got);
  g_free (want);
  cnn_preprocessor_free (pre);
}

/* ---- the spec text ------------------------------------------------- */

static void
test_spec_canonical (void)
{
  const struct
  {
    const gchar *spec;
    guint c;
    const gchar *canonical;
  } cases[] = {
    {"resize", 1, "resize"},
    {"  resize\t", 3, "resize"},
    {"resize mean=0 std=1", 1, "resize"},
    {"resize mean=0,0,0 std=1", 3, "resize"},
    {"resize mean=0.1307 std=0.3081", 1, "resize mean=0.1307 std=0.3081"},
    {"resize std=0.3081  mean=0.1307", 1, "resize mean=0.1307 std=0.3081"},
    {"resize mean=0.5", 1, "resize mean=0.5 std=1"},
    {"resize std=2", 1, "resize mean=0 std=2"},
    {"resize mean=0.5 std=0.25", 3,
        "resize mean=0.5,0.5,0.5 std=0.25,0.25,0.25"},
    {"resize mean=0.485,0.456,0.406 std=0.229,0.224,0.225", 3,
        "resize mean=0.485,0.456,0.406 std=0.229,0.224,0.225"},
    {"resize mean=-1e-3 std=1e+2", 1, "resize mean=-0.001 std=100"},
    {"mnist", 1, "mnist"},
    {" mnist  std=1 ", 1, "mnist"},
    {"mnist std=0.3081 mean=0.1307", 1, "mnist mean=0.1307 std=0.3081"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    CnnPreprocessor *pre = new_pre (cases[i].spec, cases[i].c, 28, 28);
    CnnPreprocessor *again;

    g_assert_cmpstr (cnn_preprocessor_spec (pre), ==, cases[i].canonical);
    /* The canonical text reads back as itself. */
    again = new_pre (cnn_preprocessor_spec (pre), cases[i].c, 28, 28);
    g_assert_cmpstr (cnn_preprocessor_spec (again), ==, cases[i].canonical);
    cnn_preprocessor_free (again);
    cnn_preprocessor_free (pre);
  }
}

static void
test_spec_rejected (void)
{
  const struct
  {
    const gchar *spec;
    guint c;
    const gchar *named;         /* must appear in the message */
  } cases[] = {
    {"", 1, "resize"},
    {"   ", 1, "resize"},
    {"Resize", 1, "'Resize'"},
    {"MNIST", 1, "'MNIST'"},
    {"mnist resize", 1, "'resize'"},
    {"mnist mean=0.1,0.2,0.3", 1, "'mean=0.1,0.2,0.3'"},
    {"mnist std=0", 1, "'std=0'"},
    {"resize foo", 1, "'foo'"},
    {"resize mean=0.1 bar=2", 1, "'bar=2'"},
    {"resize mean", 1, "'mean'"},
    {"resize mean=", 1, "'mean='"},
    {"resize mean=abc", 1, "'mean=abc'"},
    {"resize mean=0.1x", 1, "'mean=0.1x'"},
    {"resize mean=nan", 1, "'mean=nan'"},
    {"resize std=inf", 1, "'std=inf'"},
    {"resize mean=1e39", 1, "'mean=1e39'"},
    {"resize mean=0x10", 1, "'mean=0x10'"},
    {"resize mean= 1", 1, "'mean='"},
    {"resize std=0", 1, "'std=0'"},
    {"resize std=-0.5", 1, "'std=-0.5'"},
    {"resize std=1e-50", 1, "'std=1e-50'"},
    {"resize mean=0.1,0.2,0.3", 1, "'mean=0.1,0.2,0.3'"},
    {"resize mean=0.1,0.2", 3, "'mean=0.1,0.2'"},
    {"resize mean=0.1,0.2,0.3,0.4", 3, "'mean=0.1,0.2,0.3,0.4'"},
    {"resize mean=0.1,,0.3", 3, "'mean=0.1,,0.3'"},
    {"resize mean=0.1,0.2,", 3, "'mean=0.1,0.2,'"},
    {"resize std=1,1,0", 3, "'std=1,1,0'"},
    {"resize mean=0.1 mean=0.2", 1, "'mean=0.2'"},
    {"resize std=1 std=1", 1, "'std=1'"},
    {"resize resize", 1, "'resize'"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    GError *err = NULL;
    CnnPreprocessor *pre = cnn_preprocessor_new (cases[i].spec,
        (CnnShape) { cases[i].c, 28, 28 }, &err);

    g_assert_null (pre);
    g_assert_error (err, CNN_ERROR, CNN_ERROR_INVALID);
    if (!strstr (err->message, cases[i].named))
      g_error ("spec '%s': message '%s' does not name %s", cases[i].spec,
          err->message, cases[i].named);
    g_error_free (err);
  }
}

static void
test_unknown_mode_lists_modes (void)
{
  GError *err = NULL;

  g_assert_null (cnn_preprocessor_new ("crop", (CnnShape) { 1, 28, 28 },
          &err));
  g_assert_error (err, CNN_ERROR, CNN_ERROR_INVALID);
  g_assert_nonnull (strstr (err->message, "modes: resize, mnist"));
  g_error_free (err);
}

/* "mnist" frames grey digits; a colour model, or one too small to hold
 * a digit, is refused with the shape named. */
static void
test_mnist_shapes (void)
{
  const struct
  {
    CnnShape shape;
    const gchar *named;
  } bad[] = {
    {{3, 28, 28}, "3x28x28"}, {{1, 7, 28}, "1x7x28"}, {{1, 28, 7}, "1x28x7"},
    {{1, 1, 1}, "1x1x1"},
  };
  const CnnShape good[] = { {1, 28, 28}, {1, 8, 8}, {1, 16, 40},
    {1, 200, 300}
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    GError *err = NULL;

    g_assert_null (cnn_preprocessor_new ("mnist", bad[i].shape, &err));
    g_assert_error (err, CNN_ERROR, CNN_ERROR_INVALID);
    if (!strstr (err->message, bad[i].named))
      g_error ("message '%s' does not name %s", err->message, bad[i].named);
    g_error_free (err);
  }
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    cnn_preprocessor_free (new_pre ("mnist", good[i].c, good[i].h,
            good[i].w));
}

static void
test_channels_rejected (void)
{
  const guint bad[] = { 2, 4, 16 };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    GError *err = NULL;
    gchar *shape = g_strdup_printf ("%ux28x28", bad[i]);

    g_assert_null (cnn_preprocessor_new ("resize",
            (CnnShape) { bad[i], 28, 28 }, &err));
    g_assert_error (err, CNN_ERROR, CNN_ERROR_INVALID);
    g_assert_nonnull (strstr (err->message, shape));
    g_free (shape);
    g_error_free (err);
  }
}

/* ---- area averaging against the reference -------------------------- */

static void
test_grey_against_reference (void)
{
  const struct
  {
    guint w, h;
    CnnRect roi;
    guint mh, mw;
    const gchar *what;
  } cases[] = {
    {640, 480, {0, 0, 640, 480}, 28, 28, "640x480 down to 28x28"},
    {100, 37, {0, 0, 100, 37}, 28, 28, "100x37: non-integer ratios"},
    {5, 3, {0, 0, 5, 3}, 28, 28, "5x3 up to 28x28"},
    {1, 1, {0, 0, 1, 1}, 28, 28, "1x1 frame"},
    {100, 37, {13, 7, 51, 23}, 28, 28, "odd region"},
    {100, 37, {99, 36, 1, 1}, 28, 28, "last pixel only"},
    {100, 37, {3, 5, 29, 11}, 7, 13, "non-square model"},
    {100, 37, {60, 20, 500, 500}, 28, 28, "region clipped right/bottom"},
    {640, 480, {1, 2, 637, 475}, 1, 1, "all into one cell"},
    {1920, 1080, {0, 0, 1920, 1080}, 28, 28, "1920x1080"},
    {33, 17, {0, 0, 33, 17}, 33, 17, "same size"},
    {50, 40, {5, 5, 40, 30}, 37, 91, "mixed up and down"},
  };
  GRand *rand = g_rand_new_with_seed (1);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    /* Padded rows; the padding is random too, so reading it shows. */
    gint stride = cases[i].w + 13;
    guint8 *mem = random_bytes (rand, (gsize) stride * cases[i].h);
    CnnImage img = {
      cases[i].w, cases[i].h, CNN_COLOR_GREY,
      {plane (mem, stride, 1, 0, 0)}, FALSE, 0, 0
    };

    check_against_reference ("resize", NULL, NULL,
        (CnnShape) { 1, cases[i].mh, cases[i].mw }, &img, cases[i].roi,
        cases[i].what);
    g_free (mem);
  }
  g_rand_free (rand);
}

static void
test_bottom_up_rows (void)
{
  GRand *rand = g_rand_new_with_seed (2);
  const guint w = 41, h = 29;
  guint8 *mem = random_bytes (rand, (gsize) 48 * h);
  /* Rows stored last first, as in bottom-up bitmaps. */
  CnnImage img = {
    w, h, CNN_COLOR_GREY,
    {plane (mem + (gsize) 48 * (h - 1), -48, 1, 0, 0)}, FALSE, 0, 0
  };

  check_against_reference ("resize", NULL, NULL, (CnnShape) { 1, 28, 28 },
      &img, (CnnRect) { 3, 4, 30, 20 }, "negative row stride");
  g_free (mem);
  g_rand_free (rand);
}

/* Random planar 4:2:0 of odd size: the chroma planes' last samples
 * cover only half of their area inside the frame. */
static void
test_yuv420_against_reference (void)
{
  GRand *rand = g_rand_new_with_seed (3);
  const guint w = 37, h = 23, cw = 19, ch = 12;
  guint8 *y = random_bytes (rand, (gsize) (w + 3) * h);
  guint8 *u = random_bytes (rand, (gsize) (cw + 5) * ch);
  guint8 *v = random_bytes (rand, (gsize) (cw + 1) * ch);
  CnnImage img = {
    w, h, CNN_COLOR_YUV,
    {plane (y, w + 3, 1, 0, 0), plane (u, cw + 5, 1, 1, 1),
        plane (v, cw + 1, 1, 1, 1)},
    TRUE, BT601_KR, BT601_KB
  };
  const CnnRect rois[] = {
    {0, 0, w, h}, {1, 3, 17, 11}, {36, 22, 5, 5}, {5, 2, 32, 21},
  };

  for (guint i = 0; i < G_N_ELEMENTS (rois); i++) {
    img.limited_range = TRUE;
    check_against_reference ("resize", NULL, NULL, (CnnShape) { 3, 28, 28 },
        &img, rois[i], "I420 limited, RGB model");
    check_against_reference ("resize", NULL, NULL, (CnnShape) { 1, 5, 7 },
        &img, rois[i], "I420 limited, grey model");
    img.limited_range = FALSE;
    check_against_reference ("resize", NULL, NULL, (CnnShape) { 3, 9, 4 },
        &img, rois[i], "I420 full range, RGB model");
  }
  g_free (y);
  g_free (u);
  g_free (v);
  g_rand_free (rand);
}

static void
test_interleaved_against_reference (void)
{
  GRand *rand = g_rand_new_with_seed (4);
  const guint w = 30, h = 18;
  /* NV12: Y plane, then rows of interleaved U, V at half resolution. */
  guint8 *nv_y = random_bytes (rand, (gsize) 32 * h);
  guint8 *nv_uv = random_bytes (rand, (gsize) 32 * (h / 2));
  /* YUY2: Y0 U Y1 V per pair of pixels. */
  guint8 *yuy2 = random_bytes (rand, (gsize) (2 * w + 4) * h);
  /* xRGB, 4 bytes a pixel. */
  guint8 *xrgb = random_bytes (rand, (gsize) (4 * w + 8) * h);
  CnnImage nv12 = {
    w, h, CNN_COLOR_YUV,
    {plane (nv_y, 32, 1, 0, 0), plane (nv_uv, 32, 2, 1, 1),
        plane (nv_uv + 1, 32, 2, 1, 1)},
    TRUE, BT601_KR, BT601_KB
  };
  CnnImage yuy2_img = {
    w, h, CNN_COLOR_YUV,
    {plane (yuy2, 2 * w + 4, 2, 0, 0), plane (yuy2 + 1, 2 * w + 4, 4, 1, 0),
        plane (yuy2 + 3, 2 * w + 4, 4, 1, 0)},
    FALSE, 0.2126f, 0.0722f
  };
  CnnImage xrgb_img = {
    w, h, CNN_COLOR_RGB,
    {plane (xrgb + 1, 4 * w + 8, 4, 0, 0), plane (xrgb + 2, 4 * w + 8, 4, 0,
            0), plane (xrgb + 3, 4 * w + 8, 4, 0, 0)},
    FALSE, BT601_KR, BT601_KB
  };
  const CnnRect roi = { 3, 1, 25, 16 };

  check_against_reference ("resize", NULL, NULL, (CnnShape) { 3, 28, 28 },
      &nv12, roi, "NV12, RGB model");
  check_against_reference ("resize", NULL, NULL, (CnnShape) { 1, 28, 28 },
      &nv12, roi, "NV12, grey model");
  check_against_reference ("resize", NULL, NULL, (CnnShape) { 3, 7, 11 },
      &yuy2_img, roi, "YUY2 BT.709 full range, RGB model");
  check_against_reference ("resize", NULL, NULL, (CnnShape) { 3, 28, 28 },
      &xrgb_img, roi, "xRGB, RGB model");
  check_against_reference ("resize", NULL, NULL, (CnnShape) { 1, 5, 6 },
      &xrgb_img, roi, "xRGB, grey model (luma)");
  g_free (nv_y);
  g_free (nv_uv);
  g_free (yuy2);
  g_free (xrgb);
  g_rand_free (rand);
}

/* Less common subsampling: 4:4:0 (chroma halved vertically only),
 * 4:1:1 and 4:1:0 (YUV9), where chroma samples cover 4 pixels across. */
static void
test_other_subsampling_against_reference (void)
{
  const struct
  {
    guint x_shift, y_shift;
    const gchar *what;
  } cases[] = {
    {0, 1, "4:4:0"}, {2, 0, "4:1:1"}, {2, 2, "4:1:0"}, {1, 0, "4:2:2"},
  };
  GRand *rand = g_rand_new_with_seed (8);
  const guint w = 45, h = 31;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    guint cw = (w + (1 << cases[i].x_shift) - 1) >> cases[i].x_shift;
    guint ch = (h + (1 << cases[i].y_shift) - 1) >> cases[i].y_shift;
    guint8 *y = random_bytes (rand, (gsize) w * h);
    guint8 *u = random_bytes (rand, (gsize) cw * ch);
    guint8 *v = random_bytes (rand, (gsize) cw * ch);
    CnnImage img = {
      w, h, CNN_COLOR_YUV,
      {plane (y, w, 1, 0, 0),
            plane (u, cw, 1, cases[i].x_shift, cases[i].y_shift),
            plane (v, cw, 1, cases[i].x_shift, cases[i].y_shift)},
      TRUE, BT601_KR, BT601_KB
    };

    check_against_reference ("resize", NULL, NULL, (CnnShape) { 3, 28, 28 },
        &img, (CnnRect) { 0, 0, w, h }, cases[i].what);
    check_against_reference ("resize", NULL, NULL, (CnnShape) { 3, 6, 5 },
        &img, (CnnRect) { 7, 3, 33, 27 }, cases[i].what);
    g_free (y);
    g_free (u);
    g_free (v);
  }
  g_rand_free (rand);
}

static void
test_empty_region (void)
{
  guint8 mem[6 * 4] = { 0 };   /* never read: every region is empty */
  CnnImage img = {
    6, 4, CNN_COLOR_GREY, {plane (mem, 6, 1, 0, 0)}, FALSE, 0, 0
  };
  const CnnRect empty[] = {
    {6, 0, 1, 1}, {0, 4, 1, 1}, {100, 100, 5, 5}, {0, 0, 0, 4},
    {0, 0, 6, 0}, {G_MAXUINT, G_MAXUINT, G_MAXUINT, G_MAXUINT},
  };
  CnnPreprocessor *pre = new_pre ("resize", 1, 2, 2);
  gfloat out[4];

  memset (mem, 200, sizeof mem);
  for (guint i = 0; i < G_N_ELEMENTS (empty); i++)
    g_assert_false (cnn_preprocessor_run (pre, &img, empty[i], out));

  /* A huge region starting inside is clipped, not refused. */
  g_assert_true (cnn_preprocessor_run (pre, &img,
          (CnnRect) { 5, 3, G_MAXUINT, G_MAXUINT }, out));
  for (guint i = 0; i < 4; i++)
    g_assert_cmpfloat_with_epsilon (out[i], 200 / 255.0, 1e-6);

  /* An empty frame has nothing to classify. */
  img.width = 0;
  g_assert_false (cnn_preprocessor_run (pre, &img, (CnnRect) { 0, 0, 6, 4 },
          out));
  cnn_preprocessor_free (pre);
}

/* Ink drawn at a known place in a 640×480 frame: a "7" (a bar and a
 * slanted stem, 6 pixels thick) inside x 300..359, y 150..269, dark
 * grey on light paper.  Returns its bounds, from the drawing. */
static CnnRect
draw_seven (guint8 * frame, guint stride)
{
  const guint x0 = 300, y0 = 150, w = 60, h = 120, thick = 6;

  for (guint y = y0; y < y0 + thick; y++)
    memset (frame + (gsize) y * stride + x0, 40, w);
  for (guint y = y0 + thick; y < y0 + h; y++) {
    /* The stem runs from the bar's right end down to x0 + 10. */
    const guint right = x0 + w - (y - y0 - thick) * (w - 10 - thick)
        / (h - thick);

    memset (frame + (gsize) y * stride + right - thick, 40, thick);
  }
  return (CnnRect) { x0, y0, w, h };
}

/* The box the "mnist" mode reports is the drawn ink's, in frame pixels
 * (up to a work cell: 480 / 224 pixels here); nothing is reported for
 * blank paper or in "resize" mode. */
static void
test_mnist_digit_box (void)
{
  const guint W = 640, H = 480;
  g_autofree guint8 *frame = g_malloc ((gsize) W * H);
  CnnImage img = { W, H, CNN_COLOR_GREY, {plane (frame, W, 1, 0, 0)},
    FALSE, 0, 0
  };
  const CnnRect roi = { 80, 0, 480, 480 };
  CnnPreprocessor *pre = new_pre ("mnist", 1, 28, 28);
  CnnPreprocessor *resize = new_pre ("resize", 1, 28, 28);
  gfloat out[28 * 28];
  CnnRect drawn, box = { 0 };

  memset (frame, 210, (gsize) W * H);
  g_assert_false (cnn_preprocessor_digit_box (pre, &box));
  g_assert_false (cnn_preprocessor_run (pre, &img, roi, out));
  g_assert_false (cnn_preprocessor_digit_box (pre, &box));

  drawn = draw_seven (frame, W);
  g_assert_true (cnn_preprocessor_run (pre, &img, roi, out));
  g_assert_true (cnn_preprocessor_digit_box (pre, &box));
  g_assert_cmpint (abs ((gint) box.x - (gint) drawn.x), <=, 3);
  g_assert_cmpint (abs ((gint) box.y - (gint) drawn.y), <=, 3);
  g_assert_cmpint (abs ((gint) (box.x + box.width)
          - (gint) (drawn.x + drawn.width)), <=, 3);
  g_assert_cmpint (abs ((gint) (box.y + box.height)
          - (gint) (drawn.y + drawn.height)), <=, 3);

  /* A later run that finds nothing forgets the box. */
  memset (frame, 210, (gsize) W * H);
  g_assert_false (cnn_preprocessor_run (pre, &img, roi, out));
  g_assert_false (cnn_preprocessor_digit_box (pre, &box));

  g_assert_true (cnn_preprocessor_run (resize, &img, roi, out));
  g_assert_false (cnn_preprocessor_digit_box (resize, &box));
  cnn_preprocessor_free (pre);
  cnn_preprocessor_free (resize);
}

/* A 3×1 frame into two cells of 1.5 pixels each: the middle pixel is
 * split between them, worked by hand. */
static void
test_fractional_coverage_by_hand (void)
{
  guint8 mem[3] = { 0, 100, 255 };
  CnnImage img = {
    3, 1, CNN_COLOR_GREY, {plane (mem, 3, 1, 0, 0)}, FALSE, 0, 0
  };
  CnnPreprocessor *pre = new_pre ("resize", 1, 1, 2);
  gfloat out[2];

  /* (0 + 0.5·100) / 1.5 and (0.5·100 + 255) / 1.5 */
  g_assert_true (cnn_preprocessor_run (pre, &img, (CnnRect) { 0, 0, 3, 1 },
          out));
  g_assert_cmpfloat_with_epsilon (out[0], 50 / 1.5 / 255, 1e-6);
  g_assert_cmpfloat_with_epsilon (out[1], 305 / 1.5 / 255, 1e-6);
  cnn_preprocessor_free (pre);
}

/* ---- one picture, every layout ------------------------------------- */

/* A 16×12 picture of 2×2 blocks of one colour each, so 4:2:0 and 4:2:2
 * chroma hold it exactly. */
#define PIC_W 16
#define PIC_H 12

typedef struct
{
  guint8 rgb[PIC_H][PIC_W][3];
} Picture;

static void
picture_fill (Picture * pic, GRand * rand, const guint8 (*palette)[3],
    guint n_colours)
{
  for (guint by = 0; by < PIC_H; by += 2) {
    for (guint bx = 0; bx < PIC_W; bx += 2) {
      const guint8 *c = palette[g_rand_int_range (rand, 0, n_colours)];

      for (guint y = by; y < by + 2; y++)
        for (guint x = bx; x < bx + 2; x++)
          memcpy (pic->rgb[y][x], c, 3);
    }
  }
}

/* BT.601 limited range, rounded as an encoder would. */
static void
rgb_to_yuv (const guint8 rgb[3], guint8 yuv[3])
{
  gdouble r = rgb[0] / 255.0, g = rgb[1] / 255.0, b = rgb[2] / 255.0;
  gdouble y = BT601_KR * r + (1 - BT601_KR - BT601_KB) * g + BT601_KB * b;
  gdouble cb = (b - y) / (2 * (1 - BT601_KB));
  gdouble cr = (r - y) / (2 * (1 - BT601_KR));

  yuv[0] = (guint8) CLAMP (lround (16 + 219 * y), 0, 255);
  yuv[1] = (guint8) CLAMP (lround (128 + 224 * cb), 0, 255);
  yuv[2] = (guint8) CLAMP (lround (128 + 224 * cr), 0, 255);
}

typedef struct
{
  const gchar *name;
  guint8 *mem;
  CnnImage image;
} Layout;

static Layout
layout_grey (const Picture * pic)
{
  const gint stride = PIC_W + 3;
  Layout l = { "GRAY8", g_malloc0 ((gsize) stride * PIC_H) };

  for (guint y = 0; y < PIC_H; y++)
    for (guint x = 0; x < PIC_W; x++)
      l.mem[y * stride + x] = pic->rgb[y][x][0];
  l.image = (CnnImage) {
  PIC_W, PIC_H, CNN_COLOR_GREY, {
  plane (l.mem, stride, 1, 0, 0)}, FALSE, 0, 0};
  return l;
}

/* Packed RGB of @bpp bytes a pixel, R, G, B at the given offsets. */
static Layout
layout_packed_rgb (const Picture * pic, const gchar * name, guint bpp,
    guint r, guint g, guint b)
{
  const gint stride = PIC_W * bpp + 5;
  Layout l = { name, g_malloc ((gsize) stride * PIC_H) };

  memset (l.mem, 0x5a, (gsize) stride * PIC_H);
  for (guint y = 0; y < PIC_H; y++) {
    for (guint x = 0; x < PIC_W; x++) {
      guint8 *px = l.mem + y * stride + x * bpp;

      px[r] = pic->rgb[y][x][0];
      px[g] = pic->rgb[y][x][1];
      px[b] = pic->rgb[y][x][2];
    }
  }
  l.image = (CnnImage) {
  PIC_W, PIC_H, CNN_COLOR_RGB, {
  plane (l.mem + r, stride, bpp, 0, 0), plane (l.mem + g, stride, bpp, 0,
            0), plane (l.mem + b, stride, bpp, 0, 0)},
        FALSE, BT601_KR, BT601_KB};
  return l;
}

static Layout
layout_i420 (const Picture * pic)
{
  const gint ys = PIC_W + 1, cs = PIC_W / 2 + 3;
  const gsize y_size = (gsize) ys * PIC_H, c_size = (gsize) cs * PIC_H / 2;
  Layout l = { "I420", g_malloc0 (y_size + 2 * c_size) };
  guint8 *u = l.mem + y_size, *v = u + c_size;

  for (guint y = 0; y < PIC_H; y++) {
    for (guint x = 0; x < PIC_W; x++) {
      guint8 yuv[3];

      rgb_to_yuv (pic->rgb[y][x], yuv);
      l.mem[y * ys + x] = yuv[0];
      u[(y / 2) * cs + x / 2] = yuv[1];
      v[(y / 2) * cs + x / 2] = yuv[2];
    }
  }
  l.image = (CnnImage) {
  PIC_W, PIC_H, CNN_COLOR_YUV, {
  plane (l.mem, ys, 1, 0, 0), plane (u, cs, 1, 1, 1), plane (v, cs, 1, 1,
            1)}, TRUE, BT601_KR, BT601_KB};
  return l;
}

static Layout
layout_nv12 (const Picture * pic)
{
  const gint stride = PIC_W + 4;
  const gsize y_size = (gsize) stride * PIC_H;
  Layout l = { "NV12", g_malloc0 (y_size + (gsize) stride * PIC_H / 2) };
  guint8 *uv = l.mem + y_size;

  for (guint y = 0; y < PIC_H; y++) {
    for (guint x = 0; x < PIC_W; x++) {
      guint8 yuv[3];

      rgb_to_yuv (pic->rgb[y][x], yuv);
      l.mem[y * stride + x] = yuv[0];
      uv[(y / 2) * stride + (x / 2) * 2] = yuv[1];
      uv[(y / 2) * stride + (x / 2) * 2 + 1] = yuv[2];
    }
  }
  l.image = (CnnImage) {
  PIC_W, PIC_H, CNN_COLOR_YUV, {
  plane (l.mem, stride, 1, 0, 0), plane (uv, stride, 2, 1, 1),
        plane (uv + 1, stride, 2, 1, 1)}, TRUE, BT601_KR, BT601_KB};
  return l;
}

static Layout
layout_yuy2 (const Picture * pic)
{
  const gint stride = PIC_W * 2 + 6;
  Layout l = { "YUY2", g_malloc0 ((gsize) stride * PIC_H) };

  for (guint y = 0; y < PIC_H; y++) {
    for (guint x = 0; x < PIC_W; x++) {
      guint8 yuv[3];
      guint8 *pair = l.mem + y * stride + (x / 2) * 4;

      rgb_to_yuv (pic->rgb[y][x], yuv);
      pair[(x % 2) * 2] = yuv[0];
      pair[1] = yuv[1];
      pair[3] = yuv[2];
    }
  }
  l.image = (CnnImage) {
  PIC_W, PIC_H, CNN_COLOR_YUV, {
  plane (l.mem, stride, 2, 0, 0), plane (l.mem + 1, stride, 4, 1, 0),
        plane (l.mem + 3, stride, 4, 1, 0)}, TRUE, BT601_KR, BT601_KB};
  return l;
}

/* Every layout of @pic; returns how many. */
static guint
make_layouts (const Picture * pic, gboolean with_grey, Layout * out)
{
  guint n = 0;

  if (with_grey)
    out[n++] = layout_grey (pic);
  out[n++] = layout_packed_rgb (pic, "RGB", 3, 0, 1, 2);
  out[n++] = layout_packed_rgb (pic, "BGR", 3, 2, 1, 0);
  out[n++] = layout_packed_rgb (pic, "xRGB", 4, 1, 2, 3);
  out[n++] = layout_packed_rgb (pic, "BGRx", 4, 2, 1, 0);
  out[n++] = layout_i420 (pic);
  out[n++] = layout_nv12 (pic);
  out[n++] = layout_yuy2 (pic);
  return n;
}

static const CnnRect layout_rois[] = {
  {0, 0, PIC_W, PIC_H}, {1, 3, 11, 7}, {5, 0, 100, 100}, {15, 11, 1, 1},
};

/* Each layout of @pic, through a model of @shape, against @expected
 * (the first layout's output); YUV layouts within @yuv_tolerance. */
static void
check_layouts_agree (const Picture * pic, gboolean with_grey,
    CnnShape shape, gdouble yuv_tolerance)
{
  Layout layouts[8];
  guint n_layouts = make_layouts (pic, with_grey, layouts);
  CnnPreprocessor *pre = new_pre ("resize", shape.c, shape.h, shape.w);
  gsize n = cnn_shape_size (shape);
  gfloat *got = g_new (gfloat, n);
  gdouble *want = g_new (gdouble, n);

  for (guint r = 0; r < G_N_ELEMENTS (layout_rois); r++) {
    /* Expected: the reference run on the packed RGB layout. */
    g_assert_true (ref_preprocess (&layouts[with_grey ? 1 : 0].image,
            layout_rois[r], shape, NULL, NULL, want));
    for (guint i = 0; i < n_layouts; i++) {
      gboolean yuv = layouts[i].image.color == CNN_COLOR_YUV;
      gchar *what = g_strdup_printf ("%s, %u-channel model, region %u",
          layouts[i].name, shape.c, r);

      g_assert_true (cnn_preprocessor_run (pre, &layouts[i].image,
              layout_rois[r], got));
      assert_close (got, want, n, yuv ? yuv_tolerance : 1e-5, what);
      g_free (what);
    }
  }
  for (guint i = 0; i < n_layouts; i++)
    g_free (layouts[i].mem);
  g_free (got);
  g_free (want);
  cnn_preprocessor_free (pre);
}

static const guint8 black_white[][3] = {
  {0, 0, 0}, {255, 255, 255},
};

static const guint8 pure_colours[][3] = {
  {0, 0, 0}, {255, 255, 255}, {255, 0, 0}, {0, 255, 0}, {0, 0, 255},
  {255, 255, 0}, {0, 255, 255}, {255, 0, 255},
};

static void
test_layouts_grey_model (void)
{
  GRand *rand = g_rand_new_with_seed (5);
  Picture pic;

  /* Black and white convert exactly in every layout (Y 16 / 235). */
  picture_fill (&pic, rand, black_white, G_N_ELEMENTS (black_white));
  check_layouts_agree (&pic, TRUE, (CnnShape) { 1, 28, 28 }, 1e-5);
  check_layouts_agree (&pic, TRUE, (CnnShape) { 1, 5, 3 }, 1e-5);
  g_rand_free (rand);
}

static void
test_layouts_rgb_model (void)
{
  GRand *rand = g_rand_new_with_seed (6);
  Picture pic;

  /* Grey replicated into three channels. */
  picture_fill (&pic, rand, black_white, G_N_ELEMENTS (black_white));
  check_layouts_agree (&pic, TRUE, (CnnShape) { 3, 28, 28 }, 1e-5);
  /* Pure colours: exact from RGB, within 8-bit YUV's loss from YUV. */
  picture_fill (&pic, rand, pure_colours, G_N_ELEMENTS (pure_colours));
  check_layouts_agree (&pic, FALSE, (CnnShape) { 3, 28, 28 }, 1e-2);
  check_layouts_agree (&pic, FALSE, (CnnShape) { 3, 5, 3 }, 1e-2);
  g_rand_free (rand);
}

/* ---- normalisation ------------------------------------------------- */

static void
test_mean_std (void)
{
  GRand *rand = g_rand_new_with_seed (7);
  const guint w = 23, h = 19;
  guint8 *mem = random_bytes (rand, (gsize) 3 * w * h);
  CnnImage grey = {
    w, h, CNN_COLOR_GREY, {plane (mem, w, 1, 0, 0)}, FALSE, 0, 0
  };
  CnnImage rgb = {
    w, h, CNN_COLOR_RGB,
    {plane (mem, 3 * w, 3, 0, 0), plane (mem + 1, 3 * w, 3, 0, 0),
        plane (mem + 2, 3 * w, 3, 0, 0)},
    FALSE, BT601_KR, BT601_KB
  };
  const CnnRect roi = { 2, 1, 20, 17 };
  const gdouble mnist_mean[] = { 0.1307 }, mnist_std[] = { 0.3081 };
  const gdouble mean3[] = { 0.485, 0.456, 0.406 };
  const gdouble std3[] = { 0.229, 0.224, 0.225 };
  const gdouble same_mean[] = { 0.5, 0.5, 0.5 };
  const gdouble same_std[] = { 0.25, 0.25, 0.25 };

  check_against_reference ("resize mean=0.1307 std=0.3081", mnist_mean,
      mnist_std, (CnnShape) { 1, 28, 28 }, &grey, roi, "grey mean/std");
  check_against_reference ("resize mean=0.485,0.456,0.406 "
      "std=0.229,0.224,0.225", mean3, std3, (CnnShape) { 3, 28, 28 }, &rgb,
      roi, "per-channel mean/std");
  check_against_reference ("resize mean=0.5 std=0.25", same_mean, same_std,
      (CnnShape) { 3, 9, 9 }, &rgb, roi, "one mean/std for all channels");
  g_free (mem);
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/preprocess/spec/canonical", test_spec_canonical);
  g_test_add_func ("/preprocess/spec/rejected", test_spec_rejected);
  g_test_add_func ("/preprocess/spec/unknown-mode",
      test_unknown_mode_lists_modes);
  g_test_add_func ("/preprocess/spec/channels", test_channels_rejected);
  g_test_add_func ("/preprocess/spec/mnist-shapes", test_mnist_shapes);
  g_test_add_func ("/preprocess/resize/grey-reference",
      test_grey_against_reference);
  g_test_add_func ("/preprocess/resize/bottom-up", test_bottom_up_rows);
  g_test_add_func ("/preprocess/resize/yuv420-reference",
      test_yuv420_against_reference);
  g_test_add_func ("/preprocess/resize/interleaved-reference",
      test_interleaved_against_reference);
  g_test_add_func ("/preprocess/resize/other-subsampling",
      test_other_subsampling_against_reference);
  g_test_add_func ("/preprocess/resize/empty-region", test_empty_region);
  g_test_add_func ("/preprocess/mnist/digit-box", test_mnist_digit_box);
  g_test_add_func ("/preprocess/resize/by-hand",
      test_fractional_coverage_by_hand);
  g_test_add_func ("/preprocess/layouts/grey-model", test_layouts_grey_model);
  g_test_add_func ("/preprocess/layouts/rgb-model", test_layouts_rgb_model);
  g_test_add_func ("/preprocess/normalise/mean-std", test_mean_std);
  return g_test_run ();
}
