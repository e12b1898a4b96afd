/* Matrix products: OpenBLAS for speed, plain loops as the reference the
 * tests hold it to.  Both take the same row-major arguments. */
#include "cnn-private.h"

#include "cnn-workers.h"

#include <cblas.h>

/* OpenBLAS's thread count is the process's: libcnn leaves it as the
 * host set it (OPENBLAS_NUM_THREADS, or its own call), since OpenBLAS
 * 0.3.21 has no per-call or per-thread setting and a library must not
 * change it for everyone.  Programs that own their process and
 * parallelise through libcnn (the cnn tool, the benchmarks) pin it to
 * one thread themselves. */
gchar *
cnn_blas_describe (void)
{
  g_autofree gchar *config = NULL;

  config = g_strstrip (g_strdup (openblas_get_config ()));
  return g_strdup_printf ("%s, core %s, %d BLAS thread(s)", config,
      openblas_get_corename (), openblas_get_num_threads ());
}

/* A (m×k, or k×m when trans_a) · B (k×n, or n×k when trans_b) → C (m×n) */
void
cnn_sgemm (gboolean trans_a, gboolean trans_b, guint m, guint n, guint k,
    gfloat alpha, const gfloat * a, guint lda, const gfloat * b, guint ldb,
    gfloat beta, gfloat * c, guint ldc)
{
  cblas_sgemm (CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
      trans_b ? CblasTrans : CblasNoTrans, (blasint) m, (blasint) n,
      (blasint) k, alpha, a, (blasint) lda, b, (blasint) ldb, beta, c,
      (blasint) ldc);
}

/* A (m×n) · x (n) + beta · y → y (m) */
void
cnn_sgemv (guint m, guint n, const gfloat * a, guint lda, const gfloat * x,
    gfloat beta, gfloat * y)
{
  cblas_sgemv (CblasRowMajor, CblasNoTrans, (blasint) m, (blasint) n, 1.0f,
      a, (blasint) lda, x, 1, beta, y, 1);
}

/* A (m×k, or k×m when trans_a) · B (k×n, or n×k when trans_b) → C (m×n) */
void
cnn_sgemm_reference (gboolean trans_a, gboolean trans_b, guint m, guint n,
    guint k, gfloat alpha, const gfloat * a, guint lda, const gfloat * b,
    guint ldb, gfloat beta, gfloat * c, guint ldc)
{
  for (guint i = 0; i < m; i++) {
    for (guint j = 0; j < n; j++) {
      gdouble sum = 0.0;

      for (guint p = 0; p < k; p++) {
        gfloat av = trans_a ? a[(gsize) p * lda + i] : a[(gsize) i * lda + p];
        gfloat bv = trans_b ? b[(gsize) j * ldb + p] : b[(gsize) p * ldb + j];
        sum += (gdouble) av * bv;
      }
      c[(gsize) i * ldc + j] = (gfloat) (alpha * sum
          + (beta == 0.0f ? 0.0 : (gdouble) beta * c[(gsize) i * ldc + j]));
    }
  }
}

typedef struct
{
  gboolean trans_a, trans_b;
  guint m, n, k;
  gfloat alpha, beta;
  const gfloat *a, *b;
  guint lda, ldb, ldc;
  gfloat *c;
} GemmJob;

/* Columns [first, first + count) of C need the same columns of op(B):
 * B's columns when not transposed, B's rows when transposed. */
static void
gemm_columns_job (guint index, guint n_threads, gpointer data)
{
  const GemmJob *j = data;
  /* Shares in multiples of 16 columns keep the kernel's vector tiles whole. */
  guint share = ((j->n + n_threads - 1) / n_threads + 15) / 16 * 16;
  guint first = index * share, count;
  const gfloat *b;

  if (first >= j->n)
    return;
  count = MIN (share, j->n - first);
  b = j->trans_b ? j->b + (gsize) first * j->ldb : j->b + first;
  cnn_sgemm (j->trans_a, j->trans_b, j->m, count, j->k, j->alpha, j->a,
      j->lda, b, j->ldb, j->beta, j->c + first, j->ldc);
}

void
cnn_sgemm_team (CnnWorkers * team, gboolean trans_a, gboolean trans_b,
    guint m, guint n, guint k, gfloat alpha, const gfloat * a, guint lda,
    const gfloat * b, guint ldb, gfloat beta, gfloat * c, guint ldc)
{
  GemmJob job = { trans_a, trans_b, m, n, k, alpha, beta, a, b, lda, ldb,
    ldc, c
  };

  /* Waking a thread costs microseconds: only worth it for real work. */
  if (!team || cnn_workers_n_threads (team) == 1
      || (gsize) m * n * k < 65536 || n < 32) {
    cnn_sgemm (trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c,
        ldc);
    return;
  }
  cnn_workers_run (team, gemm_columns_job, &job);
}
