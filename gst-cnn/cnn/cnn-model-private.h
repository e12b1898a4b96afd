/* The model's state, shared by cnn-model.c (files) and cnn-model-cache.c
 * (models shared within the process); internal to libcnn. */
#ifndef CNN_MODEL_PRIVATE_H
#define CNN_MODEL_PRIVATE_H

#include "cnn-private.h"

#include <sys/stat.h>

G_BEGIN_DECLS

typedef struct _CnnModelCacheEntry CnnModelCacheEntry;

struct _CnnModel
{
  CnnNetwork *net;
  gchar **labels;               /* one per output, NULL-terminated */
  guint n_labels;
  GHashTable *metadata;         /* "__metadata__": every key */
  gchar *file_stem;             /* loaded file's basename sans extension */
  /* Set for a model cnn_model_load_shared() handed out: read-only, and
   * freed by the cache when its last holder lets it go. */
  CnnModelCacheEntry *cache_entry;
};

/* cnn-model.c: a model file opened (its fstat in @st, a regular file
 * not too large: -1 and @error otherwise), read from there (closing
 * it), and made into a model; freeing one whatever holds it. */
gint cnn_model_open_regular (const gchar * path, struct stat *st,
    GError ** error);
guint8 *cnn_model_read_open (gint fd, const gchar * path,
    const struct stat *st, gsize * length, GError ** error);
CnnModel *cnn_model_from_contents (const gchar * path,
    const guint8 * contents, gsize length, guint64 memory_limit,
    GError ** error);
void cnn_model_destroy (CnnModel * model);

/* cnn-model-cache.c: lets go of one hold on a shared model. */
void cnn_model_cache_release (CnnModel * model);

G_END_DECLS

#endif /* CNN_MODEL_PRIVATE_H */
