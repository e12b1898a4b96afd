/* The safetensors container (internal): the part of model files that
 * knows nothing of networks.  cnn-model.c gives it meaning.
 *
 *   u64 LE  header length N
 *   N bytes JSON: {"__metadata__": {str: str},
 *                  "NAME": {"dtype": "F32", "shape": [..],
 *                           "data_offsets": [BEGIN, END]}, ...}
 *   data    tensors, offsets relative to the start of this section
 */
#ifndef CNN_SAFETENSORS_H
#define CNN_SAFETENSORS_H

#include "cnn.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Headers longer than this are refused by the reader and the writer. */
#define CNN_SAFETENSORS_MAX_HEADER CNN_JSON_MAX_BYTES
#define CNN_SAFETENSORS_MAX_DIMS 8

/* One tensor as a header describes it, checked for self-consistency. */
typedef struct
{
  gchar *name;
  guint n_dims;
  guint64 dims[CNN_SAFETENSORS_MAX_DIMS];
  guint64 begin, end;           /* bytes, relative to the data section */
} CnnSafetensorsEntry;

/* A parsed file: every entry F32, inside the data section, sized as its
 * shape says, and the entries tile the data section exactly. */
typedef struct
{
  GHashTable *metadata;         /* "__metadata__", or NULL when absent */
  CnnSafetensorsEntry *entries; /* in header order */
  guint n_entries;
  GHashTable *by_name;          /* name → entry */
  const guint8 *data;           /* the data section, in the caller's buffer */
  guint64 data_len;
  guint64 data_start;           /* file offset of the data section */
} CnnSafetensors;

/* Parses @contents (the whole file, which must outlive the result).
 * Errors are CNN_ERROR_MODEL with messages starting with @path. */
CnnSafetensors *cnn_safetensors_parse (const gchar * path,
    const guint8 * contents, gsize length, GError ** error);
void cnn_safetensors_free (CnnSafetensors * st);

const CnnSafetensorsEntry *cnn_safetensors_find (const CnnSafetensors * st,
    const gchar * name);
/* Copies an entry's little-endian floats to @dest in host order. */
void cnn_safetensors_copy_f32 (const CnnSafetensors * st,
    const CnnSafetensorsEntry * entry, gfloat * dest);
/* SHA-256 (lower-case hex) of the data section. */
gchar *cnn_safetensors_data_sha256 (const CnnSafetensors * st);

/* "[8, 3, 3, 3]" */
gchar *cnn_safetensors_shape_to_string (const guint64 * dims, guint n_dims);

/* One tensor to write, in host order. */
typedef struct
{
  const gchar *name;
  guint n_dims;
  guint64 dims[CNN_SAFETENSORS_MAX_DIMS];
  const gfloat *data;
} CnnSafetensorsTensor;

/* SHA-256 (lower-case hex) of the data section @tensors would make. */
gchar *cnn_safetensors_tensors_sha256 (const CnnSafetensorsTensor * tensors,
    guint n_tensors);

/* Writes @metadata (sorted by key) and @tensors (contiguous, in the
 * given order) to @path atomically: a temporary file beside it, fsync,
 * rename, fsync of the directory.  On failure the temporary file is
 * removed and an existing @path is left as it was.  Errors are
 * CNN_ERROR_IO naming @path. */
gboolean cnn_safetensors_write (const gchar * path, GHashTable * metadata,
    const CnnSafetensorsTensor * tensors, guint n_tensors, GError ** error);

/* What a JSON node is, for errors: "an object", "an array", "null",
 * "a string", "a boolean" or "a number". */
const gchar *cnn_json_kind (JsonNode * node);

G_END_DECLS

#endif /* CNN_SAFETENSORS_H */
