/* The network's state, shared by its files (internal to libcnn):
 *   cnn-network.c          building: layers, parameters, accessors;
 *   cnn-network-forward.c  the inference plan and forward pass;
 *   cnn-workspace.c        working memory and threads for passes;
 *   cnn-network-memory.c   training memory, per thread;
 *   cnn-network-train.c    the training step. */
#ifndef CNN_NETWORK_PRIVATE_H
#define CNN_NETWORK_PRIVATE_H

#include "cnn-private.h"
#include "cnn-workers.h"

G_BEGIN_DECLS

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
  /* Frozen for good, read by several holders at once (a shared model's,
   * cnn_network_share()): nothing of it may be written, and it has no
   * workspace of its own. */
  gboolean shared;
  CnnStep *plan;                /* n_layers: how inference runs each */
  guint split;                  /* inference runs [0, split) per sample */

  gfloat *params;
  gsize n_params;

  /* What the network may hold, and what it holds: the parameters and
   * the kernels' copies of them (fixed), its own workspace (ws->bytes,
   * with the batch's input its caller holds), and the training memory. */
  guint64 memory_limit;
  guint64 fixed_bytes, training_bytes;

  /* The network's own workspace: cnn_network_forward()'s, and its
   * threads are training's. */
  CnnWorkspace *ws;

  /* NULL until cnn_network_reserve_training(). */
  CnnTraining *training;
};

/* Working memory and threads for passes of one network (cnn.h). */
struct _CnnWorkspace
{
  CnnNetwork *net;              /* made for it; not owned */
  guint max_batch;
  guint n_threads;
  guint64 bytes;                /* counted against the network's limit */
  gfloat *block;
  gfloat **outputs;             /* n_layers: each layer's, max_batch of them */
  CnnScratch *scratch;          /* n_threads of scratch_floats each */
  gsize scratch_floats;
  CnnWorkers *workers;

  /* The pass being run, read by the worker threads. */
  const gfloat *pass_input;
  guint pass_batch;
};

/* SplitMix64: a tiny, well-mixed generator, so initial weights depend on
 * the seed alone and not on the platform's rand(). */
static inline guint64
splitmix64 (guint64 * state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}


/* cnn-network.c: whether @workspace and @training bytes fit beside the
 * fixed memory; the message says what needed them and how the total
 * came about. */
gboolean cnn_network_fits_in_limit (const CnnNetwork * net,
    guint64 workspace, guint64 training, const gchar * what,
    GError ** error);

/* cnn-network-forward.c: how inference runs each layer (net->plan,
 * net->split). */
void cnn_network_plan_inference (CnnNetwork * net);
/* cnn-workspace.c: the bytes of a workspace for a batch of @max_batch
 * on @n_threads. */
guint64 cnn_network_workspace_bytes (const CnnNetwork * net,
    guint max_batch, guint n_threads);

/* cnn-network-memory.c: training memory freed, its threads' parts made
 * for the network's thread count, and the check that it fits; the first
 * layer run on whole batches. */
void cnn_network_free_training (CnnNetwork * net);
gboolean cnn_network_reserve_train_threads (CnnNetwork * net,
    GError ** error);
gboolean cnn_network_training_fits (const CnnNetwork * net, guint max_batch,
    GError ** error);
guint cnn_network_first_batch_layer (const CnnNetwork * net);

G_END_DECLS

#endif /* CNN_NETWORK_PRIVATE_H */
