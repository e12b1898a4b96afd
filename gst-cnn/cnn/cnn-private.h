/* libcnn internals: the layer interface shared by cnn-<kind>.c files
 * and the network that sequences them.  Not installed. */
#ifndef CNN_PRIVATE_H
#define CNN_PRIVATE_H

#include "cnn.h"

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
} CnnScratch;

/* One layer kind: each cnn-<kind>.c defines one of these. */
typedef struct _CnnLayerOps
{
  const gchar *name;            /* "conv2d", "relu", ... */
  const gchar *keyword;         /* in architecture text: "conv", "relu", ... */
  /* Checks the input shape, computes the output shape, parameter and
   * scratch sizes.  On failure the message names what is wrong; the
   * caller adds the layer index. */
  gboolean (*setup) (CnnLayer * layer, GError ** error);
  /* in (batch × in) → out (batch × out) */
  void (*forward) (CnnLayer * layer, const gfloat * in, gfloat * out,
      guint batch, CnnScratch * scratch);
  /* Description after the kind name, e.g. "32 3x3 stride 1 pad 0". */
  gchar *(*describe) (const CnnLayer * layer);
  /* Canonical architecture text of the layer, e.g. "conv 32 3". */
  gchar *(*to_text) (const CnnLayer * layer);
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
};

extern const CnnLayerOps cnn_conv2d_ops;
extern const CnnLayerOps cnn_relu_ops;
extern const CnnLayerOps cnn_maxpool_ops;
extern const CnnLayerOps cnn_dropout_ops;
extern const CnnLayerOps cnn_flatten_ops;
extern const CnnLayerOps cnn_dense_ops;
extern const CnnLayerOps cnn_softmax_ops;

/* cnn-layer.c: ops shared by parameter-free layer kinds. */
gboolean cnn_layer_setup_same_shape (CnnLayer * layer, GError ** error);
gchar *cnn_layer_describe_nothing (const CnnLayer * layer);
gchar *cnn_layer_text_keyword (const CnnLayer * layer);

/* cnn-arch.c: architecture text → layer specs. */
CnnLayerSpec *cnn_arch_parse (const gchar * text, guint * n_layers,
    GError ** error);

/* cnn-gemm.c: row-major C (m×n) = alpha · op(A) · op(B) + beta · C. */
void cnn_sgemm (gboolean trans_a, gboolean trans_b, guint m, guint n, guint k,
    gfloat alpha, const gfloat * a, guint lda, const gfloat * b, guint ldb,
    gfloat beta, gfloat * c, guint ldc);
/* The same by plain loops: the reference the fast path is tested against. */
void cnn_sgemm_reference (gboolean trans_a, gboolean trans_b, guint m,
    guint n, guint k, gfloat alpha, const gfloat * a, guint lda,
    const gfloat * b, guint ldb, gfloat beta, gfloat * c, guint ldc);
/* BLAS threads are ours to manage: pin OpenBLAS to one thread, once. */
void cnn_blas_init (void);

/* cnn-im2col.c: one C×H×W image → (C·k·k) × (oh·ow) column matrix. */
void cnn_im2col (const gfloat * image, guint channels, guint height,
    guint width, guint kernel, guint stride, guint pad, gfloat * columns);

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
