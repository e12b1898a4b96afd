/* The options and output of the evaluations' frame generators
 * (frame-sink.h). */
#include "frame-sink.h"

#include <errno.h>
#include <png.h>
#include <string.h>

gboolean
frame_options_parse (FrameOptions * o, int *argc, char ***argv,
    const gchar * what, const gchar * summary, const GOptionEntry * extra,
    GError ** error)
{
  const GOptionEntry entries[] = {
    {"images", 0, 0, G_OPTION_ARG_FILENAME, &o->images,
        "MNIST test images (IDX, gzip or plain)", "FILE"},
    {"labels", 0, 0, G_OPTION_ARG_FILENAME, &o->labels,
        "MNIST test labels (IDX)", "FILE"},
    {"count", 'n', 0, G_OPTION_ARG_INT, &o->count,
        "Digits to draw (default 1000)", "N"},
    {"all", 0, 0, G_OPTION_ARG_NONE, &o->all, "Draw every digit", NULL},
    {"first", 0, 0, G_OPTION_ARG_INT, &o->first,
        "Index of the first digit (default 0)", "I"},
    {"repeat", 0, 0, G_OPTION_ARG_INT, &o->repeat,
        "Frames per scene, each with its own jitter and noise (default 1)",
        "K"},
    {"seed", 0, 0, G_OPTION_ARG_INT64, &o->seed, "Random seed (default 1)",
        "S"},
    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &o->output,
        "Directory for frame-NNNNN.png and labels.txt", "DIR"},
    {"raw", 0, 0, G_OPTION_ARG_NONE, &o->raw,
        "Write raw GRAY8 frames to stdout instead", NULL},
    {"labels-out", 0, 0, G_OPTION_ARG_FILENAME, &o->labels_out,
        "Labels file (default DIR/labels.txt)", "FILE"},
    {NULL}
  };
  g_autoptr (GOptionContext) context = g_option_context_new (what);

  o->count = 1000;
  o->repeat = 1;
  o->seed = 1;
  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, entries, NULL);
  if (extra)
    g_option_context_add_main_entries (context, extra, NULL);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;
  if (!o->images || !o->labels) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "--images and --labels are needed");
    return FALSE;
  }
  if (!o->raw == !o->output) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "give either --output DIR or --raw");
    return FALSE;
  }
  if (o->raw && !o->labels_out) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "--raw needs --labels-out");
    return FALSE;
  }
  if (o->count <= 0 || o->first < 0 || o->repeat <= 0) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "--count and --repeat must be positive, --first not negative");
    return FALSE;
  }
  return TRUE;
}

void
frame_options_clear (FrameOptions * o)
{
  g_free (o->images);
  g_free (o->labels);
  g_free (o->output);
  g_free (o->labels_out);
}

CnnDataset *
frame_options_load (const FrameOptions * o, GError ** error)
{
  CnnDataset *set = cnn_dataset_load_idx (o->images, o->labels, error);

  if (!set)
    return NULL;
  if (set->shape.c != 1 || set->shape.h != FRAME_MNIST_SIDE
      || set->shape.w != FRAME_MNIST_SIDE || !set->labels) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_DATASET,
        "%s: expected 28x28 grey digits with labels", o->images);
    cnn_dataset_free (set);
    return NULL;
  }
  if ((guint) o->first >= set->n) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "--first %d: the set has %u digits", o->first, set->n);
    cnn_dataset_free (set);
    return NULL;
  }
  return set;
}

guint
frame_options_end (const FrameOptions * o, const CnnDataset * set)
{
  return o->all ? set->n : MIN (set->n, (guint) o->first + (guint) o->count);
}

gboolean
frame_sink_open (FrameSink * sink, const FrameOptions * o, guint width,
    guint height, const gchar * header, GError ** error)
{
  memset (sink, 0, sizeof (*sink));
  sink->options = o;
  sink->width = width;
  sink->height = height;
  sink->labels_path = o->labels_out ? g_strdup (o->labels_out) :
      g_build_filename (o->output, "labels.txt", NULL);
  if (o->output && g_mkdir_with_parents (o->output, 0755) != 0) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_IO, "%s: cannot create: %s",
        o->output, g_strerror (errno));
    return FALSE;
  }
  if (!(sink->labels = fopen (sink->labels_path, "w"))) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_IO, "%s: cannot write: %s",
        sink->labels_path, g_strerror (errno));
    return FALSE;
  }
  fprintf (sink->labels, "# %s\n", header);
  return TRUE;
}

static gboolean
write_png (const FrameSink * sink, const gchar * path, const guint8 * pixels,
    GError ** error)
{
  png_image image;

  memset (&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = sink->width;
  image.height = sink->height;
  image.format = PNG_FORMAT_GRAY;
  image.flags = PNG_IMAGE_FLAG_FAST;
  if (!png_image_write_to_file (&image, path, 0, pixels, sink->width, NULL)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_IO, "%s: cannot write PNG: %s",
        path, image.message);
    png_image_free (&image);
    return FALSE;
  }
  return TRUE;
}

gboolean
frame_sink_write (FrameSink * sink, const guint8 * pixels, GError ** error)
{
  const gsize size = (gsize) sink->width * sink->height;
  gboolean ok;

  if (sink->options->raw) {
    ok = fwrite (pixels, 1, size, stdout) == size;
    if (!ok)
      g_set_error (error, CNN_ERROR, CNN_ERROR_IO,
          "cannot write a raw frame to stdout (reader gone?)");
  } else {
    g_autofree gchar *name = g_strdup_printf ("frame-%05u.png", sink->frame);
    g_autofree gchar *path = g_build_filename (sink->options->output, name,
        NULL);

    ok = write_png (sink, path, pixels, error);
  }
  sink->frame += ok;
  return ok;
}

gboolean
frame_sink_close (FrameSink * sink, gboolean ok, GError ** error)
{
  if (sink->labels && fclose (sink->labels) != 0 && ok) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_IO, "%s: cannot write: %s",
        sink->labels_path, g_strerror (errno));
    ok = FALSE;
  }
  sink->labels = NULL;
  if (ok && sink->options && sink->options->raw && fflush (stdout) != 0) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_IO, "cannot write to stdout");
    ok = FALSE;
  }
  g_clear_pointer (&sink->labels_path, g_free);
  return ok;
}

int
frame_generator_main (int argc, char **argv, const gchar * name,
    const gchar * what, const gchar * summary, const GOptionEntry * extra,
    FrameGenerate generate, gpointer data)
{
  FrameOptions o = { 0 };
  g_autoptr (GError) error = NULL;
  CnnDataset *set = NULL;
  int status = 2;

  if (frame_options_parse (&o, &argc, &argv, what, summary, extra, &error)
      && (set = frame_options_load (&o, &error)))
    status = generate (&o, set, data, &error) ? 0 : 1;
  if (error)
    g_printerr ("%s: %s\n", name, error->message);
  cnn_dataset_free (set);
  frame_options_clear (&o);
  return status;
}
