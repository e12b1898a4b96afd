/* ONNX files ↔ protobuf-c's ModelProto, without trusting the file.
 *
 * protobuf-c checks the wire format and the schema's types; what it does
 * not do is bound its allocations or its recursion.  So the file is
 * mapped (its size checked against the memory limit first), its nesting
 * depth is walked by the schema's own descriptors before unpacking, and
 * unpacking allocates through a counter that refuses to pass the limit. */
#include "onnx-wire.h"

#include <errno.h>
#include <glib/gstdio.h>

struct _OnnxWire
{
  GMappedFile *file;
  Onnx__ModelProto *model;
  ProtobufCAllocator allocator;
  guint64 allocated, budget;
  gboolean over_budget;
};

/* ---- the allocation budget ------------------------------------------ */

static void *
budget_alloc (void *data, size_t size)
{
  OnnxWire *wire = data;
  void *p;

  if (size > wire->budget - wire->allocated) {
    wire->over_budget = TRUE;
    return NULL;
  }
  p = g_try_malloc (MAX (size, 1));
  if (p)
    wire->allocated += size;
  return p;
}

static void
budget_free (void *data, void *p)
{
  g_free (p);
}

/* ---- nesting depth, by the schema's descriptors ---------------------- */

typedef struct
{
  const guint8 *data;
  gsize offset;                 /* where the problem is */
  const gchar *problem;
} WireWalk;

static gboolean
read_varint (const guint8 * data, gsize end, gsize * pos, guint64 * value)
{
  guint64 v = 0;

  for (guint shift = 0; shift < 64 && *pos < end; shift += 7) {
    guint8 byte = data[(*pos)++];

    v |= (guint64) (byte & 0x7f) << shift;
    if (!(byte & 0x80)) {
      *value = v;
      return TRUE;
    }
  }
  return FALSE;
}

static gboolean
walk_failed (WireWalk * walk, gsize offset, const gchar * problem)
{
  walk->offset = offset;
  walk->problem = problem;
  return FALSE;
}

static gboolean walk_message (WireWalk * walk, gsize begin, gsize end,
    const ProtobufCMessageDescriptor * desc, guint depth);

/* A length-delimited field at @pos: a submessage is walked, one level
 * deeper; bytes, strings and packed numbers are stepped over. */
static gboolean
walk_delimited (WireWalk * walk, gsize * pos, gsize end, guint64 tag,
    const ProtobufCMessageDescriptor * desc, guint depth)
{
  const ProtobufCFieldDescriptor *field = NULL;
  gsize at = *pos;
  guint64 len;

  if (!read_varint (walk->data, end, pos, &len) || len > end - *pos)
    return walk_failed (walk, at, "a length runs past its message");
  if (desc && tag <= G_MAXUINT32)
    field = protobuf_c_message_descriptor_get_field (desc, (unsigned) tag);
  if (field && field->type == PROTOBUF_C_TYPE_MESSAGE) {
    if (depth + 1 > ONNX_WIRE_MAX_DEPTH)
      return walk_failed (walk, at, "messages nested more than "
          G_STRINGIFY (ONNX_WIRE_MAX_DEPTH) " deep");
    if (!walk_message (walk, *pos, *pos + len, field->descriptor, depth + 1))
      return FALSE;
  }
  *pos += len;
  return TRUE;
}

/* The fields of one message, data[begin, end). */
static gboolean
walk_message (WireWalk * walk, gsize begin, gsize end,
    const ProtobufCMessageDescriptor * desc, guint depth)
{
  gsize pos = begin;

  while (pos < end) {
    gsize at = pos;
    guint64 key, skip;

    if (!read_varint (walk->data, end, &pos, &key))
      return walk_failed (walk, at, "a field's key runs past its message");
    switch (key & 7) {
      case 0:                  /* varint */
        if (!read_varint (walk->data, end, &pos, &skip))
          return walk_failed (walk, at, "a number runs past its message");
        break;
      case 1:                  /* 64-bit */
      case 5:                  /* 32-bit */
        skip = (key & 7) == 1 ? 8 : 4;
        if (end - pos < skip)
          return walk_failed (walk, at, "a number runs past its message");
        pos += skip;
        break;
      case 2:
        if (!walk_delimited (walk, &pos, end, key >> 3, desc, depth))
          return FALSE;
        break;
      default:
        return walk_failed (walk, at, "a field of a wire type ONNX "
            "does not use (groups or worse)");
    }
  }
  return TRUE;
}

/* ---- reading ------------------------------------------------------- */

static gboolean
map_file (OnnxWire * wire, const gchar * path, guint64 memory_limit,
    GError ** error)
{
  g_autofree gchar *what = g_strdup_printf ("%s: the ONNX file", path);
  GError *err = NULL;

  wire->file = g_mapped_file_new (path, FALSE, &err);
  if (!wire->file) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_IO, "%s: cannot read: %s",
        path, err->message);
    g_error_free (err);
    return FALSE;
  }
  return cnn_memory_check (g_mapped_file_get_length (wire->file),
      memory_limit, what, error);
}

static gboolean
unpack (OnnxWire * wire, const gchar * path, GError ** error)
{
  const guint8 *data = (const guint8 *) g_mapped_file_get_contents (wire->file);
  gsize len = g_mapped_file_get_length (wire->file);
  WireWalk walk = { data, 0, NULL };

  wire->allocated = len;

  if (!walk_message (&walk, 0, len, &onnx__model_proto__descriptor, 0)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: byte %"
        G_GSIZE_FORMAT ": not an ONNX model: %s", path, walk.offset,
        walk.problem);
    return FALSE;
  }
  wire->model = onnx__model_proto__unpack (&wire->allocator, len, data);
  if (wire->model)
    return TRUE;
  if (wire->over_budget)
    g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM, "%s: unpacking the "
        "ONNX file needs more than the memory limit of %.1f MiB", path,
        wire->budget / 1048576.0);
  else
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: not an ONNX "
        "model: protobuf-c cannot unpack it as onnx.ModelProto", path);
  return FALSE;
}

OnnxWire *
onnx_wire_read (const gchar * path, guint64 memory_limit, GError ** error)
{
  OnnxWire *wire = g_new0 (OnnxWire, 1);

  wire->budget = memory_limit ? memory_limit : cnn_memory_limit ();
  wire->allocator = (ProtobufCAllocator) {
  budget_alloc, budget_free, wire};
  if (!map_file (wire, path, wire->budget, error)
      || !unpack (wire, path, error)) {
    onnx_wire_free (wire);
    return NULL;
  }
  return wire;
}

const Onnx__ModelProto *
onnx_wire_model (const OnnxWire * wire)
{
  return wire->model;
}

guint64
onnx_wire_allocated (const OnnxWire * wire)
{
  return wire->allocated;
}

void
onnx_wire_free (OnnxWire * wire)
{
  if (!wire)
    return;
  if (wire->model)
    onnx__model_proto__free_unpacked (wire->model, &wire->allocator);
  if (wire->file)
    g_mapped_file_unref (wire->file);
  g_free (wire);
}

/* ---- writing ------------------------------------------------------- */

gboolean
onnx_wire_write (const Onnx__ModelProto * model, const gchar * path,
    GError ** error)
{
  gsize len = onnx__model_proto__get_packed_size (model);
  g_autofree guint8 *bytes = g_try_malloc (MAX (len, 1));
  GError *err = NULL;

  if (!bytes) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM, "%s: no memory for the "
        "%" G_GSIZE_FORMAT " bytes of the ONNX file", path, len);
    return FALSE;
  }
  onnx__model_proto__pack (model, bytes);
  if (!g_file_set_contents_full (path, (const gchar *) bytes, len,
          G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0644,
          &err)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_IO, "%s: cannot write: %s",
        path, err->message);
    g_error_free (err);
    return FALSE;
  }
  return TRUE;
}
