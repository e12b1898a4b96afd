/* cnn import: an ONNX graph → a gst-cnn model (docs/design.md §7).
 *
 * The graph must be a chain: each node takes the previous node's output
 * (the graph's input for the first) and constants (initializers or
 * Constant nodes), and the graph's one output is the last node's.  Each
 * node becomes a layer, folds into the previous one (Add into a bias),
 * or vanishes (Dropout, Identity, the Transposes of NHWC graphs).
 *
 * Keras graphs, as tf2onnx writes them, are NHWC: the input N×H×W×C is
 * transposed to NCHW before the first Conv and back to NHWC before the
 * Flatten/Reshape, so the dense layer after it reads its inputs in
 * H, W, C order.  gst-cnn's input is C×H×W and its flatten is C, H, W
 * order, so the transposes are dropped and that dense layer's weight
 * columns are reordered instead. */
#include "onnx.h"
#include "onnx-wire.h"
#include "tool.h"

#include <math.h>
#include <string.h>

typedef struct
{
  gchar *text;                  /* the layer's architecture text */
  OnnxFloats weight, bias;      /* gst-cnn's layouts */
} ImportLayer;

typedef struct
{
  const gchar *path;
  const OnnxImportOptions *options;
  const Onnx__GraphProto *graph;
  GHashTable *constants;        /* name → const Onnx__TensorProto * */
  gint64 opset;
  CnnShape input;

  /* The value flowing down the chain. */
  const gchar *current;
  guint rank;                   /* 4: N×C×H×W (or N×H×W×C), 2: N×values */
  gboolean nhwc;                /* rank 4, axes N, H, W, C */
  gboolean flat_hwc;            /* rank 2, flattened from NHWC */
  CnnShape shape;               /* logical C×H×W; rank 2: n×1×1 */
  CnnShape pre_flat;            /* the shape the last flatten flattened */
  /* The last layer made has weights and nothing came after it: an Add
   * may fold into its bias. */
  gboolean biasable;

  GPtrArray *layers;            /* ImportLayer */
  guint64 copied;               /* bytes of weights copied so far */
  guint64 budget;

  /* For messages: the node being read. */
  guint node_index;
  const Onnx__NodeProto *node;
} Importer;

static void
import_layer_free (gpointer data)
{
  ImportLayer *l = data;

  g_free (l->text);
  g_free (l->weight.values);
  g_free (l->bias.values);
  g_free (l);
}

/* ---- messages ------------------------------------------------------- */

static gchar *
node_where (const Importer * im)
{
  const Onnx__NodeProto *n = im->node;

  return g_strdup_printf ("%s: node %u '%s' (%s)", im->path, im->node_index,
      n->name ? n->name : "", n->op_type ? n->op_type : "no op type");
}

static gboolean
refuse (const Importer * im, GError ** error, const gchar * format, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
refuse (const Importer * im, GError ** error, const gchar * format, ...)
{
  g_autofree gchar *where = node_where (im);
  g_autofree gchar *why = NULL;
  va_list args;

  va_start (args, format);
  why = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: %s", where, why);
  return FALSE;
}

/* ---- attributes ----------------------------------------------------- */

/* Every attribute of the node must be one the op's reader knows:
 * one it does not could change what the node computes. */
static gboolean
check_attributes (const Importer * im, const gchar * const *known,
    GError ** error)
{
  for (gsize i = 0; i < im->node->n_attribute; i++) {
    const gchar *name = im->node->attribute[i]->name;

    if (!name || !known || !g_strv_contains (known, name))
      return refuse (im, error, "attribute '%s' is not one gst-cnn reads "
          "for %s", name ? name : "", im->node->op_type);
  }
  return TRUE;
}

static gboolean
attr_int (const Importer * im, const gchar * name, gint64 fallback,
    gint64 * value, GError ** error)
{
  const Onnx__AttributeProto *a = onnx_node_attribute (im->node, name);

  *value = fallback;
  if (!a)
    return TRUE;
  if (a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)
    return refuse (im, error, "attribute '%s' is not an INT", name);
  *value = a->i;
  return TRUE;
}

static gboolean
attr_float (const Importer * im, const gchar * name, gfloat fallback,
    gfloat * value, GError ** error)
{
  const Onnx__AttributeProto *a = onnx_node_attribute (im->node, name);

  *value = fallback;
  if (!a)
    return TRUE;
  if (a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT)
    return refuse (im, error, "attribute '%s' is not a FLOAT", name);
  *value = a->f;
  return TRUE;
}

/* An INTS attribute whose @n values (absent: all @fallback) must all be
 * equal; their value in @value. */
static gboolean
attr_ints_same (const Importer * im, const gchar * name, gsize n,
    gint64 fallback, gint64 * value, GError ** error)
{
  const Onnx__AttributeProto *a = onnx_node_attribute (im->node, name);

  *value = fallback;
  if (!a)
    return TRUE;
  if (a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS)
    return refuse (im, error, "attribute '%s' is not INTS", name);
  if (a->n_ints != n)
    return refuse (im, error, "attribute '%s' has %" G_GSIZE_FORMAT
        " values, not %" G_GSIZE_FORMAT, name, a->n_ints, n);
  for (gsize i = 1; i < n; i++)
    if (a->ints[i] != a->ints[0])
      return refuse (im, error, "attribute '%s' differs between axes or "
          "sides; gst-cnn's windows and paddings are square and "
          "symmetric", name);
  *value = a->ints[0];
  return TRUE;
}

/* auto_pad: NOTSET or VALID are explicit; SAME_* is turned into the
 * symmetric padding it means, where there is one. */
static gboolean
attr_auto_pad (const Importer * im, gint64 kernel, gint64 stride,
    gint64 * pad, GError ** error)
{
  const Onnx__AttributeProto *a = onnx_node_attribute (im->node, "auto_pad");
  g_autofree gchar *mode = NULL;

  if (!a)
    return TRUE;
  if (a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING)
    return refuse (im, error, "attribute 'auto_pad' is not a STRING");
  /* Checked first: protobuf-c unpacks an empty bytes field as NULL. */
  if (a->s.len == 0)
    return refuse (im, error, "attribute 'auto_pad' is an empty string");
  mode = g_strndup ((const gchar *) a->s.data, a->s.len);
  if (g_str_equal (mode, "NOTSET"))
    return TRUE;
  if (onnx_node_attribute (im->node, "pads"))
    return refuse (im, error, "both 'pads' and auto_pad %s", mode);
  if (g_str_equal (mode, "VALID")) {
    *pad = 0;
    return TRUE;
  }
  if ((g_str_equal (mode, "SAME_UPPER") || g_str_equal (mode, "SAME_LOWER"))
      && stride == 1 && kernel % 2 == 1) {
    *pad = (kernel - 1) / 2;
    return TRUE;
  }
  return refuse (im, error, "auto_pad %s with kernel %" G_GINT64_FORMAT
      " and stride %" G_GINT64_FORMAT " pads unevenly; gst-cnn pads both "
      "sides alike", mode, kernel, stride);
}

/* ---- inputs --------------------------------------------------------- */

/* Input @i of the node as a constant, NULL and no error when the node
 * has no such input (or an empty name: an optional input left out). */
static gboolean
constant_input (const Importer * im, gsize i, const Onnx__TensorProto ** t,
    GError ** error)
{
  const gchar *name = i < im->node->n_input ? im->node->input[i] : NULL;

  *t = NULL;
  if (!name || !*name)
    return TRUE;
  *t = g_hash_table_lookup (im->constants, name);
  if (!*t)
    return refuse (im, error, "input %" G_GSIZE_FORMAT " '%s' is neither "
        "the previous node's output nor a constant: gst-cnn reads chains "
        "of layers with constant weights", i, name);
  return TRUE;
}

static gboolean
required_constant (const Importer * im, gsize i, const gchar * role,
    const Onnx__TensorProto ** t, GError ** error)
{
  if (!constant_input (im, i, t, error))
    return FALSE;
  if (!*t)
    return refuse (im, error, "it has no %s (input %" G_GSIZE_FORMAT ")",
        role, i);
  return TRUE;
}

/* The tensor's values, counted against what the file may make us hold. */
static gboolean
read_floats (Importer * im, const Onnx__TensorProto * t, const gchar * role,
    OnnxFloats * out, GError ** error)
{
  g_autofree gchar *where = node_where (im);
  g_autofree gchar *what = NULL;

  what = g_strdup_printf ("%s: %s '%s'", where, role, t->name ? t->name : "");
  if (!onnx_tensor_floats (t, what, out, error))
    return FALSE;
  im->copied += out->n * sizeof (gfloat);
  return cnn_memory_check (im->copied, im->budget, what, error);
}

static gboolean
check_no_more_inputs (const Importer * im, gsize n, GError ** error)
{
  for (gsize i = n; i < im->node->n_input; i++)
    if (im->node->input[i] && *im->node->input[i])
      return refuse (im, error, "input %" G_GSIZE_FORMAT " '%s' is more "
          "than %s takes in gst-cnn's reading", i, im->node->input[i],
          im->node->op_type);
  return TRUE;
}

/* ---- the layers ----------------------------------------------------- */

static ImportLayer *
add_layer (Importer * im, gchar * text)
{
  ImportLayer *l = g_new0 (ImportLayer, 1);

  l->text = text;
  g_ptr_array_add (im->layers, l);
  im->biasable = FALSE;
  return l;
}

static ImportLayer *
last_layer (const Importer * im)
{
  return g_ptr_array_index (im->layers, im->layers->len - 1);
}

static gboolean
need_rank (const Importer * im, guint rank, GError ** error)
{
  if (im->rank != rank)
    return refuse (im, error, "its input has %u dims, gst-cnn's %s takes "
        "%u", im->rank, im->node->op_type, rank);
  if (rank == 4 && im->nhwc)
    return refuse (im, error, "its input is NHWC (no Transpose to NCHW "
        "before it)");
  return TRUE;
}

/* out = (in + 2 pad − kernel) / stride + 1, which must be at least 1. */
static gboolean
window_output (const Importer * im, guint in, gint64 kernel, gint64 stride,
    gint64 pad, guint * out, GError ** error)
{
  if (kernel < 1 || kernel > 64 || stride < 1 || stride > 64 || pad < 0
      || pad > 64)
    return refuse (im, error, "kernel %" G_GINT64_FORMAT ", stride %"
        G_GINT64_FORMAT ", pad %" G_GINT64_FORMAT ": gst-cnn takes kernels "
        "and strides 1..64, pads 0..64", kernel, stride, pad);
  if ((gint64) in + 2 * pad < kernel)
    return refuse (im, error, "a %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT
        " window does not fit its %u×%u input", kernel, kernel, im->shape.h,
        im->shape.w);
  *out = (guint) (((gint64) in + 2 * pad - kernel) / stride + 1);
  return TRUE;
}

static gboolean
conv_geometry (Importer * im, const OnnxFloats * w, gint64 * stride,
    gint64 * pad, GError ** error)
{
  gint64 kernel, group, dilation;

  if (w->n_dims != 4 || w->dims[2] != w->dims[3])
    return refuse (im, error, "its weight is not F×C×k×k");
  if (w->dims[1] != im->shape.c)
    return refuse (im, error, "its weight takes %" G_GINT64_FORMAT
        " channels, its input has %u", w->dims[1], im->shape.c);
  if (!attr_ints_same (im, "kernel_shape", 2, w->dims[2], &kernel, error)
      || !attr_ints_same (im, "strides", 2, 1, stride, error)
      || !attr_ints_same (im, "pads", 4, 0, pad, error)
      || !attr_ints_same (im, "dilations", 2, 1, &dilation, error)
      || !attr_int (im, "group", 1, &group, error)
      || !attr_auto_pad (im, kernel, *stride, pad, error))
    return FALSE;
  if (kernel != w->dims[2])
    return refuse (im, error, "kernel_shape %" G_GINT64_FORMAT " differs "
        "from its weight's %" G_GINT64_FORMAT, kernel, w->dims[2]);
  if (dilation != 1 || group != 1)
    return refuse (im, error, "dilation %" G_GINT64_FORMAT ", group %"
        G_GINT64_FORMAT ": gst-cnn's conv has neither", dilation, group);
  return TRUE;
}

/* A bias of @units values, or zeros when there is none. */
static gboolean
read_bias (Importer * im, const Onnx__TensorProto * t, guint units,
    OnnxFloats * bias, GError ** error)
{
  if (!t) {
    bias->values = g_try_new0 (gfloat, units);
    bias->n = units;
    if (!bias->values)
      return refuse (im, error, "no memory for a bias of %u", units);
    return TRUE;
  }
  if (!read_floats (im, t, "bias", bias, error))
    return FALSE;
  if (bias->n != units)
    return refuse (im, error, "its bias has %" G_GSIZE_FORMAT " values, "
        "the layer %u units", bias->n, units);
  return TRUE;
}

static gboolean
check_units (const Importer * im, gint64 units, GError ** error)
{
  if (units < 1 || units > 65536)
    return refuse (im, error, "%" G_GINT64_FORMAT " units: gst-cnn takes "
        "1..65536", units);
  return TRUE;
}

static gboolean
import_conv (Importer * im, GError ** error)
{
  static const gchar *const known[] = { "kernel_shape", "strides", "pads",
    "dilations", "group", "auto_pad", NULL
  };
  const Onnx__TensorProto *wt, *bt;
  OnnxFloats w, b = { 0 };
  gint64 stride, pad;
  guint oh, ow, units;
  ImportLayer *l;

  if (!need_rank (im, 4, error) || !check_attributes (im, known, error)
      || !required_constant (im, 1, "weight", &wt, error)
      || !constant_input (im, 2, &bt, error)
      || !check_no_more_inputs (im, 3, error)
      || !read_floats (im, wt, "weight", &w, error))
    return FALSE;
  if (!conv_geometry (im, &w, &stride, &pad, error)
      || !check_units (im, w.dims[0], error)
      || !window_output (im, im->shape.h, w.dims[2], stride, pad, &oh, error)
      || !window_output (im, im->shape.w, w.dims[2], stride, pad, &ow, error)
      || !read_bias (im, bt, (guint) w.dims[0], &b, error)) {
    g_free (w.values);
    g_free (b.values);
    return FALSE;
  }
  units = (guint) w.dims[0];
  l = add_layer (im, g_strdup_printf ("conv %u %" G_GINT64_FORMAT
          " stride=%" G_GINT64_FORMAT " pad=%" G_GINT64_FORMAT, units,
          w.dims[2], stride, pad));
  l->weight = w;
  l->bias = b;
  im->shape = (CnnShape) { units, oh, ow };
  im->biasable = TRUE;
  return TRUE;
}

/* MaxPool and AveragePool, without pads (so AveragePool's
 * count_include_pad changes nothing). */
static gboolean
import_pool (Importer * im, GError ** error)
{
  static const gchar *const known[] = { "kernel_shape", "strides", "pads",
    "dilations", "ceil_mode", "storage_order", "auto_pad",
    "count_include_pad", NULL
  };
  gboolean max = g_str_equal (im->node->op_type, "MaxPool");
  gint64 kernel = 0, stride, pad, dilation, ceil_mode, storage_order, count;
  guint oh, ow;

  if (!need_rank (im, 4, error) || !check_attributes (im, known, error)
      || !attr_int (im, "count_include_pad", 0, &count, error)
      || !check_no_more_inputs (im, 1, error)
      || !attr_ints_same (im, "kernel_shape", 2, 0, &kernel, error)
      || !attr_ints_same (im, "strides", 2, 1, &stride, error)
      || !attr_ints_same (im, "pads", 4, 0, &pad, error)
      || !attr_ints_same (im, "dilations", 2, 1, &dilation, error)
      || !attr_int (im, "ceil_mode", 0, &ceil_mode, error)
      || !attr_int (im, "storage_order", 0, &storage_order, error)
      || !attr_auto_pad (im, kernel, stride, &pad, error))
    return FALSE;
  if (pad != 0 || dilation != 1 || ceil_mode != 0)
    return refuse (im, error, "pad %" G_GINT64_FORMAT ", dilation %"
        G_GINT64_FORMAT ", ceil_mode %" G_GINT64_FORMAT ": gst-cnn's "
        "pools have none of them", pad, dilation, ceil_mode);
  if (!max && storage_order)
    return refuse (im, error, "storage_order is MaxPool's");
  if (!window_output (im, im->shape.h, kernel, stride, 0, &oh, error)
      || !window_output (im, im->shape.w, kernel, stride, 0, &ow, error))
    return FALSE;
  add_layer (im, g_strdup_printf ("%s %" G_GINT64_FORMAT " stride=%"
          G_GINT64_FORMAT, max ? "maxpool" : "avgpool", kernel, stride));
  im->shape.h = oh;
  im->shape.w = ow;
  return TRUE;
}

static gboolean
import_relu (Importer * im, GError ** error)
{
  if (!check_attributes (im, NULL, error)
      || !check_no_more_inputs (im, 1, error))
    return FALSE;
  add_layer (im, g_strdup ("relu"));
  return TRUE;
}

/* Flatten and Reshape to 2-D: from NHWC, the next dense reorders. */
static void
become_flat (Importer * im)
{
  if (im->rank == 4) {
    add_layer (im, g_strdup ("flatten"));
    im->flat_hwc = im->nhwc;
    im->nhwc = FALSE;
    im->pre_flat = im->shape;
    im->shape = (CnnShape) { (guint) cnn_shape_size (im->shape), 1, 1 };
    im->rank = 2;
  }
}

static gboolean
import_flatten (Importer * im, GError ** error)
{
  static const gchar *const known[] = { "axis", NULL };
  gint64 axis;

  if (!check_attributes (im, known, error)
      || !check_no_more_inputs (im, 1, error)
      || !attr_int (im, "axis", 1, &axis, error))
    return FALSE;
  if (axis != 1)
    return refuse (im, error, "axis %" G_GINT64_FORMAT ": gst-cnn keeps "
        "the batch axis and flattens the rest (axis 1)", axis);
  become_flat (im);
  return TRUE;
}

/* A constant target shape of [batch, values]: batch -1 or 0 (keep),
 * values the per-sample size or -1 (as tf2onnx and x.view(-1, n) write). */
static gboolean
import_reshape (Importer * im, GError ** error)
{
  static const gchar *const known[] = { "allowzero", NULL };
  g_autofree gchar *where = node_where (im);
  const Onnx__TensorProto *t;
  gint64 shape[8], allowzero, n = (gint64) cnn_shape_size (im->shape);
  guint n_shape;

  if (!check_attributes (im, known, error)
      || !attr_int (im, "allowzero", 0, &allowzero, error)
      || !check_no_more_inputs (im, 2, error))
    return FALSE;
  if (im->node->n_input < 2 || !g_hash_table_lookup (im->constants,
          im->node->input[1]))
    return refuse (im, error, "its target shape is computed in the graph "
        "(Shape, Gather, Concat...), not a constant: export with "
        "nn.Flatten, or fold constants first");
  if (!required_constant (im, 1, "shape", &t, error)
      || !onnx_tensor_ints (t, where, shape, G_N_ELEMENTS (shape), &n_shape,
          error))
    return FALSE;
  if (n_shape != 2 || !(shape[0] == -1 || (shape[0] == 0 && !allowzero))
      || !(shape[1] == n || (shape[1] == -1 && shape[0] == 0)))
    return refuse (im, error, "its target shape is not [-1, %" G_GINT64_FORMAT
        "] or [0, -1]: gst-cnn reshapes only to flatten", n);
  become_flat (im);
  return TRUE;
}

/* W (out × in) from the file's K×N (transposed) or N×K; columns read
 * from an NHWC flatten put back in C, H, W order. */
static gboolean
dense_weight (Importer * im, OnnxFloats * w, gboolean k_by_n,
    gfloat alpha, GError ** error)
{
  guint in = im->shape.c, out;
  /* Ours from here: on failure @w holds nothing to free. */
  g_autofree gfloat *src = g_steal_pointer (&w->values);

  if (w->n_dims != 2 || (guint64) w->dims[k_by_n ? 0 : 1] != in)
    return refuse (im, error, "its weight is not %s with K = %u, its "
        "input's size", k_by_n ? "K×N" : "N×K", in);
  if (!check_units (im, w->dims[k_by_n ? 1 : 0], error))
    return FALSE;
  out = (guint) w->dims[k_by_n ? 1 : 0];
  w->values = g_try_new (gfloat, w->n);
  if (!w->values)
    return refuse (im, error, "no memory for its weight");
  for (guint o = 0; o < out; o++)
    for (guint i = 0; i < in; i++)
      w->values[(gsize) o * in + i] = alpha
          * src[k_by_n ? (gsize) i * out + o : (gsize) o * in + i];
  w->dims[0] = out;
  w->dims[1] = in;
  return TRUE;
}

/* The flatten before this dense layer read an NHWC value: column
 * (h·W + w)·C + c of the file is gst-cnn's c·H·W + h·W + w. */
static gboolean
reorder_hwc_columns (Importer * im, OnnxFloats * w, CnnShape chw,
    GError ** error)
{
  gsize in = cnn_shape_size (chw), out = w->dims[0];
  g_autofree gfloat *src = g_steal_pointer (&w->values);

  w->values = g_try_new (gfloat, w->n);
  if (!w->values)
    return refuse (im, error, "no memory for its weight");
  for (gsize o = 0; o < out; o++)
    for (guint c = 0; c < chw.c; c++)
      for (guint y = 0; y < chw.h; y++)
        for (guint x = 0; x < chw.w; x++)
          w->values[o * in + ((gsize) c * chw.h + y) * chw.w + x] =
              src[o * in + ((gsize) y * chw.w + x) * chw.c + c];
  return TRUE;
}

static gboolean
add_dense (Importer * im, OnnxFloats * w, const Onnx__TensorProto * bt,
    gboolean k_by_n, gfloat alpha, gfloat beta, GError ** error)
{
  OnnxFloats b = { 0 };
  ImportLayer *l;

  if (!dense_weight (im, w, k_by_n, alpha, error)
      || (im->flat_hwc && !reorder_hwc_columns (im, w, im->pre_flat, error))
      || !read_bias (im, bt, (guint) w->dims[0], &b, error)) {
    g_free (w->values);
    return FALSE;
  }
  for (gsize i = 0; i < b.n; i++)
    b.values[i] *= beta;
  l = add_layer (im, g_strdup_printf ("dense %" G_GINT64_FORMAT, w->dims[0]));
  l->weight = *w;
  l->bias = b;
  im->shape = (CnnShape) { (guint) w->dims[0], 1, 1 };
  im->flat_hwc = FALSE;
  im->biasable = TRUE;
  return TRUE;
}

static gboolean
import_gemm (Importer * im, GError ** error)
{
  static const gchar *const known[] = { "alpha", "beta", "transA", "transB",
    NULL
  };
  const Onnx__TensorProto *wt, *bt;
  OnnxFloats w;
  gint64 trans_a, trans_b;
  gfloat alpha, beta;

  if (!need_rank (im, 2, error) || !check_attributes (im, known, error)
      || !attr_float (im, "alpha", 1.0f, &alpha, error)
      || !attr_float (im, "beta", 1.0f, &beta, error)
      || !attr_int (im, "transA", 0, &trans_a, error)
      || !attr_int (im, "transB", 0, &trans_b, error)
      || !required_constant (im, 1, "weight", &wt, error)
      || !constant_input (im, 2, &bt, error)
      || !check_no_more_inputs (im, 3, error))
    return FALSE;
  if (trans_a != 0)
    return refuse (im, error, "transA %" G_GINT64_FORMAT ": the input must "
        "be batch × values", trans_a);
  if (!isfinite (alpha) || !isfinite (beta))
    return refuse (im, error, "alpha or beta is not finite");
  if (!read_floats (im, wt, "weight", &w, error))
    return FALSE;
  return add_dense (im, &w, bt, trans_b == 0, alpha, beta, error);
}

/* MatMul by a constant K×N (Keras' Dense, with an Add for the bias). */
static gboolean
import_matmul (Importer * im, GError ** error)
{
  const Onnx__TensorProto *wt;
  OnnxFloats w;

  if (!need_rank (im, 2, error) || !check_attributes (im, NULL, error)
      || !required_constant (im, 1, "weight", &wt, error)
      || !check_no_more_inputs (im, 2, error)
      || !read_floats (im, wt, "weight", &w, error))
    return FALSE;
  return add_dense (im, &w, NULL, TRUE, 1.0f, 1.0f, error);
}

/* Whether the one dim of @b that is not 1 is the channel axis: the
 * last for a 2-D value, the third from last for a 4-D one. */
static gboolean
bias_axis_ok (const OnnxFloats * b, guint rank)
{
  guint axis = rank == 2 ? 1 : 3;

  if (b->n_dims < axis)
    return b->n_dims == 0 && b->n == 1;
  for (guint i = 0; i < b->n_dims; i++)
    if (b->dims[i] != 1 && i != b->n_dims - axis)
      return FALSE;
  return TRUE;
}

/* Add of a constant right after a conv or dense layer: into its bias.
 * The constant holds one value per unit: [N] or [1, N] after a dense
 * layer, [F, 1, 1] or [1, F, 1, 1] after a conv. */
static gboolean
import_add (Importer * im, GError ** error)
{
  const Onnx__TensorProto *t;
  ImportLayer *l;
  OnnxFloats b;
  gsize constant = g_strcmp0 (im->node->input[0], im->current) ? 0 : 1;
  gboolean ok = TRUE;

  if (im->node->n_input != 2)
    return refuse (im, error, "it has %" G_GSIZE_FORMAT " inputs, not 2",
        im->node->n_input);
  if (!check_attributes (im, NULL, error)
      || !required_constant (im, constant, "constant to add", &t, error))
    return FALSE;
  if (!im->biasable)
    return refuse (im, error, "it does not follow a Conv, Gemm or MatMul "
        "directly: gst-cnn adds constants only as biases");
  l = last_layer (im);
  if (!read_floats (im, t, "bias", &b, error))
    return FALSE;
  if (b.n != l->bias.n || !bias_axis_ok (&b, im->rank))
    ok = refuse (im, error, "the constant is not one value per unit of "
        "the layer before (%" G_GSIZE_FORMAT ")", l->bias.n);
  for (gsize i = 0; ok && i < b.n; i++)
    l->bias.values[i] += b.values[i];
  g_free (b.values);
  return ok;
}

static gboolean
import_softmax (Importer * im, GError ** error)
{
  static const gchar *const known[] = { "axis", NULL };
  gint64 axis;

  if (!need_rank (im, 2, error) || !check_attributes (im, known, error)
      || !check_no_more_inputs (im, 1, error)
      || !attr_int (im, "axis", im->opset >= 13 ? -1 : 1, &axis, error))
    return FALSE;
  if (axis != 1 && axis != -1)
    return refuse (im, error, "axis %" G_GINT64_FORMAT ": gst-cnn's softmax "
        "runs over the values of each sample", axis);
  add_layer (im, g_strdup ("softmax"));
  return TRUE;
}

/* A BOOL scalar, false: in raw_data or int32_data. */
static gboolean
constant_is_false (const Onnx__TensorProto * t)
{
  if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__BOOL || t->n_dims > 1)
    return FALSE;
  if (t->has_raw_data)
    return t->raw_data.len == 1 && t->raw_data.data[0] == 0;
  return t->n_int32_data == 1 && t->int32_data[0] == 0;
}

/* Dropout and Identity do nothing at inference: dropped.  A Dropout in
 * training mode would do something. */
static gboolean
import_nothing (Importer * im, GError ** error)
{
  static const gchar *const known[] = { "ratio", "seed", "is_test", NULL };
  const Onnx__TensorProto *ratio, *training;
  gint64 is_test;

  if (g_str_equal (im->node->op_type, "Identity"))
    return check_attributes (im, NULL, error)
        && check_no_more_inputs (im, 1, error);
  if (!check_attributes (im, known, error)
      || !attr_int (im, "is_test", 1, &is_test, error)
      || !constant_input (im, 1, &ratio, error)
      || !constant_input (im, 2, &training, error)
      || !check_no_more_inputs (im, 3, error))
    return FALSE;
  if (training && !constant_is_false (training))
    return refuse (im, error, "training_mode is not a constant false");
  if (!is_test)
    return refuse (im, error, "is_test is 0: a training graph");
  return TRUE;
}

/* A Pad of nothing: PyTorch writes one before each AvgPool2d. */
static gboolean
import_pad (Importer * im, GError ** error)
{
  static const gchar *const known[] = { "mode", NULL };
  g_autofree gchar *where = node_where (im);
  const Onnx__AttributeProto *mode = onnx_node_attribute (im->node, "mode");
  const Onnx__TensorProto *pads, *value;
  gint64 values[8];
  guint n;

  if (!check_attributes (im, known, error)
      || !required_constant (im, 1, "pads", &pads, error)
      || !constant_input (im, 2, &value, error)
      || !check_no_more_inputs (im, 3, error)
      || !onnx_tensor_ints (pads, where, values, G_N_ELEMENTS (values), &n,
          error))
    return FALSE;
  if (mode && (mode->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING
          || mode->s.len != 8 || memcmp (mode->s.data, "constant", 8)))
    return refuse (im, error, "mode is not 'constant'");
  for (guint i = 0; i < n; i++)
    if (values[i] != 0)
      return refuse (im, error, "it pads: gst-cnn pads only inside conv "
          "layers (Conv's pads)");
  return TRUE;
}

static gboolean
perm_is (const Onnx__AttributeProto * perm, const gint64 * want)
{
  for (guint i = 0; i < 4; i++)
    if (perm->ints[i] != want[i])
      return FALSE;
  return TRUE;
}

/* NHWC ↔ NCHW only (tf2onnx's), tracked and dropped. */
static gboolean
import_transpose (Importer * im, GError ** error)
{
  static const gchar *const known[] = { "perm", NULL };
  static const gint64 to_nchw[] = { 0, 3, 1, 2 }, to_nhwc[] = { 0, 2, 3, 1 };
  const Onnx__AttributeProto *perm = onnx_node_attribute (im->node, "perm");

  if (!check_attributes (im, known, error)
      || !check_no_more_inputs (im, 1, error))
    return FALSE;
  if (im->rank != 4 || !perm || perm->n_ints != 4
      || perm->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS)
    return refuse (im, error, "gst-cnn folds only the 4-D NHWC ↔ NCHW "
        "transposes of Keras graphs (perm 0,3,1,2 and 0,2,3,1)");
  if (im->nhwc && perm_is (perm, to_nchw))
    im->nhwc = FALSE;
  else if (!im->nhwc && perm_is (perm, to_nhwc))
    im->nhwc = TRUE;
  else
    return refuse (im, error, "perm %" G_GINT64_FORMAT ",%" G_GINT64_FORMAT
        ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT " on an %s value: only "
        "NHWC → NCHW and NCHW → NHWC fold away", perm->ints[0],
        perm->ints[1], perm->ints[2], perm->ints[3],
        im->nhwc ? "NHWC" : "NCHW");
  /* The values stay where they are: the next layer changes. */
  im->biasable = FALSE;
  return TRUE;
}

/* ---- the chain ------------------------------------------------------ */

typedef gboolean (*ImportOp) (Importer * im, GError ** error);

static const struct
{
  const gchar *op_type;
  ImportOp import;
} import_ops[] = {
  {"Conv", import_conv}, {"Relu", import_relu}, {"MaxPool", import_pool},
  {"AveragePool", import_pool},
  {"Flatten", import_flatten}, {"Reshape", import_reshape},
  {"Gemm", import_gemm}, {"MatMul", import_matmul}, {"Add", import_add},
  {"Softmax", import_softmax}, {"Dropout", import_nothing},
  {"Identity", import_nothing}, {"Transpose", import_transpose},
  {"Pad", import_pad},
};

static ImportOp
find_import_op (const gchar * op_type)
{
  for (guint i = 0; i < G_N_ELEMENTS (import_ops); i++)
    if (g_strcmp0 (op_type, import_ops[i].op_type) == 0)
      return import_ops[i].import;
  return NULL;
}

/* A Constant node: its tensor joins the initializers. */
static gboolean
import_constant (Importer * im, GError ** error)
{
  static const gchar *const known[] = { "value", NULL };
  const Onnx__AttributeProto *value = onnx_node_attribute (im->node, "value");

  if (!check_attributes (im, known, error))
    return FALSE;
  if (!value || !value->t || im->node->n_output != 1 || im->node->n_input)
    return refuse (im, error, "gst-cnn reads Constant nodes of one tensor "
        "'value' and one output");
  if (!im->node->output[0] || g_hash_table_contains (im->constants,
          im->node->output[0]))
    return refuse (im, error, "its output's name is taken");
  g_hash_table_insert (im->constants, im->node->output[0], value->t);
  return TRUE;
}

static gboolean
check_node_frame (Importer * im, GError ** error)
{
  const Onnx__NodeProto *n = im->node;
  const gchar *data = NULL;

  if (n->domain && *n->domain && !g_str_equal (n->domain, "ai.onnx"))
    return refuse (im, error, "domain '%s' is not ONNX's own", n->domain);
  if (n->n_output < 1 || !n->output[0] || !*n->output[0])
    return refuse (im, error, "it has no output");
  if (g_hash_table_contains (im->constants, n->output[0]))
    return refuse (im, error, "its output '%s' has a constant's name",
        n->output[0]);
  /* Add may take the chain's value second. */
  if (n->n_input >= 1)
    data = n->input[0];
  if (g_strcmp0 (n->op_type, "Add") == 0 && n->n_input == 2
      && g_strcmp0 (data, im->current) != 0)
    data = n->input[1];
  if (g_strcmp0 (data, im->current) != 0)
    return refuse (im, error, "its input '%s' is not the output of the node "
        "before ('%s'): gst-cnn reads a chain of layers", data ? data : "",
        im->current);
  return TRUE;
}

static gboolean
import_node (Importer * im, guint index, GError ** error)
{
  ImportOp op;

  im->node_index = index;
  im->node = im->graph->node[index];
  if (g_strcmp0 (im->node->op_type, "Constant") == 0)
    return import_constant (im, error);
  op = find_import_op (im->node->op_type);
  if (!op)
    return refuse (im, error, "not a layer kind gst-cnn has (Conv, Relu, "
        "MaxPool, AveragePool, Flatten, Reshape, Gemm, MatMul+Add, Softmax; Dropout, "
        "Identity, zero Pads and NHWC Transposes are dropped)");
  if (!check_node_frame (im, error) || !op (im, error))
    return FALSE;
  im->current = im->node->output[0];
  return TRUE;
}

/* ---- the graph ------------------------------------------------------ */

static gboolean
graph_refuse (const Importer * im, GError ** error, const gchar * format, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
graph_refuse (const Importer * im, GError ** error, const gchar * format, ...)
{
  g_autofree gchar *why = NULL;
  va_list args;

  va_start (args, format);
  why = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: %s", im->path, why);
  return FALSE;
}

/* The default domain's opset: what the ops' defaults are (Softmax's
 * axis).  7 brought Gemm's broadcasting; 21 is the last checked. */
static gboolean
read_opset (Importer * im, const Onnx__ModelProto * m, GError ** error)
{
  for (gsize i = 0; i < m->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *o = m->opset_import[i];

    if (!o->domain || !*o->domain || g_str_equal (o->domain, "ai.onnx"))
      im->opset = o->version;
  }
  if (im->opset < 7 || im->opset > 21)
    return graph_refuse (im, error, "opset_import: ONNX opset %"
        G_GINT64_FORMAT ", gst-cnn reads 7..21", im->opset);
  return TRUE;
}

static gboolean
collect_initializers (Importer * im, GError ** error)
{
  for (gsize i = 0; i < im->graph->n_initializer; i++) {
    const Onnx__TensorProto *t = im->graph->initializer[i];

    if (!t->name || g_hash_table_contains (im->constants, t->name))
      return graph_refuse (im, error, "initializer %" G_GSIZE_FORMAT
          " '%s': %s", i, t->name ? t->name : "",
          t->name ? "a second of that name" : "no name");
    g_hash_table_insert (im->constants, t->name, (gpointer) t);
  }
  return TRUE;
}

/* The graph's one input that is not an initializer (exporters used to
 * list those as inputs too). */
static gboolean
find_input (Importer * im, const Onnx__ValueInfoProto ** input,
    GError ** error)
{
  *input = NULL;
  for (gsize i = 0; i < im->graph->n_input; i++) {
    const Onnx__ValueInfoProto *v = im->graph->input[i];

    if (v->name && g_hash_table_contains (im->constants, v->name))
      continue;
    if (*input || !v->name)
      return graph_refuse (im, error, "graph input %" G_GSIZE_FORMAT
          " '%s': gst-cnn reads graphs of one named input", i,
          v->name ? v->name : "");
    *input = v;
  }
  if (!*input)
    return graph_refuse (im, error, "the graph has no input");
  return TRUE;
}

/* Dim @i of the input as a number, 0 when it is symbolic or absent. */
static gint64
input_dim (const Onnx__TensorShapeProto * shape, guint i)
{
  const Onnx__TensorShapeProto__Dimension *d = shape->dim[i];

  if (d->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
    return 0;
  return d->dim_value;
}

/* Whether the first node turns an NHWC input into NCHW (tf2onnx). */
static gboolean
input_is_nhwc (const Importer * im, const gchar * input)
{
  static const gint64 to_nchw[] = { 0, 3, 1, 2 };

  for (gsize i = 0; i < im->graph->n_node; i++) {
    const Onnx__NodeProto *n = im->graph->node[i];
    const Onnx__AttributeProto *perm;

    if (g_strcmp0 (n->op_type, "Constant") == 0)
      continue;
    perm = onnx_node_attribute (n, "perm");
    return g_strcmp0 (n->op_type, "Transpose") == 0 && n->n_input == 1
        && g_strcmp0 (n->input[0], input) == 0 && perm && perm->n_ints == 4
        && perm_is (perm, to_nchw);
  }
  return FALSE;
}

/* The input's C, H, W from its dims (in NHWC order when it is), each
 * either a number that --input must agree with or free for it to give. */
static gboolean
input_shape (Importer * im, const Onnx__TensorShapeProto * shape,
    GError ** error)
{
  const CnnShape *given = im->options ? im->options->input : NULL;
  guint rank = (guint) shape->n_dim;
  gint64 c, h = 1, w = 1;

  im->nhwc = rank == 4 && input_is_nhwc (im, im->current);
  c = input_dim (shape, im->nhwc ? 3 : 1);
  if (rank == 4) {
    h = input_dim (shape, im->nhwc ? 1 : 2);
    w = input_dim (shape, im->nhwc ? 2 : 3);
  }
  if (given && rank == 2 && (c == 0 || c == (gint64) cnn_shape_size (*given))) {
    /* A flat input given a picture's shape: flatten it first. */
    im->input = im->shape = *given;
    im->rank = 4;
    become_flat (im);
    return TRUE;
  }
  if (given && ((c && c != given->c) || (h && h != given->h)
          || (w && w != given->w)))
    return graph_refuse (im, error, "the graph's input '%s' is %"
        G_GINT64_FORMAT "x%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
        " (CxHxW; 0: free), --input says %ux%ux%u", im->current, c, h, w,
        given->c, given->h, given->w);
  if (given)
    im->input = *given;
  else if (c < 1 || h < 1 || w < 1 || c > 65535 || h > 65535 || w > 65535)
    return graph_refuse (im, error, "the graph's input '%s' is %"
        G_GINT64_FORMAT "x%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
        " (CxHxW; 0: free): give the shape with --input CxHxW",
        im->current, c, h, w);
  else
    im->input = (CnnShape) { (guint) c, (guint) h, (guint) w };
  im->shape = im->input;
  im->rank = rank;
  return TRUE;
}

static gboolean
read_input (Importer * im, GError ** error)
{
  const Onnx__ValueInfoProto *input;
  const Onnx__TypeProto__Tensor *type;

  if (!find_input (im, &input, error))
    return FALSE;
  im->current = input->name;
  if (!input->type
      || input->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
      || !(type = input->type->tensor_type)
      || type->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
    return graph_refuse (im, error, "the graph's input '%s' is not a FLOAT "
        "tensor", input->name);
  if (!type->shape || (type->shape->n_dim != 4 && type->shape->n_dim != 2))
    return graph_refuse (im, error, "the graph's input '%s' has %"
        G_GSIZE_FORMAT " dims: gst-cnn reads N×C×H×W, N×H×W×C or N×values",
        input->name, type->shape ? type->shape->n_dim : 0);
  return input_shape (im, type->shape, error);
}

static gboolean
check_output (Importer * im, GError ** error)
{
  const Onnx__GraphProto *g = im->graph;

  if (g->n_output != 1 || g_strcmp0 (g->output[0]->name, im->current) != 0)
    return graph_refuse (im, error, "the graph's output must be the one "
        "value the chain of nodes ends in ('%s')", im->current);
  if (im->rank != 2 || im->layers->len == 0)
    return graph_refuse (im, error, "the graph ends in a %u-D value: "
        "gst-cnn's networks end in one value per class", im->rank);
  return TRUE;
}

/* ---- the model ------------------------------------------------------ */

static gchar *
architecture_text (const Importer * im)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < im->layers->len; i++) {
    const ImportLayer *l = g_ptr_array_index (im->layers, i);

    g_string_append_printf (text, "%s%s", i ? ", " : "", l->text);
  }
  return g_string_free (text, FALSE);
}

static gboolean
copy_tensor (CnnNetwork * net, guint layer, guint tensor,
    const OnnxFloats * values, GError ** error)
{
  const gchar *name;
  guint n_dims;
  gsize dims[4], n = 1;
  gfloat *data = cnn_network_layer_tensor (net, layer, tensor, &name, &n_dims,
      dims);

  for (guint i = 0; i < n_dims; i++)
    n *= dims[i];
  if (n != values->n) {
    /* The shapes were worked out above as libcnn does: a bug if not. */
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "layer %u %s: %"
        G_GSIZE_FORMAT " values for %" G_GSIZE_FORMAT, layer, name,
        values->n, n);
    return FALSE;
  }
  memcpy (data, values->values, n * sizeof (gfloat));
  return TRUE;
}

static CnnModel *
build_model (const Importer * im, GError ** error)
{
  g_autofree gchar *arch = architecture_text (im);
  CnnModel *model = cnn_model_new (arch, im->input, error);
  CnnNetwork *net;

  if (!model) {
    g_prefix_error (error, "%s: the network it describes (%s): ", im->path,
        arch);
    return NULL;
  }
  net = cnn_model_network (model);
  for (guint i = 0; i < im->layers->len; i++) {
    const ImportLayer *l = g_ptr_array_index (im->layers, i);

    if (l->weight.values && (!copy_tensor (net, i, 0, &l->weight, error)
            || !copy_tensor (net, i, 1, &l->bias, error))) {
      cnn_model_free (model);
      return NULL;
    }
  }
  return model;
}

/* ---- metadata ------------------------------------------------------- */

static const gchar *
metadata_prop (const Onnx__ModelProto * m, const gchar * key)
{
  for (gsize i = 0; i < m->n_metadata_props; i++)
    if (g_strcmp0 (m->metadata_props[i]->key, key) == 0)
      return m->metadata_props[i]->value;
  return NULL;
}

static gboolean
apply_labels (const Importer * im, CnnModel * model,
    const Onnx__ModelProto * m, GError ** error)
{
  guint n = cnn_model_n_labels (model);
  const gchar *json = metadata_prop (m, "labels");
  g_autofree gchar *where = NULL;
  gchar **labels;
  gboolean ok;

  if (im->options && im->options->labels)
    return cnn_model_set_labels (model,
        (const gchar * const *) im->options->labels, error);
  if (!json)
    return TRUE;
  where = g_strdup_printf ("%s: metadata_props", im->path);
  labels = cnn_labels_from_json (json, n, where, error);
  ok = labels && cnn_model_set_labels (model, (const gchar * const *) labels,
      error);
  g_strfreev (labels);
  return ok;
}

static gboolean
apply_preprocess (const Importer * im, CnnModel * model,
    const Onnx__ModelProto * m, GError ** error)
{
  const gchar *spec = im->options ? im->options->preprocess : NULL;
  CnnPreprocessor *pre;

  if (!spec)
    spec = metadata_prop (m, "preprocess");
  if (!spec)
    return TRUE;
  pre = cnn_preprocessor_new (spec, im->input, error);
  if (!pre) {
    g_prefix_error (error, "%s: preprocess: ", im->path);
    return FALSE;
  }
  cnn_model_set_metadata (model, "preprocess", cnn_preprocessor_spec (pre));
  cnn_preprocessor_free (pre);
  return TRUE;
}

static gboolean
apply_reject_below (const Importer * im, CnnModel * model,
    const Onnx__ModelProto * m, GError ** error)
{
  const gchar *text = metadata_prop (m, "reject-below");
  g_autofree gchar *option = NULL;
  gdouble value;

  if (!text)
    return TRUE;
  option = g_strdup_printf ("%s: metadata_props 'reject-below'", im->path);
  if (!tool_parse_double (option, text, 0.0, 1.0, &value, error))
    return FALSE;
  cnn_model_set_metadata (model, "reject-below", text);
  return TRUE;
}

/* Provenance, shown by cnn summary: the file's name and its producer
 * (untrusted text: valid UTF-8, a line, 100 characters at most). */
static void
apply_provenance (const Importer * im, CnnModel * model,
    const Onnx__ModelProto * m)
{
  g_autofree gchar *base = g_path_get_basename (im->path);
  g_autofree gchar *producer = g_strdup_printf ("%s %s",
      m->producer_name ? m->producer_name : "",
      m->producer_version ? m->producer_version : "");
  g_autofree gchar *valid = g_utf8_make_valid (g_strstrip (producer), -1);
  g_autofree gchar *text = NULL;

  g_strdelimit (valid, "\r\n\t", ' ');
  if (g_utf8_strlen (valid, -1) > 100)
    *g_utf8_offset_to_pointer (valid, 100) = '\0';
  text = g_strdup_printf ("cnn import %s (%s)", base,
      *valid ? valid : "no producer named");
  cnn_model_set_metadata (model, "trained-with", text);
}

/* ---- the whole ------------------------------------------------------ */

static CnnModel *
import_model (Importer * im, const Onnx__ModelProto * m, GError ** error)
{
  CnnModel *model;

  im->graph = m->graph;
  if (!im->graph) {
    graph_refuse (im, error, "no graph");
    return NULL;
  }
  if (!read_opset (im, m, error) || !collect_initializers (im, error)
      || !read_input (im, error))
    return NULL;
  for (guint i = 0; i < im->graph->n_node; i++)
    if (!import_node (im, i, error))
      return NULL;
  if (!check_output (im, error))
    return NULL;
  model = build_model (im, error);
  if (model && (!apply_labels (im, model, m, error)
          || !apply_preprocess (im, model, m, error)
          || !apply_reject_below (im, model, m, error)))
    g_clear_pointer (&model, cnn_model_free);
  if (model)
    apply_provenance (im, model, m);
  return model;
}

CnnModel *
onnx_import (const gchar * path, const OnnxImportOptions * options,
    GError ** error)
{
  Importer im = { 0 };
  OnnxWire *wire;
  CnnModel *model;

  wire = onnx_wire_read (path, 0, error);
  if (!wire)
    return NULL;
  im.path = path;
  im.options = options;
  im.constants = g_hash_table_new (g_str_hash, g_str_equal);
  im.layers = g_ptr_array_new_with_free_func (import_layer_free);
  im.budget = cnn_memory_limit ();
  im.copied = onnx_wire_allocated (wire);
  model = import_model (&im, onnx_wire_model (wire), error);
  g_ptr_array_unref (im.layers);
  g_hash_table_unref (im.constants);
  onnx_wire_free (wire);
  return model;
}
