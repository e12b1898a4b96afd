/* A loaded model ready to classify regions of frames (docs/design.md
 * §1): the model, its labels, the preprocessing, a workspace and the
 * smoothing, all allocated when it is made; cnnclassify's, with no
 * GStreamer in it.  The model is shared with the other classifiers of
 * the same file in the process (cnn_model_load_shared()), so everything
 * that changes (labels from a file, the workspace, the smoothing) is the
 * classifier's own. */
#include "cnn.h"

#include <string.h>

/* The classifier's own labels, in place of the (shared, read-only)
 * model's. */
static gboolean
replace_labels (CnnClassifier * classifier, const gchar * labels_path,
    GError ** error)
{
  gchar **labels = cnn_labels_read (labels_path, error);
  guint n;

  if (labels == NULL)
    return FALSE;
  n = g_strv_length (labels);
  if (n != classifier->n_classes) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "labels file %s does not fit model %s: %u labels given but the "
        "network has %u outputs", labels_path,
        cnn_model_name (classifier->model), n, classifier->n_classes);
    g_strfreev (labels);
    return FALSE;
  }
  classifier->labels = labels;
  return TRUE;
}

/* Frames give 1 (grey) or 3 (RGB) channels. */
static gboolean
check_input (CnnClassifier * classifier, const gchar * model_path,
    GError ** error)
{
  CnnShape input = cnn_network_input_shape (classifier->network);

  if (input.c != 1 && input.c != 3) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "%s: the model takes %u channels; frames give 1 (grey) or 3 (RGB)",
        model_path, input.c);
    return FALSE;
  }
  if (cnn_model_n_labels (classifier->model) != classifier->n_classes) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "%s: %u labels for %u network outputs", model_path,
        cnn_model_n_labels (classifier->model), classifier->n_classes);
    return FALSE;
  }
  return TRUE;
}

static const gchar *
choose_preprocess (CnnClassifier * classifier, const gchar * preprocess)
{
  if (preprocess != NULL && preprocess[0] != '\0')
    return preprocess;
  preprocess = cnn_model_get_metadata (classifier->model, "preprocess");
  if (preprocess != NULL && preprocess[0] != '\0')
    return preprocess;
  return CNN_DEFAULT_PREPROCESS;
}

/* The regions' inputs and results, which classifying a frame writes
 * to, within the memory limit. */
static gboolean
alloc_results (CnnClassifier * classifier, const gchar * model_path,
    GError ** error)
{
  guint64 input = cnn_shape_size (cnn_network_input_shape
      (classifier->network));
  guint64 n = classifier->n_classes, regions = classifier->max_regions;
  guint64 bytes = (regions * (input + n) + n) * sizeof (gfloat)
      + regions * sizeof (gboolean);
  gchar *what = g_strdup_printf ("%s: the inputs and results of %"
      G_GUINT64_FORMAT " region(s)", model_path, regions);
  gboolean fits = cnn_memory_check (bytes, classifier->memory_limit, what,
      error);

  g_free (what);
  if (!fits)
    return FALSE;
  classifier->input = g_try_new0 (gfloat, regions * input);
  classifier->input_valid = g_try_new0 (gboolean, regions);
  classifier->frame_probabilities = g_try_new0 (gfloat, regions * n);
  classifier->probabilities = g_try_new0 (gfloat, n);
  if (classifier->input && classifier->input_valid
      && classifier->frame_probabilities && classifier->probabilities)
    return TRUE;
  g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM, "%s: cannot allocate "
      "the inputs and results of %" G_GUINT64_FORMAT " region(s) of %"
      G_GUINT64_FORMAT " classes", model_path, regions, n);
  return FALSE;
}

/* The model's calibrated "no digit" confidence (metadata reject-below,
 * written by cnn train --augment webcam); 0 when it has none. */
static gboolean
read_reject_below (CnnClassifier * classifier, const gchar * model_path,
    GError ** error)
{
  const gchar *text = cnn_model_get_metadata (classifier->model,
      "reject-below");
  gchar *end = NULL;
  gdouble value;

  classifier->reject_below = 0.0;
  if (!text)
    return TRUE;
  value = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || !(value >= 0.0 && value <= 1.0)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: __metadata__ "
        "'reject-below' is \"%s\", not a probability from 0 to 1",
        model_path, text);
    return FALSE;
  }
  classifier->reject_below = value;
  return TRUE;
}

static gboolean
prepare (CnnClassifier * classifier, const gchar * model_path,
    const gchar * preprocess, gboolean numbers, GError ** error)
{
  CnnShape input = cnn_network_input_shape (classifier->network);
  const gchar *spec;
  GError *err = NULL;

  if (!check_input (classifier, model_path, error))
    return FALSE;
  if (!read_reject_below (classifier, model_path, error))
    return FALSE;

  spec = choose_preprocess (classifier, preprocess);
  if (numbers)
    classifier->reader = cnn_number_reader_new (classifier->network, spec,
        classifier->memory_limit, &err);
  else
    classifier->preprocessor = cnn_preprocessor_new_full (spec, input,
        classifier->memory_limit, &err);
  if (classifier->preprocessor == NULL && classifier->reader == NULL) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID,
        "%s: preprocess \"%s\": %s", model_path, spec, err->message);
    g_error_free (err);
    return FALSE;
  }
  if (!alloc_results (classifier, model_path, error))
    return FALSE;
  return TRUE;
}

/* The workspace and the smoothing @tuning asks for. */
static gboolean
tune (CnnClassifier * classifier, const gchar * model_path,
    const CnnClassifierTuning * tuning, GError ** error)
{
  GError *err = NULL;

  classifier->ws = cnn_classifier_workspace_new (classifier, tuning->threads,
      &err);
  if (classifier->ws != NULL)
    classifier->smoothing = cnn_classifier_smoothing_new (classifier,
        tuning->smoothing, tuning->smoothing_mode, &err);
  if (classifier->smoothing != NULL)
    return TRUE;
  g_set_error (error, err->domain, err->code, "%s: %s", model_path,
      err->message);
  g_error_free (err);
  return FALSE;
}

static CnnClassifier *
classifier_new (const gchar * model_path, const gchar * labels_path,
    const gchar * preprocess, gboolean numbers, guint64 memory_limit,
    guint max_regions, const CnnClassifierTuning * tuning,
    CnnClassifierStep * failed, GError ** error)
{
  CnnClassifier *classifier;

  g_return_val_if_fail (max_regions >= 1
      && max_regions <= CNN_CLASSIFIER_MAX_REGIONS, NULL);

  classifier = g_new0 (CnnClassifier, 1);
  classifier->memory_limit = memory_limit;
  classifier->max_regions = max_regions;
  /* A number's pieces go through the network in batches. */
  classifier->batch = numbers ? CNN_NUMBER_BATCH
      : MIN (max_regions, CNN_CLASSIFIER_BATCH);
  *failed = CNN_CLASSIFIER_STEP_MODEL;
  classifier->model = cnn_model_load_shared (model_path, memory_limit, error);
  if (classifier->model == NULL)
    goto failed;
  classifier->network = cnn_model_network (classifier->model);
  classifier->n_classes =
      cnn_shape_size (cnn_network_output_shape (classifier->network));
  *failed = CNN_CLASSIFIER_STEP_LABELS;
  if (labels_path != NULL && labels_path[0] != '\0'
      && !replace_labels (classifier, labels_path, error))
    goto failed;
  *failed = CNN_CLASSIFIER_STEP_SETTINGS;
  if (!prepare (classifier, model_path, preprocess, numbers, error)
      || !tune (classifier, model_path, tuning, error))
    goto failed;
  return classifier;

failed:
  cnn_classifier_free (classifier);
  return NULL;
}

CnnClassifier *
cnn_classifier_new (const gchar * model_path, const gchar * labels_path,
    const gchar * preprocess, guint64 memory_limit, guint max_regions,
    const CnnClassifierTuning * tuning, CnnClassifierStep * failed,
    GError ** error)
{
  return classifier_new (model_path, labels_path, preprocess, FALSE,
      memory_limit, max_regions, tuning, failed, error);
}

CnnClassifier *
cnn_classifier_new_number (const gchar * model_path,
    const gchar * labels_path, const gchar * preprocess,
    guint64 memory_limit, const CnnClassifierTuning * tuning,
    CnnClassifierStep * failed, GError ** error)
{
  return classifier_new (model_path, labels_path, preprocess, TRUE,
      memory_limit, 1, tuning, failed, error);
}

void
cnn_classifier_free (CnnClassifier * classifier)
{
  if (classifier == NULL)
    return;
  if (classifier->preprocessor != NULL)
    cnn_preprocessor_free (classifier->preprocessor);
  cnn_number_reader_free (classifier->reader);
  cnn_workspace_free (classifier->ws);
  if (classifier->model != NULL)
    cnn_model_free (classifier->model);
  g_free (classifier->input);
  g_free (classifier->input_valid);
  g_free (classifier->frame_probabilities);
  g_free (classifier->probabilities);
  cnn_smoothing_free (classifier->smoothing);
  g_strfreev (classifier->labels);
  g_free (classifier);
}

static gsize
input_size (const CnnClassifier * classifier)
{
  return cnn_shape_size (cnn_network_input_shape (classifier->network));
}

/* Regions [first, first + count) (count ≤ batch) prepared and, those
 * with something to classify, through the network in one pass; their
 * own probabilities, all 0 when there was nothing to classify. */
static void
run_regions (CnnClassifier * classifier, const CnnImage * image,
    const CnnRect * rois, guint first, guint count)
{
  gsize in_size = input_size (classifier), n = classifier->n_classes;
  gfloat *input = classifier->input + first * in_size;
  gfloat *probabilities = classifier->frame_probabilities + first * n;
  gboolean *valid = classifier->input_valid + first;
  gboolean any = FALSE;
  const gfloat *output;

  for (guint i = 0; i < count; i++) {
    valid[i] = cnn_preprocessor_run (classifier->preprocessor, image,
        rois[i], input + i * in_size);
    any = any || valid[i];
  }
  output = any ? cnn_workspace_forward (classifier->ws, input, count) : NULL;
  for (guint i = 0; i < count; i++) {
    if (valid[i])
      cnn_network_probabilities (classifier->network, output + i * n,
          probabilities + i * n);
    else
      memset (probabilities + i * n, 0, n * sizeof (gfloat));
  }
}

CnnWorkspace *
cnn_classifier_workspace_new (CnnClassifier * classifier, guint n_threads,
    GError ** error)
{
  /* Reads only the frozen network, which passes do not write. */
  return cnn_workspace_new (classifier->network, classifier->batch,
      n_threads, error);
}

CnnWorkspace *
cnn_classifier_swap_workspace (CnnClassifier * classifier, CnnWorkspace * ws)
{
  CnnWorkspace *old = classifier->ws;

  classifier->ws = ws;
  return old;
}

CnnSmoothing *
cnn_classifier_smoothing_new (CnnClassifier * classifier, guint n_frames,
    CnnSmoothingMode mode, GError ** error)
{
  if (classifier->reader != NULL)
    return cnn_smoothing_new_texts (classifier->n_classes, n_frames, mode,
        classifier->memory_limit, error);
  return cnn_smoothing_new (classifier->n_classes, n_frames, mode,
      classifier->memory_limit, error);
}

CnnSmoothing *
cnn_classifier_swap_smoothing (CnnClassifier * classifier,
    CnnSmoothing * smoothing)
{
  CnnSmoothing *old = classifier->smoothing;

  g_return_val_if_fail (smoothing->n_classes == classifier->n_classes,
      smoothing);
  classifier->smoothing = smoothing;
  return old;
}

void
cnn_classifier_get_tuning (const CnnClassifier * classifier,
    CnnClassifierTuning * tuning)
{
  tuning->threads = cnn_workspace_n_threads (classifier->ws);
  tuning->smoothing = classifier->smoothing->n_frames;
  tuning->smoothing_mode = classifier->smoothing->mode;
}

void
cnn_classifier_reset_smoothing (CnnClassifier * classifier)
{
  cnn_smoothing_reset (classifier->smoothing);
}

gint
cnn_classifier_best (const CnnClassifier * classifier,
    const gfloat * probabilities)
{
  guint best = cnn_argmax (probabilities, classifier->n_classes);

  return probabilities[best] > 0.0f ? (gint) best : -1;
}

gint
cnn_classifier_classify (CnnClassifier * classifier, const CnnImage * image,
    CnnRect roi)
{
  run_regions (classifier, image, &roi, 0, 1);
  cnn_smoothing_add (classifier->smoothing, classifier->frame_probabilities,
      classifier->probabilities);
  return cnn_classifier_best (classifier, classifier->probabilities);
}

void
cnn_classifier_classify_regions (CnnClassifier * classifier,
    const CnnImage * image, const CnnRect * rois, guint n)
{
  g_return_if_fail (n <= classifier->max_regions);

  for (guint first = 0; first < n; first += classifier->batch)
    run_regions (classifier, image, rois + first, first,
        MIN (classifier->batch, n - first));
}

const gfloat *
cnn_classifier_region_probabilities (const CnnClassifier * classifier,
    guint region)
{
  g_return_val_if_fail (region < classifier->max_regions, NULL);
  return classifier->frame_probabilities
      + (gsize) region * classifier->n_classes;
}

const gfloat *
cnn_classifier_region_input (const CnnClassifier * classifier, guint region)
{
  g_return_val_if_fail (region < classifier->max_regions, NULL);
  if (!classifier->input_valid[region])
    return NULL;
  return classifier->input + region * input_size (classifier);
}

const gchar *
cnn_classifier_label (const CnnClassifier * classifier, gint class_id)
{
  if (class_id < 0)
    return NULL;
  if (classifier->labels != NULL)
    return classifier->labels[class_id];
  return cnn_model_label (classifier->model, class_id);
}

const gchar *
cnn_classifier_name (const CnnClassifier * classifier)
{
  return cnn_model_name (classifier->model);
}
