/* libFuzzer target: bytes → IDX files → cnn_dataset_load_idx().
 *
 * Input: byte 0 chooses images only (even) or images and labels (odd);
 * for the pair, byte 1 places the split (its share of 256 of the rest)
 * between the images file and the labels file.  Files starting with
 * 1f 8b go through gzip, so gzip seeds reach the decompressor.  A
 * dataset that loads must be consistent with itself. */
#include "fuzz-common.h"

#include <string.h>

typedef struct
{
  gchar *path;
  int fd;
} MemFile;

static MemFile images_file, labels_file;
/* where the sum of a dataset's bytes goes, so its reads stay */
static volatile guint64 pixel_sum;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup_glib ();
  images_file.fd = fuzz_memfile_open ("images-idx3-ubyte", &images_file.path);
  labels_file.fd = fuzz_memfile_open ("labels-idx1-ubyte", &labels_file.path);
  return 0;
}

static void
check_dataset (const CnnDataset * ds, gboolean with_labels)
{
  gsize sample = cnn_shape_size (ds->shape);
  guint64 sum = 0;

  if (ds->shape.c == 0 || ds->shape.h == 0 || ds->shape.w == 0)
    abort ();
  if (with_labels != (ds->labels != NULL))
    abort ();
  /* every byte the dataset claims is there (ASan checks the reads) */
  for (gsize i = 0; i < (gsize) ds->n * sample; i++)
    sum += ds->pixels[i];
  for (guint i = 0; with_labels && i < ds->n; i++)
    if (ds->labels[i] > 255)
      abort ();
  pixel_sum = sum;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  gboolean with_labels;
  GError *error = NULL;
  CnnDataset *ds;
  size_t split;

  if (size < 2 || size > (1u << 20))
    return 0;
  with_labels = data[0] & 1;
  data += 2;
  size -= 2;
  split = with_labels ? size * data[-1] / 256 : size;
  fuzz_memfile_write (images_file.fd, data, split);
  if (with_labels)
    fuzz_memfile_write (labels_file.fd, data + split, size - split);

  ds = cnn_dataset_load_idx (images_file.path,
      with_labels ? labels_file.path : NULL, &error);
  if (!ds) {
    /* every refusal explains itself, naming a file at fault */
    if (!error || !(g_error_matches (error, CNN_ERROR, CNN_ERROR_DATASET)
            || g_error_matches (error, CNN_ERROR, CNN_ERROR_NOMEM))
        || (!strstr (error->message, images_file.path)
            && !strstr (error->message, labels_file.path)))
      abort ();
    g_clear_error (&error);
    return 0;
  }
  check_dataset (ds, with_labels);
  cnn_dataset_free (ds);
  return 0;
}
