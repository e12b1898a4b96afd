/* Reading a number (docs/design.md, "The number mode"): the region →
 * the work picture (cnn-preprocess.c) → the units of the number and
 * their other readings (cnn-number.c, cnn-number-cuts.c) → every piece
 * framed and classified, in batches of the network → for each doubt,
 * the reading the network is surer of.
 *
 * A doubt is settled by confidence, the probability of the most
 * probable class: a unit is read as two touching digits when the
 * network is surer of each side than of the whole (half a 0 is no
 * digit it knows; a squeezed "49" is one it is unsure of), and two
 * units as one broken digit when it is surer of both together than of
 * the less sure of the two (an arc of a 0 is a poor 1; two 1s side by
 * side are no digit at all).  Every piece is classified in the same
 * batches whether it is kept or not: a number without doubts costs its
 * digits only.
 */
#include "cnn-number-private.h"
#include "cnn-private.h"
#include "cnn-resize.h"

#include <string.h>

/* Every piece a number may be read with. */
#define MAX_PIECES (CNN_NUMBER_MAX_DIGITS + CNN_NUMBER_MAX_OTHERS)
/* A cut through a joint (prefers_split()): the ink it crosses, in
 * stroke widths; the piece's width, in the line's heights; how sure the
 * network must be of the sides, and how much less than of the whole it
 * may be.  Fitted on training digits' frames (make-number-frames), 600
 * of them with 537 cuts proposed: 519 settled right, 510 by
 * confidence alone. */
#define JOINT_STROKES 0.4
#define JOINT_MIN_WIDTH 0.9
#define JOINT_MIN_SIDES 0.3
#define JOINT_DOUBT 0.45
/* Two units are read as one broken digit only when the network is less
 * sure than this of one of them: it reads many a pair of sure digits
 * as one surer still ("11" as a 4, "01" as a 0).  Development frames
 * (number-eval.sh --dev --count 200, seeds 2 and 3): 76.5 and 79.5 % of
 * numbers exact without it, 78.0 and 80.5 % with it. */
#define JOIN_MAX_SURE 0.6

struct _CnnNumberReader
{
  CnnNetwork *net;              /* borrowed */
  CnnWorkspace *ws;             /* this frame's, borrowed */
  CnnPreprocessor *pre;
  gsize input_size;
  guint n_classes;

  /* Per piece: its input's place in the batch (-1: not framed), its box
   * in cells.  Per framed piece, in batch order: its input, its
   * probabilities and its confidence. */
  gint slot[MAX_PIECES];
  CnnCellBox cells[MAX_PIECES];
  gfloat *inputs;               /* MAX_PIECES × input_size */
  gfloat *probabilities;        /* MAX_PIECES × n_classes */
  gfloat confidence[MAX_PIECES];
  CnnNumberDigit digits[CNN_NUMBER_MAX_DIGITS];
};

CnnNumberReader *
cnn_number_reader_new (CnnNetwork * net, const gchar * spec,
    guint64 memory_limit, GError ** error)
{
  const CnnShape input = cnn_network_input_shape (net);
  const guint n_classes = cnn_shape_size (cnn_network_output_shape (net));
  const guint64 bytes = cnn_bytes_mul (MAX_PIECES, cnn_bytes_mul (sizeof
          (gfloat), cnn_bytes_add (cnn_shape_size (input), n_classes)));
  CnnNumberReader *r;

  g_return_val_if_fail (net != NULL && spec != NULL, NULL);

  if (!cnn_memory_check (bytes, memory_limit, "the number reader's inputs "
          "and results", error))
    return NULL;
  r = g_new0 (CnnNumberReader, 1);
  r->net = net;
  r->input_size = cnn_shape_size (input);
  r->n_classes = n_classes;
  r->pre = cnn_preprocessor_new_number (spec, input, memory_limit, error);
  if (!r->pre)
    goto failed;
  r->inputs = g_try_new (gfloat, MAX_PIECES * r->input_size);
  r->probabilities = g_try_new (gfloat, MAX_PIECES * n_classes);
  if (!r->inputs || !r->probabilities) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_NOMEM, "cannot allocate the "
        "number reader's inputs and results");
    goto failed;
  }
  return r;

  /* ERRORS */
failed:
  cnn_number_reader_free (r);
  return NULL;
}

void
cnn_number_reader_free (CnnNumberReader * r)
{
  if (!r)
    return;
  cnn_preprocessor_free (r->pre);
  g_free (r->inputs);
  g_free (r->probabilities);
  g_free (r);
}

/* Every piece framed into the next slot of r->inputs; their count. */
static guint
frame_pieces (CnnNumberReader * r, CnnNumber * n)
{
  guint slots = 0;

  for (guint i = 0; i < n->n_pieces; i++) {
    gfloat *input = r->inputs + slots * r->input_size;

    r->slot[i] = -1;
    if (!cnn_number_frame (n, &n->pieces[i], input, &r->cells[i]))
      continue;
    cnn_preprocessor_finish (r->pre, input);
    r->slot[i] = (gint) slots++;
  }
  return slots;
}

/* The @count inputs through the network, as many at a time as the
 * workspace takes. */
static void
classify_pieces (CnnNumberReader * r, guint count)
{
  const guint batch = cnn_workspace_max_batch (r->ws);

  for (guint first = 0; first < count; first += batch) {
    const guint k = MIN (batch, count - first);
    const gfloat *out = cnn_workspace_forward (r->ws,
        r->inputs + first * r->input_size, k);

    for (guint j = 0; j < k; j++) {
      gfloat *p = r->probabilities + (first + j) * r->n_classes;

      cnn_network_probabilities (r->net, out + j * r->n_classes, p);
      r->confidence[first + j] = p[cnn_argmax (p, r->n_classes)];
    }
  }
}

/* The network's confidence in piece @i; 0 when it was not framed (too
 * faint) or does not exist. */
static gfloat
confidence (const CnnNumberReader * r, gint i)
{
  return i >= 0 && r->slot[i] >= 0 ? r->confidence[r->slot[i]] : 0.0f;
}

/* How sure the network is of the best reading of piece @i, whole or
 * cut (and its sides cut again): the least sure of its digits. */
static gfloat
best_score (const CnnNumberReader * r, const CnnNumber * n, gint i)
{
  const CnnPiece *p = &n->pieces[i];
  gfloat sides;

  if (p->split[0] < 0)
    return confidence (r, i);
  sides = MIN (best_score (r, n, p->split[0]), best_score (r, n,
          p->split[1]));
  return MAX (sides, confidence (r, i));
}

/* Whether piece @i reads better as the two sides of its cut: the
 * network is surer of each side than of the whole; or the cut crossed
 * almost no ink (the digits barely touch) down a piece at least as wide
 * as a digit is high, and the network reads both sides, if less surely
 * than the whole (it is sure of many a squeezed pair: "41" as a 4). */
static gboolean
prefers_split (const CnnNumberReader * r, const CnnNumber * n, guint i)
{
  const CnnPiece *p = &n->pieces[i];
  gfloat sides, whole;

  if (p->split[0] < 0)
    return FALSE;
  sides = MIN (best_score (r, n, p->split[0]), best_score (r, n,
          p->split[1]));
  whole = confidence (r, (gint) i);
  return sides > whole || (p->cut_strokes <= JOINT_STROKES
      && p->span.u1 - p->span.u0 >= JOINT_MIN_WIDTH * n->height
      && sides >= JOINT_MIN_SIDES && sides > whole - JOINT_DOUBT);
}

/* Whether units @i and @i + 1 read better as one digit: the network is
 * unsure of one of them (JOIN_MAX_SURE) and surer of both together than
 * of the less sure one, neither is better cut, and the next pair does
 * not read better still. */
static gboolean
prefers_join (const CnnNumberReader * r, const CnnNumber * n, guint i)
{
  const CnnPiece *p = &n->pieces[i];
  const gfloat both = confidence (r, p->joined);
  gfloat less_sure;

  if (p->joined < 0 || i + 1 >= n->n_units || prefers_split (r, n, i + 1))
    return FALSE;
  less_sure = MIN (confidence (r, (gint) i), confidence (r, (gint) i + 1));
  if (less_sure >= JOIN_MAX_SURE || both <= less_sure)
    return FALSE;
  return i + 2 >= n->n_units || !prefers_join (r, n, i + 1)
      || confidence (r, n->pieces[i + 1].joined) <= both;
}

/* Piece @i, framed, as the next digit. */
static void
add_digit (CnnNumberReader * r, const CnnNumber * n, CnnRect rect, gint i,
    guint * count)
{
  const gint slot = r->slot[i];
  const CnnCellBox *c = &r->cells[i];
  CnnNumberDigit *d = &r->digits[*count];

  if (slot < 0 || *count >= CNN_NUMBER_MAX_DIGITS)
    return;
  d->box = cnn_cells_to_rect (c->x0, c->y0, c->x1, c->y1, n->w, n->h, rect);
  d->input = r->inputs + slot * r->input_size;
  d->probabilities = r->probabilities + slot * r->n_classes;
  (*count)++;
}

/* Piece @i as its best reading: whole, or its sides, each read so. */
static void
add_split (CnnNumberReader * r, const CnnNumber * n, CnnRect rect, guint i,
    guint * count)
{
  const CnnPiece *p = &n->pieces[i];

  for (guint k = 0; k < 2; k++) {
    const gint side = p->split[k];

    if (prefers_split (r, n, (guint) side))
      add_split (r, n, rect, (guint) side, count);
    else
      add_digit (r, n, rect, side, count);
  }
}

guint
cnn_number_reader_run (CnnNumberReader * r, CnnWorkspace * ws,
    const CnnImage * image, CnnRect roi, const CnnNumberDigit ** digits)
{
  CnnNumber *n;
  CnnRect rect;
  gdouble aspect;
  guint count = 0;

  g_return_val_if_fail (r != NULL && ws != NULL && image != NULL
      && digits != NULL, 0);
  g_return_val_if_fail (cnn_workspace_max_batch (ws) >= 1, 0);

  *digits = r->digits;
  r->ws = ws;
  n = cnn_preprocessor_number_picture (r->pre, image, roi, &rect, &aspect);
  if (!n)
    return 0;
  cnn_number_segment (n, aspect);
  classify_pieces (r, frame_pieces (r, n));
  for (guint i = 0; i < n->n_units; i++) {
    const CnnPiece *p = &n->pieces[i];

    if (prefers_split (r, n, i)) {
      add_split (r, n, rect, i, &count);
    } else if (prefers_join (r, n, i)) {
      add_digit (r, n, rect, p->joined, &count);
      i++;
    } else {
      add_digit (r, n, rect, (gint) i, &count);
    }
  }
  return count;
}
