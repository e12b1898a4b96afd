/* cnn: train, evaluate, inspect and run gst-cnn models (docs/design.md §7).
 *
 *   cnn summary [MODEL] [--arch TEXT] [--input CxHxW]
 *   cnn train --train-images F --train-labels F ... -o MODEL
 *   cnn eval MODEL IMAGES LABELS [--json]
 *   cnn predict MODEL IMAGE...
 *   cnn compare --train-images F --train-labels F --test-images F ...
 *   cnn export MODEL -o OUT.onnx
 *   cnn import IN.onnx -o OUT.safetensors [--labels F] [--preprocess P]
 *       [--input CxHxW]
 *   cnn --version
 *
 * Exit status: 0 success, 2 bad usage or bad input, 1 other failure.
 */
#include "tool.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

typedef struct
{
  const gchar *name;
  int (*run) (int argc, char **argv);
  const gchar *summary;
} ToolCommand;

static const ToolCommand commands[] = {
  {"summary", tool_summary, "print a network's layers, shapes and parameters"},
  {"train", tool_train, "train a model on an IDX dataset"},
  {"eval", tool_eval, "measure a model's accuracy on an IDX dataset"},
  {"predict", tool_predict, "classify PNG, PGM or PPM pictures"},
  {"compare", tool_compare,
      "train the CNN and a dense network side by side, test on shifted digits"},
  {"export", tool_export, "write a model as ONNX"},
  {"import", tool_import, "make a model of an ONNX file (PyTorch, Keras)"},
};

static void
print_usage (FILE * out)
{
  fprintf (out, "Usage: cnn COMMAND [OPTION...] [ARGUMENT...]\n\n"
      "Commands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-9s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "  %-9s %s\n", "help", "this text, or 'help COMMAND'");
  fprintf (out, "  %-9s %s\n", "--version", "the tool's version");
  fprintf (out, "\nRun 'cnn COMMAND --help' for a command's options.\n"
      "Exit status: 0 success, 2 bad usage or bad input, 1 other failure.\n");
}

static const ToolCommand *
find_command (const gchar * name)
{
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, name))
      return &commands[i];
  return NULL;
}

static int
run_command (const ToolCommand * command, int argc, char **argv)
{
  g_autofree gchar *name = g_strdup_printf ("cnn %s", command->name);

  /* GOption's usage line then reads "cnn train [OPTION…]". */
  g_set_prgname (name);
  return command->run (argc, argv);
}

int
main (int argc, char **argv)
{
  const ToolCommand *command;

  /* Numbers in files and output use '.' whatever the user's locale;
   * only messages may be translated. */
  setlocale (LC_ALL, "");
  setlocale (LC_NUMERIC, "C");
  tool_pin_blas_threads ();

  if (argc < 2) {
    print_usage (stderr);
    return TOOL_EXIT_USAGE;
  }
  if (g_str_equal (argv[1], "--version")) {
    printf ("cnn (gst-cnn) %s\n", GST_CNN_VERSION);
    return TOOL_EXIT_OK;
  }
  if (g_str_equal (argv[1], "help") || g_str_equal (argv[1], "--help")
      || g_str_equal (argv[1], "-h")) {
    if (argc > 2 && g_str_equal (argv[1], "help")) {
      char *help_argv[] = { argv[2], (char *) "--help", NULL };

      command = find_command (argv[2]);
      if (!command) {
        g_printerr ("cnn: unknown command '%s'\n", argv[2]);
        return TOOL_EXIT_USAGE;
      }
      return run_command (command, 2, help_argv);
    }
    print_usage (stdout);
    return TOOL_EXIT_OK;
  }

  command = find_command (argv[1]);
  if (!command) {
    g_printerr ("cnn: unknown command '%s'\n\n", argv[1]);
    print_usage (stderr);
    return TOOL_EXIT_USAGE;
  }
  return run_command (command, argc - 1, argv + 1);
}
