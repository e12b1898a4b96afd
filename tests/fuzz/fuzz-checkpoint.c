/* libFuzzer target: bytes → training checkpoint → checkpoint_read().
 *
 * The reader (model-tools/checkpoint.c) is the one `cnn train --resume`
 * uses.  Its checksum covers only the tensor data, so the header can be
 * edited freely: deep nesting, huge numbers, odd offsets.  A checkpoint
 * that reads has its metadata and the tensors the trainer asks for
 * read back; every refusal names the file. */
#include "fuzz-common.h"
#include "checkpoint.h"

#include <string.h>

static gchar *ckpt_path;
static int ckpt_fd = -1;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_glib ();
  ckpt_fd = fuzz_memfile_open ("fuzz-checkpoint.ckpt", &ckpt_path);
  return 0;
}

/* What trainer_resume() looks at. */
static void
read_checkpoint (const Checkpoint * ckpt)
{
  static const gchar *const keys[] = { "format", "sha256", "done-epochs",
    "correct", "seen", "history", "architecture", NULL
  };
  static const gchar *const tensors[] = { "params", "optimizer",
    "best-params", NULL
  };
  volatile gfloat sum = 0.0f;

  for (guint i = 0; keys[i]; i++) {
    const gchar *v = checkpoint_get (ckpt, keys[i]);

    if (v && !g_utf8_validate (v, -1, NULL))
      abort ();
  }
  for (guint i = 0; tensors[i]; i++) {
    gsize n = 0;
    const gfloat *t = checkpoint_tensor (ckpt, tensors[i], &n);

    for (gsize j = 0; t && j < n; j++)
      sum += t[j];
  }
  (void) sum;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  GError *error = NULL;
  Checkpoint *ckpt;

  if (size > (1u << 20))
    return 0;
  fuzz_memfile_write (ckpt_fd, data, size);
  ckpt = checkpoint_read (ckpt_path, &error);
  if (!ckpt) {
    if (!error || !strstr (error->message, ckpt_path))
      abort ();
    g_clear_error (&error);
    return 0;
  }
  read_checkpoint (ckpt);
  checkpoint_free (ckpt);
  return 0;
}
