/* The benchmarks' one shared helper: sorting their samples (doubles)
 * with g_array_sort() or qsort(), for medians and percentiles. */
#ifndef BENCH_SORT_H
#define BENCH_SORT_H

#include <glib.h>

static inline gint
compare_doubles (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return (x > y) - (x < y);
}

#endif /* BENCH_SORT_H */
