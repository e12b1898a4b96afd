/* libFuzzer target: arbitrary frames and regions → cnn_preprocessor_run().
 *
 * Input header (then pixel bytes, repeated to fill the frame):
 *   0      frame layout (GREY, GRAY16, RGB, BGRx, GBR planar, Y444, I420,
 *          YUV9, NV12, YUY2)
 *   1      preprocess spec and model input shape
 *   2-3    width - 1 (mod 256), 4-5 height - 1 (mod 256)
 *   6      bits 0-3: row padding in bytes; bit 4: bottom-up rows
 *          (negative row stride); bit 5: limited range; bit 6: BT.709
 *   7-14   region x, y, width, height (16 bits each, may leave the frame)
 *
 * Each memory plane is its own allocation of exactly the bytes a real
 * frame of that layout holds (the last row without padding), so any read
 * outside the frame is an ASan report. */
#include "fuzz-common.h"

#include <string.h>

#define HEADER_SIZE 15
#define MAX_SIDE 256

/* A block of memory holding one or more channels: its samples are
 * 2^shift frame pixels apart, each sample @bytes wide. */
typedef struct
{
  guint x_shift, y_shift, bytes;
} MemPlane;

/* Where a channel's samples lie inside its memory plane. */
typedef struct
{
  guint mem, offset, pixel_stride, x_shift, y_shift;
} Channel;

typedef struct
{
  const gchar *name;
  CnnColorModel color;
  guint n_mem;
  MemPlane mem[3];
  guint n_channels;
  Channel ch[3];
} Layout;

static const Layout layouts[] = {
  {"GREY", CNN_COLOR_GREY, 1, {{0, 0, 1}}, 1, {{0, 0, 1, 0, 0}}},
  {"GRAY16_LE", CNN_COLOR_GREY, 1, {{0, 0, 2}}, 1, {{0, 1, 2, 0, 0}}},
  {"RGB", CNN_COLOR_RGB, 1, {{0, 0, 3}}, 3,
      {{0, 0, 3, 0, 0}, {0, 1, 3, 0, 0}, {0, 2, 3, 0, 0}}},
  {"BGRx", CNN_COLOR_RGB, 1, {{0, 0, 4}}, 3,
      {{0, 2, 4, 0, 0}, {0, 1, 4, 0, 0}, {0, 0, 4, 0, 0}}},
  {"GBR", CNN_COLOR_RGB, 3, {{0, 0, 1}, {0, 0, 1}, {0, 0, 1}}, 3,
      {{2, 0, 1, 0, 0}, {0, 0, 1, 0, 0}, {1, 0, 1, 0, 0}}},
  {"Y444", CNN_COLOR_YUV, 3, {{0, 0, 1}, {0, 0, 1}, {0, 0, 1}}, 3,
      {{0, 0, 1, 0, 0}, {1, 0, 1, 0, 0}, {2, 0, 1, 0, 0}}},
  {"I420", CNN_COLOR_YUV, 3, {{0, 0, 1}, {1, 1, 1}, {1, 1, 1}}, 3,
      {{0, 0, 1, 0, 0}, {1, 0, 1, 1, 1}, {2, 0, 1, 1, 1}}},
  {"YUV9", CNN_COLOR_YUV, 3, {{0, 0, 1}, {2, 2, 1}, {2, 2, 1}}, 3,
      {{0, 0, 1, 0, 0}, {1, 0, 1, 2, 2}, {2, 0, 1, 2, 2}}},
  {"NV12", CNN_COLOR_YUV, 2, {{0, 0, 1}, {1, 1, 2}}, 3,
      {{0, 0, 1, 0, 0}, {1, 0, 2, 1, 1}, {1, 1, 2, 1, 1}}},
  {"YUY2", CNN_COLOR_YUV, 1, {{1, 0, 4}}, 3,
      {{0, 0, 2, 0, 0}, {0, 1, 4, 1, 0}, {0, 3, 4, 1, 0}}},
};

typedef struct
{
  const gchar *spec;
  CnnShape input;
} Model;

static const Model models[] = {
  {"resize", {1, 28, 28}},
  {"mnist", {1, 28, 28}},
  {"mnist mean=0.1307 std=0.3081", {1, 28, 28}},
  {"resize", {3, 16, 16}},
  {"resize mean=0.485,0.456,0.406 std=0.229,0.224,0.225", {3, 16, 16}},
  {"mnist", {1, 9, 8}},
};

static CnnPreprocessor *preprocessors[G_N_ELEMENTS (models)];

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_glib ();
  for (guint i = 0; i < G_N_ELEMENTS (models); i++) {
    GError *error = NULL;

    preprocessors[i] = cnn_preprocessor_new (models[i].spec, models[i].input,
        &error);
    if (!preprocessors[i]) {
      g_printerr ("fuzz-preprocess: %s\n", error->message);
      abort ();
    }
  }
  return 0;
}

static guint
read_u16 (const uint8_t * p)
{
  return p[0] | (guint) p[1] << 8;
}

/* ceil (n / 2^shift), the samples a subsampled plane has */
static guint
subsampled (guint n, guint shift)
{
  return (n + (1u << shift) - 1) >> shift;
}

/* Fills @dest with @pixels repeated (zeros when there are none). */
static void
fill (guint8 * dest, gsize size, const uint8_t * pixels, size_t n_pixels)
{
  gsize filled;

  if (n_pixels == 0) {
    memset (dest, 0, size);
    return;
  }
  filled = MIN (n_pixels, size);
  memcpy (dest, pixels, filled);
  /* double the filled part until the plane is full */
  while (filled < size) {
    gsize n = MIN (filled, size - filled);

    memcpy (dest + filled, dest, n);
    filled += n;
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  const Layout *layout;
  const Model *model;
  CnnPreprocessor *pre;
  guint8 *mem[3] = { NULL, NULL, NULL };
  gint strides[3];
  guint rows[3];
  guint width, height, padding;
  gboolean bottom_up;
  CnnImage image = { 0 };
  CnnRect roi;
  gfloat *out;
  gsize out_size;

  if (size < HEADER_SIZE || size > HEADER_SIZE + (1u << 18))
    return 0;
  layout = &layouts[data[0] % G_N_ELEMENTS (layouts)];
  model = &models[data[1] % G_N_ELEMENTS (models)];
  pre = preprocessors[data[1] % G_N_ELEMENTS (models)];
  width = 1 + read_u16 (data + 2) % MAX_SIDE;
  height = 1 + read_u16 (data + 4) % MAX_SIDE;
  padding = data[6] & 0xf;
  bottom_up = (data[6] >> 4) & 1;
  roi.x = read_u16 (data + 7) % (MAX_SIDE + 16);
  roi.y = read_u16 (data + 9) % (MAX_SIDE + 16);
  roi.width = read_u16 (data + 11) % (2 * MAX_SIDE);
  roi.height = read_u16 (data + 13) % (2 * MAX_SIDE);

  /* memory planes: rows of ceil (width / 2^xs) samples, the last row
   * without padding */
  for (guint m = 0; m < layout->n_mem; m++) {
    const MemPlane *mp = &layout->mem[m];
    guint row_bytes = subsampled (width, mp->x_shift) * mp->bytes;
    gsize bytes;

    rows[m] = subsampled (height, mp->y_shift);
    strides[m] = row_bytes + padding;
    bytes = (gsize) strides[m] * (rows[m] - 1) + row_bytes;
    mem[m] = g_malloc (bytes);
    fill (mem[m], bytes, data + HEADER_SIZE, size - HEADER_SIZE);
  }

  image.width = width;
  image.height = height;
  image.color = layout->color;
  image.limited_range = (data[6] >> 5) & 1;
  if ((data[6] >> 6) & 1) {
    image.kr = 0.2126f;
    image.kb = 0.0722f;
  } else {
    image.kr = 0.299f;
    image.kb = 0.114f;
  }
  for (guint k = 0; k < layout->n_channels; k++) {
    const Channel *ch = &layout->ch[k];
    CnnPlane *p = &image.planes[k];
    const guint8 *first_row = mem[ch->mem];
    gint stride = strides[ch->mem];

    if (bottom_up) {
      first_row += (gsize) stride * (rows[ch->mem] - 1);
      stride = -stride;
    }
    p->data = first_row + ch->offset;
    p->row_stride = stride;
    p->pixel_stride = ch->pixel_stride;
    p->x_shift = ch->x_shift;
    p->y_shift = ch->y_shift;
  }

  out_size = cnn_shape_size (model->input);
  out = g_new (gfloat, out_size);
  if (cnn_preprocessor_run (pre, &image, roi, out)) {
    for (gsize i = 0; i < out_size; i++)
      if (!isfinite (out[i]))
        abort ();
  }
  g_free (out);
  for (guint m = 0; m < layout->n_mem; m++)
    g_free (mem[m]);
  return 0;
}
