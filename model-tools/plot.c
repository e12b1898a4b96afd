/* Training curves drawn with cairo: two panels, loss and accuracy against
 * the epoch, one line per split.  Missing values (no validation or test
 * set) leave their line out. */
#include "plot.h"

#include <cairo.h>
#include <math.h>
#include <string.h>

#define WIDTH 960
#define HEIGHT 420
#define MARGIN_LEFT 64
#define MARGIN_RIGHT 16
#define MARGIN_TOP 36
#define MARGIN_BOTTOM 48

typedef struct
{
  gdouble x, y, w, h;           /* plot area in pixels */
  gdouble x0, x1, y0, y1;       /* data range */
} Panel;

typedef struct
{
  const gchar *name;
  gsize offset;                 /* of the gdouble in EpochRecord */
  gdouble r, g, b;
  gboolean dashed;
} Series;

static const Series loss_series[] = {
  {"train", G_STRUCT_OFFSET (EpochRecord, train_loss), 0.12, 0.47, 0.71},
  {"validation", G_STRUCT_OFFSET (EpochRecord, val_loss), 1.0, 0.50, 0.05},
};

static const Series accuracy_series[] = {
  {"train", G_STRUCT_OFFSET (EpochRecord, train_accuracy), 0.12, 0.47, 0.71},
  {"validation", G_STRUCT_OFFSET (EpochRecord, val_accuracy), 1.0, 0.50,
      0.05},
  {"test (information only)", G_STRUCT_OFFSET (EpochRecord, test_accuracy),
      0.17, 0.63, 0.17, TRUE},
};

static gdouble
value_of (const EpochRecord * r, const Series * s)
{
  return G_STRUCT_MEMBER (gdouble, r, s->offset);
}

static gdouble
px (const Panel * p, gdouble x)
{
  return p->x + (x - p->x0) / (p->x1 - p->x0) * p->w;
}

static gdouble
py (const Panel * p, gdouble y)
{
  return p->y + p->h - (y - p->y0) / (p->y1 - p->y0) * p->h;
}

/* A tick step of 1, 2 or 5 × 10^k giving about @n ticks over @range. */
static gdouble
nice_step (gdouble range, guint n)
{
  gdouble raw = range / n, mag = pow (10.0, floor (log10 (raw)));

  if (raw / mag >= 5)
    return 5 * mag;
  if (raw / mag >= 2)
    return 2 * mag;
  return mag;
}

static void
draw_text (cairo_t * cr, gdouble x, gdouble y, const gchar * text,
    gdouble align_x, gdouble align_y)
{
  cairo_text_extents_t ext;

  cairo_text_extents (cr, text, &ext);
  cairo_move_to (cr, x - ext.width * align_x - ext.x_bearing,
      y - ext.height * align_y - ext.y_bearing);
  cairo_show_text (cr, text);
}

static void
draw_axes (cairo_t * cr, const Panel * p, const gchar * title,
    gboolean percent)
{
  gdouble ystep = nice_step (p->y1 - p->y0, 5);
  gdouble xstep = MAX (1.0, ceil (nice_step (p->x1 - p->x0, 8)));

  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_set_line_width (cr, 1.0);
  cairo_rectangle (cr, p->x, p->y, p->w, p->h);
  cairo_stroke (cr);
  cairo_set_font_size (cr, 11);

  for (gdouble y = ceil (p->y0 / ystep) * ystep; y <= p->y1 + 1e-9;
      y += ystep) {
    gchar label[32];

    g_snprintf (label, sizeof label, percent ? "%.4g%%" : "%.4g",
        percent ? 100 * y : y);
    cairo_set_source_rgb (cr, 0.88, 0.88, 0.88);
    cairo_move_to (cr, p->x, py (p, y));
    cairo_line_to (cr, p->x + p->w, py (p, y));
    cairo_stroke (cr);
    cairo_set_source_rgb (cr, 0, 0, 0);
    draw_text (cr, p->x - 6, py (p, y), label, 1.0, 0.5);
  }
  for (gdouble x = ceil (p->x0); x <= p->x1 + 1e-9; x += xstep) {
    gchar label[16];

    g_snprintf (label, sizeof label, "%.0f", x);
    draw_text (cr, px (p, x), p->y + p->h + 6, label, 0.5, 0.0);
  }
  draw_text (cr, p->x + p->w / 2, p->y + p->h + 24, "epoch", 0.5, 0.0);
  cairo_set_font_size (cr, 14);
  draw_text (cr, p->x + p->w / 2, p->y - 10, title, 0.5, 1.0);
}

static void
draw_series (cairo_t * cr, const Panel * p, const EpochRecord * records,
    guint n, const Series * s, guint legend_row)
{
  gboolean started = FALSE;
  gdouble dash = 6.0;

  if (n == 0 || !isfinite (value_of (&records[0], s)))
    return;
  cairo_set_source_rgb (cr, s->r, s->g, s->b);
  cairo_set_line_width (cr, 2.0);
  cairo_set_dash (cr, &dash, s->dashed ? 1 : 0, 0);
  for (guint i = 0; i < n; i++) {
    gdouble v = value_of (&records[i], s);

    if (!isfinite (v))
      continue;
    if (started)
      cairo_line_to (cr, px (p, records[i].epoch), py (p, v));
    else
      cairo_move_to (cr, px (p, records[i].epoch), py (p, v));
    started = TRUE;
  }
  cairo_stroke (cr);
  for (guint i = 0; i < n; i++) {
    gdouble v = value_of (&records[i], s);

    if (isfinite (v)) {
      cairo_arc (cr, px (p, records[i].epoch), py (p, v), 2.5, 0, 2 * G_PI);
      cairo_fill (cr);
    }
  }

  /* Legend entry, top right inside the panel. */
  cairo_move_to (cr, p->x + p->w - 170, p->y + 14 + 16 * legend_row);
  cairo_rel_line_to (cr, 24, 0);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_set_font_size (cr, 11);
  draw_text (cr, p->x + p->w - 140, p->y + 14 + 16 * legend_row, s->name,
      0.0, 0.5);
}

static void
data_range (const EpochRecord * records, guint n, const Series * series,
    guint n_series, gdouble * lo, gdouble * hi)
{
  *lo = G_MAXDOUBLE;
  *hi = -G_MAXDOUBLE;
  for (guint k = 0; k < n_series; k++)
    for (guint i = 0; i < n; i++) {
      gdouble v = value_of (&records[i], &series[k]);

      if (isfinite (v)) {
        *lo = MIN (*lo, v);
        *hi = MAX (*hi, v);
      }
    }
  if (*lo > *hi)
    *lo = *hi = 0;
}

static void
draw_panel (cairo_t * cr, gdouble left, gdouble width,
    const EpochRecord * records, guint n, const Series * series,
    guint n_series, const gchar * title, gboolean percent)
{
  Panel p;
  gdouble lo, hi, pad;
  guint row = 0;

  data_range (records, n, series, n_series, &lo, &hi);
  pad = MAX ((hi - lo) * 0.08, 1e-3);
  p.x = left + MARGIN_LEFT;
  p.y = MARGIN_TOP;
  p.w = width - MARGIN_LEFT - MARGIN_RIGHT;
  p.h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM;
  p.x0 = 0.5;
  p.x1 = MAX (n, 1) + 0.5;
  p.y0 = percent ? MAX (0.0, lo - pad) : 0.0;
  p.y1 = percent ? MIN (1.0, hi + pad) : hi + pad;
  if (p.y1 <= p.y0)
    p.y1 = p.y0 + 1e-3;

  draw_axes (cr, &p, title, percent);
  for (guint k = 0; k < n_series; k++)
    if (n && isfinite (value_of (&records[0], &series[k])))
      draw_series (cr, &p, records, n, &series[k], row++);
}

static cairo_status_t
append_png (void *closure, const unsigned char *data, unsigned int length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

gboolean
plot_training (const gchar * path, const EpochRecord * records, guint n,
    GError ** error)
{
  cairo_surface_t *surface =
      cairo_image_surface_create (CAIRO_FORMAT_RGB24, WIDTH, HEIGHT);
  cairo_t *cr = cairo_create (surface);
  g_autoptr (GByteArray) png = g_byte_array_new ();
  g_autoptr (GError) err = NULL;
  cairo_status_t status;

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
      CAIRO_FONT_WEIGHT_NORMAL);
  draw_panel (cr, 0, WIDTH / 2.0, records, n, loss_series,
      G_N_ELEMENTS (loss_series), "loss (cross-entropy)", FALSE);
  draw_panel (cr, WIDTH / 2.0, WIDTH / 2.0, records, n, accuracy_series,
      G_N_ELEMENTS (accuracy_series), "accuracy", TRUE);
  cairo_destroy (cr);

  status = cairo_surface_write_to_png_stream (surface, append_png, png);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_IO, "%s: cannot draw the plot: "
        "%s", path, cairo_status_to_string (status));
    return FALSE;
  }
  if (!g_file_set_contents_full (path, (const gchar *) png->data, png->len,
          G_FILE_SET_CONTENTS_CONSISTENT, 0644, &err)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_IO, "cannot write the plot: %s",
        err->message);
    return FALSE;
  }
  return TRUE;
}
