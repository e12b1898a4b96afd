/* Data augmentation as one warp per sample: an affine map (shift,
 * rotation about the centre, zoom) plus an optional elastic displacement
 * field (Simard, Steinkraus & Platt 2003: uniform noise smoothed by a
 * Gaussian of σ pixels, scaled by α), resampled bilinearly with zero
 * outside the picture, then optional Gaussian noise.  Every number comes
 * from a generator seeded with the caller's key, so a sample's warp in an
 * epoch is the same however the run was split or resumed. */
#include "augment.h"
#include "rng.h"
#include "tool.h"

#include <math.h>
#include <string.h>

#define DEFAULT_SIGMA 4.0
#define DEFAULT_WEBCAM 4.0
#define DEFAULT_WEBCAM_P 0.5
#define DEFAULT_WEBCAM_NEG 0.05

struct _Augmenter
{
  AugmentSettings s;
  CnnShape shape;
  /* Elastic displacement per output pixel (H×W each) and blur scratch. */
  gfloat *field_x, *field_y, *blur;
  gfloat *kernel;               /* 2·radius + 1 taps, sum 1 */
  guint radius;
};

typedef struct
{
  const gchar *key;
  gsize offset;
  gdouble min, max;
} AugmentKey;

static const AugmentKey keys[] = {
  {"shift", G_STRUCT_OFFSET (AugmentSettings, shift), 0.0, 1000.0},
  {"rotate", G_STRUCT_OFFSET (AugmentSettings, rotate), 0.0, 180.0},
  {"scale", G_STRUCT_OFFSET (AugmentSettings, scale), 0.0, 0.9},
  {"elastic", G_STRUCT_OFFSET (AugmentSettings, elastic), 0.0, 1000.0},
  {"sigma", G_STRUCT_OFFSET (AugmentSettings, sigma), 0.5, 100.0},
  {"noise", G_STRUCT_OFFSET (AugmentSettings, noise), 0.0, 1.0},
  {"webcam", G_STRUCT_OFFSET (AugmentSettings, webcam), 0.0, 64.0},
  {"webcam-p", G_STRUCT_OFFSET (AugmentSettings, webcam_p), 0.0, 1.0},
  {"webcam-neg", G_STRUCT_OFFSET (AugmentSettings, webcam_neg), 0.0, 0.5},
};

#define FIELD(s, k) G_STRUCT_MEMBER (gdouble, (s), keys[k].offset)

gboolean
augment_settings_parse (const gchar * text, AugmentSettings * s,
    GError ** error)
{
  g_auto (GStrv) items = NULL;

  memset (s, 0, sizeof (*s));
  s->sigma = DEFAULT_SIGMA;
  s->webcam_p = DEFAULT_WEBCAM_P;
  s->webcam_neg = DEFAULT_WEBCAM_NEG;
  if (!text || !*text || g_str_equal (text, "none"))
    return TRUE;

  items = g_strsplit (text, ",", -1);
  for (guint i = 0; items[i]; i++) {
    gchar *item = g_strstrip (items[i]);
    gchar *eq = strchr (item, '=');
    guint k;

    if (g_str_equal (item, "webcam")) {
      s->webcam = DEFAULT_WEBCAM;
      continue;
    }

    for (k = 0; eq && k < G_N_ELEMENTS (keys); k++)
      if (strlen (keys[k].key) == (gsize) (eq - item)
          && strncmp (item, keys[k].key, eq - item) == 0)
        break;
    if (!eq || k == G_N_ELEMENTS (keys)) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
          "--augment: '%s' is not one of shift=PIXELS, rotate=DEGREES, "
          "scale=FRACTION, elastic=ALPHA, sigma=PIXELS, noise=STDDEV, "
          "webcam[=SCENES], webcam-p=PROBABILITY, webcam-neg=PROBABILITY", item);
      return FALSE;
    }
    *eq = '\0';
    {
      g_autofree gchar *what = g_strdup_printf ("--augment %s", item);

      if (!tool_parse_double (what, eq + 1, keys[k].min, keys[k].max,
              &FIELD (s, k), error))
        return FALSE;
    }
  }
  if (s->webcam != floor (s->webcam)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "--augment webcam=%g: the scenes per digit must be a whole number",
        s->webcam);
    return FALSE;
  }
  return TRUE;
}

gboolean
augment_settings_warps (const AugmentSettings * s)
{
  return s->shift > 0 || s->rotate > 0 || s->scale > 0 || s->elastic > 0
      || s->noise > 0;
}

gboolean
augment_settings_enabled (const AugmentSettings * s)
{
  return augment_settings_warps (s) || s->webcam > 0;
}

gchar *
augment_settings_to_string (const AugmentSettings * s)
{
  GString *text = g_string_new (NULL);

  for (guint k = 0; k < G_N_ELEMENTS (keys); k++) {
    gdouble v = FIELD ((gpointer) s, k);
    g_autofree gchar *num = NULL;

    /* sigma only matters with elastic, webcam-p and webcam-neg with
     * webcam; zero means off for the others. */
    if (g_str_equal (keys[k].key, "sigma") ? s->elastic <= 0 :
        g_str_has_prefix (keys[k].key, "webcam-") ? s->webcam <= 0 : v <= 0)
      continue;
    num = tool_format_double (v);
    g_string_append_printf (text, "%s%s=%s", text->len ? "," : "",
        keys[k].key, num);
  }
  if (!text->len)
    g_string_append (text, "none");
  return g_string_free (text, FALSE);
}

Augmenter *
augmenter_new (const AugmentSettings * s, CnnShape shape)
{
  Augmenter *aug = g_new0 (Augmenter, 1);
  gsize plane = (gsize) shape.h * shape.w;
  gdouble sum = 0.0;

  aug->s = *s;
  aug->shape = shape;
  if (s->elastic > 0) {
    aug->field_x = g_new (gfloat, plane);
    aug->field_y = g_new (gfloat, plane);
    aug->blur = g_new (gfloat, plane);
    aug->radius = (guint) ceil (3.0 * s->sigma);
    aug->kernel = g_new (gfloat, 2 * aug->radius + 1);
    for (guint i = 0; i <= 2 * aug->radius; i++) {
      gdouble d = (gdouble) i - aug->radius;

      aug->kernel[i] = (gfloat) exp (-d * d / (2.0 * s->sigma * s->sigma));
      sum += aug->kernel[i];
    }
    for (guint i = 0; i <= 2 * aug->radius; i++)
      aug->kernel[i] /= (gfloat) sum;
  }
  return aug;
}

void
augmenter_free (Augmenter * aug)
{
  if (!aug)
    return;
  g_free (aug->field_x);
  g_free (aug->field_y);
  g_free (aug->blur);
  g_free (aug->kernel);
  g_free (aug);
}

/* field (H×W) → Gaussian-smoothed field (H×W), edges clamped;
 * separable: rows into aug->blur, then columns back into @field. */
static void
smooth_field (Augmenter * aug, gfloat * field)
{
  gint w = (gint) aug->shape.w, h = (gint) aug->shape.h;
  gint r = (gint) aug->radius;

  for (gint y = 0; y < h; y++)
    for (gint x = 0; x < w; x++) {
      gfloat acc = 0.0f;

      for (gint t = -r; t <= r; t++)
        acc += aug->kernel[t + r] * field[y * w + CLAMP (x + t, 0, w - 1)];
      aug->blur[y * w + x] = acc;
    }
  for (gint y = 0; y < h; y++)
    for (gint x = 0; x < w; x++) {
      gfloat acc = 0.0f;

      for (gint t = -r; t <= r; t++)
        acc += aug->kernel[t + r] * aug->blur[CLAMP (y + t, 0, h - 1) * w + x];
      field[y * w + x] = acc;
    }
}

static void
draw_elastic_field (Augmenter * aug, ToolRng * rng)
{
  gsize plane = (gsize) aug->shape.h * aug->shape.w;
  gfloat alpha = (gfloat) aug->s.elastic;

  for (gsize i = 0; i < plane; i++) {
    aug->field_x[i] = (gfloat) tool_rng_symmetric (rng);
    aug->field_y[i] = (gfloat) tool_rng_symmetric (rng);
  }
  smooth_field (aug, aug->field_x);
  smooth_field (aug, aug->field_y);
  for (gsize i = 0; i < plane; i++) {
    aug->field_x[i] *= alpha;
    aug->field_y[i] *= alpha;
  }
}

/* plane (H×W) at real (x, y), bilinear, zero outside */
static inline gfloat
sample_bilinear (const gfloat * plane, gint w, gint h, gfloat x, gfloat y)
{
  gfloat fx = floorf (x), fy = floorf (y);
  gint x0 = (gint) fx, y0 = (gint) fy;
  gfloat ax = x - fx, ay = y - fy;
  gfloat v00 = 0, v01 = 0, v10 = 0, v11 = 0;

  if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h)
    return 0.0f;
  if (y0 >= 0) {
    if (x0 >= 0)
      v00 = plane[y0 * w + x0];
    if (x0 + 1 < w)
      v01 = plane[y0 * w + x0 + 1];
  }
  if (y0 + 1 < h) {
    if (x0 >= 0)
      v10 = plane[(y0 + 1) * w + x0];
    if (x0 + 1 < w)
      v11 = plane[(y0 + 1) * w + x0 + 1];
  }
  return (1 - ay) * ((1 - ax) * v00 + ax * v01) + ay * ((1 - ax) * v10
      + ax * v11);
}

/* in (C×H×W) → out (C×H×W): out(p) = in(A⁻¹(p - c - t) + c + e(p)) */
void
augmenter_apply (Augmenter * aug, guint64 key, const gfloat * in,
    gfloat * out)
{
  const AugmentSettings *s = &aug->s;
  gint w = (gint) aug->shape.w, h = (gint) aug->shape.h;
  gsize plane = (gsize) w * h;
  ToolRng rng = { key };
  gdouble dx, dy, angle, zoom, cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
  gfloat a, b;

  /* Always four draws, so enabling one kind leaves the others' draws. */
  dx = s->shift * tool_rng_symmetric (&rng);
  dy = s->shift * tool_rng_symmetric (&rng);
  angle = s->rotate * tool_rng_symmetric (&rng) * G_PI / 180.0;
  zoom = 1.0 + s->scale * tool_rng_symmetric (&rng);
  a = (gfloat) (cos (angle) / zoom);
  b = (gfloat) (sin (angle) / zoom);
  if (s->elastic > 0)
    draw_elastic_field (aug, &rng);

  for (gint y = 0; y < h; y++) {
    for (gint x = 0; x < w; x++) {
      gfloat u = (gfloat) (x - cx - dx), v = (gfloat) (y - cy - dy);
      gfloat sx = (gfloat) cx + a * u + b * v;
      gfloat sy = (gfloat) cy - b * u + a * v;

      if (s->elastic > 0) {
        sx += aug->field_x[y * w + x];
        sy += aug->field_y[y * w + x];
      }
      for (guint c = 0; c < aug->shape.c; c++)
        out[c * plane + y * w + x] =
            sample_bilinear (in + c * plane, w, h, sx, sy);
    }
  }

  if (s->noise > 0) {
    for (gsize i = 0; i < plane * aug->shape.c; i++) {
      /* Drawn once: CLAMP would evaluate its argument more than once. */
      gfloat v = out[i] + (gfloat) (s->noise * tool_rng_normal (&rng));

      out[i] = CLAMP (v, 0.0f, 1.0f);
    }
  }
}
