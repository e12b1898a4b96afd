/* dense: every output a weighted sum of the whole (flat) input, plus bias. */
#include "cnn-private.h"

static gboolean
dense_setup (CnnLayer * l, GError ** error)
{
  gsize n_in = cnn_shape_size (l->in);

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
  l->scratch_floats = 0;
  return TRUE;
}

/* x (batch × in) · Wᵀ (in × out) + b → y (batch × out) */
static void
dense_forward (CnnLayer * l, const gfloat * in, gfloat * out, guint batch,
    CnnScratch * scratch)
{
  guint n_in = l->in.c, n_out = l->out.c;

  for (guint b = 0; b < batch; b++)
    for (guint j = 0; j < n_out; j++)
      out[(gsize) b * n_out + j] = l->bias[j];
  cnn_sgemm (FALSE, TRUE, batch, n_out, n_in, 1.0f, in, n_in, l->weight,
      n_in, 1.0f, out, n_out);
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

const CnnLayerOps cnn_dense_ops = {
  .name = "dense",
  .keyword = "dense",
  .setup = dense_setup,
  .forward = dense_forward,
  .describe = dense_describe,
  .to_text = dense_to_text,
};
