/* Helpers shared by layer kinds: those without parameters, and the
 * pooling kinds. */
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

const CnnLayerArg cnn_pool_args[1] = {
  {NULL, CNN_FIELD_KERNEL, 1, CNN_MAX_KERNEL},
};

const CnnLayerArg cnn_pool_options[1] = {
  {"stride", CNN_FIELD_STRIDE, 1, CNN_MAX_STRIDE},
};

gboolean
cnn_layer_setup_pool (CnnLayer * l, GError ** error)
{
  const CnnLayerSpec *s = &l->spec;
  guint oh = cnn_window_output (l->in.h, s->kernel, s->stride, 0);
  guint ow = cnn_window_output (l->in.w, s->kernel, s->stride, 0);

  if (oh == 0 || ow == 0) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_ARCH,
        "input %ux%ux%u is smaller than the %ux%u pooling window",
        l->in.c, l->in.h, l->in.w, s->kernel, s->kernel);
    return FALSE;
  }
  l->out = (CnnShape) { l->in.c, oh, ow };
  return TRUE;
}

gchar *
cnn_layer_describe_pool (const CnnLayer * l)
{
  return g_strdup_printf ("%ux%u stride %u", l->spec.kernel, l->spec.kernel,
      l->spec.stride);
}

gchar *
cnn_layer_pool_text (const CnnLayer * l)
{
  if (l->spec.stride == l->spec.kernel)
    return g_strdup_printf ("%s %u", l->spec.ops->keyword, l->spec.kernel);
  return g_strdup_printf ("%s %u stride=%u", l->spec.ops->keyword,
      l->spec.kernel, l->spec.stride);
}
