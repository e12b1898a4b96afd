/* A fixed team of threads that run one job together, index by index.
 * Created once per network; running a job allocates nothing, so the
 * per-frame path stays allocation-free. */
#include "cnn-workers.h"

struct _CnnWorkers
{
  guint n_threads;              /* including the calling thread */
  GThread **threads;
  GMutex lock;
  GCond start, done;
  guint64 generation;           /* bumped for each job */
  guint n_running;
  gboolean quit;
  CnnJobFunc func;
  gpointer data;
};

typedef struct
{
  CnnWorkers *workers;
  guint index;
} WorkerArg;

static gpointer
worker_main (gpointer user_data)
{
  WorkerArg *arg = user_data;
  CnnWorkers *w = arg->workers;
  guint64 seen = 0;

  g_mutex_lock (&w->lock);
  for (;;) {
    while (!w->quit && w->generation == seen)
      g_cond_wait (&w->start, &w->lock);
    if (w->quit)
      break;
    seen = w->generation;
    g_mutex_unlock (&w->lock);
    w->func (arg->index, w->n_threads, w->data);
    g_mutex_lock (&w->lock);
    if (--w->n_running == 0)
      g_cond_signal (&w->done);
  }
  g_mutex_unlock (&w->lock);
  g_free (arg);
  return NULL;
}

CnnWorkers *
cnn_workers_new (guint n_threads)
{
  CnnWorkers *w = g_new0 (CnnWorkers, 1);

  w->n_threads = MAX (n_threads, 1);
  g_mutex_init (&w->lock);
  g_cond_init (&w->start);
  g_cond_init (&w->done);
  w->threads = g_new0 (GThread *, w->n_threads);
  for (guint i = 1; i < w->n_threads; i++) {
    WorkerArg *arg = g_new (WorkerArg, 1);

    arg->workers = w;
    arg->index = i;
    w->threads[i] = g_thread_new ("cnn-worker", worker_main, arg);
  }
  return w;
}

guint
cnn_workers_n_threads (const CnnWorkers * w)
{
  return w->n_threads;
}

void
cnn_workers_run (CnnWorkers * w, CnnJobFunc func, gpointer data)
{
  if (w->n_threads == 1) {
    func (0, 1, data);
    return;
  }
  g_mutex_lock (&w->lock);
  w->func = func;
  w->data = data;
  w->n_running = w->n_threads - 1;
  w->generation++;
  g_cond_broadcast (&w->start);
  g_mutex_unlock (&w->lock);

  func (0, w->n_threads, data);

  g_mutex_lock (&w->lock);
  while (w->n_running > 0)
    g_cond_wait (&w->done, &w->lock);
  g_mutex_unlock (&w->lock);
}

void
cnn_workers_free (CnnWorkers * w)
{
  if (!w)
    return;
  g_mutex_lock (&w->lock);
  w->quit = TRUE;
  g_cond_broadcast (&w->start);
  g_mutex_unlock (&w->lock);
  for (guint i = 1; i < w->n_threads; i++)
    g_thread_join (w->threads[i]);
  g_free (w->threads);
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->start);
  g_cond_clear (&w->done);
  g_free (w);
}
