/* Sample shapes and their "CxHxW" text form. */
#include "cnn.h"

#include <errno.h>

gboolean
cnn_shape_parse (const gchar * text, CnnShape * shape, GError ** error)
{
  guint dims[3];
  const gchar *p = text;

  for (guint i = 0; i < 3; i++) {
    gchar *end;
    guint64 v;

    errno = 0;
    v = g_ascii_isdigit (*p) ? g_ascii_strtoull (p, &end, 10) : 0;
    if (!g_ascii_isdigit (*p) || errno || v < 1 || v > 65535
        || (i < 2 && *end != 'x') || (i == 2 && *end != '\0')) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
          "input shape '%s' is not CxHxW with each dimension in 1..65535 "
          "(e.g. 1x28x28)", text);
      return FALSE;
    }
    dims[i] = (guint) v;
    p = end + 1;
  }
  *shape = (CnnShape) { dims[0], dims[1], dims[2] };
  return TRUE;
}

gchar *
cnn_shape_to_string (CnnShape shape)
{
  return g_strdup_printf ("%ux%ux%u", shape.c, shape.h, shape.w);
}
