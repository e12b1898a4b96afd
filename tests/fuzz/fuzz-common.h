/* Shared by the libFuzzer targets: the entry points' prototypes (the
 * project builds with -Wmissing-prototypes), GLib set up so that any
 * critical or warning aborts (it is a bug the fuzzer must report), and
 * the size bounds that keep a fuzzed network's pass small. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include "cnn.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

/* The readers take paths: inputs are written to an in-memory file
 * (memfd, no disk) that @path (/proc/self/fd/N) names.  Returns its
 * descriptor; aborts when there is none. */
static inline int
fuzz_memfile_open (const gchar * name, gchar ** path)
{
  int fd = memfd_create (name, 0);

  if (fd < 0) {
    g_printerr ("memfd_create: %s\n", g_strerror (errno));
    abort ();
  }
  *path = g_strdup_printf ("/proc/self/fd/%d", fd);
  return fd;
}

/* Replaces the contents of the file @fd with @data. */
static inline void
fuzz_memfile_write (int fd, const uint8_t * data, size_t size)
{
  size_t done = 0;

  if (ftruncate (fd, 0) != 0)
    abort ();
  while (done < size) {
    ssize_t n = pwrite (fd, data + done, size - done, done);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      abort ();
    done += n;
  }
}

/* Bounds on what one forward pass may cost: parameters, activations,
 * and per layer parameters × output positions (a convolution's work and
 * its im2col scratch are about that). */
#define FUZZ_MAX_PARAMS (1u << 20)
#define FUZZ_MAX_ACTIVATIONS (1u << 20)
#define FUZZ_MAX_LAYER_WORK (1u << 24)
#define FUZZ_MEMORY_LIMIT (G_GUINT64_CONSTANT (256) << 20)

static inline void
fuzz_setup_glib (void)
{
  /* g_return_if_fail() on a path the fuzzer reached means the library
   * reached a state it considers a programming error: make it a crash. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  /* Well under the runs' -malloc_limit_mb=1024: what the budget lets
   * through must not trip it, and anything that does is a finding. */
  cnn_set_memory_limit (FUZZ_MEMORY_LIMIT);
}

/* Whether a forward pass of @net over one sample stays within the
 * bounds above. */
static inline gboolean
fuzz_network_is_small (const CnnNetwork * net)
{
  guint64 activations = cnn_shape_size (cnn_network_input_shape (net));

  if (cnn_network_param_count (net) > FUZZ_MAX_PARAMS)
    return FALSE;
  for (guint i = 0; i < cnn_network_n_layers (net); i++) {
    CnnShape out = cnn_network_layer_output_shape (net, i);
    guint64 work = (guint64) cnn_network_layer_param_count (net, i)
        * out.h * out.w;

    activations += cnn_shape_size (out);
    if (work > FUZZ_MAX_LAYER_WORK || activations > FUZZ_MAX_ACTIVATIONS)
      return FALSE;
  }
  return TRUE;
}

/* Reserves and runs one sample of zeros through @net when it is small.
 * With @check_finite every output must be finite (true of zero or
 * He-uniform parameters; a model file may hold any floats). */
static inline void
fuzz_forward_zeros (CnnNetwork * net, gboolean check_finite)
{
  gsize in_size = cnn_shape_size (cnn_network_input_shape (net));
  gsize out_size = cnn_shape_size (cnn_network_output_shape (net));
  g_autofree gfloat *input = NULL;
  const gfloat *output;
  GError *error = NULL;

  if (!fuzz_network_is_small (net))
    return;
  if (!cnn_network_reserve (net, 1, &error)) {
    g_clear_error (&error);
    return;
  }
  input = g_new0 (gfloat, in_size);
  output = cnn_network_forward (net, input, 1);
  for (gsize i = 0; check_finite && i < out_size; i++)
    if (!isfinite (output[i]))
      abort ();
}

#endif /* FUZZ_COMMON_H */
