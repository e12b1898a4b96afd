/* Reading a number (internal to libcnn): the digits written on one line
 * in the "mnist" digit finder's work picture, each framed as that
 * finder frames one digit (docs/design.md, "The number mode"). */
#ifndef CNN_NUMBER_H
#define CNN_NUMBER_H

#include "cnn-mnist.h"

G_BEGIN_DECLS

typedef struct _CnnNumber CnnNumber;

/* A digit's box in work cells, inclusive. */
typedef struct
{
  guint x0, y0, x1, y1;
} CnnCellBox;

/* A reader of numbers on @mnist's work grid, which it borrows; all its
 * memory is allocated here (NULL when it cannot be). */
CnnNumber *cnn_number_new (CnnMnist * mnist);
void cnn_number_free (CnnNumber * number);
/* What cnn_number_new() allocates for a @w × @h work grid. */
guint64 cnn_number_bytes (guint w, guint h);

/* cnn-preprocess.c: a preprocessor for cnn_number_reader_new(), with one
 * work grid of NUMBER_WORK_W × _H cells and its number reader. */
CnnPreprocessor *cnn_preprocessor_new_number (const gchar * spec,
    CnnShape input, guint64 memory_limit, GError ** error);
/* @roi of @image scaled into the work picture of @pre's number reader,
 * which is returned; NULL when there is nothing to read.  *@rect is the
 * region clipped, *@aspect a work cell's width over its height in frame
 * pixels. */
CnnNumber *cnn_preprocessor_number_picture (CnnPreprocessor * pre,
    const CnnImage * image, CnnRect roi, CnnRect * rect, gdouble * aspect);
/* What the spec does to an input after framing (mean and std). */
void cnn_preprocessor_finish (const CnnPreprocessor * pre, gfloat * out);

G_END_DECLS

#endif /* CNN_NUMBER_H */
