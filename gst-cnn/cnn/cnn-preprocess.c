/* Frame preprocessing (docs/design.md §1, §4): a region of a video frame → one
 * model input, as the model's "preprocess" text says.
 *
 *   resize [mean=A[,B,C]] [std=A[,B,C]]
 *   mnist [mean=A] [std=A]
 *
 * "resize" area-averages the region to the input's H×W (cnn-resize.c),
 * converts colour to what the model takes (grey or RGB) in 0..1, then
 * applies (v - mean[c]) / std[c].  mean and std take one value for all
 * channels or one per channel; they default to 0 and 1.
 *
 * "mnist" (grey models of at least 8×8) area-averages the region to a
 * work grid of 8 cells per model pixel (3 for a region that has no more
 * pixels than that: a 28×28 frame), takes its luma, then finds
 * the digit and frames it as the MNIST digits were (cnn-mnist.c): ink
 * made bright on dark, lighting flattened, contrast set by percentiles,
 * the main ink component near the centre cropped, fitted into 20/28 of
 * the input keeping its aspect and centred by centre of mass.  No ink,
 * no input: cnn_preprocessor_run() returns FALSE.  mean/std follow.
 *
 * Per frame the work is: clip the region, scale each source plane to
 * H×W (or work grid) sample means, convert colour, (find the digit,)
 * normalise; everything it writes to was allocated by
 * cnn_preprocessor_new(), but for the scaler's weight tables, made on
 * the first frame of a region and layout.
 */
#include "cnn-private.h"
#include "cnn-clones.h"
#include "cnn-mnist.h"
#include "cnn-number.h"
#include "cnn-resize.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define KNOWN_MODES "resize, mnist"

typedef enum
{
  CNN_PREPROCESS_RESIZE,
  CNN_PREPROCESS_MNIST,
} CnnPreprocessMode;

static const gchar *const mode_names[] = { "resize", "mnist" };

/* A grid the region is scaled to, its scaler, and the mean sample value
 * (0..255) of each source plane over each cell: 3 planes × h × w; for
 * "mnist", the digit finder working on it, and for numbers their
 * reader. */
typedef struct
{
  guint w, h;
  CnnResizer *resizer;
  gfloat *means[3];
  CnnMnist *mnist;
  CnnNumber *number;
} CnnGrid;

/* The number reader's work grid (cnn_preprocessor_new_number()): as
 * many cells as "mnist"'s 224 × 224 for one digit, so that reading a
 * number costs the same preprocessing as reading a digit (a 320 × 240
 * grid read 1 % more numbers of tests/eval/number-eval.sh --dev, and
 * made number mode 2.05 times digit mode's cost for 4 digits against
 * 1.84; tests/bench/bench-element.py --number). */
#define NUMBER_WORK_W 256
#define NUMBER_WORK_H 192

struct _CnnPreprocessor
{
  gchar *spec;                  /* canonical text */
  CnnPreprocessMode mode;
  CnnShape input;
  gfloat mean[3];
  gfloat std[3];
  gfloat inv_std[3];            /* 1 / std: no division per value */
  gboolean normalises;          /* some mean != 0 or std != 1 */
  gboolean reads_numbers;       /* one grid, NUMBER_WORK_W × _H */

  /* The grids a region is scaled to: the input's H × W, or for "mnist"
   * the digit finder's work grid and a compact one for small regions. */
  CnnGrid grids[2];
  guint n_grids;

  /* The grid whose digit finder framed a digit in the last run, and the
   * region it was scaled from; NULL when the last run framed none. */
  const CnnGrid *framed_grid;
  CnnRect framed_rect;
};

/* ---- the spec text ------------------------------------------------- */

/* "A" or "A,B,C" (one per channel) → @values for every channel. */
static gboolean
parse_values (const gchar * text, guint n_channels, gboolean positive,
    gfloat values[3])
{
  gchar **parts = g_strsplit (text, ",", -1);
  guint n = g_strv_length (parts);
  gboolean ok = n == 1 || n == n_channels;

  for (guint i = 0; ok && i < n; i++) {
    gchar *end;
    gdouble v;

    /* Plain decimal only: strtod would also take hex and "inf". */
    errno = 0;
    v = g_ascii_strtod (parts[i], &end);
    ok = *parts[i] && *end == '\0'
        && strspn (parts[i], "0123456789+-.eE") == strlen (parts[i])
        && errno == 0 && isfinite (v) && fabs (v) <= G_MAXFLOAT
        && (!positive || v > 0.0);
    values[i] = (gfloat) v;
    /* A tiny std can underflow to a float zero or have no finite
     * inverse. */
    ok = ok && (!positive || isfinite (1.0f / values[i]));
  }
  for (guint i = n; ok && i < n_channels; i++)
    values[i] = values[0];
  g_strfreev (parts);
  return ok;
}

static void
append_values (GString * text, const gchar * key, const gfloat * values,
    guint n)
{
  g_string_append_printf (text, " %s=", key);
  for (guint i = 0; i < n; i++) {
    if (i > 0)
      g_string_append_c (text, ',');
    cnn_string_append_float (text, values[i]);
  }
}

static gchar *
canonical_spec (const CnnPreprocessor * pre)
{
  GString *text = g_string_new (mode_names[pre->mode]);

  if (pre->normalises) {
    append_values (text, "mean", pre->mean, pre->input.c);
    append_values (text, "std", pre->std, pre->input.c);
  }
  return g_string_free (text, FALSE);
}

/* Words of @spec, without the empty ones runs of white space leave. */
static gchar **
split_words (const gchar * spec)
{
  gchar **words = g_strsplit_set (spec, " \t\r\n", -1);
  guint n = 0;

  for (guint i = 0; words[i]; i++)
    if (*words[i])
      words[n++] = words[i];
    else
      g_free (words[i]);
  words[n] = NULL;
  return words;
}

static gboolean
parse_option (CnnPreprocessor * pre, const gchar * spec, const gchar * word,
    gboolean * mean_seen, gboolean * std_seen, GError ** error)
{
  const guint nc = pre->input.c;
  const gchar *expected = nc == 1 ? "one number" : "one number or 3";

  if (g_str_has_prefix (word, "mean=")) {
    if (*mean_seen)
      goto repeated;
    *mean_seen = TRUE;
    if (!parse_values (word + 5, nc, FALSE, pre->mean)) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
          "preprocess '%s': cannot use '%s'; mean= takes %s, separated by "
          "commas, for a model of %u channel%s", spec, word, expected, nc,
          nc == 1 ? "" : "s");
      return FALSE;
    }
  } else if (g_str_has_prefix (word, "std=")) {
    if (*std_seen)
      goto repeated;
    *std_seen = TRUE;
    if (!parse_values (word + 4, nc, TRUE, pre->std)) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
          "preprocess '%s': cannot use '%s'; std= takes %s (> 0), "
          "separated by commas, for a model of %u channel%s", spec, word,
          expected, nc, nc == 1 ? "" : "s");
      return FALSE;
    }
    for (guint c = 0; c < nc; c++)
      pre->inv_std[c] = 1.0f / pre->std[c];
  } else {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "preprocess '%s': unknown word '%s' (after the mode: mean=A[,B,C] "
        "and std=A[,B,C])", spec, word);
    return FALSE;
  }
  return TRUE;

  /* ERRORS */
repeated:
  g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
      "preprocess '%s': '%s' repeats a setting given before", spec, word);
  return FALSE;
}

static gboolean
parse_spec (CnnPreprocessor * pre, const gchar * spec, GError ** error)
{
  gchar **words = split_words (spec);
  gboolean mean_seen = FALSE, std_seen = FALSE, ok = TRUE;

  for (guint c = 0; c < 3; c++) {
    pre->mean[c] = 0.0f;
    pre->std[c] = pre->inv_std[c] = 1.0f;
  }
  if (!words[0]) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "preprocess '%s' is empty; expected a mode (" KNOWN_MODES ")", spec);
    ok = FALSE;
  } else if (g_str_equal (words[0], "resize")) {
    pre->mode = CNN_PREPROCESS_RESIZE;
  } else if (g_str_equal (words[0], "mnist")) {
    pre->mode = CNN_PREPROCESS_MNIST;
  } else {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "preprocess '%s': unknown mode '%s' (modes: " KNOWN_MODES ")", spec,
        words[0]);
    ok = FALSE;
  }
  for (guint i = 1; ok && words[i]; i++)
    ok = parse_option (pre, spec, words[i], &mean_seen, &std_seen, error);

  for (guint c = 0; ok && c < pre->input.c; c++)
    pre->normalises |= pre->mean[c] != 0.0f || pre->std[c] != 1.0f;
  g_strfreev (words);
  return ok;
}

/* ---- life cycle ---------------------------------------------------- */

/* The digit finder: only for grey inputs it can frame a digit in. */
static gboolean
check_mnist_input (const CnnPreprocessor * pre, const gchar * spec,
    GError ** error)
{
  const CnnShape in = pre->input;

  if (in.c != 1) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "preprocess '%s': mode mnist prepares grey digits, but the model "
        "input %ux%ux%u has %u channels (it needs 1)", spec, in.c, in.h,
        in.w, in.c);
    return FALSE;
  }
  if (in.h < CNN_MNIST_MIN_SIDE || in.w < CNN_MNIST_MIN_SIDE) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "preprocess '%s': mode mnist needs a model input of at least "
        "%ux%u pixels; %ux%ux%u is too small to frame a digit in", spec,
        CNN_MNIST_MIN_SIDE, CNN_MNIST_MIN_SIDE, in.c, in.h, in.w);
    return FALSE;
  }
  return TRUE;
}

CnnPreprocessor *
cnn_preprocessor_new (const gchar * spec, CnnShape input, GError ** error)
{
  return cnn_preprocessor_new_full (spec, input, 0, error);
}

/* The grid's planes of means and the scaler's tables: what a model input
 * of @grid_w × @grid_h makes cnn_preprocessor_new_full() allocate, besides
 * the "mnist" framer, whose work picture is bounded on its own. */
static guint64
preprocessor_bytes (guint grid_w, guint grid_h)
{
  guint64 plane = (guint64) grid_w * grid_h;

  return cnn_bytes_add (cnn_bytes_mul (3 * plane, sizeof (gfloat)),
      cnn_resizer_bytes (grid_w, grid_h));
}

/* Grid @g of @w × @h cells (for "mnist", a digit finder of @scale
 * cells per model pixel decides them). */
static gboolean
grid_init (CnnPreprocessor * pre, CnnGrid * g, guint scale, GError ** error)
{
  gsize plane_size;

  g->w = pre->input.w;
  g->h = pre->input.h;
  if (pre->mode == CNN_PREPROCESS_MNIST) {
    g->mnist = pre->reads_numbers ? cnn_mnist_new_sized (pre->input.w,
        pre->input.h, NUMBER_WORK_W, NUMBER_WORK_H, error)
        : cnn_mnist_new (pre->input.w, pre->input.h, scale, error);
    if (!g->mnist)
      return FALSE;
    cnn_mnist_work_size (g->mnist, &g->w, &g->h);
  }
  if (pre->reads_numbers && !(g->number = cnn_number_new (g->mnist))) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM,
        "preprocess '%s': cannot allocate a number reader for a %ux%u "
        "grid", pre->spec, g->w, g->h);
    return FALSE;
  }
  g->resizer = cnn_resizer_new (g->w, g->h, error);
  if (!g->resizer)
    return FALSE;
  plane_size = (gsize) g->h * g->w;
  g->means[0] = g_try_new (gfloat, 3 * plane_size);
  if (!g->means[0]) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM,
        "preprocess '%s': cannot allocate room for a %ux%u grid",
        pre->spec, g->h, g->w);
    return FALSE;
  }
  g->means[1] = g->means[0] + plane_size;
  g->means[2] = g->means[1] + plane_size;
  return TRUE;
}

static void
grid_clear (CnnGrid * g)
{
  cnn_resizer_free (g->resizer);
  cnn_number_free (g->number);
  cnn_mnist_free (g->mnist);
  g_free (g->means[0]);
}

/* The side of "mnist"'s grid at @scale cells per model pixel. */
static guint64
mnist_side (guint model_side, guint scale)
{
  return MIN ((guint64) model_side * scale, CNN_MNIST_MAX_WORK_SIDE);
}

/* The grids, checked against @memory_limit first: the input's, or for
 * "mnist" the fine work grid and the compact one. */
static gboolean
make_grids (CnnPreprocessor * pre, guint64 memory_limit, GError ** error)
{
  const CnnShape in = pre->input;
  const gboolean mnist = pre->mode == CNN_PREPROCESS_MNIST;
  guint64 bytes = mnist ? cnn_bytes_add (preprocessor_bytes (mnist_side
          (in.w, CNN_MNIST_WORK_SCALE), mnist_side (in.h,
              CNN_MNIST_WORK_SCALE)), preprocessor_bytes (mnist_side (in.w,
              CNN_MNIST_COMPACT_SCALE), mnist_side (in.h,
              CNN_MNIST_COMPACT_SCALE))) : preprocessor_bytes (in.w, in.h);
  g_autofree gchar *what = g_strdup_printf ("preprocess '%s' for a %ux%ux%u "
      "model input%s", pre->spec, in.c, in.h, in.w, pre->reads_numbers ?
      ", reading numbers" : "");

  if (pre->reads_numbers)
    bytes = cnn_bytes_add (preprocessor_bytes (NUMBER_WORK_W, NUMBER_WORK_H),
        cnn_number_bytes (NUMBER_WORK_W, NUMBER_WORK_H));
  if (!cnn_memory_check (bytes, memory_limit, what, error))
    return FALSE;
  pre->n_grids = mnist && !pre->reads_numbers ? 2 : 1;
  for (guint i = 0; i < pre->n_grids; i++)
    if (!grid_init (pre, &pre->grids[i], i == 0 ? CNN_MNIST_WORK_SCALE
            : CNN_MNIST_COMPACT_SCALE, error))
      return FALSE;
  return TRUE;
}

static CnnPreprocessor *preprocessor_new (const gchar * spec,
    CnnShape input, gboolean numbers, guint64 memory_limit, GError ** error);

CnnPreprocessor *
cnn_preprocessor_new_full (const gchar * spec, CnnShape input,
    guint64 memory_limit, GError ** error)
{
  return preprocessor_new (spec, input, FALSE, memory_limit, error);
}

CnnPreprocessor *
cnn_preprocessor_new_number (const gchar * spec, CnnShape input,
    guint64 memory_limit, GError ** error)
{
  return preprocessor_new (spec, input, TRUE, memory_limit, error);
}

static CnnPreprocessor *
preprocessor_new (const gchar * spec, CnnShape input, gboolean numbers,
    guint64 memory_limit, GError ** error)
{
  CnnPreprocessor *pre;

  g_return_val_if_fail (spec != NULL, NULL);

  if (input.c != 1 && input.c != 3) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "preprocess '%s': the model input %ux%ux%u has %u channels; only 1 "
        "(grey) or 3 (RGB) can be prepared from a frame", spec, input.c,
        input.h, input.w, input.c);
    return NULL;
  }
  if (input.h == 0 || input.w == 0) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "preprocess '%s': the model input %ux%ux%u is empty", spec, input.c,
        input.h, input.w);
    return NULL;
  }

  pre = g_new0 (CnnPreprocessor, 1);
  pre->input = input;
  if (!parse_spec (pre, spec, error))
    goto failed;
  pre->spec = canonical_spec (pre);
  if (numbers && pre->mode != CNN_PREPROCESS_MNIST) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "preprocess '%s': numbers are read digit by digit as mode mnist "
        "prepares them, not with mode %s", spec, mode_names[pre->mode]);
    goto failed;
  }
  pre->reads_numbers = numbers;
  if (pre->mode == CNN_PREPROCESS_MNIST
      && !check_mnist_input (pre, spec, error))
    goto failed;
  if (!make_grids (pre, memory_limit, error))
    goto failed;
  return pre;

  /* ERRORS */
failed:
  cnn_preprocessor_free (pre);
  return NULL;
}

void
cnn_preprocessor_free (CnnPreprocessor * pre)
{
  if (!pre)
    return;
  for (guint i = 0; i < pre->n_grids; i++)
    grid_clear (&pre->grids[i]);
  g_free (pre->spec);
  g_free (pre);
}

const gchar *
cnn_preprocessor_spec (const CnnPreprocessor * pre)
{
  return pre->spec;
}

/* ---- per frame ----------------------------------------------------- */

/* Source planes the conversion to the model's channels reads. */
static guint
n_source_planes (const CnnPreprocessor * pre, const CnnImage * image)
{
  if (pre->input.c == 1)
    return image->color == CNN_COLOR_RGB ? 3 : 1;
  return image->color == CNN_COLOR_GREY ? 1 : 3;
}

/* Whether the conversion needs the image's kr/kb matrix. */
static gboolean
needs_matrix (const CnnPreprocessor * pre, const CnnImage * image)
{
  return (pre->input.c == 1 && image->color == CNN_COLOR_RGB)
      || (pre->input.c == 3 && image->color == CNN_COLOR_YUV);
}

/* The caller's description of the frame is checked, not trusted: a
 * mistake there is a programming error, reported and refused. */
static gboolean
image_is_valid (const CnnPreprocessor * pre, const CnnImage * image,
    guint n_planes)
{
  g_return_val_if_fail (image->color <= CNN_COLOR_YUV, FALSE);
  for (guint k = 0; k < n_planes; k++) {
    const CnnPlane *p = &image->planes[k];

    g_return_val_if_fail (p->data != NULL, FALSE);
    g_return_val_if_fail (p->pixel_stride > 0, FALSE);
    g_return_val_if_fail (p->x_shift <= CNN_RESIZE_MAX_SHIFT
        && p->y_shift <= CNN_RESIZE_MAX_SHIFT, FALSE);
  }
  if (needs_matrix (pre, image))
    g_return_val_if_fail (image->kr > 0.0f && image->kb > 0.0f
        && image->kr + image->kb < 1.0f, FALSE);
  return TRUE;
}

/* @roi ∩ frame → @rect; FALSE when that is empty. */
static gboolean
clip_roi (const CnnImage * image, CnnRect roi, CnnRect * rect)
{
  if (roi.width == 0 || roi.height == 0 || roi.x >= image->width
      || roi.y >= image->height)
    return FALSE;
  rect->x = roi.x;
  rect->y = roi.y;
  rect->width = MIN (roi.width, image->width - roi.x);
  rect->height = MIN (roi.height, image->height - roi.y);
  return TRUE;
}

static gboolean
planes_match (const CnnPlane * a, const CnnPlane * b)
{
  return a->x_shift == b->x_shift && a->y_shift == b->y_shift
      && a->pixel_stride == b->pixel_stride;
}

/* The grid a region @rect goes to: "mnist"'s compact one when the
 * region has no more pixels than it has cells each way. */
static CnnGrid *
grid_for (CnnPreprocessor * pre, CnnRect rect)
{
  CnnGrid *compact = &pre->grids[1];

  if (pre->n_grids == 2 && rect.width <= compact->w
      && rect.height <= compact->h)
    return compact;
  return &pre->grids[0];
}

/* Scales the first @n_planes planes into @g's means; planes laid out
 * alike go in one call, sharing the scaler's weight tables.  FALSE when
 * those find no memory. */
static gboolean
average_planes (CnnGrid * g, const CnnImage * image, guint n_planes,
    CnnRect rect)
{
  gboolean done[3] = { FALSE, FALSE, FALSE };

  for (guint k = 0; k < n_planes; k++) {
    const CnnPlane *group[3];
    gfloat *dest[3];
    guint n = 0;

    if (done[k])
      continue;
    for (guint j = k; j < n_planes; j++) {
      if (done[j] || !planes_match (&image->planes[j], &image->planes[k]))
        continue;
      group[n] = &image->planes[j];
      dest[n++] = g->means[j];
      done[j] = TRUE;
    }
    if (!cnn_resizer_run (g->resizer, group, n, rect, dest))
      return FALSE;
  }
  return TRUE;
}

/* in (n) → out (n) = clamp (in · scale + offset, 0, 1) */
static void
scale_clamp (const gfloat * in, gsize n, gfloat scale, gfloat offset,
    gfloat * out)
{
  for (gsize i = 0; i < n; i++)
    out[i] = CLAMP (in[i] * scale + offset, 0.0f, 1.0f);
}

/* R, G, B means (n each, 0..255) → luma (n) in 0..1 */
static void
rgb_to_grey (gfloat * const *rgb, gsize n, gfloat kr, gfloat kb, gfloat * out)
{
  const gfloat r = kr / 255.0f, g = (1.0f - kr - kb) / 255.0f,
      b = kb / 255.0f;

  for (gsize i = 0; i < n; i++)
    out[i] = CLAMP (r * rgb[0][i] + g * rgb[1][i] + b * rgb[2][i], 0.0f,
        1.0f);
}

/* Y, U, V means (n each) → R, G, B planes (3 × n) in 0..1 */
static void
yuv_to_rgb (gfloat * const *yuv, gsize n, const CnnImage * image,
    gfloat * out)
{
  const gfloat kr = image->kr, kb = image->kb, kg = 1.0f - kr - kb;
  const gfloat y_scale = image->limited_range ? 1.0f / 219 : 1.0f / 255;
  const gfloat y_offset = image->limited_range ? -16.0f / 219 : 0.0f;
  const gfloat c_scale = image->limited_range ? 1.0f / 224 : 1.0f / 255;
  const gfloat c_offset = -128.0f * c_scale;
  const gfloat r_cr = 2 * (1 - kr), b_cb = 2 * (1 - kb);
  const gfloat g_cb = 2 * kb * (1 - kb) / kg, g_cr = 2 * kr * (1 - kr) / kg;

  for (gsize i = 0; i < n; i++) {
    gfloat y = yuv[0][i] * y_scale + y_offset;
    gfloat cb = yuv[1][i] * c_scale + c_offset;
    gfloat cr = yuv[2][i] * c_scale + c_offset;

    out[i] = CLAMP (y + r_cr * cr, 0.0f, 1.0f);
    out[n + i] = CLAMP (y - g_cb * cb - g_cr * cr, 0.0f, 1.0f);
    out[2 * n + i] = CLAMP (y + b_cb * cb, 0.0f, 1.0f);
  }
}

/* @g's sample means → luma (h × w cells) in 0..1. */
static void
convert_grey (const CnnGrid * g, const CnnImage * image, gfloat * out)
{
  const gsize n = (gsize) g->w * g->h;

  if (image->color == CNN_COLOR_RGB)
    rgb_to_grey (g->means, n, image->kr, image->kb, out);
  else if (image->color == CNN_COLOR_YUV && image->limited_range)
    scale_clamp (g->means[0], n, 1.0f / 219, -16.0f / 219, out);
  else
    scale_clamp (g->means[0], n, 1.0f / 255, 0.0f, out);
}

/* @g's sample means (the input's H × W) → the model's channels in
 * 0..1. */
static void
convert_colour (const CnnPreprocessor * pre, const CnnGrid * g,
    const CnnImage * image, gfloat * out)
{
  const gsize n = (gsize) g->w * g->h;

  if (pre->input.c == 1) {
    convert_grey (g, image, out);
    return;
  }
  if (image->color == CNN_COLOR_YUV) {
    yuv_to_rgb (g->means, n, image, out);
    return;
  }
  for (guint c = 0; c < 3; c++)
    scale_clamp (g->means[image->color == CNN_COLOR_GREY ? 0 : c], n,
        1.0f / 255, 0.0f, out + c * n);
}

/* out (C × n) = (out - mean[c]) / std[c] */
static void
normalise (const CnnPreprocessor * pre, gfloat * out)
{
  const gsize n = (gsize) pre->input.h * pre->input.w;

  for (guint c = 0; c < pre->input.c; c++) {
    gfloat *v = out + c * n;

    for (gsize i = 0; i < n; i++)
      v[i] = (v[i] - pre->mean[c]) * pre->inv_std[c];
  }
}

/* @roi of @image → the grey work picture of its grid's digit finder;
 * the grid, or NULL when there is nothing to read.  *@rect is the
 * region clipped, *@aspect a work cell's width over its height. */
static CnnGrid *
fill_work_picture (CnnPreprocessor * pre, const CnnImage * image, CnnRect roi,
    CnnRect * rect, gdouble * aspect)
{
  CnnGrid *grid;

  if (!clip_roi (image, roi, rect))
    return NULL;
  grid = grid_for (pre, *rect);
  if (!average_planes (grid, image, n_source_planes (pre, image), *rect))
    return NULL;
  /* Work cells are rect / grid frame pixels each way. */
  *aspect = ((gdouble) rect->width * grid->h)
      / ((gdouble) rect->height * grid->w);
  convert_grey (grid, image, cnn_mnist_work (grid->mnist));
  return grid;
}

CNN_VECTOR_CLONES gboolean
cnn_preprocessor_run (CnnPreprocessor * pre, const CnnImage * image,
    CnnRect roi, gfloat * out)
{
  CnnRect rect;
  CnnGrid *grid;
  gdouble aspect;

  g_return_val_if_fail (pre != NULL && image != NULL && out != NULL, FALSE);

  pre->framed_grid = NULL;
  if (!image_is_valid (pre, image, n_source_planes (pre, image)))
    return FALSE;
  if (pre->mode == CNN_PREPROCESS_MNIST) {
    grid = fill_work_picture (pre, image, roi, &rect, &aspect);
    if (!grid || !cnn_mnist_run (grid->mnist, aspect, out))
      return FALSE;
    /* Kept to map the box on demand, not on every frame. */
    pre->framed_grid = grid;
    pre->framed_rect = rect;
  } else {
    if (!clip_roi (image, roi, &rect))
      return FALSE;
    grid = grid_for (pre, rect);
    if (!average_planes (grid, image, n_source_planes (pre, image), rect))
      return FALSE;
    convert_colour (pre, grid, image, out);
  }
  if (pre->normalises)
    normalise (pre, out);
  return TRUE;
}

CNN_VECTOR_CLONES CnnNumber *
cnn_preprocessor_number_picture (CnnPreprocessor * pre, const CnnImage * image,
    CnnRect roi, CnnRect * rect, gdouble * aspect)
{
  CnnGrid *grid;

  g_return_val_if_fail (pre != NULL && pre->reads_numbers && image != NULL,
      NULL);

  pre->framed_grid = NULL;
  if (!image_is_valid (pre, image, n_source_planes (pre, image)))
    return NULL;
  grid = fill_work_picture (pre, image, roi, rect, aspect);
  return grid ? grid->number : NULL;
}

gboolean
cnn_preprocessor_digit_box (const CnnPreprocessor * pre, CnnRect * box)
{
  const CnnGrid *grid;
  guint cells[4];

  g_return_val_if_fail (pre != NULL && box != NULL, FALSE);

  grid = pre->framed_grid;
  if (!grid)
    return FALSE;
  cnn_mnist_digit_box (grid->mnist, cells);
  *box = cnn_cells_to_rect (cells[0], cells[1], cells[2], cells[3], grid->w,
      grid->h, pre->framed_rect);
  return TRUE;
}

void
cnn_preprocessor_finish (const CnnPreprocessor * pre, gfloat * out)
{
  if (pre->normalises)
    normalise (pre, out);
}
