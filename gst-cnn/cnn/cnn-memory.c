/* The memory budget: every size that comes from a file or an option is
 * added up, in 64 bits that saturate instead of wrapping, before anything
 * of that size is allocated, and checked against a limit.  A hostile or
 * mistaken input then gets an error naming what it asked for, not an
 * abort in g_malloc(), and a host application cannot be made to swap. */
#include "cnn-private.h"

#include <errno.h>
#include <string.h>

#define LIMIT_VARIABLE "CNN_MEMORY_LIMIT"

/* 0: not set by the application. */
static guint64 process_limit;

gboolean
cnn_memory_limit_parse (const gchar * text, guint64 * bytes, GError ** error)
{
  static const gchar suffixes[] = "KMGT";
  const gchar *suffix;
  gchar *end = NULL;
  guint64 v = 0, scale = 1;

  errno = 0;
  if (text && g_ascii_isdigit (text[0]))
    v = g_ascii_strtoull (text, &end, 10);
  if (!text || !g_ascii_isdigit (text[0]) || errno)
    goto bad;
  if (*end) {
    suffix = strchr (suffixes, g_ascii_toupper (*end));
    if (!suffix || end[1] != '\0')
      goto bad;
    scale = (guint64) 1 << (10 * (suffix - suffixes + 1));
  }
  if (v == 0 || cnn_bytes_mul (v, scale) == G_MAXUINT64)
    goto bad;
  *bytes = v * scale;
  return TRUE;

bad:
  g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID, "memory limit '%s' is "
      "not a number of bytes above 0 with an optional suffix K, M, G or T "
      "(powers of 1024), e.g. 512M", text ? text : "");
  return FALSE;
}

/* A bad CNN_MEMORY_LIMIT is said once and ignored: the default is safe. */
static guint64
limit_from_environment (void)
{
  static gsize warned = 0;
  const gchar *text = g_getenv (LIMIT_VARIABLE);
  GError *err = NULL;
  guint64 bytes;

  if (!text || !*text)
    return CNN_MEMORY_LIMIT_DEFAULT;
  if (cnn_memory_limit_parse (text, &bytes, &err))
    return bytes;
  if (g_once_init_enter (&warned)) {
    g_warning (LIMIT_VARIABLE ": %s; using the default %" G_GUINT64_FORMAT
        " bytes", err->message, CNN_MEMORY_LIMIT_DEFAULT);
    g_once_init_leave (&warned, 1);
  }
  g_error_free (err);
  return CNN_MEMORY_LIMIT_DEFAULT;
}

guint64
cnn_memory_limit (void)
{
  return process_limit ? process_limit : limit_from_environment ();
}

void
cnn_set_memory_limit (guint64 bytes)
{
  process_limit = bytes;
}

gboolean
cnn_memory_check (guint64 needed, guint64 limit, const gchar * what,
    GError ** error)
{
  gchar *need_text, *limit_text;

  if (limit == 0)
    limit = cnn_memory_limit ();
  if (needed <= limit)
    return TRUE;
  need_text = needed == G_MAXUINT64 ? g_strdup ("more than 2^64 bytes")
      : g_format_size_full (needed, G_FORMAT_SIZE_IEC_UNITS);
  limit_text = g_format_size_full (limit, G_FORMAT_SIZE_IEC_UNITS);
  g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM, "%s needs %s, more than "
      "the memory limit of %s (" LIMIT_VARIABLE ", --memory-limit, "
      "memory-limit)", what, need_text, limit_text);
  g_free (need_text);
  g_free (limit_text);
  return FALSE;
}
