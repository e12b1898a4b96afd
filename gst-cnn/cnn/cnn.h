/* libcnn — a small convolutional network engine on GLib, GIO,
 * json-glib and OpenBLAS, with no GStreamer in it.
 *
 * The one public header: networks built from an architecture text
 * (docs/design.md §2), their forward and backward passes, model files
 * (safetensors, §3) and frame preprocessing (§1, §4).
 *
 * Tensors are float32, batch-major, channels-first (N×C×H×W), the
 * layout PyTorch uses, so model files load in PyTorch unchanged.
 *
 * Classifying one grey 28×28 picture with a model file:
 *
 *   GError *error = NULL;
 *   CnnModel *model = cnn_model_load ("digits.safetensors", &error);
 *   CnnNetwork *net = model ? cnn_model_network (model) : NULL;
 *   gfloat input[28 * 28], p[10];     // the picture, values in 0..1
 *
 *   if (!net || !cnn_network_reserve (net, 1, &error))
 *     g_printerr ("%s\n", error->message);
 *   else {
 *     cnn_network_probabilities (net, cnn_network_forward (net, input, 1), p);
 *     g_print ("class %u\n", cnn_argmax (p, 10));
 *   }
 *   cnn_model_free (model);           // the network is the model's
 */
#ifndef CNN_H
#define CNN_H

#include <glib.h>

G_BEGIN_DECLS

/* ---- errors -------------------------------------------------------- */

#define CNN_ERROR (cnn_error_quark ())
GQuark cnn_error_quark (void);

typedef enum
{
  CNN_ERROR_ARCH,               /* architecture text or shapes do not work out */
  CNN_ERROR_MODEL,              /* model file is malformed or inconsistent */
  CNN_ERROR_IO,                 /* a file could not be read or written */
  CNN_ERROR_DATASET,            /* a dataset file is malformed or inconsistent */
  CNN_ERROR_INVALID,            /* an argument or setting is out of range */
  CNN_ERROR_NOMEM,              /* more memory than the limit allows, or
                                 * than the system gives */
} CnnError;

/* ---- memory -------------------------------------------------------- */

/* Everything an input can make libcnn allocate — weights, working memory,
 * kernel buffers, preprocessing planes — is added up (in 64 bits that
 * cannot wrap) before any of it is allocated and refused, with a
 * CNN_ERROR_NOMEM naming the file and field, when it exceeds a limit:
 * by default 1 GiB, CNN_MEMORY_LIMIT in the environment (bytes, with an
 * optional K, M, G or T suffix: "512M") overrides that. */
#define CNN_MEMORY_LIMIT_DEFAULT (G_GUINT64_CONSTANT (1) << 30)

/* The limit functions given 0 use: cnn_set_memory_limit()'s, else
 * CNN_MEMORY_LIMIT's, else the default. */
guint64 cnn_memory_limit (void);
/* For applications (the cnn tool's --memory-limit), not for plugins,
 * which pass their own limit to the *_full() functions instead: sets the
 * process-wide limit; 0 goes back to CNN_MEMORY_LIMIT or the default.
 * Call before other threads use libcnn. */
void cnn_set_memory_limit (guint64 bytes);
/* "1073741824", "512M", "2G" → bytes (above 0). */
gboolean cnn_memory_limit_parse (const gchar * text, guint64 * bytes,
    GError ** error);
/* TRUE when @needed bytes (G_MAXUINT64: more than can be counted) fit in
 * @limit (0: cnn_memory_limit()); else FALSE and an error "@what needs
 * N MiB, more than the memory limit of L MiB". */
gboolean cnn_memory_check (guint64 needed, guint64 limit, const gchar * what,
    GError ** error);

/* ---- JSON limits --------------------------------------------------- */

/* Every JSON text the project reads (model headers and labels,
 * checkpoint headers, training history) is held to these before
 * json-glib parses it: json-glib recurses once per nesting level (a
 * file of 100,000 '[' overflows the stack) and spends some 100 bytes a
 * value. */
#define CNN_JSON_MAX_DEPTH 16
#define CNN_JSON_MAX_BYTES (G_GUINT64_CONSTANT (100) << 20)

/* Checks @len bytes of JSON text for what json-glib does not: nesting at
 * most @max_depth deep, at most 2^20 values, integers that fit in 64
 * bits (json-glib wraps larger ones silently), nothing outside strings
 * beyond plain JSON (json-glib accepts comments and single quotes, which
 * would hide brackets from the depth count).  On failure @offset and
 * @problem say where and what. */
gboolean cnn_json_check (const gchar * text, gsize len, guint max_depth,
    gsize * offset, const gchar ** problem);

/* ---- shapes -------------------------------------------------------- */

/* A single sample's shape; a flat vector of n values is n×1×1. */
typedef struct
{
  guint c, h, w;
} CnnShape;

static inline gsize
cnn_shape_size (CnnShape s)
{
  return (gsize) s.c * s.h * s.w;
}

/* Parses "CxHxW" (e.g. "1x28x28"); every dimension in 1..65535. */
gboolean cnn_shape_parse (const gchar * text, CnnShape * shape, GError ** error);
/* Formats as "CxHxW"; returns a newly allocated string. */
gchar *cnn_shape_to_string (CnnShape shape);

/* Appends the shortest text that reads back as exactly @value (a float):
 * 0.98f as "0.98", not "0.98000001907348633"; '.' in every locale. */
void cnn_string_append_float (GString * text, gfloat value);

/* ---- the network --------------------------------------------------- */

typedef struct _CnnNetwork CnnNetwork;

/* The reference digit network (docs/design.md §2). */
#define CNN_DEFAULT_ARCHITECTURE \
  "conv 32 3, relu, conv 64 3, relu, maxpool 2, dropout 0.25, flatten, " \
  "dense 128, relu, dropout 0.5, dense 10, softmax"

/* Builds a network from architecture text for inputs of @input shape.
 * Parameters start at zero (see cnn_network_init_params()).  Fails with
 * CNN_ERROR_ARCH naming the layer when the text or a shape is wrong,
 * CNN_ERROR_NOMEM when it needs more than cnn_memory_limit(). */
CnnNetwork *cnn_network_new (const gchar * architecture, CnnShape input,
    GError ** error);
/* The same within @memory_limit bytes (0: cnn_memory_limit()), which
 * also bounds later cnn_network_reserve() and
 * cnn_network_reserve_training() calls: the parameters, the kernels'
 * copies of them, the working memory and the batch's input the caller
 * holds (cnn_shape_size (input) floats a sample) are all counted. */
CnnNetwork *cnn_network_new_full (const gchar * architecture, CnnShape input,
    guint64 memory_limit, GError ** error);
/* Bytes the network holds or, for the input, expects its caller to: what
 * is counted against its memory limit. */
guint64 cnn_network_memory (const CnnNetwork * net);
guint64 cnn_network_memory_limit (const CnnNetwork * net);
void cnn_network_free (CnnNetwork * net);

/* Canonical architecture text, e.g. "conv 32 3, relu, ...". */
const gchar *cnn_network_architecture (const CnnNetwork * net);
CnnShape cnn_network_input_shape (const CnnNetwork * net);
CnnShape cnn_network_output_shape (const CnnNetwork * net);

guint cnn_network_n_layers (const CnnNetwork * net);
/* Kind name of a layer: "conv2d", "relu", "maxpool", "dropout",
 * "flatten", "dense" or "softmax". */
const gchar *cnn_network_layer_kind (const CnnNetwork * net, guint layer);
/* Human description, e.g. "conv2d 32 3x3 stride 1 pad 0". */
gchar *cnn_network_layer_describe (const CnnNetwork * net, guint layer);
CnnShape cnn_network_layer_output_shape (const CnnNetwork * net, guint layer);
/* Learnable values (weights + biases) of one layer, and of all. */
gsize cnn_network_layer_param_count (const CnnNetwork * net, guint layer);
gsize cnn_network_param_count (const CnnNetwork * net);

/* The numbers a layer was made with, 0 where its kind has none: conv
 * and dense their units, conv and the pools their k×k window and
 * stride, conv its zero padding on each side. */
typedef struct
{
  guint units, kernel, stride, pad;
} CnnLayerGeometry;

CnnLayerGeometry cnn_network_layer_geometry (const CnnNetwork * net,
    guint layer);

/* The learnable tensors of a layer: 0 (weight, bias) for parameter-free
 * layers.  Weight shapes follow PyTorch: conv (out, in, k, k), dense
 * (out, in).  Pointers stay valid for the network's life. */
guint cnn_network_layer_n_tensors (const CnnNetwork * net, guint layer);
/* Fills @name ("weight"/"bias"), @dims (up to 4) and returns the data. */
gfloat *cnn_network_layer_tensor (CnnNetwork * net, guint layer,
    guint tensor, const gchar ** name, guint * n_dims, gsize dims[4]);

/* All learnable values as one contiguous array, in layer order, each
 * layer's weight before its bias.  Writable: for a network whose weights
 * a loaded model froze (cnn_model_load()), this call, like
 * cnn_network_layer_tensor() and cnn_network_init_params(), first drops
 * the copies its fast kernels keep (fp16 dense weights), so that what is
 * written through the pointer is what later passes compute with. */
gfloat *cnn_network_params (CnnNetwork * net);

/* He-uniform weights, zero biases, from a seeded generator. */
void cnn_network_init_params (CnnNetwork * net, guint64 seed);

/* Makes room for forward/backward passes of up to @max_batch samples.
 * All working memory is allocated here, never during a pass. */
gboolean cnn_network_reserve (CnnNetwork * net, guint max_batch,
    GError ** error);
guint cnn_network_max_batch (const CnnNetwork * net);

/* Forward pass (inference: dropout is the identity).  @input holds
 * @batch samples of the input shape; returns @batch outputs of the
 * output shape, owned by the network until the next pass.
 * @batch must be ≤ cnn_network_max_batch(). */
const gfloat *cnn_network_forward (CnnNetwork * net, const gfloat * input,
    guint batch);

/* Index of the largest of @n values (the first on ties): the class a
 * network's output names. */
guint cnn_argmax (const gfloat * values, guint n);

/* Index of the first of @n values that is NaN or infinite, or -1. */
gssize cnn_find_nonfinite (const gfloat * values, gsize n);

/* One sample's output of @net (output-size values) → class
 * probabilities, the way every reader of a model's results takes them
 * (cnnclassify, cnn predict, cnn eval): the values themselves when the
 * network ends in softmax, else their softmax.  @probabilities may be
 * @output. */
void cnn_network_probabilities (const CnnNetwork * net,
    const gfloat * output, gfloat * probabilities);

/* Threads used by one pass (default 1; 1 to CNN_MAX_THREADS).  Work is
 * split between this thread and @n_threads - 1 workers owned by the
 * network's workspace. */
#define CNN_MAX_THREADS 64
void cnn_network_set_threads (CnnNetwork * net, guint n_threads);
guint cnn_network_get_threads (const CnnNetwork * net);

/* Working memory and threads for a network's passes, as an object of
 * its own: what cnn_network_reserve() and cnn_network_set_threads() give
 * the network itself.  Passes in different workspaces of one frozen
 * network (a loaded model's) may run at the same time on different
 * threads: they write only to their workspace.  A workspace for a new
 * thread count or batch size can so be made on one thread while another
 * runs passes in the old one. */
typedef struct _CnnWorkspace CnnWorkspace;

/* Room for passes of @net of up to @max_batch samples on @n_threads
 * threads (clamped to 1..CNN_MAX_THREADS), checked against the
 * network's memory limit beside its fixed memory (CNN_ERROR_NOMEM).
 * @net must outlive the workspace. */
CnnWorkspace *cnn_workspace_new (CnnNetwork * net, guint max_batch,
    guint n_threads, GError ** error);
void cnn_workspace_free (CnnWorkspace * ws);
guint cnn_workspace_max_batch (const CnnWorkspace * ws);
guint cnn_workspace_n_threads (const CnnWorkspace * ws);
/* Bytes it holds, counted as cnn_network_memory() counts the network's
 * own. */
guint64 cnn_workspace_bytes (const CnnWorkspace * ws);
/* cnn_network_forward() of the workspace's network, in @ws: the result
 * is @ws's until its next pass. */
const gfloat *cnn_workspace_forward (CnnWorkspace * ws,
    const gfloat * input, guint batch);
/* The kernels inference runs: "avx512", "avx512-bf16", "avx512-int8",
 * "avx2" or "portable" (chosen when the network is made, from the CPU;
 * CNN_KERNELS=portable or avx2 in the environment forces those, and
 * avx512-bf16 or avx512-int8 asks for those opt-in variants where the
 * CPU has them). */
const gchar *cnn_network_kernels (const CnnNetwork * net);

/* ---- model files (safetensors, docs/design.md §3) ----------------- */

typedef struct _CnnModel CnnModel;

/* A fresh model: the network with zero parameters, labels "0".."n-1",
 * preprocess "resize", format metadata filled in. */
CnnModel *cnn_model_new (const gchar * architecture, CnnShape input,
    GError ** error);
/* Reads and validates a model file; every failure is a GError that
 * names the file and what is wrong (CNN_ERROR_MODEL or CNN_ERROR_IO). */
/* The preprocessing of a model that names none. */
#define CNN_DEFAULT_PREPROCESS "resize"

/* A model's "labels" metadata, a JSON array of @n_labels strings (0: of
 * any length), → a NULL-terminated array (g_strfreev); errors
 * (CNN_ERROR_MODEL) begin with @what, where the text came from. */
gchar **cnn_labels_from_json (const gchar * text, guint n_labels,
    const gchar * what, GError ** error);

CnnModel *cnn_model_load (const gchar * path, GError ** error);
/* The same with the network held to @memory_limit bytes (0:
 * cnn_memory_limit()); see cnn_network_new_full(). */
CnnModel *cnn_model_load_full (const gchar * path, guint64 memory_limit,
    GError ** error);
/* The model in @path, shared with whatever else in this process holds
 * it, as cnn_model_load_full() would load it: a holder that asks again
 * for the same file (the same path naming the same file as before: its
 * device, inode, size and modification time), with the same memory
 * limit, gets the model loaded before instead of a copy, without reading
 * the file again.  Thread-safe.  A shared model is read-only: its labels
 * and metadata cannot be set (a critical), and its network, frozen for
 * good, refuses writable weights, cnn_network_reserve(),
 * cnn_network_set_threads(), cnn_network_forward() and training: it has
 * no workspace of its own, and each holder runs passes in a workspace of
 * its own (cnn_workspace_new(), cnn_workspace_forward()), which may run
 * at the same time.  cnn_model_free() lets go of one hold; the last one
 * frees it. */
CnnModel *cnn_model_load_shared (const gchar * path, guint64 memory_limit,
    GError ** error);
/* Whether @model came from cnn_model_load_shared(); how many hold it
 * (1 for a model of one's own); how many shared models are held in the
 * process: for diagnostics. */
gboolean cnn_model_is_shared (const CnnModel * model);
guint cnn_model_n_holders (const CnnModel * model);
guint cnn_model_cache_size (void);
/* Writes atomically: a temporary file beside @path, fsync, rename. */
gboolean cnn_model_save (CnnModel * model, const gchar * path,
    GError ** error);
void cnn_model_free (CnnModel * model);

CnnNetwork *cnn_model_network (CnnModel * model);
/* A short name: the metadata "name" if set, else the file's basename. */
const gchar *cnn_model_name (const CnnModel * model);

guint cnn_model_n_labels (const CnnModel * model);
const gchar *cnn_model_label (const CnnModel * model, guint index);
/* Replaces the labels; their count must equal the output size. */
gboolean cnn_model_set_labels (CnnModel * model, const gchar * const *labels,
    GError ** error);

/* String metadata of the file's "__metadata__".  "format",
 * "format-version", "architecture", "input", "labels" and "sha256" are
 * maintained by the library and cannot be set. */
const gchar *cnn_model_get_metadata (const CnnModel * model, const gchar * key);
void cnn_model_set_metadata (CnnModel * model, const gchar * key,
    const gchar * value);
/* Sorted, NULL-terminated; free with g_strfreev(). */
gchar **cnn_model_metadata_keys (const CnnModel * model);

/* Reads a labels file: one label per line, blank lines and surrounding
 * white space ignored.  NULL-terminated; free with g_strfreev(). */
gchar **cnn_labels_read (const gchar * path, GError ** error);

/* ---- frame preprocessing ------------------------------------------- */

/* One plane of a picture, addressed in its own samples. */
typedef struct
{
  const guint8 *data;           /* the sample of plane pixel (0, 0) */
  gint row_stride;              /* bytes from one row to the next */
  guint pixel_stride;           /* bytes from one sample to the next */
  guint x_shift, y_shift;       /* subsampling: plane = frame >> shift */
} CnnPlane;

typedef enum
{
  CNN_COLOR_GREY,               /* planes[0] = luma, full range */
  CNN_COLOR_RGB,                /* planes = R, G, B, full range */
  CNN_COLOR_YUV,                /* planes = Y, U (Cb), V (Cr) */
} CnnColorModel;

/* A video frame as libcnn sees it; no copy is made. */
typedef struct
{
  guint width, height;          /* in frame pixels */
  CnnColorModel color;
  CnnPlane planes[3];
  gboolean limited_range;       /* YUV: luma 16..235, chroma 16..240 */
  gfloat kr, kb;                /* YUV matrix: 0.299/0.114 (BT.601) ... */
} CnnImage;

/* The BT.601 matrix: the luma of RGB pictures that carry no colorimetry
 * (PNG, PPM, RGB video), and the YUV default. */
#define CNN_BT601_KR 0.299f
#define CNN_BT601_KB 0.114f

typedef struct
{
  guint x, y, width, height;
} CnnRect;

typedef struct _CnnPreprocessor CnnPreprocessor;

/* @spec is the model's "preprocess" text: "resize" (area-average
 * scaling of the region to the input size) optionally followed by
 * "mean=A[,B,C] std=A[,B,C]" applied to values in 0..1. */
CnnPreprocessor *cnn_preprocessor_new (const gchar * spec, CnnShape input,
    GError ** error);
/* The same with its planes and tables held to @memory_limit bytes (0:
 * cnn_memory_limit()). */
CnnPreprocessor *cnn_preprocessor_new_full (const gchar * spec,
    CnnShape input, guint64 memory_limit, GError ** error);
void cnn_preprocessor_free (CnnPreprocessor * pre);
/* Canonical text of the spec. */
const gchar *cnn_preprocessor_spec (const CnnPreprocessor * pre);

/* Prepares @roi (clipped to the frame) of @image as one model input in
 * @out (C×H×W floats).  Allocates only on the first call for a region
 * and frame layout (the scaling weights).  Returns FALSE when there is
 * nothing to classify (an empty region, or no ink in "mnist" mode) or
 * no memory for those weights. */
gboolean cnn_preprocessor_run (CnnPreprocessor * pre, const CnnImage * image,
    CnnRect roi, gfloat * out);
/* After a cnn_preprocessor_run() of mode "mnist" that returned TRUE:
 * the box of the ink it framed as the digit, in frame pixels.  FALSE
 * (and @box untouched) after any other run and before the first. */
gboolean cnn_preprocessor_digit_box (const CnnPreprocessor * pre,
    CnnRect * box);

/* ---- numbers: the digits written on one line ----------------------- */

/* The most digits a number is read with, and the room for its text: a
 * label a digit (the bundled model's are one byte) and a NUL. */
#define CNN_NUMBER_MAX_DIGITS 12
#define CNN_NUMBER_TEXT_SIZE (CNN_NUMBER_MAX_DIGITS + 1)
/* The batch a number reader's workspace must take (cnn_workspace_new()):
 * its pieces go through the network this many at a time. */
#define CNN_NUMBER_BATCH 8

typedef struct _CnnNumberReader CnnNumberReader;

/* One digit of a number read. */
typedef struct
{
  CnnRect box;                  /* its ink, in frame pixels */
  const gfloat *input;          /* what the network was given: C×H×W */
  const gfloat *probabilities;  /* one per class, as
                                 * cnn_network_probabilities() gives them */
} CnnNumberDigit;

/* A reader of numbers written on one line (docs/design.md, "The number
 * mode") for @net's input: the region is scaled to a work grid of 256 ×
 * 192 cells (2.5 frame pixels a cell in a 640×480 frame: as many cells
 * as "mnist"'s 224 × 224 for one digit, over a whole frame), the digits
 * are found on it and each is prepared as @spec ("mnist" only) prepares
 * one digit, then classified by the network.  Where the picture leaves
 * a doubt (two strokes that may be one broken digit or two, a component
 * that may be two touching digits) both readings are classified in the
 * same batches and the surer one is kept.  Everything a frame needs is
 * allocated here, within @memory_limit bytes (0: cnn_memory_limit());
 * @net must outlive the reader. */
CnnNumberReader *cnn_number_reader_new (CnnNetwork * net, const gchar * spec,
    guint64 memory_limit, GError ** error);
void cnn_number_reader_free (CnnNumberReader * reader);

/* Reads the number in @roi (clipped to the frame) of @image, the network
 * running in @ws (of the reader's network, for batches of at least
 * CNN_NUMBER_BATCH): up to CNN_NUMBER_MAX_DIGITS digits in reading order
 * along the line (left to right, the line turned by up to ±12°) in
 * *@digits, which the reader owns until the next call.  Returns how many
 * (0: none).  Allocates only as cnn_preprocessor_run() does (the
 * scaler's tables, on the first frame of a region and layout). */
guint cnn_number_reader_run (CnnNumberReader * reader, CnnWorkspace * ws,
    const CnnImage * image, CnnRect roi, const CnnNumberDigit ** digits);

/* What a number read says, after the threshold: each digit's class (-1
 * below the threshold), confidence, box, probabilities and input (the
 * reader's, valid until it reads the next frame); the text, each
 * digit's label or "?" (a text stops before a label that would not fit
 * CNN_NUMBER_TEXT_SIZE), and the text reported, voted over frames. */
typedef struct
{
  CnnRect roi;                  /* the region read */
  guint n_digits;
  gint class_ids[CNN_NUMBER_MAX_DIGITS];
  gfloat confidences[CNN_NUMBER_MAX_DIGITS];
  CnnRect boxes[CNN_NUMBER_MAX_DIGITS];
  const gfloat *probabilities[CNN_NUMBER_MAX_DIGITS];
  const gfloat *inputs[CNN_NUMBER_MAX_DIGITS];
  gchar text[CNN_NUMBER_TEXT_SIZE];     /* this frame's */
  gchar shown[CNN_NUMBER_TEXT_SIZE];    /* smoothed over frames */
} CnnReading;

/* ---- smoothing probabilities over frames --------------------------- */

/* How the probabilities of successive frames are combined. */
typedef enum
{
  CNN_SMOOTHING_WINDOW,         /* mean of the last N frames */
  CNN_SMOOTHING_EXPONENTIAL,    /* mean decaying by 2 / (N + 1) a frame */
} CnnSmoothingMode;

/* The average of the probabilities of the last frames, of @n_classes
 * classes each; or, for numbers, a vote over their texts.  Its window is
 * allocated when it is made, so that adding a frame allocates nothing;
 * new settings are a new one. */
typedef struct
{
  CnnSmoothingMode mode;
  guint n_frames;               /* N, frames averaged; 1: none */
  guint n_classes;
  guint n_smoothed;             /* frames in the mean, ≤ N */
  guint window_next;            /* window row the next frame goes in */
  gfloat *window;               /* N × n_classes, a ring of frames' own
                                 * probabilities; window mode only */
  gchar (*texts)[CNN_NUMBER_TEXT_SIZE]; /* N texts, for numbers; or NULL */
} CnnSmoothing;

/* @n_frames ≥ 1; the window (window mode) held to @memory_limit bytes
 * (0: cnn_memory_limit()), else CNN_ERROR_NOMEM. */
CnnSmoothing *cnn_smoothing_new (guint n_classes, guint n_frames,
    CnnSmoothingMode mode, guint64 memory_limit, GError ** error);
void cnn_smoothing_free (CnnSmoothing * smoothing);
/* Forgets the frames seen: the next mean is that frame's own. */
void cnn_smoothing_reset (CnnSmoothing * smoothing);
/* Adds @frame's probabilities (n_classes; all 0 for a frame with
 * nothing to classify) and writes the mean to @mean (n_classes). */
void cnn_smoothing_add (CnnSmoothing * smoothing, const gfloat * frame,
    gfloat * mean);
/* For numbers: a vote over the texts of the last @n_frames frames, each
 * weighing the same (window mode) or each older one 1 - 2 / (N + 1)
 * less (exponential); otherwise as cnn_smoothing_new(). */
CnnSmoothing *cnn_smoothing_new_texts (guint n_classes, guint n_frames,
    CnnSmoothingMode mode, guint64 memory_limit, GError ** error);
/* Adds @text (a frame's reading; "" when it had no digits) and writes to
 * @shown (CNN_NUMBER_TEXT_SIZE) the text with the most weight among the
 * last frames' (on a tie, the latest). */
void cnn_smoothing_add_text (CnnSmoothing * smoothing, const gchar * text,
    gchar * shown);

/* ---- classifying frames -------------------------------------------- */

/* What a classifier runs with that takes memory to change. */
typedef struct
{
  guint threads;                /* of the network's passes */
  guint smoothing;              /* frames averaged, ≥ 1 */
  CnnSmoothingMode smoothing_mode;
} CnnClassifierTuning;

/* A model with everything classifying a region of a frame needs:
 * preprocessing, a workspace for the network's passes, the smoothing.
 * All allocated when it is made, so that classifying allocates nothing.
 * Used by one thread at a time, except that a workspace or smoothing for
 * new settings may be made for it on another thread while it classifies
 * (cnn_classifier_workspace_new(), _smoothing_new()), to be swapped in
 * between two frames.  The fields are for reading. */
/* Regions a classifier classifies in one frame at the most
 * (cnn_classifier_classify_regions()), and how many go through the
 * network in one pass. */
#define CNN_CLASSIFIER_MAX_REGIONS 32
#define CNN_CLASSIFIER_BATCH 4

typedef struct
{
  CnnModel *model;              /* shared, read-only (cnn_model_load_shared) */
  CnnNetwork *network;          /* owned by model; frozen */
  gchar **labels;               /* from a labels file, or NULL: the model's */
  CnnWorkspace *ws;             /* this classifier's passes of the network */
  CnnPreprocessor *preprocessor;
  guint max_regions;            /* regions of a frame it has room for */
  guint batch;                  /* regions a pass takes: the workspace's */
  /* Region i's: its model input (C×H×W, at i × the input size), whether
   * that holds the last frame's (it had something to classify), and its
   * own probabilities (n_classes, at i × n_classes).  cnn_classifier_
   * classify() uses region 0. */
  gfloat *input;
  gboolean *input_valid;
  gfloat *frame_probabilities;
  gfloat *probabilities;        /* n_classes: classify()'s result, smoothed */
  gdouble reject_below;         /* the model's "no class" confidence, or 0 */
  guint n_classes;
  guint64 memory_limit;         /* 0: libcnn's, cnn_memory_limit () */
  CnnSmoothing *smoothing;
  /* Number mode (cnn_classifier_new_number()): the reader in place of
   * the preprocessor, and the last number read. */
  CnnNumberReader *reader;
  CnnReading reading;
} CnnClassifier;

/* The step of cnn_classifier_new() that failed. */
typedef enum
{
  CNN_CLASSIFIER_STEP_MODEL,    /* loading the model file */
  CNN_CLASSIFIER_STEP_LABELS,   /* reading or fitting the labels file */
  CNN_CLASSIFIER_STEP_SETTINGS, /* preprocess, memory, the model's shape */
} CnnClassifierStep;

/* Loads @model_path (shared with the process's other holders of that
 * file), takes the labels of @labels_path instead of its own when not
 * NULL, prepares frames as @preprocess says (NULL: as the model
 * says), makes room for @max_regions regions a frame (1 to
 * CNN_CLASSIFIER_MAX_REGIONS; 1 for cnn_classifier_classify() alone)
 * and runs as @tuning says, all within @memory_limit bytes (0:
 * libcnn's default).  Errors are CNN_ERROR: _IO and _MODEL for files
 * that cannot be read, _INVALID for settings that do not fit the model,
 * _NOMEM past the memory limit; @failed says which step. */
CnnClassifier *cnn_classifier_new (const gchar * model_path,
    const gchar * labels_path, const gchar * preprocess,
    guint64 memory_limit, guint max_regions,
    const CnnClassifierTuning * tuning, CnnClassifierStep * failed,
    GError ** error);
/* The same for reading numbers (cnn_classifier_read_number()): the
 * preprocessing must be "mnist", the workspaces take CNN_NUMBER_BATCH
 * samples, the smoothing votes over texts. */
CnnClassifier *cnn_classifier_new_number (const gchar * model_path,
    const gchar * labels_path, const gchar * preprocess,
    guint64 memory_limit, const CnnClassifierTuning * tuning,
    CnnClassifierStep * failed, GError ** error);
void cnn_classifier_free (CnnClassifier * classifier);

/* A workspace for @classifier's network (passes of its batch) on
 * @n_threads threads, or a smoothing of @n_frames frames as @mode says
 * for its classes: within its memory limit (CNN_ERROR_NOMEM), and safe
 * to call on one thread while another classifies with @classifier. */
CnnWorkspace *cnn_classifier_workspace_new (CnnClassifier * classifier,
    guint n_threads, GError ** error);
CnnSmoothing *cnn_classifier_smoothing_new (CnnClassifier * classifier,
    guint n_frames, CnnSmoothingMode mode, GError ** error);
/* Put @ws or @smoothing (made for this classifier, above) in use and
 * return the one it replaces, for the caller to free; allocate nothing.
 * A new smoothing starts empty. */
CnnWorkspace *cnn_classifier_swap_workspace (CnnClassifier * classifier,
    CnnWorkspace * ws);
CnnSmoothing *cnn_classifier_swap_smoothing (CnnClassifier * classifier,
    CnnSmoothing * smoothing);
/* What @classifier runs with now. */
void cnn_classifier_get_tuning (const CnnClassifier * classifier,
    CnnClassifierTuning * tuning);
/* Forgets the frames seen: the next result is that frame's own. */
void cnn_classifier_reset_smoothing (CnnClassifier * classifier);

/* Classifies @roi of @image: its own probabilities go to
 * classifier->frame_probabilities (all 0 when there was nothing to
 * classify, e.g. no ink), and their average with the frames before, as
 * the smoothing says, to classifier->probabilities.  Returns the most
 * probable class of that average, or -1 when it is all 0 (nothing to
 * classify in any frame averaged). */
gint cnn_classifier_classify (CnnClassifier * classifier,
    const CnnImage * image, CnnRect roi);

/* Classifies each of @n regions (@n ≤ max_regions) of @image on its own,
 * unsmoothed: region i's probabilities go to
 * cnn_classifier_region_probabilities (i) (all 0 when there was nothing
 * to classify in it) and its input to cnn_classifier_region_input (i)
 * (NULL then).  Regions go through the network @batch at a time. */
void cnn_classifier_classify_regions (CnnClassifier * classifier,
    const CnnImage * image, const CnnRect * rois, guint n);
const gfloat *cnn_classifier_region_probabilities (const CnnClassifier *
    classifier, guint region);
const gfloat *cnn_classifier_region_input (const CnnClassifier * classifier,
    guint region);
/* The most probable class of @probabilities (n_classes), or -1 when they
 * are all 0. */
gint cnn_classifier_best (const CnnClassifier * classifier,
    const gfloat * probabilities);
/* Number mode: reads the number in @roi of @image into
 * classifier->reading, each digit below @threshold given no class, the
 * text voted over frames as the smoothing says.  Returns its digits. */
guint cnn_classifier_read_number (CnnClassifier * classifier,
    const CnnImage * image, CnnRect roi, gdouble threshold);

/* @class_id's label (NULL for -1), and the model's name. */
const gchar *cnn_classifier_label (const CnnClassifier * classifier,
    gint class_id);
const gchar *cnn_classifier_name (const CnnClassifier * classifier);
/* ---- training ------------------------------------------------------ */

/* Whether @net can be trained: its last layer gives probabilities (a
 * softmax), whose cross-entropy is the loss; else CNN_ERROR_ARCH. */
gboolean cnn_network_check_trainable (const CnnNetwork * net,
    GError ** error);

/* Makes room for training passes of up to @max_batch samples: gradients,
 * each layer's input gradient, dropout masks, pooling switches.  Also
 * reserves the forward workspace (cnn_network_reserve).  Fails with
 * CNN_ERROR_ARCH when the last layer is not softmax (its cross-entropy is
 * the loss), CNN_ERROR_NOMEM when the memory is not there. */
gboolean cnn_network_reserve_training (CnnNetwork * net, guint max_batch,
    GError ** error);

/* Gradient of the last training step's mean loss with respect to every
 * parameter, laid out like cnn_network_params(); NULL until
 * cnn_network_reserve_training(). */
gfloat *cnn_network_gradients (CnnNetwork * net);

/* One training pass over @batch samples: forward with dropout active
 * (masks drawn from @seed, so a step is reproducible), softmax
 * cross-entropy against @labels (class indices < output size), backward.
 * The last layer must be softmax.  Overwrites the gradients; returns
 * the batch's mean loss and, in @n_correct, how many argmax outputs
 * matched their label.  Results do not depend on the thread count
 * beyond float summation order, which is fixed for a given count. */
gdouble cnn_network_train_step (CnnNetwork * net, const gfloat * input,
    const guint * labels, guint batch, guint64 seed, guint * n_correct);

/* A training label meaning "no class" (a blank sheet, a stray line):
 * the target is the uniform distribution, so that the network learns to
 * be unsure of such inputs (outlier exposure, Hendrycks et al. 2019).
 * It counts as correct when no class gets CNN_LABEL_NONE_CONFIDENCE. */
#define CNN_LABEL_NONE G_MAXUINT
#define CNN_LABEL_NONE_CONFIDENCE 0.5f

typedef enum
{
  CNN_OPTIMIZER_SGD,            /* with momentum (0 = plain SGD) */
  CNN_OPTIMIZER_ADAM,
  CNN_OPTIMIZER_ADADELTA,
} CnnOptimizerKind;

typedef struct
{
  CnnOptimizerKind kind;
  gdouble learning_rate;        /* sgd 0.01, adam 0.001, adadelta 1.0 */
  gdouble momentum;             /* sgd: 0.9 */
  gdouble beta1, beta2;         /* adam: 0.9, 0.999 */
  gdouble rho;                  /* adadelta: 0.95 */
  gdouble epsilon;              /* adam 1e-8, adadelta 1e-6 */
  gdouble weight_decay;         /* L2, 0 = none */
} CnnOptimizerSettings;

typedef struct _CnnOptimizer CnnOptimizer;

/* Fills @settings with the defaults above for @kind. */
void cnn_optimizer_settings_init (CnnOptimizerSettings * settings,
    CnnOptimizerKind kind);
gboolean cnn_optimizer_kind_from_string (const gchar * name,
    CnnOptimizerKind * kind);
const gchar *cnn_optimizer_kind_to_string (CnnOptimizerKind kind);
/* NULL when the state (cnn_optimizer_memory() bytes) cannot be had. */
CnnOptimizer *cnn_optimizer_new (const CnnOptimizerSettings * settings,
    gsize n_params);
/* Bytes of state an optimizer of @kind keeps for @n_params parameters. */
guint64 cnn_optimizer_memory (CnnOptimizerKind kind, gsize n_params);
void cnn_optimizer_free (CnnOptimizer * opt);
/* Threads one step uses (default 1), this one and @n_threads - 1 workers
 * owned by the optimizer.  The update is element by element, so results
 * do not depend on the count. */
void cnn_optimizer_set_threads (CnnOptimizer * opt, guint n_threads);
/* params -= update (grads); @learning_rate overrides the settings' rate
 * for this step (for schedules). */
void cnn_optimizer_step (CnnOptimizer * opt, gfloat * params,
    const gfloat * grads, gdouble learning_rate);
/* The optimizer's state (its moments; the step count is apart, below)
 * as one float array, for checkpoints: read it, or write it back before
 * resuming. */
gfloat *cnn_optimizer_state (CnnOptimizer * opt, gsize * n_floats);
guint64 cnn_optimizer_steps (const CnnOptimizer * opt);
void cnn_optimizer_set_steps (CnnOptimizer * opt, guint64 steps);

/* ---- datasets (IDX, gzip or plain) --------------------------------- */

typedef struct
{
  guint n;                      /* samples */
  CnnShape shape;               /* each sample: C×H×W (IDX N×H×W or N×H×W×C) */
  guint8 *pixels;               /* n × C×H×W bytes, channels first */
  guint *labels;                /* n class indices, or NULL */
} CnnDataset;

/* Reads images (and labels, if @labels_path is not NULL) in IDX format,
 * gzip-compressed or plain.  Checks magic, type, dimensions, sizes and
 * that the counts agree; errors (CNN_ERROR_DATASET) name the file and
 * the byte offset or field at fault. */
CnnDataset *cnn_dataset_load_idx (const gchar * images_path,
    const gchar * labels_path, GError ** error);
void cnn_dataset_free (CnnDataset * dataset);

/* ---- BLAS ---------------------------------------------------------- */

/* One-line description of the BLAS in use (core, threads).  libcnn
 * never sets OpenBLAS's thread count, which is process-wide: a program
 * that owns its process may (openblas_set_num_threads()). */
gchar *cnn_blas_describe (void);

G_END_DECLS

#endif /* CNN_H */
