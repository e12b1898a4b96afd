/* The network: a sequence of layers, their parameters in one array, and
 * all working memory allocated once by cnn_network_reserve(). */
#include "cnn-private.h"
#include "cnn-workers.h"

#include <math.h>
#include <string.h>

/* Working memory beyond this is refused rather than attempted. */
#define MAX_WORKSPACE_BYTES ((gsize) 16 << 30)

struct _CnnNetwork
{
  gchar *architecture;
  CnnShape input;
  CnnLayer *layers;
  guint n_layers;

  gfloat *params;
  gsize n_params;

  /* Workspace: each layer's output for max_batch samples, then one
   * scratch area per thread. */
  guint max_batch;
  gfloat *workspace;
  gfloat **outputs;             /* n_layers pointers into workspace */
  CnnScratch *scratch;          /* one per thread */
  gsize scratch_floats;

  CnnWorkers *workers;

  /* The pass being run, read by the worker threads. */
  const gfloat *pass_input;
  guint pass_batch;
};

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
    shape = l->out;
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

  cnn_blas_init ();
  net = g_new0 (CnnNetwork, 1);
  net->input = input;
  net->n_layers = n_layers;
  net->layers = g_new0 (CnnLayer, n_layers);
  for (guint i = 0; i < n_layers; i++)
    net->layers[i].spec = specs[i];
  g_free (specs);

  if (!setup_layers (net, error)) {
    cnn_network_free (net);
    return NULL;
  }
  if (net->n_params > MAX_WORKSPACE_BYTES / sizeof (gfloat)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_ARCH,
        "the network has %" G_GSIZE_FORMAT " parameters, more than the "
        "supported %" G_GSIZE_FORMAT, net->n_params,
        MAX_WORKSPACE_BYTES / sizeof (gfloat));
    cnn_network_free (net);
    return NULL;
  }
  net->params = g_try_new0 (gfloat, MAX (net->n_params, 1));
  if (!net->params) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_ARCH,
        "cannot allocate %" G_GSIZE_FORMAT " parameters", net->n_params);
    cnn_network_free (net);
    return NULL;
  }
  point_params (net);
  net->architecture = canonical_text (net);
  net->workers = cnn_workers_new (1);
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
  cnn_workers_free (net->workers);
  g_free (net->workspace);
  g_free (net->outputs);
  g_free (net->scratch);
  g_free (net->params);
  g_free (net->layers);
  g_free (net->architecture);
  g_free (net);
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
  l = &net->layers[layer];
  g_return_val_if_fail (l->n_weight && tensor < 2, NULL);

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

gfloat *
cnn_network_params (CnnNetwork * net)
{
  return net->params;
}

/* SplitMix64: a tiny, well-mixed generator, so initial weights depend on
 * the seed alone and not on the platform's rand(). */
static guint64
splitmix64 (guint64 * state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

void
cnn_network_init_params (CnnNetwork * net, guint64 seed)
{
  guint64 state = seed;

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

static gsize
largest_scratch (const CnnNetwork * net)
{
  gsize most = 0;

  for (guint i = 0; i < net->n_layers; i++)
    most = MAX (most, net->layers[i].scratch_floats);
  return most;
}

gboolean
cnn_network_reserve (CnnNetwork * net, guint max_batch, GError ** error)
{
  guint n_threads = cnn_workers_n_threads (net->workers);
  gsize total = 0, scratch = largest_scratch (net);
  gfloat *block, *p;

  g_return_val_if_fail (max_batch > 0, FALSE);

  for (guint i = 0; i < net->n_layers; i++) {
    gsize size = cnn_shape_size (net->layers[i].out);

    if (size > MAX_WORKSPACE_BYTES / sizeof (gfloat) / max_batch)
      goto too_big;
    total += size * max_batch;
    if (total > MAX_WORKSPACE_BYTES / sizeof (gfloat))
      goto too_big;
  }
  if (scratch > MAX_WORKSPACE_BYTES / sizeof (gfloat) / n_threads
      || total + scratch * n_threads > MAX_WORKSPACE_BYTES / sizeof (gfloat))
    goto too_big;
  total += scratch * n_threads;

  block = g_try_new (gfloat, MAX (total, 1));
  if (!block)
    goto too_big;

  g_free (net->workspace);
  g_free (net->outputs);
  g_free (net->scratch);
  net->workspace = block;
  net->max_batch = max_batch;
  net->scratch_floats = scratch;
  net->outputs = g_new (gfloat *, net->n_layers);
  net->scratch = g_new (CnnScratch, n_threads);
  p = block;
  for (guint i = 0; i < net->n_layers; i++) {
    net->outputs[i] = p;
    p += cnn_shape_size (net->layers[i].out) * max_batch;
  }
  for (guint t = 0; t < n_threads; t++) {
    net->scratch[t].floats = p;
    net->scratch[t].n_floats = scratch;
    p += scratch;
  }
  return TRUE;

too_big:
  g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
      "working memory for a batch of %u does not fit (limit %" G_GSIZE_FORMAT
      " MiB)", max_batch, MAX_WORKSPACE_BYTES >> 20);
  return FALSE;
}

guint
cnn_network_max_batch (const CnnNetwork * net)
{
  return net->max_batch;
}

/* Runs every layer over samples [first, first + count). */
static void
forward_range (CnnNetwork * net, guint first, guint count, CnnScratch * s)
{
  const gfloat *in = net->pass_input + first * cnn_shape_size (net->input);

  for (guint i = 0; i < net->n_layers; i++) {
    CnnLayer *l = &net->layers[i];
    gfloat *out = net->outputs[i] + first * cnn_shape_size (l->out);

    l->spec.ops->forward (l, in, out, count, s);
    in = out;
  }
}

/* Each thread takes a contiguous share of the batch. */
static void
forward_job (guint index, guint n, gpointer data)
{
  CnnNetwork *net = data;
  guint share = (net->pass_batch + n - 1) / n;
  guint first = index * share;

  if (first >= net->pass_batch)
    return;
  forward_range (net, first, MIN (share, net->pass_batch - first),
      &net->scratch[index]);
}

const gfloat *
cnn_network_forward (CnnNetwork * net, const gfloat * input, guint batch)
{
  g_return_val_if_fail (batch > 0 && batch <= net->max_batch, NULL);

  net->pass_input = input;
  net->pass_batch = batch;
  cnn_workers_run (net->workers, forward_job, net);
  return net->outputs[net->n_layers - 1];
}

void
cnn_network_set_threads (CnnNetwork * net, guint n_threads)
{
  n_threads = CLAMP (n_threads, 1, 64);
  if (n_threads == cnn_workers_n_threads (net->workers))
    return;
  cnn_workers_free (net->workers);
  net->workers = cnn_workers_new (n_threads);
  /* Each thread needs its own scratch: re-reserve for the new count. */
  if (!cnn_network_reserve (net, net->max_batch, NULL)) {
    cnn_workers_free (net->workers);
    net->workers = cnn_workers_new (1);
    cnn_network_reserve (net, net->max_batch, NULL);
  }
}

guint
cnn_network_get_threads (const CnnNetwork * net)
{
  return cnn_workers_n_threads (net->workers);
}
