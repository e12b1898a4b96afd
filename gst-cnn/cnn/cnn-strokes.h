/* Stroke width normalisation of a framed digit (internal to libcnn; a
 * stage of the "mnist" mode, docs/design.md). */
#ifndef CNN_STROKES_H
#define CNN_STROKES_H

#include <glib.h>

G_BEGIN_DECLS

/* MNIST's strokes are 1.4 to 6.6 pixels wide, 1.7 to 4.5 for all but
 * the 1 % at each end, as the digit finder measures them on the 10,000
 * training digits of ../shared/data/mnist; on a webcam's blurred frames
 * its threshold makes them look about 15 % thinner.  A digit outside
 * these bounds is brought inside; the boldest 0.1 % of MNIST are left
 * alone. */
#define CNN_STROKE_MIN_WIDTH 1.1
#define CNN_STROKE_MAX_WIDTH 6.0

/* @digit (h × w, 0 background .. 1 ink) whose strokes are @width output
 * pixels of a 28×28 input wide: a hairline is brought up to full ink and thickened, a
 * marker's strokes are thinned; a width inside MNIST's is left alone.
 * @scratch holds h × w floats.  Returns the passes made: > 0 thickened,
 * < 0 thinned. */
gint cnn_strokes_normalise (gfloat * digit, guint w, guint h, gdouble width,
    gfloat * scratch);

G_END_DECLS

#endif /* CNN_STROKES_H */
