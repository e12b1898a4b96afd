/* libFuzzer target: bytes → ONNX file → onnx_import() (cnn import).
 *
 * onnx_import() takes a path, so each input is written over one
 * in-memory file made at start-up.  Every refusal must name the file;
 * a model that imports has its labels read and, when its network is
 * small (fuzz-common.h), one sample of zeros run through it.  Seeds:
 * small exports of `cnn export` and a graph in tf2onnx's NHWC pattern. */
#include "fuzz-common.h"
#include "onnx.h"

#include <string.h>

static gchar *onnx_path;
static int onnx_fd = -1;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_glib ();
  onnx_fd = fuzz_memfile_open ("fuzz-onnx.onnx", &onnx_path);
  return 0;
}

static void
read_model (CnnModel * model)
{
  CnnNetwork *net = cnn_model_network (model);
  guint n_labels = cnn_model_n_labels (model);

  if (n_labels != cnn_shape_size (cnn_network_output_shape (net)))
    abort ();
  for (guint i = 0; i < n_labels; i++)
    if (!cnn_model_label (model, i))
      abort ();
  fuzz_forward_zeros (net, FALSE);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  GError *error = NULL;
  CnnModel *model;

  if (size > (1u << 20))
    return 0;
  fuzz_memfile_write (onnx_fd, data, size);
  model = onnx_import (onnx_path, NULL, &error);
  if (!model) {
    if (!error || !strstr (error->message, onnx_path))
      abort ();
    g_clear_error (&error);
    return 0;
  }
  read_model (model);
  cnn_model_free (model);
  return 0;
}
