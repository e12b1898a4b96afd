/* cnn export MODEL -o OUT.onnx
 * cnn import IN.onnx -o OUT.safetensors [--labels F] [--preprocess P]
 *     [--input CxHxW]
 *
 * The ONNX side is onnx-import.c and onnx-export.c; here are the
 * command lines and the checks that no output overwrites an input. */
#include "onnx.h"
#include "tool.h"

static gboolean
check_output (const gchar * command, const gchar * input,
    const gchar * output)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *in_id = tool_file_identity (input);
  g_autofree gchar *out_id = tool_file_identity (output);

  if (g_str_equal (in_id, out_id)) {
    tool_complain (command, "%s and -o %s are the same file: it would be "
        "overwritten", input, output);
    return FALSE;
  }
  if (!tool_check_writable (output, &error)) {
    tool_complain (command, "%s", error->message);
    return FALSE;
  }
  return TRUE;
}

int
tool_export (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *output = NULL;
  CnnModel *model;
  const GOptionEntry entries[] = {
    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
        "The ONNX file to write", "OUT.onnx"},
    {NULL}
  };
  gboolean ok;

  context = g_option_context_new ("MODEL -o OUT.onnx");
  g_option_context_set_summary (context, "Writes a model as ONNX (opset 13): "
      "input \"input\" N×C×H×W, output \"probabilities\" N×classes, the "
      "labels and the preprocessing in metadata_props.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!tool_parse_options (context, "export", &argc, &argv))
    return TOOL_EXIT_USAGE;
  if (argc != 2 || !output) {
    tool_complain ("export", "needs one MODEL and -o OUT.onnx");
    return TOOL_EXIT_USAGE;
  }
  if (!check_output ("export", argv[1], output))
    return TOOL_EXIT_USAGE;
  model = cnn_model_load (argv[1], &error);
  if (!model) {
    tool_complain ("export", "%s", error->message);
    return TOOL_EXIT_USAGE;
  }
  ok = onnx_export (model, output, &error);
  cnn_model_free (model);
  if (!ok) {
    tool_complain ("export", "%s", error->message);
    /* A network ONNX cannot say is the input's fault; a write is not. */
    return error->code == CNN_ERROR_IO ? TOOL_EXIT_FAILURE : TOOL_EXIT_USAGE;
  }
  return TOOL_EXIT_OK;
}

typedef struct
{
  gchar *output, *labels, *preprocess, *input;
} ImportArgs;

static void
import_args_clear (ImportArgs * a)
{
  g_free (a->output);
  g_free (a->labels);
  g_free (a->preprocess);
  g_free (a->input);
}

static CnnModel *
import_with_args (const gchar * path, const ImportArgs * a, GError ** error)
{
  OnnxImportOptions options = { NULL, a->preprocess, NULL };
  g_auto (GStrv) labels = NULL;
  CnnShape input;
  CnnModel *model;

  if (a->input && !cnn_shape_parse (a->input, &input, error)) {
    g_prefix_error (error, "--input: ");
    return NULL;
  }
  if (a->input)
    options.input = &input;
  if (a->labels && !(labels = cnn_labels_read (a->labels, error)))
    return NULL;
  options.labels = labels;
  model = onnx_import (path, &options, error);
  return model;
}

int
tool_import (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  ImportArgs a = { 0 };
  CnnModel *model = NULL;
  const GOptionEntry entries[] = {
    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &a.output,
        "The model file to write", "OUT.safetensors"},
    {"labels", 0, 0, G_OPTION_ARG_FILENAME, &a.labels,
        "Class labels, one per line (default: metadata_props 'labels', "
          "else 0..n-1)", "FILE"},
    {"preprocess", 0, 0, G_OPTION_ARG_STRING, &a.preprocess,
        "How cnnclassify prepares frames: resize [mean=… std=…] or mnist "
          "(default: metadata_props 'preprocess', else resize)", "P"},
    {"input", 0, 0, G_OPTION_ARG_STRING, &a.input,
        "The input's shape where the graph leaves it free", "CxHxW"},
    {NULL}
  };
  int status = TOOL_EXIT_USAGE;

  context = g_option_context_new ("IN.onnx -o OUT.safetensors");
  g_option_context_set_summary (context, "Reads an ONNX model whose graph "
      "is a chain of gst-cnn's layer kinds (as torch.onnx.export and "
      "tf2onnx write them) and writes it as a gst-cnn model.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!tool_parse_options (context, "import", &argc, &argv))
    goto out;
  if (argc != 2 || !a.output) {
    tool_complain ("import", "needs one IN.onnx and -o OUT.safetensors");
    goto out;
  }
  if (!check_output ("import", argv[1], a.output))
    goto out;
  model = import_with_args (argv[1], &a, &error);
  if (!model)
    tool_complain ("import", "%s", error->message);
  else if (!cnn_model_save (model, a.output, &error)) {
    tool_complain ("import", "%s", error->message);
    status = TOOL_EXIT_FAILURE;
  } else
    status = TOOL_EXIT_OK;
out:
  cnn_model_free (model);
  import_args_clear (&a);
  return status;
}
