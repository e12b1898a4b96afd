/* Checkpoint files in the safetensors layout:
 *
 *   8 bytes    little-endian length L of the header
 *   L bytes    JSON: {"__metadata__": {str: str}, NAME: {"dtype": "F32",
 *              "shape": [n], "data_offsets": [begin, end]}, ...}
 *   the rest   tensor data, little-endian, tensors tiling it exactly
 *
 * Written by this file alone (the model reader is for models); the data's
 * SHA-256 in the metadata catches a damaged file on reading.
 */
#include "checkpoint.h"

#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE_BYTES ((gsize) 8 << 30)

struct _Checkpoint
{
  gchar *path;
  GHashTable *metadata;         /* str → str */
  GHashTable *tensors;          /* str → GArray of gfloat */
};

static void
append_le_floats (GByteArray * out, const gfloat * data, gsize n)
{
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  g_byte_array_append (out, (const guint8 *) data, (guint) (n * 4));
#else
  for (gsize i = 0; i < n; i++) {
    guint32 v;

    memcpy (&v, data + i, 4);
    v = GUINT32_TO_LE (v);
    g_byte_array_append (out, (const guint8 *) &v, 4);
  }
#endif
}

static int
compare_keys (const void *a, const void *b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

/* Written by this file, whatever the caller's metadata says. */
static gboolean
is_reserved_key (const gchar * key)
{
  return g_str_equal (key, "format") || g_str_equal (key, "format-version")
      || g_str_equal (key, "sha256");
}

static gchar *
build_header (GHashTable * metadata, const CheckpointTensor * tensors,
    guint n_tensors, const gchar * sha256)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar **keys = NULL;
  guint64 offset = 0;
  guint n_keys;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "__metadata__");
  json_builder_begin_object (b);
  /* Sorted keys: the same checkpoint always has the same bytes. */
  keys = (gchar **) g_hash_table_get_keys_as_array (metadata, &n_keys);
  qsort (keys, n_keys, sizeof (gchar *), compare_keys);
  for (guint i = 0; i < n_keys; i++) {
    if (is_reserved_key (keys[i]))
      continue;
    json_builder_set_member_name (b, keys[i]);
    json_builder_add_string_value (b, g_hash_table_lookup (metadata,
            keys[i]));
  }
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, CHECKPOINT_FORMAT);
  json_builder_set_member_name (b, "format-version");
  json_builder_add_string_value (b, CHECKPOINT_VERSION);
  json_builder_set_member_name (b, "sha256");
  json_builder_add_string_value (b, sha256);
  json_builder_end_object (b);

  for (guint i = 0; i < n_tensors; i++) {
    json_builder_set_member_name (b, tensors[i].name);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "dtype");
    json_builder_add_string_value (b, "F32");
    json_builder_set_member_name (b, "shape");
    json_builder_begin_array (b);
    json_builder_add_int_value (b, (gint64) tensors[i].n);
    json_builder_end_array (b);
    json_builder_set_member_name (b, "data_offsets");
    json_builder_begin_array (b);
    json_builder_add_int_value (b, (gint64) offset);
    offset += (guint64) tensors[i].n * 4;
    json_builder_add_int_value (b, (gint64) offset);
    json_builder_end_array (b);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

gboolean
checkpoint_write (const gchar * path, GHashTable * metadata,
    const CheckpointTensor * tensors, guint n_tensors, GError ** error)
{
  g_autoptr (GByteArray) data = g_byte_array_new ();
  g_autoptr (GByteArray) file = g_byte_array_new ();
  g_autoptr (GError) err = NULL;
  g_autofree gchar *sha256 = NULL, *header = NULL;
  gsize header_len;
  guint64 len_le;

  for (guint i = 0; i < n_tensors; i++)
    append_le_floats (data, tensors[i].data, tensors[i].n);
  sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data->data,
      data->len);
  header = build_header (metadata, tensors, n_tensors, sha256);

  /* Pad with spaces so that the data starts 8-byte aligned. */
  header_len = (strlen (header) + 7) / 8 * 8;
  len_le = GUINT64_TO_LE ((guint64) header_len);
  g_byte_array_append (file, (const guint8 *) &len_le, 8);
  g_byte_array_append (file, (const guint8 *) header, strlen (header));
  for (gsize i = strlen (header); i < header_len; i++)
    g_byte_array_append (file, (const guint8 *) " ", 1);
  g_byte_array_append (file, data->data, data->len);

  if (!g_file_set_contents_full (path, (const gchar *) file->data, file->len,
          G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0644,
          &err)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_IO,
        "%s: cannot write the checkpoint: %s", path, err->message);
    return FALSE;
  }
  return TRUE;
}

/* ---- reading ------------------------------------------------------- */

typedef struct
{
  const gchar *name;
  guint64 begin, end;
} Extent;

static gint
compare_extents (gconstpointer a, gconstpointer b)
{
  const Extent *x = a, *y = b;

  return x->begin < y->begin ? -1 : x->begin > y->begin;
}

static gboolean
is_string (JsonObject * o, const gchar * member, const gchar * value)
{
  JsonNode *node = json_object_get_member (o, member);

  return node && JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING
      && g_str_equal (json_node_get_string (node), value);
}

static gboolean
get_uint (JsonArray * array, guint index, guint64 * value)
{
  JsonNode *node;

  if (!array || index >= json_array_get_length (array))
    return FALSE;
  node = json_array_get_element (array, index);
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64
      || json_node_get_int (node) < 0)
    return FALSE;
  *value = (guint64) json_node_get_int (node);
  return TRUE;
}

static gboolean
read_metadata (Checkpoint * ckpt, JsonObject * root, GError ** error)
{
  JsonNode *node = json_object_get_member (root, "__metadata__");
  g_autoptr (GList) members = NULL;

  if (!node || !JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL,
        "%s: header has no \"__metadata__\" object", ckpt->path);
    return FALSE;
  }
  members = json_object_get_members (json_node_get_object (node));
  for (GList * l = members; l; l = l->next) {
    JsonNode *v = json_object_get_member (json_node_get_object (node),
        l->data);

    if (!JSON_NODE_HOLDS_VALUE (v)
        || json_node_get_value_type (v) != G_TYPE_STRING) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL,
          "%s: metadata \"%s\" is not a string", ckpt->path,
          (const gchar *) l->data);
      return FALSE;
    }
    g_hash_table_insert (ckpt->metadata, g_strdup (l->data),
        g_strdup (json_node_get_string (v)));
  }
  if (g_strcmp0 (checkpoint_get (ckpt, "format"), CHECKPOINT_FORMAT) != 0
      || g_strcmp0 (checkpoint_get (ckpt, "format-version"),
          CHECKPOINT_VERSION) != 0) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL,
        "%s: not a training checkpoint (metadata format is '%s' version "
        "'%s', expected '" CHECKPOINT_FORMAT "' version '"
        CHECKPOINT_VERSION "')", ckpt->path,
        checkpoint_get (ckpt, "format"),
        checkpoint_get (ckpt, "format-version"));
    return FALSE;
  }
  return TRUE;
}

/* One tensor entry: F32, one dimension, offsets matching its size. */
static gboolean
read_extent (Checkpoint * ckpt, JsonObject * root, const gchar * name,
    guint64 data_len, Extent * ext, GError ** error)
{
  JsonNode *node = json_object_get_member (root, name);
  JsonObject *o;
  JsonArray *shape, *offsets;
  guint64 n;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    goto bad;
  o = json_node_get_object (node);
  shape = json_object_has_member (o, "shape")
      && JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "shape"))
      ? json_object_get_array_member (o, "shape") : NULL;
  offsets = json_object_has_member (o, "data_offsets")
      && JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "data_offsets"))
      ? json_object_get_array_member (o, "data_offsets") : NULL;
  if (!is_string (o, "dtype", "F32")
      || !shape || json_array_get_length (shape) != 1
      || !get_uint (shape, 0, &n)
      || !offsets || json_array_get_length (offsets) != 2
      || !get_uint (offsets, 0, &ext->begin)
      || !get_uint (offsets, 1, &ext->end))
    goto bad;
  if (ext->begin > ext->end || ext->end > data_len
      || n > G_MAXUINT64 / 4 || ext->end - ext->begin != n * 4) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL,
        "%s: tensor \"%s\": data_offsets [%" G_GUINT64_FORMAT ", %"
        G_GUINT64_FORMAT "] do not hold %" G_GUINT64_FORMAT " floats "
        "inside the %" G_GUINT64_FORMAT "-byte data section", ckpt->path,
        name, ext->begin, ext->end, n, data_len);
    return FALSE;
  }
  ext->name = name;
  return TRUE;

bad:
  g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL,
      "%s: tensor \"%s\" is not {\"dtype\": \"F32\", \"shape\": [n], "
      "\"data_offsets\": [begin, end]}", ckpt->path, name);
  return FALSE;
}

static gboolean
read_tensors (Checkpoint * ckpt, JsonObject * root, const guint8 * data,
    guint64 data_len, GError ** error)
{
  g_autoptr (GList) members = json_object_get_members (root);
  g_autoptr (GArray) extents = g_array_new (FALSE, FALSE, sizeof (Extent));
  guint64 end = 0;

  for (GList * l = members; l; l = l->next) {
    Extent ext;

    if (g_str_equal (l->data, "__metadata__"))
      continue;
    if (!read_extent (ckpt, root, l->data, data_len, &ext, error))
      return FALSE;
    g_array_append_val (extents, ext);
  }
  /* Tensors must tile the data: no overlap, no gap, nothing after. */
  g_array_sort (extents, compare_extents);
  for (guint i = 0; i < extents->len; i++) {
    Extent *e = &g_array_index (extents, Extent, i);
    GArray *values;

    if (e->begin != end) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL,
          "%s: tensor \"%s\" starts at data byte %" G_GUINT64_FORMAT
          " but the previous one ends at %" G_GUINT64_FORMAT
          " (overlap or gap)", ckpt->path, e->name, e->begin, end);
      return FALSE;
    }
    end = e->end;
    values = g_array_sized_new (FALSE, FALSE, sizeof (gfloat),
        (guint) ((e->end - e->begin) / 4));
    g_array_set_size (values, (guint) ((e->end - e->begin) / 4));
    memcpy (values->data, data + e->begin, e->end - e->begin);
#if G_BYTE_ORDER == G_BIG_ENDIAN
    for (guint j = 0; j < values->len; j++) {
      guint32 *v = &g_array_index (values, guint32, j);
      *v = GUINT32_FROM_LE (*v);
    }
#endif
    g_hash_table_insert (ckpt->tensors, g_strdup (e->name), values);
  }
  if (end != data_len) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL,
        "%s: %" G_GUINT64_FORMAT " bytes after the last tensor (data byte %"
        G_GUINT64_FORMAT ")", ckpt->path, data_len - end, end);
    return FALSE;
  }
  return TRUE;
}

/* The limits every JSON reader of the project shares (cnn.h), before
 * json-glib sees the text: the checksum covers only the tensor data, so
 * the header can be anything. */
static gboolean
check_header_text (const Checkpoint * ckpt, const gchar * text, gsize len,
    GError ** error)
{
  const gchar *problem;
  gsize offset;

  if (cnn_json_check (text, len, CNN_JSON_MAX_DEPTH, &offset, &problem))
    return TRUE;
  g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: header is not valid "
      "JSON for this reader: %s at byte %" G_GSIZE_FORMAT, ckpt->path,
      problem, offset + 8);
  return FALSE;
}

static gboolean
parse_file (Checkpoint * ckpt, const guint8 * bytes, gsize size,
    GError ** error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) err = NULL;
  g_autofree gchar *sha256 = NULL;
  guint64 header_len;
  JsonNode *root;
  const guint8 *data;
  guint64 data_len;

  if (size < 8) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL,
        "%s: %" G_GSIZE_FORMAT " bytes is too short for a checkpoint",
        ckpt->path, size);
    return FALSE;
  }
  memcpy (&header_len, bytes, 8);
  header_len = GUINT64_FROM_LE (header_len);
  if (header_len > size - 8 || header_len > CNN_JSON_MAX_BYTES
      || header_len < 2) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL,
        "%s: header length %" G_GUINT64_FORMAT " (bytes 0..7) does not fit "
        "the %" G_GSIZE_FORMAT "-byte file", ckpt->path, header_len, size);
    return FALSE;
  }
  if (!check_header_text (ckpt, (const gchar *) bytes + 8, header_len, error))
    return FALSE;
  if (!g_utf8_validate ((const gchar *) bytes + 8, (gssize) header_len, NULL)
      || !json_parser_load_from_data (parser, (const gchar *) bytes + 8,
          (gssize) header_len, &err)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL,
        "%s: header (bytes 8..%" G_GUINT64_FORMAT ") is not valid JSON: %s",
        ckpt->path, 8 + header_len - 1, err ? err->message : "not UTF-8");
    return FALSE;
  }
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL,
        "%s: header is not a JSON object", ckpt->path);
    return FALSE;
  }
  if (!read_metadata (ckpt, json_node_get_object (root), error))
    return FALSE;

  data = bytes + 8 + header_len;
  data_len = size - 8 - header_len;
  sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, data_len);
  if (g_strcmp0 (sha256, checkpoint_get (ckpt, "sha256")) != 0) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL,
        "%s: tensor data is damaged: its SHA-256 is %s, the header says %s",
        ckpt->path, sha256, checkpoint_get (ckpt, "sha256"));
    return FALSE;
  }
  return read_tensors (ckpt, json_node_get_object (root), data, data_len,
      error);
}

Checkpoint *
checkpoint_read (const gchar * path, GError ** error)
{
  g_autoptr (GMappedFile) mapped = NULL;
  g_autoptr (GError) err = NULL;
  Checkpoint *ckpt;

  mapped = g_mapped_file_new (path, FALSE, &err);
  if (!mapped) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_IO, "cannot read checkpoint: %s",
        err->message);
    return NULL;
  }
  ckpt = g_new0 (Checkpoint, 1);
  ckpt->path = g_strdup (path);
  ckpt->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  ckpt->tensors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) g_array_unref);
  if (g_mapped_file_get_length (mapped) > MAX_FILE_BYTES) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL,
        "%s: larger than any checkpoint this tool writes", path);
    goto failed;
  }
  if (!parse_file (ckpt, (const guint8 *) g_mapped_file_get_contents (mapped),
          g_mapped_file_get_length (mapped), error))
    goto failed;
  return ckpt;

failed:
  checkpoint_free (ckpt);
  return NULL;
}

void
checkpoint_free (Checkpoint * ckpt)
{
  if (!ckpt)
    return;
  g_hash_table_unref (ckpt->metadata);
  g_hash_table_unref (ckpt->tensors);
  g_free (ckpt->path);
  g_free (ckpt);
}

const gchar *
checkpoint_path (const Checkpoint * ckpt)
{
  return ckpt->path;
}

const gchar *
checkpoint_get (const Checkpoint * ckpt, const gchar * key)
{
  return g_hash_table_lookup (ckpt->metadata, key);
}

const gfloat *
checkpoint_tensor (const Checkpoint * ckpt, const gchar * name, gsize * n)
{
  GArray *values = g_hash_table_lookup (ckpt->tensors, name);

  if (!values)
    return NULL;
  *n = values->len;
  return (const gfloat *) values->data;
}
