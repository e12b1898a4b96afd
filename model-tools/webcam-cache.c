/* The webcam scenes of `--augment webcam` (webcam-cache.h).
 *
 * Scene j of the run (digit j / K, its scene j % K; then the blanks) is
 * drawn from (seed, j) alone and lands in slot j, so the threads may
 * share the work in any way: thread t takes every n-th scene from the
 * t-th, each with its own renderer, preprocessor and frame.
 *
 * Inputs are kept as bytes (the preprocessing's 0..1 × 255, rounded):
 * the MNIST digits themselves are bytes, and floats would take four
 * times the memory (60,000 digits × 4 scenes: 190 MB as bytes).
 */
#include "webcam-cache.h"
#include "desk-scene.h"
#include "rng.h"

#include <math.h>
#include <string.h>

#define FRAME_W 640
#define FRAME_H 480
#define SIDE 28
#define PIXELS (SIDE * SIDE)
/* A scene is a stray when less than this share of the box framed lies
 * in the digit's. */
#define STRAY_OVERLAP 0.25

struct _WebcamCache
{
  WebcamStats stats;
  guint8 *inputs;               /* digits × per_digit × PIXELS */
  gboolean *stray;              /* digits × per_digit: framed elsewhere */
  guint8 *blanks;               /* stats.blanks × PIXELS */
  gboolean *blank_inked;        /* stats.blanks */
  guint *negatives;             /* blank scenes taken for ink, in order */
};

/* One thread's share and what it needs. */
typedef struct
{
  WebcamCache *cache;
  const CnnDataset *data;
  guint64 seed;
  guint first, step;
  guint no_ink, strays;
  GError *error;
} Share;

static void
store_input (const gfloat * in, guint8 * out)
{
  for (guint i = 0; i < PIXELS; i++)
    out[i] = (guint8) lrintf (255.0f * CLAMP (in[i], 0.0f, 1.0f));
}

/* cnnclassify's default region of the frame: the centred square. */
static CnnImage
gray_frame (const guint8 * pixels, CnnRect * roi)
{
  CnnImage image = { FRAME_W, FRAME_H, CNN_COLOR_GREY };

  image.planes[0].data = pixels;
  image.planes[0].row_stride = FRAME_W;
  image.planes[0].pixel_stride = 1;
  *roi = (CnnRect) {
  (FRAME_W - FRAME_H) / 2, 0, FRAME_H, FRAME_H};
  return image;
}

/* Whether the ink @pre framed last lies mostly outside the box of
 * @digit's ink in @scene (all of it when the digit has none). */
static gboolean
framed_elsewhere (const CnnPreprocessor * pre, const DeskScene * scene,
    const guint8 * digit)
{
  gdouble ink[4], w, h;
  CnnRect b;

  if (!cnn_preprocessor_digit_box (pre, &b))
    return FALSE;
  if (!desk_scene_ink_box (scene, digit, ink))
    return TRUE;
  w = MIN (b.x + b.width, ink[2]) - MAX (b.x, ink[0]);
  h = MIN (b.y + b.height, ink[3]) - MAX (b.y, ink[1]);
  return MAX (w, 0.0) * MAX (h, 0.0)
      < STRAY_OVERLAP * b.width * (gdouble) b.height;
}

/* Scene @j into its slot: TRUE when the preprocessing found ink. */
static gboolean
render_scene (Share * sh, guint j, DeskWork * work, CnnPreprocessor * pre,
    guint8 * frame, gfloat * input, gboolean * inked)
{
  WebcamCache *c = sh->cache;
  const guint n_digit_scenes = c->stats.digits * c->stats.per_digit;
  const gboolean blank = j >= n_digit_scenes;
  const guint index = blank ? j - n_digit_scenes : j;
  const guint8 *digit = blank ? NULL : sh->data->pixels
      + (gsize) (j / c->stats.per_digit) * PIXELS;
  CnnRect roi;
  const CnnImage image = gray_frame (frame, &roi);
  DeskScene scene;

  desk_scene_draw (&scene, FRAME_W, FRAME_H, sh->seed, index, blank);
  if (!desk_scene_render (&scene, digit, frame, FRAME_W, FRAME_H, FRAME_W,
          work, &sh->error))
    return FALSE;
  *inked = cnn_preprocessor_run (pre, &image, roi, input);
  if (blank) {
    c->blank_inked[index] = *inked;
    if (*inked)
      store_input (input, c->blanks + (gsize) index * PIXELS);
  } else if (*inked) {
    store_input (input, c->inputs + (gsize) j * PIXELS);
    c->stray[j] = framed_elsewhere (pre, &scene, digit);
  } else {
    memcpy (c->inputs + (gsize) j * PIXELS, digit, PIXELS);
  }
  return TRUE;
}

static gpointer
render_share (gpointer data)
{
  Share *sh = data;
  WebcamCache *c = sh->cache;
  const guint total = c->stats.digits * c->stats.per_digit + c->stats.blanks;
  const CnnShape shape = { 1, SIDE, SIDE };
  CnnPreprocessor *pre = cnn_preprocessor_new ("mnist", shape, &sh->error);
  DeskWork *work = desk_work_new (FRAME_W, FRAME_H);
  guint8 *frame = g_malloc ((gsize) FRAME_W * FRAME_H);
  gfloat input[PIXELS];

  for (guint j = sh->first; pre && j < total; j += sh->step) {
    gboolean inked;

    if (!render_scene (sh, j, work, pre, frame, input, &inked))
      break;
    if (j < total - c->stats.blanks) {
      sh->no_ink += !inked;
      sh->strays += c->stray[j];
    }
  }
  cnn_preprocessor_free (pre);
  desk_work_free (work);
  g_free (frame);
  return NULL;
}

/* Runs the shares, the first on this thread; the first error wins. */
static gboolean
render_all (WebcamCache * c, const CnnDataset * data, guint64 seed,
    guint threads, GError ** error)
{
  g_autofree Share *shares = g_new0 (Share, threads);
  g_autofree GThread **running = g_new0 (GThread *, threads);
  gboolean ok = TRUE;

  for (guint t = 0; t < threads; t++) {
    shares[t] = (Share) {
    c, data, seed, t, threads, 0, 0, NULL};
    if (t > 0)
      running[t] = g_thread_new ("webcam", render_share, &shares[t]);
  }
  render_share (&shares[0]);
  for (guint t = 0; t < threads; t++) {
    if (t > 0)
      g_thread_join (running[t]);
    c->stats.no_ink += shares[t].no_ink;
    c->stats.strays += shares[t].strays;
    if (shares[t].error && ok) {
      g_propagate_error (error, shares[t].error);
      ok = FALSE;
    } else {
      g_clear_error (&shares[t].error);
    }
  }
  return ok;
}

/* The cache's buffers for c->stats.digits × per_digit scenes and their
 * blanks, within the memory limit (--memory-limit), or FALSE with
 * @error: they grow with the training set and --augment webcam=K, so
 * too many is an error, not an abort. */
static gboolean
cache_alloc (WebcamCache * c, GError ** error)
{
  const guint64 scenes = (guint64) c->stats.digits * c->stats.per_digit;
  const guint64 blanks = (scenes + WEBCAM_SCENES_PER_BLANK - 1)
      / WEBCAM_SCENES_PER_BLANK;
  const guint64 bytes = scenes * (PIXELS + sizeof (gboolean))
      + blanks * (PIXELS + sizeof (gboolean) + sizeof (guint));

  if (scenes + blanks > G_MAXUINT || bytes > G_MAXSIZE) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM, "--augment webcam: %"
        G_GUINT64_FORMAT " scenes are more than can be counted", scenes);
    return FALSE;
  }
  if (!cnn_memory_check (bytes, 0, "--augment webcam's scenes", error))
    return FALSE;
  c->stats.blanks = (guint) blanks;
  c->inputs = g_try_malloc (scenes * PIXELS);
  c->stray = g_try_new0 (gboolean, scenes);
  c->blanks = g_try_malloc (blanks * PIXELS);
  c->blank_inked = g_try_new0 (gboolean, blanks);
  c->negatives = g_try_new (guint, blanks);
  if (c->inputs && c->stray && c->blanks && c->blank_inked && c->negatives)
    return TRUE;
  g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM, "--augment webcam: out "
      "of memory for %" G_GUINT64_FORMAT " MiB of scenes", bytes >> 20);
  return FALSE;
}

WebcamCache *
webcam_cache_new (const CnnDataset * data, guint n, guint per_digit,
    guint64 seed, guint threads, GError ** error)
{
  const gint64 start = g_get_monotonic_time ();
  WebcamCache *c;

  if (data->shape.c != 1 || data->shape.h != SIDE || data->shape.w != SIDE) {
    g_autofree gchar *shape = cnn_shape_to_string (data->shape);

    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "--augment webcam draws 1x28x28 digits; these images are %s", shape);
    return NULL;
  }
  g_return_val_if_fail (n <= data->n && per_digit > 0 && threads > 0, NULL);
  c = g_new0 (WebcamCache, 1);
  c->stats.digits = n;
  c->stats.per_digit = per_digit;
  c->stats.threads = threads;
  if (!cache_alloc (c, error)) {
    webcam_cache_free (c);
    return NULL;
  }
  if (!render_all (c, data, seed, threads, error)) {
    webcam_cache_free (c);
    return NULL;
  }
  for (guint b = 0; b < c->stats.blanks; b++)
    if (c->blank_inked[b])
      c->negatives[c->stats.blank_ink++] = b;
  c->stats.seconds = (g_get_monotonic_time () - start) / 1e6;
  return c;
}

void
webcam_cache_free (WebcamCache * c)
{
  if (!c)
    return;
  g_free (c->inputs);
  g_free (c->stray);
  g_free (c->blanks);
  g_free (c->blank_inked);
  g_free (c->negatives);
  g_free (c);
}

const WebcamStats *
webcam_cache_stats (const WebcamCache * c)
{
  return &c->stats;
}

static void
bytes_to_unit (const guint8 * in, gfloat * out)
{
  for (guint i = 0; i < PIXELS; i++)
    out[i] = in[i] / 255.0f;
}

gboolean
webcam_cache_get (const WebcamCache * c, guint index, guint scene,
    gfloat * out)
{
  const gsize j = (gsize) index * c->stats.per_digit + scene;

  g_return_val_if_fail (index < c->stats.digits
      && scene < c->stats.per_digit, FALSE);
  bytes_to_unit (c->inputs + j * PIXELS, out);
  return !c->stray[j];
}

guint
webcam_cache_n_negatives (const WebcamCache * c)
{
  return c->stats.blank_ink;
}

void
webcam_cache_get_negative (const WebcamCache * c, guint i, gfloat * out)
{
  g_return_if_fail (i < c->stats.blank_ink);
  bytes_to_unit (c->blanks + (gsize) c->negatives[i] * PIXELS, out);
}

gint
webcam_pick (guint64 key, gdouble p, guint per_digit)
{
  ToolRng rng = { key };

  if (per_digit == 0 || tool_rng_uniform (&rng) >= p)
    return -1;
  return (gint) tool_rng_below (&rng, per_digit);
}
