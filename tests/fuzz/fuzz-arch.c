/* libFuzzer target: architecture text → cnn_network_new().
 *
 * Input: byte 0 picks one of a few small input shapes, the rest is the
 * text.  A network that builds must describe itself canonically (its
 * canonical text builds the same network again), and when it is small
 * enough (fuzz-common.h) one sample of zeros goes through it. */
#include "fuzz-common.h"

#include <string.h>

static const CnnShape shapes[] = {
  {1, 28, 28}, {1, 8, 8}, {3, 16, 16}, {2, 5, 7}, {10, 1, 1},
};

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_glib ();
  return 0;
}

/* The canonical text of @net builds a network of the same layers and
 * shapes with the same canonical text. */
static void
check_canonical (const CnnNetwork * net, CnnShape input)
{
  const gchar *text = cnn_network_architecture (net);
  CnnNetwork *again = cnn_network_new (text, input, NULL);
  guint n;

  if (!again || strcmp (cnn_network_architecture (again), text) != 0)
    abort ();
  n = cnn_network_n_layers (net);
  if (cnn_network_n_layers (again) != n
      || cnn_network_param_count (again) != cnn_network_param_count (net))
    abort ();
  for (guint i = 0; i < n; i++) {
    CnnShape a = cnn_network_layer_output_shape (net, i);
    CnnShape b = cnn_network_layer_output_shape (again, i);

    if (a.c != b.c || a.h != b.h || a.w != b.w
        || strcmp (cnn_network_layer_kind (net, i),
            cnn_network_layer_kind (again, i)) != 0)
      abort ();
  }
  cnn_network_free (again);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  g_autofree gchar *text = NULL;
  CnnNetwork *net;
  GError *error = NULL;
  CnnShape input;

  if (size < 1 || size > 4096)
    return 0;
  input = shapes[data[0] % G_N_ELEMENTS (shapes)];
  text = g_strndup ((const gchar *) data + 1, size - 1);

  net = cnn_network_new (text, input, &error);
  if (!net) {
    /* every refusal explains itself: a wrong text or shape (ARCH), or
     * more memory than the limit (NOMEM) */
    if (!error || error->domain != CNN_ERROR
        || (error->code != CNN_ERROR_ARCH && error->code != CNN_ERROR_NOMEM)
        || error->message[0] == '\0')
      abort ();
    g_clear_error (&error);
    return 0;
  }
  check_canonical (net, input);
  for (guint i = 0; i < cnn_network_n_layers (net); i++)
    g_free (cnn_network_layer_describe (net, i));
  fuzz_forward_zeros (net, TRUE);
  cnn_network_free (net);
  return 0;
}
