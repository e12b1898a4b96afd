/* Shared by the gst-check tests; see test-common.h. */
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <gst/cnn/cnnmeta.h>
#include <cnn.h>

#include "test-common.h"

#include <string.h>

gchar *
test_save_model (const gchar * dir, const gchar * name, const gchar * arch,
    const gchar * input, guint64 seed, const gchar ** labels,
    const gchar * meta_name)
{
  gchar *path = g_build_filename (dir, name, NULL);
  GError *err = NULL;
  CnnShape shape;
  CnnModel *model;

  fail_unless (cnn_shape_parse (input, &shape, &err));
  model = cnn_model_new (arch, shape, &err);
  fail_unless (model != NULL, "%s", err ? err->message : "");
  cnn_network_init_params (cnn_model_network (model), seed);
  if (labels)
    fail_unless (cnn_model_set_labels (model, labels, &err));
  if (meta_name)
    cnn_model_set_metadata (model, "name", meta_name);
  fail_unless (cnn_model_save (model, path, &err), "%s",
      err ? err->message : "");
  cnn_model_free (model);
  return path;
}

void
test_model_file_make (TestModelFile * file, const gchar * arch,
    const gchar * input, guint64 seed)
{
  file->dir = g_dir_make_tmp ("gst-cnn-test-XXXXXX", NULL);
  fail_unless (file->dir != NULL);
  file->path = test_save_model (file->dir, "model.safetensors", arch, input,
      seed, NULL, NULL);
}

void
test_model_file_remove (TestModelFile * file)
{
  g_unlink (file->path);
  g_rmdir (file->dir);
  g_clear_pointer (&file->path, g_free);
  g_clear_pointer (&file->dir, g_free);
}

void
test_video_info (GstVideoInfo * info, const gchar * format, guint width,
    guint height)
{
  GstVideoFormat f = gst_video_format_from_string (format);

  fail_unless (f != GST_VIDEO_FORMAT_UNKNOWN, "format %s", format);
  fail_unless (gst_video_info_set_format (info, f, width, height));
  GST_VIDEO_INFO_FPS_N (info) = 30;
  GST_VIDEO_INFO_FPS_D (info) = 1;
}

void
test_load_system_plugin (const gchar * name)
{
  gchar *file = g_strdup_printf ("%s/libgst%s.so", GST_PLUGINS_DIR, name);
  GError *err = NULL;
  GstPlugin *plugin = gst_plugin_load_file (file, &err);

  fail_unless (plugin != NULL, "%s", err ? err->message : file);
  gst_object_unref (plugin);
  g_free (file);
}

GstElement *
test_classify_new (const gchar * model)
{
  GstElement *element = gst_element_factory_make ("cnnclassify", NULL);
  GstBus *bus = gst_bus_new ();

  fail_unless (element != NULL);
  g_object_set (element, "model", model, NULL);
  gst_element_set_bus (element, bus);
  gst_object_unref (bus);
  return element;
}

void
test_harness_teardown (GstHarness * h)
{
  GstBus *bus = gst_element_get_bus (h->element);

  if (bus != NULL) {
    gst_bus_set_flushing (bus, TRUE);
    gst_object_unref (bus);
  }
  gst_harness_teardown (h);
}

static void
test_digest_buffer (GstBuffer * buffer, gchar md5[33])
{
  GstMapInfo map;
  gchar *hex;

  fail_unless (gst_buffer_map (buffer, &map, GST_MAP_READ));
  hex = g_compute_checksum_for_data (G_CHECKSUM_MD5, map.data, map.size);
  g_strlcpy (md5, hex, 33);
  g_free (hex);
  gst_buffer_unmap (buffer, &map);
}

static GstPadProbeReturn
test_log_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  TestSinkLog *log = data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  TestSinkBuffer *b = &log->buffers[log->n_buffers];
  GstCnnClassificationMeta *meta = NULL;
  gpointer state = NULL;
  GstMeta *m;

  fail_unless (log->n_buffers < TEST_SINK_MAX_BUFFERS);
  memset (b, 0, sizeof *b);
  while ((m = gst_buffer_iterate_meta_filtered (buffer, &state,
              GST_CNN_CLASSIFICATION_META_API_TYPE))) {
    if (b->n_metas++ == 0)
      meta = (GstCnnClassificationMeta *) m;
  }
  if (meta) {
    b->class_id = meta->class_id;
    b->label = meta->label;
    b->roi_x = meta->roi_x;
    b->roi_y = meta->roi_y;
    b->roi_width = meta->roi_width;
    b->roi_height = meta->roi_height;
    b->frames_ago = meta->frames_ago;
  }
  if (log->digests)
    test_digest_buffer (buffer, b->md5);
  log->n_buffers++;
  return GST_PAD_PROBE_OK;
}

static void
test_log_caps (GstElement * sink, TestSinkLog * log)
{
  GstPad *pad = gst_element_get_static_pad (sink, "sink");
  GstCaps *caps = gst_pad_get_current_caps (pad);
  GstVideoInfo info;

  fail_unless (caps != NULL && gst_video_info_from_caps (&info, caps));
  log->width = GST_VIDEO_INFO_WIDTH (&info);
  log->height = GST_VIDEO_INFO_HEIGHT (&info);
  gst_caps_unref (caps);
  gst_object_unref (pad);
}

void
test_run_to_sink (const gchar * launch, gboolean digests, TestSinkLog * log)
{
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch (launch, &err);
  GstElement *sink;
  GstPad *pad;
  GstBus *bus;
  gboolean done = FALSE;

  fail_unless (pipeline != NULL, "%s: %s", launch, err ? err->message : "");
  memset (log, 0, sizeof *log);
  log->digests = digests;
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  fail_unless (sink != NULL, "%s: no element named sink", launch);
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, test_log_buffer, log,
      NULL);
  gst_object_unref (pad);

  bus = gst_element_get_bus (pipeline);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      != GST_STATE_CHANGE_FAILURE, "%s", launch);
  while (!done) {
    GstMessage *msg = gst_bus_timed_pop (bus, 30 * GST_SECOND);
    const GstStructure *s;

    fail_unless (msg != NULL, "%s: no EOS within 30 s", launch);
    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_ERROR:{
        GError *error = NULL;

        gst_message_parse_error (msg, &error, NULL);
        fail ("%s: %s", launch, error->message);
        break;
      }
      case GST_MESSAGE_EOS:
        done = TRUE;
        break;
      case GST_MESSAGE_ELEMENT:
        s = gst_message_get_structure (msg);
        if (gst_structure_has_name (s, "cnn-classification"))
          log->n_messages++;
        break;
      default:
        break;
    }
    gst_message_unref (msg);
  }
  test_log_caps (sink, log);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

void
test_playing_start (TestPlaying * p, const gchar * launch)
{
  GError *err = NULL;

  p->pipeline = gst_parse_launch (launch, &err);
  fail_unless (p->pipeline != NULL, "%s", err ? err->message : launch);
  p->src = gst_bin_get_by_name (GST_BIN (p->pipeline), "src");
  p->classify = gst_bin_get_by_name (GST_BIN (p->pipeline), "c");
  p->sink = gst_bin_get_by_name (GST_BIN (p->pipeline), "sink");
  fail_unless (p->src && p->classify && p->sink, "%s", launch);
  fail_if (gst_element_set_state (p->pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE);
}

GstSample *
test_playing_push_pull (TestPlaying * p, GstBuffer * in)
{
  GstSample *sample = NULL;
  GstFlowReturn ret;

  g_signal_emit_by_name (p->src, "push-buffer", in, &ret);
  gst_buffer_unref (in);
  fail_unless_equals_int (ret, GST_FLOW_OK);
  g_signal_emit_by_name (p->sink, "pull-sample", &sample);
  fail_unless (sample != NULL, "no frame reached the sink");
  return sample;
}

void
test_playing_stop (TestPlaying * p)
{
  GstBus *bus = gst_element_get_bus (p->pipeline);
  GstMessage *error = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  GstFlowReturn ret;

  fail_unless (error == NULL, "the pipeline posted an error");
  gst_object_unref (bus);
  g_signal_emit_by_name (p->src, "end-of-stream", &ret);
  fail_unless_equals_int (gst_element_set_state (p->pipeline,
          GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (p->src);
  gst_object_unref (p->classify);
  gst_object_unref (p->sink);
  gst_object_unref (p->pipeline);
}
