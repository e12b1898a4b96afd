/* IDX datasets (the MNIST file format), gzip-compressed or plain.
 *
 *   bytes 0-1  zero
 *   byte  2    element type: only 0x08 (unsigned byte) is accepted
 *   byte  3    number of dimensions d
 *   4 … 4+4d   d big-endian 32-bit sizes
 *   then       the data, last dimension fastest
 *
 * Images are N×H×W (grey) or N×H×W×C (C = 1 or 3, converted to channels
 * first); labels are N.  Nothing in a file is trusted: every size is
 * checked before it is used, the data is read in chunks so that a header
 * claiming gigabytes costs nothing until the bytes really arrive, and a
 * file must end exactly where its header says.  Offsets in messages count
 * decompressed bytes, so they can be checked with `zcat FILE | xxd`.
 */
#include "cnn.h"

#include <gio/gio.h>
#include <string.h>

#define IDX_TYPE_UBYTE 0x08
#define MAX_DIMS 4
/* Far above any real dataset, far below what a size_t can hold. */
#define MAX_DATASET_BYTES ((guint64) 4 << 30)
#define MAX_SAMPLE_BYTES ((guint64) 1 << 26)
#define MAX_SIDE 65535
#define READ_CHUNK ((gsize) 1 << 20)

#define GZIP_CHUNK ((gsize) 1 << 16)

/* gzip is decompressed here rather than by a GConverterInputStream,
 * which stops at the end of the first member and reads ahead, so that
 * what follows it is lost: a file of several members (valid for zcat,
 * made by concatenating .gz files) then looked short, and garbage after
 * the data went unseen. */
typedef struct
{
  const gchar *path;
  GInputStream *stream;         /* the file */
  gboolean gzip;
  guint64 offset;               /* decompressed bytes consumed so far */
  GConverter *gunzip;
  guint8 *in;                   /* GZIP_CHUNK bytes of the file */
  gsize in_pos, in_len;         /* what of them is not yet decompressed */
  guint64 in_offset;            /* file offset of in[0] */
  gboolean in_eof;              /* the file has no more */
  gboolean member_done;         /* a member ended at in_pos */
} IdxReader;

typedef struct
{
  guint n_dims;
  guint32 dims[MAX_DIMS];
  guint64 n_bytes;              /* the data the header promises */
} IdxHeader;

/* Where a byte offset lies, in the words messages use. */
static const gchar *
offset_unit (const IdxReader * r)
{
  return r->gzip ? "byte offset (decompressed)" : "byte offset";
}

static void
set_io_error (const IdxReader * r, GError * cause, GError ** error)
{
  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_INVALID_DATA)
      || g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT))
    g_set_error (error, CNN_ERROR, CNN_ERROR_DATASET,
        "%s: gzip data is corrupt or truncated at %s %" G_GUINT64_FORMAT
        ": %s", r->path, offset_unit (r), r->offset, cause->message);
  else
    g_set_error (error, CNN_ERROR, CNN_ERROR_IO, "%s: cannot read: %s",
        r->path, cause->message);
}

/* Opens @path, looking at its first two bytes for the gzip magic 1f 8b. */
static gboolean
idx_open (IdxReader * r, const gchar * path, GError ** error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GError) err = NULL;
  GFileInputStream *raw;
  guint8 magic[2];
  gsize got = 0;

  memset (r, 0, sizeof (*r));
  r->path = path;
  raw = g_file_read (file, NULL, &err);
  if (!raw) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_IO, "%s: cannot open: %s",
        path, err->message);
    return FALSE;
  }
  if (!g_input_stream_read_all (G_INPUT_STREAM (raw), magic, 2, &got, NULL,
          &err)
      || !g_seekable_seek (G_SEEKABLE (raw), 0, G_SEEK_SET, NULL, &err)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_IO, "%s: cannot read: %s",
        path, err->message);
    g_object_unref (raw);
    return FALSE;
  }

  r->gzip = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  r->stream = G_INPUT_STREAM (raw);
  if (r->gzip) {
    r->gunzip = G_CONVERTER (g_zlib_decompressor_new
        (G_ZLIB_COMPRESSOR_FORMAT_GZIP));
    r->in = g_malloc (GZIP_CHUNK);
  }
  return TRUE;
}

static void
idx_close (IdxReader * r)
{
  g_clear_object (&r->stream);
  g_clear_object (&r->gunzip);
  g_clear_pointer (&r->in, g_free);
}

/* Moves what is left of the compressed bytes to the front and reads
 * more of the file after them. */
static gboolean
gzip_refill (IdxReader * r, GError ** error)
{
  g_autoptr (GError) err = NULL;
  gsize got = 0;

  memmove (r->in, r->in + r->in_pos, r->in_len - r->in_pos);
  r->in_offset += r->in_pos;
  r->in_len -= r->in_pos;
  r->in_pos = 0;
  if (!g_input_stream_read_all (r->stream, r->in + r->in_len,
          GZIP_CHUNK - r->in_len, &got, NULL, &err)) {
    set_io_error (r, err, error);
    return FALSE;
  }
  r->in_len += got;
  r->in_eof = got == 0;
  return TRUE;
}

/* After a member: the end of the file, another member, or garbage.
 * FALSE with @error set for garbage; *@more says whether a member
 * follows. */
static gboolean
gzip_next_member (IdxReader * r, gboolean * more, GError ** error)
{
  if (r->in_len - r->in_pos < 2 && !r->in_eof && !gzip_refill (r, error))
    return FALSE;
  *more = r->in_len > r->in_pos;
  if (!*more)
    return TRUE;
  if (r->in_len - r->in_pos < 2 || r->in[r->in_pos] != 0x1f
      || r->in[r->in_pos + 1] != 0x8b) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_DATASET, "%s: bytes after the "
        "gzip data, from compressed byte offset %" G_GUINT64_FORMAT ", are "
        "not another gzip member", r->path, r->in_offset + r->in_pos);
    return FALSE;
  }
  g_converter_reset (r->gunzip);
  r->member_done = FALSE;
  return TRUE;
}

static gboolean
gzip_read (IdxReader * r, guint8 * buffer, gsize size, gsize * got,
    GError ** error)
{
  while (*got < size) {
    g_autoptr (GError) err = NULL;
    GConverterFlags flags = r->in_eof ? G_CONVERTER_INPUT_AT_END : 0;
    GConverterResult res;
    gsize read = 0, written = 0;
    gboolean more;

    if (r->member_done) {
      if (!gzip_next_member (r, &more, error))
        return FALSE;
      if (!more)
        return TRUE;
    }
    if (r->in_pos == r->in_len && !r->in_eof && !gzip_refill (r, error))
      return FALSE;
    res = g_converter_convert (r->gunzip, r->in + r->in_pos,
        r->in_len - r->in_pos, buffer + *got, size - *got, flags, &read,
        &written, &err);
    if (res == G_CONVERTER_ERROR) {
      if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT)
          && !r->in_eof) {
        if (!gzip_refill (r, error))
          return FALSE;
        continue;
      }
      set_io_error (r, err, error);
      return FALSE;
    }
    r->in_pos += read;
    *got += written;
    r->offset += written;
    r->member_done = res == G_CONVERTER_FINISHED;
  }
  return TRUE;
}

/* Reads up to @size bytes; fewer only at the end of the data. */
static gboolean
idx_read (IdxReader * r, gpointer buffer, gsize size, gsize * got,
    GError ** error)
{
  g_autoptr (GError) err = NULL;

  *got = 0;
  if (r->gzip)
    return gzip_read (r, buffer, size, got, error);
  if (!g_input_stream_read_all (r->stream, buffer, size, got, NULL, &err)) {
    r->offset += *got;
    set_io_error (r, err, error);
    return FALSE;
  }
  r->offset += *got;
  return TRUE;
}

static gboolean
idx_read_exact (IdxReader * r, gpointer buffer, gsize size, const gchar * what,
    GError ** error)
{
  guint64 start = r->offset;
  gsize got;

  if (!idx_read (r, buffer, size, &got, error))
    return FALSE;
  if (got < size) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_DATASET,
        "%s: file ends at %s %" G_GUINT64_FORMAT " inside the %s "
        "(bytes %" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT ")", r->path,
        offset_unit (r), r->offset, what, start, start + size - 1);
    return FALSE;
  }
  return TRUE;
}

static const gchar *
type_name (guint8 type)
{
  switch (type) {
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "16-bit integer";
    case 0x0C:
      return "32-bit integer";
    case 0x0D:
      return "32-bit float";
    case 0x0E:
      return "64-bit float";
    default:
      return "unknown";
  }
}

/* Reads magic, type and sizes; @min_dims..@max_dims is what the caller
 * can use, @role ("images", "labels") names it in messages. */
static gboolean
idx_read_header (IdxReader * r, const gchar * role, guint min_dims,
    guint max_dims, IdxHeader * header, GError ** error)
{
  guint8 magic[4];
  guint8 sizes[4 * MAX_DIMS];
  guint64 total = 1;

  if (!idx_read_exact (r, magic, 4, "4-byte magic number", error))
    return FALSE;
  if (magic[0] != 0 || magic[1] != 0) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_DATASET,
        "%s: wrong magic number at byte offset 0: %02x %02x %02x %02x is "
        "not an IDX header (00 00 08 0N)", r->path, magic[0], magic[1],
        magic[2], magic[3]);
    return FALSE;
  }
  if (magic[2] != IDX_TYPE_UBYTE) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_DATASET,
        "%s: element type 0x%02x (%s) at byte offset 2 is not supported; "
        "%s must be unsigned bytes (0x08)", r->path, magic[2],
        type_name (magic[2]), role);
    return FALSE;
  }
  header->n_dims = magic[3];
  if (header->n_dims < min_dims || header->n_dims > max_dims) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_DATASET,
        "%s: %u dimension(s) at byte offset 3, but %s need %s", r->path,
        header->n_dims, role,
        max_dims == 1 ? "1 (N)" : "3 (N×H×W) or 4 (N×H×W×C)");
    return FALSE;
  }
  if (!idx_read_exact (r, sizes, 4 * header->n_dims, "dimension sizes",
          error))
    return FALSE;

  for (guint i = 0; i < header->n_dims; i++) {
    guint32 d;

    memcpy (&d, sizes + 4 * i, 4);
    d = GUINT32_FROM_BE (d);

    if (d == 0) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_DATASET,
          "%s: dimension %u (byte offset %u) is zero", r->path, i, 4 + 4 * i);
      return FALSE;
    }
    header->dims[i] = d;
    total *= d;                 /* ≤ 2^32 · 2^32 after two factors: checked */
    if (total > MAX_DATASET_BYTES) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_DATASET,
          "%s: dimension %u (byte offset %u) = %u makes the data larger "
          "than %" G_GUINT64_FORMAT " GiB", r->path, i, 4 + 4 * i, d,
          MAX_DATASET_BYTES >> 30);
      return FALSE;
    }
  }
  header->n_bytes = total;
  return TRUE;
}

/* Checks what only images need: sides a shape can hold, C = 1 or 3. */
static gboolean
check_image_header (const IdxReader * r, const IdxHeader * h, CnnShape * shape,
    GError ** error)
{
  guint channels = h->n_dims == 4 ? h->dims[3] : 1;

  if (h->dims[1] > MAX_SIDE || h->dims[2] > MAX_SIDE) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_DATASET,
        "%s: image size %ux%u (byte offsets 8, 12) is larger than %u",
        r->path, h->dims[2], h->dims[1], MAX_SIDE);
    return FALSE;
  }
  if (channels != 1 && channels != 3) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_DATASET,
        "%s: %u channels (dimension 3, byte offset 16): images must have "
        "1 (grey) or 3 (RGB)", r->path, channels);
    return FALSE;
  }
  if ((guint64) h->dims[1] * h->dims[2] * channels > MAX_SAMPLE_BYTES) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_DATASET,
        "%s: one image of %ux%ux%u is larger than %" G_GUINT64_FORMAT
        " MiB", r->path, channels, h->dims[1], h->dims[2],
        MAX_SAMPLE_BYTES >> 20);
    return FALSE;
  }
  *shape = (CnnShape) { channels, h->dims[1], h->dims[2] };
  return TRUE;
}

/* Reads the @n bytes the header promised, growing the buffer as data
 * arrives, then makes sure nothing follows. */
static guint8 *
idx_read_data (IdxReader * r, guint64 n, GError ** error)
{
  guint64 data_start = r->offset;
  gsize capacity = (gsize) MIN (n, READ_CHUNK), filled = 0;
  guint8 *data = g_try_malloc (capacity), extra;
  gsize got;

  while (data && filled < n) {
    gsize want = (gsize) MIN (n - filled, READ_CHUNK);

    if (filled + want > capacity) {
      gsize grown = (gsize) MIN (n, MAX ((guint64) capacity * 2, filled + want));
      guint8 *bigger = g_try_realloc (data, grown);

      if (!bigger)
        break;
      data = bigger;
      capacity = grown;
    }
    if (!idx_read (r, data + filled, want, &got, error))
      goto failed;
    filled += got;
    if (got < want) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_DATASET,
          "%s: file is shorter than its header says: the data ends at %s "
          "%" G_GUINT64_FORMAT " but should end at %" G_GUINT64_FORMAT
          " (%" G_GUINT64_FORMAT " bytes after the %" G_GUINT64_FORMAT
          "-byte header)", r->path, offset_unit (r), r->offset,
          data_start + n, n, data_start);
      goto failed;
    }
  }
  if (!data || filled < n) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM,
        "%s: cannot allocate %" G_GUINT64_FORMAT " bytes for the data",
        r->path, n);
    goto failed;
  }

  if (!idx_read (r, &extra, 1, &got, error))
    goto failed;
  if (got) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_DATASET,
        "%s: file is longer than its header says: the data should end at "
        "%s %" G_GUINT64_FORMAT " but more follows", r->path,
        offset_unit (r), data_start + n);
    goto failed;
  }
  return data;

failed:
  g_free (data);
  return NULL;
}

/* N×H×W×C (channels last, as stored) → N×C×H×W, in place via a copy. */
static void
to_channels_first (guint8 * pixels, guint n, CnnShape s)
{
  gsize plane = (gsize) s.h * s.w, sample = plane * s.c;
  g_autofree guint8 *tmp = g_malloc (sample);

  for (guint i = 0; i < n; i++) {
    guint8 *p = pixels + i * sample;

    for (gsize px = 0; px < plane; px++)
      for (guint c = 0; c < s.c; c++)
        tmp[c * plane + px] = p[px * s.c + c];
    memcpy (p, tmp, sample);
  }
}

static gboolean
load_images (const gchar * path, CnnDataset * ds, GError ** error)
{
  IdxReader r;
  IdxHeader h;
  gboolean ok = FALSE;

  if (!idx_open (&r, path, error))
    return FALSE;
  if (!idx_read_header (&r, "images", 3, 4, &h, error)
      || !check_image_header (&r, &h, &ds->shape, error))
    goto done;
  ds->n = h.dims[0];
  ds->pixels = idx_read_data (&r, h.n_bytes, error);
  if (!ds->pixels)
    goto done;
  if (ds->shape.c > 1)
    to_channels_first (ds->pixels, ds->n, ds->shape);
  ok = TRUE;

done:
  idx_close (&r);
  return ok;
}

static gboolean
load_labels (const gchar * path, const gchar * images_path, CnnDataset * ds,
    GError ** error)
{
  IdxReader r;
  IdxHeader h;
  guint8 *bytes = NULL;
  gboolean ok = FALSE;

  if (!idx_open (&r, path, error))
    return FALSE;
  if (!idx_read_header (&r, "labels", 1, 1, &h, error))
    goto done;
  if (h.dims[0] != ds->n) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_DATASET,
        "%s: %u labels (dimension 0, byte offset 4), but %s has %u images",
        path, h.dims[0], images_path, ds->n);
    goto done;
  }
  bytes = idx_read_data (&r, h.n_bytes, error);
  if (!bytes)
    goto done;
  ds->labels = g_new (guint, ds->n);
  for (guint i = 0; i < ds->n; i++)
    ds->labels[i] = bytes[i];
  ok = TRUE;

done:
  g_free (bytes);
  idx_close (&r);
  return ok;
}

CnnDataset *
cnn_dataset_load_idx (const gchar * images_path, const gchar * labels_path,
    GError ** error)
{
  CnnDataset *ds;

  g_return_val_if_fail (images_path != NULL, NULL);

  ds = g_new0 (CnnDataset, 1);
  if (!load_images (images_path, ds, error)
      || (labels_path && !load_labels (labels_path, images_path, ds, error))) {
    cnn_dataset_free (ds);
    return NULL;
  }
  return ds;
}

void
cnn_dataset_free (CnnDataset * dataset)
{
  if (!dataset)
    return;
  g_free (dataset->pixels);
  g_free (dataset->labels);
  g_free (dataset);
}
