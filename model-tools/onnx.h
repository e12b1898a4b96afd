/* ONNX models in and out of gst-cnn (docs/design.md §7): `cnn export`
 * and `cnn import`.  Built with the meson option onnx; without it both
 * functions fail with a message saying so. */
#ifndef ONNX_H
#define ONNX_H

#include <cnn.h>

G_BEGIN_DECLS

typedef struct
{
  /* Each NULL: from the file's metadata_props when it has them, else
   * labels "0".."n-1", preprocess "resize", the graph's input shape. */
  gchar **labels;
  const gchar *preprocess;
  const CnnShape *input;
} OnnxImportOptions;

/* Reads an ONNX model whose graph is a chain of gst-cnn's layer kinds
 * (PyTorch's and tf2onnx's ways of writing them, NHWC transposes
 * folded) into a model.  Every refusal is a CNN_ERROR_MODEL naming the
 * file and the node (index, name, op type) or tensor at fault; what the
 * file makes the reader allocate is held to cnn_memory_limit(). */
CnnModel *onnx_import (const gchar * path, const OnnxImportOptions * options,
    GError ** error);

/* Writes @model as an ONNX model (opset 13): input "input" N×C×H×W with
 * N free, output "probabilities" N×classes, labels and preprocess in
 * metadata_props.  Atomic: a temporary file beside @path, then rename. */
gboolean onnx_export (CnnModel * model, const gchar * path, GError ** error);

G_END_DECLS

#endif /* ONNX_H */
