/* Shadows: large regions along the region's edge where the paper lies
 * darker than the background fit says (a hand's or a phone's shadow),
 * flattened on the digit finder's work grid (internal to libcnn; a
 * stage of the "mnist" mode, docs/design.md). */
#ifndef CNN_SHADOWS_H
#define CNN_SHADOWS_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct _CnnShadows CnnShadows;

/* For a @w × @h work grid; NULL when the memory is not there. */
CnnShadows *cnn_shadows_new (guint w, guint h);
void cnn_shadows_free (CnnShadows * shadows);

/* @ink (w × h, ink bright, the background fitted to about 0): where
 * blocks whose paper stands more than @slack above 0 reach the grid's
 * edge, their level is taken off, interpolated between block centres.
 * Returns whether anything was.  Allocates nothing. */
gboolean cnn_shadows_flatten (CnnShadows * shadows, gfloat * ink,
    gfloat slack);

G_END_DECLS

#endif /* CNN_SHADOWS_H */
