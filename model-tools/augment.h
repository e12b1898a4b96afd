/* Data augmentation: a random warp of each training sample. */
#ifndef TOOL_AUGMENT_H
#define TOOL_AUGMENT_H

#include <cnn.h>

G_BEGIN_DECLS

/* Text form: "shift=2,rotate=10,scale=0.1,elastic=34,sigma=4,noise=0.05,
 * webcam=4,webcam-p=0.5" (any subset, any order; "webcam" alone is
 * webcam=4; "none" or "" for no augmentation). */
typedef struct
{
  gdouble shift;                /* pixels, each axis uniform in ±shift */
  gdouble rotate;               /* degrees, uniform in ±rotate */
  gdouble scale;                /* zoom uniform in 1 ± scale */
  gdouble elastic;              /* elastic distortion strength α (Simard) */
  gdouble sigma;                /* its smoothness σ in pixels (default 4) */
  gdouble noise;                /* Gaussian noise σ, in 0..1 units */
  /* Webcam scenes (webcam-cache.h): each training digit rendered in
   * `webcam` desk scenes and preprocessed as cnnclassify would; a sample
   * is one of them with probability webcam_p (default 0.5), else the
   * clean digit with the warp above. */
  gdouble webcam;               /* scenes per digit, a whole number */
  gdouble webcam_p;
  /* A sample is, with probability webcam_neg (default 0.05), one of the
   * blank scenes that the preprocessing took for ink, with no class to
   * learn: the uniform target (CNN_LABEL_NONE). */
  gdouble webcam_neg;
} AugmentSettings;

gboolean augment_settings_parse (const gchar * text, AugmentSettings * s,
    GError ** error);
/* Canonical text; "none" when nothing is enabled. */
gchar *augment_settings_to_string (const AugmentSettings * s);
gboolean augment_settings_enabled (const AugmentSettings * s);
/* Whether the clean samples are warped (shift ... noise). */
gboolean augment_settings_warps (const AugmentSettings * s);

typedef struct _Augmenter Augmenter;

/* Working memory for samples of @shape is allocated here, once. */
Augmenter *augmenter_new (const AugmentSettings * s, CnnShape shape);
void augmenter_free (Augmenter * aug);

/* in (C×H×W, values 0..1) → out (C×H×W): one random warp drawn from
 * @key alone (same key, same warp); zero where the warp leaves the
 * picture.  @in and @out must not overlap. */
void augmenter_apply (Augmenter * aug, guint64 key, const gfloat * in,
    gfloat * out);

G_END_DECLS

#endif /* TOOL_AUGMENT_H */
