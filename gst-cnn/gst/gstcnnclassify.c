/* GStreamer CNN plugin: the cnnclassify element.
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-cnnclassify
 * @title: cnnclassify
 * @see_also: #GstCnnClassificationMeta
 *
 * Classifies video frames with a small convolutional network stored in a
 * gst-cnn model file (safetensors) and attaches the result to each
 * frame.  The frames themselves pass through untouched: the element
 * only reads pixels.
 *
 * Grey, packed RGB (with or without alpha or padding), planar and
 * semi-planar YUV and packed 4:2:2 YUV are read directly, so no
 * `videoconvert` is needed in front.  A grey model reads the luma of
 * YUV frames straight from the Y plane.  Per frame the region of
 * interest (#GstCnnClassify:roi) is prepared as the model's
 * `preprocess` metadata says (or as #GstCnnClassify:preprocess
 * overrides it), the network runs, and the result is attached.
 *
 * Unless #GstCnnClassify:roi is set, the region is the middle of the
 * frame with the model input's shape: for a square input (the digit
 * model's 28×28) the centred square of side min(width, height), so a
 * 640×480 frame is classified in 80,0,480,480; for another input the
 * largest centred region with its aspect ratio.
 *
 * ## Regions of interest
 *
 * With #GstCnnClassify:inference-region `roi-list` the element classifies
 * the regions of interest that upstream marked on the frame
 * (#GstVideoRegionOfInterestMeta, e.g. a detector's faces or digits;
 * with #GstCnnClassify:object-class set, only those of that type), up
 * to 32 a frame, each on its own.  Each gets a #GstCnnClassificationMeta
 * with its region and a `cnn-classification` param on its ROI meta
 * (fields `class-id`, `label`, `confidence`, `probabilities`, `model`,
 * as the message's), and a message of its own when messages are posted;
 * `cnnoverlay` draws every one.  #GstCnnClassify:roi and smoothing do
 * not apply.  A frame without ROI metas gets no result.  The param, the
 * messages and, for each new size of region, the scaler's weights are
 * allocated per frame.
 *
 * ## Smoothing
 *
 * A webcam's frames differ by noise even when nothing moves, and a
 * result that flips between two classes is hard to read.  With
 * #GstCnnClassify:smoothing set to N, the probabilities reported are
 * the mean of those of the last N classified frames (or, with
 * #GstCnnClassify:smoothing-mode `exponential`, a mean in which each
 * frame weighs 2 / (N + 1) and the older ones fade), and the class,
 * confidence and #GstCnnClassify:threshold apply to that mean.  A frame
 * with nothing to classify (no ink in `mnist` preprocessing, an empty
 * region) counts as all-zero probabilities, so the result fades to no
 * class when the object leaves: then the probabilities sum to less than
 * 1.  The mean restarts (the next frame's result is its own) after a
 * flush, at a buffer marked discontinuous, when the caps change, when
 * the model changes and when the smoothing settings change.  With a
 * threshold, e.g. `smoothing=5 threshold=0.6`, the label stays steady
 * through a single odd frame and goes to no class only when the mean
 * says so.
 *
 * ## The meta
 *
 * Every classified buffer carries a #GstCnnClassificationMeta: the
 * class index, its label, the confidence, the probability of every
 * class, the region classified, the model's name and, for inputs of up
 * to 784 pixels (28×28), what the network was given as a grey picture
 * (the digit of `mnist` preprocessing; none when there was no ink).
 * Applications include `<gst/cnn/cnnmeta.h>` (pkg-config module
 * `gstreamer-cnn-meta-1.0`) and call
 * gst_buffer_get_cnn_classification_meta().  The frames between two
 * classifications (#GstCnnClassify:interval more than 1) carry the
 * latest result too, its `frames_ago` field saying how many frames
 * earlier it was classified (0 on the classified frame itself), so that
 * `cnnoverlay` draws a steady result on every frame.  After a flush, new
 * caps or a new model there is no latest result until the next
 * classified frame.
 *
 * ## Live sources
 *
 * The element answers the LATENCY query with its mean inference time
 * (added to upstream's), and posts a LATENCY message at its first
 * classification and when that time has grown by a quarter.  When
 * downstream's QoS says frames are late (a sink with `qos=true`, as
 * video sinks have by default), a frame due to be classified that runs
 * before the reported limit passes at once with the latest result
 * (its meta's `frames_ago` above 0, a QoS message posted, counted in
 * #GstCnnClassify:frames-skipped) instead of being classified, and the
 * next frame is classified instead; no frame is dropped.  The inherited
 * `qos` property (default true) turns this off.
 *
 * ## Many instances
 *
 * Instances in one process that load the same model file (the same path
 * to the same file, unchanged since, and the same
 * #GstCnnClassify:memory-limit) share its weights read-only; each keeps
 * its own working memory, preprocessing and smoothing, so that they run
 * at once.  An NVR of 16 cameras classifying digits pays for the bundled
 * model once, and under 1 MB for each further instance at 64x64.
 *
 * ## Retraining while it runs
 *
 * With #GstCnnClassify:watch-model the element watches the model file
 * (in a thread of its own, whatever main loop the application runs) and
 * loads it again when it is replaced: `cnn train -o` writes a temporary
 * file and renames it over the model, so the element switches to the
 * new weights between two frames, with a fresh smoothing window.  A new
 * file that cannot be loaded posts a warning and the model in use stays.
 *
 * ## The message
 *
 * When #GstCnnClassify:post-messages is %TRUE, every classified frame
 * (and only those: one message per classification; in `roi-list` one
 * for each region classified) also posts an
 * element message whose structure is named
 * `cnn-classification`, with these fields:
 *
 * * `class-id` (#gint): index of the most probable class in label
 *   order, or -1 for no class (its probability is below
 *   #GstCnnClassify:threshold, or there was nothing to classify).
 * * `label` (#gchararray): the label of `class-id`; the empty string ""
 *   when `class-id` is -1 (the meta's label is %NULL then).
 * * `confidence` (#gdouble): probability of the most probable class,
 *   0..1 (also when it is below the threshold; 0 when there was nothing
 *   to classify).
 * * `probabilities` (#GstValueArray of #gdouble): the probability of
 *   every class, in label order (averaged over frames when
 *   #GstCnnClassify:smoothing is more than 1).
 * * `timestamp` (#guint64): the buffer's presentation timestamp, in
 *   nanoseconds.
 * * `stream-time` (#guint64): the timestamp as stream time.
 * * `running-time` (#guint64): the timestamp as running time; to be
 *   compared with the pipeline clock's time minus its base time.
 * * `roi-x`, `roi-y`, `roi-width`, `roi-height` (#guint): the region
 *   classified, in frame pixels, after clipping to the frame.
 * * `text` (#gchararray): in digit mode the label (as `label`); in number
 *   mode the digits in reading order, `?` for a digit below the
 *   threshold, "" when none was found, and with
 *   #GstCnnClassify:smoothing the text read most often over the last
 *   frames.
 *
 * In number mode (#GstCnnClassify:mode `number`) `class-id` is -1,
 * `label` "", `confidence` the least sure digit's, `probabilities`
 * empty, and the message also has:
 *
 * * `n-digits` (#guint): the digits found.
 * * `class-ids` (#GstValueArray of #gint), `confidences` (#GstValueArray
 *   of #gdouble): each digit's class (-1 below the threshold) and
 *   confidence, in reading order.
 * * `rois` (#GstValueArray of #GstValueArray of 4 #guint): each digit's
 *   box, x, y, width, height in frame pixels.
 *
 * Each digit also has a #GstCnnClassificationMeta with its box, and the
 * frame a #GstCnnReadingMeta with the text.
 *
 * The three times are -1 (#GST_CLOCK_TIME_NONE) when unknown, as in the
 * `level` element's messages.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -m v4l2src ! cnnclassify interval=3 threshold=0.5 ! videoconvert ! autovideosink
 * ]| Classifies every third webcam frame with the bundled digit model and
 * prints the `cnn-classification` messages.
 * |[
 * gst-launch-1.0 -m v4l2src ! cnnclassify smoothing=5 threshold=0.6 ! fakesink
 * ]| The same, every frame, with a label that holds steady: the mean of
 * the last five frames decides.
 * |[
 * gst-launch-1.0 -m filesrc location=digits.mp4 ! decodebin ! cnnclassify model=my.safetensors roi=160,80,320,320 ! fakesink
 * ]| Classifies a 320×320 square of a video file with another model.
 * |[
 * gst-launch-1.0 v4l2src ! videoconvert ! facedetect ! cnnclassify inference-region=roi-list object-class=face model=expressions.safetensors ! cnnoverlay ! videoconvert ! autovideosink
 * ]| Classifies each face a detector found, and draws every result.
 * |[
 * gst-launch-1.0 -m v4l2src ! videoconvert ! cnnclassify mode=number smoothing=5 ! cnnoverlay ! videoconvert ! autovideosink
 * ]| Reads a number written on a sheet held up to the webcam: a box and
 * label per digit, the number under them.
 */

#include "gstcnnclassify.h"
#include "gstcnnframe.h"
#include "gstcnnnumber.h"
#include "gstcnnarray.h"
#include "gstcnnwatch.h"

#include <gst/cnn/cnnmeta.h>

#include <stdatomic.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_cnn_classify_debug);
#define GST_CAT_DEFAULT gst_cnn_classify_debug

#define DEFAULT_INTERVAL 1
#define DEFAULT_THRESHOLD -1.0 /* the model's */
#define DEFAULT_POST_MESSAGES TRUE
#define DEFAULT_THREADS 1
#define MAX_THREADS 64
#define DEFAULT_SMOOTHING 1
#define MAX_SMOOTHING 1000
#define DEFAULT_SMOOTHING_MODE CNN_SMOOTHING_WINDOW
#define DEFAULT_MEMORY_LIMIT 0
#define DEFAULT_WATCH_MODEL FALSE
#define DEFAULT_INFERENCE_REGION GST_CNN_INFERENCE_REGION_FULL_FRAME
#define DEFAULT_MODE GST_CNN_MODE_DIGIT

/* What a frame's region holds. */
typedef enum
{
  GST_CNN_MODE_DIGIT,           /* one digit (or one object) */
  GST_CNN_MODE_NUMBER,          /* digits written on one line */
} GstCnnMode;

enum
{
  PROP_0,
  PROP_MODEL,
  PROP_LABELS,
  PROP_ROI,
  PROP_PREPROCESS,
  PROP_INTERVAL,
  PROP_THRESHOLD,
  PROP_POST_MESSAGES,
  PROP_THREADS,
  PROP_SMOOTHING,
  PROP_SMOOTHING_MODE,
  PROP_MEMORY_LIMIT,
  PROP_WATCH_MODEL,
  PROP_INFERENCE_REGION,
  PROP_OBJECT_CLASS,
  PROP_MODE,
  PROP_FRAMES_CLASSIFIED,
  PROP_FRAMES_SKIPPED,
  PROP_LAST_INFERENCE_TIME,
  PROP_MEAN_INFERENCE_TIME,
};

#define CNN_CLASSIFY_FORMATS "{ GRAY8, RGB, BGR, RGBx, BGRx, xRGB, xBGR, " \
  "RGBA, BGRA, ARGB, ABGR, I420, YV12, NV12, NV21, YUY2, UYVY }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (CNN_CLASSIFY_FORMATS)));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (CNN_CLASSIFY_FORMATS)));

/* What the streaming thread copies under the object lock per buffer;
 * threads, smoothing and smoothing_mode are what the properties say,
 * and they take effect through GstCnnClassifyPending. */
typedef struct
{
  CnnRect roi;
  gboolean roi_set;             /* else the centred region */
  guint interval;
  gdouble threshold;
  gboolean post_messages;
  guint threads;
  guint smoothing;
  CnnSmoothingMode smoothing_mode;
  GQuark object_class;          /* roi-list: the ROI metas' type; 0: any */
} GstCnnClassifySettings;

/* One region's result.  Its probabilities and input are the
 * classifier's, which keep them until its next classification. */
typedef struct
{
  gint class_id;                /* after the threshold */
  const gchar *label;           /* NULL when class_id is -1 */
  gfloat confidence;
  CnnRect roi;                  /* clipped to the frame */
  const gfloat *probabilities;  /* n_classes */
  const gfloat *input;          /* the model input, NULL when there was
                                 * nothing to classify */
  gboolean is_number;           /* mode=number: classifier->reading says
                                 * the rest */
} GstCnnClassifyResult;

/* The statistics the properties and the LATENCY query read.  Each is
 * one atomic value that only the streaming thread writes (and start(),
 * while that thread is idle), so that a frame's result is recorded
 * without taking the object lock a second time in the frame; nothing
 * reads two of them as a pair, so no lock has to keep them consistent:
 * the mean is kept whole rather than as a total and a count. */
typedef struct
{
  atomic_uint_least64_t frames_classified;
  atomic_uint_least64_t frames_skipped;
  _Atomic gdouble last_time_us;
  _Atomic gdouble mean_time_us;
  /* The element's latency last reported (ns): the query writes it too. */
  atomic_uint_least64_t latency_reported;
} GstCnnClassifyStats;

/* What other threads made ready, off the streaming thread, for it to
 * take up at its next frame: a newly loaded classifier; for the newest
 * classifier (that one, else the one in use), a workspace of a new thread
 * count or a new smoothing.  Everything that allocates is made here, in
 * the property setters, so that the frame only swaps pointers. */
typedef struct
{
  CnnClassifier *classifier;
  CnnWorkspace *ws;
  CnnSmoothing *smoothing;
} GstCnnClassifyPending;

/* What a frame starts from: taken in one go under the object lock, the
 * frame's one (gst_cnn_classify_begin_frame). */
typedef struct
{
  GstCnnClassifySettings settings;
  gboolean restart;             /* a flush or new caps since the last frame */
  GstClockTime qos_earliest;    /* frames running before it are late */
  /* Taken from the pending ones, then what they replaced: to free. */
  GstCnnClassifyPending taken;
} GstCnnClassifySnapshot;

/* What the element classifies in a frame. */
typedef enum
{
  GST_CNN_INFERENCE_REGION_FULL_FRAME,  /* roi, or the centred region */
  GST_CNN_INFERENCE_REGION_ROI_LIST,    /* each upstream ROI meta */
} GstCnnInferenceRegion;

/* What a model load reads from the properties. */
typedef struct
{
  gchar *model;                 /* NULL: the bundled digit model */
  gchar *labels;
  gchar *preprocess;
  guint64 memory_limit;         /* 0: libcnn's default */
  GstCnnInferenceRegion region; /* the classifier's room for regions */
  GstCnnMode mode;
} GstCnnClassifyLoad;

struct _GstCnnClassify
{
  GstVideoFilter parent;

  /* Under the object lock. */
  GstCnnClassifySettings settings;
  gchar *model_path;            /* NULL: the bundled digit model */
  gchar *labels_path;
  gchar *preprocess;
  guint64 memory_limit;
  GstCnnInferenceRegion inference_region;
  GstCnnMode mode;
  /* What the newest classifier loaded while running was loaded from: a
   * failed swap sets the properties back to it. */
  GstCnnClassifyLoad in_use;
  gchar *bad_roi;               /* set while stopped, refused by start() */
  gboolean started;
  gboolean watch_model;
  /* While started with watch_model: the model file's watch.  Made and
   * freed with no lock held (freeing waits for its thread, which may be
   * loading a model under load_lock). */
  GstCnnWatch *watch;
  GstCnnClassifyPending pending;
  /* What the newest classifier runs with, once what is pending is in use. */
  CnnClassifierTuning prepared;
  gboolean restart_smoothing;   /* a flush or new caps since the last frame */
  /* Keeping up: frames running before this are late (QoS from
   * downstream, with the qos property on). */
  GstClockTime qos_earliest;

  /* Not under the object lock: see GstCnnClassifyStats. */
  GstCnnClassifyStats stats;

  /* Held for a whole model load, so that the classifier in use always
   * follows the latest model/labels/preprocess settings.  Nothing is
   * posted while it is held: a bus sync handler may set a property,
   * which takes it again. */
  GMutex load_lock;

  /* The streaming thread's (and start()/stop()'s, when it is idle). */
  CnnClassifier *classifier;
  GstCnnFrameLayout layout;
  guint64 frame_count;
  gdouble total_time_us;        /* of the classifications since start() */
  /* The last classification's results (one a region), carried to the
   * frames after it; forgotten with the classifier, at a flush and on
   * new caps. */
  GstCnnClassifyResult latest[CNN_CLASSIFIER_MAX_REGIONS];
  guint n_latest;
  gboolean have_latest;
  guint latest_age;             /* frames since it */
  gboolean owed;                /* a due frame was late: classify the next */
};

/* Frees what @pending holds; never with a lock held (freeing a
 * workspace joins its threads). */
static void
gst_cnn_classify_pending_clear (GstCnnClassifyPending * pending)
{
  cnn_classifier_free (pending->classifier);
  cnn_workspace_free (pending->ws);
  cnn_smoothing_free (pending->smoothing);
  pending->classifier = NULL;
  pending->ws = NULL;
  pending->smoothing = NULL;
}

static void
gst_cnn_classify_tuning_from (CnnClassifierTuning * tuning,
    const GstCnnClassifySettings * settings)
{
  tuning->threads = settings->threads;
  tuning->smoothing = settings->smoothing;
  tuning->smoothing_mode = settings->smoothing_mode;
}

static void
gst_cnn_classify_load_clear (GstCnnClassifyLoad * load)
{
  g_clear_pointer (&load->model, g_free);
  g_clear_pointer (&load->labels, g_free);
  g_clear_pointer (&load->preprocess, g_free);
}

static void
gst_cnn_classify_load_copy (GstCnnClassifyLoad * dest,
    const GstCnnClassifyLoad * src)
{
  gst_cnn_classify_load_clear (dest);
  dest->model = g_strdup (src->model);
  dest->labels = g_strdup (src->labels);
  dest->preprocess = g_strdup (src->preprocess);
  dest->memory_limit = src->memory_limit;
  dest->region = src->region;
  dest->mode = src->mode;
}

#define gst_cnn_classify_parent_class parent_class
G_DEFINE_TYPE (GstCnnClassify, gst_cnn_classify, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (cnnclassify, "cnnclassify", GST_RANK_NONE,
    GST_TYPE_CNN_CLASSIFY);

static void gst_cnn_classify_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_cnn_classify_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_cnn_classify_finalize (GObject * object);
static gboolean gst_cnn_classify_start (GstBaseTransform * trans);
static gboolean gst_cnn_classify_stop (GstBaseTransform * trans);
static gboolean gst_cnn_classify_sink_event (GstBaseTransform * trans,
    GstEvent * event);
static gboolean gst_cnn_classify_src_event (GstBaseTransform * trans,
    GstEvent * event);
static gboolean gst_cnn_classify_query (GstBaseTransform * trans,
    GstPadDirection direction, GstQuery * query);
static GstFlowReturn gst_cnn_classify_prepare_output_buffer (GstBaseTransform *
    trans, GstBuffer * input, GstBuffer ** output);
static gboolean gst_cnn_classify_set_info (GstVideoFilter * filter,
    GstCaps * incaps, GstVideoInfo * in_info, GstCaps * outcaps,
    GstVideoInfo * out_info);
static GstFlowReturn gst_cnn_classify_transform_frame_ip (GstVideoFilter *
    filter, GstVideoFrame * frame);

#define GST_TYPE_CNN_SMOOTHING_MODE (gst_cnn_smoothing_mode_get_type ())
static GType
gst_cnn_smoothing_mode_get_type (void)
{
  static const GEnumValue modes[] = {
    {CNN_SMOOTHING_WINDOW, "Mean of the last N classified frames",
        "window"},
    {CNN_SMOOTHING_EXPONENTIAL,
        "Exponentially decaying mean, each new frame weighing 2 / (N + 1)",
        "exponential"},
    {0, NULL, NULL},
  };
  static gsize type = 0;

  if (g_once_init_enter (&type))
    g_once_init_leave (&type,
        g_enum_register_static ("GstCnnSmoothingMode", modes));
  return type;
}

#define GST_TYPE_CNN_MODE (gst_cnn_mode_get_type ())
static GType
gst_cnn_mode_get_type (void)
{
  static const GEnumValue modes[] = {
    {GST_CNN_MODE_DIGIT, "The region holds one digit (or object)", "digit"},
    {GST_CNN_MODE_NUMBER, "The region holds a number: digits written on "
          "one line, read left to right", "number"},
    {0, NULL, NULL},
  };
  static gsize type = 0;

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstCnnMode", modes));
  return type;
}

#define GST_TYPE_CNN_INFERENCE_REGION (gst_cnn_inference_region_get_type ())
static GType
gst_cnn_inference_region_get_type (void)
{
  static const GEnumValue regions[] = {
    {GST_CNN_INFERENCE_REGION_FULL_FRAME,
        "One region of the frame: roi, or the centred region", "full-frame"},
    {GST_CNN_INFERENCE_REGION_ROI_LIST,
          "Each region of interest upstream marked (GstVideoRegionOfInterestMeta)",
        "roi-list"},
    {0, NULL, NULL},
  };
  static gsize type = 0;

  if (g_once_init_enter (&type))
    g_once_init_leave (&type,
        g_enum_register_static ("GstCnnInferenceRegion", regions));
  return type;
}

static void
gst_cnn_classify_install_properties (GObjectClass * gobject_class)
{
  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model",
          "Path of the model file (gst-cnn safetensors). Default: unset, "
          "the bundled digit model. Changing it while playing loads the new "
          "model and switches to it between two frames; if it cannot be "
          "loaded a warning says why, the model in use stays and this "
          "property names it again",
          NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_LABELS,
      g_param_spec_string ("labels", "Labels",
          "Path of a labels file (one label per line) replacing the model's "
          "labels; it must hold one label per class. Default: unset, the "
          "model's own labels", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_ROI,
      g_param_spec_string ("roi", "Region of interest",
          "Region to classify as \"x,y,width,height\" in frame pixels "
          "(width and height at least 1), clipped to the frame. Default: "
          "unset (or empty), the middle of the frame shaped like the model's "
          "input: for a square input the centred square of side "
          "min(width, height) (80,0,480,480 in 640x480), else the largest "
          "centred region with the input's aspect ratio. An invalid region "
          "set before the element starts makes the start fail with an error; "
          "set while playing, it is a warning and the previous one stays",
          NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_PREPROCESS,
      g_param_spec_string ("preprocess", "Preprocess",
          "How frames are prepared for the network: \"resize\" (area-average "
          "scaling of the region to the model's input; \"resize mean=0.5 "
          "std=0.25\" then maps values v in 0..1 to (v - mean) / std) or "
          "\"mnist\" (a dark or light digit on paper found in the region, "
          "cropped, fitted into 20x20 and centred by mass in 28x28, as the "
          "MNIST digits were made; no ink gives class-id -1). Default: unset "
          "(or empty), what the model's \"preprocess\" metadata says (the "
          "bundled digit model asks for \"mnist\")", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_INTERVAL,
      g_param_spec_uint ("interval", "Interval",
          "Classify one frame in every N (1 or more; default 1: every "
          "frame); the frames in between carry the latest result, with the "
          "meta's frames_ago counting the frames since, and post no message",
          1, G_MAXUINT, DEFAULT_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_THRESHOLD,
      g_param_spec_double ("threshold", "Threshold",
          "Probability the most probable class needs to be reported, 0 to 1; "
          "below it the result is no class (class-id -1). Default -1: the "
          "model's own, calibrated on blank paper when it was trained "
          "(its metadata 'reject-below'; 0, always report the most "
          "probable class, for models without one)",
          -1.0, 1.0, DEFAULT_THRESHOLD,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post messages",
          "Post a \"cnn-classification\" element message for every "
          "classified frame (default true)", DEFAULT_POST_MESSAGES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_uint ("threads", "Threads",
          "Threads one network pass uses, including the streaming thread, "
          "1 to 64 (default 1). Changing it while playing makes the new "
          "threads and their working memory here, switching to them between "
          "two frames (the smoothing goes on); if they do not fit the memory "
          "limit a warning says so and the property keeps its old value. "
          "OpenBLAS, which the portable kernels call, keeps the thread count "
          "the application gave it (OPENBLAS_NUM_THREADS)",
          1, MAX_THREADS, DEFAULT_THREADS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_SMOOTHING,
      g_param_spec_uint ("smoothing", "Smoothing",
          "Number of classified frames whose probabilities are averaged into "
          "the result, 1 to 1000 (default 1: none, each frame's own). Class, "
          "confidence and threshold apply to the average; a frame with "
          "nothing to classify (no ink) counts as all zeros. The average "
          "restarts after a flush, a discontinuity, new caps, a new model or "
          "a new smoothing setting. Changing it while playing makes the new "
          "window here, switching to it between two frames; if it does not "
          "fit the memory limit a warning says so and the property keeps its "
          "old value",
          1, MAX_SMOOTHING, DEFAULT_SMOOTHING,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_SMOOTHING_MODE,
      g_param_spec_enum ("smoothing-mode", "Smoothing mode",
          "How the smoothing frames are averaged: \"window\" (default), "
          "the plain mean of the last N; \"exponential\", each new frame "
          "weighing 2 / (N + 1) and the older ones fading",
          GST_TYPE_CNN_SMOOTHING_MODE, DEFAULT_SMOOTHING_MODE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MEMORY_LIMIT,
      g_param_spec_uint64 ("memory-limit", "Memory limit",
          "Bytes a model may make the element allocate (weights, working "
          "memory, preprocessing planes, smoothing window); a model asking "
          "for more is refused with an error. Default 0: the CNN_MEMORY_LIMIT "
          "environment variable if set, else 1 GiB. Applies from the next "
          "model load", 0, G_MAXUINT64, DEFAULT_MEMORY_LIMIT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_WATCH_MODEL,
      g_param_spec_boolean ("watch-model", "Watch model",
          "Load the model file again whenever it is replaced or rewritten "
          "(a trainer renaming a new file over it), switching between two "
          "frames; a new file that cannot be loaded posts a warning and the "
          "model in use stays (default false)", DEFAULT_WATCH_MODEL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_INFERENCE_REGION,
      g_param_spec_enum ("inference-region", "Inference region",
          "What is classified in a frame: \"full-frame\" (default), one "
          "region, the roi property's or the centred one; \"roi-list\", "
          "each region of interest upstream put on the frame "
          "(GstVideoRegionOfInterestMeta, from a detector or an application; "
          "those of object-class only, when it is set), up to 32, each given "
          "a meta of its own and a \"cnn-classification\" param on its ROI "
          "meta. Smoothing applies to full-frame only. Changing it while "
          "playing loads the classifier again, switching between two frames",
          GST_TYPE_CNN_INFERENCE_REGION, DEFAULT_INFERENCE_REGION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_OBJECT_CLASS,
      g_param_spec_string ("object-class", "Object class",
          "With inference-region=roi-list, classify only the regions of "
          "interest of this type (the ROI meta's roi_type, e.g. \"face\"). "
          "Default: empty, every region", "",
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MODE,
      g_param_spec_enum ("mode", "Mode",
          "What the region holds: \"digit\" (default), one digit, classified "
          "once; \"number\", digits written on one line (a meter reading, "
          "a year, a code), each found, prepared as \"mnist\" prepares "
          "one and classified, and read left to right along the line: a "
          "classification meta per digit, a reading meta with the text, "
          "the message's text, n-digits, class-ids, confidences and rois. "
          "Number mode needs an \"mnist\" model and reads one region "
          "(inference-region=full-frame), by default the whole frame. "
          "Changing it while playing loads the model again",
          GST_TYPE_CNN_MODE, DEFAULT_MODE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_FRAMES_CLASSIFIED,
      g_param_spec_uint64 ("frames-classified", "Frames classified",
          "Number of frames classified since the element last started "
          "(read-only)", 0,
          G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_FRAMES_SKIPPED,
      g_param_spec_uint64 ("frames-skipped", "Frames skipped",
          "Frames due to be classified that downstream said were late "
          "(QoS), passed with the latest result instead, since the element "
          "last started (read-only)", 0, G_MAXUINT64, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_LAST_INFERENCE_TIME,
      g_param_spec_double ("last-inference-time", "Last inference time",
          "Time the last classification took (preprocessing and network "
          "pass), in microseconds; 0 before the first (read-only)", 0.0,
          G_MAXDOUBLE,
          0.0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_MEAN_INFERENCE_TIME,
      g_param_spec_double ("mean-inference-time", "Mean inference time",
          "Mean time of the classifications since the element last started "
          "(preprocessing and network pass), in microseconds; 0 before the "
          "first (read-only)", 0.0, G_MAXDOUBLE, 0.0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
}

static void
gst_cnn_classify_class_init (GstCnnClassifyClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_cnn_classify_debug, "cnnclassify", 0,
      "CNN video frame classifier");

  gobject_class->set_property = gst_cnn_classify_set_property;
  gobject_class->get_property = gst_cnn_classify_get_property;
  gobject_class->finalize = gst_cnn_classify_finalize;
  gst_cnn_classify_install_properties (gobject_class);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "CNN frame classifier", "Filter/Analyzer/Video",
      "Classifies video frames with a convolutional network and attaches "
      "the result as meta and bus messages", GST_CNN_AUTHOR);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_cnn_classify_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_cnn_classify_stop);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_cnn_classify_sink_event);
  trans_class->src_event = GST_DEBUG_FUNCPTR (gst_cnn_classify_src_event);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_cnn_classify_query);
  trans_class->prepare_output_buffer =
      GST_DEBUG_FUNCPTR (gst_cnn_classify_prepare_output_buffer);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_cnn_classify_set_info);
  filter_class->transform_frame_ip =
      GST_DEBUG_FUNCPTR (gst_cnn_classify_transform_frame_ip);

  /* Register the meta's API with the type system before any app asks. */
  gst_cnn_classification_meta_get_info ();
  gst_cnn_reading_meta_get_info ();
  gst_type_mark_as_plugin_api (GST_TYPE_CNN_MODE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_CNN_SMOOTHING_MODE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_CNN_INFERENCE_REGION, 0);
}

static void
gst_cnn_classify_init (GstCnnClassify * self)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);

  self->settings.interval = DEFAULT_INTERVAL;
  self->settings.threshold = DEFAULT_THRESHOLD;
  self->settings.post_messages = DEFAULT_POST_MESSAGES;
  self->settings.threads = DEFAULT_THREADS;
  self->settings.smoothing = DEFAULT_SMOOTHING;
  self->settings.smoothing_mode = DEFAULT_SMOOTHING_MODE;
  self->inference_region = DEFAULT_INFERENCE_REGION;
  self->mode = DEFAULT_MODE;
  g_mutex_init (&self->load_lock);

  /* Passthrough: frames are mapped read-only and never copied; see
   * prepare_output_buffer for how the meta still gets on them. */
  gst_base_transform_set_passthrough (trans, TRUE);
  gst_base_transform_set_in_place (trans, TRUE);
}

static void
gst_cnn_classify_finalize (GObject * object)
{
  GstCnnClassify *self = GST_CNN_CLASSIFY (object);

  gst_cnn_watch_free (self->watch);
  cnn_classifier_free (self->classifier);
  gst_cnn_classify_pending_clear (&self->pending);
  g_free (self->model_path);
  g_free (self->labels_path);
  g_free (self->preprocess);
  g_free (self->bad_roi);
  gst_cnn_classify_load_clear (&self->in_use);
  g_mutex_clear (&self->load_lock);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* ---- settings ------------------------------------------------------ */

/* "x,y,width,height", non-negative integers, width and height ≥ 1. */
static gboolean
gst_cnn_classify_parse_roi (const gchar * text, CnnRect * roi)
{
  gchar **parts = g_strsplit (text, ",", -1);
  guint64 v[4];
  gboolean ok = g_strv_length (parts) == 4;

  for (guint i = 0; ok && i < 4; i++) {
    gchar *field = g_strstrip (parts[i]);

    ok = g_ascii_string_to_unsigned (field, 10, i < 2 ? 0 : 1, G_MAXINT,
        &v[i], NULL);
  }
  g_strfreev (parts);
  if (ok) {
    roi->x = v[0];
    roi->y = v[1];
    roi->width = v[2];
    roi->height = v[3];
  }
  return ok;
}

/* A bad region keeps the previous one.  While running the element has a
 * bus, and a warning there says so; before that a warning would reach
 * no one (gst-launch sets properties before the pipeline has a bus), so
 * the text is kept and start() fails with an error naming it. */
static void
gst_cnn_classify_set_roi (GstCnnClassify * self, const gchar * text)
{
  gboolean whole = text == NULL || text[0] == '\0';
  CnnRect roi = { 0, 0, 0, 0 };
  gboolean valid = whole || gst_cnn_classify_parse_roi (text, &roi);
  gboolean started;

  GST_OBJECT_LOCK (self);
  started = self->started;
  g_clear_pointer (&self->bad_roi, g_free);
  if (valid) {
    self->settings.roi = roi;
    self->settings.roi_set = !whole;
  } else if (!started) {
    self->bad_roi = g_strdup (text);
  }
  GST_OBJECT_UNLOCK (self);

  if (!valid && started)
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("Invalid roi \"%s\": expected \"x,y,width,height\" in pixels, "
            "width and height at least 1; the previous region stays",
            text), (NULL));
}

static gchar *
gst_cnn_classify_roi_to_string (const GstCnnClassifySettings * settings)
{
  const CnnRect *r = &settings->roi;

  if (!settings->roi_set)
    return NULL;
  return g_strdup_printf ("%u,%u,%u,%u", r->x, r->y, r->width, r->height);
}

static const gchar *
gst_cnn_classify_default_model (void)
{
  if (g_file_test (GST_CNN_INSTALLED_MODEL, G_FILE_TEST_IS_REGULAR))
    return GST_CNN_INSTALLED_MODEL;
  return GST_CNN_SOURCE_MODEL;
}

/* ---- model loading -------------------------------------------------- */

/* The message's first words say which file or setting is at fault. */
static const gchar *
gst_cnn_classify_failure_text (CnnClassifierStep step)
{
  switch (step) {
    case CNN_CLASSIFIER_STEP_MODEL:
      return "Could not load the model";
    case CNN_CLASSIFIER_STEP_LABELS:
      return "Could not use the labels file";
    case CNN_CLASSIFIER_STEP_SETTINGS:
      break;
  }
  return "Could not use the model";
}

/* The resource error a failure is: a setting that does not fit
 * (SETTINGS), more memory than the limit or the system allows (FAILED,
 * the message says how much), else a file that cannot be read. */
static GstResourceError
gst_cnn_classify_failure_code (const GError * err)
{
  if (err->domain == CNN_ERROR && err->code == CNN_ERROR_NOMEM)
    return GST_RESOURCE_ERROR_FAILED;
  if (err->domain == CNN_ERROR
      && (err->code == CNN_ERROR_INVALID || err->code == CNN_ERROR_ARCH))
    return GST_RESOURCE_ERROR_SETTINGS;
  return GST_RESOURCE_ERROR_OPEN_READ;
}

/* Posts @text and @debug (both taken; @debug may be NULL) as an ERROR
 * (@fatal: the element cannot run) or a WARNING (it carries on) with the
 * resource code @err calls for: what GST_ELEMENT_ERROR and _WARNING do,
 * with the code chosen at run time.  Never called with a lock held. */
static void
gst_cnn_classify_post_failure (GstCnnClassify * self, gboolean fatal,
    const GError * err, gchar * text, gchar * debug)
{
  GST_CAT_LEVEL_LOG (GST_CAT_DEFAULT, fatal ? GST_LEVEL_ERROR
      : GST_LEVEL_WARNING, self, "%s (%s)", text, GST_STR_NULL (debug));
  gst_element_message_full (GST_ELEMENT (self), fatal ? GST_MESSAGE_ERROR
      : GST_MESSAGE_WARNING, GST_RESOURCE_ERROR,
      gst_cnn_classify_failure_code (err), text, debug, __FILE__,
      GST_FUNCTION, __LINE__);
}

/* An ERROR when the element cannot run (start), a WARNING when it keeps
 * classifying with the model it had (a swap while running). */
static void
gst_cnn_classify_post_load_failure (GstCnnClassify * self,
    const GstCnnClassifyLoad * load, CnnClassifierStep step,
    const GError * err, gboolean fatal)
{
  const gchar *what = gst_cnn_classify_failure_text (step);

  gst_cnn_classify_post_failure (self, fatal, err, g_strdup_printf (fatal ?
          "%s: %s" : "%s: %s; the model in use stays", what, err->message),
      g_strdup_printf ("model \"%s\", labels \"%s\", preprocess \"%s\"",
          GST_STR_NULL (load->model), GST_STR_NULL (load->labels),
          GST_STR_NULL (load->preprocess)));
}

/* What the properties say now. */
static void
gst_cnn_classify_read_load (GstCnnClassify * self, GstCnnClassifyLoad * load)
{
  GST_OBJECT_LOCK (self);
  load->model = g_strdup (self->model_path);
  load->labels = g_strdup (self->labels_path);
  load->preprocess = g_strdup (self->preprocess);
  load->memory_limit = self->memory_limit;
  load->region = self->inference_region;
  load->mode = self->mode;
  GST_OBJECT_UNLOCK (self);
}

/* Loads what @load says, to run with the threads and smoothing the
 * properties say now (in *@tuning); NULL with @err and @step set when
 * that fails.  Call with load_lock held; posts nothing. */
static CnnClassifier *
gst_cnn_classify_load_classifier (GstCnnClassify * self,
    const GstCnnClassifyLoad * load, CnnClassifierTuning * tuning,
    CnnClassifierStep * step, GError ** err)
{
  const gchar *model = load->model ? load->model :
      gst_cnn_classify_default_model ();
  CnnClassifier *classifier;

  GST_OBJECT_LOCK (self);
  gst_cnn_classify_tuning_from (tuning, &self->settings);
  GST_OBJECT_UNLOCK (self);

  if (load->mode == GST_CNN_MODE_NUMBER) {
    if (load->region == GST_CNN_INFERENCE_REGION_ROI_LIST)
      goto number_roi_list;
    classifier = cnn_classifier_new_number (model, load->labels,
        load->preprocess, load->memory_limit, tuning, step, err);
  } else {
    classifier = cnn_classifier_new (model, load->labels, load->preprocess,
        load->memory_limit, load->region == GST_CNN_INFERENCE_REGION_ROI_LIST
        ? CNN_CLASSIFIER_MAX_REGIONS : 1, tuning, step, err);
  }
  if (classifier == NULL)
    return NULL;
  GST_INFO_OBJECT (self, "loaded model %s (%s), %u classes, preprocess %s%s; "
      "its weights held by %u classifier(s) in this process", model,
      cnn_classifier_name (classifier), classifier->n_classes,
      classifier->preprocessor ? cnn_preprocessor_spec
      (classifier->preprocessor) : "mnist", classifier->reader ?
      ", reading numbers" : "", cnn_model_n_holders (classifier->model));
  return classifier;

  /* ERRORS */
number_roi_list:
  {
    *step = CNN_CLASSIFIER_STEP_SETTINGS;
    g_set_error (err, CNN_ERROR, CNN_ERROR_INVALID, "mode=number reads one "
        "region of a frame: inference-region=roi-list is not supported");
    return NULL;
  }
}

/* Sets *@field back to @used unless it changed since @tried was read
 * from it (a newer setting, whose own reload follows). */
static void
gst_cnn_classify_revert_string (gchar ** field, const gchar * tried,
    const gchar * used)
{
  if (g_strcmp0 (*field, tried) != 0)
    return;
  g_free (*field);
  *field = g_strdup (used);
}

/* After a failed swap the properties read what is in use, so that the
 * next change (a good labels file, say) is tried with the model in use
 * and not with the file that failed.  Object lock held. */
static void
gst_cnn_classify_revert_load (GstCnnClassify * self,
    const GstCnnClassifyLoad * tried)
{
  gst_cnn_classify_revert_string (&self->model_path, tried->model,
      self->in_use.model);
  gst_cnn_classify_revert_string (&self->labels_path, tried->labels,
      self->in_use.labels);
  gst_cnn_classify_revert_string (&self->preprocess, tried->preprocess,
      self->in_use.preprocess);
  if (self->memory_limit == tried->memory_limit)
    self->memory_limit = self->in_use.memory_limit;
  if (self->inference_region == tried->region)
    self->inference_region = self->in_use.region;
  if (self->mode == tried->mode)
    self->mode = self->in_use.mode;
}

/* The model, labels or preprocess setting changed.  While stopped the
 * next start() loads; while running the new classifier is loaded here, off
 * the streaming thread, and taken into use at the next frame.  If it
 * cannot be loaded a warning is posted, the old one stays in use and
 * the properties say so again. */
static void
gst_cnn_classify_reload (GstCnnClassify * self)
{
  GstCnnClassifyLoad load = { NULL, NULL, NULL, 0, 0, DEFAULT_MODE };
  GstCnnClassifyPending unused = { NULL, NULL, NULL };
  CnnClassifier *classifier = NULL;
  CnnClassifierStep step = CNN_CLASSIFIER_STEP_MODEL;
  CnnClassifierTuning tuning;
  GError *err = NULL;
  gboolean started;

  g_mutex_lock (&self->load_lock);
  GST_OBJECT_LOCK (self);
  started = self->started;
  GST_OBJECT_UNLOCK (self);

  if (started) {
    gst_cnn_classify_read_load (self, &load);
    classifier = gst_cnn_classify_load_classifier (self, &load, &tuning, &step,
        &err);
    GST_OBJECT_LOCK (self);
    if (classifier != NULL) {
      /* A workspace or smoothing pending was for an older classifier: this
       * one was made with the latest settings. */
      unused = self->pending;
      self->pending = (GstCnnClassifyPending) { classifier, NULL, NULL };
      self->prepared = tuning;
      gst_cnn_classify_load_copy (&self->in_use, &load);
    } else {
      gst_cnn_classify_revert_load (self, &load);
    }
    GST_OBJECT_UNLOCK (self);
  }
  g_mutex_unlock (&self->load_lock);
  gst_cnn_classify_pending_clear (&unused);

  if (err != NULL) {
    gst_cnn_classify_post_load_failure (self, &load, step, err, FALSE);
    g_error_free (err);
  }
  gst_cnn_classify_load_clear (&load);
}

/* ---- threads and smoothing ------------------------------------------ */

/* Sets *@field back to @used unless it changed since @tried was read
 * from it (a newer setting, whose own retune follows).  Object lock
 * held. */
static void
gst_cnn_classify_revert_uint (guint * field, guint tried, guint used)
{
  if (*field == tried)
    *field = used;
}

/* The setting @what could not be honoured: a warning (FAILED, for the
 * memory it needs), and the property reads what is in use again. */
static void
gst_cnn_classify_post_tuning_failure (GstCnnClassify * self,
    const gchar * what, guint tried, guint used, const GError * err)
{
  gst_cnn_classify_post_failure (self, FALSE, err,
      g_strdup_printf ("Could not use %s %u: %s; it stays at %u", what, tried,
          err->message, used), NULL);
}

/* The threads, smoothing or smoothing-mode setting changed.  While
 * started, what the newest classifier needs for it (a workspace for the new
 * thread count, a new smoothing window) is made here, off the streaming
 * thread, and swapped in at the next frame; while stopped start() makes
 * the classifier with it.  What cannot be made (the memory limit) is a
 * warning, and the property goes back to what is in use. */
static void
gst_cnn_classify_retune (GstCnnClassify * self)
{
  GstCnnClassifyPending unused = { NULL, NULL, NULL };
  CnnClassifierTuning want, had;
  CnnWorkspace *ws = NULL;
  CnnSmoothing *smoothing = NULL;
  GError *ws_err = NULL, *smoothing_err = NULL;
  CnnClassifier *newest;

  /* Held so that the newest classifier stays the newest, and alive, until
   * what is made for it is pending. */
  g_mutex_lock (&self->load_lock);
  GST_OBJECT_LOCK (self);
  newest = self->pending.classifier ? self->pending.classifier :
      self->classifier;
  gst_cnn_classify_tuning_from (&want, &self->settings);
  had = self->prepared;
  GST_OBJECT_UNLOCK (self);

  if (newest != NULL && want.threads != had.threads)
    ws = cnn_classifier_workspace_new (newest, want.threads, &ws_err);
  if (newest != NULL && (want.smoothing != had.smoothing
          || want.smoothing_mode != had.smoothing_mode))
    smoothing = cnn_classifier_smoothing_new (newest, want.smoothing,
        want.smoothing_mode, &smoothing_err);

  GST_OBJECT_LOCK (self);
  if (ws != NULL) {
    unused.ws = self->pending.ws;
    self->pending.ws = ws;
    self->prepared.threads = want.threads;
  } else if (ws_err != NULL) {
    gst_cnn_classify_revert_uint (&self->settings.threads, want.threads,
        had.threads);
  }
  if (smoothing != NULL) {
    unused.smoothing = self->pending.smoothing;
    self->pending.smoothing = smoothing;
    self->prepared.smoothing = want.smoothing;
    self->prepared.smoothing_mode = want.smoothing_mode;
  } else if (smoothing_err != NULL) {
    gst_cnn_classify_revert_uint (&self->settings.smoothing,
        want.smoothing, had.smoothing);
    if (self->settings.smoothing_mode == want.smoothing_mode)
      self->settings.smoothing_mode = had.smoothing_mode;
  }
  GST_OBJECT_UNLOCK (self);
  g_mutex_unlock (&self->load_lock);
  gst_cnn_classify_pending_clear (&unused);

  if (ws_err != NULL) {
    gst_cnn_classify_post_tuning_failure (self, "threads", want.threads,
        had.threads, ws_err);
    g_error_free (ws_err);
  }
  if (smoothing_err != NULL) {
    gst_cnn_classify_post_tuning_failure (self, "smoothing",
        want.smoothing, had.smoothing, smoothing_err);
    g_error_free (smoothing_err);
  }
}

/* ---- watching the model file ---------------------------------------- */

/* On the watch's thread: the file changed, load it as a model swap
 * (a warning if it cannot be, and the model in use stays). */
static void
gst_cnn_classify_model_changed (gpointer data)
{
  GstCnnClassify *self = data;

  GST_INFO_OBJECT (self, "the model file changed: loading it again");
  gst_cnn_classify_reload (self);
}

/* Watches the model file the properties name while started with
 * watch-model, and nothing otherwise.  Takes no lock while it makes or
 * frees a watch. */
static void
gst_cnn_classify_update_watch (GstCnnClassify * self)
{
  GstCnnWatch *old, *made = NULL;
  GError *err = NULL;
  gchar *path = NULL;

  GST_OBJECT_LOCK (self);
  old = self->watch;
  self->watch = NULL;
  if (self->started && self->watch_model)
    path = g_strdup (self->model_path ? self->model_path :
        gst_cnn_classify_default_model ());
  GST_OBJECT_UNLOCK (self);

  gst_cnn_watch_free (old);
  if (path == NULL)
    return;
  made = gst_cnn_watch_new (path, gst_cnn_classify_model_changed, self,
      &err);
  if (made == NULL) {
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS, ("Could not watch the "
            "model file \"%s\": %s", path, err->message), (NULL));
    g_error_free (err);
  }
  GST_OBJECT_LOCK (self);
  old = self->watch;
  self->watch = made;
  GST_OBJECT_UNLOCK (self);
  /* A watch made meanwhile by another caller gives way to this one. */
  gst_cnn_watch_free (old);
  GST_DEBUG_OBJECT (self, "watching %s", path);
  g_free (path);
}

/* A region refused while stopped (see gst_cnn_classify_set_roi). */
static gboolean
gst_cnn_classify_check_roi (GstCnnClassify * self)
{
  gchar *bad;

  GST_OBJECT_LOCK (self);
  bad = g_strdup (self->bad_roi);
  GST_OBJECT_UNLOCK (self);
  if (bad == NULL)
    return TRUE;
  GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
      ("Invalid roi \"%s\": expected \"x,y,width,height\" in pixels, "
          "width and height at least 1", bad), (NULL));
  g_free (bad);
  return FALSE;
}

/* While the streaming thread is idle (start()). */
static void
gst_cnn_classify_reset_stats (GstCnnClassify * self)
{
  GstCnnClassifyStats *stats = &self->stats;

  atomic_store (&stats->frames_classified, 0);
  atomic_store (&stats->frames_skipped, 0);
  atomic_store (&stats->last_time_us, 0.0);
  atomic_store (&stats->mean_time_us, 0.0);
  atomic_store (&stats->latency_reported, 0);
  self->total_time_us = 0.0;
}

static gboolean
gst_cnn_classify_start (GstBaseTransform * trans)
{
  GstCnnClassify *self = GST_CNN_CLASSIFY (trans);
  GstCnnClassifyLoad load = { NULL, NULL, NULL, 0, 0, DEFAULT_MODE };
  GstCnnClassifyPending unused = { NULL, NULL, NULL };
  CnnClassifier *classifier;
  CnnClassifierStep step = CNN_CLASSIFIER_STEP_MODEL;
  CnnClassifierTuning tuning;
  GError *err = NULL;

  if (!gst_cnn_classify_check_roi (self))
    return FALSE;

  g_mutex_lock (&self->load_lock);
  gst_cnn_classify_read_load (self, &load);
  classifier = gst_cnn_classify_load_classifier (self, &load, &tuning, &step,
      &err);
  if (classifier != NULL) {
    GST_OBJECT_LOCK (self);
    unused = self->pending;
    self->pending = (GstCnnClassifyPending) { NULL, NULL, NULL };
    self->prepared = tuning;
    self->classifier = classifier;
    self->started = TRUE;
    gst_cnn_classify_load_copy (&self->in_use, &load);
    self->restart_smoothing = FALSE;
    self->qos_earliest = GST_CLOCK_TIME_NONE;
    GST_OBJECT_UNLOCK (self);
    gst_cnn_classify_reset_stats (self);
  }
  g_mutex_unlock (&self->load_lock);
  gst_cnn_classify_pending_clear (&unused);

  if (err != NULL) {
    gst_cnn_classify_post_load_failure (self, &load, step, err, TRUE);
    g_error_free (err);
  }
  gst_cnn_classify_load_clear (&load);
  self->frame_count = 0;
  self->have_latest = FALSE;
  self->owed = FALSE;
  if (classifier != NULL)
    gst_cnn_classify_update_watch (self);
  return classifier != NULL;
}

static gboolean
gst_cnn_classify_stop (GstBaseTransform * trans)
{
  GstCnnClassify *self = GST_CNN_CLASSIFY (trans);
  GstCnnClassifyPending pending;
  CnnClassifier *classifier;

  g_mutex_lock (&self->load_lock);
  GST_OBJECT_LOCK (self);
  self->started = FALSE;
  classifier = self->classifier;
  pending = self->pending;
  self->classifier = NULL;
  self->pending = (GstCnnClassifyPending) { NULL, NULL, NULL };
  GST_OBJECT_UNLOCK (self);
  g_mutex_unlock (&self->load_lock);

  gst_cnn_classify_update_watch (self);
  cnn_classifier_free (classifier);
  gst_cnn_classify_pending_clear (&pending);
  return TRUE;
}

/* ---- properties ----------------------------------------------------- */

static void
gst_cnn_classify_replace_string (GstCnnClassify * self, gchar ** field,
    const GValue * value)
{
  GST_OBJECT_LOCK (self);
  g_free (*field);
  *field = g_value_dup_string (value);
  GST_OBJECT_UNLOCK (self);
}

static void
gst_cnn_classify_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstCnnClassify *self = GST_CNN_CLASSIFY (object);

  switch (prop_id) {
    case PROP_MODEL:
      gst_cnn_classify_replace_string (self, &self->model_path, value);
      gst_cnn_classify_reload (self);
      gst_cnn_classify_update_watch (self);
      break;
    case PROP_WATCH_MODEL:
      GST_OBJECT_LOCK (self);
      self->watch_model = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      gst_cnn_classify_update_watch (self);
      break;
    case PROP_LABELS:
      gst_cnn_classify_replace_string (self, &self->labels_path, value);
      gst_cnn_classify_reload (self);
      break;
    case PROP_PREPROCESS:
      gst_cnn_classify_replace_string (self, &self->preprocess, value);
      gst_cnn_classify_reload (self);
      break;
    case PROP_ROI:
      gst_cnn_classify_set_roi (self, g_value_get_string (value));
      break;
    case PROP_INTERVAL:
      GST_OBJECT_LOCK (self);
      self->settings.interval = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_THRESHOLD:
      GST_OBJECT_LOCK (self);
      self->settings.threshold = g_value_get_double (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_POST_MESSAGES:
      GST_OBJECT_LOCK (self);
      self->settings.post_messages = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_THREADS:
      GST_OBJECT_LOCK (self);
      self->settings.threads = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      gst_cnn_classify_retune (self);
      break;
    case PROP_SMOOTHING:
      GST_OBJECT_LOCK (self);
      self->settings.smoothing = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      gst_cnn_classify_retune (self);
      break;
    case PROP_SMOOTHING_MODE:
      GST_OBJECT_LOCK (self);
      self->settings.smoothing_mode = g_value_get_enum (value);
      GST_OBJECT_UNLOCK (self);
      gst_cnn_classify_retune (self);
      break;
    case PROP_MEMORY_LIMIT:
      GST_OBJECT_LOCK (self);
      self->memory_limit = g_value_get_uint64 (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_INFERENCE_REGION:
      GST_OBJECT_LOCK (self);
      self->inference_region = g_value_get_enum (value);
      GST_OBJECT_UNLOCK (self);
      gst_cnn_classify_reload (self);
      break;
    case PROP_MODE:
      GST_OBJECT_LOCK (self);
      self->mode = g_value_get_enum (value);
      GST_OBJECT_UNLOCK (self);
      gst_cnn_classify_reload (self);
      break;
    case PROP_OBJECT_CLASS:
    {
      const gchar *name = g_value_get_string (value);
      /* Made here, not per frame: a quark's first use allocates. */
      GQuark quark = name && *name ? g_quark_from_string (name) : 0;

      GST_OBJECT_LOCK (self);
      self->settings.object_class = quark;
      GST_OBJECT_UNLOCK (self);
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_cnn_classify_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstCnnClassify *self = GST_CNN_CLASSIFY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_value_set_string (value, self->model_path);
      break;
    case PROP_LABELS:
      g_value_set_string (value, self->labels_path);
      break;
    case PROP_ROI:
      g_value_take_string (value,
          gst_cnn_classify_roi_to_string (&self->settings));
      break;
    case PROP_PREPROCESS:
      g_value_set_string (value, self->preprocess);
      break;
    case PROP_INTERVAL:
      g_value_set_uint (value, self->settings.interval);
      break;
    case PROP_THRESHOLD:
      g_value_set_double (value, self->settings.threshold);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, self->settings.post_messages);
      break;
    case PROP_THREADS:
      g_value_set_uint (value, self->settings.threads);
      break;
    case PROP_SMOOTHING:
      g_value_set_uint (value, self->settings.smoothing);
      break;
    case PROP_SMOOTHING_MODE:
      g_value_set_enum (value, self->settings.smoothing_mode);
      break;
    case PROP_MEMORY_LIMIT:
      g_value_set_uint64 (value, self->memory_limit);
      break;
    case PROP_WATCH_MODEL:
      g_value_set_boolean (value, self->watch_model);
      break;
    case PROP_INFERENCE_REGION:
      g_value_set_enum (value, self->inference_region);
      break;
    case PROP_MODE:
      g_value_set_enum (value, self->mode);
      break;
    case PROP_OBJECT_CLASS:
      g_value_set_string (value, self->settings.object_class ?
          g_quark_to_string (self->settings.object_class) : "");
      break;
    case PROP_FRAMES_CLASSIFIED:
      g_value_set_uint64 (value, atomic_load (&self->stats.frames_classified));
      break;
    case PROP_LAST_INFERENCE_TIME:
      g_value_set_double (value, atomic_load (&self->stats.last_time_us));
      break;
    case PROP_MEAN_INFERENCE_TIME:
      g_value_set_double (value, atomic_load (&self->stats.mean_time_us));
      break;
    case PROP_FRAMES_SKIPPED:
      g_value_set_uint64 (value, atomic_load (&self->stats.frames_skipped));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ---- streaming ------------------------------------------------------ */

/* Passthrough hands us the input buffer as is, possibly shared with
 * upstream.  The meta needs a writable buffer; a shallow copy shares the
 * memory, so pixels are never copied. */
static GstFlowReturn
gst_cnn_classify_prepare_output_buffer (GstBaseTransform * trans,
    GstBuffer * input, GstBuffer ** output)
{
  *output = gst_buffer_is_writable (input) ? input : gst_buffer_copy (input);
  return GST_FLOW_OK;
}

/* The frames averaged so far say nothing about what comes after a
 * flush (a seek) or new caps; the streaming thread restarts the mean at
 * its next frame. */
static void
gst_cnn_classify_restart_smoothing (GstCnnClassify * self)
{
  GST_OBJECT_LOCK (self);
  self->restart_smoothing = TRUE;
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_cnn_classify_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstCnnClassify *self = GST_CNN_CLASSIFY (trans);

  if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP) {
    gst_cnn_classify_restart_smoothing (self);
    GST_OBJECT_LOCK (self);
    self->qos_earliest = GST_CLOCK_TIME_NONE;
    GST_OBJECT_UNLOCK (self);
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

/* ---- keeping up with live sources ----------------------------------- */

/* Downstream says how late its frames are: those running before
 * @timestamp + @diff would be late too.  The event goes upstream from
 * here and not through GstBaseTransform, which would then drop late
 * frames; they pass with the latest result instead (one skipped
 * classification, no missing frame). */
static gboolean
gst_cnn_classify_src_event (GstBaseTransform * trans, GstEvent * event)
{
  GstCnnClassify *self = GST_CNN_CLASSIFY (trans);
  GstClockTimeDiff diff;
  GstClockTime timestamp;
  gdouble proportion;
  GstQOSType type;
  gboolean enabled;

  if (GST_EVENT_TYPE (event) != GST_EVENT_QOS)
    return GST_BASE_TRANSFORM_CLASS (parent_class)->src_event (trans, event);

  gst_event_parse_qos (event, &type, &proportion, &diff, &timestamp);
  /* Looked at here rather than per frame: it takes the object lock. */
  enabled = gst_base_transform_is_qos_enabled (trans);
  GST_OBJECT_LOCK (self);
  if (!enabled)
    self->qos_earliest = GST_CLOCK_TIME_NONE;
  else if (GST_CLOCK_TIME_IS_VALID (timestamp))
    self->qos_earliest = diff > 0 ? timestamp + diff : timestamp;
  GST_OBJECT_UNLOCK (self);
  GST_LOG_OBJECT (self, "QoS: late by %" GST_STIME_FORMAT " at %"
      GST_TIME_FORMAT, GST_STIME_ARGS (diff), GST_TIME_ARGS (timestamp));
  return gst_pad_push_event (GST_BASE_TRANSFORM_SINK_PAD (trans), event);
}

/* Whether @buffer runs before the QoS limit @earliest (none unless
 * GstBaseTransform's "qos" property, default true, is on). */
static gboolean
gst_cnn_classify_is_late (GstCnnClassify * self, GstBuffer * buffer,
    GstClockTime earliest)
{
  const GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;
  GstClockTime running_time;

  if (!GST_CLOCK_TIME_IS_VALID (earliest)
      || segment->format != GST_FORMAT_TIME)
    return FALSE;
  running_time = gst_segment_to_running_time (segment, GST_FORMAT_TIME,
      GST_BUFFER_PTS (buffer));
  return GST_CLOCK_TIME_IS_VALID (running_time) && running_time <= earliest;
}

/* As GstBaseTransform says a frame it dropped, though this one passed. */
static void
gst_cnn_classify_post_skip (GstCnnClassify * self, GstBuffer * buffer,
    GstClockTime earliest)
{
  const GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;
  GstClockTime pts = GST_BUFFER_PTS (buffer);
  GstClockTime running_time = gst_segment_to_running_time (segment,
      GST_FORMAT_TIME, pts);
  guint64 classified = atomic_load (&self->stats.frames_classified);
  guint64 skipped = atomic_fetch_add (&self->stats.frames_skipped, 1) + 1;
  GstMessage *msg;

  msg = gst_message_new_qos (GST_OBJECT (self), FALSE, running_time,
      gst_segment_to_stream_time (segment, GST_FORMAT_TIME, pts), pts,
      GST_BUFFER_DURATION (buffer));
  gst_message_set_qos_values (msg, GST_CLOCK_DIFF (running_time, earliest),
      1.0, 1000000);
  gst_message_set_qos_stats (msg, GST_FORMAT_BUFFERS, classified, skipped);
  gst_element_post_message (GST_ELEMENT (self), msg);
}

/* The element holds each frame for about its mean inference time. */
static GstClockTime
gst_cnn_classify_own_latency (GstCnnClassify * self)
{
  GstClockTime latency = (GstClockTime)
      (atomic_load (&self->stats.mean_time_us) * GST_USECOND);

  atomic_store (&self->stats.latency_reported, latency);
  return latency;
}

static gboolean
gst_cnn_classify_query (GstBaseTransform * trans, GstPadDirection direction,
    GstQuery * query)
{
  GstCnnClassify *self = GST_CNN_CLASSIFY (trans);
  GstClockTime min, max, own;
  gboolean live;

  if (direction != GST_PAD_SRC || GST_QUERY_TYPE (query) != GST_QUERY_LATENCY)
    return GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans, direction,
        query);
  if (!GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans, direction,
          query))
    return FALSE;
  gst_query_parse_latency (query, &live, &min, &max);
  own = gst_cnn_classify_own_latency (self);
  min += own;
  if (GST_CLOCK_TIME_IS_VALID (max))
    max += own;
  gst_query_set_latency (query, live, min, max);
  GST_DEBUG_OBJECT (self, "latency: %" GST_TIME_FORMAT " of our own, %"
      GST_TIME_FORMAT " in all", GST_TIME_ARGS (own), GST_TIME_ARGS (min));
  return TRUE;
}

/* After a classification: whether the pipeline should ask for the
 * latency again: at the first, and when the mean inference time has
 * grown a quarter past the latency last reported (frames would come
 * late; a smaller one only delays them a little).  Looked at every 64
 * classifications: a message allocates, and one slow frame is no
 * reason. */
#define LATENCY_CHECK_EVERY 64

static gboolean
gst_cnn_classify_latency_changed (GstCnnClassify * self)
{
  GstCnnClassifyStats *stats = &self->stats;
  guint64 classified = atomic_load (&stats->frames_classified);
  gdouble mean_ns, reported;
  gboolean changed;

  if (classified != 1 && classified % LATENCY_CHECK_EVERY != 0)
    return FALSE;
  mean_ns = atomic_load (&stats->mean_time_us) * 1000.0;
  reported = (gdouble) atomic_load (&stats->latency_reported);
  changed = reported <= 0.0 ? mean_ns > 0.0 : mean_ns > 1.25 * reported;
  if (changed)
    /* Said once: the query that follows sets it again. */
    atomic_store (&stats->latency_reported, (guint64) mean_ns);
  return changed;
}

static gboolean
gst_cnn_classify_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstCnnClassify *self = GST_CNN_CLASSIFY (filter);

  if (!gst_cnn_frame_layout_init (&self->layout, in_info)) {
    GST_ERROR_OBJECT (self, "cannot read frames of %" GST_PTR_FORMAT, incaps);
    return FALSE;
  }
  /* filter->in_info is still the previous caps' here. */
  if (filter->negotiated && !gst_video_info_is_equal (&filter->in_info,
          in_info))
    gst_cnn_classify_restart_smoothing (self);
  GST_DEBUG_OBJECT (self, "reading %s %dx%d frames",
      GST_VIDEO_INFO_NAME (in_info), GST_VIDEO_INFO_WIDTH (in_info),
      GST_VIDEO_INFO_HEIGHT (in_info));
  return TRUE;
}

/* The one lock of a frame: copies the settings and takes what the other
 * threads made ready for it (a newly loaded classifier is put in use here;
 * a workspace or smoothing, for that classifier, by
 * gst_cnn_classify_take_tuning() after the lock).  What the frame gives
 * back (its time, a skip) goes to the atomic statistics, not under this
 * lock again.  Returns whether this frame is to be classified. */
static gboolean
gst_cnn_classify_begin_frame (GstCnnClassify * self,
    GstCnnClassifySnapshot * snap)
{
  gboolean due;

  GST_OBJECT_LOCK (self);
  snap->taken = self->pending;
  self->pending = (GstCnnClassifyPending) { NULL, NULL, NULL };
  if (snap->taken.classifier != NULL) {
    CnnClassifier *retired = self->classifier;

    self->classifier = snap->taken.classifier;
    snap->taken.classifier = retired;
    self->have_latest = FALSE;
  }
  snap->settings = self->settings;
  snap->restart = self->restart_smoothing;
  self->restart_smoothing = FALSE;
  snap->qos_earliest = self->qos_earliest;
  GST_OBJECT_UNLOCK (self);
  if (snap->restart)
    self->have_latest = FALSE;

  /* A due frame skipped as late is owed: the next one is classified. */
  due = self->owed || self->frame_count % snap->settings.interval == 0;
  self->frame_count++;
  return due;
}

/* Puts the workspace and smoothing the setters made (for the classifier now
 * in use) in use, leaving what they replace in @taken to be freed; and
 * forgets the frames averaged after a flush, new caps or a
 * discontinuity, also on a frame that is not classified.  Allocates
 * nothing. */
static void
gst_cnn_classify_take_tuning (GstCnnClassify * self,
    GstCnnClassifyPending * taken, gboolean restart)
{
  if (taken->ws != NULL) {
    taken->ws = cnn_classifier_swap_workspace (self->classifier, taken->ws);
    GST_DEBUG_OBJECT (self, "now on %u thread(s)",
        cnn_workspace_n_threads (self->classifier->ws));
  }
  if (taken->smoothing != NULL) {
    taken->smoothing = cnn_classifier_swap_smoothing (self->classifier,
        taken->smoothing);
    GST_DEBUG_OBJECT (self, "now smoothing over %u frames",
        self->classifier->smoothing->n_frames);
  }
  if (restart) {
    GST_DEBUG_OBJECT (self, "restarting the smoothing");
    cnn_classifier_reset_smoothing (self->classifier);
  }
}

/* The largest region of a @width × @height frame shaped like the model
 * @input (its W:H), centred; sides rounded to the nearest pixel. */
static CnnRect
gst_cnn_classify_centred_roi (guint width, guint height, CnnShape input)
{
  guint64 w = width, h = height;
  CnnRect roi;

  if ((guint64) width * input.h > (guint64) height * input.w)
    w = (h * input.w + input.h / 2) / input.h;
  else
    h = (w * input.h + input.w / 2) / input.w;
  w = CLAMP (w, MIN (1, width), width);
  h = CLAMP (h, MIN (1, height), height);
  roi.x = (width - w) / 2;
  roi.y = (height - h) / 2;
  roi.width = w;
  roi.height = h;
  return roi;
}

/* The region set, clipped to the frame, or the default: the centred
 * region shaped like the model's input, or for a number (@whole) the
 * whole frame, since numbers are wider than high. */
static CnnRect
gst_cnn_classify_choose_roi (const GstCnnClassifySettings * settings,
    guint width, guint height, CnnShape input, gboolean whole)
{
  CnnRect roi = { 0, 0, width, height };

  if (!settings->roi_set)
    return whole ? roi : gst_cnn_classify_centred_roi (width, height, input);
  roi.x = MIN (settings->roi.x, width);
  roi.y = MIN (settings->roi.y, height);
  roi.width = MIN (settings->roi.width, width - roi.x);
  roi.height = MIN (settings->roi.height, height - roi.y);
  return roi;
}

/* @r's class from its probabilities (@best, or -1 for nothing to
 * classify), then the threshold: the property's, else the model's. */
static void
gst_cnn_classify_decide (GstCnnClassify * self,
    const GstCnnClassifySettings * settings, gint best,
    GstCnnClassifyResult * r)
{
  CnnClassifier *classifier = self->classifier;

  r->class_id = best;
  r->confidence = best < 0 ? 0.0f : r->probabilities[best];
  if (r->confidence < (settings->threshold >= 0.0 ? settings->threshold
          : classifier->reject_below))
    r->class_id = -1;
  r->label = cnn_classifier_label (classifier, r->class_id);
}

/* Number mode: the digits of @r's region (classifier->reading), their
 * text voted over the frames as the smoothing says; the result's class is
 * none, its confidence the least sure digit's. */
static void
gst_cnn_classify_read_number (GstCnnClassify * self, const CnnImage * image,
    const GstCnnClassifySettings * settings, GstCnnClassifyResult * r)
{
  CnnClassifier *classifier = self->classifier;
  const CnnReading *reading = &classifier->reading;

  cnn_classifier_read_number (classifier, image, r->roi,
      settings->threshold >= 0.0 ? settings->threshold
      : classifier->reject_below);
  r->class_id = -1;
  r->label = NULL;
  r->probabilities = NULL;
  r->input = NULL;
  r->confidence = reading->n_digits > 0 ? 1.0f : 0.0f;
  for (guint i = 0; i < reading->n_digits; i++)
    r->confidence = MIN (r->confidence, reading->confidences[i]);
}

/* full-frame: the one region, its result smoothed, in latest[0]. */
static void
gst_cnn_classify_run_full_frame (GstCnnClassify * self,
    const CnnImage * image, const GstCnnClassifySettings * settings)
{
  CnnClassifier *classifier = self->classifier;
  GstCnnClassifyResult *r = &self->latest[0];
  gint best;

  r->is_number = classifier->reader != NULL;
  r->roi = gst_cnn_classify_choose_roi (settings, image->width,
      image->height, cnn_network_input_shape (classifier->network),
      r->is_number);
  self->n_latest = 1;
  if (r->is_number) {
    gst_cnn_classify_read_number (self, image, settings, r);
    return;
  }
  best = cnn_classifier_classify (classifier, image, r->roi);
  r->probabilities = classifier->probabilities;
  r->input = cnn_classifier_region_input (classifier, 0);
  gst_cnn_classify_decide (self, settings, best, r);
}

/* roi-list: @buffer's region-of-interest metas of @object_class (0:
 * any), as many as @max, each as a region of the @width × @height frame
 * (clipped to it; those outside it left out) in @rois and itself in
 * @metas.  Returns how many. */
static guint
gst_cnn_classify_collect_rois (GstCnnClassify * self, GstBuffer * buffer,
    GQuark object_class, guint width, guint height,
    GstVideoRegionOfInterestMeta ** metas, CnnRect * rois, guint max)
{
  gpointer state = NULL;
  guint n = 0, left_out = 0;
  GstMeta *m;

  while ((m = gst_buffer_iterate_meta_filtered (buffer, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) m;

    if (object_class != 0 && roi->roi_type != object_class)
      continue;
    if (n == max || roi->x >= width || roi->y >= height || roi->w == 0
        || roi->h == 0) {
      left_out++;
      continue;
    }
    rois[n] = (CnnRect) {
    roi->x, roi->y, MIN (roi->w, width - roi->x), MIN (roi->h,
          height - roi->y)};
    metas[n++] = roi;
  }
  if (left_out > 0)
    GST_DEBUG_OBJECT (self, "%u region(s) of interest left out (outside "
        "the frame, empty, or past %u)", left_out, max);
  return n;
}

/* roi-list: each region of @metas' @n, unsmoothed, in latest[]. */
static void
gst_cnn_classify_run_regions (GstCnnClassify * self, const CnnImage * image,
    const GstCnnClassifySettings * settings, const CnnRect * rois, guint n)
{
  CnnClassifier *classifier = self->classifier;

  cnn_classifier_classify_regions (classifier, image, rois, n);
  for (guint i = 0; i < n; i++) {
    GstCnnClassifyResult *r = &self->latest[i];

    r->roi = rois[i];
    r->is_number = FALSE;
    r->probabilities = cnn_classifier_region_probabilities (classifier, i);
    r->input = cnn_classifier_region_input (classifier, i);
    gst_cnn_classify_decide (self, settings, cnn_classifier_best (classifier,
            r->probabilities), r);
  }
  self->n_latest = n;
}

/* @r, classified @frames_ago frames before @buffer's. */
static void
gst_cnn_classify_attach_meta (GstCnnClassify * self, GstBuffer * buffer,
    const GstCnnClassifyResult * r, guint frames_ago)
{
  CnnClassifier *classifier = self->classifier;
  CnnShape input = cnn_network_input_shape (classifier->network);
  GstCnnClassificationMeta *meta;

  if (r->is_number) {
    gst_cnn_reading_attach (&classifier->reading, buffer, classifier,
        frames_ago);
    return;
  }
  meta = gst_buffer_add_cnn_classification_meta (buffer, r->class_id,
      r->label, r->confidence, classifier->n_classes, r->probabilities,
      r->roi.x, r->roi.y, r->roi.width, r->roi.height,
      cnn_classifier_name (classifier));
  if (meta == NULL)
    return;
  meta->frames_ago = frames_ago;
  /* For cnnoverlay's show-input: why a digit was read as it was. */
  if (r->input != NULL)
    gst_cnn_classification_meta_set_input (meta, r->input, input.w,
        input.h);
}

/* A frame between two classifications carries the latest results, so
 * that what is drawn or read of it stays steady. */
static void
gst_cnn_classify_attach_latest (GstCnnClassify * self, GstBuffer * buffer)
{
  if (!self->have_latest)
    return;
  if (self->latest_age < G_MAXUINT)
    self->latest_age++;
  for (guint i = 0; i < self->n_latest; i++)
    gst_cnn_classify_attach_meta (self, buffer, &self->latest[i],
        self->latest_age);
}

/* "cnn-classification" with @r's class-id, label, confidence and
 * probabilities: the message's and the ROI param's common fields. */
static GstStructure *
gst_cnn_classify_result_structure (GstCnnClassify * self,
    const GstCnnClassifyResult * r)
{
  GValue probabilities = G_VALUE_INIT;
  GstStructure *s;

  g_value_init (&probabilities, GST_TYPE_ARRAY);
  /* A number has no one class: its digits' are in class-ids. */
  for (guint i = 0; i < self->classifier->n_classes && !r->is_number; i++)
    gst_cnn_array_append (&probabilities, G_TYPE_DOUBLE,
        (gdouble) r->probabilities[i]);
  s = gst_structure_new ("cnn-classification",
      "class-id", G_TYPE_INT, r->class_id,
      "label", G_TYPE_STRING, r->label ? r->label : "",
      "confidence", G_TYPE_DOUBLE, (gdouble) r->confidence, NULL);
  gst_structure_take_value (s, "probabilities", &probabilities);
  return s;
}

/* roi-list: the result goes on the ROI meta too, for whoever reads the
 * detector's regions (a second classifier adds its own; the model field
 * tells them apart). */
static void
gst_cnn_classify_add_roi_param (GstCnnClassify * self,
    GstVideoRegionOfInterestMeta * roi, const GstCnnClassifyResult * r)
{
  GstStructure *s = gst_cnn_classify_result_structure (self, r);

  gst_structure_set (s, "model", G_TYPE_STRING,
      cnn_classifier_name (self->classifier), NULL);
  gst_video_region_of_interest_meta_add_param (roi, s);
}

/* Without a lock: the streaming thread is the statistics' one writer. */
static void
gst_cnn_classify_record_time (GstCnnClassify * self, gdouble time_us)
{
  GstCnnClassifyStats *stats = &self->stats;
  guint64 classified = atomic_load (&stats->frames_classified) + 1;

  self->total_time_us += time_us;
  atomic_store (&stats->last_time_us, time_us);
  atomic_store (&stats->mean_time_us, self->total_time_us / classified);
  atomic_store (&stats->frames_classified, classified);
}

static void
gst_cnn_classify_post_message (GstCnnClassify * self, GstBuffer * buffer,
    const GstCnnClassifyResult * r)
{
  const GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;
  GstClockTime timestamp = GST_BUFFER_PTS (buffer);
  GstClockTime stream_time = GST_CLOCK_TIME_NONE;
  GstClockTime running_time = GST_CLOCK_TIME_NONE;
  GstStructure *s;

  if (segment->format == GST_FORMAT_TIME) {
    stream_time = gst_segment_to_stream_time (segment, GST_FORMAT_TIME,
        timestamp);
    running_time = gst_segment_to_running_time (segment, GST_FORMAT_TIME,
        timestamp);
  }

  s = gst_cnn_classify_result_structure (self, r);
  gst_structure_set (s,
      "timestamp", G_TYPE_UINT64, timestamp,
      "stream-time", G_TYPE_UINT64, stream_time,
      "running-time", G_TYPE_UINT64, running_time,
      "roi-x", G_TYPE_UINT, r->roi.x,
      "roi-y", G_TYPE_UINT, r->roi.y,
      "roi-width", G_TYPE_UINT, r->roi.width,
      "roi-height", G_TYPE_UINT, r->roi.height, NULL);
  if (r->is_number)
    gst_cnn_reading_message_fields (&self->classifier->reading, s);
  else
    gst_structure_set (s, "text", G_TYPE_STRING, r->label ? r->label : "",
        NULL);

  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* Classifies @frame as the inference region says, attaching a meta for
 * each region (and in roi-list a param on its ROI meta); returns the
 * time taken, in microseconds. */
static gdouble
gst_cnn_classify_run (GstCnnClassify * self, GstVideoFrame * frame,
    const GstCnnClassifySettings * settings)
{
  GstVideoRegionOfInterestMeta *metas[CNN_CLASSIFIER_MAX_REGIONS];
  CnnRect rois[CNN_CLASSIFIER_MAX_REGIONS];
  GstClockTime start = gst_util_get_timestamp ();
  const CnnImage *image = gst_cnn_frame_layout_apply (&self->layout, frame);
  /* The classifier says which: it has room for regions in roi-list. */
  gboolean roi_list = self->classifier->max_regions > 1;
  guint n = 0;

  if (roi_list) {
    n = gst_cnn_classify_collect_rois (self, frame->buffer,
        settings->object_class, image->width, image->height, metas, rois,
        self->classifier->max_regions);
    gst_cnn_classify_run_regions (self, image, settings, rois, n);
  } else {
    gst_cnn_classify_run_full_frame (self, image, settings);
  }
  for (guint i = 0; i < self->n_latest; i++) {
    gst_cnn_classify_attach_meta (self, frame->buffer, &self->latest[i], 0);
    if (roi_list)
      gst_cnn_classify_add_roi_param (self, metas[i], &self->latest[i]);
  }
  self->latest_age = 0;
  self->have_latest = TRUE;
  return (gst_util_get_timestamp () - start) / 1000.0;
}

static GstFlowReturn
gst_cnn_classify_transform_frame_ip (GstVideoFilter * filter,
    GstVideoFrame * frame)
{
  GstCnnClassify *self = GST_CNN_CLASSIFY (filter);
  GstCnnClassifySnapshot snap;
  gboolean due;
  gdouble time_us;

  due = gst_cnn_classify_begin_frame (self, &snap);
  if (G_UNLIKELY (self->classifier == NULL)) {
    gst_cnn_classify_pending_clear (&snap.taken);
    goto no_model;
  }
  gst_cnn_classify_take_tuning (self, &snap.taken,
      snap.restart || GST_BUFFER_IS_DISCONT (frame->buffer));
  /* What was replaced; frees, allocates nothing. */
  gst_cnn_classify_pending_clear (&snap.taken);
  if (!due) {
    gst_cnn_classify_attach_latest (self, frame->buffer);
    return GST_FLOW_OK;
  }
  if (gst_cnn_classify_is_late (self, frame->buffer, snap.qos_earliest)) {
    self->owed = TRUE;
    gst_cnn_classify_attach_latest (self, frame->buffer);
    gst_cnn_classify_post_skip (self, frame->buffer, snap.qos_earliest);
    return GST_FLOW_OK;
  }
  self->owed = FALSE;

  time_us = gst_cnn_classify_run (self, frame, &snap.settings);
  gst_cnn_classify_record_time (self, time_us);
  if (snap.settings.post_messages)
    for (guint i = 0; i < self->n_latest; i++)
      gst_cnn_classify_post_message (self, frame->buffer, &self->latest[i]);
  if (gst_cnn_classify_latency_changed (self))
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_latency (GST_OBJECT (self)));

  if (self->n_latest == 1)
    GST_LOG_OBJECT (self, "class %d (%s) confidence %.3f in %.0f us",
        self->latest[0].class_id, GST_STR_NULL (self->latest[0].label),
        self->latest[0].confidence, time_us);
  else
    GST_LOG_OBJECT (self, "%u regions in %.0f us", self->n_latest, time_us);
  return GST_FLOW_OK;

  /* ERRORS */
no_model:
  {
    GST_ELEMENT_ERROR (self, CORE, FAILED, ("No model loaded"), (NULL));
    return GST_FLOW_ERROR;
  }
}
