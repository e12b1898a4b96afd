/* Tensors and attributes of an ONNX file, read as the untrusted input
 * they are: every size is checked against the data actually there
 * before anything is copied. */
#include "onnx-wire.h"

#include <string.h>

/* No dimension of a tensor we read exceeds this; products of them are
 * checked in 64 bits anyway. */
#define MAX_DIM (G_GINT64_CONSTANT (1) << 31)

static gboolean
tensor_is_external (const Onnx__TensorProto * t)
{
  return t->n_external_data > 0 || (t->has_data_location
      && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL);
}

/* The product of the dims, each 0..MAX_DIM, at most @max_dims of them. */
static gboolean
tensor_count (const Onnx__TensorProto * t, const gchar * where,
    guint max_dims, guint64 * count, GError ** error)
{
  guint64 n = 1;

  if (t->n_dims > max_dims) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: %" G_GSIZE_FORMAT
        " dims, more than the %u gst-cnn reads", where, t->n_dims, max_dims);
    return FALSE;
  }
  for (gsize i = 0; i < t->n_dims; i++) {
    if (t->dims[i] < 0 || t->dims[i] > MAX_DIM) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: dim %"
          G_GSIZE_FORMAT " is %" G_GINT64_FORMAT ", outside 0..2^31", where,
          i, t->dims[i]);
      return FALSE;
    }
    /* At most 4 factors of 2^31: 2^124 would wrap, so check each. */
    if (!g_uint64_checked_mul (&n, n, (guint64) t->dims[i])) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: its dims' "
          "product overflows 64 bits", where);
      return FALSE;
    }
  }
  *count = n;
  return TRUE;
}

/* The tensor's data: @count elements of @size bytes in raw_data, or
 * @count in its typed field (@n_typed of them). */
static gboolean
check_data_size (const Onnx__TensorProto * t, const gchar * where,
    guint64 count, gsize size, gsize n_typed, GError ** error)
{
  guint64 bytes;

  if (tensor_is_external (t)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: its data is in "
        "another file (external data), which gst-cnn does not read", where);
    return FALSE;
  }
  if (!g_uint64_checked_mul (&bytes, count, size)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: its size "
        "overflows 64 bits", where);
    return FALSE;
  }
  if (t->has_raw_data && t->raw_data.len != bytes) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: raw_data holds %"
        G_GSIZE_FORMAT " bytes, its dims ask for %" G_GUINT64_FORMAT, where,
        t->raw_data.len, bytes);
    return FALSE;
  }
  if (!t->has_raw_data && n_typed != count) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: it holds %"
        G_GSIZE_FORMAT " values, its dims ask for %" G_GUINT64_FORMAT, where,
        n_typed, count);
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_data_type (const Onnx__TensorProto * t, const gchar * where,
    gint32 want, const gchar * want_name, GError ** error)
{
  if (t->data_type == want)
    return TRUE;
  g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: data type %d, not %s",
      where, t->data_type, want_name);
  return FALSE;
}

/* raw_data is little-endian whatever the host. */
static void
copy_floats (const Onnx__TensorProto * t, gfloat * out, gsize n)
{
  if (!t->has_raw_data) {
    /* An empty tensor has no float_data array at all: memcpy must not
     * be handed its NULL, even for no bytes. */
    if (n > 0)
      memcpy (out, t->float_data, n * sizeof (gfloat));
    return;
  }
  for (gsize i = 0; i < n; i++) {
    guint32 bits;

    memcpy (&bits, t->raw_data.data + 4 * i, 4);
    bits = GUINT32_FROM_LE (bits);
    memcpy (&out[i], &bits, 4);
  }
}

gboolean
onnx_tensor_floats (const Onnx__TensorProto * t, const gchar * where,
    OnnxFloats * out, GError ** error)
{
  guint64 count;
  gssize bad;

  memset (out, 0, sizeof *out);
  if (!check_data_type (t, where, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT,
          "FLOAT (1)", error)
      || !tensor_count (t, where, ONNX_MAX_DIMS, &count, error)
      || !check_data_size (t, where, count, 4, t->n_float_data, error))
    return FALSE;
  /* The data is in the file, which the memory limit bounded: a copy is
   * no bigger.  It may still not be there. */
  out->values = g_try_new (gfloat, MAX (count, 1));
  if (!out->values) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM, "%s: no memory for "
        "its %" G_GUINT64_FORMAT " values", where, count);
    return FALSE;
  }
  copy_floats (t, out->values, count);
  bad = cnn_find_nonfinite (out->values, count);
  if (bad >= 0) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: value %"
        G_GSSIZE_FORMAT " is %g", where, bad, out->values[bad]);
    g_clear_pointer (&out->values, g_free);
    return FALSE;
  }
  out->n_dims = t->n_dims;
  for (guint i = 0; i < t->n_dims; i++)
    out->dims[i] = t->dims[i];
  out->n = count;
  return TRUE;
}

gboolean
onnx_tensor_ints (const Onnx__TensorProto * t, const gchar * where,
    gint64 * values, guint max, guint * n, GError ** error)
{
  guint64 count;

  if (!check_data_type (t, where, ONNX__TENSOR_PROTO__DATA_TYPE__INT64,
          "INT64 (7)", error)
      || !tensor_count (t, where, 1, &count, error)
      || !check_data_size (t, where, count, 8, t->n_int64_data, error))
    return FALSE;
  if (count > max) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: %" G_GUINT64_FORMAT
        " values, more than %u", where, count, max);
    return FALSE;
  }
  for (guint i = 0; i < count; i++) {
    guint64 bits;

    if (t->has_raw_data) {
      memcpy (&bits, t->raw_data.data + 8 * i, 8);
      values[i] = (gint64) GUINT64_FROM_LE (bits);
    } else {
      values[i] = t->int64_data[i];
    }
  }
  *n = (guint) count;
  return TRUE;
}

const Onnx__AttributeProto *
onnx_node_attribute (const Onnx__NodeProto * node, const gchar * name)
{
  for (gsize i = 0; i < node->n_attribute; i++)
    if (g_strcmp0 (node->attribute[i]->name, name) == 0)
      return node->attribute[i];
  return NULL;
}
