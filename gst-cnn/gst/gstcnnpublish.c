/* GStreamer CNN plugin: the cnnpublish element.
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-cnnpublish
 * @title: cnnpublish
 * @see_also: cnnclassify, #GstCnnClassificationMeta
 *
 * Writes the results that `cnnclassify` attached to the buffers as JSON
 * lines, for scripts: one JSON object on one line per buffer that
 * carries at least one #GstCnnClassificationMeta (buffers without one
 * write nothing), to #GstCnnPublish:location (standard output by
 * default), flushed after each line so that a reader sees it at once.
 * The buffers pass through untouched: the element accepts any caps.
 *
 * Each object holds:
 *
 * * `pts` (integer): the buffer's presentation timestamp in
 *   nanoseconds, or null when it has none.
 * * `running_time` (integer): the timestamp as running time, in
 *   nanoseconds, or null when unknown (as the `cnn-classification`
 *   message's `running-time`).
 * * `metas` (array): one object per classification meta, in the
 *   buffer's order (a second classifier's after the first's), with the
 *   meta's fields: `class_id` (integer, -1 for no class), `label`
 *   (string, null for no class), `confidence` (number),
 *   `probabilities` (array of numbers, in label order), `roi` (object:
 *   `x`, `y`, `width`, `height`, frame pixels), `model` (string or
 *   null) and `frames_ago` (integer, 0 when the frame itself was
 *   classified).
 * * `readings` (array): one object per reading meta (`cnnclassify
 *   mode=number`: the number read in a region, whose digits are among
 *   `metas`), with `text` (string: the digits in order, `?` for one
 *   below the threshold, "" when none was found), `n_digits` (integer),
 *   `roi` (as above) and `frames_ago`; empty in digit mode.
 *
 * The names are the meta's own (as C and Python read them), with
 * underscores, so that `jq` reads them as `.class_id` and
 * `{label, frames_ago}`.
 *
 * Numbers are written as the shortest text that reads back as the same
 * float, so a probability of 0.98 reads "0.98".  A file is created, or
 * emptied, when the element starts (as `filesink` does); a line is
 * written whole with one write before the next starts.  If it cannot be
 * written (a full disk) the element posts an error and stops.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -q v4l2src ! cnnclassify interval=3 ! cnnpublish ! fakesink | jq -c '.metas[0] | {label, confidence}'
 * ]| Prints the label and confidence of every frame of a webcam.
 */


#include "gstcnnpublish.h"

#include <gst/cnn/cnnmeta.h>
#include <json-glib/json-glib.h>
#include <cnn.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_cnn_publish_debug);
#define GST_CAT_DEFAULT gst_cnn_publish_debug

#define DEFAULT_LOCATION "-"

enum
{
  PROP_0,
  PROP_LOCATION,
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

struct _GstCnnPublish
{
  GstBaseTransform parent;

  /* Under the object lock. */
  gchar *location;

  /* The streaming thread's (and start()/stop()'s). */
  FILE *out;
  gchar *out_name;              /* for messages: the path, or "stdout" */
  GString *line;                /* one line, grown once to its size */
  GHashTable *quoted;           /* interned string → its JSON text */
};

#define gst_cnn_publish_parent_class parent_class
G_DEFINE_TYPE (GstCnnPublish, gst_cnn_publish, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (cnnpublish, "cnnpublish", GST_RANK_NONE,
    GST_TYPE_CNN_PUBLISH);

static void gst_cnn_publish_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_cnn_publish_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_cnn_publish_finalize (GObject * object);
static gboolean gst_cnn_publish_start (GstBaseTransform * trans);
static gboolean gst_cnn_publish_stop (GstBaseTransform * trans);
static GstFlowReturn gst_cnn_publish_transform_ip (GstBaseTransform * trans,
    GstBuffer * buffer);

static void
gst_cnn_publish_class_init (GstCnnPublishClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_cnn_publish_debug, "cnnpublish", 0,
      "CNN results as JSON lines");

  gobject_class->set_property = gst_cnn_publish_set_property;
  gobject_class->get_property = gst_cnn_publish_get_property;
  gobject_class->finalize = gst_cnn_publish_finalize;
  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "File to write the JSON lines to, created or emptied at start; "
          "\"-\" (the default) is standard output. Applies from the next "
          "start", DEFAULT_LOCATION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "CNN results as JSON lines", "Filter/Analyzer",
      "Writes the classification metas of each buffer as one line of JSON, "
      "passing the buffers through", GST_CNN_AUTHOR);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_cnn_publish_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_cnn_publish_stop);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_cnn_publish_transform_ip);

  gst_cnn_classification_meta_get_info ();
}

static void
gst_cnn_publish_init (GstCnnPublish * self)
{
  self->location = g_strdup (DEFAULT_LOCATION);
  /* Reads metas only: buffers go on as they came. */
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
}

static void
gst_cnn_publish_finalize (GObject * object)
{
  GstCnnPublish *self = GST_CNN_PUBLISH (object);

  g_free (self->location);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_cnn_publish_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstCnnPublish *self = GST_CNN_PUBLISH (object);

  switch (prop_id) {
    case PROP_LOCATION:
      GST_OBJECT_LOCK (self);
      g_free (self->location);
      self->location = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_cnn_publish_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstCnnPublish *self = GST_CNN_PUBLISH (object);

  switch (prop_id) {
    case PROP_LOCATION:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->location);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

/* ---- start and stop ------------------------------------------------- */

static gboolean
gst_cnn_publish_start (GstBaseTransform * trans)
{
  GstCnnPublish *self = GST_CNN_PUBLISH (trans);
  gchar *location;

  GST_OBJECT_LOCK (self);
  location = g_strdup (self->location);
  GST_OBJECT_UNLOCK (self);

  if (location == NULL || location[0] == '\0')
    goto no_location;
  if (g_str_equal (location, "-")) {
    self->out = stdout;
    self->out_name = g_strdup ("standard output");
  } else {
    self->out = fopen (location, "w");
    if (self->out == NULL)
      goto open_failed;
    self->out_name = g_strdup (location);
  }
  self->line = g_string_sized_new (1024);
  self->quoted = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
      g_free);
  g_free (location);
  return TRUE;

  /* ERRORS */
no_location:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("No location set: a file name, or \"-\" for standard output"),
        (NULL));
    g_free (location);
    return FALSE;
  }
open_failed:
  {
    int err = errno;

    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Could not open \"%s\" for writing: %s", location,
            g_strerror (err)), (NULL));
    g_free (location);
    return FALSE;
  }
}

static gboolean
gst_cnn_publish_stop (GstBaseTransform * trans)
{
  GstCnnPublish *self = GST_CNN_PUBLISH (trans);
  gboolean ok = TRUE;

  if (self->out == stdout)
    ok = fflush (stdout) == 0;
  else if (self->out != NULL)
    ok = fclose (self->out) == 0;
  if (!ok)
    GST_ELEMENT_WARNING (self, RESOURCE, CLOSE, ("Could not finish writing "
            "%s: %s", self->out_name, g_strerror (errno)), (NULL));
  self->out = NULL;
  g_clear_pointer (&self->out_name, g_free);
  if (self->line)
    g_string_free (self->line, TRUE);
  self->line = NULL;
  g_clear_pointer (&self->quoted, g_hash_table_unref);
  return TRUE;
}

/* ---- one line -------------------------------------------------------- */

/* @text (interned) as a JSON string, or null; quoted once per text by
 * json-glib and kept, so that a frame allocates nothing. */
static void
gst_cnn_publish_append_string (GstCnnPublish * self, const gchar * text)
{
  const gchar *quoted;

  if (text == NULL) {
    g_string_append (self->line, "null");
    return;
  }
  quoted = g_hash_table_lookup (self->quoted, text);
  if (quoted == NULL) {
    JsonNode *node = json_node_init_string (json_node_alloc (), text);
    gchar *json = json_to_string (node, FALSE);

    json_node_unref (node);
    g_hash_table_insert (self->quoted, (gpointer) text, json);
    quoted = json;
  }
  g_string_append (self->line, quoted);
}

/* The shortest decimal text that reads back as @value (a float), so
 * that 0.98f reads "0.98" and not "0.98000001907348633"; JSON has no
 * NaN or infinity: null. */
static void
gst_cnn_publish_append_float (GstCnnPublish * self, gfloat value)
{
  if (isfinite (value))
    cnn_string_append_float (self->line, value);
  else
    g_string_append (self->line, "null");
}

/* g_string_append_printf() would cost an allocation a number (it
 * formats through g_vasprintf()); g_snprintf() into the stack does not. */
static void
gst_cnn_publish_append_int (GstCnnPublish * self, gint64 value)
{
  gchar text[24];

  g_snprintf (text, sizeof text, "%" G_GINT64_FORMAT, value);
  g_string_append (self->line, text);
}

static void
gst_cnn_publish_append_time (GstCnnPublish * self, GstClockTime time)
{
  if (GST_CLOCK_TIME_IS_VALID (time))
    gst_cnn_publish_append_int (self, (gint64) time);
  else
    g_string_append (self->line, "null");
}

/* Writes one meta's object into self->line. */
typedef void (*GstCnnPublishAppend) (GstCnnPublish * self,
    const GstMeta * meta);

/* "roi":{"x":…,"y":…,"width":…,"height":…} */
static void
gst_cnn_publish_append_roi (GstCnnPublish * self, guint x, guint y,
    guint width, guint height)
{
  g_string_append (self->line, "\"roi\":{\"x\":");
  gst_cnn_publish_append_int (self, x);
  g_string_append (self->line, ",\"y\":");
  gst_cnn_publish_append_int (self, y);
  g_string_append (self->line, ",\"width\":");
  gst_cnn_publish_append_int (self, width);
  g_string_append (self->line, ",\"height\":");
  gst_cnn_publish_append_int (self, height);
  g_string_append_c (self->line, '}');
}

static void
gst_cnn_publish_append_reading (GstCnnPublish * self, const GstMeta * meta)
{
  const GstCnnReadingMeta *reading = (const GstCnnReadingMeta *) meta;

  g_string_append (self->line, "{\"text\":");
  gst_cnn_publish_append_string (self, gst_cnn_reading_meta_get_text
      (reading));
  g_string_append (self->line, ",\"n_digits\":");
  gst_cnn_publish_append_int (self, reading->n_digits);
  g_string_append_c (self->line, ',');
  gst_cnn_publish_append_roi (self, reading->roi_x, reading->roi_y,
      reading->roi_width, reading->roi_height);
  g_string_append (self->line, ",\"frames_ago\":");
  gst_cnn_publish_append_int (self, reading->frames_ago);
  g_string_append_c (self->line, '}');
}

/* ,"@name":[…] of @buffer's metas of @api, each by @append. */
static void
gst_cnn_publish_append_metas (GstCnnPublish * self, GstBuffer * buffer,
    const gchar * name, GType api, GstCnnPublishAppend append)
{
  gpointer state = NULL;
  GstMeta *meta;
  guint n = 0;

  g_string_append (self->line, ",\"");
  g_string_append (self->line, name);
  g_string_append (self->line, "\":[");
  while ((meta = gst_buffer_iterate_meta_filtered (buffer, &state, api))) {
    if (n++ > 0)
      g_string_append_c (self->line, ',');
    append (self, meta);
  }
  g_string_append_c (self->line, ']');
}

static void
gst_cnn_publish_append_meta (GstCnnPublish * self, const GstMeta * m)
{
  const GstCnnClassificationMeta *meta = (const GstCnnClassificationMeta *) m;
  GString *line = self->line;

  g_string_append (line, "{\"class_id\":");
  gst_cnn_publish_append_int (self, meta->class_id);
  g_string_append (line, ",\"label\":");
  gst_cnn_publish_append_string (self, meta->class_id >= 0 ? meta->label :
      NULL);
  g_string_append (line, ",\"confidence\":");
  gst_cnn_publish_append_float (self, meta->confidence);
  g_string_append (line, ",\"probabilities\":[");
  for (guint i = 0; i < meta->n_classes && meta->probabilities; i++) {
    if (i > 0)
      g_string_append_c (line, ',');
    gst_cnn_publish_append_float (self, meta->probabilities[i]);
  }
  g_string_append (line, "],");
  gst_cnn_publish_append_roi (self, meta->roi_x, meta->roi_y,
      meta->roi_width, meta->roi_height);
  g_string_append (line, ",\"model\":");
  gst_cnn_publish_append_string (self, meta->model);
  g_string_append (line, ",\"frames_ago\":");
  gst_cnn_publish_append_int (self, meta->frames_ago);
  g_string_append_c (line, '}');
}

/* Builds @buffer's line in self->line. */
static void
gst_cnn_publish_format (GstCnnPublish * self, GstBuffer * buffer)
{
  const GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;
  GstClockTime pts = GST_BUFFER_PTS (buffer);
  GstClockTime running_time = GST_CLOCK_TIME_NONE;

  if (segment->format == GST_FORMAT_TIME)
    running_time = gst_segment_to_running_time (segment, GST_FORMAT_TIME,
        pts);
  g_string_truncate (self->line, 0);
  g_string_append (self->line, "{\"pts\":");
  gst_cnn_publish_append_time (self, pts);
  g_string_append (self->line, ",\"running_time\":");
  gst_cnn_publish_append_time (self, running_time);
  gst_cnn_publish_append_metas (self, buffer, "metas",
      GST_CNN_CLASSIFICATION_META_API_TYPE, gst_cnn_publish_append_meta);
  gst_cnn_publish_append_metas (self, buffer, "readings",
      GST_CNN_READING_META_API_TYPE, gst_cnn_publish_append_reading);
  g_string_append (self->line, "}\n");
}

static GstFlowReturn
gst_cnn_publish_transform_ip (GstBaseTransform * trans, GstBuffer * buffer)
{
  GstCnnPublish *self = GST_CNN_PUBLISH (trans);

  if (G_UNLIKELY (self->out == NULL))
    goto not_started;
  if (gst_buffer_get_cnn_classification_meta (buffer) == NULL)
    return GST_FLOW_OK;
  gst_cnn_publish_format (self, buffer);
  if (fwrite (self->line->str, 1, self->line->len, self->out)
      != self->line->len || fflush (self->out) != 0)
    goto write_failed;
  return GST_FLOW_OK;

  /* ERRORS */
not_started:
  {
    GST_ELEMENT_ERROR (self, CORE, STATE_CHANGE, ("Not started"), (NULL));
    return GST_FLOW_ERROR;
  }
write_failed:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE, ("Could not write to %s: %s",
            self->out_name, g_strerror (errno)), (NULL));
    return GST_FLOW_ERROR;
  }
}
