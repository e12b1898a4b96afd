/* Rulings: the lines of ruled and squared paper, found among the ink
 * cells of the digit finder's work grid and erased where no stroke
 * crosses them (internal to libcnn; a stage of the "mnist" mode). */
#ifndef CNN_RULINGS_H
#define CNN_RULINGS_H

#include <glib.h>

G_BEGIN_DECLS

/* One family of parallel lines, along the rows (ruled paper) or along
 * the columns (a margin, squared paper). */
typedef struct
{
  guint n_lines;                /* erased; 0: none found */
  gdouble slope;                /* cells across per cell along */
} CnnLineFamily;

typedef struct _CnnRulings CnnRulings;

/* For a @w × @h work grid; NULL when the memory is not there. */
CnnRulings *cnn_rulings_new (guint w, guint h);
void cnn_rulings_free (CnnRulings * rulings);

/* Finds the straight lines across the whole grid in @ink (w × h, ink
 * bright: background up to @zero, strokes above @thr) and takes each
 * line's own ink off @ink along it, except where a stroke crosses it;
 * in passes over what the last one left, until one finds none.  Returns the
 * number of lines erased.  Allocates nothing. */
guint cnn_rulings_erase (CnnRulings * rulings, gfloat * ink, gfloat zero,
    gfloat thr);

/* The families the last cnn_rulings_erase() found in its first pass:
 * the lines' main directions. */
const CnnLineFamily *cnn_rulings_family (const CnnRulings * rulings,
    gboolean vertical);

G_END_DECLS

#endif /* CNN_RULINGS_H */
