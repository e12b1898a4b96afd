/* What the frame generators of the evaluations share (make-webcam-frames,
 * make-desk-frames): their options, the MNIST test digits they read,
 * and where their frames and labels go (PNG files in a folder, or raw
 * GRAY8 frames on stdout for `fdsrc ! rawvideoparse`). */
#ifndef EVAL_FRAME_SINK_H
#define EVAL_FRAME_SINK_H

#include "cnn.h"

#include <stdio.h>

G_BEGIN_DECLS

#define FRAME_MNIST_SIDE 28

typedef struct
{
  gchar *images, *labels;
  gint count;                   /* digits (default 1000) */
  gboolean all;
  gint first;
  gint repeat;                  /* frames per scene (default 1) */
  gint64 seed;                  /* default 1 */
  gchar *output;                /* folder for frame-NNNNN.png */
  gboolean raw;                 /* raw frames to stdout instead */
  gchar *labels_out;            /* default output/labels.txt */
} FrameOptions;

/* Parses the shared options and @extra (NULL-terminated, may be NULL)
 * with @summary as the help text, then checks them. */
gboolean frame_options_parse (FrameOptions * o, int *argc, char ***argv,
    const gchar * what, const gchar * summary, const GOptionEntry * extra,
    GError ** error);
void frame_options_clear (FrameOptions * o);
/* The 28×28 labelled digits of --images/--labels; checks --first. */
CnnDataset *frame_options_load (const FrameOptions * o, GError ** error);
/* One past the last digit index to draw. */
guint frame_options_end (const FrameOptions * o, const CnnDataset * set);

typedef struct
{
  const FrameOptions *options;
  guint width, height;
  gchar *labels_path;
  FILE *labels;
  guint frame;                  /* frames written */
} FrameSink;

/* Creates the output folder and the labels file, whose first line is
 * "# " @header. */
gboolean frame_sink_open (FrameSink * sink, const FrameOptions * o,
    guint width, guint height, const gchar * header, GError ** error);
/* Writes one frame (GRAY8, width bytes a row) and counts it. */
gboolean frame_sink_write (FrameSink * sink, const guint8 * pixels,
    GError ** error);
/* Closes the labels file and flushes stdout; FALSE if either failed
 * (and @ok was TRUE).  Safe on a sink that did not open. */
gboolean frame_sink_close (FrameSink * sink, gboolean ok, GError ** error);

/* Draws the frames of the digits the options name; @data is the
 * caller's. */
typedef gboolean (*FrameGenerate) (const FrameOptions * o,
    const CnnDataset * set, gpointer data, GError ** error);

/* A generator's main(): parses the options (frame_options_parse), loads
 * the digits, calls @generate; prints any error as "NAME: MESSAGE".
 * Returns the exit status: 0, 1 when generating failed, 2 for bad
 * options or data. */
int frame_generator_main (int argc, char **argv, const gchar * name,
    const gchar * what, const gchar * summary, const GOptionEntry * extra,
    FrameGenerate generate, gpointer data);

G_END_DECLS

#endif /* EVAL_FRAME_SINK_H */
