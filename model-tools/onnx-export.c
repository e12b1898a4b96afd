/* cnn export: a gst-cnn model → an ONNX model (docs/design.md §7).
 *
 * Opset 13, IR version 7.  avgpool becomes AveragePool (no pads, so
 * count_include_pad does not matter).  The input "input" is N×C×H×W (N free), the
 * output "probabilities" N×classes: a Softmax is added when the network
 * does not end in one, as cnnclassify takes probabilities.  Dropout, a
 * training-time layer, is left out.  Weights go in as initializers named
 * like the model file's tensors ("0.conv2d.weight"), in float_data
 * (little-endian on the wire whatever the host).  Everything built here
 * points into the network or into memory listed in @owned, freed once. */
#include "onnx.h"
#include "onnx-wire.h"

#include <string.h>

#define EXPORT_OPSET 13
#define EXPORT_IR_VERSION 7

typedef struct
{
  CnnModel *model;
  CnnNetwork *net;
  GPtrArray *owned;             /* freed with g_free */
  GPtrArray *nodes;             /* Onnx__NodeProto * */
  GPtrArray *initializers;      /* Onnx__TensorProto * */
  const gchar *current;         /* the value the next node reads */
  guint rank;
  guint layer;                  /* for node names and messages */
} Exporter;

static gpointer
own (Exporter * ex, gpointer p)
{
  g_ptr_array_add (ex->owned, p);
  return p;
}

static gchar *
own_printf (Exporter * ex, const gchar * format, ...) G_GNUC_PRINTF (2, 3);

static gchar *
own_printf (Exporter * ex, const gchar * format, ...)
{
  va_list args;
  gchar *text;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  return own (ex, text);
}

/* Makes a GPtrArray's pointers a C array the message points to. */
static gpointer
own_array (Exporter * ex, GPtrArray * array)
{
  return own (ex, g_memdup2 (array->pdata, MAX (array->len, 1)
          * sizeof (gpointer)));
}

/* ---- attributes ----------------------------------------------------- */

static Onnx__AttributeProto *
new_attribute (Exporter * ex, const gchar * name,
    Onnx__AttributeProto__AttributeType type)
{
  static const Onnx__AttributeProto init = ONNX__ATTRIBUTE_PROTO__INIT;
  Onnx__AttributeProto *a = own (ex, g_memdup2 (&init, sizeof init));

  a->name = (gchar *) name;
  a->has_type = TRUE;
  a->type = type;
  return a;
}

static Onnx__AttributeProto *
attr_int (Exporter * ex, const gchar * name, gint64 value)
{
  Onnx__AttributeProto *a = new_attribute (ex, name,
      ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);

  a->has_i = TRUE;
  a->i = value;
  return a;
}

/* @n copies of @value: a square window, symmetric pads. */
static Onnx__AttributeProto *
attr_ints (Exporter * ex, const gchar * name, gint64 value, guint n)
{
  Onnx__AttributeProto *a = new_attribute (ex, name,
      ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);

  a->ints = own (ex, g_new (int64_t, n));
  a->n_ints = n;
  for (guint i = 0; i < n; i++)
    a->ints[i] = value;
  return a;
}

/* ---- nodes and initializers ----------------------------------------- */

/* A node reading the current value and @weights (NULL-terminated names),
 * with @attrs (NULL-terminated); its output becomes the current value. */
static void
add_node (Exporter * ex, const gchar * op_type, const gchar * const *weights,
    Onnx__AttributeProto * const *attrs)
{
  static const Onnx__NodeProto init = ONNX__NODE_PROTO__INIT;
  Onnx__NodeProto *n = own (ex, g_memdup2 (&init, sizeof init));
  g_autoptr (GPtrArray) inputs = g_ptr_array_new ();
  g_autoptr (GPtrArray) attributes = g_ptr_array_new ();

  g_ptr_array_add (inputs, (gpointer) ex->current);
  for (guint i = 0; weights && weights[i]; i++)
    g_ptr_array_add (inputs, (gpointer) weights[i]);
  for (guint i = 0; attrs && attrs[i]; i++)
    g_ptr_array_add (attributes, attrs[i]);
  n->op_type = (gchar *) op_type;
  n->name = own_printf (ex, "%s_%u_%u", op_type, ex->layer, ex->nodes->len);
  n->n_input = inputs->len;
  n->input = own_array (ex, inputs);
  n->n_output = 1;
  n->output = own (ex, g_new (gchar *, 1));
  n->output[0] = own_printf (ex, "layer%u_%s", ex->layer, op_type);
  n->n_attribute = attributes->len;
  n->attribute = own_array (ex, attributes);
  g_ptr_array_add (ex->nodes, n);
  ex->current = n->output[0];
}

/* Tensor @tensor of the current layer as an initializer; its name. */
static const gchar *
add_initializer (Exporter * ex, guint tensor)
{
  static const Onnx__TensorProto init = ONNX__TENSOR_PROTO__INIT;
  Onnx__TensorProto *t = own (ex, g_memdup2 (&init, sizeof init));
  const gchar *part;
  guint n_dims;
  gsize dims[4], n = 1;
  gfloat *data = cnn_network_layer_tensor (ex->net, ex->layer, tensor, &part,
      &n_dims, dims);

  t->name = own_printf (ex, "%u.%s.%s", ex->layer,
      cnn_network_layer_kind (ex->net, ex->layer), part);
  t->has_data_type = TRUE;
  t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  t->n_dims = n_dims;
  t->dims = own (ex, g_new (int64_t, n_dims));
  for (guint i = 0; i < n_dims; i++) {
    t->dims[i] = dims[i];
    n *= dims[i];
  }
  t->n_float_data = n;
  t->float_data = data;
  g_ptr_array_add (ex->initializers, t);
  return t->name;
}

static void
flatten_if_4d (Exporter * ex)
{
  Onnx__AttributeProto *attrs[] = { attr_int (ex, "axis", 1), NULL };

  if (ex->rank == 4)
    add_node (ex, "Flatten", NULL, attrs);
  ex->rank = 2;
}

/* ---- layers --------------------------------------------------------- */

static gboolean
export_window (Exporter * ex, const gchar * kind, GError ** error)
{
  CnnLayerGeometry g = cnn_network_layer_geometry (ex->net, ex->layer);
  gboolean conv = g_str_equal (kind, "conv2d");
  const gchar *op = conv ? "Conv" : g_str_equal (kind, "maxpool")
      ? "MaxPool" : "AveragePool";
  const gchar *weights[3] = { NULL, NULL, NULL };
  Onnx__AttributeProto *attrs[] = {
    attr_ints (ex, "kernel_shape", g.kernel, 2),
    attr_ints (ex, "strides", g.stride, 2),
    attr_ints (ex, "pads", g.pad, 4),
    NULL
  };

  if (ex->rank != 4) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID, "layer %u (%s) "
        "follows a flatten: ONNX's %s needs N×C×H×W", ex->layer, kind, op);
    return FALSE;
  }
  if (conv) {
    weights[0] = add_initializer (ex, 0);
    weights[1] = add_initializer (ex, 1);
  }
  add_node (ex, op, weights, attrs);
  return TRUE;
}

static void
export_dense (Exporter * ex)
{
  Onnx__AttributeProto *attrs[] = { attr_int (ex, "transB", 1), NULL };
  const gchar *weights[3];

  flatten_if_4d (ex);
  weights[0] = add_initializer (ex, 0);
  weights[1] = add_initializer (ex, 1);
  weights[2] = NULL;
  add_node (ex, "Gemm", weights, attrs);
}

static void
export_softmax (Exporter * ex)
{
  Onnx__AttributeProto *attrs[] = { attr_int (ex, "axis", 1), NULL };

  flatten_if_4d (ex);
  add_node (ex, "Softmax", NULL, attrs);
}

static gboolean
export_layer (Exporter * ex, GError ** error)
{
  const gchar *kind = cnn_network_layer_kind (ex->net, ex->layer);

  if (g_str_equal (kind, "conv2d") || g_str_equal (kind, "maxpool")
      || g_str_equal (kind, "avgpool"))
    return export_window (ex, kind, error);
  if (g_str_equal (kind, "relu"))
    add_node (ex, "Relu", NULL, NULL);
  else if (g_str_equal (kind, "flatten"))
    flatten_if_4d (ex);
  else if (g_str_equal (kind, "dense"))
    export_dense (ex);
  else if (g_str_equal (kind, "softmax"))
    export_softmax (ex);
  else if (!g_str_equal (kind, "dropout")) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID, "layer %u: no ONNX "
        "for a %s layer", ex->layer, kind);
    return FALSE;
  }
  return TRUE;
}

/* ---- the graph ------------------------------------------------------ */

static Onnx__ValueInfoProto *
value_info (Exporter * ex, const gchar * name, const gint64 * dims,
    guint n_dims)
{
  static const Onnx__ValueInfoProto vinit = ONNX__VALUE_INFO_PROTO__INIT;
  static const Onnx__TypeProto tinit = ONNX__TYPE_PROTO__INIT;
  static const Onnx__TypeProto__Tensor ttinit = ONNX__TYPE_PROTO__TENSOR__INIT;
  static const Onnx__TensorShapeProto sinit = ONNX__TENSOR_SHAPE_PROTO__INIT;
  static const Onnx__TensorShapeProto__Dimension dinit =
      ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
  Onnx__ValueInfoProto *v = own (ex, g_memdup2 (&vinit, sizeof vinit));
  Onnx__TypeProto *type = own (ex, g_memdup2 (&tinit, sizeof tinit));
  Onnx__TypeProto__Tensor *tensor = own (ex, g_memdup2 (&ttinit,
          sizeof ttinit));
  Onnx__TensorShapeProto *shape = own (ex, g_memdup2 (&sinit, sizeof sinit));

  shape->n_dim = n_dims;
  shape->dim = own (ex, g_new (Onnx__TensorShapeProto__Dimension *, n_dims));
  for (guint i = 0; i < n_dims; i++) {
    Onnx__TensorShapeProto__Dimension *d = own (ex, g_memdup2 (&dinit,
            sizeof dinit));

    /* dims[i] < 0: the batch, free. */
    if (dims[i] < 0) {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      d->dim_param = (gchar *) "N";
    } else {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      d->dim_value = dims[i];
    }
    shape->dim[i] = d;
  }
  tensor->has_elem_type = TRUE;
  tensor->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  tensor->shape = shape;
  type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  type->tensor_type = tensor;
  v->name = (gchar *) name;
  v->type = type;
  return v;
}

static gboolean
export_nodes (Exporter * ex, GError ** error)
{
  guint n_layers = cnn_network_n_layers (ex->net);
  const gchar *last = cnn_network_layer_kind (ex->net, n_layers - 1);

  ex->current = "input";
  ex->rank = 4;
  for (ex->layer = 0; ex->layer < n_layers; ex->layer++)
    if (!export_layer (ex, error))
      return FALSE;
  if (!g_str_equal (last, "softmax"))
    export_softmax (ex);

  /* The last node's output is the graph's. */
  ((Onnx__NodeProto *) g_ptr_array_index (ex->nodes,
          ex->nodes->len - 1))->output[0] = (gchar *) "probabilities";
  return TRUE;
}

static Onnx__GraphProto *
export_graph (Exporter * ex)
{
  static const Onnx__GraphProto init = ONNX__GRAPH_PROTO__INIT;
  Onnx__GraphProto *g = own (ex, g_memdup2 (&init, sizeof init));
  CnnShape in = cnn_network_input_shape (ex->net);
  gint64 in_dims[] = { -1, in.c, in.h, in.w };
  gint64 out_dims[] = { -1,
    (gint64) cnn_shape_size (cnn_network_output_shape (ex->net))
  };

  g->name = (gchar *) "gst-cnn";
  g->n_node = ex->nodes->len;
  g->node = own_array (ex, ex->nodes);
  g->n_initializer = ex->initializers->len;
  g->initializer = own_array (ex, ex->initializers);
  g->n_input = 1;
  g->input = own (ex, g_new (Onnx__ValueInfoProto *, 1));
  g->input[0] = value_info (ex, "input", in_dims, 4);
  g->n_output = 1;
  g->output = own (ex, g_new (Onnx__ValueInfoProto *, 1));
  g->output[0] = value_info (ex, "probabilities", out_dims, 2);
  return g;
}

/* labels (the model file's JSON array), preprocess, and reject-below
 * and name when the model has them. */
static void
export_metadata (Exporter * ex, Onnx__ModelProto * m)
{
  static const gchar *const keys[] = { "labels", "preprocess",
    "reject-below", "name"
  };
  static const Onnx__StringStringEntryProto init =
      ONNX__STRING_STRING_ENTRY_PROTO__INIT;
  g_autoptr (GPtrArray) props = g_ptr_array_new ();

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++) {
    const gchar *value = cnn_model_get_metadata (ex->model, keys[i]);
    Onnx__StringStringEntryProto *e;

    if (!value && g_str_equal (keys[i], "preprocess"))
      value = "resize";
    if (!value)
      continue;
    e = own (ex, g_memdup2 (&init, sizeof init));
    e->key = (gchar *) keys[i];
    e->value = (gchar *) value;
    g_ptr_array_add (props, e);
  }
  m->n_metadata_props = props->len;
  m->metadata_props = own_array (ex, props);
}

gboolean
onnx_export (CnnModel * model, const gchar * path, GError ** error)
{
  Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
  Onnx__OperatorSetIdProto opset = ONNX__OPERATOR_SET_ID_PROTO__INIT;
  Onnx__OperatorSetIdProto *opsets[] = { &opset };
  Exporter ex = { model, cnn_model_network (model) };
  gboolean ok;

  ex.owned = g_ptr_array_new_with_free_func (g_free);
  ex.nodes = g_ptr_array_new ();
  ex.initializers = g_ptr_array_new ();
  ok = export_nodes (&ex, error);
  if (ok) {
    opset.domain = (gchar *) "";
    opset.has_version = TRUE;
    opset.version = EXPORT_OPSET;
    m.has_ir_version = TRUE;
    m.ir_version = EXPORT_IR_VERSION;
    m.n_opset_import = 1;
    m.opset_import = opsets;
    m.producer_name = (gchar *) "gst-cnn";
    m.producer_version = (gchar *) GST_CNN_VERSION;
    m.graph = export_graph (&ex);
    export_metadata (&ex, &m);
    ok = onnx_wire_write (&m, path, error);
  }
  g_ptr_array_unref (ex.initializers);
  g_ptr_array_unref (ex.nodes);
  g_ptr_array_unref (ex.owned);
  return ok;
}
