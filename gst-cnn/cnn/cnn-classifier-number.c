/* A classifier reading numbers (docs/design.md, "The number mode"): the
 * reader's digits, each given no class below the threshold, and the
 * number's text, voted over frames as the smoothing says. */
#include "cnn.h"

#include <string.h>

#define NO_DIGIT "?"

/* Appends @part to @text (CNN_NUMBER_TEXT_SIZE bytes) when it fits
 * whole; FALSE when it does not (and nothing more is to be added). */
static gboolean
append_label (gchar * text, const gchar * part)
{
  const gsize used = strlen (text), len = strlen (part);

  if (used + len >= CNN_NUMBER_TEXT_SIZE)
    return FALSE;
  memcpy (text + used, part, len + 1);
  return TRUE;
}

/* @r from the reader's @digits (@n of them). */
static void
reading_set (CnnReading * r, const CnnClassifier * classifier, CnnRect roi,
    const CnnNumberDigit * digits, guint n, gdouble threshold)
{
  gboolean fits = TRUE;

  r->roi = roi;
  r->n_digits = MIN (n, CNN_NUMBER_MAX_DIGITS);
  r->text[0] = '\0';
  for (guint i = 0; i < r->n_digits; i++) {
    const guint best = cnn_argmax (digits[i].probabilities,
        classifier->n_classes);
    const gfloat confidence = digits[i].probabilities[best];

    r->class_ids[i] = confidence >= threshold ? (gint) best : -1;
    r->confidences[i] = confidence;
    r->boxes[i] = digits[i].box;
    r->probabilities[i] = digits[i].probabilities;
    r->inputs[i] = digits[i].input;
    if (fits)
      fits = append_label (r->text, r->class_ids[i] < 0 ? NO_DIGIT :
          cnn_classifier_label (classifier, r->class_ids[i]));
  }
}

guint
cnn_classifier_read_number (CnnClassifier * classifier,
    const CnnImage * image, CnnRect roi, gdouble threshold)
{
  const CnnNumberDigit *digits;
  guint n;

  g_return_val_if_fail (classifier->reader != NULL, 0);

  n = cnn_number_reader_run (classifier->reader, classifier->ws, image, roi,
      &digits);
  reading_set (&classifier->reading, classifier, roi, digits, n, threshold);
  cnn_smoothing_add_text (classifier->smoothing, classifier->reading.text,
      classifier->reading.shown);
  return classifier->reading.n_digits;
}
