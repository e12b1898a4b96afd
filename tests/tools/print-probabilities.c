/* print-probabilities MODEL IMAGES N: the class probabilities the model
 * gives the first N images of an IDX file, one line per image, to nine
 * significant digits, as cnn eval computes them (bytes / 255, the
 * model's mean and std, the network, its probabilities).  For the ONNX
 * tests, which hold them against PyTorch's. */
#include "tool.h"

#include <stdio.h>
#include <stdlib.h>

static void
print_sample (CnnModel * model, const CnnDataset * ds, guint i,
    const ToolNormalisation * norm, gfloat * x)
{
  CnnNetwork *net = cnn_model_network (model);
  gsize in = cnn_shape_size (ds->shape);
  guint n = cnn_model_n_labels (model);
  gfloat *p;

  tool_sample_to_unit (ds->pixels + (gsize) i * in, in, x);
  tool_sample_normalise (x, ds->shape, norm);
  p = (gfloat *) cnn_network_forward (net, x, 1);
  cnn_network_probabilities (net, p, p);
  for (guint k = 0; k < n; k++)
    printf ("%s%.9g", k ? " " : "", p[k]);
  printf ("\n");
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree gfloat *x = NULL;
  ToolNormalisation norm;
  CnnDataset *ds = NULL;
  CnnModel *model;
  const gchar *spec;
  guint n;

  if (argc != 4) {
    g_printerr ("usage: print-probabilities MODEL IMAGES N\n");
    return 2;
  }
  model = cnn_model_load (argv[1], &error);
  if (model)
    ds = cnn_dataset_load_idx (argv[2], NULL, &error);
  spec = model ? cnn_model_get_metadata (model, "preprocess") : NULL;
  if (!ds || !tool_normalisation_parse (spec, ds->shape.c, &norm, &error)
      || !cnn_network_reserve (cnn_model_network (model), 1, &error)) {
    g_printerr ("print-probabilities: %s\n", error->message);
    return 1;
  }
  n = MIN ((guint) atoi (argv[3]), ds->n);
  x = g_new (gfloat, cnn_shape_size (ds->shape));
  for (guint i = 0; i < n; i++)
    print_sample (model, ds, i, &norm, x);
  cnn_dataset_free (ds);
  cnn_model_free (model);
  return 0;
}
