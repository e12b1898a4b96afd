/* A fixed team of threads running one job at a time (internal). */
#ifndef CNN_WORKERS_H
#define CNN_WORKERS_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct _CnnWorkers CnnWorkers;

/* Called once per thread with index 0..n-1 (0 is the caller's thread). */
typedef void (*CnnJobFunc) (guint index, guint n, gpointer data);

CnnWorkers *cnn_workers_new (guint n_threads);
guint cnn_workers_n_threads (const CnnWorkers * workers);
/* Runs @func on every thread and returns when all have finished. */
void cnn_workers_run (CnnWorkers * workers, CnnJobFunc func, gpointer data);
void cnn_workers_free (CnnWorkers * workers);

G_END_DECLS

#endif
