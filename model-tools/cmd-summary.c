/* cnn summary: a network's layers, output shapes and parameter counts,
 * in the layout Keras made familiar; of a model file, also its metadata. */
#include "tool.h"

#include <stdio.h>
#include <string.h>

#define TABLE_WIDTH 72

static gchar *
shape_text (CnnShape s)
{
  if (s.h == 1 && s.w == 1)
    return g_strdup_printf ("%u", s.c);
  return cnn_shape_to_string (s);
}

static void
print_rule (gchar c)
{
  for (guint i = 0; i < TABLE_WIDTH; i++)
    putchar (c);
  putchar ('\n');
}

/* The table; its last line is "Total params: N" (docs/design.md §7). */
static void
print_table (const CnnNetwork * net)
{
  g_autofree gchar *input = cnn_shape_to_string (cnn_network_input_shape (net));
  g_autofree gchar *total = tool_thousands (cnn_network_param_count (net));

  printf ("Input: %s\n", input);
  printf ("%-44s %-15s %11s\n", "Layer (type)", "Output Shape", "Param #");
  print_rule ('=');
  for (guint i = 0; i < cnn_network_n_layers (net); i++) {
    g_autofree gchar *what = cnn_network_layer_describe (net, i);
    g_autofree gchar *layer = g_strdup_printf ("%u %s", i, what);
    g_autofree gchar *shape =
        shape_text (cnn_network_layer_output_shape (net, i));
    g_autofree gchar *params =
        tool_thousands (cnn_network_layer_param_count (net, i));

    printf ("%-44s %-15s %11s\n", layer, shape, params);
  }
  print_rule ('=');
  printf ("Total params: %s\n", total);
}

static void
print_metadata (const CnnModel * model, const gchar * path)
{
  g_auto (GStrv) keys = cnn_model_metadata_keys (model);

  printf ("Model: %s (%s)\n", cnn_model_name (model), path);
  for (guint i = 0; keys[i]; i++)
    printf ("  %s: %s\n", keys[i], cnn_model_get_metadata (model, keys[i]));
  printf ("\n");
}

int
tool_summary (int argc, char **argv)
{
  g_autofree gchar *arch = NULL, *input_text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) context = NULL;
  GOptionEntry entries[] = {
    {"arch", 'a', 0, G_OPTION_ARG_STRING, &arch,
        "Architecture text (default: the reference digit network)", "TEXT"},
    {"input", 'i', 0, G_OPTION_ARG_STRING, &input_text,
        "Input shape (default 1x28x28)", "CxHxW"},
    {NULL}
  };
  CnnShape input = { 1, 28, 28 };
  CnnNetwork *net = NULL;
  CnnModel *model = NULL;

  context = g_option_context_new ("[MODEL]");
  g_option_context_set_summary (context, "Prints each layer's output shape "
      "and learnable parameters (weights + biases), and their total, for a "
      "model file or for an architecture text.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!tool_parse_options (context, "summary", &argc, &argv))
    return TOOL_EXIT_USAGE;

  if (argc > 2) {
    tool_complain ("summary", "takes at most one model file");
    return TOOL_EXIT_USAGE;
  }
  if (argc == 2) {
    if (arch || input_text) {
      tool_complain ("summary", "--arch and --input describe a network "
          "without a model file; give one or the other");
      return TOOL_EXIT_USAGE;
    }
    model = cnn_model_load (argv[1], &error);
    if (!model)
      goto bad_input;
    print_metadata (model, argv[1]);
    print_table (cnn_model_network (model));
    cnn_model_free (model);
    return TOOL_EXIT_OK;
  }

  if (input_text && !cnn_shape_parse (input_text, &input, &error))
    goto bad_input;
  net = cnn_network_new (arch ? arch : CNN_DEFAULT_ARCHITECTURE, input,
      &error);
  if (!net)
    goto bad_input;
  printf ("Architecture: %s\n", cnn_network_architecture (net));
  print_table (net);
  cnn_network_free (net);
  return TOOL_EXIT_OK;

bad_input:
  tool_complain ("summary", "%s", error->message);
  return TOOL_EXIT_USAGE;
}
