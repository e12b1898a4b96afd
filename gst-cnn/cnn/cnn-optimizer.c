/* Optimizers: turn a step's gradients into a parameter update.
 *
 * The update rules are PyTorch's (torch.optim.SGD, Adam, Adadelta), so
 * that settings carry over; weight decay is L2 added to the gradient,
 * g = grad + weight_decay · p, as their weight_decay argument does.
 *
 *   sgd:      v = μ·v + g                      p -= lr · v
 *   adam:     m = β1·m + (1-β1)·g              v = β2·v + (1-β2)·g²
 *             p -= lr · (m / (1-β1ᵗ)) / (√(v / (1-β2ᵗ)) + ε)
 *   adadelta: a = ρ·a + (1-ρ)·g²
 *             Δ = √(d + ε) / √(a + ε) · g      d = ρ·d + (1-ρ)·Δ²
 *             p -= lr · Δ
 */
#include "cnn-private.h"
#include "cnn-workers.h"

#include <math.h>
#include <string.h>

struct _CnnOptimizer
{
  CnnOptimizerSettings settings;
  gsize n_params;
  guint64 steps;
  /* sgd: velocity; adam: m then v; adadelta: a then d (n_params each). */
  gfloat *state;
  gsize n_state;
  CnnWorkers *workers;

  /* The step being run, read by the worker threads. */
  gfloat *params;
  const gfloat *grads;
  gdouble learning_rate;
};

static const gchar *const kind_names[] = {
  [CNN_OPTIMIZER_SGD] = "sgd",
  [CNN_OPTIMIZER_ADAM] = "adam",
  [CNN_OPTIMIZER_ADADELTA] = "adadelta",
};

void
cnn_optimizer_settings_init (CnnOptimizerSettings * s, CnnOptimizerKind kind)
{
  g_return_if_fail (s != NULL);

  memset (s, 0, sizeof *s);
  s->kind = kind;
  s->momentum = 0.9;
  s->beta1 = 0.9;
  s->beta2 = 0.999;
  s->rho = 0.95;
  s->weight_decay = 0.0;
  switch (kind) {
    case CNN_OPTIMIZER_ADAM:
      s->learning_rate = 0.001;
      s->epsilon = 1e-8;
      break;
    case CNN_OPTIMIZER_ADADELTA:
      s->learning_rate = 1.0;
      s->epsilon = 1e-6;
      break;
    case CNN_OPTIMIZER_SGD:
    default:
      s->kind = CNN_OPTIMIZER_SGD;
      s->learning_rate = 0.01;
      s->epsilon = 1e-8;
      break;
  }
}

gboolean
cnn_optimizer_kind_from_string (const gchar * name, CnnOptimizerKind * kind)
{
  g_return_val_if_fail (kind != NULL, FALSE);

  if (!name)
    return FALSE;
  for (guint k = 0; k < G_N_ELEMENTS (kind_names); k++)
    if (g_ascii_strcasecmp (name, kind_names[k]) == 0) {
      *kind = (CnnOptimizerKind) k;
      return TRUE;
    }
  return FALSE;
}

const gchar *
cnn_optimizer_kind_to_string (CnnOptimizerKind kind)
{
  if ((guint) kind >= G_N_ELEMENTS (kind_names))
    return NULL;
  return kind_names[kind];
}

static gsize
state_per_param (CnnOptimizerKind kind)
{
  return kind == CNN_OPTIMIZER_SGD ? 1 : 2;
}

guint64
cnn_optimizer_memory (CnnOptimizerKind kind, gsize n_params)
{
  return cnn_bytes_mul (cnn_bytes_mul (state_per_param (kind), n_params),
      sizeof (gfloat));
}

CnnOptimizer *
cnn_optimizer_new (const CnnOptimizerSettings * settings, gsize n_params)
{
  CnnOptimizer *opt;
  gsize per_param;
  gfloat *state;

  g_return_val_if_fail (settings != NULL, NULL);
  g_return_val_if_fail ((guint) settings->kind < G_N_ELEMENTS (kind_names),
      NULL);

  per_param = state_per_param (settings->kind);
  g_return_val_if_fail (n_params <= G_MAXSIZE / sizeof (gfloat) / per_param,
      NULL);

  state = g_try_new0 (gfloat, MAX (per_param * n_params, 1));
  if (!state)
    return NULL;
  opt = g_new0 (CnnOptimizer, 1);
  opt->settings = *settings;
  opt->n_params = n_params;
  opt->n_state = per_param * n_params;
  opt->state = state;
  opt->workers = cnn_workers_new (1);
  return opt;
}

void
cnn_optimizer_free (CnnOptimizer * opt)
{
  if (!opt)
    return;
  cnn_workers_free (opt->workers);
  g_free (opt->state);
  g_free (opt);
}

void
cnn_optimizer_set_threads (CnnOptimizer * opt, guint n_threads)
{
  g_return_if_fail (opt != NULL);

  n_threads = CLAMP (n_threads, 1, 64);
  if (n_threads == cnn_workers_n_threads (opt->workers))
    return;
  cnn_workers_free (opt->workers);
  opt->workers = cnn_workers_new (n_threads);
}

/* p (n), g (n), v (n) → p, v.  Restrict, a bulk in whole groups of 8 and
 * no inlining let -O2's cheap vectorizer take it; the others need a
 * square root, which it will not vectorize while sqrtf may set errno. */
G_GNUC_NO_INLINE static void
sgd_step (const CnnOptimizerSettings * s, gfloat * restrict p,
    const gfloat * restrict grad, gfloat * restrict v, gsize n, gfloat lr)
{
  gfloat mu = (gfloat) s->momentum, wd = (gfloat) s->weight_decay;
  gsize bulk = n & ~(gsize) 7, i;

  for (i = 0; i < bulk; i++) {
    gfloat g = grad[i] + wd * p[i];

    v[i] = mu * v[i] + g;
    p[i] -= lr * v[i];
  }
  for (; i < n; i++) {
    gfloat g = grad[i] + wd * p[i];

    v[i] = mu * v[i] + g;
    p[i] -= lr * v[i];
  }
}

/* p (n), g (n), m (n), v (n) → p, m, v; @t counts from 1 */
static void
adam_step (const CnnOptimizerSettings * s, gfloat * p, const gfloat * grad,
    gfloat * m, gfloat * v, gsize n, gdouble lr, guint64 t)
{
  gfloat b1 = (gfloat) s->beta1, b2 = (gfloat) s->beta2;
  gfloat wd = (gfloat) s->weight_decay, eps = (gfloat) s->epsilon;
  /* Bias corrections, in double: 1 - β2ᵗ is tiny for the first steps. */
  gfloat step = (gfloat) (lr / (1.0 - pow (s->beta1, (gdouble) t)));
  gfloat v_scale = (gfloat) (1.0 / sqrt (1.0 - pow (s->beta2, (gdouble) t)));

  for (gsize i = 0; i < n; i++) {
    gfloat g = grad[i] + wd * p[i];

    m[i] = b1 * m[i] + (1.0f - b1) * g;
    v[i] = b2 * v[i] + (1.0f - b2) * g * g;
    p[i] -= step * m[i] / (sqrtf (v[i]) * v_scale + eps);
  }
}

/* p (n), g (n), a (n), d (n) → p, a, d */
static void
adadelta_step (const CnnOptimizerSettings * s, gfloat * p,
    const gfloat * grad, gfloat * a, gfloat * d, gsize n, gfloat lr)
{
  gfloat rho = (gfloat) s->rho, wd = (gfloat) s->weight_decay;
  gfloat eps = (gfloat) s->epsilon;

  for (gsize i = 0; i < n; i++) {
    gfloat g = grad[i] + wd * p[i];
    gfloat delta;

    a[i] = rho * a[i] + (1.0f - rho) * g * g;
    delta = sqrtf (d[i] + eps) / sqrtf (a[i] + eps) * g;
    d[i] = rho * d[i] + (1.0f - rho) * delta * delta;
    p[i] -= lr * delta;
  }
}

/* Each thread updates its own slice of the parameters: the update is
 * element by element, so the result does not depend on the split. */
static void
step_job (guint index, guint n_threads, gpointer data)
{
  CnnOptimizer *opt = data;
  gsize total = opt->n_params;
  /* slices of whole cache lines */
  gsize share = ((total + n_threads - 1) / n_threads + 15) & ~(gsize) 15;
  gsize lo = MIN ((gsize) index * share, total);
  gsize n = MIN (share, total - lo);
  gfloat *p = opt->params + lo, *s0 = opt->state + lo;
  const gfloat *g = opt->grads + lo;

  if (n == 0)
    return;
  switch (opt->settings.kind) {
    case CNN_OPTIMIZER_SGD:
      sgd_step (&opt->settings, p, g, s0, n, (gfloat) opt->learning_rate);
      break;
    case CNN_OPTIMIZER_ADAM:
      adam_step (&opt->settings, p, g, s0, s0 + total, n,
          opt->learning_rate, opt->steps);
      break;
    case CNN_OPTIMIZER_ADADELTA:
      adadelta_step (&opt->settings, p, g, s0, s0 + total, n,
          (gfloat) opt->learning_rate);
      break;
  }
}

void
cnn_optimizer_step (CnnOptimizer * opt, gfloat * params, const gfloat * grads,
    gdouble learning_rate)
{
  g_return_if_fail (opt != NULL);
  g_return_if_fail (opt->n_params == 0 || (params != NULL && grads != NULL));

  opt->steps++;
  opt->params = params;
  opt->grads = grads;
  opt->learning_rate = learning_rate;
  cnn_workers_run (opt->workers, step_job, opt);
}

gfloat *
cnn_optimizer_state (CnnOptimizer * opt, gsize * n_floats)
{
  g_return_val_if_fail (opt != NULL, NULL);

  if (n_floats)
    *n_floats = opt->n_state;
  return opt->state;
}

guint64
cnn_optimizer_steps (const CnnOptimizer * opt)
{
  g_return_val_if_fail (opt != NULL, 0);
  return opt->steps;
}

void
cnn_optimizer_set_steps (CnnOptimizer * opt, guint64 steps)
{
  g_return_if_fail (opt != NULL);
  opt->steps = steps;
}
