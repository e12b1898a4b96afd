/* Forward-pass benchmark of the reference digit network (docs/design.md §2).
 *
 *   bench-forward [--json] [--seconds S] [--model FILE | --random]
 *   bench-forward --kernels avx512,avx512-int8,avx2 [--seconds S] [--model FILE]
 *
 * With --kernels, the model is loaded once per kernel set (CNN_KERNELS:
 * avx512, avx512-bf16, avx512-int8, avx2, portable) and each is timed in
 * turn, batch 1 and batch 64 on 1 thread: medians and each one's time
 * over the first's, side by side in one run; "ran" says which kernels
 * the CPU gave (a set it lacks falls back to the default).
 *
 * Prints the median and p99 time of one batch-1 forward pass on one
 * thread, and images/s at batch 64 on 1 and 2 threads.  A benchmark, not
 * a test: it asserts nothing and reports what this machine does.
 *
 * The network is the bundled digit model (or FILE), loaded as
 * cnnclassify loads it, with its weights frozen, so that the kernels
 * that keep their own copies of them (fp16 dense weights at batch 1)
 * run as they do in the element; --random: the reference architecture
 * with seeded random weights, not frozen, the float kernels throughout.
 *
 * On a shared machine wall time counts other programs' turns on the core;
 * the 1-thread cases also report the median of this thread's CPU time
 * per pass (CLOCK_THREAD_CPUTIME_ID), which does not. */
#include "bench-sort.h"
#include "cnn.h"

#include <cblas.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct
{
  gdouble median_us, p99_us;
  gdouble cpu_median_us;        /* the calling thread's CPU time */
  guint runs;
} Timing;

static gdouble
thread_cpu_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static gdouble
median (GArray * samples)
{
  g_array_sort (samples, compare_doubles);
  return g_array_index (samples, gdouble, samples->len / 2);
}

/* Times forward passes of @batch samples for about @seconds. */
static Timing
time_forward (CnnNetwork * net, const gfloat * input, guint batch,
    gdouble seconds)
{
  GArray *samples = g_array_new (FALSE, FALSE, sizeof (gdouble));
  GArray *cpu = g_array_new (FALSE, FALSE, sizeof (gdouble));
  gint64 end;
  Timing t;

  for (guint i = 0; i < 20; i++)        /* warm caches and workers */
    cnn_network_forward (net, input, batch);
  end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  while (g_get_monotonic_time () < end || samples->len < 10) {
    gint64 start = g_get_monotonic_time ();
    gdouble cpu_start = thread_cpu_us (), us, cpu_us;

    cnn_network_forward (net, input, batch);
    cpu_us = thread_cpu_us () - cpu_start;
    us = (gdouble) (g_get_monotonic_time () - start);
    g_array_append_val (samples, us);
    g_array_append_val (cpu, cpu_us);
  }
  t.runs = samples->len;
  t.median_us = median (samples);
  t.p99_us = g_array_index (samples, gdouble, samples->len * 99 / 100);
  t.cpu_median_us = median (cpu);
  g_array_free (samples, TRUE);
  g_array_free (cpu, TRUE);
  return t;
}

/* --kernels: each set's batch-1 and batch-64 medians, and ratios */
static int
compare_kernels (const gchar * list, const gchar * model_path,
    gdouble seconds)
{
  g_auto (GStrv) names = g_strsplit (list, ",", -1);
  gdouble first_b1 = 0.0, first_b64 = 0.0;

  printf ("%-12s %-12s %14s %8s %16s %8s\n", "asked", "ran",
      "batch 1 (us)", "ratio", "batch 64 (us/img)", "ratio");
  for (guint i = 0; names[i]; i++) {
    GError *error = NULL;
    CnnModel *model;
    CnnNetwork *net;
    gfloat *x;
    Timing b1, b64;
    GRand *rand = g_rand_new_with_seed (1);

    g_setenv ("CNN_KERNELS", names[i], TRUE);
    model = cnn_model_load (model_path, &error);
    net = model ? cnn_model_network (model) : NULL;
    if (!net || !cnn_network_reserve (net, 64, &error)) {
      fprintf (stderr, "bench-forward: %s\n", error->message);
      return 1;
    }
    x = g_new (gfloat, cnn_shape_size (cnn_network_input_shape (net)) * 64);
    for (gsize j = 0; j < cnn_shape_size (cnn_network_input_shape (net)) * 64;
        j++)
      x[j] = (gfloat) g_rand_double (rand);
    b1 = time_forward (net, x, 1, seconds);
    b64 = time_forward (net, x, 64, seconds);
    if (i == 0) {
      first_b1 = b1.median_us;
      first_b64 = b64.median_us / 64;
    }
    printf ("%-12s %-12s %14.1f %8.2f %16.1f %8.2f\n", names[i],
        cnn_network_kernels (net), b1.median_us, b1.median_us / first_b1,
        b64.median_us / 64, b64.median_us / 64 / first_b64);
    g_free (x);
    g_rand_free (rand);
    cnn_model_free (model);
  }
  return 0;
}

int
main (int argc, char **argv)
{
  gboolean json = FALSE;
  gdouble seconds = 3.0;
  GError *error = NULL;
  CnnShape input = { 1, 28, 28 };
  const gchar *model_path = DIGITS_MODEL, *kernels = NULL;
  CnnModel *model = NULL;
  CnnNetwork *net;
  gfloat *x;
  Timing b1, b1_2, b64_1, b64_2;
  g_autofree gchar *blas = NULL;
  GRand *rand;

  for (gint i = 1; i < argc; i++) {
    if (g_str_equal (argv[i], "--json"))
      json = TRUE;
    else if (g_str_equal (argv[i], "--seconds") && i + 1 < argc)
      seconds = g_ascii_strtod (argv[++i], NULL);
    else if (g_str_equal (argv[i], "--model") && i + 1 < argc)
      model_path = argv[++i];
    else if (g_str_equal (argv[i], "--random"))
      model_path = NULL;
    else if (g_str_equal (argv[i], "--kernels") && i + 1 < argc)
      kernels = argv[++i];
    else {
      fprintf (stderr, "usage: %s [--json] [--seconds S] "
          "[--model FILE | --random] [--kernels K1,K2,...]\n", argv[0]);
      return 2;
    }
  }
  if (kernels && model_path)
    return compare_kernels (kernels, model_path, seconds);

  /* libcnn's threads only, as in the cnn tool (libcnn leaves OpenBLAS's
   * process-wide count alone). */
  openblas_set_num_threads (1);
  if (model_path) {
    model = cnn_model_load (model_path, &error);
    net = model ? cnn_model_network (model) : NULL;
    input = net ? cnn_network_input_shape (net) : input;
  } else {
    net = cnn_network_new (CNN_DEFAULT_ARCHITECTURE, input, &error);
    if (net)
      cnn_network_init_params (net, 1);
  }
  if (!net || !cnn_network_reserve (net, 64, &error)) {
    fprintf (stderr, "bench-forward: %s\n", error->message);
    return 1;
  }
  x = g_new (gfloat, cnn_shape_size (input) * 64);
  rand = g_rand_new_with_seed (1);
  for (gsize i = 0; i < cnn_shape_size (input) * 64; i++)
    x[i] = (gfloat) g_rand_double (rand);
  g_rand_free (rand);

  b1 = time_forward (net, x, 1, seconds);
  b64_1 = time_forward (net, x, 64, seconds);
  cnn_network_set_threads (net, 2);
  b1_2 = time_forward (net, x, 1, seconds);
  b64_2 = time_forward (net, x, 64, seconds);
  blas = cnn_blas_describe ();

  if (json) {
    printf ("{\"network\": \"%s\", \"input\": \"%ux%ux%u\", "
        "\"weights\": \"%s\", \"blas\": \"%s\", "
        "\"kernels\": \"%s\", "
        "\"batch1_threads1_median_us\": %.1f, \"batch1_threads1_p99_us\": "
        "%.1f, \"batch1_threads2_median_us\": %.1f, "
        "\"batch64_threads1_images_per_s\": %.0f, "
        "\"batch64_threads2_images_per_s\": %.0f, "
        "\"batch1_threads1_cpu_median_us\": %.1f, "
        "\"batch64_threads1_cpu_images_per_s\": %.0f}\n",
        cnn_network_architecture (net), input.c, input.h, input.w,
        model_path ? model_path : "random", blas, cnn_network_kernels (net),
        b1.median_us, b1.p99_us,
        b1_2.median_us, 64e6 / b64_1.median_us, 64e6 / b64_2.median_us,
        b1.cpu_median_us, 64e6 / b64_1.cpu_median_us);
  } else {
    printf ("network: %s on %ux%ux%u (%" G_GSIZE_FORMAT " params)\n",
        cnn_network_architecture (net), input.c, input.h, input.w,
        cnn_network_param_count (net));
    printf ("weights: %s\n", model_path ? model_path : "random, not frozen");
    printf ("blas:    %s\n", blas);
    printf ("kernels: %s\n\n", cnn_network_kernels (net));
    printf ("%-34s %12s %12s %8s\n", "case", "median", "p99", "runs");
    printf ("%-34s %9.1f us %9.1f us %8u\n", "forward, batch 1, 1 thread",
        b1.median_us, b1.p99_us, b1.runs);
    printf ("%-34s %9.1f us %9.1f us %8u\n", "forward, batch 1, 2 threads",
        b1_2.median_us, b1_2.p99_us, b1_2.runs);
    printf ("%-34s %7.0f img/s %12s %8u\n", "forward, batch 64, 1 thread",
        64e6 / b64_1.median_us, "", b64_1.runs);
    printf ("%-34s %7.0f img/s %12s %8u\n", "forward, batch 64, 2 threads",
        64e6 / b64_2.median_us, "", b64_2.runs);
    printf ("\nthread CPU time, 1 thread: batch 1 %.1f us, batch 64 "
        "%.0f img/s\n", b1.cpu_median_us, 64e6 / b64_1.cpu_median_us);
  }
  g_free (x);
  if (model)
    cnn_model_free (model);
  else
    cnn_network_free (net);
  return 0;
}
