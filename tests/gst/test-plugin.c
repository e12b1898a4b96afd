/* gst-check tests of what the plugin says about itself in the registry
 * (what gst-inspect-1.0 shows): its package and origin, and an author
 * with a contact for each element. */
#include <gst/check/gstcheck.h>

#include <string.h>

GST_START_TEST (test_plugin_origin)
{
  GstPlugin *plugin = gst_registry_find_plugin (gst_registry_get (), "cnn");
  const gchar *origin;

  fail_unless (plugin != NULL);
  origin = gst_plugin_get_origin (plugin);
  fail_unless (origin != NULL);
  fail_if (strstr (origin, "Unknown") != NULL, "origin \"%s\"", origin);
  /* A URL: a scheme, then something. */
  fail_unless (g_uri_is_valid (origin, G_URI_FLAGS_NONE, NULL),
      "origin \"%s\" is no URL", origin);
  fail_unless_equals_string (gst_plugin_get_package (plugin), "gst-cnn");
  fail_unless_equals_string (gst_plugin_get_license (plugin), "LGPL");
  gst_object_unref (plugin);
}

GST_END_TEST;

GST_START_TEST (test_element_authors)
{
  static const gchar *elements[] = { "cnnclassify", "cnnoverlay",
    "cnnpublish"
  };

  for (guint i = 0; i < G_N_ELEMENTS (elements); i++) {
    GstElementFactory *f = gst_element_factory_find (elements[i]);
    const gchar *author;

    fail_unless (f != NULL, "no %s", elements[i]);
    author = gst_element_factory_get_metadata (f, GST_ELEMENT_METADATA_AUTHOR);
    /* "Name <address@host>", as GStreamer's own elements say it. */
    fail_unless (g_regex_match_simple ("^[^<>]+ <[^<>@ ]+@[^<>@ ]+>$",
            author, 0, 0), "%s's author \"%s\"", elements[i], author);
    gst_object_unref (f);
  }
}

GST_END_TEST;

static Suite *
plugin_suite (void)
{
  Suite *s = suite_create ("plugin");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_plugin_origin);
  tcase_add_test (tc, test_element_authors);
  return s;
}

GST_CHECK_MAIN (plugin);
