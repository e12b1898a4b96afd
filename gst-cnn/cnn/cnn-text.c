/* Numbers as text for files and scripts: '.' whatever the locale, and
 * as short as reading them back allows. */
#include "cnn.h"

void
cnn_string_append_float (GString * text, gfloat value)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  /* A float holds more than 6 significant digits, so a value that some
   * shorter text reads back as comes out as that text at 6 (%g drops
   * the trailing zeros). */
  for (gint digits = 6; digits <= 9; digits++) {
    gchar format[8];

    g_snprintf (format, sizeof format, "%%.%dg", digits);
    g_ascii_formatd (buf, sizeof buf, format, value);
    if ((gfloat) g_ascii_strtod (buf, NULL) == value)
      break;
  }
  g_string_append (text, buf);
}
