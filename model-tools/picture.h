/* Still pictures for `cnn predict`: PNG (libpng), PGM (P5) and PPM (P6). */
#ifndef TOOL_PICTURE_H
#define TOOL_PICTURE_H

#include <cnn.h>

G_BEGIN_DECLS

typedef struct
{
  guint width, height;
  guint channels;               /* 1 grey, 3 RGB */
  guint8 *data;                 /* rows top-down, channels interleaved */
} Picture;

/* Decodes @path by its content (not its name).  Transparent PNG pixels
 * are composited over white.  Errors (CNN_ERROR_IO, CNN_ERROR_INVALID)
 * name the file and, for PGM/PPM, the byte offset at fault. */
gboolean picture_load (const gchar * path, Picture * pic, GError ** error);
/* Parses PGM/PPM bytes already in memory (@path names them in errors). */
gboolean picture_parse_pnm (const gchar * path, const guint8 * bytes,
    gsize size, Picture * pic, GError ** error);
void picture_clear (Picture * pic);

/* A view of @pic as libcnn sees a frame (no copy). */
void picture_to_image (const Picture * pic, CnnImage * image);

G_END_DECLS

#endif /* TOOL_PICTURE_H */
