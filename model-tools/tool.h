/* The `cnn` tool: subcommands and what they share. */
#ifndef TOOL_H
#define TOOL_H

#include <cnn.h>

G_BEGIN_DECLS

/* Exit status (docs/design.md §7). */
#define TOOL_EXIT_OK 0
#define TOOL_EXIT_FAILURE 1
#define TOOL_EXIT_USAGE 2

/* Each subcommand: argv[0] is the subcommand's name. */
int tool_summary (int argc, char **argv);
int tool_train (int argc, char **argv);
int tool_eval (int argc, char **argv);
int tool_predict (int argc, char **argv);
int tool_compare (int argc, char **argv);
int tool_export (int argc, char **argv);
int tool_import (int argc, char **argv);

/* ---- command line -------------------------------------------------- */

/* Parses options and leaves the positional arguments in @argv; on a
 * usage error prints it with a hint and returns FALSE. */
gboolean tool_parse_options (GOptionContext * context, const gchar * command,
    int *argc, char ***argv);
/* Prints "cnn COMMAND: MESSAGE" to stderr. */
void tool_complain (const gchar * command, const gchar * format, ...)
    G_GNUC_PRINTF (2, 3);

/* Option values are taken as text and checked here, so that every
 * message names the option and the accepted range. */
gboolean tool_parse_uint (const gchar * option, const gchar * text,
    guint64 min, guint64 max, guint64 * value, GError ** error);
gboolean tool_parse_double (const gchar * option, const gchar * text,
    gdouble min, gdouble max, gdouble * value, GError ** error);
/* Shortest text that reads back as exactly @value. */
gchar *tool_format_double (gdouble value);
/* Prints @text to stdout as a JSON string (json-glib escapes it), or
 * null for NULL. */
void tool_print_json_string (const gchar * text);
/* Shortest text that reads back as exactly @value as a float: "0.98". */
gchar *tool_format_float (gfloat value);
/* 1199882 → "1,199,882" */
gchar *tool_thousands (guint64 value);
/* The command line, shell-quoted, for provenance; paths by their last
 * part only, so that no folder of the machine goes into a model. */
gchar *tool_command_line (int argc, char **argv);

/* What makes two names one file: its device and inode when it exists,
 * else its folder's real path and its name. */
gchar *tool_file_identity (const gchar * path);

/* Pins OpenBLAS to one thread for the whole process (the tool's). */
void tool_pin_blas_threads (void);

/* Fails unless a file can be created beside @path (tries a temporary one
 * there and removes it) and @path itself is not a directory. */
gboolean tool_check_writable (const gchar * path, GError ** error);

/* ---- data ---------------------------------------------------------- */

static inline gboolean
tool_shape_equal (CnnShape a, CnnShape b)
{
  return a.c == b.c && a.h == b.h && a.w == b.w;
}

/* Per-channel normalisation from a "preprocess" text ("mean=A[,B,C]
 * std=A[,B,C]"; absent: mean 0, std 1), for @channels channels. */
typedef struct
{
  gfloat mean[3];
  gfloat std[3];
} ToolNormalisation;

gboolean tool_normalisation_parse (const gchar * preprocess, guint channels,
    ToolNormalisation * norm, GError ** error);

/* One sample: bytes → floats in 0..1 (C×H×W). */
void tool_sample_to_unit (const guint8 * pixels, gsize n, gfloat * out);
/* In place: (x - mean) / std per channel. */
void tool_sample_normalise (gfloat * x, CnnShape shape,
    const ToolNormalisation * norm);

/* Every label of @ds must be a class index below @n_classes; the message
 * names @labels_path and the byte offset of the first one that is not. */
gboolean tool_check_labels (const CnnDataset * ds, const gchar * labels_path,
    guint n_classes, GError ** error);

/* The first @n samples of @ds as a new dataset (copies). */
CnnDataset *tool_dataset_head (const CnnDataset * ds, guint n);

/* Scores of a network on samples [first, first + count) of @ds. */
typedef struct
{
  guint n;
  guint correct;
  gdouble loss;                 /* mean cross-entropy */
} ToolScores;

/* Inference in batches of the network's max batch.  @confusion, if not
 * NULL, is n_classes × n_classes (true × predicted) and is added to. */
void tool_evaluate (CnnNetwork * net, const CnnDataset * ds, guint first,
    guint count, const ToolNormalisation * norm, guint * confusion,
    ToolScores * scores);

/* Index of the largest of @n values. */

G_END_DECLS

#endif /* TOOL_H */
