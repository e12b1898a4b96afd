/* dropout: zeroes a random fraction of values while training (inverted
 * dropout: survivors are scaled up), so inference is the identity. */
#include "cnn-private.h"

#include <string.h>

static void
dropout_forward (CnnLayer * l, const gfloat * in, gfloat * out, guint batch,
    CnnScratch * scratch)
{
  if (out != in)
    memcpy (out, in, (gsize) batch * cnn_shape_size (l->in) * sizeof (gfloat));
}

static gchar *
dropout_describe (const CnnLayer * l)
{
  return g_strdup_printf ("%g", l->spec.rate);
}

static gchar *
dropout_to_text (const CnnLayer * l)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  return g_strdup_printf ("dropout %s",
      g_ascii_formatd (buf, sizeof buf, "%g", l->spec.rate));
}

const CnnLayerOps cnn_dropout_ops = {
  .name = "dropout",
  .keyword = "dropout",
  .setup = cnn_layer_setup_same_shape,
  .forward = dropout_forward,
  .describe = dropout_describe,
  .to_text = dropout_to_text,
};
