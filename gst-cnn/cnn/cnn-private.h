/* libcnn internals: the layer interface shared by cnn-<kind>.c files
 * and the network that sequences them.  Not installed. */
#ifndef CNN_PRIVATE_H
#define CNN_PRIVATE_H

#include "cnn.h"
#include "cnn-kernels.h"

G_BEGIN_DECLS

/* What the architecture text says of one layer, before shapes are known. */
typedef struct
{
  const struct _CnnLayerOps *ops;
  guint units;                  /* conv: filters; dense: neurons */
  guint kernel;                 /* conv, maxpool: k (k×k window) */
  guint stride;                 /* conv, maxpool */
  guint pad;                    /* conv: zero padding on each side */
  gfloat rate;                  /* dropout: probability of dropping */
} CnnLayerSpec;

typedef struct _CnnLayer CnnLayer;

/* Per-call scratch handed to kernels: sized by the network from each
 * layer's scratch_floats, shared by all layers of one pass. */
typedef struct
{
  gfloat *floats;
  gsize n_floats;
  /* Set when one sample's products are to be split across the network's
   * threads (batch smaller than the thread count); NULL otherwise. */
  struct _CnnWorkers *team;
} CnnScratch;

/* What a training pass hands a layer besides its tensors: where its
 * samples sit in the batch, its recorded state and its gradients. */
typedef struct
{
  guint64 seed;                 /* this step's seed mixed with the layer index */
  guint first;                  /* batch index of the pass's first sample */
  gpointer state;               /* train_state_bytes per sample: masks, switches */
  gfloat *dweight, *dbias;      /* gradients, added to (not overwritten) */
  CnnScratch *scratch;          /* train_scratch_floats per pass */
} CnnTrainPass;

/* Limits of the architecture text's numbers, which keep every size
 * computation far from overflow. */
#define CNN_MAX_UNITS 65536
#define CNN_MAX_KERNEL 64
#define CNN_MAX_STRIDE 64
#define CNN_MAX_PAD 64

/* The field of CnnLayerSpec a number of the architecture text sets. */
typedef enum
{
  CNN_FIELD_UNITS,
  CNN_FIELD_KERNEL,
  CNN_FIELD_STRIDE,
  CNN_FIELD_PAD,
  CNN_FIELD_RATE,               /* a decimal in [0, 1) */
} CnnLayerField;

/* One number a kind's text takes: positional (key NULL) or key=value,
 * the field it sets and, for whole numbers, its range. */
typedef struct
{
  const gchar *key;
  CnnLayerField field;
  guint min, max;
} CnnLayerArg;

/* What a kind is to the layers around it, for the fusions that know it
 * (conv2d takes on a ReLU and a 2×2 pool after it). */
typedef enum
{
  CNN_FUSES_AS_NOTHING,
  CNN_FUSES_AS_RELU,
  CNN_FUSES_AS_MAXPOOL,
} CnnFusesAs;

/* A kind's inference-only members (cnn_network_forward); training never
 * uses these. */
typedef struct
{
  /* Its forward passes the input through unchanged (the network may
   * skip it and hand its input to the next layer). */
  gboolean passes_through;
  /* Whether this layer has a fast forward_fused, and how many of the
   * @n_next layers after it (@next) that forward also does: -1 none
   * (run forward), 0 only itself, n: it and the next n. */
  gint (*fuse) (CnnLayer * layer, const CnnLayer * next, guint n_next);
  /* in (batch × in) → out (batch × output of the last layer fused) */
  void (*forward_fused) (CnnLayer * layer, const gfloat * in, gfloat * out,
      guint batch, CnnScratch * scratch);
  /* Brings kernel-ready copies of the parameters up to date, once per
   * pass, before any thread runs forward_fused. */
  void (*prepare) (CnnLayer * layer);
  /* Allocates the kernel buffers setup counted in kernel_bytes, once
   * the network has checked them against its memory limit: setup itself
   * allocates nothing whose size comes from the input.  NULL: none. */
  gboolean (*alloc_kernels) (CnnLayer * layer);
  /* Frees what setup and alloc_kernels allocated in layer->fast. */
  void (*clear) (CnnLayer * layer);
  /* @frozen TRUE: the weights will not be written until this is called
   * with FALSE, so the kind may run from a copy of them in the form its
   * kernels read fastest (made here; none at all is fine); FALSE: drop
   * that copy, the weights are about to change. */
  void (*set_frozen) (CnnLayer * layer, gboolean frozen);
} CnnLayerInference;

/* One layer kind: each cnn-<kind>.c defines one of these, and
 * cnn-arch.c lists it; nothing else knows the kind by name. */
typedef struct _CnnLayerOps
{
  const gchar *name;            /* "conv2d", "relu", ... */
  const gchar *keyword;         /* in architecture text: "conv", "relu", ... */
  const gchar *alias;           /* another keyword ("conv2d"), or NULL */
  /* The text's grammar: the usage errors quote, the positional numbers
   * in order, then the key=value options, and whether the stride
   * defaults to the kernel (else 1). */
  const gchar *usage;
  const CnnLayerArg *args;
  guint n_args;
  const CnnLayerArg *options;
  guint n_options;
  gboolean stride_is_kernel;
  /* Its output is class probabilities: the network's top layer must be
   * such a kind to be trained (its cross-entropy is the loss). */
  gboolean gives_probabilities;
  /* Its forward is one product over the whole batch: below the first
   * such layer the network works sample by sample, from it on batch by
   * batch. */
  gboolean splits_batch;
  CnnFusesAs fuses_as;
  /* Checks the input shape, computes the output shape, parameter and
   * scratch sizes.  On failure the message names what is wrong; the
   * caller adds the layer index. */
  gboolean (*setup) (CnnLayer * layer, GError ** error);
  /* in (batch × in) → out (batch × out) */
  void (*forward) (CnnLayer * layer, const gfloat * in, gfloat * out,
      guint batch, CnnScratch * scratch);
  /* Training forward: like forward, but dropout is active and what
   * backward needs is recorded in pass->state.  NULL: forward does. */
  void (*forward_train) (CnnLayer * layer, const gfloat * in, gfloat * out,
      guint batch, CnnTrainPass * pass);
  /* Given the pass's in, out and dL/dout (batch × out): adds dL/dweight
   * and dL/dbias into pass->dweight/dbias and writes dL/din (batch × in),
   * unless @din is NULL (nothing below needs it). */
  void (*backward) (CnnLayer * layer, const gfloat * in, const gfloat * out,
      const gfloat * dout, gfloat * din, guint batch, CnnTrainPass * pass);
  /* Training may run this kind's forward with out == in, overwriting its
   * input (element-wise kinds whose backward does not read @in), unless
   * the layer below needs its output kept: backward_reads_output. */
  gboolean in_place;
  gboolean backward_reads_output;
  /* Description after the kind name, e.g. "32 3x3 stride 1 pad 0". */
  gchar *(*describe) (const CnnLayer * layer);
  /* Canonical architecture text of the layer, e.g. "conv 32 3". */
  gchar *(*to_text) (const CnnLayer * layer);

  CnnLayerInference inference;
} CnnLayerOps;

struct _CnnLayer
{
  CnnLayerSpec spec;
  CnnShape in, out;
  /* Learnable tensors, views into the network's parameter array. */
  gfloat *weight, *bias;
  gsize n_weight, n_bias;
  guint weight_dims[4];
  guint weight_n_dims;
  /* Floats of scratch one forward pass of one sample needs. */
  gsize scratch_floats;
  /* Training: bytes of state per sample that forward_train records for
   * backward, and floats of scratch a training pass needs (0: the
   * forward's scratch_floats). */
  gsize train_state_bytes;
  gsize train_scratch_floats;
  /* Inference: the kernels setup may choose from (set before setup;
   * zero, portable, for a layer set up on its own), and the kind's own
   * state for them (packed weights...), NULL when it has none. */
  CnnKernels kernels;
  gpointer fast;
  /* Bytes of kernel-ready copies of the weights the kind keeps (packed,
   * fp16), set by setup and counted in the network's memory. */
  guint64 kernel_bytes;
};

#define CNN_LAYER_KIND(kind) extern const CnnLayerOps cnn_##kind##_ops;
#include "cnn-layer-kinds.h"
#undef CNN_LAYER_KIND

/* Freezes @net's weights (cnn_model_load does, once they are read):
 * layers may then keep copies of them in their kernels' forms.  Handing
 * the weights out for writing, by cnn_network_params(),
 * cnn_network_layer_tensor() or cnn_network_init_params(), thaws them. */
void cnn_network_freeze (CnnNetwork * net);
/* Makes a frozen @net read-only for good, for holders that run it in
 * workspaces of their own (cnn_model_load_shared()): its own workspace
 * is freed, and what would write to it (the weights, reserve, threads,
 * training) is refused with a critical. */
void cnn_network_share (CnnNetwork * net);

/* cnn-layer.c: ops shared by parameter-free layer kinds. */
gboolean cnn_layer_setup_same_shape (CnnLayer * layer, GError ** error);
gchar *cnn_layer_describe_nothing (const CnnLayer * layer);
gchar *cnn_layer_text_keyword (const CnnLayer * layer);
/* cnn-layer.c: the pooling kinds' (maxpool, avgpool) grammar, "KIND K
 * [stride=S]" with S defaulting to K, and their ops: a k×k window every
 * S, windows that do not fit whole dropped (Keras "valid"). */
extern const CnnLayerArg cnn_pool_args[1];
extern const CnnLayerArg cnn_pool_options[1];
gboolean cnn_layer_setup_pool (CnnLayer * layer, GError ** error);
gchar *cnn_layer_describe_pool (const CnnLayer * layer);
gchar *cnn_layer_pool_text (const CnnLayer * layer);
/* One window's value: of @plane (@width wide), the k×k window at
 * (@x0, @y0). */
typedef gfloat (*CnnPoolWindow) (const gfloat * plane, guint width,
    guint y0, guint x0, guint k);
/* in (batch × C×H×W) → out (batch × C×oh×ow), @window of each window.
 * Inline, so that each kind's constant @window is inlined into its own
 * copy of the loop rather than called once a window. */
static inline void
cnn_layer_pool_planes (const CnnLayer * l, const gfloat * in, gfloat * out,
    guint batch, CnnPoolWindow window)
{
  const CnnLayerSpec *s = &l->spec;
  const guint planes = batch * l->in.c;

  for (guint p = 0; p < planes; p++) {
    const gfloat *src = in + (gsize) p * l->in.h * l->in.w;
    gfloat *dst = out + (gsize) p * l->out.h * l->out.w;

    for (guint oy = 0; oy < l->out.h; oy++)
      for (guint ox = 0; ox < l->out.w; ox++)
        dst[(gsize) oy * l->out.w + ox] = window (src, l->in.w,
            oy * s->stride, ox * s->stride, s->kernel);
  }
}

/* cnn-arch.c: architecture text → layer specs. */
CnnLayerSpec *cnn_arch_parse (const gchar * text, guint * n_layers,
    GError ** error);

/* cnn-gemm.c: row-major C (m×n) = alpha · op(A) · op(B) + beta · C. */
void cnn_sgemm (gboolean trans_a, gboolean trans_b, guint m, guint n, guint k,
    gfloat alpha, const gfloat * a, guint lda, const gfloat * b, guint ldb,
    gfloat beta, gfloat * c, guint ldc);
/* cnn_sgemm with C's columns shared out among @team's threads (NULL or a
 * team of one: cnn_sgemm itself).  For one sample's convolution or dense
 * layer, where the batch cannot be split. */
void cnn_sgemm_team (struct _CnnWorkers *team, gboolean trans_a,
    gboolean trans_b, guint m, guint n, guint k, gfloat alpha,
    const gfloat * a, guint lda, const gfloat * b, guint ldb, gfloat beta,
    gfloat * c, guint ldc);
/* A (m×n) · x (n) + beta · y → y (m), row-major A: cblas_sgemv. */
void cnn_sgemv (guint m, guint n, const gfloat * a, guint lda,
    const gfloat * x, gfloat beta, gfloat * y);
/* The same by plain loops: the reference the fast path is tested against. */
void cnn_sgemm_reference (gboolean trans_a, gboolean trans_b, guint m,
    guint n, guint k, gfloat alpha, const gfloat * a, guint lda,
    const gfloat * b, guint ldb, gfloat beta, gfloat * c, guint ldc);

/* cnn-im2col.c: one C×H×W image → (C·k·k) × (oh·ow) column matrix. */
void cnn_im2col (const gfloat * image, guint channels, guint height,
    guint width, guint kernel, guint stride, guint pad, gfloat * columns);

/* The adjoint of cnn_im2col: adds each column entry back into the image
 * pixel it was copied from.  @image is overwritten, not accumulated. */
void cnn_col2im (const gfloat * columns, guint channels, guint height,
    guint width, guint kernel, guint stride, guint pad, gfloat * image);

/* cnn-softmax.c: the loss of training.  From softmax outputs @probs and
 * the logits @logits before it (batch × n), writes each sample's
 * cross-entropy -log p[label] to @losses, whether its argmax is right to
 * @correct, and dL/dlogits = (p - onehot (label)) · @scale to @dlogits. */
void cnn_softmax_cross_entropy (const gfloat * logits, const gfloat * probs,
    const guint * labels, guint batch, guint n, gfloat scale,
    gfloat * dlogits, gdouble * losses, gboolean * correct);

/* cnn-softmax.c: x (n) → y (n) = exp (x - max) / Σ exp (x - max); @y may
 * be @x. */
void cnn_softmax_row (const gfloat * x, gfloat * y, gsize n);

/* cnn-network.c: the seed a training step with @seed gives layer @layer
 * (so that two dropout layers draw different masks). */
guint64 cnn_train_layer_seed (guint64 seed, guint layer);

/* cnn-dropout.c: whether dropout at @rate keeps value @position of
 * sample @sample, a pure function of its arguments (counter-based), so
 * masks do not depend on how a batch is split between threads. */
gboolean cnn_dropout_keeps (guint64 seed, guint sample, gsize position,
    gfloat rate);

/* Byte counts from input: saturating at G_MAXUINT64, which no memory
 * limit admits, so a sum of products can be checked once at the end. */
static inline guint64
cnn_bytes_add (guint64 a, guint64 b)
{
  return a > G_MAXUINT64 - b ? G_MAXUINT64 : a + b;
}

static inline guint64
cnn_bytes_mul (guint64 a, guint64 b)
{
  guint64 product;

  return g_uint64_checked_mul (&product, a, b) ? product : G_MAXUINT64;
}

/* Output size of a window sliding over @size with @pad on both sides;
 * 0 when the window does not fit. */
static inline guint
cnn_window_output (guint size, guint kernel, guint stride, guint pad)
{
  guint padded = size + 2 * pad;
  return padded < kernel ? 0 : (padded - kernel) / stride + 1;
}

G_END_DECLS

#endif /* CNN_PRIVATE_H */
