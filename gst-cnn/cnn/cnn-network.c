/* The network (docs/design.md §2): a sequence of layers, their
 * parameters in one array, and all working memory allocated once by
 * cnn_network_reserve().  Building and reading it; the forward pass,
 * training memory and the training step are in cnn-network-*.c. */
#include "cnn-network-private.h"

#include <math.h>
#include <string.h>

static void set_frozen (CnnNetwork * net, gboolean frozen);

GQuark
cnn_error_quark (void)
{
  return g_quark_from_static_string ("cnn-error-quark");
}

static gboolean
setup_layers (CnnNetwork * net, GError ** error)
{
  CnnShape shape = net->input;

  for (guint i = 0; i < net->n_layers; i++) {
    CnnLayer *l = &net->layers[i];
    GError *err = NULL;

    l->in = shape;
    if (!l->spec.ops->setup (l, &err)) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_ARCH, "layer %u (%s): %s", i,
          l->spec.ops->name, err->message);
      g_error_free (err);
      return FALSE;
    }
    if (cnn_shape_size (l->out) == 0 || cnn_shape_size (l->out) > G_MAXUINT) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_ARCH,
          "layer %u (%s): output %ux%ux%u is out of range", i,
          l->spec.ops->name, l->out.c, l->out.h, l->out.w);
      return FALSE;
    }
    net->n_params += l->n_weight + l->n_bias;
    net->fixed_bytes = cnn_bytes_add (net->fixed_bytes, l->kernel_bytes);
    shape = l->out;
  }
  net->fixed_bytes = cnn_bytes_add (net->fixed_bytes,
      cnn_bytes_mul (net->n_params, sizeof (gfloat)));
  return TRUE;
}

/* Whether @workspace and @training bytes fit beside the fixed memory;
 * the message says what needed them and how the total came about. */
gboolean
cnn_network_fits_in_limit (const CnnNetwork * net, guint64 workspace,
    guint64 training, const gchar * what, GError ** error)
{
  guint64 total = cnn_bytes_add (cnn_bytes_add (net->fixed_bytes, workspace),
      training);
  gchar *params = g_format_size_full (cnn_bytes_mul (net->n_params,
          sizeof (gfloat)), G_FORMAT_SIZE_IEC_UNITS);
  gchar *detail = g_strdup_printf ("%s (%" G_GSIZE_FORMAT " parameters: %s; "
      "with kernel copies, working memory and input)", what, net->n_params,
      params);
  gboolean ok = cnn_memory_check (total, net->memory_limit, detail, error);

  g_free (params);
  g_free (detail);
  return ok;
}

/* Kernel buffers, the parameters and a batch-of-one workspace, once
 * cnn_network_fits_in_limit() said they fit. */
static gboolean
alloc_network_memory (CnnNetwork * net, GError ** error)
{
  for (guint i = 0; i < net->n_layers; i++) {
    CnnLayer *l = &net->layers[i];

    if (l->spec.ops->inference.alloc_kernels
        && !l->spec.ops->inference.alloc_kernels (l)) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM, "layer %u (%s): "
          "cannot allocate %" G_GUINT64_FORMAT " bytes of kernel buffers", i,
          l->spec.ops->name, l->kernel_bytes);
      return FALSE;
    }
  }
  net->params = g_try_new0 (gfloat, MAX (net->n_params, 1));
  if (!net->params) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM,
        "cannot allocate %" G_GSIZE_FORMAT " parameters", net->n_params);
    return FALSE;
  }
  return TRUE;
}

static void
point_params (CnnNetwork * net)
{
  gfloat *p = net->params;

  for (guint i = 0; i < net->n_layers; i++) {
    CnnLayer *l = &net->layers[i];

    l->weight = l->n_weight ? p : NULL;
    p += l->n_weight;
    l->bias = l->n_bias ? p : NULL;
    p += l->n_bias;
  }
}

static gchar *
canonical_text (const CnnNetwork * net)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < net->n_layers; i++) {
    gchar *part = net->layers[i].spec.ops->to_text (&net->layers[i]);

    if (i > 0)
      g_string_append (text, ", ");
    g_string_append (text, part);
    g_free (part);
  }
  return g_string_free (text, FALSE);
}

CnnNetwork *
cnn_network_new (const gchar * architecture, CnnShape input, GError ** error)
{
  return cnn_network_new_full (architecture, input, 0, error);
}

CnnNetwork *
cnn_network_new_full (const gchar * architecture, CnnShape input,
    guint64 memory_limit, GError ** error)
{
  CnnNetwork *net;
  CnnLayerSpec *specs;
  guint n_layers;

  g_return_val_if_fail (architecture != NULL, NULL);

  if (input.c == 0 || input.h == 0 || input.w == 0) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_ARCH,
        "input shape %ux%ux%u has an empty dimension", input.c, input.h,
        input.w);
    return NULL;
  }
  specs = cnn_arch_parse (architecture, &n_layers, error);
  if (!specs)
    return NULL;

  net = g_new0 (CnnNetwork, 1);
  net->memory_limit = memory_limit ? memory_limit : cnn_memory_limit ();
  net->input = input;
  net->n_layers = n_layers;
  net->kernels = cnn_kernels_choose ();
  net->layers = g_new0 (CnnLayer, n_layers);
  for (guint i = 0; i < n_layers; i++) {
    net->layers[i].spec = specs[i];
    net->layers[i].kernels = net->kernels;
  }
  g_free (specs);

  if (!setup_layers (net, error)) {
    cnn_network_free (net);
    return NULL;
  }
  cnn_network_plan_inference (net);
  if (!cnn_network_fits_in_limit (net, cnn_network_workspace_bytes (net, 1,
              1), 0, "the network", error)
      || !alloc_network_memory (net, error)) {
    cnn_network_free (net);
    return NULL;
  }
  point_params (net);
  net->architecture = canonical_text (net);
  if (!cnn_network_reserve (net, 1, error)) {
    cnn_network_free (net);
    return NULL;
  }
  return net;
}

void
cnn_network_free (CnnNetwork * net)
{
  if (!net)
    return;
  cnn_workspace_free (net->ws);
  cnn_network_free_training (net);
  for (guint i = 0; net->layers && i < net->n_layers; i++)
    if (net->layers[i].spec.ops->inference.clear)
      net->layers[i].spec.ops->inference.clear (&net->layers[i]);
  g_free (net->plan);
  g_free (net->params);
  g_free (net->layers);
  g_free (net->architecture);
  g_free (net);
}

const gchar *
cnn_network_kernels (const CnnNetwork * net)
{
  return cnn_kernels_name (net->kernels);
}

const gchar *
cnn_network_architecture (const CnnNetwork * net)
{
  return net->architecture;
}

CnnShape
cnn_network_input_shape (const CnnNetwork * net)
{
  return net->input;
}

CnnShape
cnn_network_output_shape (const CnnNetwork * net)
{
  return net->layers[net->n_layers - 1].out;
}

guint
cnn_network_n_layers (const CnnNetwork * net)
{
  return net->n_layers;
}

const gchar *
cnn_network_layer_kind (const CnnNetwork * net, guint layer)
{
  g_return_val_if_fail (layer < net->n_layers, NULL);
  return net->layers[layer].spec.ops->name;
}

CnnLayerGeometry
cnn_network_layer_geometry (const CnnNetwork * net, guint layer)
{
  const CnnLayerSpec *spec;
  CnnLayerGeometry g = { 0, 0, 0, 0 };

  g_return_val_if_fail (layer < net->n_layers, g);
  /* The parser leaves the fields a kind does not take at 0. */
  spec = &net->layers[layer].spec;
  g = (CnnLayerGeometry) { spec->units, spec->kernel, spec->stride,
    spec->pad
  };
  return g;
}

gchar *
cnn_network_layer_describe (const CnnNetwork * net, guint layer)
{
  const CnnLayer *l;
  gchar *detail, *text;

  g_return_val_if_fail (layer < net->n_layers, NULL);
  l = &net->layers[layer];
  detail = l->spec.ops->describe (l);
  text = *detail ? g_strdup_printf ("%s %s", l->spec.ops->name, detail)
      : g_strdup (l->spec.ops->name);
  g_free (detail);
  return text;
}

CnnShape
cnn_network_layer_output_shape (const CnnNetwork * net, guint layer)
{
  g_return_val_if_fail (layer < net->n_layers, net->input);
  return net->layers[layer].out;
}

gsize
cnn_network_layer_param_count (const CnnNetwork * net, guint layer)
{
  g_return_val_if_fail (layer < net->n_layers, 0);
  return net->layers[layer].n_weight + net->layers[layer].n_bias;
}

gsize
cnn_network_param_count (const CnnNetwork * net)
{
  return net->n_params;
}

guint
cnn_network_layer_n_tensors (const CnnNetwork * net, guint layer)
{
  g_return_val_if_fail (layer < net->n_layers, 0);
  return net->layers[layer].n_weight ? 2 : 0;
}

gfloat *
cnn_network_layer_tensor (CnnNetwork * net, guint layer, guint tensor,
    const gchar ** name, guint * n_dims, gsize dims[4])
{
  CnnLayer *l;

  g_return_val_if_fail (layer < net->n_layers, NULL);
  g_return_val_if_fail (!net->shared, NULL);
  l = &net->layers[layer];
  g_return_val_if_fail (l->n_weight && tensor < 2, NULL);
  set_frozen (net, FALSE);

  if (tensor == 0) {
    *name = "weight";
    *n_dims = l->weight_n_dims;
    for (guint i = 0; i < l->weight_n_dims; i++)
      dims[i] = l->weight_dims[i];
    return l->weight;
  }
  *name = "bias";
  *n_dims = 1;
  dims[0] = l->n_bias;
  return l->bias;
}

static void
set_frozen (CnnNetwork * net, gboolean frozen)
{
  if (net->frozen == frozen)
    return;
  net->frozen = frozen;
  for (guint i = 0; i < net->n_layers; i++)
    if (net->layers[i].spec.ops->inference.set_frozen)
      net->layers[i].spec.ops->inference.set_frozen (&net->layers[i], frozen);
}

void
cnn_network_freeze (CnnNetwork * net)
{
  set_frozen (net, TRUE);
}

void
cnn_network_share (CnnNetwork * net)
{
  g_return_if_fail (net->frozen && net->training == NULL);
  net->shared = TRUE;
  cnn_workspace_free (net->ws);
  net->ws = NULL;
}

gfloat *
cnn_network_params (CnnNetwork * net)
{
  g_return_val_if_fail (!net->shared, NULL);
  set_frozen (net, FALSE);
  return net->params;
}

void
cnn_network_init_params (CnnNetwork * net, guint64 seed)
{
  guint64 state = seed;

  g_return_if_fail (!net->shared);
  set_frozen (net, FALSE);
  for (guint i = 0; i < net->n_layers; i++) {
    CnnLayer *l = &net->layers[i];
    gsize fan_in;
    gfloat limit;

    if (!l->n_weight)
      continue;
    /* He-uniform: keeps activations' variance steady through ReLUs. */
    fan_in = l->n_weight / l->n_bias;
    limit = sqrtf (6.0f / (gfloat) fan_in);
    for (gsize j = 0; j < l->n_weight; j++) {
      gdouble u = (splitmix64 (&state) >> 11) * (1.0 / 9007199254740992.0);
      l->weight[j] = (gfloat) ((2.0 * u - 1.0) * limit);
    }
    memset (l->bias, 0, l->n_bias * sizeof (gfloat));
  }
}
