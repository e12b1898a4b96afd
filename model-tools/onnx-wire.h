/* The ONNX file as protobuf-c unpacks it (onnx.pb-c.h, generated from
 * Debian's onnx.proto), read without trusting it: shared by
 * onnx-import.c and onnx-export.c, and the fuzz target. */
#ifndef ONNX_WIRE_H
#define ONNX_WIRE_H

#include <cnn.h>
#include "onnx.pb-c.h"

G_BEGIN_DECLS

/* Messages nested deeper than this are refused before protobuf-c,
 * whose unpacking recurses once per level without a limit of its own:
 * a chain of empty subgraphs, 2 bytes a level, would overflow the stack.
 * Our graphs nest 5 deep (model, graph, node, attribute, tensor). */
#define ONNX_WIRE_MAX_DEPTH 32

typedef struct _OnnxWire OnnxWire;

/* Reads @path into a ModelProto: the file (mapped, not copied) and all
 * that protobuf-c allocates for it are held to @memory_limit bytes (0:
 * cnn_memory_limit()).  Errors name the file and, for nesting too deep
 * or a broken wire format, the byte offset. */
OnnxWire *onnx_wire_read (const gchar * path, guint64 memory_limit,
    GError ** error);
const Onnx__ModelProto *onnx_wire_model (const OnnxWire * wire);
void onnx_wire_free (OnnxWire * wire);

/* Bytes the file and its unpacking hold, counted against the limit. */
guint64 onnx_wire_allocated (const OnnxWire * wire);

/* Packs @model and writes it atomically (temporary file, fsync, rename). */
gboolean onnx_wire_write (const Onnx__ModelProto * model, const gchar * path,
    GError ** error);

/* ---- values (onnx-values.c) ---------------------------------------- */

#define ONNX_MAX_DIMS 4

/* A FLOAT tensor's shape and a copy of its values, after checking that
 * it keeps its data in the file (no external data), has at most
 * ONNX_MAX_DIMS dims each in 0..2^31, exactly dims' product values in
 * raw_data or float_data (in overflow-safe arithmetic), and none of them
 * NaN or infinite.  @values (g_try_malloc, may fail) is freed by the
 * caller.  Errors start with @where. */
typedef struct
{
  guint n_dims;
  gint64 dims[ONNX_MAX_DIMS];
  gsize n;
  gfloat *values;
} OnnxFloats;

gboolean onnx_tensor_floats (const Onnx__TensorProto * t, const gchar * where,
    OnnxFloats * out, GError ** error);
/* An INT64 tensor of 1 dim and at most @max values (a Reshape's shape). */
gboolean onnx_tensor_ints (const Onnx__TensorProto * t, const gchar * where,
    gint64 * values, guint max, guint * n, GError ** error);

/* The node's attribute @name, or NULL. */
const Onnx__AttributeProto *onnx_node_attribute (const Onnx__NodeProto * node,
    const gchar * name);

G_END_DECLS

#endif /* ONNX_WIRE_H */
