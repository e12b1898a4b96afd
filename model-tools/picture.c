/* Picture decoding for `cnn predict`.
 *
 * PNG goes through libpng's simplified API, which handles every bit
 * depth, palette, gamma and transparency; we ask it for 8-bit grey or
 * RGB.  PGM/PPM (P5/P6) are parsed here: magic, then width, height and
 * maxval separated by white space with '#' comments allowed, one white
 * space character, then the samples (two bytes, big-endian, when maxval
 * > 255).  Samples are rescaled to 0..255. */
#include "picture.h"

#include <png.h>
#include <string.h>

#define MAX_FILE_BYTES ((gsize) 256 << 20)
#define MAX_PIXEL_BYTES ((guint64) 256 << 20)
#define MAX_SIDE 32768

void
picture_clear (Picture * pic)
{
  g_clear_pointer (&pic->data, g_free);
}

void
picture_to_image (const Picture * pic, CnnImage * image)
{
  memset (image, 0, sizeof (*image));
  image->width = pic->width;
  image->height = pic->height;
  image->color = pic->channels == 1 ? CNN_COLOR_GREY : CNN_COLOR_RGB;
  /* A grey model takes the luma of colour pictures, which have no
   * colorimetry of their own here: BT.601, as cnnclassify for RGB. */
  image->kr = CNN_BT601_KR;
  image->kb = CNN_BT601_KB;
  for (guint c = 0; c < pic->channels; c++)
    image->planes[c] = (CnnPlane) {
      .data = pic->data + c,
      .row_stride = (gint) (pic->width * pic->channels),
      .pixel_stride = pic->channels,
    };
}

static gboolean
check_size (const gchar * path, guint64 width, guint64 height,
    guint channels, GError ** error)
{
  if (width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE
      || width * height * channels > MAX_PIXEL_BYTES) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "%s: picture size %" G_GUINT64_FORMAT "x%" G_GUINT64_FORMAT
        " (%u channel(s)) is empty or larger than this tool reads (sides "
        "up to %u, %" G_GUINT64_FORMAT " MiB of samples)", path, width,
        height, channels, MAX_SIDE, MAX_PIXEL_BYTES >> 20);
    return FALSE;
  }
  return TRUE;
}

/* check_size() bounds the samples, but even that may not be there. */
static gboolean
set_no_memory (const gchar * path, const Picture * pic, GError ** error)
{
  g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM, "%s: cannot allocate "
      "%ux%u samples of %u channel(s)", path, pic->width, pic->height,
      pic->channels);
  return FALSE;
}

/* ---- PNG ----------------------------------------------------------- */

static gboolean
parse_png (const gchar * path, const guint8 * bytes, gsize size,
    Picture * pic, GError ** error)
{
  png_image image;
  /* Transparent parts become white paper: drawings saved from a canvas
   * are usually dark strokes on a transparent background. */
  png_color white = { 255, 255, 255 };

  memset (&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory (&image, bytes, size))
    goto failed;
  pic->channels = (image.format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1;
  if (!check_size (path, image.width, image.height, pic->channels, error)) {
    png_image_free (&image);
    return FALSE;
  }
  image.format = pic->channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  pic->width = image.width;
  pic->height = image.height;
  pic->data = g_try_malloc (PNG_IMAGE_SIZE (image));
  if (!pic->data) {
    png_image_free (&image);
    return set_no_memory (path, pic, error);
  }
  if (!png_image_finish_read (&image, &white, pic->data, 0, NULL)) {
    picture_clear (pic);
    goto failed;
  }
  return TRUE;

failed:
  g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID, "%s: bad PNG: %s", path,
      image.message);
  png_image_free (&image);
  return FALSE;
}

/* ---- PGM / PPM ----------------------------------------------------- */

typedef struct
{
  const gchar *path;
  const guint8 *bytes;
  gsize size, pos;
} PnmReader;

static gboolean
is_pnm_space (guint8 c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'
      || c == '\f';
}

/* White space and '#' comments (to the end of the line). */
static void
skip_space (PnmReader * r)
{
  while (r->pos < r->size) {
    if (is_pnm_space (r->bytes[r->pos])) {
      r->pos++;
    } else if (r->bytes[r->pos] == '#') {
      while (r->pos < r->size && r->bytes[r->pos] != '\n'
          && r->bytes[r->pos] != '\r')
        r->pos++;
    } else {
      break;
    }
  }
}

static gboolean
read_number (PnmReader * r, const gchar * field, guint64 max, guint64 * value,
    GError ** error)
{
  gsize start;
  guint64 v = 0;

  if (r->pos >= r->size || (!is_pnm_space (r->bytes[r->pos])
          && r->bytes[r->pos] != '#'))
    goto bad;
  skip_space (r);
  start = r->pos;
  while (r->pos < r->size && g_ascii_isdigit (r->bytes[r->pos])) {
    v = v * 10 + (r->bytes[r->pos] - '0');
    if (v > max) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
          "%s: %s at byte offset %" G_GSIZE_FORMAT " is larger than %"
          G_GUINT64_FORMAT, r->path, field, start, max);
      return FALSE;
    }
    r->pos++;
  }
  if (r->pos == start)
    goto bad;
  *value = v;
  return TRUE;

bad:
  g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
      "%s: expected white space and the %s at byte offset %" G_GSIZE_FORMAT,
      r->path, field, r->pos);
  return FALSE;
}

gboolean
picture_parse_pnm (const gchar * path, const guint8 * bytes, gsize size,
    Picture * pic, GError ** error)
{
  PnmReader r = { path, bytes, size, 2 };
  guint64 width, height, maxval, need;
  guint channels, sample_bytes;
  gsize data;

  if (size < 2 || bytes[0] != 'P' || (bytes[1] != '5' && bytes[1] != '6')) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "%s: not a binary PGM (P5) or PPM (P6) file at byte offset 0", path);
    return FALSE;
  }
  channels = bytes[1] == '5' ? 1 : 3;
  if (!read_number (&r, "width", MAX_SIDE, &width, error)
      || !read_number (&r, "height", MAX_SIDE, &height, error)
      || !read_number (&r, "maxval", 65535, &maxval, error))
    return FALSE;
  if (maxval == 0) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "%s: maxval is 0 (byte offset %" G_GSIZE_FORMAT ")", path, r.pos - 1);
    return FALSE;
  }
  if (!check_size (path, width, height, channels, error))
    return FALSE;
  /* Exactly one white space character separates maxval from the data. */
  if (r.pos >= size || !is_pnm_space (bytes[r.pos])) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "%s: expected one white space character after maxval at byte "
        "offset %" G_GSIZE_FORMAT, path, r.pos);
    return FALSE;
  }
  data = r.pos + 1;
  sample_bytes = maxval > 255 ? 2 : 1;
  need = width * height * channels * sample_bytes;
  if (size - data < need) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "%s: pixel data ends at byte offset %" G_GSIZE_FORMAT ", but %"
        G_GUINT64_FORMAT "x%" G_GUINT64_FORMAT "x%u samples need %"
        G_GUINT64_FORMAT " bytes from byte offset %" G_GSIZE_FORMAT, path,
        size, width, height, channels, need, data);
    return FALSE;
  }

  pic->width = (guint) width;
  pic->height = (guint) height;
  pic->channels = channels;
  pic->data = g_try_malloc (width * height * channels);
  if (!pic->data)
    return set_no_memory (path, pic, error);
  for (gsize i = 0; i < width * height * channels; i++) {
    const guint8 *p = bytes + data + i * sample_bytes;
    guint v = sample_bytes == 2 ? (guint) p[0] << 8 | p[1] : p[0];

    if (v > maxval) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
          "%s: sample %u at byte offset %" G_GSIZE_FORMAT " exceeds maxval %"
          G_GUINT64_FORMAT, path, v, (gsize) (p - bytes), maxval);
      picture_clear (pic);
      return FALSE;
    }
    pic->data[i] = (guint8) ((v * 255 + maxval / 2) / maxval);
  }
  return TRUE;
}

gboolean
picture_load (const gchar * path, Picture * pic, GError ** error)
{
  static const guint8 png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n',
    0x1a, '\n'
  };
  g_autoptr (GMappedFile) file = NULL;
  g_autoptr (GError) err = NULL;
  const guint8 *bytes;
  gsize size;

  memset (pic, 0, sizeof (*pic));
  file = g_mapped_file_new (path, FALSE, &err);
  if (!file) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_IO, "%s", err->message);
    return FALSE;
  }
  bytes = (const guint8 *) g_mapped_file_get_contents (file);
  size = g_mapped_file_get_length (file);
  if (size > MAX_FILE_BYTES) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "%s: %" G_GSIZE_FORMAT " bytes is larger than this tool reads", path,
        size);
    return FALSE;
  }
  if (size >= 8 && memcmp (bytes, png_magic, 8) == 0)
    return parse_png (path, bytes, size, pic, error);
  if (size >= 2 && bytes[0] == 'P' && (bytes[1] == '5' || bytes[1] == '6'))
    return picture_parse_pnm (path, bytes, size, pic, error);
  g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
      "%s: not a PNG, binary PGM (P5) or binary PPM (P6) picture", path);
  return FALSE;
}
