/* Helpers shared by the layer kinds that have no parameters. */
#include "cnn-private.h"

gboolean
cnn_layer_setup_same_shape (CnnLayer * l, GError ** error)
{
  l->out = l->in;
  return TRUE;
}

gchar *
cnn_layer_describe_nothing (const CnnLayer * l)
{
  return g_strdup ("");
}

gchar *
cnn_layer_text_keyword (const CnnLayer * l)
{
  return g_strdup (l->spec.ops->keyword);
}
