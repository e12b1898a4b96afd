/* libFuzzer target: bytes → PNG, PGM or PPM → picture_load() → the
 * preprocessing `cnn predict` runs on it.
 *
 * The reader (model-tools/picture.c) decides by content.  A picture
 * that decodes is prepared for a grey and a colour model input, by
 * "resize" and "mnist", as predict would: a critical from libcnn (a
 * picture described wrongly, as colour pictures once were) aborts. */
#include "fuzz-common.h"
#include "picture.h"

#include <string.h>

static gchar *picture_path;
static int picture_fd = -1;
static CnnPreprocessor *preprocessors[3];
static gfloat input[3 * 28 * 28];

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  static const struct
  {
    const gchar *spec;
    CnnShape shape;
  } models[] = {
    {"resize", {1, 28, 28}}, {"mnist", {1, 28, 28}},
    {"resize mean=0.5 std=0.25", {3, 16, 16}},
  };

  fuzz_setup_glib ();
  picture_fd = fuzz_memfile_open ("fuzz-picture", &picture_path);
  for (guint i = 0; i < G_N_ELEMENTS (models); i++) {
    preprocessors[i] = cnn_preprocessor_new (models[i].spec,
        models[i].shape, NULL);
    if (!preprocessors[i])
      abort ();
  }
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  GError *error = NULL;
  Picture pic;
  CnnImage image;

  if (size > (1u << 20))
    return 0;
  fuzz_memfile_write (picture_fd, data, size);
  if (!picture_load (picture_path, &pic, &error)) {
    if (!error || !strstr (error->message, picture_path))
      abort ();
    g_clear_error (&error);
    return 0;
  }
  if (pic.width == 0 || pic.height == 0 || !pic.data)
    abort ();
  picture_to_image (&pic, &image);
  /* Large pictures are real work for the scaler, not for the reader:
   * keep the runs fast. */
  if ((guint64) pic.width * pic.height <= (1u << 20))
    for (guint i = 0; i < G_N_ELEMENTS (preprocessors); i++)
      cnn_preprocessor_run (preprocessors[i], &image,
          (CnnRect) { 0, 0, pic.width, pic.height }, input);
  picture_clear (&pic);
  return 0;
}
