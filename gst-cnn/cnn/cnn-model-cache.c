/* Models shared within a process (docs/design.md §3): cnnclassify
 * instances that load the same file share its frozen weights, the fp16
 * and packed copies of them, its labels and metadata, read-only, instead
 * of holding a copy each; what a pass writes is in each holder's own
 * workspace.
 *
 * The same file is the same path naming the same file as it is now:
 * device, inode, size and modification time, from an fstat() of the
 * opened file, so that a file renamed over the path (what `cnn train -o`
 * does) or rewritten is a new model, never a stale one.  The memory
 * limit and the kernels are part of the key too: the network was checked
 * against the one and made for the others.  An entry lives while some
 * holder does; the last cnn_model_free() frees it. */
#include "cnn-model-private.h"
#include "cnn-network-private.h"

#include <unistd.h>

struct _CnnModelCacheEntry
{
  gchar *path;
  dev_t dev;
  ino_t ino;
  goffset size;
  gint64 mtime_sec, mtime_nsec;
  guint64 memory_limit;         /* resolved: never 0 */
  CnnKernels kernels;
  guint holders;                /* under cache_lock */
  CnnModel *model;
};

static GMutex cache_lock;
/* CnnModelCacheEntry → itself; NULL until the first shared load. */
static GHashTable *cache;

static guint
entry_hash (gconstpointer data)
{
  const CnnModelCacheEntry *e = data;

  return g_str_hash (e->path) ^ (guint) e->ino ^ (guint) e->mtime_nsec;
}

static gboolean
entry_equal (gconstpointer a, gconstpointer b)
{
  const CnnModelCacheEntry *x = a, *y = b;

  return x->dev == y->dev && x->ino == y->ino && x->size == y->size
      && x->mtime_sec == y->mtime_sec && x->mtime_nsec == y->mtime_nsec
      && x->memory_limit == y->memory_limit && x->kernels == y->kernels
      && g_str_equal (x->path, y->path);
}

static void
entry_init (CnnModelCacheEntry * e, const gchar * path, const struct stat *st,
    guint64 memory_limit)
{
  e->path = (gchar *) path;
  e->dev = st->st_dev;
  e->ino = st->st_ino;
  e->size = st->st_size;
  e->mtime_sec = st->st_mtim.tv_sec;
  e->mtime_nsec = st->st_mtim.tv_nsec;
  e->memory_limit = memory_limit ? memory_limit : cnn_memory_limit ();
  e->kernels = cnn_kernels_choose ();
  e->holders = 0;
  e->model = NULL;
}

/* One more hold on the entry for @key's file, if there is one.
 * cache_lock held. */
static CnnModel *
hold_cached (const CnnModelCacheEntry * key)
{
  CnnModelCacheEntry *e = cache ? g_hash_table_lookup (cache, key) : NULL;

  if (!e)
    return NULL;
  e->holders++;
  return e->model;
}

/* @model, just loaded for @key, as the entry for its file, unless another
 * thread's load of it got there first: then that one, and @model is
 * freed.  Takes cache_lock. */
static CnnModel *
add_cached (const CnnModelCacheEntry * key, CnnModel * model)
{
  CnnModelCacheEntry *e;
  CnnModel *held;

  g_mutex_lock (&cache_lock);
  held = hold_cached (key);
  if (!held) {
    if (!cache)
      cache = g_hash_table_new (entry_hash, entry_equal);
    e = g_new (CnnModelCacheEntry, 1);
    *e = *key;
    e->path = g_strdup (key->path);
    e->holders = 1;
    e->model = model;
    model->cache_entry = e;
    /* Read-only from now on: holders run passes in workspaces of their
     * own, so the network's own goes. */
    cnn_network_share (model->net);
    g_hash_table_add (cache, e);
    held = model;
    model = NULL;
  }
  g_mutex_unlock (&cache_lock);
  if (model)
    cnn_model_destroy (model);
  return held;
}

CnnModel *
cnn_model_load_shared (const gchar * path, guint64 memory_limit,
    GError ** error)
{
  CnnModelCacheEntry key;
  struct stat st;
  CnnModel *model;
  guint8 *contents;
  gsize length;
  gint fd;

  g_return_val_if_fail (path != NULL, NULL);

  fd = cnn_model_open_regular (path, &st, error);
  if (fd < 0)
    return NULL;
  entry_init (&key, path, &st, memory_limit);
  g_mutex_lock (&cache_lock);
  model = hold_cached (&key);
  g_mutex_unlock (&cache_lock);
  if (model) {
    close (fd);
    return model;
  }
  /* Read from the file that was stat'ed, whatever is renamed over the
   * path meanwhile. */
  contents = cnn_model_read_open (fd, path, &st, &length, error);
  if (!contents)
    return NULL;
  model = cnn_model_from_contents (path, contents, length, memory_limit,
      error);
  g_free (contents);
  return model ? add_cached (&key, model) : NULL;
}

void
cnn_model_cache_release (CnnModel * model)
{
  CnnModelCacheEntry *e = model->cache_entry;
  gboolean last;

  g_mutex_lock (&cache_lock);
  last = --e->holders == 0;
  if (last)
    g_hash_table_remove (cache, e);
  g_mutex_unlock (&cache_lock);
  if (!last)
    return;
  model->cache_entry = NULL;
  cnn_model_destroy (model);
  g_free (e->path);
  g_free (e);
}

gboolean
cnn_model_is_shared (const CnnModel * model)
{
  g_return_val_if_fail (model != NULL, FALSE);
  return model->cache_entry != NULL;
}

guint
cnn_model_n_holders (const CnnModel * model)
{
  guint n;

  g_return_val_if_fail (model != NULL, 0);
  if (!model->cache_entry)
    return 1;
  g_mutex_lock (&cache_lock);
  n = model->cache_entry->holders;
  g_mutex_unlock (&cache_lock);
  return n;
}

guint
cnn_model_cache_size (void)
{
  guint n;

  g_mutex_lock (&cache_lock);
  n = cache ? g_hash_table_size (cache) : 0;
  g_mutex_unlock (&cache_lock);
  return n;
}
