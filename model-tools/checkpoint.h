/* Training checkpoints: one safetensors file holding flat F32 tensors
 * (parameters, best parameters, optimizer state) and string metadata
 * (settings and the position in training).  Written atomically, read
 * trusting nothing. */
#ifndef TOOL_CHECKPOINT_H
#define TOOL_CHECKPOINT_H

#include <cnn.h>

G_BEGIN_DECLS

#define CHECKPOINT_FORMAT "gst-cnn-checkpoint"
#define CHECKPOINT_VERSION "1"

typedef struct
{
  const gchar *name;
  const gfloat *data;
  gsize n;
} CheckpointTensor;

/* @metadata: string → string; "format", "format-version" and "sha256"
 * (of the tensor data) are added.  Temporary file, fsync, rename. */
gboolean checkpoint_write (const gchar * path, GHashTable * metadata,
    const CheckpointTensor * tensors, guint n_tensors, GError ** error);

typedef struct _Checkpoint Checkpoint;

/* Every failure is CNN_ERROR_MODEL (or CNN_ERROR_IO when the file cannot
 * be read) with a message naming the file and what is wrong. */
Checkpoint *checkpoint_read (const gchar * path, GError ** error);
void checkpoint_free (Checkpoint * ckpt);
const gchar *checkpoint_path (const Checkpoint * ckpt);
/* NULL when absent. */
const gchar *checkpoint_get (const Checkpoint * ckpt, const gchar * key);
/* NULL when absent; otherwise @n values, owned by the checkpoint. */
const gfloat *checkpoint_tensor (const Checkpoint * ckpt, const gchar * name,
    gsize * n);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Checkpoint, checkpoint_free)

G_END_DECLS

#endif /* TOOL_CHECKPOINT_H */
