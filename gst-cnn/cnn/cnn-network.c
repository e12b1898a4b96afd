/* The network: a sequence of layers, their parameters in one array, and
 * all working memory allocated once by cnn_network_reserve(). */
#include "cnn-private.h"
#include "cnn-workers.h"

#include <math.h>
#include <string.h>

/* A training step is memory-bound unless each layer finds its input in
 * cache.  So a thread carries TRAIN_CHUNK samples at a time through the
 * network: the dense layers take the whole chunk at once (their products
 * are then matrix-matrix, and their weights are read once per chunk),
 * while the layers below the first dense one, which work sample by
 * sample anyway, run TRAIN_SUB samples at a time through all of them, so
 * that a convolution's output is still in cache when the ReLU reads it. */
#define TRAIN_CHUNK 32
#define TRAIN_SUB 1

/* One thread's part of a training step: its own activations, recorded
 * state, activation gradients and parameter gradients, so threads share
 * nothing until the gradients are summed. */
typedef struct
{
  gfloat *grads;                /* n_params; thread 0 uses the network's */
  gfloat **outputs;             /* per layer: chunk × output (shared in place) */
  gpointer *states;             /* per layer: chunk × train_state_bytes */
  gfloat *dact[2];              /* dL/d(activation), in turn: chunk × largest */
  gfloat *dsub[2];              /* the same for TRAIN_SUB samples */
  CnnScratch scratch;
  gpointer block;               /* the allocation all of the above live in */
} CnnTrainThread;

typedef struct
{
  guint max_batch;
  guint chunk;
  guint split;                  /* first layer run on whole chunks */
  guint first_param_layer;      /* backward stops here: nothing below learns */
  gfloat *gradients;            /* n_params: the last step's, summed */
  gdouble *losses;              /* max_batch: each sample's loss */
  gboolean *correct;            /* max_batch: argmax == label */
  CnnTrainThread *threads;
  guint n_threads;

  /* The step being run, read by the worker threads. */
  const gfloat *input;
  const guint *labels;
  guint batch;
  guint64 seed;
} CnnTraining;

/* How inference runs one layer. */
typedef enum
{
  STEP_FORWARD,                 /* its forward */
  STEP_FUSED,                   /* its forward_fused, for it and n_fused more */
  STEP_SKIP,                    /* nothing: it passes its input through, or
                                 * a layer below did its work */
} CnnStepKind;

typedef struct
{
  CnnStepKind kind;
  guint n_fused;
} CnnStep;

struct _CnnNetwork
{
  gchar *architecture;
  CnnShape input;
  CnnLayer *layers;
  guint n_layers;
  CnnKernels kernels;
  /* cnn_network_freeze() was called, and no writable pointer to the
   * weights handed out since. */
  gboolean frozen;
  CnnStep *plan;                /* n_layers: how inference runs each */
  guint split;                  /* inference runs [0, split) per sample */

  gfloat *params;
  gsize n_params;

  /* What the network may hold, and what it holds: the parameters and
   * the kernels' copies of them (fixed), the workspace with the batch's
   * input its caller holds, and the training memory. */
  guint64 memory_limit;
  guint64 fixed_bytes, workspace_bytes, training_bytes;

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

  /* NULL until cnn_network_reserve_training(). */
  CnnTraining *training;
};

static void free_training (CnnNetwork * net);
static gboolean reserve_train_threads (CnnNetwork * net, GError ** error);
static void set_frozen (CnnNetwork * net, gboolean frozen);
static guint first_batch_layer (const CnnNetwork * net);
static guint64 workspace_bytes (const CnnNetwork * net, guint max_batch,
    guint n_threads);
static gboolean training_fits (const CnnNetwork * net, guint max_batch,
    GError ** error);

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
static gboolean
fits_in_limit (const CnnNetwork * net, guint64 workspace, guint64 training,
    const gchar * what, GError ** error)
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
 * fits_in_limit() said they fit. */
static gboolean
alloc_network_memory (CnnNetwork * net, GError ** error)
{
  for (guint i = 0; i < net->n_layers; i++) {
    CnnLayer *l = &net->layers[i];

    if (l->spec.ops->inference.alloc_kernels && !l->spec.ops->inference.alloc_kernels (l)) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID, "layer %u (%s): "
          "cannot allocate %" G_GUINT64_FORMAT " bytes of kernel buffers", i,
          l->spec.ops->name, l->kernel_bytes);
      return FALSE;
    }
  }
  net->params = g_try_new0 (gfloat, MAX (net->n_params, 1));
  if (!net->params) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
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

/* Layers that pass their input through are skipped, unless last (the
 * pass's result must land in the last layer's output); a layer with a
 * fast path takes on what it can of the layers after it. */
static void
plan_inference (CnnNetwork * net)
{
  net->plan = g_new0 (CnnStep, net->n_layers);
  for (guint i = 0; i < net->n_layers; i++) {
    CnnLayer *l = &net->layers[i];
    gint n = l->spec.ops->inference.fuse ? l->spec.ops->inference.fuse (l, l + 1,
        net->n_layers - i - 1) : -1;

    if (n >= 0) {
      net->plan[i] = (CnnStep) { STEP_FUSED, (guint) n };
      for (guint j = i + 1; j <= i + (guint) n; j++)
        net->plan[j].kind = STEP_SKIP;
      i += (guint) n;
    } else if (l->spec.ops->inference.passes_through && i + 1 < net->n_layers) {
      net->plan[i].kind = STEP_SKIP;
    }
  }
  net->split = first_batch_layer (net);
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

  cnn_blas_init ();
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
  plan_inference (net);
  if (!fits_in_limit (net, workspace_bytes (net, 1, 1), 0, "the network",
          error) || !alloc_network_memory (net, error)) {
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
  free_training (net);
  for (guint i = 0; net->layers && i < net->n_layers; i++)
    if (net->layers[i].spec.ops->inference.clear)
      net->layers[i].spec.ops->inference.clear (&net->layers[i]);
  g_free (net->plan);
  g_free (net->workspace);
  g_free (net->outputs);
  g_free (net->scratch);
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

gfloat *
cnn_network_params (CnnNetwork * net)
{
  set_frozen (net, FALSE);
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

static gsize
largest_scratch (const CnnNetwork * net)
{
  gsize most = 0;

  for (guint i = 0; i < net->n_layers; i++)
    most = MAX (most, net->layers[i].scratch_floats);
  return most;
}

/* Each layer's output for @max_batch samples, a scratch area per
 * thread, and the batch's input that the caller holds. */
static guint64
workspace_bytes (const CnnNetwork * net, guint max_batch, guint n_threads)
{
  guint64 floats = cnn_bytes_mul (cnn_shape_size (net->input), max_batch);

  for (guint i = 0; i < net->n_layers; i++)
    floats = cnn_bytes_add (floats,
        cnn_bytes_mul (cnn_shape_size (net->layers[i].out), max_batch));
  floats = cnn_bytes_add (floats,
      cnn_bytes_mul (largest_scratch (net), n_threads));
  return cnn_bytes_mul (floats, sizeof (gfloat));
}

gboolean
cnn_network_reserve (CnnNetwork * net, guint max_batch, GError ** error)
{
  guint n_threads = cnn_workers_n_threads (net->workers);
  gsize total = 0, scratch = largest_scratch (net);
  guint64 bytes = workspace_bytes (net, max_batch, n_threads);
  gchar *what;
  gfloat *block, *p;
  gfloat **outputs;
  CnnScratch *scratches;

  g_return_val_if_fail (max_batch > 0, FALSE);

  what = g_strdup_printf ("working memory for a batch of %u on %u "
      "thread(s)", max_batch, n_threads);
  if (!fits_in_limit (net, bytes, net->training_bytes, what, error)) {
    g_free (what);
    return FALSE;
  }
  g_free (what);
  /* The check bounds every sum below. */
  for (guint i = 0; i < net->n_layers; i++)
    total += cnn_shape_size (net->layers[i].out) * max_batch;
  total += scratch * n_threads;

  block = g_try_new (gfloat, MAX (total, 1));
  outputs = g_try_new (gfloat *, net->n_layers);
  scratches = g_try_new (CnnScratch, n_threads);
  if (!block || !outputs || !scratches) {
    g_free (block);
    g_free (outputs);
    g_free (scratches);
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID, "cannot allocate %"
        G_GUINT64_FORMAT " bytes of working memory for a batch of %u",
        bytes, max_batch);
    return FALSE;
  }

  g_free (net->workspace);
  g_free (net->outputs);
  g_free (net->scratch);
  net->workspace = block;
  net->workspace_bytes = bytes;
  net->max_batch = max_batch;
  net->scratch_floats = scratch;
  net->outputs = outputs;
  net->scratch = scratches;
  p = block;
  for (guint i = 0; i < net->n_layers; i++) {
    net->outputs[i] = p;
    p += cnn_shape_size (net->layers[i].out) * max_batch;
  }
  for (guint t = 0; t < n_threads; t++) {
    net->scratch[t].floats = p;
    net->scratch[t].n_floats = scratch;
    net->scratch[t].team = NULL;
    p += scratch;
  }
  return TRUE;
}

guint64
cnn_network_memory (const CnnNetwork * net)
{
  return cnn_bytes_add (cnn_bytes_add (net->fixed_bytes,
          net->workspace_bytes), net->training_bytes);
}

guint64
cnn_network_memory_limit (const CnnNetwork * net)
{
  return net->memory_limit;
}

guint
cnn_network_max_batch (const CnnNetwork * net)
{
  return net->max_batch;
}

/* Runs layers [from, to) over samples [first, first + count), as
 * planned: each step reads what the last step wrote, starting from @in. */
static void
forward_steps (CnnNetwork * net, guint from, guint to, const gfloat * in,
    guint first, guint count, CnnScratch * s)
{
  for (guint i = from; i < to; i++) {
    CnnLayer *l = &net->layers[i];
    const CnnStep *step = &net->plan[i];
    guint last = i + (step->kind == STEP_FUSED ? step->n_fused : 0);
    gfloat *out;

    if (step->kind == STEP_SKIP)
      continue;
    out = net->outputs[last] + first * cnn_shape_size (net->layers[last].out);
    if (step->kind == STEP_FUSED)
      l->spec.ops->inference.forward_fused (l, in, out, count, s);
    else
      l->spec.ops->forward (l, in, out, count, s);
    in = out;
    i = last;
  }
}

/* Where layer @layer finds sample @first's input: the output of the
 * last step run before it (by the plan), or the pass's input. */
static const gfloat *
planned_input (CnnNetwork * net, guint layer, guint first)
{
  for (guint i = layer; i-- > 0;) {
    guint last = i + net->plan[i].n_fused;

    if (net->plan[i].kind != STEP_SKIP && last < layer)
      return net->outputs[last] + first
          * cnn_shape_size (net->layers[last].out);
  }
  return net->pass_input + first * cnn_shape_size (net->input);
}

/* The layers below the first dense one over samples [first, first +
 * count), sample by sample, so that each finds its input in cache. */
static void
forward_samples (CnnNetwork * net, guint first, guint count, CnnScratch * s)
{
  const gfloat *x = net->pass_input;
  gsize in_size = cnn_shape_size (net->input);

  for (guint b = first; b < first + count; b++)
    forward_steps (net, 0, net->split, x + b * in_size, b, 1, s);
}

/* The dense layers and what follows them, over the whole batch at once
 * on this thread, their products shared out among @s's team: each thread
 * then reads its part of the weights once for all the samples. */
static void
forward_batch (CnnNetwork * net, guint batch, CnnScratch * s)
{
  if (net->split < net->n_layers)
    forward_steps (net, net->split, net->n_layers, planned_input (net,
            net->split, 0), 0, batch, s);
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
  forward_samples (net, first, MIN (share, net->pass_batch - first),
      &net->scratch[index]);
}

const gfloat *
cnn_network_forward (CnnNetwork * net, const gfloat * input, guint batch)
{
  CnnScratch shared;

  g_return_val_if_fail (batch > 0 && batch <= net->max_batch, NULL);

  for (guint i = 0; i < net->n_layers; i++)
    if (net->plan[i].kind == STEP_FUSED && net->layers[i].spec.ops->inference.prepare)
      net->layers[i].spec.ops->inference.prepare (&net->layers[i]);
  net->pass_input = input;
  net->pass_batch = batch;
  shared = net->scratch[0];
  shared.team = net->workers;
  if (batch < cnn_workers_n_threads (net->workers)) {
    /* Too few samples to go round: run them on this thread and share
     * out each layer's matrix product instead. */
    forward_samples (net, 0, batch, &shared);
  } else {
    cnn_workers_run (net->workers, forward_job, net);
  }
  forward_batch (net, batch, &shared);
  return net->outputs[net->n_layers - 1];
}

gssize
cnn_find_nonfinite (const gfloat * values, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (!isfinite (values[i]))
      return (gssize) i;
  return -1;
}

void
cnn_network_probabilities (const CnnNetwork * net, const gfloat * output,
    gfloat * probabilities)
{
  const CnnLayer *top = &net->layers[net->n_layers - 1];
  gsize n = cnn_shape_size (top->out);

  if (top->spec.ops->gives_probabilities) {
    if (probabilities != output)
      memcpy (probabilities, output, n * sizeof (gfloat));
  } else {
    cnn_softmax_row (output, probabilities, n);
  }
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
  if (!cnn_network_reserve (net, net->max_batch, NULL)
      || (net->training && !reserve_train_threads (net, NULL))) {
    cnn_workers_free (net->workers);
    net->workers = cnn_workers_new (1);
    cnn_network_reserve (net, net->max_batch, NULL);
    if (net->training)
      reserve_train_threads (net, NULL);
  }
}

guint
cnn_network_get_threads (const CnnNetwork * net)
{
  return cnn_workers_n_threads (net->workers);
}

/* ---- training ------------------------------------------------------ */

#define TRAIN_ALIGN 64

static void
free_train_threads (CnnTraining * tr)
{
  for (guint t = 0; t < tr->n_threads; t++) {
    CnnTrainThread *th = &tr->threads[t];

    g_free (th->outputs);
    g_free (th->states);
    g_free (th->block);
  }
  g_free (tr->threads);
  tr->threads = NULL;
  tr->n_threads = 0;
}

static void
free_training (CnnNetwork * net)
{
  CnnTraining *tr = net->training;

  if (!tr)
    return;
  free_train_threads (tr);
  g_free (tr->gradients);
  g_free (tr->losses);
  g_free (tr->correct);
  g_free (tr);
  net->training = NULL;
}

static gsize
align_up (gsize bytes)
{
  return (bytes + TRAIN_ALIGN - 1) / TRAIN_ALIGN * TRAIN_ALIGN;
}

/* align_up() of a count from input: saturates rather than wraps. */
static guint64
aligned_bytes (guint64 count, guint64 size)
{
  guint64 bytes = cnn_bytes_mul (count, size);

  return bytes > G_MAXUINT64 - TRAIN_ALIGN ? G_MAXUINT64 : align_up (bytes);
}

/* Whether training runs layer @i with its output over its input: saves
 * writing (and later reading back) a whole activation, which is what a
 * step waits for most once the products are fast. */
static gboolean
trains_in_place (const CnnNetwork * net, guint i)
{
  return i > 0 && net->layers[i].spec.ops->in_place
      && !net->layers[i - 1].spec.ops->backward_reads_output;
}

/* Bytes one thread needs for a chunk of @chunk samples (plus its own
 * gradient array unless @shared_grads), laid out by alloc_train_thread(). */
static guint64
thread_bytes (const CnnNetwork * net, guint chunk, gboolean shared_grads,
    gsize * largest, gsize * scratch)
{
  guint64 total = TRAIN_ALIGN;  /* room to align the block's start */

  *largest = cnn_shape_size (net->input);
  *scratch = 0;
  for (guint i = 0; i < net->n_layers; i++) {
    const CnnLayer *l = &net->layers[i];

    if (!trains_in_place (net, i))
      total = cnn_bytes_add (total, aligned_bytes (cnn_shape_size (l->out)
              * chunk, sizeof (gfloat)));
    total = cnn_bytes_add (total, aligned_bytes (l->train_state_bytes,
            chunk));
    *largest = MAX (*largest, cnn_shape_size (l->out));
    *scratch = MAX (*scratch, MAX (l->scratch_floats,
            l->train_scratch_floats));
  }
  total = cnn_bytes_add (total, cnn_bytes_mul (2,
          aligned_bytes (*largest * chunk, sizeof (gfloat))));
  total = cnn_bytes_add (total, cnn_bytes_mul (2,
          aligned_bytes (*largest * TRAIN_SUB, sizeof (gfloat))));
  total = cnn_bytes_add (total, aligned_bytes (*scratch, sizeof (gfloat)));
  if (!shared_grads)
    total = cnn_bytes_add (total, aligned_bytes (net->n_params,
            sizeof (gfloat)));
  return total;
}

/* All training memory for batches of @max_batch on @n_threads threads:
 * the summed gradients, each thread's block and the per-sample results. */
static guint64
training_bytes (const CnnNetwork * net, guint max_batch, guint n_threads)
{
  guint chunk = MIN (max_batch, TRAIN_CHUNK);
  gsize largest, scratch;
  guint64 first = thread_bytes (net, chunk, TRUE, &largest, &scratch);
  guint64 other = thread_bytes (net, chunk, FALSE, &largest, &scratch);
  guint64 total = cnn_bytes_mul (net->n_params, sizeof (gfloat));

  total = cnn_bytes_add (total, first);
  total = cnn_bytes_add (total, cnn_bytes_mul (other, n_threads - 1));
  return cnn_bytes_add (total, cnn_bytes_mul (max_batch,
          sizeof (gdouble) + sizeof (gboolean)));
}

static gpointer
carve (guint8 ** p, gsize bytes)
{
  gpointer at = *p;

  *p += align_up (bytes);
  return at;
}

static gboolean
alloc_train_thread (CnnNetwork * net, CnnTrainThread * th, guint chunk,
    gfloat * shared_grads)
{
  gsize largest, scratch;
  guint64 bytes = thread_bytes (net, chunk, shared_grads != NULL, &largest,
      &scratch);
  guint8 *p;

  /* The caller checked the sum of these against the memory limit. */
  th->block = g_try_malloc (bytes);
  th->outputs = g_try_new (gfloat *, net->n_layers);
  th->states = g_try_new (gpointer, net->n_layers);
  if (!th->block || !th->outputs || !th->states)
    return FALSE;
  p = (guint8 *) align_up ((gsize) th->block);
  for (guint i = 0; i < net->n_layers; i++) {
    const CnnLayer *l = &net->layers[i];

    th->outputs[i] = trains_in_place (net, i) ? th->outputs[i - 1]
        : carve (&p, cnn_shape_size (l->out) * chunk * sizeof (gfloat));
    th->states[i] = l->train_state_bytes ? carve (&p,
        l->train_state_bytes * chunk) : NULL;
  }
  th->dact[0] = carve (&p, largest * chunk * sizeof (gfloat));
  th->dact[1] = carve (&p, largest * chunk * sizeof (gfloat));
  th->dsub[0] = carve (&p, largest * TRAIN_SUB * sizeof (gfloat));
  th->dsub[1] = carve (&p, largest * TRAIN_SUB * sizeof (gfloat));
  th->scratch.floats = carve (&p, scratch * sizeof (gfloat));
  th->scratch.n_floats = scratch;
  th->scratch.team = NULL;
  th->grads = shared_grads ? shared_grads
      : carve (&p, net->n_params * sizeof (gfloat));
  return TRUE;
}

/* (Re)allocates each worker thread's training memory for the current
 * thread count; on failure the previous memory is kept. */
static gboolean
reserve_train_threads (CnnNetwork * net, GError ** error)
{
  CnnTraining *tr = net->training;
  guint n = cnn_workers_n_threads (net->workers);
  guint64 bytes = training_bytes (net, tr->max_batch, n);
  CnnTrainThread *threads;

  if (!training_fits (net, tr->max_batch, error))
    return FALSE;
  threads = g_new0 (CnnTrainThread, n);
  for (guint t = 0; t < n; t++) {
    if (!alloc_train_thread (net, &threads[t], tr->chunk,
            t == 0 ? tr->gradients : NULL)) {
      for (guint u = 0; u <= t; u++) {
        g_free (threads[u].outputs);
        g_free (threads[u].states);
        g_free (threads[u].block);
      }
      g_free (threads);
      g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
          "cannot allocate %" G_GUINT64_FORMAT " bytes of training memory "
          "for %u thread(s)", bytes, n);
      return FALSE;
    }
  }
  free_train_threads (tr);
  tr->threads = threads;
  tr->n_threads = n;
  net->training_bytes = bytes;
  return TRUE;
}

static guint
first_learning_layer (const CnnNetwork * net)
{
  for (guint i = 0; i < net->n_layers; i++)
    if (net->layers[i].n_weight + net->layers[i].n_bias > 0)
      return i;
  return net->n_layers;
}

/* The first layer whose forward is one product over the batch (a dense
 * layer; at most the top one): below it every layer works sample by
 * sample. */
static guint
first_batch_layer (const CnnNetwork * net)
{
  for (guint i = 0; i < net->n_layers; i++)
    if (net->layers[i].spec.ops->splits_batch)
      return i;
  return net->n_layers - 1;
}

/* Checked before anything is allocated: the workspace and the training
 * memory for @max_batch together. */
static gboolean
training_fits (const CnnNetwork * net, guint max_batch, GError ** error)
{
  guint n = cnn_workers_n_threads (net->workers);
  gchar *what = g_strdup_printf ("training memory for batches of %u on %u "
      "thread(s)", max_batch, n);
  gboolean fits = fits_in_limit (net, workspace_bytes (net, max_batch, n),
      training_bytes (net, max_batch, n), what, error);

  g_free (what);
  return fits;
}

/* Each sample's loss and whether it was right, for @max_batch samples. */
static gboolean
grow_results (CnnTraining * tr, guint max_batch, GError ** error)
{
  gdouble *losses = g_try_renew (gdouble, tr->losses, max_batch);
  gboolean *correct;

  if (losses)
    tr->losses = losses;
  correct = losses ? g_try_renew (gboolean, tr->correct, max_batch) : NULL;
  if (correct)
    tr->correct = correct;
  if (!losses || !correct) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID, "cannot allocate the "
        "results of a batch of %u", max_batch);
    return FALSE;
  }
  return TRUE;
}

gboolean
cnn_network_reserve_training (CnnNetwork * net, guint max_batch,
    GError ** error)
{
  CnnTraining *tr;
  guint old_chunk, old_max_batch;

  g_return_val_if_fail (net != NULL, FALSE);
  g_return_val_if_fail (max_batch > 0, FALSE);

  if (!net->layers[net->n_layers - 1].spec.ops->gives_probabilities) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_ARCH,
        "layer %u (%s): training needs softmax as the last layer, whose "
        "cross-entropy is the loss", net->n_layers - 1,
        net->layers[net->n_layers - 1].spec.ops->name);
    return FALSE;
  }
  if (!training_fits (net, max_batch, error)
      || !cnn_network_reserve (net, max_batch, error))
    return FALSE;
  if (!net->training) {
    tr = net->training = g_new0 (CnnTraining, 1);
    tr->gradients = g_try_new0 (gfloat, MAX (net->n_params, 1));
    if (!tr->gradients) {
      free_training (net);
      g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
          "cannot allocate gradients for %" G_GSIZE_FORMAT " parameters",
          net->n_params);
      return FALSE;
    }
    tr->first_param_layer = first_learning_layer (net);
    tr->split = first_batch_layer (net);
  }
  tr = net->training;
  old_chunk = tr->chunk;
  old_max_batch = tr->max_batch;
  tr->chunk = MIN (max_batch, TRAIN_CHUNK);
  tr->max_batch = max_batch;
  if ((tr->chunk != old_chunk && !reserve_train_threads (net, error))
      || !grow_results (tr, max_batch, error)) {
    tr->chunk = old_chunk;
    tr->max_batch = old_max_batch;
    if (!tr->threads)
      free_training (net);
    return FALSE;
  }
  net->training_bytes = training_bytes (net, max_batch, tr->n_threads);
  return TRUE;
}

gfloat *
cnn_network_gradients (CnnNetwork * net)
{
  g_return_val_if_fail (net != NULL, NULL);
  return net->training ? net->training->gradients : NULL;
}

guint64
cnn_train_layer_seed (guint64 seed, guint layer)
{
  guint64 state = seed ^ ((guint64) layer
      * G_GUINT64_CONSTANT (0xD6E8FEB86659FD93));

  return splitmix64 (&state);
}

/* Where one layer's state and gradients sit for thread @th, for a pass
 * over the samples from @offset in the chunk that starts at @first. */
static void
prepare_pass (CnnNetwork * net, CnnTrainThread * th, guint layer,
    guint first, guint offset, CnnTrainPass * pass)
{
  CnnLayer *l = &net->layers[layer];

  pass->seed = cnn_train_layer_seed (net->training->seed, layer);
  pass->first = first + offset;
  pass->state = th->states[layer] ? (guint8 *) th->states[layer]
      + (gsize) offset * l->train_state_bytes : NULL;
  pass->dweight = l->weight ? th->grads + (l->weight - net->params) : NULL;
  pass->dbias = l->bias ? th->grads + (l->bias - net->params) : NULL;
  pass->scratch = &th->scratch;
}

/* Training forward of layers [from, to) over @count samples from
 * @offset in the chunk; @x is the chunk's input. */
static void
forward_layers (CnnNetwork * net, CnnTrainThread * th, guint from, guint to,
    const gfloat * x, guint first, guint offset, guint count)
{
  for (guint i = from; i < to; i++) {
    CnnLayer *l = &net->layers[i];
    const gfloat *in = (i ? th->outputs[i - 1] : x)
        + offset * cnn_shape_size (l->in);
    gfloat *out = th->outputs[i] + offset * cnn_shape_size (l->out);
    CnnTrainPass pass;

    prepare_pass (net, th, i, first, offset, &pass);
    if (l->spec.ops->forward_train)
      l->spec.ops->forward_train (l, in, out, count, &pass);
    else
      l->spec.ops->forward (l, in, out, count, &th->scratch);
  }
}

/* Backward of layers @top down to @bottom over @count samples from
 * @offset in the chunk, starting from @dout = dL/d(output of @top) and
 * taking turns in @bufs.  Returns dL/d(input of @bottom), or NULL when
 * nothing below needs it. */
static const gfloat *
backward_layers (CnnNetwork * net, CnnTrainThread * th, guint top,
    guint bottom, const gfloat * x, guint first, guint offset, guint count,
    const gfloat * dout, gfloat * bufs[2])
{
  guint stop = net->training->first_param_layer;

  for (guint i = top + 1; i-- > bottom;) {
    CnnLayer *l = &net->layers[i];
    const gfloat *in = (i ? th->outputs[i - 1] : x)
        + offset * cnn_shape_size (l->in);
    const gfloat *out = th->outputs[i] + offset * cnn_shape_size (l->out);
    gfloat *din = i > stop ? (dout == bufs[0] ? bufs[1] : bufs[0]) : NULL;
    CnnTrainPass pass;

    prepare_pass (net, th, i, first, offset, &pass);
    l->spec.ops->backward (l, in, out, dout, din, count, &pass);
    dout = din;
  }
  return dout;
}

/* Forward, loss and backward of samples [first, first + count), which
 * fit in one chunk; gradients are added to the thread's. */
static void
train_chunk (CnnNetwork * net, CnnTrainThread * th, guint first,
    guint count)
{
  CnnTraining *tr = net->training;
  guint last = net->n_layers - 1, split = tr->split;
  guint bottom = MAX (split, tr->first_param_layer);
  const gfloat *x = tr->input + first * cnn_shape_size (net->input);
  const gfloat *dsplit;
  gsize split_in;

  for (guint at = 0; at < count; at += TRAIN_SUB)
    forward_layers (net, th, 0, split, x, first, at, MIN (TRAIN_SUB,
            count - at));
  forward_layers (net, th, split, net->n_layers, x, first, 0, count);

  /* The last layer is softmax: its gradient and the loss's are fused. */
  cnn_softmax_cross_entropy (last > 0 ? th->outputs[last - 1] : x,
      th->outputs[last], tr->labels + first, count,
      (guint) cnn_shape_size (net->layers[last].out), 1.0f / tr->batch,
      th->dact[0], tr->losses + first, tr->correct + first);

  dsplit = th->dact[0];
  if (last > bottom)
    dsplit = backward_layers (net, th, last - 1, bottom, x, first, 0, count,
        th->dact[0], th->dact);
  if (tr->first_param_layer >= split)
    return;
  split_in = cnn_shape_size (net->layers[split].in);
  for (guint at = 0; at < count; at += TRAIN_SUB)
    backward_layers (net, th, split - 1, tr->first_param_layer, x, first, at,
        MIN (TRAIN_SUB, count - at), dsplit + at * split_in, th->dsub);
}

/* Each thread takes a contiguous share of the batch, chunk by chunk. */
static void
train_job (guint index, guint n, gpointer data)
{
  CnnNetwork *net = data;
  CnnTraining *tr = net->training;
  CnnTrainThread *th = &tr->threads[index];
  guint share = (tr->batch + n - 1) / n;
  guint first = index * share;
  guint end = MIN (first + share, tr->batch);

  memset (th->grads, 0, net->n_params * sizeof (gfloat));
  for (guint at = first; at < end; at += tr->chunk)
    train_chunk (net, th, at, MIN (tr->chunk, end - at));
}

/* gradients = thread 0's + thread 1's + ..., always in that order, each
 * thread summing its own slice of the parameters. */
static void
sum_gradients_job (guint index, guint n, gpointer data)
{
  CnnNetwork *net = data;
  CnnTraining *tr = net->training;
  gsize share = (net->n_params + n - 1) / n;
  gsize lo = MIN ((gsize) index * share, net->n_params);
  gsize hi = MIN (lo + share, net->n_params);
  gfloat *sum = tr->threads[0].grads;

  for (guint t = 1; t < n; t++) {
    const gfloat *g = tr->threads[t].grads;

    for (gsize i = lo; i < hi; i++)
      sum[i] += g[i];
  }
}

gdouble
cnn_network_train_step (CnnNetwork * net, const gfloat * input,
    const guint * labels, guint batch, guint64 seed, guint * n_correct)
{
  CnnTraining *tr;
  const CnnLayer *top;
  guint n_classes, correct = 0;
  gdouble loss = 0.0;

  g_return_val_if_fail (net != NULL && input != NULL && labels != NULL, NAN);
  tr = net->training;
  top = &net->layers[net->n_layers - 1];
  g_return_val_if_fail (tr != NULL && tr->threads != NULL, NAN);
  g_return_val_if_fail (batch > 0 && batch <= tr->max_batch, NAN);
  g_return_val_if_fail (top->spec.ops->gives_probabilities, NAN);
  g_return_val_if_fail (tr->n_threads == cnn_workers_n_threads (net->workers),
      NAN);
  n_classes = (guint) cnn_shape_size (top->out);
  for (guint b = 0; b < batch; b++)
    g_return_val_if_fail (labels[b] < n_classes
        || labels[b] == CNN_LABEL_NONE, NAN);

  tr->input = input;
  tr->labels = labels;
  tr->batch = batch;
  tr->seed = seed;
  cnn_workers_run (net->workers, train_job, net);
  if (tr->n_threads > 1)
    cnn_workers_run (net->workers, sum_gradients_job, net);

  for (guint b = 0; b < batch; b++) {
    loss += tr->losses[b];
    correct += tr->correct[b] ? 1 : 0;
  }
  if (n_correct)
    *n_correct = correct;
  return loss / batch;
}
