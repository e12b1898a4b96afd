/* libFuzzer target: arbitrary frames and regions → cnn_classifier_read_number(),
 * what cnnclassify mode=number calls for each frame.
 *
 * Input header (then pixel bytes):
 *   0      frame layout (as fuzz-preprocess: GREY ... YUY2)
 *   1-2    width - 1 (mod 720), 3-4 height - 1 (mod 576)
 *   5      bits 0-6 as fuzz-preprocess's byte 6 (row padding, bottom-up
 *          rows, limited range, BT.709); bit 7: the pixel bytes are a
 *          picture (byte 15 its width) scaled up to the frame, not a
 *          pattern repeated: strokes and blobs, not only texture
 *   6-13   region x, y, width, height (16 bits each, may leave the frame)
 *   14     threshold × 255; bit 0 also: read the frame a second time,
 *          which must give the same reading (no state kept that should
 *          not be)
 *   15     the picture's width - 1 (mod 64)
 *
 * The network is small and random (He-uniform, fixed seed), not the
 * bundled model: it is not what is fuzzed here (fuzz-model is), and
 * one pass of the bundled model per piece would cost most of each run;
 * random weights give confidences of every size, so that the reader's
 * doubts (a cut, a join) are settled either way.
 *
 * The invariants: at most CNN_NUMBER_MAX_DIGITS digits, each box
 * non-empty and inside the region clipped to the frame; classes in
 * range or -1 exactly when the confidence is under the threshold;
 * probabilities and inputs finite, probabilities summing to 1; the text
 * one character a digit, its label or '?'; with no smoothing, the text
 * shown the frame's own. */
#include "fuzz-common.h"

#include "fuzz-frame.h"

#include <glib/gstdio.h>

#define HEADER_SIZE 16
#define MAX_WIDTH 720
#define MAX_HEIGHT 576
#define N_CLASSES 10
#define ARCHITECTURE "conv 6 5 stride=2, relu, flatten, dense 10, softmax"

static CnnClassifier *classifier;

/* A random model saved in a scratch directory for the classifier to
 * load, as the element loads its model file; the file is removed once
 * loaded. */
static CnnClassifier *
make_classifier (void)
{
  const CnnShape input = { 1, 28, 28 };
  const CnnClassifierTuning tuning = { 1, 1, CNN_SMOOTHING_WINDOW };
  CnnClassifierStep step;
  GError *error = NULL;
  gchar *dir = g_dir_make_tmp ("fuzz-number-XXXXXX", &error);
  gchar *path = dir ? g_build_filename (dir, "random.safetensors", NULL) :
      NULL;
  CnnModel *model = dir ? cnn_model_new (ARCHITECTURE, input, &error) : NULL;
  CnnClassifier *c = NULL;

  if (model) {
    cnn_network_init_params (cnn_model_network (model), 1);
    if (cnn_model_save (model, path, &error))
      c = cnn_classifier_new_number (path, NULL, "mnist", 0, &tuning, &step,
          &error);
    cnn_model_free (model);
    g_unlink (path);
  }
  if (dir)
    g_rmdir (dir);
  if (!c) {
    g_printerr ("fuzz-number: %s\n", error->message);
    abort ();
  }
  g_free (path);
  g_free (dir);
  return c;
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_glib ();
  classifier = make_classifier ();
  if (classifier->n_classes != N_CLASSES)
    abort ();
  return 0;
}

/* Fills memory plane @m of @f with the @pw-wide picture @pixels (as
 * many rows as it holds whole) scaled to the plane's rows and samples,
 * each byte of a sample the picture's value there. */
static void
fill_scaled (FuzzFrame * f, guint m, const uint8_t * pixels, size_t n_pixels,
    guint pw)
{
  const guint ph = n_pixels / pw;
  const guint rows = f->rows[m], bytes = f->sample_bytes[m];
  const guint samples = f->row_bytes[m] / bytes;

  if (ph == 0) {
    fuzz_fill_tiled (f->mem[m], f->bytes[m], pixels, n_pixels);
    return;
  }
  /* the padding at the end of each row but the last, as a real frame
   * may hold anything there */
  memset (f->mem[m], 0xa5, f->bytes[m]);
  for (guint y = 0; y < rows; y++) {
    const uint8_t *src = pixels + (gsize) (y * (guint64) ph / rows) * pw;
    guint8 *row = f->mem[m] + y * f->strides[m];

    for (guint x = 0; x < samples; x++)
      memset (row + x * bytes, src[x * (guint64) pw / samples], bytes);
  }
}

/* @roi clipped to the frame; empty (0 × 0) when it lies outside. */
static CnnRect
clip (CnnRect roi, guint width, guint height)
{
  CnnRect r = { 0, 0, 0, 0 };

  if (roi.x >= width || roi.y >= height)
    return r;
  r.x = roi.x;
  r.y = roi.y;
  r.width = MIN (roi.width, width - roi.x);
  r.height = MIN (roi.height, height - roi.y);
  return r;
}

static void
check_digit (const CnnReading * r, guint i, CnnRect region, gdouble threshold,
    gsize input_size)
{
  const CnnRect *b = &r->boxes[i];
  const gint id = r->class_ids[i];
  const gfloat confidence = r->confidences[i];
  const gchar want = id < 0 ? '?' : (gchar) ('0' + id);
  gdouble sum = 0.0;

  if (b->width == 0 || b->height == 0 || b->x < region.x || b->y < region.y
      || (guint64) b->x + b->width > (guint64) region.x + region.width
      || (guint64) b->y + b->height > (guint64) region.y + region.height)
    abort ();
  if (!(confidence >= 0.0f && confidence <= 1.0f))
    abort ();
  if (id < -1 || id >= N_CLASSES || (id < 0) != (confidence < threshold))
    abort ();
  for (guint k = 0; k < N_CLASSES; k++) {
    const gfloat p = r->probabilities[i][k];

    if (!(p >= 0.0f && p <= 1.0f) || p > confidence)
      abort ();
    sum += p;
  }
  if (fabs (sum - 1.0) > 1e-3)
    abort ();
  for (gsize k = 0; k < input_size; k++)
    if (!isfinite (r->inputs[i][k]))
      abort ();
  if (r->text[i] != want)
    abort ();
}

static void
check_reading (const CnnReading * r, guint n, CnnRect region,
    gdouble threshold)
{
  const gsize input_size =
      cnn_shape_size (cnn_network_input_shape (classifier->network));

  if (n != r->n_digits || n > CNN_NUMBER_MAX_DIGITS)
    abort ();
  if ((region.width == 0 || region.height == 0) && n != 0)
    abort ();
  if (strlen (r->text) != n || strcmp (r->shown, r->text) != 0)
    abort ();
  for (guint i = 0; i < n; i++)
    check_digit (r, i, region, threshold, input_size);
}

/* Whether two readings are the same digits, boxes and text. */
static gboolean
same_reading (const CnnReading * a, const CnnReading * b)
{
  if (a->n_digits != b->n_digits || strcmp (a->text, b->text) != 0)
    return FALSE;
  for (guint i = 0; i < a->n_digits; i++)
    if (a->class_ids[i] != b->class_ids[i]
        || a->confidences[i] != b->confidences[i]
        || memcmp (&a->boxes[i], &b->boxes[i], sizeof (CnnRect)) != 0)
      return FALSE;
  return TRUE;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  const FuzzLayout *layout;
  const uint8_t *pixels = data + HEADER_SIZE;
  const size_t n_pixels = size - HEADER_SIZE;
  FuzzFrame frame;
  guint width, height;
  gdouble threshold;
  CnnRect roi, region;
  CnnReading first;
  guint n;

  if (size < HEADER_SIZE || size > HEADER_SIZE + (1u << 16))
    return 0;
  layout = &fuzz_layouts[data[0] % G_N_ELEMENTS (fuzz_layouts)];
  width = 1 + fuzz_read_u16 (data + 1) % MAX_WIDTH;
  height = 1 + fuzz_read_u16 (data + 3) % MAX_HEIGHT;
  roi.x = fuzz_read_u16 (data + 6) % (width + 16);
  roi.y = fuzz_read_u16 (data + 8) % (height + 16);
  roi.width = fuzz_read_u16 (data + 10) % (2 * width + 1);
  roi.height = fuzz_read_u16 (data + 12) % (2 * height + 1);
  threshold = data[14] / 255.0;

  fuzz_frame_init (&frame, layout, width, height, data[5] & 0x7f);
  for (guint m = 0; m < frame.n_mem; m++) {
    if (data[5] & 0x80)
      fill_scaled (&frame, m, pixels, n_pixels, 1 + data[15] % 64);
    else
      fuzz_fill_tiled (frame.mem[m], frame.bytes[m], pixels, n_pixels);
  }

  region = clip (roi, width, height);
  n = cnn_classifier_read_number (classifier, &frame.image, roi, threshold);
  check_reading (&classifier->reading, n, region, threshold);
  if (data[14] & 1) {
    first = classifier->reading;
    n = cnn_classifier_read_number (classifier, &frame.image, roi, threshold);
    if (!same_reading (&first, &classifier->reading))
      abort ();
  }
  fuzz_frame_clear (&frame);
  return 0;
}
