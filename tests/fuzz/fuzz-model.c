/* libFuzzer target: bytes → model file → cnn_model_load().
 *
 * cnn_model_load() takes a path, so each input is written over one
 * in-memory file made at start-up.  A model that loads has its labels
 * and metadata read, and when its network is small (fuzz-common.h) one
 * sample of zeros goes through it.  Seeds must keep their data section
 * as it is to get past the "sha256" check; the header is what gets
 * explored. */
#include "fuzz-common.h"

#include <string.h>

static gchar *model_path;
static int model_fd = -1;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_glib ();
  model_fd = fuzz_memfile_open ("fuzz-model.safetensors", &model_path);
  return 0;
}

static void
read_model (CnnModel * model)
{
  CnnNetwork *net = cnn_model_network (model);
  guint n_labels = cnn_model_n_labels (model);
  gchar **keys;

  if (n_labels != cnn_shape_size (cnn_network_output_shape (net)))
    abort ();
  for (guint i = 0; i < n_labels; i++)
    if (!cnn_model_label (model, i))
      abort ();
  if (!cnn_model_name (model))
    abort ();
  keys = cnn_model_metadata_keys (model);
  for (guint i = 0; keys[i]; i++)
    if (!cnn_model_get_metadata (model, keys[i]))
      abort ();
  g_strfreev (keys);
  fuzz_forward_zeros (net, FALSE);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  GError *error = NULL;
  CnnModel *model;

  if (size > (1u << 20))
    return 0;
  fuzz_memfile_write (model_fd, data, size);
  model = cnn_model_load (model_path, &error);
  if (!model) {
    /* every refusal explains itself, naming the file */
    if (!error || !strstr (error->message, model_path))
      abort ();
    g_clear_error (&error);
    return 0;
  }
  read_model (model);
  cnn_model_free (model);
  return 0;
}
