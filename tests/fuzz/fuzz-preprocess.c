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

#include "fuzz-frame.h"

#define HEADER_SIZE 15
#define MAX_SIDE 256

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

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  const FuzzLayout *layout;
  const Model *model;
  CnnPreprocessor *pre;
  FuzzFrame frame;
  guint width, height;
  CnnRect roi;
  gfloat *out;
  gsize out_size;

  if (size < HEADER_SIZE || size > HEADER_SIZE + (1u << 18))
    return 0;
  layout = &fuzz_layouts[data[0] % G_N_ELEMENTS (fuzz_layouts)];
  model = &models[data[1] % G_N_ELEMENTS (models)];
  pre = preprocessors[data[1] % G_N_ELEMENTS (models)];
  width = 1 + fuzz_read_u16 (data + 2) % MAX_SIDE;
  height = 1 + fuzz_read_u16 (data + 4) % MAX_SIDE;
  roi.x = fuzz_read_u16 (data + 7) % (MAX_SIDE + 16);
  roi.y = fuzz_read_u16 (data + 9) % (MAX_SIDE + 16);
  roi.width = fuzz_read_u16 (data + 11) % (2 * MAX_SIDE);
  roi.height = fuzz_read_u16 (data + 13) % (2 * MAX_SIDE);

  fuzz_frame_init (&frame, layout, width, height, data[6]);
  for (guint m = 0; m < frame.n_mem; m++)
    fuzz_fill_tiled (frame.mem[m], frame.bytes[m], data + HEADER_SIZE,
        size - HEADER_SIZE);

  out_size = cnn_shape_size (model->input);
  out = g_new (gfloat, out_size);
  if (cnn_preprocessor_run (pre, &frame.image, roi, out)) {
    for (gsize i = 0; i < out_size; i++)
      if (!isfinite (out[i]))
        abort ();
  }
  g_free (out);
  fuzz_frame_clear (&frame);
  return 0;
}
