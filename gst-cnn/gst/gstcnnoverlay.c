/* GStreamer CNN plugin: the cnnoverlay element.
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-cnnoverlay
 * @title: cnnoverlay
 * @see_also: cnnclassify, #GstCnnClassificationMeta
 *
 * Draws the result that `cnnclassify` attached to a frame onto that
 * frame, for a person watching the video:
 *
 * * the box: a 2 or 3 pixel frame along the edges of the region that
 *   was classified (#GstCnnOverlay:show-box);
 * * the tag: the label and its confidence, e.g. "7  98%", on a tag in
 *   #GstCnnOverlay:color just above the box's top-left corner (inside
 *   the box when there is no room above).  A frame with no class
 *   (class-id -1: below the threshold, or no ink) gets a grey "?" tag
 *   and a fainter box;
 * * the chart: one horizontal bar per class, labelled with the class
 *   index and as long as the class's probability, the winning class in
 *   #GstCnnOverlay:color, on a dark panel to the right of the box (to
 *   its left, or inside its bottom-right corner, when there is no room)
 *   (#GstCnnOverlay:show-bars).  Models with more than 32 classes get
 *   no chart;
 * * the input: what the network was given (the meta's input, e.g. the
 *   28×28 digit cut out, thickened and centred by `mnist`
 *   preprocessing), white ink on black as the network sees it, as a
 *   picture beside the tag with a thin frame in the tag's colour, each
 *   input pixel a square of frame pixels (4 at 640×480)
 *   (#GstCnnOverlay:show-input, off by default).  It shows a person at
 *   a webcam why a digit is misread: a ruling taken for a stroke, a
 *   finger in the picture, a stroke lost to the light.  Frames whose
 *   meta has no input (no ink) get none;
 * * the number: on a frame `cnnclassify mode=number` read, a
 *   #GstCnnReadingMeta's text, e.g. "2026", large on a tag in
 *   #GstCnnOverlay:color just below the boxes of its digits (above them
 *   when there is no room below), each digit having its own box and tag
 *   as above with its label alone (no confidence) and no chart, which
 *   would cover its neighbours.  When any two digits' tags would
 *   overlap or touch (digits written close, a narrow 1 beside the next
 *   digit), no digit gets a tag: the number's text says them all.  An empty
 *   reading gets no text.
 *
 * Sizes follow the frame, so that the drawing stays legible from 160×120
 * to 1920×1080; #GstCnnOverlay:font-scale adjusts them.  The element
 * draws every #GstCnnClassificationMeta of a buffer (up to 32: one for
 * each region `cnnclassify inference-region=roi-list` classified, or
 * one for each classifier in series); buffers without one pass
 * untouched.  With `cnnclassify interval=N` the frames
 * between classifications carry the latest result (its `frames_ago`
 * above 0), which is drawn the same, so the drawing stays steady.  Drawing happens in place on raw frames of
 * the usual grey, RGB and YUV formats, so no `videoconvert` is needed
 * between `cnnclassify` and `cnnoverlay`.
 *
 * The text and shapes are drawn with cairo and Pango into small ARGB
 * pictures that are blended onto each frame; they are drawn again only
 * when what they show changes (label, confidence in whole percent, bar
 * lengths in pixels, region, caps or properties).
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 v4l2src ! videoconvert ! cnnclassify ! cnnoverlay ! videoconvert ! autovideosink
 * ]| Classifies webcam frames with the bundled digit model and shows the
 * result on them.
 * |[
 * gst-launch-1.0 videotestsrc pattern=white num-buffers=1 ! video/x-raw,width=640,height=480 ! textoverlay text=7 font-desc="Sans Bold 200" ! cnnclassify ! cnnoverlay color=0xffff8000 show-bars=false ! videoconvert ! pngenc ! filesink location=seven.png
 * ]| Writes a picture of a classified "7" with an orange box and tag and
 * no chart.
 */

#include "gstcnnoverlay.h"
#include "gstcnnoverlay-layout.h"

#include <gst/cnn/cnnmeta.h>
#include <gst/video/video-overlay-composition.h>
#include <pango/pangocairo.h>

#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_cnn_overlay_debug);
#define GST_CAT_DEFAULT gst_cnn_overlay_debug

#define DEFAULT_SHOW_BOX TRUE
#define DEFAULT_SHOW_BARS TRUE
#define DEFAULT_SHOW_INPUT FALSE
#define DEFAULT_COLOR 0xff20e060
#define DEFAULT_FONT_SCALE 1.0

/* Longest label kept (bytes, with the NUL); longer ones are cut at a
 * character boundary. */
#define LABEL_MAX 64
/* Models with more classes get no chart: their bars would be too thin. */
#define MAX_BARS 32

enum
{
  PROP_0,
  PROP_SHOW_BOX,
  PROP_SHOW_BARS,
  PROP_SHOW_INPUT,
  PROP_COLOR,
  PROP_FONT_SCALE,
};

/* Every format whose pixels GstVideoOverlayComposition can blend onto,
 * that cnnclassify also reads. */
#define CNN_OVERLAY_FORMATS "{ GRAY8, RGB, BGR, RGBx, BGRx, xRGB, xBGR, " \
  "RGBA, BGRA, ARGB, ABGR, I420, YV12, NV12, NV21, YUY2, UYVY, AYUV, " \
  "Y444, Y42B }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (CNN_OVERLAY_FORMATS)));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (CNN_OVERLAY_FORMATS)));

/* What the streaming thread copies under the object lock per buffer. */
typedef struct
{
  gboolean show_box;
  gboolean show_bars;
  gboolean show_input;
  guint32 color;                /* 0xAARRGGBB */
  gdouble font_scale;
} GstCnnOverlaySettings;

/* Sizes in frame pixels, from the frame size and font-scale. */
typedef struct
{
  guint line;                   /* width of the box's lines */
  gdouble font_px;              /* tag text */
  guint pad;                    /* around the tag text */
  gdouble bar_font_px;          /* chart labels */
  guint row;                    /* chart row pitch */
  guint bar_length;             /* a bar of probability 1 */
  guint gap;                    /* between the box and the chart, and
                                 * between the tag and the input */
  guint cell;                   /* the input: frame pixels per input pixel */
  guint border;                 /* the input's frame */
} GstCnnOverlayMetrics;

/* Everything the drawing depends on, rounded to what can be seen: when
 * two frames have equal keys they get the same pixels. */
typedef struct
{
  GstCnnOverlaySettings settings;
  guint frame_width, frame_height;
  GstCnnOverlayRect roi;        /* clipped to the frame; may be empty */
  gint class_id;
  guint percent;                /* confidence, rounded */
  gboolean has_label;
  gchar label[LABEL_MAX];
  guint n_bars;                 /* 0: no chart */
  guint16 bars[MAX_BARS];       /* bar lengths in pixels */
  guint input_width, input_height;      /* 0×0: no input shown */
  guint8 input[GST_CNN_CLASSIFICATION_META_MAX_INPUT];
  /* A number's text (in label) under its digits' boxes (roi), in place
   * of a classification's drawing. */
  gboolean is_reading;
  gboolean in_number;           /* a digit of a number: no chart, and its
                                 * label alone on its tag */
  gboolean hide_tags;           /* a number whose digits' tags would
                                 * overlap or touch: none of them is drawn
                                 * (gst_cnn_overlay_number_tags_fit()) */
} GstCnnOverlayKey;

/* One piece of the drawing (a box edge, the tag, the chart): an ARGB
 * picture kept across frames, reallocated only when its size changes. */
typedef struct
{
  guint8 *pixels;               /* cairo ARGB32, premultiplied */
  gsize capacity;
  guint width, height;
  gint x, y;                    /* where it goes on the frame */
  cairo_surface_t *surface;     /* on pixels */
  cairo_t *cr;
  GstBuffer *buffer;            /* wraps pixels, with its GstVideoMeta */
  gboolean shown;               /* drawn for the key it belongs with */
} GstCnnOverlayPart;

enum
{
  PART_TOP,
  PART_BOTTOM,
  PART_LEFT,
  PART_RIGHT,
  PART_TAG,
  PART_CHART,
  PART_INPUT,
  N_PARTS
};

/* Metas drawn on a frame at the most: cnnclassify's roi-list gives up
 * to 32, one for each region. */
#define MAX_DRAWINGS 32

/* What one meta is drawn as, and the key it was drawn for. */
typedef struct
{
  GstCnnOverlayKey key;
  GstCnnOverlayPart parts[N_PARTS];
} GstCnnOverlayDrawing;

struct _GstCnnOverlay
{
  GstVideoFilter parent;

  /* Under the object lock. */
  GstCnnOverlaySettings settings;

  /* The streaming thread's (and start()/stop()'s, when it is idle). */
  PangoFontMap *font_map;
  PangoContext *pango;
  PangoLayout *layout;
  PangoFontDescription *font;
  /* What composition shows: n_drawn metas, each drawn as its key says
   * (MAX_DRAWINGS of them, allocated with the element: more than a
   * GObject instance may hold). */
  GstCnnOverlayDrawing *drawings;
  guint n_drawn;
  GstCnnOverlayKey *keys;       /* MAX_DRAWINGS: the frame's, compared */
  GstVideoOverlayComposition *composition;      /* NULL: nothing */
};

#define gst_cnn_overlay_parent_class parent_class
G_DEFINE_TYPE (GstCnnOverlay, gst_cnn_overlay, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (cnnoverlay, "cnnoverlay", GST_RANK_NONE,
    GST_TYPE_CNN_OVERLAY);

static void gst_cnn_overlay_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_cnn_overlay_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_cnn_overlay_finalize (GObject * object);
static gboolean gst_cnn_overlay_start (GstBaseTransform * trans);
static gboolean gst_cnn_overlay_stop (GstBaseTransform * trans);
static GstFlowReturn gst_cnn_overlay_prepare_output_buffer (GstBaseTransform *
    trans, GstBuffer * input, GstBuffer ** output);
static GstFlowReturn gst_cnn_overlay_transform_ip (GstBaseTransform * trans,
    GstBuffer * buffer);
static gboolean gst_cnn_overlay_set_info (GstVideoFilter * filter,
    GstCaps * incaps, GstVideoInfo * in_info, GstCaps * outcaps,
    GstVideoInfo * out_info);

static void
gst_cnn_overlay_install_properties (GObjectClass * gobject_class)
{
  g_object_class_install_property (gobject_class, PROP_SHOW_BOX,
      g_param_spec_boolean ("show-box", "Show box",
          "Draw a frame along the edges of the region that was classified "
          "(default true)", DEFAULT_SHOW_BOX,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_SHOW_BARS,
      g_param_spec_boolean ("show-bars", "Show bars",
          "Draw a chart with one bar per class, as long as its probability, "
          "beside the region (default true). Models with more than 32 "
          "classes get no chart", DEFAULT_SHOW_BARS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_SHOW_INPUT,
      g_param_spec_boolean ("show-input", "Show input",
          "Draw what the network was given (the meta's input, e.g. the "
          "28x28 digit of mnist preprocessing) as a picture beside the "
          "label, white ink on black (default false)", DEFAULT_SHOW_INPUT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_COLOR,
      g_param_spec_uint ("color", "Color",
          "Colour of the box, the label tag and the winning class's bar, as "
          "0xAARRGGBB (alpha 0xff: opaque). Default 0xff20e060, a clear "
          "green", 0, G_MAXUINT32, DEFAULT_COLOR,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_FONT_SCALE,
      g_param_spec_double ("font-scale", "Font scale",
          "Size of the label, the chart and the input relative to the "
          "automatic size, "
          "which follows the frame (label text 5.5% of the frame's smaller "
          "side, at least 10 pixels): 0.25 to 4, default 1", 0.25, 4.0,
          DEFAULT_FONT_SCALE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
}

static void
gst_cnn_overlay_class_init (GstCnnOverlayClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_cnn_overlay_debug, "cnnoverlay", 0,
      "CNN classification overlay");

  gobject_class->set_property = gst_cnn_overlay_set_property;
  gobject_class->get_property = gst_cnn_overlay_get_property;
  gobject_class->finalize = gst_cnn_overlay_finalize;
  gst_cnn_overlay_install_properties (gobject_class);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "CNN classification overlay", "Filter/Effect/Video",
      "Draws the region, label, confidence and class probabilities that "
      "cnnclassify attached to each frame", GST_CNN_AUTHOR);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_cnn_overlay_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_cnn_overlay_stop);
  trans_class->prepare_output_buffer =
      GST_DEBUG_FUNCPTR (gst_cnn_overlay_prepare_output_buffer);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_cnn_overlay_transform_ip);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_cnn_overlay_set_info);

  gst_cnn_classification_meta_get_info ();
}

static void
gst_cnn_overlay_init (GstCnnOverlay * self)
{
  self->settings.show_box = DEFAULT_SHOW_BOX;
  self->settings.show_bars = DEFAULT_SHOW_BARS;
  self->settings.show_input = DEFAULT_SHOW_INPUT;
  self->settings.color = DEFAULT_COLOR;
  self->settings.font_scale = DEFAULT_FONT_SCALE;
  self->drawings = g_new0 (GstCnnOverlayDrawing, MAX_DRAWINGS);
  self->keys = g_new0 (GstCnnOverlayKey, MAX_DRAWINGS);
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}

/* ---- the pieces' pictures ------------------------------------------- */

static void
gst_cnn_overlay_part_release_surface (GstCnnOverlayPart * part)
{
  g_clear_pointer (&part->cr, cairo_destroy);
  g_clear_pointer (&part->surface, cairo_surface_destroy);
  gst_clear_buffer (&part->buffer);
  part->width = part->height = 0;
}

static void
gst_cnn_overlay_part_free (GstCnnOverlayPart * part)
{
  gst_cnn_overlay_part_release_surface (part);
  g_clear_pointer (&part->pixels, g_free);
  part->capacity = 0;
}

/* Makes the part's picture width × height (keeping it when the size is
 * unchanged) and transparent.  Only called when no composition holds
 * the part's buffer. */
static gboolean
gst_cnn_overlay_part_resize (GstCnnOverlayPart * part, guint width,
    guint height)
{
  gint stride = cairo_format_stride_for_width (CAIRO_FORMAT_ARGB32, width);
  gsize size = (gsize) stride * height;

  if (part->surface == NULL || part->width != width
      || part->height != height) {
    gst_cnn_overlay_part_release_surface (part);
    if (stride != (gint) width * 4)
      return FALSE;             /* wider than cairo can draw */
    if (size > part->capacity) {
      g_free (part->pixels);
      part->pixels = g_malloc (size);
      part->capacity = size;
    }
    part->surface = cairo_image_surface_create_for_data (part->pixels,
        CAIRO_FORMAT_ARGB32, width, height, stride);
    if (cairo_surface_status (part->surface) != CAIRO_STATUS_SUCCESS) {
      gst_cnn_overlay_part_release_surface (part);
      return FALSE;
    }
    part->cr = cairo_create (part->surface);
    /* The same byte layout: B G R A words on little-endian machines. */
    part->buffer = gst_buffer_new_wrapped_full (0, part->pixels, size, 0,
        size, NULL, NULL);
    gst_buffer_add_video_meta (part->buffer, GST_VIDEO_FRAME_FLAG_NONE,
        GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB, width, height);
    part->width = width;
    part->height = height;
  }

  cairo_identity_matrix (part->cr);
  cairo_set_operator (part->cr, CAIRO_OPERATOR_CLEAR);
  cairo_paint (part->cr);
  cairo_set_operator (part->cr, CAIRO_OPERATOR_OVER);
  return TRUE;
}

/* Readies @part to draw @want (frame coordinates), of which only what
 * lies inside the frame is kept; the part's cairo context then draws in
 * @want's own coordinates.  FALSE when nothing of it is inside. */
static gboolean
gst_cnn_overlay_part_begin (GstCnnOverlayPart * part,
    const GstCnnOverlayRect * want, guint frame_width, guint frame_height)
{
  gint x0 = MAX (want->x, 0), y0 = MAX (want->y, 0);
  gint x1 = MIN (want->x + want->width, (gint) frame_width);
  gint y1 = MIN (want->y + want->height, (gint) frame_height);

  if (x1 <= x0 || y1 <= y0)
    return FALSE;
  if (!gst_cnn_overlay_part_resize (part, x1 - x0, y1 - y0))
    return FALSE;
  part->x = x0;
  part->y = y0;
  cairo_translate (part->cr, want->x - x0, want->y - y0);
  return TRUE;
}

static void
gst_cnn_overlay_add_part (GstCnnOverlay * self, GstCnnOverlayPart * part)
{
  GstVideoOverlayRectangle *rect;

  part->shown = TRUE;
  cairo_surface_flush (part->surface);
  rect = gst_video_overlay_rectangle_new_raw (part->buffer, part->x, part->y,
      part->width, part->height,
      GST_VIDEO_OVERLAY_FORMAT_FLAG_PREMULTIPLIED_ALPHA);
  if (self->composition == NULL)
    self->composition = gst_video_overlay_composition_new (rect);
  else
    gst_video_overlay_composition_add_rectangle (self->composition, rect);
  gst_video_overlay_rectangle_unref (rect);
}

/* ---- measures --------------------------------------------------------- */

static void
gst_cnn_overlay_compute_metrics (guint width, guint height,
    gdouble font_scale, GstCnnOverlayMetrics * m)
{
  guint side = MIN (width, height);

  m->line = side >= 400 ? 3 : 2;
  m->font_px = MAX (MAX (side * 0.055, 10.0) * font_scale, 6.0);
  m->pad = MAX (2, (guint) lround (m->font_px * 0.25));
  m->bar_font_px = MAX (m->font_px * 0.55, 7.0);
  m->row = (guint) ceil (m->bar_font_px * 1.3);
  m->bar_length = (guint) lround (m->bar_font_px * 3.0);
  m->gap = m->line + 2;
  /* 4 frame pixels an input pixel at 640×480: a 28×28 digit about as
   * tall as three lines of the tag. */
  m->cell = MAX (1, (guint) lround (m->font_px / 7.0));
  m->border = m->line - 1;
}

static gdouble
gst_cnn_overlay_unit (gfloat value)
{
  /* NaN and negatives become 0. */
  return value > 0.0f ? MIN (value, 1.0f) : 0.0;
}

/* The valid UTF-8 start of @src, cut at a character boundary to fit. */
static void
gst_cnn_overlay_copy_label (gchar * dst, const gchar * src)
{
  const gchar *end;
  gsize n;

  g_utf8_validate (src, strnlen (src, LABEL_MAX - 1), &end);
  n = end - src;
  memcpy (dst, src, n);
  dst[n] = '\0';
}

/* Only a well-formed input: a meta made by hand may say anything. */
static void
gst_cnn_overlay_copy_input (GstCnnOverlayKey * key,
    const GstCnnClassificationMeta * meta)
{
  guint width = meta->input_width, height = meta->input_height;

  if (width == 0 || height == 0
      || width > GST_CNN_CLASSIFICATION_META_MAX_INPUT
      || height > GST_CNN_CLASSIFICATION_META_MAX_INPUT / width)
    return;
  key->input_width = width;
  key->input_height = height;
  memcpy (key->input, meta->input, (gsize) width * height);
}

static GstCnnOverlayRect
gst_cnn_overlay_clip_roi (const GstCnnClassificationMeta * meta,
    guint width, guint height)
{
  GstCnnOverlayRect r;

  r.x = MIN (meta->roi_x, width);
  r.y = MIN (meta->roi_y, height);
  r.width = MIN (meta->roi_width, width - r.x);
  r.height = MIN (meta->roi_height, height - r.y);
  return r;
}

/* @meta's key; without a chart when it is a digit of a number
 * (@in_number). */
static void
gst_cnn_overlay_make_key (GstCnnOverlay * self,
    const GstCnnClassificationMeta * meta,
    const GstCnnOverlaySettings * settings, gboolean in_number,
    GstCnnOverlayKey * key)
{
  const GstVideoInfo *info = &GST_VIDEO_FILTER (self)->in_info;
  guint width = GST_VIDEO_INFO_WIDTH (info);
  guint height = GST_VIDEO_INFO_HEIGHT (info);
  GstCnnOverlayMetrics m;

  memset (key, 0, sizeof (*key));
  key->settings = *settings;
  key->frame_width = width;
  key->frame_height = height;
  key->roi = gst_cnn_overlay_clip_roi (meta, width, height);
  key->class_id = MAX (meta->class_id, -1);
  key->in_number = in_number;
  key->percent = (guint) lround (gst_cnn_overlay_unit (meta->confidence) *
      100.0);
  key->has_label = meta->label != NULL;
  if (key->has_label)
    gst_cnn_overlay_copy_label (key->label, meta->label);
  if (settings->show_input)
    gst_cnn_overlay_copy_input (key, meta);

  if (!settings->show_bars || in_number || meta->probabilities == NULL
      || meta->n_classes == 0 || meta->n_classes > MAX_BARS)
    return;
  gst_cnn_overlay_compute_metrics (width, height, settings->font_scale, &m);
  key->n_bars = meta->n_classes;
  for (guint i = 0; i < key->n_bars; i++)
    key->bars[i] = (guint16) lround (gst_cnn_overlay_unit
        (meta->probabilities[i]) * m.bar_length);
}

static gboolean
gst_cnn_overlay_key_equal (const GstCnnOverlayKey * a,
    const GstCnnOverlayKey * b)
{
  const GstCnnOverlaySettings *sa = &a->settings, *sb = &b->settings;

  return sa->show_box == sb->show_box && sa->show_bars == sb->show_bars
      && sa->show_input == sb->show_input && sa->color == sb->color && sa->font_scale == sb->font_scale
      && a->frame_width == b->frame_width
      && a->frame_height == b->frame_height
      && memcmp (&a->roi, &b->roi, sizeof (a->roi)) == 0
      && a->class_id == b->class_id && a->percent == b->percent
      && a->has_label == b->has_label && strcmp (a->label, b->label) == 0
      && a->n_bars == b->n_bars
      && memcmp (a->bars, b->bars, a->n_bars * sizeof (a->bars[0])) == 0
      && a->is_reading == b->is_reading && a->in_number == b->in_number
      && a->hide_tags == b->hide_tags
      && a->input_width == b->input_width
      && a->input_height == b->input_height
      && memcmp (a->input, b->input,
      (gsize) a->input_width * a->input_height) == 0;
}

/* ---- drawing ------------------------------------------------------------ */

static GstCnnOverlayRect
gst_cnn_overlay_rect (gint x, gint y, gint width, gint height)
{
  GstCnnOverlayRect r = { x, y, width, height };

  return r;
}

static void
gst_cnn_overlay_set_color (cairo_t * cr, guint32 argb, gdouble alpha)
{
  cairo_set_source_rgba (cr, ((argb >> 16) & 0xff) / 255.0,
      ((argb >> 8) & 0xff) / 255.0, (argb & 0xff) / 255.0,
      ((argb >> 24) & 0xff) / 255.0 * alpha);
}

/* Dark text on light colours, white on dark ones. */
static guint32
gst_cnn_overlay_text_color_on (guint32 argb)
{
  gdouble luma = 0.2126 * ((argb >> 16) & 0xff) +
      0.7152 * ((argb >> 8) & 0xff) + 0.0722 * (argb & 0xff);

  return luma > 140.0 ? 0xff101010 : 0xffffffff;
}

/* Sets the layout's text and size; returns its logical extents. */
static PangoRectangle
gst_cnn_overlay_set_text (GstCnnOverlay * self, const gchar * text,
    gdouble size_px, PangoWeight weight, gint max_width)
{
  PangoRectangle ink, logical;

  pango_font_description_set_absolute_size (self->font,
      size_px * PANGO_SCALE);
  pango_font_description_set_weight (self->font, weight);
  pango_layout_set_font_description (self->layout, self->font);
  pango_layout_set_width (self->layout,
      max_width > 0 ? max_width * PANGO_SCALE : -1);
  pango_layout_set_text (self->layout, text, -1);
  pango_layout_get_pixel_extents (self->layout, &ink, &logical);
  return logical;
}

static void
gst_cnn_overlay_show_text (GstCnnOverlay * self, cairo_t * cr, gdouble x,
    gdouble y)
{
  pango_cairo_update_context (cr, self->pango);
  pango_layout_context_changed (self->layout);
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, self->layout);
}

static void
gst_cnn_overlay_draw_box (GstCnnOverlay * self, GstCnnOverlayPart * parts,
    const GstCnnOverlayKey * key, const GstCnnOverlayMetrics * m)
{
  const GstCnnOverlayRect *r = &key->roi;
  gint line = MIN ((gint) m->line, MIN (r->width, r->height) / 2);
  gdouble alpha = key->class_id < 0 ? 0.6 : 1.0;
  GstCnnOverlayRect edges[4];

  line = MAX (line, 1);
  edges[PART_TOP] = gst_cnn_overlay_rect (r->x, r->y, r->width, line);
  edges[PART_BOTTOM] = gst_cnn_overlay_rect (r->x, r->y + r->height - line,
      r->width, line);
  edges[PART_LEFT] = gst_cnn_overlay_rect (r->x, r->y + line, line,
      r->height - 2 * line);
  edges[PART_RIGHT] = gst_cnn_overlay_rect (r->x + r->width - line,
      r->y + line, line, r->height - 2 * line);

  for (guint i = PART_TOP; i <= PART_RIGHT; i++) {
    GstCnnOverlayPart *part = &parts[i];

    if (edges[i].height <= 0 || !gst_cnn_overlay_part_begin (part, &edges[i],
            key->frame_width, key->frame_height))
      continue;
    gst_cnn_overlay_set_color (part->cr, key->settings.color, alpha);
    cairo_paint (part->cr);
    gst_cnn_overlay_add_part (self, part);
  }
}

/* Below the digits' boxes, flush with their left edge; above their tags
 * (@tags_height) when there is no room below; moved to stay in the
 * frame. */
static GstCnnOverlayRect
gst_cnn_overlay_place_reading (const GstCnnOverlayKey * key, gint gap,
    gint tags_height, gint width, gint height)
{
  const GstCnnOverlayRect *r = &key->roi;
  gint frame_w = key->frame_width, frame_h = key->frame_height;
  GstCnnOverlayRect tag = { r->x, r->y + r->height + gap, width, height };

  if (tag.y + height > frame_h)
    tag.y = r->y - tags_height - gap - height;
  tag.x = CLAMP (tag.x, 0, MAX (frame_w - width, 0));
  tag.y = CLAMP (tag.y, 0, MAX (frame_h - height, 0));
  return tag;
}

/* A number's text, twice the tag's size. */
static void
gst_cnn_overlay_draw_reading (GstCnnOverlay * self,
    GstCnnOverlayPart * parts, const GstCnnOverlayKey * key,
    const GstCnnOverlayMetrics * m)
{
  GstCnnOverlayPart *part = &parts[PART_TAG];
  gint pad_x = 2 * m->pad + 1, pad_y = MAX (1, (gint) m->pad / 2);
  gint max_text = (gint) key->frame_width - 2 * pad_x;
  PangoRectangle extents;
  GstCnnOverlayRect tag;

  extents = gst_cnn_overlay_set_text (self, key->label, 2.0 * m->font_px,
      PANGO_WEIGHT_BOLD, MAX (max_text, 1));
  /* The digits' tags, when drawn: a line of text and its padding. */
  tag = gst_cnn_overlay_place_reading (key, m->gap, key->hide_tags ? 0 :
      (gint) ceil (1.4 * m->font_px) + 2 * MAX (1, (gint) m->pad / 3),
      extents.width + 2 * pad_x, extents.height + 2 * pad_y);
  if (!gst_cnn_overlay_part_begin (part, &tag, key->frame_width,
          key->frame_height))
    return;
  gst_cnn_overlay_set_color (part->cr, key->settings.color, 1.0);
  cairo_paint (part->cr);
  gst_cnn_overlay_set_color (part->cr,
      gst_cnn_overlay_text_color_on (key->settings.color | 0xff000000), 1.0);
  gst_cnn_overlay_show_text (self, part->cr, pad_x - extents.x,
      pad_y - extents.y);
  gst_cnn_overlay_add_part (self, part);
}

/* "7  98%"; "?" when there is no class. */
static void
gst_cnn_overlay_format_tag (const GstCnnOverlayKey * key, gchar * text,
    gsize size)
{
  if (key->class_id < 0)
    g_strlcpy (text, "?", size);
  else if (key->has_label && key->in_number)
    g_strlcpy (text, key->label, size);
  else if (key->has_label)
    g_snprintf (text, size, "%s  %u%%", key->label, key->percent);
  else
    g_snprintf (text, size, "#%d  %u%%", key->class_id, key->percent);
}

/* The tag's text set in the layout (its extents in @extents) and where
 * the tag goes (gst_cnn_overlay_place_tag()), drawn or not. */
static GstCnnOverlayRect
gst_cnn_overlay_layout_tag (GstCnnOverlay * self,
    const GstCnnOverlayKey * key, const GstCnnOverlayMetrics * m,
    PangoRectangle * extents)
{
  gint pad_x = m->pad + 1, pad_y = MAX (1, (gint) m->pad / 3);
  gint max_text = (gint) key->frame_width - 2 * pad_x;
  gchar text[LABEL_MAX + 32];

  gst_cnn_overlay_format_tag (key, text, sizeof (text));
  *extents = gst_cnn_overlay_set_text (self, text, m->font_px,
      PANGO_WEIGHT_BOLD, MAX (max_text, 1));
  return gst_cnn_overlay_place_tag (&key->roi, extents->width + 2 * pad_x,
      extents->height + 2 * pad_y, key->frame_width);
}

/* The tag's colour, and the input's frame's: grey when there is no
 * class. */
static guint32
gst_cnn_overlay_tag_color (const GstCnnOverlayKey * key)
{
  return key->class_id < 0 ? 0xd9595959 : key->settings.color;
}

/* Draws the tag (unless a number's tags are hidden) and returns where it
 * goes, for the input to go beside. */
static GstCnnOverlayRect
gst_cnn_overlay_draw_tag (GstCnnOverlay * self, GstCnnOverlayPart * parts,
    const GstCnnOverlayKey * key, const GstCnnOverlayMetrics * m)
{
  GstCnnOverlayPart *part = &parts[PART_TAG];
  guint32 background = gst_cnn_overlay_tag_color (key);
  gint pad_x = m->pad + 1, pad_y = MAX (1, (gint) m->pad / 3);
  PangoRectangle extents;
  GstCnnOverlayRect tag;

  tag = gst_cnn_overlay_layout_tag (self, key, m, &extents);
  if (key->hide_tags || !gst_cnn_overlay_part_begin (part, &tag,
          key->frame_width, key->frame_height))
    return tag;

  gst_cnn_overlay_set_color (part->cr, background, 1.0);
  cairo_paint (part->cr);
  gst_cnn_overlay_set_color (part->cr,
      gst_cnn_overlay_text_color_on (background | 0xff000000), 1.0);
  gst_cnn_overlay_show_text (self, part->cr, pad_x - extents.x,
      pad_y - extents.y);
  gst_cnn_overlay_add_part (self, part);
  return tag;
}

/* Right of the tag, level with its top; when the tag sits on the box
 * and there is room, with its bottom on the box as the tag's.  Left of
 * the tag when the frame ends first. */
static GstCnnOverlayRect
gst_cnn_overlay_place_input (const GstCnnOverlayKey * key,
    const GstCnnOverlayRect * tag, gint gap, gint width, gint height)
{
  gint frame_w = key->frame_width, frame_h = key->frame_height;
  GstCnnOverlayRect inset = { tag->x + tag->width + gap, tag->y, width,
    height
  };

  if (tag->y + tag->height <= key->roi.y && key->roi.y - height >= 0)
    inset.y = key->roi.y - height;
  if (inset.x + width > frame_w && tag->x - gap - width >= 0)
    inset.x = tag->x - gap - width;
  inset.x = CLAMP (inset.x, 0, MAX (frame_w - width, 0));
  inset.y = CLAMP (inset.y, 0, MAX (frame_h - height, 0));
  return inset;
}

/* input (w × h, grey) → the part's pixels inside its frame of @border
 * pixels, each input pixel an opaque @cell × @cell square.  Written
 * straight into the picture: nearest-neighbour by construction, with
 * nothing for cairo to set up.  The part is the whole inset, unclipped. */
static void
gst_cnn_overlay_fill_cells (GstCnnOverlayPart * part,
    const GstCnnOverlayKey * key, guint cell, guint border)
{
  guint width = key->input_width * cell, height = key->input_height * cell;

  cairo_surface_flush (part->surface);
  for (guint y = 0; y < height; y++) {
    const guint8 *in = key->input + (y / cell) * key->input_width;
    guint32 *out = (guint32 *) (part->pixels +
        (gsize) (border + y) * part->width * 4) + border;

    for (guint x = 0; x < width; x++) {
      guint32 grey = in[x / cell];

      out[x] = 0xff000000 | grey << 16 | grey << 8 | grey;
    }
  }
  cairo_surface_mark_dirty (part->surface);
}

static void
gst_cnn_overlay_draw_input (GstCnnOverlay * self, GstCnnOverlayPart * parts,
    const GstCnnOverlayKey * key, const GstCnnOverlayMetrics * m,
    const GstCnnOverlayRect * tag)
{
  GstCnnOverlayPart *part = &parts[PART_INPUT];
  gint width = key->input_width * m->cell + 2 * m->border;
  gint height = key->input_height * m->cell + 2 * m->border;
  GstCnnOverlayRect inset;

  /* A picture cut by the frame's edge would mislead: none at all. */
  if (width > (gint) key->frame_width || height > (gint) key->frame_height)
    return;
  inset = gst_cnn_overlay_place_input (key, tag, m->gap, width, height);
  if (!gst_cnn_overlay_part_begin (part, &inset, key->frame_width,
          key->frame_height))
    return;

  gst_cnn_overlay_set_color (part->cr, gst_cnn_overlay_tag_color (key), 1.0);
  cairo_paint (part->cr);
  gst_cnn_overlay_fill_cells (part, key, m->cell, m->border);
  gst_cnn_overlay_add_part (self, part);
}

static void
gst_cnn_overlay_rounded_rect (cairo_t * cr, gdouble x, gdouble y,
    gdouble w, gdouble h, gdouble r)
{
  r = MIN (r, MIN (w, h) / 2);
  cairo_new_sub_path (cr);
  cairo_arc (cr, x + w - r, y + r, r, -G_PI / 2, 0);
  cairo_arc (cr, x + w - r, y + h - r, r, 0, G_PI / 2);
  cairo_arc (cr, x + r, y + h - r, r, G_PI / 2, G_PI);
  cairo_arc (cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}

/* Right of the box, top-aligned with it; else left of it; else inside
 * its bottom-right corner.  Kept inside the frame where it fits. */
static GstCnnOverlayRect
gst_cnn_overlay_place_chart (const GstCnnOverlayKey * key,
    const GstCnnOverlayMetrics * m, gint width, gint height)
{
  const GstCnnOverlayRect *r = &key->roi;
  gint frame_w = key->frame_width, frame_h = key->frame_height;
  gint gap = m->gap;
  GstCnnOverlayRect chart = { 0, r->y, width, height };

  if (r->x + r->width + gap + width <= frame_w) {
    chart.x = r->x + r->width + gap;
  } else if (r->x - gap - width >= 0) {
    chart.x = r->x - gap - width;
  } else {
    chart.x = r->x + r->width - (gint) m->line - gap - width;
    chart.y = r->y + r->height - (gint) m->line - gap - height;
  }
  chart.x = CLAMP (chart.x, 0, MAX (frame_w - width, 0));
  chart.y = CLAMP (chart.y, 0, MAX (frame_h - height, 0));
  return chart;
}

static void
gst_cnn_overlay_draw_chart_row (GstCnnOverlay * self, cairo_t * cr,
    const GstCnnOverlayKey * key, guint i, gdouble font_px, gint label_x,
    gint label_width, gint bar_x, gint y, gint row, gint bar_length)
{
  gboolean winner = (gint) i == key->class_id;
  guint32 color = winner ? key->settings.color : 0xffffffff;
  gint bar_h = MAX (1, (gint) lround (row * 0.6));
  gint bar_y = y + (row - bar_h) / 2;

  if (font_px >= 5.0) {
    gchar text[16];
    PangoRectangle extents;

    g_snprintf (text, sizeof (text), "%u", i);
    extents = gst_cnn_overlay_set_text (self, text, font_px,
        winner ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL, -1);
    gst_cnn_overlay_set_color (cr, color, winner ? 1.0 : 0.85);
    gst_cnn_overlay_show_text (self, cr,
        label_x + label_width - extents.width - extents.x,
        y + (row - extents.height) / 2.0 - extents.y);
  }

  cairo_set_source_rgba (cr, 1.0, 1.0, 1.0, 0.1);
  cairo_rectangle (cr, bar_x, bar_y, bar_length, bar_h);
  cairo_fill (cr);
  gst_cnn_overlay_set_color (cr, color, winner ? 1.0 : 0.8);
  cairo_rectangle (cr, bar_x, bar_y, key->bars[i], bar_h);
  cairo_fill (cr);
}

static void
gst_cnn_overlay_draw_chart (GstCnnOverlay * self, GstCnnOverlayPart * parts,
    const GstCnnOverlayKey * key, const GstCnnOverlayMetrics * m)
{
  GstCnnOverlayPart *part = &parts[PART_CHART];
  guint n = key->n_bars;
  gint row = m->row, pad = MAX (2, (gint) lround (m->row * 0.35));
  gdouble font_px = m->bar_font_px;
  gint label_width = 0, width, height;
  GstCnnOverlayRect chart;
  gchar widest[16];

  /* Rows shrink to fit the frame's height, their labels with them. */
  if ((gint) (n * row) + 2 * pad > (gint) key->frame_height) {
    pad = 1;
    row = ((gint) key->frame_height - 2 * pad) / (gint) n;
    font_px = MIN (font_px, row * 0.8);
  }
  if (row < 2)
    return;
  if (font_px >= 5.0) {
    g_snprintf (widest, sizeof (widest), "%u", n - 1);
    label_width = gst_cnn_overlay_set_text (self, widest, font_px,
        PANGO_WEIGHT_BOLD, -1).width;
  }
  width = pad + label_width + pad + m->bar_length + pad;
  height = pad + (gint) (n * row) + pad;
  chart = gst_cnn_overlay_place_chart (key, m, width, height);
  if (!gst_cnn_overlay_part_begin (part, &chart, key->frame_width,
          key->frame_height))
    return;

  cairo_set_source_rgba (part->cr, 0.0, 0.0, 0.0, 0.7);
  gst_cnn_overlay_rounded_rect (part->cr, 0, 0, width, height, pad);
  cairo_fill (part->cr);
  for (guint i = 0; i < n; i++)
    gst_cnn_overlay_draw_chart_row (self, part->cr, key, i, font_px, pad,
        label_width, 2 * pad + label_width, pad + (gint) i * row, row,
        m->bar_length);
  gst_cnn_overlay_add_part (self, part);
}

/* Draws what @d's key describes into its parts and adds them to the
 * composition. */
static void
gst_cnn_overlay_render (GstCnnOverlay * self, GstCnnOverlayDrawing * d)
{
  const GstCnnOverlayKey *key = &d->key;
  gboolean has_region = key->roi.width > 0 && key->roi.height > 0;
  GstCnnOverlayMetrics m;
  GstCnnOverlayRect tag;

  for (guint i = 0; i < N_PARTS; i++)
    d->parts[i].shown = FALSE;
  gst_cnn_overlay_compute_metrics (key->frame_width, key->frame_height,
      key->settings.font_scale, &m);
  if (key->is_reading) {
    gst_cnn_overlay_draw_reading (self, d->parts, key, &m);
    GST_DEBUG_OBJECT (self, "drew the number \"%s\"", key->label);
    return;
  }

  if (key->settings.show_box && has_region)
    gst_cnn_overlay_draw_box (self, d->parts, key, &m);
  if (key->n_bars > 0)
    gst_cnn_overlay_draw_chart (self, d->parts, key, &m);
  tag = gst_cnn_overlay_draw_tag (self, d->parts, key, &m);
  if (key->input_width > 0)
    gst_cnn_overlay_draw_input (self, d->parts, key, &m, &tag);

  GST_DEBUG_OBJECT (self, "drew class %d (%u%%), region %d,%d %dx%d, %u bars,"
      " input %ux%u", key->class_id, key->percent, key->roi.x, key->roi.y,
      key->roi.width, key->roi.height, key->n_bars, key->input_width,
      key->input_height);
}

/* The composition of the @n keys in self->keys: drawings whose key is
 * unchanged keep their pictures (only put in the new composition),
 * the others are drawn again; nothing at all when every key is the
 * same as the last frame's. */
static void
gst_cnn_overlay_update (GstCnnOverlay * self, guint n)
{
  gboolean same = n == self->n_drawn;

  for (guint i = 0; same && i < n; i++)
    same = gst_cnn_overlay_key_equal (&self->keys[i],
        &self->drawings[i].key);
  if (same)
    return;
  /* First let go of the parts' buffers, so they can be drawn again. */
  g_clear_pointer (&self->composition, gst_video_overlay_composition_unref);
  for (guint i = 0; i < n; i++) {
    GstCnnOverlayDrawing *d = &self->drawings[i];

    if (i < self->n_drawn && gst_cnn_overlay_key_equal (&self->keys[i],
            &d->key)) {
      for (guint p = 0; p < N_PARTS; p++)
        if (d->parts[p].shown)
          gst_cnn_overlay_add_part (self, &d->parts[p]);
      continue;
    }
    d->key = self->keys[i];
    gst_cnn_overlay_render (self, d);
  }
  self->n_drawn = n;
}

/* ---- element ------------------------------------------------------------ */

static void
gst_cnn_overlay_forget_drawing (GstCnnOverlay * self)
{
  g_clear_pointer (&self->composition, gst_video_overlay_composition_unref);
  self->n_drawn = 0;
}

static void
gst_cnn_overlay_free_drawing (GstCnnOverlay * self)
{
  gst_cnn_overlay_forget_drawing (self);
  for (guint d = 0; d < MAX_DRAWINGS; d++)
    for (guint i = 0; i < N_PARTS; i++)
      gst_cnn_overlay_part_free (&self->drawings[d].parts[i]);
  g_clear_object (&self->layout);
  g_clear_object (&self->pango);
  g_clear_object (&self->font_map);
  g_clear_pointer (&self->font, pango_font_description_free);
}

/* Fonts are found once, here, not on the first frame. */
static gboolean
gst_cnn_overlay_start (GstBaseTransform * trans)
{
  GstCnnOverlay *self = GST_CNN_OVERLAY (trans);
  cairo_font_options_t *options;

  self->font_map = pango_cairo_font_map_new ();
  self->pango = pango_font_map_create_context (self->font_map);
  /* Grey antialiasing: the frame may end up in any pixel order. */
  options = cairo_font_options_create ();
  cairo_font_options_set_antialias (options, CAIRO_ANTIALIAS_GRAY);
  cairo_font_options_set_hint_style (options, CAIRO_HINT_STYLE_SLIGHT);
  pango_cairo_context_set_font_options (self->pango, options);
  cairo_font_options_destroy (options);
  self->layout = pango_layout_new (self->pango);
  pango_layout_set_ellipsize (self->layout, PANGO_ELLIPSIZE_END);
  pango_layout_set_single_paragraph_mode (self->layout, TRUE);
  self->font = pango_font_description_from_string ("Sans");
  return TRUE;
}

static gboolean
gst_cnn_overlay_stop (GstBaseTransform * trans)
{
  gst_cnn_overlay_free_drawing (GST_CNN_OVERLAY (trans));
  return TRUE;
}

static void
gst_cnn_overlay_finalize (GObject * object)
{
  GstCnnOverlay *self = GST_CNN_OVERLAY (object);

  gst_cnn_overlay_free_drawing (self);
  g_free (self->drawings);
  g_free (self->keys);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_cnn_overlay_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstCnnOverlay *self = GST_CNN_OVERLAY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_SHOW_BOX:
      self->settings.show_box = g_value_get_boolean (value);
      break;
    case PROP_SHOW_BARS:
      self->settings.show_bars = g_value_get_boolean (value);
      break;
    case PROP_SHOW_INPUT:
      self->settings.show_input = g_value_get_boolean (value);
      break;
    case PROP_COLOR:
      self->settings.color = g_value_get_uint (value);
      break;
    case PROP_FONT_SCALE:
      self->settings.font_scale = g_value_get_double (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_cnn_overlay_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstCnnOverlay *self = GST_CNN_OVERLAY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_SHOW_BOX:
      g_value_set_boolean (value, self->settings.show_box);
      break;
    case PROP_SHOW_BARS:
      g_value_set_boolean (value, self->settings.show_bars);
      break;
    case PROP_SHOW_INPUT:
      g_value_set_boolean (value, self->settings.show_input);
      break;
    case PROP_COLOR:
      g_value_set_uint (value, self->settings.color);
      break;
    case PROP_FONT_SCALE:
      g_value_set_double (value, self->settings.font_scale);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_cnn_overlay_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstCnnOverlay *self = GST_CNN_OVERLAY (filter);

  gst_cnn_overlay_forget_drawing (self);
  GST_DEBUG_OBJECT (self, "drawing on %s %dx%d frames",
      GST_VIDEO_INFO_NAME (in_info), GST_VIDEO_INFO_WIDTH (in_info),
      GST_VIDEO_INFO_HEIGHT (in_info));
  return TRUE;
}

/* A frame without a result is passed on as it came, even when it is
 * not writable: it will not be touched.  The others are made writable
 * as usual. */
static GstFlowReturn
gst_cnn_overlay_prepare_output_buffer (GstBaseTransform * trans,
    GstBuffer * input, GstBuffer ** output)
{
  if (gst_buffer_get_cnn_classification_meta (input) == NULL) {
    *output = input;
    return GST_FLOW_OK;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->prepare_output_buffer
      (trans, input, output);
}

/* The key of @reading's text, under the union of the boxes of @keys
 * [0, n) (its digits'; its region when there are none). */
static void
gst_cnn_overlay_make_reading_key (GstCnnOverlay * self,
    const GstCnnReadingMeta * reading, const GstCnnOverlaySettings * settings,
    const GstCnnOverlayKey * keys, guint n, GstCnnOverlayKey * key)
{
  const GstVideoInfo *info = &GST_VIDEO_FILTER (self)->in_info;
  gint x0 = G_MAXINT, y0 = G_MAXINT, x1 = 0, y1 = 0;

  memset (key, 0, sizeof (*key));
  key->settings = *settings;
  key->frame_width = GST_VIDEO_INFO_WIDTH (info);
  key->frame_height = GST_VIDEO_INFO_HEIGHT (info);
  key->is_reading = TRUE;
  key->class_id = -1;
  gst_cnn_overlay_copy_label (key->label,
      gst_cnn_reading_meta_get_text (reading));
  for (guint i = 0; i < n; i++) {
    const GstCnnOverlayRect *r = &keys[i].roi;

    x0 = MIN (x0, r->x);
    y0 = MIN (y0, r->y);
    x1 = MAX (x1, r->x + r->width);
    y1 = MAX (y1, r->y + r->height);
  }
  if (n > 0)
    key->roi = gst_cnn_overlay_rect (x0, y0, x1 - x0, y1 - y0);
}

/* Whether the tags of a number's digits, the @n keys @keys, may be
 * drawn (gst_cnn_overlay_number_tags_fit()): each one is laid out as it
 * would be drawn, and none may come closer to another than the gap
 * between a box and its chart. */
static gboolean
gst_cnn_overlay_number_tags_shown (GstCnnOverlay * self,
    const GstCnnOverlayKey * keys, guint n)
{
  GstCnnOverlayRect tags[MAX_DRAWINGS];
  GstCnnOverlayMetrics m;
  PangoRectangle extents;

  if (n == 0)
    return TRUE;
  gst_cnn_overlay_compute_metrics (keys[0].frame_width, keys[0].frame_height,
      keys[0].settings.font_scale, &m);
  for (guint i = 0; i < n; i++)
    tags[i] = gst_cnn_overlay_layout_tag (self, &keys[i], &m, &extents);
  return gst_cnn_overlay_number_tags_fit (tags, n, m.gap);
}

/* The keys of @buffer's classification metas (every one, up to
 * MAX_DRAWINGS) in self->keys, then that of its reading meta's text
 * when it has one that is not empty; returns how many.  A number's
 * digits' tags are all hidden when any two would overlap or touch. */
static guint
gst_cnn_overlay_make_keys (GstCnnOverlay * self, GstBuffer * buffer,
    const GstCnnOverlaySettings * settings)
{
  const GstCnnReadingMeta *reading = gst_buffer_get_cnn_reading_meta (buffer);
  gboolean in_number = reading != NULL && reading->n_digits > 0;
  gboolean hide_tags;
  gpointer state = NULL;
  GstMeta *m;
  guint n = 0;

  while (n < MAX_DRAWINGS - (in_number ? 1 : 0)
      && (m = gst_buffer_iterate_meta_filtered (buffer, &state,
              GST_CNN_CLASSIFICATION_META_API_TYPE)))
    gst_cnn_overlay_make_key (self, (const GstCnnClassificationMeta *) m,
        settings, in_number, &self->keys[n++]);
  if (!in_number)
    return n;
  hide_tags = !gst_cnn_overlay_number_tags_shown (self, self->keys, n);
  for (guint i = 0; i < n; i++)
    self->keys[i].hide_tags = hide_tags;
  if (gst_cnn_reading_meta_get_text (reading)[0] != '\0') {
    gst_cnn_overlay_make_reading_key (self, reading, settings, self->keys, n,
        &self->keys[n]);
    self->keys[n++].hide_tags = hide_tags;
  }
  return n;
}

static GstFlowReturn
gst_cnn_overlay_transform_ip (GstBaseTransform * trans, GstBuffer * buffer)
{
  GstCnnOverlay *self = GST_CNN_OVERLAY (trans);
  GstVideoFilter *filter = GST_VIDEO_FILTER (trans);
  GstCnnOverlaySettings settings;
  GstVideoFrame frame;

  if (gst_buffer_get_cnn_classification_meta (buffer) == NULL)
    return GST_FLOW_OK;
  if (G_UNLIKELY (self->layout == NULL))
    goto not_started;

  GST_OBJECT_LOCK (self);
  settings = self->settings;
  GST_OBJECT_UNLOCK (self);

  gst_cnn_overlay_update (self, gst_cnn_overlay_make_keys (self, buffer,
          &settings));
  if (self->composition == NULL)
    return GST_FLOW_OK;

  if (!gst_video_frame_map (&frame, &filter->in_info, buffer,
          GST_MAP_READWRITE))
    goto map_failed;
  gst_video_overlay_composition_blend (self->composition, &frame);
  gst_video_frame_unmap (&frame);
  return GST_FLOW_OK;

  /* ERRORS */
not_started:
  {
    GST_ELEMENT_ERROR (self, CORE, STATE_CHANGE, ("Not started"), (NULL));
    return GST_FLOW_ERROR;
  }
map_failed:
  {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Could not map the frame for writing"), (NULL));
    return GST_FLOW_ERROR;
  }
}
