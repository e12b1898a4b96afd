/* dense: every output a weighted sum of the whole (flat) input, plus bias. */
#include "cnn-private.h"

#include <string.h>

/* Below this many weights (256 kB in float) a layer's weights stay in
 * the core's L2 cache from one pass to the next, and halving them gains
 * nothing. */
#define F16_MIN_WEIGHTS 65536
/* Up to this many samples, the fast kernels' matrix-vector products run
 * (reading the weights once for a few samples at a time) rather than a
 * GEMM: OpenBLAS packs the whole weight matrix for a GEMM (4.7 MB for
 * the reference network), which cost more than the products themselves
 * at small batches (a number's digits, cnn_number_reader_run()): the
 * reference network's batch of 4 took 439 µs, against 78 at batch 1. */
#define GEMV_MAX_BATCH 8

/* The fast path's state, l->fast: the weights in fp16 (see
 * CnnKernelOps.f16_pack), or with int8 kernels quantised to s8
 * (CnnInt8Ops.dense_pack), made while they are frozen; NULL: the float
 * weights are used. */
static gboolean
dense_gains_from_f16 (const CnnLayer * l)
{
  return l->kernels != CNN_KERNELS_PORTABLE && l->n_weight >= F16_MIN_WEIGHTS;
}

/* The same size of layer, with int8 kernels and not too deep for int32
 * sums: the small ones (the reference network's last, 1,290 weights)
 * stay in float, where they cost nothing and lose nothing. */
static const CnnInt8Ops *
dense_int8 (const CnnLayer * l)
{
  const CnnKernelOps *ops = cnn_kernels_ops (l->kernels);

  return ops && ops->int8 && dense_gains_from_f16 (l)
      && l->in.c <= CNN_INT8_MAX_DEPTH ? ops->int8 : NULL;
}

static void
dense_set_frozen (CnnLayer * l, gboolean frozen)
{
  const CnnInt8Ops *int8 = dense_int8 (l);

  g_clear_pointer (&l->fast, g_free);
  if (!frozen || !dense_gains_from_f16 (l))
    return;
  if (int8) {
    l->fast = g_try_malloc (int8->dense_packed_bytes (l->out.c, l->in.c));
    if (l->fast)
      int8->dense_pack (l->weight, l->out.c, l->in.c, l->fast);
    return;
  }
  l->fast = g_try_new (guint16, l->n_weight);
  if (l->fast && !cnn_kernels_ops (l->kernels)->f16_pack (l->weight, l->fast,
          l->n_weight))
    g_clear_pointer (&l->fast, g_free);
}

static void
dense_clear (CnnLayer * l)
{
  g_clear_pointer (&l->fast, g_free);
}

static gboolean
dense_setup (CnnLayer * l, GError ** error)
{
  gsize n_in = cnn_shape_size (l->in);
  const CnnInt8Ops *int8;

  if (l->in.h != 1 || l->in.w != 1) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_ARCH,
        "input %ux%ux%u is not flat: put 'flatten' before 'dense'",
        l->in.c, l->in.h, l->in.w);
    return FALSE;
  }
  l->out = (CnnShape) { l->spec.units, 1, 1 };
  l->weight_n_dims = 2;
  l->weight_dims[0] = l->spec.units;
  l->weight_dims[1] = (guint) n_in;
  l->n_weight = (gsize) l->spec.units * n_in;
  l->n_bias = l->spec.units;
  /* The fp16 or int8 copy made while frozen, and int8's quantised
   * inputs. */
  int8 = dense_int8 (l);
  l->scratch_floats = int8 ? int8->dense_scratch_floats (l->in.c) : 0;
  l->kernel_bytes = int8 ? int8->dense_packed_bytes (l->out.c, l->in.c)
      : dense_gains_from_f16 (l) ? cnn_bytes_mul (l->n_weight,
      sizeof (guint16)) : 0;
  return TRUE;
}

/* x (batch × in) · Wᵀ (in × out) + b → y (batch × out); at small
 * batches, W (out × in) · x_s (in) + b → y_s (out) for each sample s */
static void
dense_forward (CnnLayer * l, const gfloat * in, gfloat * out, guint batch,
    CnnScratch * scratch)
{
  const CnnKernelOps *ops = cnn_kernels_ops (l->kernels);
  const CnnInt8Ops *int8 = l->fast ? dense_int8 (l) : NULL;
  guint n_in = l->in.c, n_out = l->out.c;

  /* int8 at every batch: its weights, a quarter of float's, are read
   * once per 16 samples, and its products are 4 times fewer
   * instructions than a GEMM's.  (l->fast holds int8 weights exactly
   * when the layer takes int8 kernels: dense_set_frozen().) */
  if (int8) {
    int8->dense_forward (l->fast, in, l->bias, n_out, n_in, batch, out,
        scratch->floats);
    return;
  }
  /* A few samples are matrix-vector products: a GEMM of a few rows would
   * pack the whole weight matrix first, for nothing.  They stay on this
   * thread even when a team is there: reading the weights sets their
   * pace, and waking a second thread costs more than it saves. */
  if (ops && batch <= GEMV_MAX_BATCH) {
    if (l->fast)
      ops->gemv_f16 (l->fast, in, l->bias, n_out, n_in, batch, out);
    else
      ops->gemv (l->weight, in, l->bias, n_out, n_in, batch, out);
    return;
  }
  if (batch == 1) {
    memcpy (out, l->bias, n_out * sizeof (gfloat));
    cnn_sgemv (n_out, n_in, l->weight, n_in, in, 1.0f, out);
    return;
  }
  for (guint b = 0; b < batch; b++)
    for (guint j = 0; j < n_out; j++)
      out[(gsize) b * n_out + j] = l->bias[j];
  cnn_sgemm_team (scratch->team, FALSE, TRUE, batch, n_out, n_in, 1.0f, in,
      n_in, l->weight, n_in, 1.0f, out, n_out);
}

/* Over the whole pass at once:
 *   dW (out × in) += dyᵀ (out × batch) · x (batch × in)
 *   db (out)      += Σ over batch of dy
 *   dx (batch × in) = dy (batch × out) · W (out × in) */
static void
dense_backward (CnnLayer * l, const gfloat * in, const gfloat * out,
    const gfloat * dout, gfloat * din, guint batch, CnnTrainPass * pass)
{
  guint n_in = l->in.c, n_out = l->out.c;

  cnn_sgemm (TRUE, FALSE, n_out, n_in, batch, 1.0f, dout, n_out, in, n_in,
      1.0f, pass->dweight, n_in);
  for (guint b = 0; b < batch; b++)
    for (guint j = 0; j < n_out; j++)
      pass->dbias[j] += dout[(gsize) b * n_out + j];
  if (din)
    cnn_sgemm (FALSE, FALSE, batch, n_in, n_out, 1.0f, dout, n_out,
        l->weight, n_in, 0.0f, din, n_in);
}

static gchar *
dense_describe (const CnnLayer * l)
{
  return g_strdup_printf ("%u", l->spec.units);
}

static gchar *
dense_to_text (const CnnLayer * l)
{
  return g_strdup_printf ("dense %u", l->spec.units);
}

static const CnnLayerArg dense_args[] = {
  {NULL, CNN_FIELD_UNITS, 1, CNN_MAX_UNITS},
};

const CnnLayerOps cnn_dense_ops = {
  .name = "dense",
  .keyword = "dense",
  .usage = "dense UNITS",
  .args = dense_args,
  .n_args = G_N_ELEMENTS (dense_args),
  .splits_batch = TRUE,
  .setup = dense_setup,
  .forward = dense_forward,
  .backward = dense_backward,
  .describe = dense_describe,
  .to_text = dense_to_text,
  .inference = {
        .clear = dense_clear,
        .set_frozen = dense_set_frozen,
      },
};
