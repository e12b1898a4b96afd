/* conv2d: k×k filters over all input channels, a bias per filter.
 * Computed as im2col + one sgemm per sample; for inference with fast
 * kernels (AVX-512, AVX2), 3×3 stride-1 convolutions go by Winograd (or
 * with CNN_KERNELS=avx512-int8 in int8), fused with the ReLU and the 2×2
 * max pool that follow them. */
#include "cnn-private.h"

#include <string.h>

/* The Winograd path's state: the transformed weights and the weights
 * they were made from, so that a change to the weights (training, a test
 * writing them) is noticed and they are made again; while the weights
 * are frozen (a loaded model's), nothing can change them and that check
 * of 73 kB a pass (the reference network's conv2) is skipped. */
typedef struct
{
  const CnnKernelOps *ops;
  CnnWinograd wg;
  /* The int8 kernels' weights in packed, not Winograd's (see
   * conv_fast_is_int8) */
  gboolean int8;
  gfloat *packed;
  gfloat *packed_from;          /* n_weight, valid when packed_ok */
  gboolean packed_ok;
  gboolean frozen;
} ConvFast;

/* With int8 kernels, inputs of more channels than the direct kernel
 * takes (the first layer of 1 channel stays in float: 9 products an
 * output, already cheap) and not too deep for int32 sums. */
static gboolean
conv_fast_is_int8 (const CnnLayer * l, const CnnKernelOps * ops)
{
  return ops->int8 && l->in.c > ops->direct_max_channels
      && (gsize) l->in.c * 9 <= CNN_INT8_MAX_DEPTH;
}

static gsize
conv_fast_packed_floats (const ConvFast * fast)
{
  return fast->int8 ? fast->ops->int8->conv_packed_floats (&fast->wg)
      : fast->ops->winograd_packed_floats (&fast->wg);
}

static gsize
conv_fast_scratch_floats (const ConvFast * fast)
{
  return fast->int8 ? fast->ops->int8->conv_scratch_floats (&fast->wg)
      : fast->ops->winograd_scratch_floats (&fast->wg);
}

/* Only the small state: its buffers, sized by the input, wait for
 * conv2d_alloc_kernels(), after the network's memory check. */
static ConvFast *
conv_fast_new (CnnLayer * l)
{
  ConvFast *fast = g_new0 (ConvFast, 1);

  fast->ops = cnn_kernels_ops (l->kernels);
  fast->wg = (CnnWinograd) {
    l->in.c, l->in.h, l->in.w, l->spec.pad, l->spec.units, l->out.h,
    l->out.w, FALSE, FALSE, l->kernels == CNN_KERNELS_AVX512_BF16
  };
  fast->int8 = conv_fast_is_int8 (l, fast->ops);
  l->kernel_bytes = cnn_bytes_mul (cnn_bytes_add (conv_fast_packed_floats
          (fast), l->n_weight), sizeof (gfloat));
  return fast;
}

static gboolean
conv2d_alloc_kernels (CnnLayer * l)
{
  ConvFast *fast = l->fast;

  if (!fast)
    return TRUE;
  fast->packed = g_try_new (gfloat, conv_fast_packed_floats (fast));
  fast->packed_from = g_try_new (gfloat, l->n_weight);
  return fast->packed && fast->packed_from;
}

static gboolean
conv2d_setup (CnnLayer * l, GError ** error)
{
  const CnnLayerSpec *s = &l->spec;
  guint oh = cnn_window_output (l->in.h, s->kernel, s->stride, s->pad);
  guint ow = cnn_window_output (l->in.w, s->kernel, s->stride, s->pad);

  if (oh == 0 || ow == 0) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_ARCH,
        "input %ux%ux%u is smaller than the %ux%u kernel (pad %u)",
        l->in.c, l->in.h, l->in.w, s->kernel, s->kernel, s->pad);
    return FALSE;
  }
  l->out = (CnnShape) { s->units, oh, ow };
  l->weight_n_dims = 4;
  l->weight_dims[0] = s->units;
  l->weight_dims[1] = l->in.c;
  l->weight_dims[2] = s->kernel;
  l->weight_dims[3] = s->kernel;
  l->n_weight = (gsize) s->units * l->in.c * s->kernel * s->kernel;
  l->n_bias = s->units;
  l->scratch_floats = (gsize) l->in.c * s->kernel * s->kernel * oh * ow;
  /* Backward holds a sample's columns and their gradient at once. */
  l->train_scratch_floats = 2 * l->scratch_floats;
  if (l->kernels != CNN_KERNELS_PORTABLE && s->kernel == 3
      && s->stride == 1) {
    ConvFast *fast = conv_fast_new (l);

    l->fast = fast;
    l->scratch_floats = MAX (l->scratch_floats,
        conv_fast_scratch_floats (fast));
  }
  return TRUE;
}

/* Winograd takes on the ReLU after it and a 2×2 stride-2 pool after
 * that: its output tiles are the pool's windows. */
static gint
conv2d_fuse (CnnLayer * l, const CnnLayer * next, guint n_next)
{
  ConvFast *fast = l->fast;
  guint n = 0;

  if (!fast)
    return -1;
  fast->wg.relu = fast->wg.pool = FALSE;
  if (n < n_next && next[n].spec.ops->fuses_as == CNN_FUSES_AS_RELU) {
    fast->wg.relu = TRUE;
    n++;
  }
  if (n < n_next && next[n].spec.ops->fuses_as == CNN_FUSES_AS_MAXPOOL
      && next[n].spec.kernel == 2 && next[n].spec.stride == 2) {
    fast->wg.pool = TRUE;
    n++;
  }
  return (gint) n;
}

/* Few input channels and no pool to fuse: the direct kernel, which reads
 * the weights as the layer holds them, so nothing is packed. */
static gboolean
conv_fast_is_direct (const ConvFast * fast)
{
  return !fast->int8 && fast->wg.channels <= fast->ops->direct_max_channels
      && !fast->wg.pool;
}

static void
conv2d_prepare (CnnLayer * l)
{
  ConvFast *fast = l->fast;
  gsize bytes = l->n_weight * sizeof (gfloat);

  if (!fast || conv_fast_is_direct (fast) || (fast->packed_ok && (fast->frozen
              || memcmp (fast->packed_from, l->weight, bytes) == 0)))
    return;
  if (fast->int8)
    fast->ops->int8->conv_pack (&fast->wg, l->weight, fast->packed);
  else
    fast->ops->winograd_pack (&fast->wg, l->weight, fast->packed);
  memcpy (fast->packed_from, l->weight, bytes);
  fast->packed_ok = TRUE;
}

static void
conv2d_set_frozen (CnnLayer * l, gboolean frozen)
{
  ConvFast *fast = l->fast;

  if (!fast)
    return;
  fast->frozen = FALSE;
  if (frozen)
    conv2d_prepare (l);
  fast->frozen = frozen;
}

/* x (batch × C×H×W) → y (batch × filters × oh×ow, or oh/2×ow/2 pooled) */
static void
conv2d_forward_fused (CnnLayer * l, const gfloat * in, gfloat * out,
    guint batch, CnnScratch * scratch)
{
  const ConvFast *fast = l->fast;
  gsize in_size = cnn_shape_size (l->in);
  gsize out_size = (gsize) l->out.c * (fast->wg.pool
      ? (gsize) (l->out.h / 2) * (l->out.w / 2) : (gsize) l->out.h * l->out.w);
  gboolean direct = conv_fast_is_direct (fast);

  for (guint b = 0; b < batch; b++)
    if (direct)
      fast->ops->conv3x3_direct (&fast->wg, l->weight, l->bias,
          in + b * in_size, out + b * out_size, scratch->floats);
    else if (fast->int8)
      fast->ops->int8->conv_forward (&fast->wg, fast->packed, l->bias,
          in + b * in_size, out + b * out_size, scratch->floats);
    else
      fast->ops->winograd_forward (&fast->wg, fast->packed, l->bias,
          in + b * in_size, out + b * out_size, scratch->floats);
}

static void
conv2d_clear (CnnLayer * l)
{
  ConvFast *fast = l->fast;

  if (!fast)
    return;
  g_free (fast->packed);
  g_free (fast->packed_from);
  g_free (fast);
  l->fast = NULL;
}

/* y (n) = v, four values a step so that -O2 makes vector stores of it */
static inline void
fill_row (gfloat * y, gfloat v, guint n)
{
  guint i = 0;

  for (; i + 4 <= n; i += 4) {
    y[i] = v;
    y[i + 1] = v;
    y[i + 2] = v;
    y[i + 3] = v;
  }
  for (; i < n; i++)
    y[i] = v;
}

/* W (filters × C·k·k) · im2col(x) (C·k·k × oh·ow) + b → y (filters × oh·ow) */
static void
conv2d_forward (CnnLayer * l, const gfloat * in, gfloat * out, guint batch,
    CnnScratch * scratch)
{
  const CnnLayerSpec *s = &l->spec;
  gsize in_size = cnn_shape_size (l->in), out_size = cnn_shape_size (l->out);
  guint n_cols = l->out.h * l->out.w;
  guint depth = l->in.c * s->kernel * s->kernel;

  for (guint b = 0; b < batch; b++) {
    gfloat *y = out + b * out_size;

    cnn_im2col (in + b * in_size, l->in.c, l->in.h, l->in.w, s->kernel,
        s->stride, s->pad, scratch->floats);
    for (guint f = 0; f < s->units; f++)
      fill_row (y + (gsize) f * n_cols, l->bias[f], n_cols);
    cnn_sgemm_team (scratch->team, FALSE, FALSE, s->units, n_cols, depth,
        1.0f, l->weight, depth, scratch->floats, n_cols, 1.0f, y, n_cols);
  }
}

/* Σ x (n), in 8 running sums: a float sum in one is a chain of
 * dependent adds, and 8 independent ones vectorize. */
static gfloat
row_sum (const gfloat * x, guint n)
{
  gfloat part[8] = { 0 }, sum = 0.0f;
  guint i = 0;

  for (; i + 8 <= n; i += 8)
    for (guint j = 0; j < 8; j++)
      part[j] += x[i + j];
  for (guint j = 0; j < 8; j++)
    sum += part[j];
  for (; i < n; i++)
    sum += x[i];
  return sum;
}

/* Per sample, with cols = im2col (x):
 *   dW (filters × C·k·k) += dy (filters × oh·ow) · colsᵀ (oh·ow × C·k·k)
 *   db (filters)         += Σ over oh·ow of dy
 *   dcols (C·k·k × oh·ow) = Wᵀ (C·k·k × filters) · dy, then col2im → dx
 * The columns are recomputed rather than kept from forward: one sample's
 * columns stay in cache, a batch's would not. */
static void
conv2d_backward (CnnLayer * l, const gfloat * in, const gfloat * out,
    const gfloat * dout, gfloat * din, guint batch, CnnTrainPass * pass)
{
  const CnnLayerSpec *s = &l->spec;
  gsize in_size = cnn_shape_size (l->in), out_size = cnn_shape_size (l->out);
  guint n_cols = l->out.h * l->out.w;
  guint depth = l->in.c * s->kernel * s->kernel;
  gfloat *cols = pass->scratch->floats;
  gfloat *dcols = cols + (gsize) depth * n_cols;

  for (guint b = 0; b < batch; b++) {
    const gfloat *dy = dout + b * out_size;

    cnn_im2col (in + b * in_size, l->in.c, l->in.h, l->in.w, s->kernel,
        s->stride, s->pad, cols);
    cnn_sgemm (FALSE, TRUE, s->units, depth, n_cols, 1.0f, dy, n_cols, cols,
        n_cols, 1.0f, pass->dweight, depth);
    for (guint f = 0; f < s->units; f++)
      pass->dbias[f] += row_sum (dy + (gsize) f * n_cols, n_cols);
    if (!din)
      continue;
    cnn_sgemm (TRUE, FALSE, depth, n_cols, s->units, 1.0f, l->weight, depth,
        dy, n_cols, 0.0f, dcols, n_cols);
    cnn_col2im (dcols, l->in.c, l->in.h, l->in.w, s->kernel, s->stride,
        s->pad, din + b * in_size);
  }
}

static gchar *
conv2d_describe (const CnnLayer * l)
{
  return g_strdup_printf ("%u %ux%u stride %u pad %u", l->spec.units,
      l->spec.kernel, l->spec.kernel, l->spec.stride, l->spec.pad);
}

static gchar *
conv2d_to_text (const CnnLayer * l)
{
  GString *text = g_string_new (NULL);

  g_string_printf (text, "conv %u %u", l->spec.units, l->spec.kernel);
  if (l->spec.stride != 1)
    g_string_append_printf (text, " stride=%u", l->spec.stride);
  if (l->spec.pad != 0)
    g_string_append_printf (text, " pad=%u", l->spec.pad);
  return g_string_free (text, FALSE);
}

static const CnnLayerArg conv2d_args[] = {
  {NULL, CNN_FIELD_UNITS, 1, CNN_MAX_UNITS},
  {NULL, CNN_FIELD_KERNEL, 1, CNN_MAX_KERNEL},
};

static const CnnLayerArg conv2d_options[] = {
  {"stride", CNN_FIELD_STRIDE, 1, CNN_MAX_STRIDE},
  {"pad", CNN_FIELD_PAD, 0, CNN_MAX_PAD},
};

const CnnLayerOps cnn_conv2d_ops = {
  .name = "conv2d",
  .keyword = "conv",
  .usage = "conv FILTERS KERNEL [stride=S] [pad=P]",
  .args = conv2d_args,
  .n_args = G_N_ELEMENTS (conv2d_args),
  .options = conv2d_options,
  .n_options = G_N_ELEMENTS (conv2d_options),
  .setup = conv2d_setup,
  .forward = conv2d_forward,
  .backward = conv2d_backward,
  .describe = conv2d_describe,
  .to_text = conv2d_to_text,
  .inference = {
        .fuse = conv2d_fuse,
        .forward_fused = conv2d_forward_fused,
        .prepare = conv2d_prepare,
        .set_frozen = conv2d_set_frozen,
        .alloc_kernels = conv2d_alloc_kernels,
        .clear = conv2d_clear,
      },
};
