/* "mnist" preprocessing after scaling: find the digit in a grey picture
 * of the region and frame it as the MNIST digits were (size-normalised
 * into a 20×20 box keeping the aspect ratio, then placed in 28×28 with
 * the centre of mass of its pixels in the middle).
 *
 * A webcam picture of a digit on paper is not a clean picture of ink:
 * the ink is usually dark on light, the light falls unevenly, the sensor
 * adds noise, and the region holds other things (a table edge, a shadow,
 * the paper's border).  On a work grid of 8 cells per model pixel (at
 * most 256 a side; 224×224 for 28×28, which small digits in a large
 * region need):
 *
 *   1. block quartiles: the grid is cut into 8×8 blocks whose quartiles
 *      describe the local background and, by their spread, the noise;
 *   2. polarity, from two witnesses, the surer of which decides: ink is
 *      what stands out of the local median (of 3×3 blocks), on the side
 *      (darker or lighter) with more of it, which fails when the digit is
 *      larger than the neighbourhood; and the background is what the
 *      region's border shows, near the dark or the light end of all
 *      values, which fails when the light varies more than the ink does.
 *      A light background is inverted so that ink is bright on dark;
 *   3. flattening: a quadratic in the position, fitted to the blocks'
 *      quartiles away from the ink leaving out blocks that stand above
 *      it (ink, clutter), is subtracted: lighting gradients, a lamp's
 *      falloff and vignetting go;
 *   4. components: cells above the background by a noise- and
 *      contrast-based threshold, 8-connected (runs along rows joined by
 *      union-find, one pass); the main one is the large
 *      one near the centre.  Things lying along the region's border (a
 *      shadow, a strip, a table edge) never are, a digit the border cuts
 *      only when nothing inside competes.  Nearby parts that are ink too
 *      (a broken stroke) join it, other things do not;
 *   4b. rulings (cnn-rulings.c): the lines of ruled and squared paper
 *      are found by projection and erased where no stroke crosses them,
 *      then the components are labelled again; and a straight, flat
 *      stroke (a piece of a ruling, a pen's line along the page) is never
 *      the digit, since no digit is one.  What is left may hold nothing:
 *      that, not the network, says "no digit";
 *   4c. the digit's own threshold (cnn-mnist-choice.c): labelled again
 *      above a share of a strongly inked digit's level, so that fainter
 *      lines joined to it fall away, or from half the threshold with
 *      hysteresis for a weakly inked one, so that its pieces join;
 *   5. levels: background → 0 and the main component's 97th percentile
 *      → 1, clamped; percentiles shrug off noise and specks, min/max
 *      would not;
 *   6. framing: the digit's box (its components' cells at ≥ 0.3) is
 *      scaled to fit 20/28 of the input, shifted by whole output pixels
 *      to bring the centre of mass to the middle, and area-averaged into
 *      the output; other components inside the box are left out;
 *   7. strokes (cnn-strokes.c): a hairline or a marker's stroke width,
 *      measured as twice the digit's area over its perimeter, is brought
 *      into MNIST's range.
 *
 * The work grid is fixed while regions vary, so its cells need not be
 * square: distances and the digit's aspect are measured in frame units
 * through the cell aspect.
 */
#include "cnn-mnist-private.h"
#include "cnn-strokes.h"

#include <math.h>
#include <string.h>


/* Step 2 and 4: what counts as ink. */
#define NOISE_SIGMAS_ZERO 2.0   /* background → 0 this far above its median */
#define NOISE_SIGMAS_DETECT 3.0 /* cells this far above zero are ink ... */
#define MIN_CONTRAST 0.08       /* ... and at least this far (on paper in
                                 * good light; dim paper's ink less) */
#define SHADOW_SIGMAS 4.0       /* paper this far above the fit: shaded */
#define SHADOW_MIN_DEPTH 0.05   /* ... and at least this far */
#define MIN_INK_CONTRAST 0.10   /* the digit's ink level above zero (in
                                 * good light) */
#define PART_MIN_PEAK 0.5       /* of the ink level */

/* ---- life cycle ---------------------------------------------------- */

/* Per cell along one axis of n cells cut into GRID blocks at @bounds:
 * the block whose centre is at or before the cell's centre, and the
 * weight of the next one (0 before the first centre, 1 after the last). */
static void
compute_interpolation (const guint * bounds, guint n, guint * index,
    gfloat * frac)
{
  gdouble centres[GRID];

  for (guint b = 0; b < GRID; b++)
    centres[b] = 0.5 * (bounds[b] + bounds[b + 1]);
  for (guint i = 0; i < n; i++) {
    gdouble c = i + 0.5;
    guint b = 0;

    while (b + 2 < GRID && centres[b + 1] <= c)
      b++;
    index[i] = b;
    frac[i] = CLAMP ((c - centres[b]) / (centres[b + 1] - centres[b]), 0.0,
        1.0);
  }
}

/* The buffers, one block: each one's place, its element size and
 * count, in the order they lie. */
typedef struct
{
  gpointer *place;
  gsize size, count;
} CnnBuffer;

#define BUFFER_ALIGN 64         /* a cache line: vector loads never split */

/* Lays @n buffers out from @base (NULL: only measures); their total
 * size in bytes. */
static gsize
lay_out_buffers (const CnnBuffer * buffers, guint n, guint8 * base)
{
  gsize at = 0;

  for (guint i = 0; i < n; i++) {
    at = (at + BUFFER_ALIGN - 1) & ~(gsize) (BUFFER_ALIGN - 1);
    if (base)
      *buffers[i].place = base + at;
    at += buffers[i].size * buffers[i].count;
  }
  return at;
}

/* Every per-cell, per-row and per-output buffer, as one zeroed block
 * (m->block), for an @n-cell work grid. */
static gboolean
allocate_buffers (CnnMnist * m, gsize n)
{
  const CnnBuffer buffers[] = {
    {(gpointer *) & m->grey, sizeof (gfloat), n},
    {(gpointer *) & m->ink, sizeof (gfloat), n},
    {(gpointer *) & m->stack, sizeof (guint32), n},
    {(gpointer *) & m->runs, sizeof (CnnRun), (gsize) m->h * ((m->w + 1) / 2)},
    {(gpointer *) & m->bins, sizeof (guint16), n},
    {(gpointer *) & m->flags, 1, FLAGS_SIZE (m->w)},
    {(gpointer *) & m->x_taps, sizeof (CnnRenderTap), m->out_w},
    {(gpointer *) & m->y_taps, sizeof (CnnRenderTap), m->out_h},
    {(gpointer *) & m->x_weights, sizeof (gfloat), (gsize) m->w + m->out_w},
    {(gpointer *) & m->y_weights, sizeof (gfloat), (gsize) m->h + m->out_h},
    {(gpointer *) & m->columns, sizeof (gfloat), (gsize) m->h * m->out_w},
    {(gpointer *) & m->comps, sizeof (CnnComponent), m->max_comps + 1},
    {(gpointer *) & m->iy, sizeof (guint), m->h},
    {(gpointer *) & m->fx, sizeof (gfloat), m->w},
    {(gpointer *) & m->fy, sizeof (gfloat), m->h},
    {(gpointer *) & m->u, sizeof (gfloat), m->w},
    {(gpointer *) & m->centres, sizeof (gfloat), m->w},
    {(gpointer *) & m->v, sizeof (gfloat), m->h},
    {(gpointer *) & m->line, sizeof (gfloat), m->w},
    {(gpointer *) & m->strokes, sizeof (gfloat), (gsize) m->out_w * m->out_h},
  };
  const guint n_buffers = G_N_ELEMENTS (buffers);

  m->block = g_try_malloc0 (lay_out_buffers (buffers, n_buffers, NULL));
  if (!m->block)
    return FALSE;
  lay_out_buffers (buffers, n_buffers, m->block);
  return TRUE;
}

CnnMnist *
cnn_mnist_new (guint out_w, guint out_h, guint scale, GError ** error)
{
  g_return_val_if_fail (scale >= 1, NULL);

  return cnn_mnist_new_sized (out_w, out_h,
      MIN ((guint64) out_w * scale, CNN_MNIST_MAX_WORK_SIDE),
      MIN ((guint64) out_h * scale, CNN_MNIST_MAX_WORK_SIDE), error);
}

CnnMnist *
cnn_mnist_new_sized (guint out_w, guint out_h, guint work_w, guint work_h,
    GError ** error)
{
  CnnMnist *m;
  guint ix[CNN_MNIST_MAX_GRID_SIDE];    /* each column's block, for x_stretch */
  gsize n;

  g_return_val_if_fail (out_w >= CNN_MNIST_MIN_SIDE
      && out_h >= CNN_MNIST_MIN_SIDE, NULL);
  g_return_val_if_fail (work_w >= GRID && work_w <= CNN_MNIST_MAX_GRID_SIDE
      && work_h >= GRID && work_h <= CNN_MNIST_MAX_GRID_SIDE, NULL);

  m = g_new0 (CnnMnist, 1);
  m->out_w = out_w;
  m->out_h = out_h;
  m->w = work_w;
  m->h = work_h;
  n = (gsize) m->w * m->h;
  /* Two 8-connected components cannot share a 2×2 square. */
  m->max_comps = ((m->w + 1) / 2) * ((m->h + 1) / 2);

  m->rulings = cnn_rulings_new (m->w, m->h);
  m->shadows = cnn_shadows_new (m->w, m->h);
  if (!m->rulings || !m->shadows || !allocate_buffers (m, n)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM,
        "cannot allocate a %ux%u work picture for a %ux%u digit", m->w,
        m->h, out_w, out_h);
    cnn_mnist_free (m);
    return NULL;
  }

  for (guint b = 0; b <= GRID; b++) {
    m->bx[b] = b * m->w / GRID;
    m->by[b] = b * m->h / GRID;
  }
  compute_interpolation (m->bx, m->w, ix, m->fx);
  for (guint b = 0, x = 0; b < GRID; b++) {
    while (x < m->w && ix[x] < b)
      x++;
    m->x_stretch[b] = b == GRID - 1 ? m->w : x;
  }
  compute_interpolation (m->by, m->h, m->iy, m->fy);
  for (guint x = 0; x < m->w; x++) {
    m->u[x] = 2.0 * (x + 0.5) / m->w - 1.0;
    m->centres[x] = x + 0.5f;
  }
  for (guint y = 0; y < m->h; y++)
    m->v[y] = 2.0 * (y + 0.5) / m->h - 1.0;
  for (guint k = 0; k < GRID * GRID; k++) {
    m->bu[k] = (gdouble) (m->bx[k % GRID] + m->bx[k % GRID + 1]) / m->w - 1.0;
    m->bv[k] = (gdouble) (m->by[k / GRID] + m->by[k / GRID + 1]) / m->h - 1.0;
  }
  return m;
}

void
cnn_mnist_free (CnnMnist * m)
{
  if (!m)
    return;
  g_free (m->block);
  cnn_rulings_free (m->rulings);
  cnn_shadows_free (m->shadows);
  g_free (m);
}

void
cnn_mnist_work_size (const CnnMnist * m, guint * width, guint * height)
{
  *width = m->w;
  *height = m->h;
}

gfloat *
cnn_mnist_work (CnnMnist * m)
{
  return m->grey;
}

void
cnn_mnist_digit_box (const CnnMnist * m, guint box[4])
{
  memcpy (box, m->box, sizeof m->box);
}

/* ---- per frame ----------------------------------------------------- */

void
cnn_mnist_find_ink (CnnMnist * m, gfloat * zero, gfloat * thr)
{
  gfloat noise;

  noise = cnn_mnist_flatten (m);
  cnn_shadows_flatten (m->shadows, m->ink, MAX (SHADOW_SIGMAS * noise,
          SHADOW_MIN_DEPTH));

  *zero = cnn_mnist_median_ink (m) + NOISE_SIGMAS_ZERO * noise;
  *thr = *zero + MAX (NOISE_SIGMAS_DETECT * noise,
      MIN_CONTRAST * m->light_share);
  cnn_mnist_label (m, *thr);
  if (cnn_rulings_erase (m->rulings, m->ink, *zero, *thr) > 0)
    cnn_mnist_label (m, *thr);
}

gboolean
cnn_mnist_digit_level (CnnMnist * m, guint32 main, gfloat zero, gfloat thr,
    gfloat * ink, gfloat * part_min_peak)
{
  *ink = cnn_mnist_ink_level (m, main, thr);
  *part_min_peak = zero + PART_MIN_PEAK * (*ink - zero);
  return *ink - zero >= MIN_INK_CONTRAST * m->light_share;
}

gboolean
cnn_mnist_frame_digit (CnnMnist * m, gdouble aspect, gfloat zero, gfloat ink,
    CnnPlacement * placement, gfloat * out)
{
  if (!cnn_mnist_frame (m, aspect, zero, 1.0f / (ink - zero), placement,
          out))
    return FALSE;
  /* In the pixels of a 28×28 input, which MNIST's widths are in. */
  cnn_strokes_normalise (out, m->out_w, m->out_h, cnn_mnist_stroke_width (m)
      * placement->sy * 28.0 / MIN (m->out_w, m->out_h), m->strokes);
  return TRUE;
}

gboolean
cnn_mnist_run (CnnMnist * m, gdouble aspect, gfloat * out)
{
  gfloat zero, thr, ink, min_peak;
  guint32 main;
  CnnPlacement placement;

  g_return_val_if_fail (m != NULL && out != NULL, FALSE);
  g_return_val_if_fail (aspect > 0.0 && isfinite (aspect), FALSE);

  cnn_mnist_find_ink (m, &zero, &thr);
  main = cnn_mnist_choose_digit (m, aspect, zero, &thr);
  if (main == 0 || !cnn_mnist_digit_level (m, main, zero, thr, &ink,
          &min_peak))
    return FALSE;
  cnn_mnist_select_parts (m, main, aspect, min_peak);
  return cnn_mnist_frame_digit (m, aspect, zero, ink, &placement, out);
}
