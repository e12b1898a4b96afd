/* safetensors files: a reader that trusts nothing and an atomic writer.
 *
 * The reader checks, in this order: the header length (within the file,
 * at most CNN_SAFETENSORS_MAX_HEADER), the header text (UTF-8, plain
 * JSON, bounded nesting, integers that fit in 64 bits), its structure
 * (an object; "__metadata__" string → string), every tensor entry on
 * its own (F32, shape, offsets inside the data section, size = product
 * of the shape × 4 without overflow), then the layout: the entries must
 * tile the data section exactly — no overlap, no gap, no trailing byte,
 * as the reference safetensors implementation also demands.
 */
#include "cnn-safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

/* json-glib spends some 100 bytes per value: a 100 MiB header of
 * "0,0,0,..." would cost gigabytes.  Real headers hold a few thousand. */
#define MAX_JSON_VALUES (1 << 20)

#define METADATA_KEY "__metadata__"

static void set_error (GError ** error, gint code, const gchar * path,
    const gchar * format, ...) G_GNUC_PRINTF (4, 5);

/* Every message starts with the file it is about. */
static void
set_error (GError ** error, gint code, const gchar * path,
    const gchar * format, ...)
{
  va_list args;
  gchar *what;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, CNN_ERROR, code, "%s: %s", path, what);
  g_free (what);
}

/* ---- reading: the header ------------------------------------------- */

/* The first byte of the header (@n bytes after the length, or to the
 * end of the file when it says more) that is not JSON white space, if
 * any, is '{'; else *@at is where that byte is. */
static gboolean
starts_like_json_object (const guint8 * contents, gsize length, guint64 n,
    gsize * at)
{
  gsize end = n <= length - 8 ? 8 + n : length;

  for (gsize i = 8; i < end; i++) {
    if (strchr (" \t\r\n", contents[i]) && contents[i])
      continue;
    *at = i;
    return contents[i] == '{';
  }
  return TRUE;
}

static gboolean
read_header_length (const gchar * path, const guint8 * contents,
    gsize length, guint64 * header_len, GError ** error)
{
  guint64 n;
  gsize at;

  if (length < 8) {
    set_error (error, CNN_ERROR_MODEL, path, "the file is %" G_GSIZE_FORMAT
        " bytes, too short for the 8-byte header length", length);
    return FALSE;
  }
  memcpy (&n, contents, 8);
  n = GUINT64_FROM_LE (n);
  /* A safetensors header is JSON and starts with '{': a file whose bytes
   * 8.. do not is something else (a PNG, a text file, an ONNX model),
   * whatever its first 8 bytes say as a length. */
  /* A length that does not fit, before a header that does not start
   * like one: most likely no safetensors file at all (a PNG, a text
   * file, an ONNX model), and saying so helps more than the length. */
  if ((n > CNN_SAFETENSORS_MAX_HEADER || n > length - 8)
      && !starts_like_json_object (contents, length, n, &at)) {
    set_error (error, CNN_ERROR_MODEL, path, "not a safetensors file: byte "
        "%" G_GSIZE_FORMAT " is 0x%02x, where the JSON header's '{' should "
        "be", at, contents[at]);
    return FALSE;
  }
  if (n > CNN_SAFETENSORS_MAX_HEADER) {
    set_error (error, CNN_ERROR_MODEL, path, "the header length %"
        G_GUINT64_FORMAT " (bytes 0-7) is absurd: more than %"
        G_GUINT64_FORMAT " MiB", n, CNN_SAFETENSORS_MAX_HEADER >> 20);
    return FALSE;
  }
  if (n > length - 8) {
    set_error (error, CNN_ERROR_MODEL, path, "the header length %"
        G_GUINT64_FORMAT " (bytes 0-7) runs past the end of the file (%"
        G_GSIZE_FORMAT " bytes)", n, length);
    return FALSE;
  }
  *header_len = n;
  return TRUE;
}

static gboolean
is_plain_json_char (gchar c)
{
  return c != '\0' && strchr (" \t\r\n{}[]:,-+.0123456789eEtruefalsn", c);
}

/* A decimal integer literal must fit in 64 bits: json-glib wraps
 * larger ones silently (2^64 + 5 would read as 5). */
static gboolean
integer_fits (const gchar * token, gsize len)
{
  gsize digits = len - (token[0] == '-');
  gchar buf[24];
  guint64 v;

  for (gsize i = token[0] == '-'; i < len; i++)
    if (!g_ascii_isdigit (token[i]))
      return TRUE;              /* not an integer: a double, json-glib's job */
  if (digits > 19)
    return FALSE;
  memcpy (buf, token, len);
  buf[len] = '\0';
  v = g_ascii_strtoull (buf + (token[0] == '-'), NULL, 10);
  return v <= G_MAXINT64;
}

/* The first character of a value outside strings: string, object,
 * array, number or one of true/false/null. */
static gboolean
starts_value (const gchar * text, gsize i)
{
  gchar c = text[i];

  if (c == 't' || c == 'f' || c == 'n')
    return i == 0 || !g_ascii_isalpha (text[i - 1]);
  return c == '"' || c == '{' || c == '[' || c == '-' || g_ascii_isdigit (c);
}

/* The code unit of "\uXXXX" at text[i] (at the backslash), or -1 if
 * the four hex digits are not there. */
static gint
escaped_unit (const gchar * text, gsize len, gsize i)
{
  gint unit = 0;

  if (i + 6 > len || text[i + 1] != 'u')
    return -1;
  for (gsize k = i + 2; k < i + 6; k++) {
    if (!g_ascii_isxdigit (text[k]))
      return -1;
    unit = unit * 16 + g_ascii_xdigit_value (text[k]);
  }
  return unit;
}

/* The length of the escape at text[i] (a backslash in a string), or 0
 * with @problem set.  JSON has eight one-letter escapes and \uXXXX;
 * json-glib's scanner would take others (\3 as an octal byte) and
 * decode surrogates alone, either into bytes that are not UTF-8, and
 * \u0000 would cut the string short. */
static gsize
escape_length (const gchar * text, gsize len, gsize i, const gchar ** problem)
{
  gint unit, low;

  if (i + 1 < len && text[i + 1] != '\0' && strchr ("\"\\/bfnrt",
          text[i + 1]))
    return 2;
  unit = escaped_unit (text, len, i);
  if (unit < 0) {
    *problem = "an escape JSON does not have";
    return 0;
  }
  if (unit == 0) {
    *problem = "an escaped NUL character";
    return 0;
  }
  if (unit < 0xd800 || unit > 0xdfff)
    return 6;
  low = escaped_unit (text, len, i + 6);
  if (unit > 0xdbff || low < 0xdc00 || low > 0xdfff) {
    *problem = "a UTF-16 surrogate not in a pair";
    return 0;
  }
  return 12;
}

gboolean
cnn_json_check (const gchar * text, gsize len, guint max_depth,
    gsize * offset, const gchar ** problem)
{
  guint depth = 0, n_values = 0;
  gboolean in_string = FALSE;

  for (gsize i = 0; i < len; i++) {
    gchar c = text[i];

    *offset = i;
    if (in_string) {
      if (c == '\\') {
        gsize n = escape_length (text, len, i, problem);

        if (n == 0)
          return FALSE;
        i += n - 1;
      } else if (c == '"') {
        in_string = FALSE;
      }
      continue;
    }
    if (starts_value (text, i) && ++n_values > MAX_JSON_VALUES) {
      *problem = "too many values";
      return FALSE;
    }
    if (c == '"') {
      in_string = TRUE;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) {
        *problem = "nesting too deep";
        return FALSE;
      }
    } else if (c == '}' || c == ']') {
      if (depth == 0) {
        *problem = "unbalanced bracket";
        return FALSE;
      }
      depth--;
    } else if (c == '-' || g_ascii_isdigit (c)) {
      gsize end = i;

      while (end < len && text[end] && strchr ("0123456789-+.eE", text[end]))
        end++;
      if (!integer_fits (text + i, end - i)) {
        *problem = "a number too large for 64 bits";
        return FALSE;
      }
      i = end - 1;
    } else if (!is_plain_json_char (c)) {
      *problem = "unexpected character";
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
check_header_text (const gchar * path, const gchar * text, gsize len,
    GError ** error)
{
  const gchar *bad, *problem;
  gsize offset;

  if (!g_utf8_validate (text, len, &bad)) {
    set_error (error, CNN_ERROR_MODEL, path, "the header is not valid UTF-8"
        " (%s at byte %" G_GSIZE_FORMAT ")",
        *bad ? "bad sequence" : "NUL byte", (gsize) (bad - text) + 8);
    return FALSE;
  }
  if (!cnn_json_check (text, len, CNN_JSON_MAX_DEPTH, &offset,
          &problem)) {
    set_error (error, CNN_ERROR_MODEL, path, "the header is not valid JSON "
        "for this reader: %s at byte %" G_GSIZE_FORMAT, problem, offset + 8);
    return FALSE;
  }
  return TRUE;
}

const gchar *
cnn_json_kind (JsonNode * node)
{
  switch (json_node_get_node_type (node)) {
    case JSON_NODE_OBJECT:
      return "an object";
    case JSON_NODE_ARRAY:
      return "an array";
    case JSON_NODE_NULL:
      return "null";
    case JSON_NODE_VALUE:
      break;
  }
  switch (json_node_get_value_type (node)) {
    case G_TYPE_STRING:
      return "a string";
    case G_TYPE_BOOLEAN:
      return "a boolean";
    default:
      return "a number";
  }
}

/* json-glib keeps the last of two members of one name and says
 * nothing: a second tensor "0.conv2d.weight" would vanish, and its
 * bytes be reported as belonging to no tensor.  Each object's names are
 * recorded as the parser reports them. */
typedef struct
{
  GHashTable *names;            /* JsonObject → its member names */
  gchar *duplicate;             /* the first name seen twice */
} MemberNames;

static void
note_member (JsonParser * parser, JsonObject * object, const gchar * name,
    gpointer data)
{
  MemberNames *m = data;
  GHashTable *names = g_hash_table_lookup (m->names, object);

  if (!names) {
    names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_insert (m->names, object, names);
  }
  if (!g_hash_table_add (names, g_strdup (name)) && !m->duplicate)
    m->duplicate = g_strdup (name);
}

static gboolean
load_json (const gchar * path, JsonParser * parser, const gchar * text,
    gsize len, GError ** error)
{
  MemberNames m = { g_hash_table_new_full (NULL, NULL, NULL,
        (GDestroyNotify) g_hash_table_unref), NULL };
  gulong handler = g_signal_connect (parser, "object-member",
      G_CALLBACK (note_member), &m);
  GError *err = NULL;
  gboolean ok = json_parser_load_from_data (parser, text, len, &err);

  g_signal_handler_disconnect (parser, handler);
  if (!ok) {
    set_error (error, CNN_ERROR_MODEL, path, "the header (%" G_GSIZE_FORMAT
        " bytes from byte 8) is not valid JSON: %s", len, err->message);
    g_error_free (err);
  } else if (m.duplicate) {
    set_error (error, CNN_ERROR_MODEL, path, "the header names '%s' twice "
        "(a tensor or metadata key may appear once)", m.duplicate);
    ok = FALSE;
  }
  g_hash_table_unref (m.names);
  g_free (m.duplicate);
  return ok;
}

static JsonParser *
parse_json (const gchar * path, const gchar * text, gsize len,
    GError ** error)
{
  JsonParser *parser = json_parser_new_immutable ();
  JsonNode *root;

  if (!load_json (path, parser, text, len, error)) {
    g_object_unref (parser);
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (!root) {
    set_error (error, CNN_ERROR_MODEL, path, "the header is not valid JSON:"
        " it is empty");
    g_object_unref (parser);
    return NULL;
  }
  if (!JSON_NODE_HOLDS_OBJECT (root)) {
    set_error (error, CNN_ERROR_MODEL, path, "the header is %s, "
        "not a JSON object", cnn_json_kind (root));
    g_object_unref (parser);
    return NULL;
  }
  return parser;
}

static gboolean
node_is_string (JsonNode * node)
{
  return node && JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING;
}

static gboolean
node_get_uint64 (JsonNode * node, guint64 * value)
{
  if (!node || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64
      || json_node_get_int (node) < 0)
    return FALSE;
  *value = (guint64) json_node_get_int (node);
  return TRUE;
}

static gboolean
read_metadata (const gchar * path, JsonObject * root, CnnSafetensors * st,
    GError ** error)
{
  JsonNode *node = json_object_get_member (root, METADATA_KEY);
  JsonObjectIter iter;
  const gchar *key;

  if (!node)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    set_error (error, CNN_ERROR_MODEL, path, "header field '" METADATA_KEY
        "' is %s, not an object", cnn_json_kind (node));
    return FALSE;
  }
  st->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  json_object_iter_init_ordered (&iter, json_node_get_object (node));
  while (json_object_iter_next_ordered (&iter, &key, &node)) {
    if (!node_is_string (node)) {
      set_error (error, CNN_ERROR_MODEL, path, METADATA_KEY " field '%s' is"
          " %s, not a string", key, cnn_json_kind (node));
      return FALSE;
    }
    g_hash_table_insert (st->metadata, g_strdup (key),
        g_strdup (json_node_get_string (node)));
  }
  return TRUE;
}

gchar *
cnn_safetensors_shape_to_string (const guint64 * dims, guint n_dims)
{
  GString *s = g_string_new ("[");

  for (guint i = 0; i < n_dims; i++)
    g_string_append_printf (s, "%s%" G_GUINT64_FORMAT, i ? ", " : "",
        dims[i]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

static gboolean
read_shape (const gchar * path, const gchar * name, JsonObject * obj,
    CnnSafetensorsEntry * e, GError ** error)
{
  JsonNode *node = json_object_get_member (obj, "shape");
  JsonArray *shape;

  if (!node || !JSON_NODE_HOLDS_ARRAY (node)) {
    set_error (error, CNN_ERROR_MODEL, path, "tensor '%s': 'shape' is %s, "
        "not an array", name, node ? cnn_json_kind (node) : "missing");
    return FALSE;
  }
  shape = json_node_get_array (node);
  if (json_array_get_length (shape) > CNN_SAFETENSORS_MAX_DIMS) {
    set_error (error, CNN_ERROR_MODEL, path, "tensor '%s': 'shape' has %u "
        "dimensions, more than %d", name, json_array_get_length (shape),
        CNN_SAFETENSORS_MAX_DIMS);
    return FALSE;
  }
  e->n_dims = json_array_get_length (shape);
  for (guint i = 0; i < e->n_dims; i++) {
    if (!node_get_uint64 (json_array_get_element (shape, i), &e->dims[i])) {
      set_error (error, CNN_ERROR_MODEL, path, "tensor '%s': 'shape' "
          "element %u is not a non-negative integer", name, i);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
read_offsets (const gchar * path, const gchar * name, JsonObject * obj,
    CnnSafetensorsEntry * e, GError ** error)
{
  JsonNode *node = json_object_get_member (obj, "data_offsets");
  JsonArray *offsets;

  offsets = node && JSON_NODE_HOLDS_ARRAY (node) ?
      json_node_get_array (node) : NULL;
  if (!offsets || json_array_get_length (offsets) != 2
      || !node_get_uint64 (json_array_get_element (offsets, 0), &e->begin)
      || !node_get_uint64 (json_array_get_element (offsets, 1), &e->end)) {
    set_error (error, CNN_ERROR_MODEL, path, "tensor '%s': 'data_offsets' "
        "is not two non-negative integers", name);
    return FALSE;
  }
  return TRUE;
}

/* Bytes of F32 data the shape holds; FALSE if that overflows 64 bits
 * (dimensions come from the file and can be anything). */
static gboolean
shape_bytes (const CnnSafetensorsEntry * e, guint64 * bytes)
{
  guint64 n = sizeof (gfloat);

  for (guint i = 0; i < e->n_dims; i++)
    if (!g_uint64_checked_mul (&n, n, e->dims[i]))
      return FALSE;
  *bytes = n;
  return TRUE;
}

static gboolean
check_entry_size (const gchar * path, const CnnSafetensors * st,
    const CnnSafetensorsEntry * e, GError ** error)
{
  gchar *shape = cnn_safetensors_shape_to_string (e->dims, e->n_dims);
  guint64 bytes;
  gboolean ok = FALSE;

  if (e->begin > e->end)
    set_error (error, CNN_ERROR_MODEL, path, "tensor '%s': data_offsets [%"
        G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "] begin after they end",
        e->name, e->begin, e->end);
  else if (e->end > st->data_len)
    set_error (error, CNN_ERROR_MODEL, path, "tensor '%s': data_offsets [%"
        G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "] run past the end of the "
        "data section (%" G_GUINT64_FORMAT " bytes from byte %"
        G_GUINT64_FORMAT ")", e->name, e->begin, e->end, st->data_len,
        st->data_start);
  else if (!shape_bytes (e, &bytes))
    set_error (error, CNN_ERROR_MODEL, path, "tensor '%s': shape %s of F32 "
        "would be more than 2^64 bytes", e->name, shape);
  else if (bytes != e->end - e->begin)
    set_error (error, CNN_ERROR_MODEL, path, "tensor '%s': data_offsets [%"
        G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "] hold %" G_GUINT64_FORMAT
        " bytes but shape %s of F32 needs %" G_GUINT64_FORMAT, e->name,
        e->begin, e->end, e->end - e->begin, shape, bytes);
  else
    ok = TRUE;
  g_free (shape);
  return ok;
}

static gboolean
read_entry (const gchar * path, const CnnSafetensors * st,
    const gchar * name, JsonNode * node, CnnSafetensorsEntry * e,
    GError ** error)
{
  JsonObject *obj;
  JsonNode *dtype;

  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    set_error (error, CNN_ERROR_MODEL, path, "header field '%s' is %s, "
        "not a tensor (an object with dtype, shape and data_offsets)", name,
        cnn_json_kind (node));
    return FALSE;
  }
  obj = json_node_get_object (node);
  dtype = json_object_get_member (obj, "dtype");
  if (!node_is_string (dtype)) {
    set_error (error, CNN_ERROR_MODEL, path, "tensor '%s': 'dtype' is %s, "
        "not a string", name, dtype ? cnn_json_kind (dtype) : "missing");
    return FALSE;
  }
  if (!g_str_equal (json_node_get_string (dtype), "F32")) {
    set_error (error, CNN_ERROR_MODEL, path, "tensor '%s': dtype '%s' is "
        "not supported (only F32)", name, json_node_get_string (dtype));
    return FALSE;
  }
  e->name = g_strdup (name);
  return read_shape (path, name, obj, e, error)
      && read_offsets (path, name, obj, e, error)
      && check_entry_size (path, st, e, error);
}

static gboolean
read_entries (const gchar * path, JsonObject * root, CnnSafetensors * st,
    GError ** error)
{
  JsonObjectIter iter;
  const gchar *name;
  JsonNode *node;

  st->entries = g_new0 (CnnSafetensorsEntry, json_object_get_size (root));
  st->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  json_object_iter_init_ordered (&iter, root);
  while (json_object_iter_next_ordered (&iter, &name, &node)) {
    CnnSafetensorsEntry *e = &st->entries[st->n_entries];

    if (g_str_equal (name, METADATA_KEY))
      continue;
    st->n_entries++;
    if (!read_entry (path, st, name, node, e, error))
      return FALSE;
    g_hash_table_insert (st->by_name, e->name, e);
  }
  return TRUE;
}

static gint
compare_placement (gconstpointer a, gconstpointer b)
{
  const CnnSafetensorsEntry *x = *(CnnSafetensorsEntry * const *) a;
  const CnnSafetensorsEntry *y = *(CnnSafetensorsEntry * const *) b;

  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return 0;
}

/* The entries must tile the data section: bytes that belong to no
 * tensor or to two are a sign of a damaged or hostile file. */
static gboolean
check_layout (const gchar * path, const CnnSafetensors * st, GError ** error)
{
  CnnSafetensorsEntry **sorted = g_new (CnnSafetensorsEntry *,
      MAX (st->n_entries, 1));
  const CnnSafetensorsEntry *prev = NULL;
  guint64 cursor = 0;
  gboolean ok = FALSE;

  for (guint i = 0; i < st->n_entries; i++)
    sorted[i] = &st->entries[i];
  qsort (sorted, st->n_entries, sizeof *sorted, compare_placement);

  for (guint i = 0; i < st->n_entries; i++) {
    const CnnSafetensorsEntry *e = sorted[i];

    if (e->begin < cursor) {
      set_error (error, CNN_ERROR_MODEL, path, "tensors '%s' (data_offsets "
          "[%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "]) and '%s' "
          "(data_offsets [%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "]) "
          "overlap", prev->name, prev->begin, prev->end, e->name, e->begin,
          e->end);
      goto out;
    }
    if (e->begin > cursor) {
      set_error (error, CNN_ERROR_MODEL, path, "data section bytes %"
          G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT " (before tensor '%s') "
          "belong to no tensor; tensors must be contiguous", cursor,
          e->begin - 1, e->name);
      goto out;
    }
    cursor = e->end;
    prev = e;
  }
  if (cursor != st->data_len) {
    set_error (error, CNN_ERROR_MODEL, path, "%" G_GUINT64_FORMAT " trailing"
        " bytes (data section offset %" G_GUINT64_FORMAT " to the end) "
        "belong to no tensor", st->data_len - cursor, cursor);
    goto out;
  }
  ok = TRUE;
out:
  g_free (sorted);
  return ok;
}

CnnSafetensors *
cnn_safetensors_parse (const gchar * path, const guint8 * contents,
    gsize length, GError ** error)
{
  CnnSafetensors *st;
  JsonParser *parser;
  JsonObject *root;
  guint64 header_len;
  const gchar *header = (const gchar *) contents + 8;

  if (!read_header_length (path, contents, length, &header_len, error)
      || !check_header_text (path, header, header_len, error))
    return NULL;
  parser = parse_json (path, header, header_len, error);
  if (!parser)
    return NULL;
  root = json_node_get_object (json_parser_get_root (parser));

  st = g_new0 (CnnSafetensors, 1);
  st->data_start = 8 + header_len;
  st->data = contents + st->data_start;
  st->data_len = length - st->data_start;
  if (!read_metadata (path, root, st, error)
      || !read_entries (path, root, st, error)
      || !check_layout (path, st, error)) {
    cnn_safetensors_free (st);
    st = NULL;
  }
  g_object_unref (parser);
  return st;
}

void
cnn_safetensors_free (CnnSafetensors * st)
{
  if (!st)
    return;
  for (guint i = 0; i < st->n_entries; i++)
    g_free (st->entries[i].name);
  g_free (st->entries);
  if (st->by_name)
    g_hash_table_unref (st->by_name);
  if (st->metadata)
    g_hash_table_unref (st->metadata);
  g_free (st);
}

const CnnSafetensorsEntry *
cnn_safetensors_find (const CnnSafetensors * st, const gchar * name)
{
  return g_hash_table_lookup (st->by_name, name);
}

void
cnn_safetensors_copy_f32 (const CnnSafetensors * st,
    const CnnSafetensorsEntry * entry, gfloat * dest)
{
  gsize n = (entry->end - entry->begin) / sizeof (gfloat);

  memcpy (dest, st->data + entry->begin, n * sizeof (gfloat));
#if G_BYTE_ORDER != G_LITTLE_ENDIAN
  for (gsize i = 0; i < n; i++) {
    guint32 v;

    memcpy (&v, &dest[i], 4);
    v = GUINT32_FROM_LE (v);
    memcpy (&dest[i], &v, 4);
  }
#endif
}

gchar *
cnn_safetensors_data_sha256 (const CnnSafetensors * st)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, st->data,
      st->data_len);
}

/* ---- writing ------------------------------------------------------- */

typedef gboolean (*CnnEmitFunc) (gconstpointer bytes, gsize len,
    gpointer user_data);

static guint64
tensor_n_values (const CnnSafetensorsTensor * t)
{
  guint64 n = 1;

  for (guint i = 0; i < t->n_dims; i++)
    n *= t->dims[i];
  return n;
}

/* Hands @t's values to @emit as little-endian bytes. */
static gboolean
emit_tensor (const CnnSafetensorsTensor * t, CnnEmitFunc emit,
    gpointer user_data)
{
  guint64 n = tensor_n_values (t);

#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  return emit (t->data, n * sizeof (gfloat), user_data);
#else
  guint32 chunk[1024];

  for (guint64 done = 0; done < n;) {
    gsize count = MIN (n - done, G_N_ELEMENTS (chunk));

    for (gsize i = 0; i < count; i++) {
      memcpy (&chunk[i], &t->data[done + i], 4);
      chunk[i] = GUINT32_TO_LE (chunk[i]);
    }
    if (!emit (chunk, count * 4, user_data))
      return FALSE;
    done += count;
  }
  return TRUE;
#endif
}

static gboolean
emit_to_checksum (gconstpointer bytes, gsize len, gpointer user_data)
{
  const guint8 *p = bytes;

  /* g_checksum_update takes a gssize. */
  while (len > 0) {
    gsize part = MIN (len, (gsize) G_MAXSSIZE);

    g_checksum_update (user_data, p, part);
    p += part;
    len -= part;
  }
  return TRUE;
}

gchar *
cnn_safetensors_tensors_sha256 (const CnnSafetensorsTensor * tensors,
    guint n_tensors)
{
  GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA256);
  gchar *hex;

  for (guint i = 0; i < n_tensors; i++)
    emit_tensor (&tensors[i], emit_to_checksum, sum);
  hex = g_strdup (g_checksum_get_string (sum));
  g_checksum_free (sum);
  return hex;
}

static gint
compare_keys (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

static void
build_metadata (JsonBuilder * b, GHashTable * metadata)
{
  guint n_keys;
  gpointer *keys = g_hash_table_get_keys_as_array (metadata, &n_keys);

  /* Sorted, so that the same model always gives the same bytes. */
  qsort (keys, n_keys, sizeof *keys, compare_keys);
  json_builder_set_member_name (b, METADATA_KEY);
  json_builder_begin_object (b);
  for (guint i = 0; i < n_keys; i++) {
    json_builder_set_member_name (b, keys[i]);
    json_builder_add_string_value (b, g_hash_table_lookup (metadata,
            keys[i]));
  }
  json_builder_end_object (b);
  g_free (keys);
}

static void
build_tensor (JsonBuilder * b, const CnnSafetensorsTensor * t, guint64 begin,
    guint64 end)
{
  json_builder_set_member_name (b, t->name);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "dtype");
  json_builder_add_string_value (b, "F32");
  json_builder_set_member_name (b, "shape");
  json_builder_begin_array (b);
  for (guint i = 0; i < t->n_dims; i++)
    json_builder_add_int_value (b, (gint64) t->dims[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "data_offsets");
  json_builder_begin_array (b);
  json_builder_add_int_value (b, (gint64) begin);
  json_builder_add_int_value (b, (gint64) end);
  json_builder_end_array (b);
  json_builder_end_object (b);
}

/* The header text, padded with spaces to a multiple of 8 bytes so that
 * the data section is aligned (the safetensors convention). */
static GString *
build_header (GHashTable * metadata, const CnnSafetensorsTensor * tensors,
    guint n_tensors)
{
  JsonBuilder *b = json_builder_new_immutable ();
  JsonGenerator *gen = json_generator_new ();
  JsonNode *root;
  GString *text;
  guint64 offset = 0;
  gchar *json;
  gsize len;

  json_builder_begin_object (b);
  build_metadata (b, metadata);
  for (guint i = 0; i < n_tensors; i++) {
    guint64 size = tensor_n_values (&tensors[i]) * sizeof (gfloat);

    build_tensor (b, &tensors[i], offset, offset + size);
    offset += size;
  }
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json = json_generator_to_data (gen, &len);
  text = g_string_new_len (json, len);
  g_free (json);
  while (text->len % 8)
    g_string_append_c (text, ' ');

  json_node_unref (root);
  g_object_unref (gen);
  g_object_unref (b);
  return text;
}

static gboolean
write_all (gconstpointer bytes, gsize len, gpointer user_data)
{
  gint fd = GPOINTER_TO_INT (user_data);
  const guint8 *p = bytes;

  while (len > 0) {
    gssize n = write (fd, p, MIN (len, (gsize) 1 << 30));

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (n == 0)
        errno = EIO;
      return FALSE;
    }
    p += n;
    len -= n;
  }
  return TRUE;
}

static gboolean
write_contents (gint fd, const GString * header,
    const CnnSafetensorsTensor * tensors, guint n_tensors)
{
  guint64 len = GUINT64_TO_LE ((guint64) header->len);
  gpointer fdp = GINT_TO_POINTER (fd);

  if (!write_all (&len, 8, fdp) || !write_all (header->str, header->len, fdp))
    return FALSE;
  for (guint i = 0; i < n_tensors; i++)
    if (!emit_tensor (&tensors[i], write_all, fdp))
      return FALSE;
  return TRUE;
}

/* Makes the rename itself durable.  Failure here is reported but not
 * fatal: the new file is already in place and complete. */
static void
sync_directory (const gchar * path)
{
  gchar *dir = g_path_get_dirname (path);
  gint fd = g_open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);

  /* Some file systems cannot sync directories (EINVAL): nothing to do. */
  if (fd < 0 || (fsync (fd) != 0 && errno != EINVAL))
    g_warning ("%s: cannot sync directory %s: %s", path, dir,
        g_strerror (errno));
  if (fd >= 0)
    close (fd);
  g_free (dir);
}

gboolean
cnn_safetensors_write (const gchar * path, GHashTable * metadata,
    const CnnSafetensorsTensor * tensors, guint n_tensors, GError ** error)
{
  GString *header = build_header (metadata, tensors, n_tensors);
  gchar *tmp = g_strconcat (path, ".XXXXXX", NULL);
  const gchar *step;
  gint fd = -1, saved_errno;
  gboolean created = FALSE;

  if (header->len > CNN_SAFETENSORS_MAX_HEADER) {
    set_error (error, CNN_ERROR_IO, path, "the header would be %"
        G_GSIZE_FORMAT " bytes, more than readers accept (%" G_GUINT64_FORMAT
        " MiB)", header->len, CNN_SAFETENSORS_MAX_HEADER >> 20);
    g_string_free (header, TRUE);
    g_free (tmp);
    return FALSE;
  }

  step = "cannot create a temporary file beside it";
  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0)
    goto failed;
  created = TRUE;
  step = "cannot write";
  if (!write_contents (fd, header, tensors, n_tensors))
    goto failed;
  step = "cannot flush to disk";
  if (fsync (fd) != 0)
    goto failed;
  step = "cannot close";
  if (close (fd) != 0) {
    fd = -1;
    goto failed;
  }
  fd = -1;
  step = "cannot rename the temporary file over it";
  if (g_rename (tmp, path) != 0)
    goto failed;

  sync_directory (path);
  g_string_free (header, TRUE);
  g_free (tmp);
  return TRUE;

failed:
  saved_errno = errno;
  if (fd >= 0)
    close (fd);
  if (created)
    g_unlink (tmp);
  set_error (error, CNN_ERROR_IO, path, "%s: %s", step,
      g_strerror (saved_errno));
  g_string_free (header, TRUE);
  g_free (tmp);
  return FALSE;
}
