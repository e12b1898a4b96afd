/* cnnclassify against hostile or mistaken settings (issue 12): models
 * that ask for more memory than the limit, an application whose bus
 * sync handler answers a failure by setting properties straight back,
 * and regions that do not parse.  Nothing may abort, hang or fail
 * silently. */
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>

#include "test-common.h"

#include <cnn.h>
#include <string.h>

#define GREY_ARCH "conv 4 3, relu, maxpool 2, flatten, dense 10, softmax"

static gchar *tmp_dir;
static gchar *good_model, *huge_input_model, *huge_conv_model;

/* A model file with metadata only: enough to reach the architecture
 * check, which is where a network's size is known. */
static gchar *
save_header_only_model (const gchar * name, const gchar * arch,
    const gchar * input)
{
  gchar *path = g_build_filename (tmp_dir, name, NULL);
  gchar *json = g_strdup_printf ("{\"__metadata__\":{\"format\":\"gst-cnn\","
      "\"format-version\":\"1\",\"architecture\":\"%s\",\"input\":\"%s\","
      "\"labels\":\"[]\",\"preprocess\":\"resize\",\"sha256\":\"0\"}}", arch,
      input);
  guint64 len = GUINT64_TO_LE (strlen (json));
  GString *file = g_string_new_len ((const gchar *) &len, 8);

  g_string_append (file, json);
  fail_unless (g_file_set_contents (path, file->str, file->len, NULL));
  g_string_free (file, TRUE);
  g_free (json);
  return path;
}

static void
models_setup (void)
{
  tmp_dir = g_dir_make_tmp ("test-hostile-XXXXXX", NULL);
  fail_unless (tmp_dir != NULL);
  good_model = test_save_model (tmp_dir, "good.safetensors", GREY_ARCH,
      "1x28x28", 1, NULL, "good");
  /* A valid 1 kB model whose input alone is 1 GiB of floats: before the
   * memory limit, preprocessing allocated three such planes. */
  cnn_set_memory_limit (G_GUINT64_CONSTANT (4) << 30);
  huge_input_model = test_save_model (tmp_dir, "huge-input.safetensors",
      "maxpool 64, maxpool 64, flatten, dense 10, softmax", "1x16384x16384",
      2, NULL, NULL);
  cnn_set_memory_limit (0);
  /* 274 GB of convolution weights asked for by 250 bytes. */
  huge_conv_model = save_header_only_model ("huge-conv.safetensors",
      "conv 65536 3", "65535x3x3");
}

static void
models_teardown (void)
{
  g_unlink (good_model);
  g_unlink (huge_input_model);
  g_unlink (huge_conv_model);
  g_rmdir (tmp_dir);
  g_free (good_model);
  g_free (huge_input_model);
  g_free (huge_conv_model);
  g_free (tmp_dir);
}

/* ---- a real pipeline with a sync handler --------------------------- */

typedef struct
{
  GstElement *pipeline;
  GstElement *classify;
  GstMessageType answers;       /* the failures the handler reacts to */
  const gchar *fix;             /* the model it sets then */
  gint n_answered;
  GstMessageType seen;
  gchar *text;                  /* of the first failure */
} App;

/* What an application does: on a failure from the element, set the
 * model back to a good file, from the thread that posted it. */
static GstBusSyncReply
answer_failure (GstBus * bus, GstMessage * msg, gpointer data)
{
  App *app = data;
  GError *err = NULL;

  if (!(GST_MESSAGE_TYPE (msg) & app->answers)
      || GST_MESSAGE_SRC (msg) != GST_OBJECT (app->classify))
    return GST_BUS_PASS;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
    gst_message_parse_error (msg, &err, NULL);
  else
    gst_message_parse_warning (msg, &err, NULL);
  if (g_atomic_int_add (&app->n_answered, 1) == 0) {
    app->seen = GST_MESSAGE_TYPE (msg);
    app->text = g_strdup (err->message);
  }
  g_error_free (err);
  g_object_set (app->classify, "model", app->fix, NULL);
  return GST_BUS_PASS;
}

static void
app_init (App * app, const gchar * model, GstMessageType answers)
{
  GstBus *bus;

  memset (app, 0, sizeof *app);
  test_load_system_plugin ("coreelements");
  test_load_system_plugin ("videotestsrc");
  app->pipeline = gst_parse_launch ("videotestsrc pattern=snow ! "
      "video/x-raw,format=GRAY8,width=28,height=28 ! cnnclassify name=c "
      "post-messages=false ! fakesink sync=false", NULL);
  fail_unless (app->pipeline != NULL);
  app->classify = gst_bin_get_by_name (GST_BIN (app->pipeline), "c");
  g_object_set (app->classify, "model", model, NULL);
  app->answers = answers;
  app->fix = good_model;
  bus = gst_element_get_bus (app->pipeline);
  gst_bus_set_sync_handler (bus, answer_failure, app, NULL);
  gst_object_unref (bus);
}

static void
app_clear (App * app)
{
  fail_unless_equals_int (gst_element_set_state (app->pipeline,
          GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (app->classify);
  gst_object_unref (app->pipeline);
  g_free (app->text);
}

static gchar *
model_in_use (App * app)
{
  gchar *model;

  g_object_get (app->classify, "model", &model, NULL);
  return model;
}

/* A failed swap while playing posts a warning; the handler's answer
 * loads a model again from inside the post.  Before the fix the warning
 * (then an error) was posted with the load lock held: a hang. */
GST_START_TEST (test_sync_handler_answers_failed_swap)
{
  App app;
  gchar *model;

  app_init (&app, good_model, GST_MESSAGE_ERROR | GST_MESSAGE_WARNING);
  fail_unless (gst_element_set_state (app.pipeline, GST_STATE_PLAYING)
      != GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int (gst_element_get_state (app.pipeline, NULL, NULL,
          GST_CLOCK_TIME_NONE), GST_STATE_CHANGE_SUCCESS);

  g_object_set (app.classify, "model", "/nonexistent/swap.safetensors", NULL);
  fail_unless_equals_int (g_atomic_int_get (&app.n_answered), 1);
  fail_unless_equals_int (app.seen, GST_MESSAGE_WARNING);
  fail_unless (strstr (app.text, "/nonexistent/swap.safetensors") != NULL,
      "%s", app.text);
  model = model_in_use (&app);
  fail_unless_equals_string (model, good_model);
  g_free (model);
  app_clear (&app);
}

GST_END_TEST;

/* A model that cannot be loaded at start: the error, posted after the
 * lock is dropped, lets the handler set a good model, and the next start
 * uses it. */
GST_START_TEST (test_sync_handler_answers_start_error)
{
  App app;

  app_init (&app, "/nonexistent/start.safetensors", GST_MESSAGE_ERROR);
  fail_unless_equals_int (gst_element_set_state (app.pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int (g_atomic_int_get (&app.n_answered), 1);
  fail_unless (strstr (app.text, "start.safetensors") != NULL, "%s",
      app.text);
  fail_unless_equals_int (gst_element_set_state (app.pipeline,
          GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  fail_unless (gst_element_set_state (app.pipeline, GST_STATE_PLAYING)
      != GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int (gst_element_get_state (app.pipeline, NULL, NULL,
          GST_CLOCK_TIME_NONE), GST_STATE_CHANGE_SUCCESS);
  app_clear (&app);
}

GST_END_TEST;

/* ---- one element on its own bus ------------------------------------ */


/* The error or warning on @element's bus; fails unless it is @type and
 * its message names each of @mentions (NULL-terminated). */
static void
check_posted (GstElement * element, GstMessageType type,
    const gchar * const *mentions)
{
  GstBus *bus = gst_element_get_bus (element);
  GstMessage *msg = gst_bus_pop_filtered (bus,
      GST_MESSAGE_ERROR | GST_MESSAGE_WARNING);
  GError *err = NULL;

  fail_unless (msg != NULL, "nothing posted");
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), type);
  if (type == GST_MESSAGE_ERROR)
    gst_message_parse_error (msg, &err, NULL);
  else
    gst_message_parse_warning (msg, &err, NULL);
  for (guint i = 0; mentions[i]; i++)
    fail_unless (strstr (err->message, mentions[i]) != NULL,
        "\"%s\" does not mention \"%s\"", err->message, mentions[i]);
  g_error_free (err);
  gst_message_unref (msg);
  gst_bus_set_flushing (bus, TRUE);
  gst_bus_set_flushing (bus, FALSE);
  gst_object_unref (bus);
}

static void
check_start_fails (GstElement * element, const gchar * const *mentions)
{
  fail_unless_equals_int (gst_element_set_state (element, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  check_posted (element, GST_MESSAGE_ERROR, mentions);
  gst_element_set_state (element, GST_STATE_NULL);
}

/* Stops @element and drops it with the messages still on its bus, each
 * of which holds a reference to it. */
static void
drop_element (GstElement * element)
{
  GstBus *bus = gst_element_get_bus (element);

  gst_element_set_state (element, GST_STATE_NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  gst_object_unref (element);
}

/* Before the limit: an abort in g_malloc (274 GB for the convolution's
 * kernel buffers; 3 GB of preprocessing planes for the big input). */
GST_START_TEST (test_models_beyond_the_memory_limit)
{
  const gchar *conv[] = { "huge-conv.safetensors", "architecture",
    "memory limit", NULL
  };
  const gchar *input[] = { "huge-input.safetensors", "memory limit", NULL };
  const gchar *small[] = { "good.safetensors", "memory limit of 16.0", "KiB",
    NULL
  };
  GstElement *element = test_classify_new (huge_conv_model);

  check_start_fails (element, conv);
  g_object_set (element, "model", huge_input_model, NULL);
  check_start_fails (element, input);
  /* The property holds the element to less than the default. */
  g_object_set (element, "model", good_model, "memory-limit",
      (guint64) 16 << 10, NULL);
  check_start_fails (element, small);
  g_object_set (element, "memory-limit", (guint64) 0, NULL);
  fail_unless (gst_element_set_state (element, GST_STATE_PAUSED)
      != GST_STATE_CHANGE_FAILURE);

  /* Set while running: a warning, and the model in use stays. */
  g_object_set (element, "model", huge_conv_model, NULL);
  check_posted (element, GST_MESSAGE_WARNING, conv);
  drop_element (element);
}

GST_END_TEST;

/* The next error or warning on @bus from @src: @type, in GStreamer's
 * resource domain with @code, naming "memory limit". */
static void
check_resource_failure (GstBus * bus, GstObject * src, GstMessageType type,
    gint code)
{
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
      GST_MESSAGE_ERROR | GST_MESSAGE_WARNING);
  GError *err = NULL;

  fail_unless (msg != NULL, "nothing posted");
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), type);
  fail_unless (GST_MESSAGE_SRC (msg) == src);
  if (type == GST_MESSAGE_ERROR)
    gst_message_parse_error (msg, &err, NULL);
  else
    gst_message_parse_warning (msg, &err, NULL);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR, code),
      "%s %d: %s", g_quark_to_string (err->domain), err->code, err->message);
  fail_unless (strstr (err->message, "memory limit") != NULL, "%s",
      err->message);
  g_error_free (err);
  gst_message_unref (msg);
}

/* libcnn's "out of memory" (CNN_ERROR_NOMEM: a network, input or
 * workspace past the memory limit) reaches the application as a
 * resource that FAILED, not as a bad setting: an ERROR when the pipeline
 * cannot start, a WARNING when a model or thread count set while
 * playing is refused and the element carries on. */
GST_START_TEST (test_memory_limit_is_resource_failed)
{
  GstElement *pipeline, *classify;
  GstBus *bus;
  guint64 classified_before, classified_after;

  test_load_system_plugin ("coreelements");
  test_load_system_plugin ("videotestsrc");
  pipeline = gst_parse_launch ("videotestsrc is-live=true ! "
      "video/x-raw,format=GRAY8,width=28,height=28,framerate=100/1 ! "
      "cnnclassify name=c post-messages=false ! fakesink sync=false", NULL);
  fail_unless (pipeline != NULL);
  classify = gst_bin_get_by_name (GST_BIN (pipeline), "c");
  bus = gst_element_get_bus (pipeline);

  /* 274 GB of weights, then a 27 kB network against 16 kB. */
  g_object_set (classify, "model", huge_conv_model, NULL);
  fail_unless_equals_int (gst_element_set_state (pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  check_resource_failure (bus, GST_OBJECT (classify), GST_MESSAGE_ERROR,
      GST_RESOURCE_ERROR_FAILED);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_object_set (classify, "model", good_model, "memory-limit",
      (guint64) 16 << 10, NULL);
  fail_unless_equals_int (gst_element_set_state (pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  check_resource_failure (bus, GST_OBJECT (classify), GST_MESSAGE_ERROR,
      GST_RESOURCE_ERROR_FAILED);
  gst_element_set_state (pipeline, GST_STATE_NULL);

  /* Playing with room for the good model, but not for a 1 GiB input nor
   * for 64 threads' working memory (1.1 MB). */
  g_object_set (classify, "memory-limit", (guint64) 1 << 20, NULL);
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int (gst_element_get_state (pipeline, NULL, NULL,
          GST_CLOCK_TIME_NONE), GST_STATE_CHANGE_SUCCESS);
  g_object_set (classify, "model", huge_input_model, NULL);
  check_resource_failure (bus, GST_OBJECT (classify), GST_MESSAGE_WARNING,
      GST_RESOURCE_ERROR_FAILED);
  g_object_set (classify, "threads", 64, NULL);
  check_resource_failure (bus, GST_OBJECT (classify), GST_MESSAGE_WARNING,
      GST_RESOURCE_ERROR_FAILED);

  /* It goes on classifying, with the model it had. */
  g_object_get (classify, "frames-classified", &classified_before, NULL);
  g_usleep (100 * 1000);
  g_object_get (classify, "frames-classified", &classified_after, NULL);
  fail_unless (classified_after > classified_before, "%" G_GUINT64_FORMAT
      " frames, then %" G_GUINT64_FORMAT, classified_before,
      classified_after);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);

  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (bus);
  gst_object_unref (classify);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* gst-launch sets properties before the element has a bus, so a
 * warning at set time reached no one: the start fails instead. */
GST_START_TEST (test_invalid_roi_fails_start)
{
  const gchar *bad[] = { "abc", "-1,0,10,10", "1,2,3", "1,2,0,4", NULL };

  for (guint i = 0; bad[i]; i++) {
    const gchar *mentions[] = { "Invalid roi", bad[i], NULL };
    GstElement *element = test_classify_new (good_model);

    g_object_set (element, "roi", bad[i], NULL);
    check_start_fails (element, mentions);
    /* A valid region afterwards clears it. */
    g_object_set (element, "roi", "0,0,10,10", NULL);
    fail_unless (gst_element_set_state (element, GST_STATE_PAUSED)
        != GST_STATE_CHANGE_FAILURE);
    /* While running the element has a bus: a warning, region kept. */
    g_object_set (element, "roi", bad[i], NULL);
    check_posted (element, GST_MESSAGE_WARNING, mentions);
    drop_element (element);
  }
}

GST_END_TEST;

static Suite *
hostile_suite (void)
{
  Suite *s = suite_create ("cnnclassify-hostile");
  TCase *tc = tcase_create ("general");

  tcase_add_unchecked_fixture (tc, models_setup, models_teardown);
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_sync_handler_answers_failed_swap);
  tcase_add_test (tc, test_sync_handler_answers_start_error);
  tcase_add_test (tc, test_models_beyond_the_memory_limit);
  tcase_add_test (tc, test_invalid_roi_fails_start);
  tcase_add_test (tc, test_memory_limit_is_resource_failed);
  return s;
}

GST_CHECK_MAIN (hostile);
