/* Shared by the gst-check tests; see test-common.h. */
#include <gst/check/gstcheck.h>
#include <cnn.h>

#include "test-common.h"

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
