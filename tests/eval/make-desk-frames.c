/* make-desk-frames: the MNIST test digits as a webcam sees them written
 * on paper on a real desk (issue 11): ruled and squared paper, pens
 * from a thin ballpoint to a marker, light inks, uneven and low light,
 * defocus and motion blur, MJPEG artefacts, fingers, table edges and
 * shadows, perspective and rotation (model-tools/desk-scene.h draws
 * and renders them).  After every ninth digit comes a frame of blank
 * paper of the same kinds (label -1), so one frame in ten is blank.
 *
 * Each scene depends only on the seed and the digit's index, so the
 * first N frames of a longer run are those of a shorter one, and
 * `--first I --count 1` redraws digit I.  With --repeat K each scene is
 * shown for K frames (small moves, fresh noise).
 *
 * Frames are 640×480 GRAY8, to PNG files (frame-00000.png, ...) or, with
 * --raw, to stdout for `fdsrc ! rawvideoparse`.  The labels file has one
 * line per frame: frame, digit index, label (-1: blank), then the
 * conditions as key=value words.  --time prints the rendering time per
 * frame to stderr.
 */
#include "desk-scene.h"
#include "frame-sink.h"

#define FRAME_W 640
#define FRAME_H 480
#define DIGITS_PER_BLANK 9

typedef struct
{
  FrameSink sink;
  DeskWork *work;
  guint8 *pixels;
  GString *words;
  gint64 render_us;
  guint rendered;
} Generator;

/* The --repeat frames of scene (index, blank). */
static gboolean
write_scene (Generator * g, const FrameOptions * o, guint index, gint label,
    const guint8 * digit, GError ** error)
{
  DeskScene scene;

  desk_scene_draw (&scene, FRAME_W, FRAME_H, o->seed, index, label < 0);
  for (guint k = 0; k < (guint) o->repeat; k++) {
    gint64 t0;
    gboolean ok;

    desk_scene_jitter (&scene, o->seed, index, k);
    t0 = g_get_monotonic_time ();
    ok = desk_scene_render (&scene, digit, g->pixels, FRAME_W, FRAME_H,
        FRAME_W, g->work, error);
    g->render_us += g_get_monotonic_time () - t0;
    g->rendered++;
    if (!ok)
      return FALSE;
    g_string_truncate (g->words, 0);
    desk_scene_describe (&scene, g->words);
    fprintf (g->sink.labels, "%u %u %d %s\n", g->sink.frame, index, label,
        g->words->str);
    if (!frame_sink_write (&g->sink, g->pixels, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
generate (const FrameOptions * o, const CnnDataset * set, gpointer data,
    GError ** error)
{
  const gboolean timed = *(const gboolean *) data;
  const guint end = frame_options_end (o, set);
  Generator g = {
    .work = desk_work_new (FRAME_W, FRAME_H),
    .pixels = g_malloc ((gsize) FRAME_W * FRAME_H),
    .words = g_string_new (NULL),
  };
  gboolean ok = frame_sink_open (&g.sink, o, FRAME_W, FRAME_H,
      "frame digit label conditions (label -1: blank paper)", error);

  for (guint i = o->first; ok && i < end; i++) {
    const guint8 *digit = set->pixels
        + (gsize) i * FRAME_MNIST_SIDE * FRAME_MNIST_SIDE;

    ok = write_scene (&g, o, i, set->labels[i], digit, error);
    if (ok && (i + 1) % DIGITS_PER_BLANK == 0)
      ok = write_scene (&g, o, i, -1, NULL, error);
  }
  ok = frame_sink_close (&g.sink, ok, error);
  if (ok && timed && g.rendered > 0)
    g_printerr ("make-desk-frames: rendered %u frames of %ux%u in %.0f ms:"
        " %.2f ms per frame\n", g.rendered, FRAME_W, FRAME_H,
        g.render_us / 1000.0, g.render_us / 1000.0 / g.rendered);
  desk_work_free (g.work);
  g_free (g.pixels);
  g_string_free (g.words, TRUE);
  return ok;
}

int
main (int argc, char **argv)
{
  gboolean timed = FALSE;
  const GOptionEntry extra[] = {
    {"time", 0, 0, G_OPTION_ARG_NONE, &timed,
        "Print the rendering time per frame to stderr", NULL},
    {NULL}
  };

  return frame_generator_main (argc, argv, "make-desk-frames",
      "- MNIST test digits on a webcam's desk", "Draws each MNIST digit as "
      "a webcam sees it written on paper (ruled or squared paper, pens "
      "from ballpoint to marker, uneven and low light, blur, JPEG, "
      "fingers, table edges, shadows, perspective) in a 640x480 grey "
      "frame; one frame in ten is blank paper (label -1). Labels file: "
      "frame digit label key=value...", extra, generate, &timed);
}
