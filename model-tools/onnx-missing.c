/* A build without the onnx option: cnn export and cnn import say so. */
#include "onnx.h"

static void
set_missing (GError ** error)
{
  g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID, "this cnn was built "
      "without ONNX support (meson option onnx; it needs protobuf-c, "
      "protoc-c and libonnx-dev's onnx.proto)");
}

CnnModel *
onnx_import (const gchar * path, const OnnxImportOptions * options,
    GError ** error)
{
  set_missing (error);
  return NULL;
}

gboolean
onnx_export (CnnModel * model, const gchar * path, GError ** error)
{
  set_missing (error);
  return FALSE;
}
