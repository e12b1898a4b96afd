/* Training-speed benchmark of the reference digit network (docs/design.md §2,
 * issue 3 item 9).
 *
 *   bench-train [--batch N] [--threads N[,N...]] [--steps N] [--json]
 *
 * One training step is what a trainer does per batch: forward with
 * dropout, cross-entropy, backward, Adam update.  After a few warm-up
 * steps it times --steps steps and prints the median as images/s, for
 * each thread count (default: batch 128 on 1 and 2 threads).  Inputs are
 * random pixels with random labels: the work per step does not depend on
 * the data.  A benchmark, not a test: it asserts nothing. */
#include "bench-sort.h"
#include "cnn.h"

#include <cblas.h>

#include <stdio.h>
#include <stdlib.h>

#define WARM_UP_STEPS 3

/* Median seconds of one step over @steps timed steps. */
static gdouble
time_steps (CnnNetwork * net, CnnOptimizer * opt, const gfloat * input,
    const guint * labels, guint batch, guint steps)
{
  gdouble *seconds = g_new (gdouble, steps), median;

  for (guint s = 0; s < WARM_UP_STEPS + steps; s++) {
    gint64 start = g_get_monotonic_time ();

    cnn_network_train_step (net, input, labels, batch, s, NULL);
    cnn_optimizer_step (opt, cnn_network_params (net),
        cnn_network_gradients (net), 0.001);
    if (s >= WARM_UP_STEPS)
      seconds[s - WARM_UP_STEPS] = (g_get_monotonic_time () - start) / 1e6;
  }
  qsort (seconds, steps, sizeof (gdouble), compare_doubles);
  median = seconds[steps / 2];
  g_free (seconds);
  return median;
}

static gboolean
parse_uint (const gchar * text, guint * value)
{
  guint64 v;

  if (!g_ascii_string_to_unsigned (text, 10, 1, 4096, &v, NULL))
    return FALSE;
  *value = (guint) v;
  return TRUE;
}

int
main (int argc, char **argv)
{
  guint batch = 128, steps = 15, n_counts = 0, counts[16];
  gboolean json = FALSE;
  const gchar *threads_arg = "1,2";
  CnnShape shape = { 1, 28, 28 };
  GError *error = NULL;
  CnnNetwork *net;
  CnnOptimizerSettings settings;
  CnnOptimizer *opt;
  gfloat *input;
  guint *labels;
  gchar **parts;
  GRand *rand;
  g_autofree gchar *blas = NULL;

  for (gint i = 1; i < argc; i++) {
    if (g_str_equal (argv[i], "--json"))
      json = TRUE;
    else if (g_str_equal (argv[i], "--batch") && i + 1 < argc
        && parse_uint (argv[i + 1], &batch))
      i++;
    else if (g_str_equal (argv[i], "--steps") && i + 1 < argc
        && parse_uint (argv[i + 1], &steps))
      i++;
    else if (g_str_equal (argv[i], "--threads") && i + 1 < argc)
      threads_arg = argv[++i];
    else
      goto usage;
  }
  parts = g_strsplit (threads_arg, ",", -1);
  for (guint i = 0; parts[i]; i++)
    if (n_counts == G_N_ELEMENTS (counts) || !parse_uint (parts[i],
            &counts[n_counts++])) {
      g_strfreev (parts);
      goto usage;
    }
  g_strfreev (parts);
  if (n_counts == 0)
    goto usage;

  /* libcnn's threads only, as in the cnn tool (libcnn leaves OpenBLAS's
   * process-wide count alone). */
  openblas_set_num_threads (1);
  net = cnn_network_new (CNN_DEFAULT_ARCHITECTURE, shape, &error);
  if (!net || !cnn_network_reserve_training (net, batch, &error)) {
    fprintf (stderr, "bench-train: %s\n", error->message);
    return 1;
  }
  cnn_network_init_params (net, 1);
  cnn_optimizer_settings_init (&settings, CNN_OPTIMIZER_ADAM);
  opt = cnn_optimizer_new (&settings, cnn_network_param_count (net));

  rand = g_rand_new_with_seed (1);
  input = g_new (gfloat, cnn_shape_size (shape) * batch);
  labels = g_new (guint, batch);
  for (gsize i = 0; i < cnn_shape_size (shape) * batch; i++)
    input[i] = (gfloat) g_rand_double (rand);
  for (guint b = 0; b < batch; b++)
    labels[b] = g_rand_int_range (rand, 0, 10);
  g_rand_free (rand);

  blas = cnn_blas_describe ();
  if (json)
    printf ("{\"network\": \"%s\", \"input\": \"1x28x28\", \"batch\": %u, "
        "\"optimizer\": \"adam\", \"blas\": \"%s\", \"images_per_s\": {",
        cnn_network_architecture (net), batch, blas);
  else {
    printf ("network: %s on 1x28x28 (%" G_GSIZE_FORMAT " params)\n",
        cnn_network_architecture (net), cnn_network_param_count (net));
    printf ("blas:    %s\n", blas);
    printf ("step:    forward with dropout, cross-entropy, backward, adam; "
        "median of %u after %u warm-up\n\n", steps, WARM_UP_STEPS);
  }
  for (guint i = 0; i < n_counts; i++) {
    gdouble median;

    cnn_network_set_threads (net, counts[i]);
    cnn_optimizer_set_threads (opt, counts[i]);
    median = time_steps (net, opt, input, labels, batch, steps);
    if (json)
      printf ("%s\"%u\": %.0f", i ? ", " : "", counts[i], batch / median);
    else
      printf ("train, batch %u, %u thread(s): %7.0f images/s  (%.1f ms/step)\n",
          batch, counts[i], batch / median, median * 1e3);
  }
  if (json)
    printf ("}}\n");

  g_free (input);
  g_free (labels);
  cnn_optimizer_free (opt);
  cnn_network_free (net);
  return 0;

usage:
  fprintf (stderr, "usage: %s [--batch N] [--threads N[,N...]] [--steps N] "
      "[--json]\n", argv[0]);
  return 2;
}
