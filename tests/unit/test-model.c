/* Model files: round trips are bit-exact, the file is plain safetensors
 * (read back here with json-glib and GChecksum, not the library's
 * reader), saving is atomic, and every check of the reader has a corrupt
 * file, made by editing the header JSON of a valid one, that trips it
 * with its own message. */
#include "cnn.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#define COLOUR_ARCH \
  "conv 8 3 pad=1, relu, maxpool 2, flatten, dense 10, softmax"
#define COLOUR_INPUT ((CnnShape) { 3, 32, 32 })
#define COLOUR_PARAMS (8 * 3 * 3 * 3 + 8 + 10 * 8 * 16 * 16 + 10)

static const gchar *const cifar_labels[] = {
  "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
  "ship", "truck", NULL,
};

/* ---- helpers ------------------------------------------------------- */

static gchar *
make_tmp_dir (void)
{
  GError *err = NULL;
  gchar *dir = g_dir_make_tmp ("test-model-XXXXXX", &err);

  g_assert_no_error (err);
  return dir;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

/* Sorted names in @dir, to see what a save left behind. */
static gchar **
dir_entries (const gchar * dir)
{
  GPtrArray *names = g_ptr_array_new ();
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)))
    g_ptr_array_add (names, g_strdup (name));
  g_dir_close (d);
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return (gchar **) g_ptr_array_free (names, FALSE);
}

/* Removes @dir and what the tests put in it (files, empty dirs). */
static void
remove_tmp_dir (gchar * dir)
{
  gchar **names = dir_entries (dir);

  for (guint i = 0; names[i]; i++) {
    gchar *path = g_build_filename (dir, names[i], NULL);

    if (g_file_test (path, G_FILE_TEST_IS_DIR))
      g_assert_cmpint (g_rmdir (path), ==, 0);
    else
      g_assert_cmpint (g_unlink (path), ==, 0);
    g_free (path);
  }
  g_strfreev (names);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  g_free (dir);
}

static GBytes *
read_file (const gchar * path)
{
  GError *err = NULL;
  gchar *contents;
  gsize len;

  g_file_get_contents (path, &contents, &len, &err);
  g_assert_no_error (err);
  return g_bytes_new_take (contents, len);
}

static void
write_file (const gchar * path, gconstpointer data, gssize len)
{
  GError *err = NULL;

  g_file_set_contents (path, data, len, &err);
  g_assert_no_error (err);
}

static CnnModel *
colour_model (void)
{
  GError *err = NULL;
  CnnModel *model = cnn_model_new (COLOUR_ARCH, COLOUR_INPUT, &err);

  g_assert_no_error (err);
  cnn_network_init_params (cnn_model_network (model), 42);
  cnn_model_set_labels (model, cifar_labels, &err);
  g_assert_no_error (err);
  cnn_model_set_metadata (model, "preprocess", "resize mean=0.5 std=0.25");
  cnn_model_set_metadata (model, "dataset", "CIFAR-10 (test fixture)");
  cnn_model_set_metadata (model, "epochs", "3");
  return model;
}

static void
save_ok (CnnModel * model, const gchar * path)
{
  GError *err = NULL;

  g_assert_true (cnn_model_save (model, path, &err));
  g_assert_no_error (err);
}

static CnnModel *
load_ok (const gchar * path)
{
  GError *err = NULL;
  CnnModel *model = cnn_model_load (path, &err);

  g_assert_no_error (err);
  g_assert_nonnull (model);
  return model;
}

/* The load fails with @code and a message that starts with the path and
 * holds @fragment (printed whole when it does not). */
static void
assert_load_fails (const gchar * path, gint code, const gchar * fragment)
{
  GError *err = NULL;
  CnnModel *model = cnn_model_load (path, &err);

  g_assert_null (model);
  g_assert_error (err, CNN_ERROR, code);
  g_test_message ("%s", err->message);
  g_assert_true (g_str_has_prefix (err->message, path));
  g_assert_cmpstr (strstr (err->message, fragment) ? fragment : err->message,
      ==, fragment);
  g_error_free (err);
}

static void
assert_same_params (CnnModel * a, CnnModel * b)
{
  CnnNetwork *na = cnn_model_network (a), *nb = cnn_model_network (b);
  gsize n = cnn_network_param_count (na);

  g_assert_cmpuint (n, ==, cnn_network_param_count (nb));
  g_assert_cmpint (memcmp (cnn_network_params (na), cnn_network_params (nb),
          n * sizeof (gfloat)), ==, 0);
}

static void
assert_same_metadata (CnnModel * a, CnnModel * b)
{
  gchar **ka = cnn_model_metadata_keys (a), **kb = cnn_model_metadata_keys (b);

  g_assert_true (g_strv_equal ((const gchar * const *) ka,
          (const gchar * const *) kb));
  for (guint i = 0; ka[i]; i++)
    g_assert_cmpstr (cnn_model_get_metadata (a, ka[i]), ==,
        cnn_model_get_metadata (b, ka[i]));
  g_strfreev (ka);
  g_strfreev (kb);
}

/* ---- round trips --------------------------------------------------- */

static void
test_round_trip_colour (void)
{
  gchar *dir = make_tmp_dir ();
  gchar *path = g_build_filename (dir, "cifar.safetensors", NULL);
  gchar *again = g_build_filename (dir, "again.safetensors", NULL);
  CnnModel *model = colour_model (), *loaded;
  GBytes *first, *second;

  save_ok (model, path);
  loaded = load_ok (path);

  assert_same_params (model, loaded);
  assert_same_metadata (model, loaded);
  g_assert_cmpuint (cnn_network_param_count (cnn_model_network (loaded)), ==,
      COLOUR_PARAMS);
  g_assert_cmpstr (cnn_network_architecture (cnn_model_network (loaded)),
      ==, cnn_network_architecture (cnn_model_network (model)));
  g_assert_cmpuint (cnn_model_n_labels (loaded), ==, 10);
  for (guint i = 0; i < 10; i++)
    g_assert_cmpstr (cnn_model_label (loaded, i), ==, cifar_labels[i]);
  g_assert_cmpstr (cnn_model_get_metadata (loaded, "input"), ==, "3x32x32");
  g_assert_cmpstr (cnn_model_get_metadata (loaded, "epochs"), ==, "3");
  g_assert_cmpstr (cnn_model_get_metadata (loaded, "preprocess"), ==,
      "resize mean=0.5 std=0.25");
  g_assert_cmpstr (cnn_model_name (loaded), ==, "cifar");

  /* Loading and saving again changes nothing, byte for byte. */
  save_ok (loaded, again);
  first = read_file (path);
  second = read_file (again);
  g_assert_true (g_bytes_equal (first, second));

  g_bytes_unref (first);
  g_bytes_unref (second);
  cnn_model_free (model);
  cnn_model_free (loaded);
  g_free (path);
  g_free (again);
  remove_tmp_dir (dir);
}

static void
test_round_trip_default (void)
{
  gchar *dir = make_tmp_dir ();
  gchar *path = g_build_filename (dir, "digits.v2.safetensors", NULL);
  GError *err = NULL;
  CnnModel *model = cnn_model_new (CNN_DEFAULT_ARCHITECTURE,
      (CnnShape) { 1, 28, 28 }, &err), *loaded;
  GBytes *bytes;
  guint64 header_len;

  g_assert_no_error (err);
  g_assert_cmpuint (cnn_network_param_count (cnn_model_network (model)), ==,
      1199882);
  cnn_network_init_params (cnn_model_network (model), 7);
  save_ok (model, path);

  bytes = read_file (path);
  memcpy (&header_len, g_bytes_get_data (bytes, NULL), 8);
  header_len = GUINT64_FROM_LE (header_len);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==,
      8 + header_len + 4 * 1199882);

  loaded = load_ok (path);
  assert_same_params (model, loaded);
  assert_same_metadata (model, loaded);
  g_assert_cmpstr (cnn_model_name (loaded), ==, "digits.v2");

  g_bytes_unref (bytes);
  cnn_model_free (model);
  cnn_model_free (loaded);
  g_free (path);
  remove_tmp_dir (dir);
}

/* ---- the file, read independently --------------------------------- */

static void
assert_int_array (JsonObject * obj, const gchar * member, guint n,
    const gint64 * want)
{
  JsonArray *a = json_object_get_array_member (obj, member);

  g_assert_cmpuint (json_array_get_length (a), ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (json_array_get_int_element (a, i), ==, want[i]);
}

static void
test_file_layout (void)
{
  static const gchar *const names[] = {
    "__metadata__", "0.conv2d.weight", "0.conv2d.bias", "4.dense.weight",
    "4.dense.bias",
  };
  gchar *dir = make_tmp_dir ();
  gchar *path = g_build_filename (dir, "m.safetensors", NULL);
  CnnModel *model = colour_model ();
  CnnNetwork *net = cnn_model_network (model);
  JsonParser *parser = json_parser_new ();
  GError *err = NULL;
  GBytes *bytes;
  const guint8 *file, *data;
  guint64 header_len;
  gsize file_len;
  gchar *sha;
  GList *members;
  JsonObject *root, *meta;
  gint64 shape_w0[] = { 8, 3, 3, 3 }, shape_b0[] = { 8 };
  gint64 shape_w4[] = { 10, 2048 }, shape_b4[] = { 10 };
  gint64 offs_w0[] = { 0, 864 }, offs_b0[] = { 864, 896 };
  gint64 offs_w4[] = { 896, 896 + 81920 }, offs_b4[] = { 82816, 82856 };

  save_ok (model, path);
  bytes = read_file (path);
  file = g_bytes_get_data (bytes, &file_len);
  memcpy (&header_len, file, 8);
  header_len = GUINT64_FROM_LE (header_len);

  /* Header padded with spaces so the data section starts 8-aligned. */
  g_assert_cmpuint (header_len % 8, ==, 0);
  g_assert_cmpuint (file_len, ==, 8 + header_len + 4 * COLOUR_PARAMS);
  g_assert_cmpint (file[8], ==, '{');
  json_parser_load_from_data (parser, (const gchar *) file + 8, header_len,
      &err);
  g_assert_no_error (err);

  root = json_node_get_object (json_parser_get_root (parser));
  members = json_object_get_members (root);
  g_assert_cmpuint (g_list_length (members), ==, G_N_ELEMENTS (names));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_assert_cmpstr (g_list_nth_data (members, i), ==, names[i]);
  g_list_free (members);

  for (guint i = 1; i < G_N_ELEMENTS (names); i++) {
    JsonObject *t = json_object_get_object_member (root, names[i]);

    g_assert_cmpstr (json_object_get_string_member (t, "dtype"), ==, "F32");
  }
  assert_int_array (json_object_get_object_member (root, names[1]), "shape",
      4, shape_w0);
  assert_int_array (json_object_get_object_member (root, names[2]), "shape",
      1, shape_b0);
  assert_int_array (json_object_get_object_member (root, names[3]), "shape",
      2, shape_w4);
  assert_int_array (json_object_get_object_member (root, names[4]), "shape",
      1, shape_b4);
  assert_int_array (json_object_get_object_member (root, names[1]),
      "data_offsets", 2, offs_w0);
  assert_int_array (json_object_get_object_member (root, names[2]),
      "data_offsets", 2, offs_b0);
  assert_int_array (json_object_get_object_member (root, names[3]),
      "data_offsets", 2, offs_w4);
  assert_int_array (json_object_get_object_member (root, names[4]),
      "data_offsets", 2, offs_b4);

  /* The data section holds each tensor as little-endian floats. */
  data = file + 8 + header_len;
  for (guint layer = 0; layer < cnn_network_n_layers (net); layer++) {
    for (guint t = 0; t < cnn_network_layer_n_tensors (net, layer); t++) {
      const gchar *part;
      guint n_dims;
      gsize dims[4], n = 1, at;
      const gfloat *values = cnn_network_layer_tensor (net, layer, t, &part,
          &n_dims, dims);
      gchar *name = g_strdup_printf ("%u.%s.%s", layer,
          cnn_network_layer_kind (net, layer), part);
      JsonArray *offsets = json_object_get_array_member
          (json_object_get_object_member (root, name), "data_offsets");

      for (guint d = 0; d < n_dims; d++)
        n *= dims[d];
      at = json_array_get_int_element (offsets, 0);
      for (gsize i = 0; i < n; i++) {
        guint32 le, host;

        memcpy (&le, data + at + 4 * i, 4);
        host = GUINT32_FROM_LE (le);
        g_assert_cmpint (memcmp (&host, &values[i], 4), ==, 0);
      }
      g_free (name);
    }
  }

  meta = json_object_get_object_member (root, "__metadata__");
  g_assert_cmpstr (json_object_get_string_member (meta, "format"), ==,
      "gst-cnn");
  g_assert_cmpstr (json_object_get_string_member (meta, "format-version"),
      ==, "1");
  g_assert_cmpstr (json_object_get_string_member (meta, "architecture"), ==,
      COLOUR_ARCH);
  g_assert_cmpstr (json_object_get_string_member (meta, "input"), ==,
      "3x32x32");
  g_assert_cmpstr (json_object_get_string_member (meta, "dataset"), ==,
      "CIFAR-10 (test fixture)");
  g_assert_cmpstr (json_object_get_string_member (meta, "labels"), ==,
      "[\"airplane\",\"automobile\",\"bird\",\"cat\",\"deer\",\"dog\","
      "\"frog\",\"horse\",\"ship\",\"truck\"]");
  sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data,
      4 * COLOUR_PARAMS);
  g_assert_cmpstr (json_object_get_string_member (meta, "sha256"), ==, sha);
  g_assert_cmpstr (cnn_model_get_metadata (model, "sha256"), ==, sha);

  g_free (sha);
  g_object_unref (parser);
  g_bytes_unref (bytes);
  cnn_model_free (model);
  g_free (path);
  remove_tmp_dir (dir);
}

/* ---- the API ------------------------------------------------------- */

static void
test_new_model (void)
{
  static const gchar *const keys[] = {
    "architecture", "format", "format-version", "input", "labels",
    "preprocess", "sha256", NULL,
  };
  GError *err = NULL;
  CnnModel *model = cnn_model_new ("flatten, dense 3", (CnnShape) { 1, 2, 2 },
      &err);
  gchar **got;
  gchar *sha;
  guint8 zeros[4 * 15] = { 0 };

  g_assert_no_error (err);
  got = cnn_model_metadata_keys (model);
  g_assert_true (g_strv_equal ((const gchar * const *) got, keys));
  g_strfreev (got);
  g_assert_cmpstr (cnn_model_get_metadata (model, "format"), ==, "gst-cnn");
  g_assert_cmpstr (cnn_model_get_metadata (model, "format-version"), ==, "1");
  g_assert_cmpstr (cnn_model_get_metadata (model, "architecture"), ==,
      "flatten, dense 3");
  g_assert_cmpstr (cnn_model_get_metadata (model, "input"), ==, "1x2x2");
  g_assert_cmpstr (cnn_model_get_metadata (model, "labels"), ==,
      "[\"0\",\"1\",\"2\"]");
  g_assert_cmpstr (cnn_model_get_metadata (model, "preprocess"), ==,
      "resize");
  g_assert_cmpuint (cnn_model_n_labels (model), ==, 3);
  g_assert_cmpstr (cnn_model_label (model, 2), ==, "2");
  g_assert_cmpstr (cnn_model_name (model), ==, "model");
  g_assert_null (cnn_model_get_metadata (model, "dataset"));

  /* 15 zero parameters (12 weights, 3 biases). */
  sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256, zeros, sizeof zeros);
  g_assert_cmpstr (cnn_model_get_metadata (model, "sha256"), ==, sha);
  g_free (sha);

  /* The checksum follows the parameters. */
  cnn_network_params (cnn_model_network (model))[14] = 1.0f;
  zeros[4 * 14 + 3] = 0x3f;
  zeros[4 * 14 + 2] = 0x80;
  sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256, zeros, sizeof zeros);
  g_assert_cmpstr (cnn_model_get_metadata (model, "sha256"), ==, sha);
  g_free (sha);

  g_assert_null (cnn_model_new ("flatten, bogus 3", (CnnShape) { 1, 2, 2 },
          &err));
  g_assert_error (err, CNN_ERROR, CNN_ERROR_ARCH);
  g_clear_error (&err);
  cnn_model_free (model);
}

static void
test_metadata (void)
{
  CnnModel *model = colour_model ();
  const gchar *before = cnn_model_get_metadata (model, "architecture");

  g_assert_cmpstr (cnn_model_get_metadata (model, "dataset"), ==,
      "CIFAR-10 (test fixture)");
  cnn_model_set_metadata (model, "dataset", NULL);
  g_assert_null (cnn_model_get_metadata (model, "dataset"));

  cnn_model_set_metadata (model, "name", "tiny-cifar");
  g_assert_cmpstr (cnn_model_name (model), ==, "tiny-cifar");

  /* Keys the library maintains are refused, loudly. */
  g_test_expect_message (NULL, G_LOG_LEVEL_CRITICAL, "*is_library_key*");
  cnn_model_set_metadata (model, "architecture", "dense 2");
  g_test_assert_expected_messages ();
  g_assert_cmpstr (cnn_model_get_metadata (model, "architecture"), ==,
      before);
  g_test_expect_message (NULL, G_LOG_LEVEL_CRITICAL, "*is_library_key*");
  cnn_model_set_metadata (model, "sha256", "00");
  g_test_assert_expected_messages ();
  g_assert_cmpuint (strlen (cnn_model_get_metadata (model, "sha256")), ==,
      64);
  g_test_expect_message (NULL, G_LOG_LEVEL_CRITICAL, "*preprocess*");
  cnn_model_set_metadata (model, "preprocess", NULL);
  g_test_assert_expected_messages ();
  g_assert_cmpstr (cnn_model_get_metadata (model, "preprocess"), ==,
      "resize mean=0.5 std=0.25");

  cnn_model_free (model);
}

static void
test_labels (void)
{
  static const gchar *const odd[] = {
    "quote \" and \\ backslash", "café", "", "tab\there", "line\nbreak",
    "日本", "7", "8", "9", "ten", NULL,
  };
  static const gchar *const too_few[] = { "a", "b", NULL };
  gchar *dir = make_tmp_dir ();
  gchar *path = g_build_filename (dir, "odd.safetensors", NULL);
  CnnModel *model = colour_model (), *loaded;
  GError *err = NULL;

  g_assert_false (cnn_model_set_labels (model, too_few, &err));
  g_assert_error (err, CNN_ERROR, CNN_ERROR_INVALID);
  g_assert_nonnull (strstr (err->message, "2 labels"));
  g_clear_error (&err);
  g_assert_cmpstr (cnn_model_label (model, 9), ==, "truck");

  g_assert_true (cnn_model_set_labels (model, odd, &err));
  g_assert_no_error (err);
  save_ok (model, path);
  loaded = load_ok (path);
  for (guint i = 0; i < 10; i++)
    g_assert_cmpstr (cnn_model_label (loaded, i), ==, odd[i]);
  g_assert_cmpstr (cnn_model_get_metadata (loaded, "labels"), ==,
      cnn_model_get_metadata (model, "labels"));

  cnn_model_free (model);
  cnn_model_free (loaded);
  g_free (path);
  remove_tmp_dir (dir);
}

static void
test_labels_file (void)
{
  static const gchar *const want[] = { "zero", "one two", "three", NULL };
  gchar *dir = make_tmp_dir ();
  gchar *path = g_build_filename (dir, "labels.txt", NULL);
  gchar *missing = g_build_filename (dir, "none.txt", NULL);
  GError *err = NULL;
  gchar **labels;

  write_file (path, "  zero\r\n\n\t one two \nthree", -1);
  labels = cnn_labels_read (path, &err);
  g_assert_no_error (err);
  g_assert_true (g_strv_equal ((const gchar * const *) labels, want));
  g_strfreev (labels);

  write_file (path, " \n\t\r\n\n", -1);
  g_assert_null (cnn_labels_read (path, &err));
  g_assert_error (err, CNN_ERROR, CNN_ERROR_INVALID);
  g_assert_true (g_str_has_prefix (err->message, path));
  g_assert_nonnull (strstr (err->message, "no labels"));
  g_clear_error (&err);

  write_file (path, "", 0);
  g_assert_null (cnn_labels_read (path, &err));
  g_assert_error (err, CNN_ERROR, CNN_ERROR_INVALID);
  g_clear_error (&err);

  write_file (path, "a\nb\nc\xff\n", -1);
  g_assert_null (cnn_labels_read (path, &err));
  g_assert_error (err, CNN_ERROR, CNN_ERROR_INVALID);
  g_assert_nonnull (strstr (err->message, ":3: not valid UTF-8"));
  g_clear_error (&err);

  g_assert_null (cnn_labels_read (missing, &err));
  g_assert_error (err, CNN_ERROR, CNN_ERROR_IO);
  g_assert_true (g_str_has_prefix (err->message, missing));
  g_clear_error (&err);

  g_assert_null (cnn_labels_read (dir, &err));
  g_assert_error (err, CNN_ERROR, CNN_ERROR_IO);
  g_clear_error (&err);

  g_free (path);
  g_free (missing);
  remove_tmp_dir (dir);
}

/* ---- saving -------------------------------------------------------- */

static void
test_save_missing_dir (void)
{
  gchar *dir = make_tmp_dir ();
  gchar *path = g_build_filename (dir, "nowhere", "m.safetensors", NULL);
  CnnModel *model = colour_model ();
  GError *err = NULL;
  gchar **left;

  g_assert_false (cnn_model_save (model, path, &err));
  g_assert_error (err, CNN_ERROR, CNN_ERROR_IO);
  g_assert_true (g_str_has_prefix (err->message, path));
  g_assert_nonnull (strstr (err->message, g_strerror (ENOENT)));
  g_clear_error (&err);
  left = dir_entries (dir);
  g_assert_cmpuint (g_strv_length (left), ==, 0);

  g_strfreev (left);
  cnn_model_free (model);
  g_free (path);
  remove_tmp_dir (dir);
}

static void
test_save_replaces (void)
{
  static const gchar *const after_replace[] = { "m.safetensors", NULL };
  static const gchar *const after_failure[] = {
    "m.safetensors", "sub.safetensors", NULL,
  };
  gchar *dir = make_tmp_dir ();
  gchar *path = g_build_filename (dir, "m.safetensors", NULL);
  gchar *sub = g_build_filename (dir, "sub.safetensors", NULL);
  CnnModel *big = colour_model (), *small, *loaded;
  GError *err = NULL;
  GStatBuf before, after;
  GBytes *saved, *now;
  gchar **left;

  small = cnn_model_new ("flatten, dense 2", (CnnShape) { 1, 2, 2 }, &err);
  g_assert_no_error (err);
  cnn_network_init_params (cnn_model_network (small), 3);

  save_ok (big, path);
  g_assert_cmpint (g_stat (path, &before), ==, 0);
  save_ok (small, path);
  g_assert_cmpint (g_stat (path, &after), ==, 0);

  /* A new file renamed over the old one, not the old one rewritten. */
  g_assert_cmpuint (before.st_ino, !=, after.st_ino);
  g_assert_cmpint (after.st_size, <, before.st_size);
  loaded = load_ok (path);
  assert_same_params (small, loaded);
  left = dir_entries (dir);
  g_assert_true (g_strv_equal ((const gchar * const *) left, after_replace));
  g_strfreev (left);

  /* A save that fails at the rename leaves no temporary file behind and
   * the other file untouched. */
  saved = read_file (path);
  g_assert_cmpint (g_mkdir (sub, 0700), ==, 0);
  g_assert_false (cnn_model_save (big, sub, &err));
  g_assert_error (err, CNN_ERROR, CNN_ERROR_IO);
  g_assert_true (g_str_has_prefix (err->message, sub));
  g_assert_nonnull (strstr (err->message, "rename"));
  g_clear_error (&err);
  left = dir_entries (dir);
  g_assert_true (g_strv_equal ((const gchar * const *) left, after_failure));
  g_strfreev (left);
  now = read_file (path);
  g_assert_true (g_bytes_equal (saved, now));

  g_bytes_unref (saved);
  g_bytes_unref (now);
  cnn_model_free (big);
  cnn_model_free (small);
  cnn_model_free (loaded);
  g_free (path);
  g_free (sub);
  remove_tmp_dir (dir);
}

static void
test_load_io_errors (void)
{
  gchar *dir = make_tmp_dir ();
  gchar *missing = g_build_filename (dir, "none.safetensors", NULL);
  gchar *fifo = g_build_filename (dir, "fifo.safetensors", NULL);

  assert_load_fails (missing, CNN_ERROR_IO, g_strerror (ENOENT));
  assert_load_fails (dir, CNN_ERROR_IO, "not a regular file");
  /* A FIFO without a writer: refused at once, not waited on. */
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  assert_load_fails (fifo, CNN_ERROR_IO, "not a regular file");

  g_free (fifo);
  g_free (missing);
  remove_tmp_dir (dir);
}

/* A valid file whose network does not fit the memory limit: out of
 * memory (CNN_ERROR_NOMEM, which cnnclassify reports as a resource that
 * failed), not a bad file. */
static void
test_load_over_memory_limit (void)
{
  gchar *dir = make_tmp_dir ();
  gchar *path = g_build_filename (dir, "colour.safetensors", NULL);
  CnnModel *model = colour_model ();
  GError *err = NULL;

  save_ok (model, path);
  cnn_model_free (model);
  g_assert_null (cnn_model_load_full (path, 16 << 10, &err));
  g_assert_error (err, CNN_ERROR, CNN_ERROR_NOMEM);
  g_assert_true (g_str_has_prefix (err->message, path));
  g_assert_nonnull (strstr (err->message, "more than the memory limit"));
  g_clear_error (&err);
  model = cnn_model_load_full (path, 16 << 20, &err);
  g_assert_no_error (err);
  cnn_model_free (model);
  g_free (path);
  remove_tmp_dir (dir);
}

/* ---- corrupt files ------------------------------------------------- */

/* A valid file taken apart, to be edited and put together again. */
typedef struct
{
  gchar *dir;
  gchar *path;                  /* where the edited file goes */
  JsonNode *header;
  GByteArray *data;
  gsize header_len, file_len;   /* of the valid file */
} Corrupt;

static void
corrupt_init (Corrupt * c)
{
  gchar *valid;
  CnnModel *model = colour_model ();
  JsonParser *parser = json_parser_new ();
  GError *err = NULL;
  GBytes *bytes;
  const guint8 *file;
  guint64 header_len;

  c->dir = make_tmp_dir ();
  c->path = g_build_filename (c->dir, "corrupt.safetensors", NULL);
  valid = g_build_filename (c->dir, "valid.safetensors", NULL);
  save_ok (model, valid);
  bytes = read_file (valid);
  file = g_bytes_get_data (bytes, &c->file_len);
  memcpy (&header_len, file, 8);
  c->header_len = GUINT64_FROM_LE (header_len);
  json_parser_load_from_data (parser, (const gchar *) file + 8,
      c->header_len, &err);
  g_assert_no_error (err);
  c->header = json_node_copy (json_parser_get_root (parser));
  c->data = g_byte_array_new ();
  g_byte_array_append (c->data, file + 8 + c->header_len,
      c->file_len - 8 - c->header_len);

  g_unlink (valid);
  g_free (valid);
  g_bytes_unref (bytes);
  g_object_unref (parser);
  cnn_model_free (model);
}

static void
corrupt_clear (Corrupt * c)
{
  g_unlink (c->path);
  g_free (c->path);
  json_node_unref (c->header);
  g_byte_array_unref (c->data);
  remove_tmp_dir (c->dir);
}

static gchar *
header_text (Corrupt * c)
{
  JsonGenerator *gen = json_generator_new ();
  gchar *text;

  json_generator_set_root (gen, c->header);
  text = json_generator_to_data (gen, NULL);
  g_object_unref (gen);
  return text;
}

/* The file: @length_field, then @header, then the data section. */
static void
compose (Corrupt * c, guint64 length_field, const gchar * header,
    gsize header_len)
{
  GByteArray *file = g_byte_array_new ();
  guint64 le = GUINT64_TO_LE (length_field);

  g_byte_array_append (file, (const guint8 *) &le, 8);
  g_byte_array_append (file, (const guint8 *) header, header_len);
  g_byte_array_append (file, c->data->data, c->data->len);
  write_file (c->path, file->data, file->len);
  g_byte_array_unref (file);
}

static void
compose_text (Corrupt * c, const gchar * header)
{
  compose (c, strlen (header), header, strlen (header));
}

static void
compose_edited (Corrupt * c)
{
  gchar *text = header_text (c);

  compose_text (c, text);
  g_free (text);
}

/* The header text with the first @from replaced by @to. */
static void
compose_replaced (Corrupt * c, const gchar * from, const gchar * to)
{
  GString *text = g_string_new (NULL);
  gchar *orig = header_text (c);
  gchar *at = strstr (orig, from);

  g_assert_nonnull (at);
  g_string_append_len (text, orig, at - orig);
  g_string_append (text, to);
  g_string_append (text, at + strlen (from));
  compose_text (c, text->str);
  g_string_free (text, TRUE);
  g_free (orig);
}

static JsonObject *
root_of (Corrupt * c)
{
  return json_node_get_object (c->header);
}

static JsonObject *
meta_of (Corrupt * c)
{
  return json_object_get_object_member (root_of (c), "__metadata__");
}

static JsonObject *
tensor_of (Corrupt * c, const gchar * name)
{
  JsonObject *t = json_object_get_object_member (root_of (c), name);

  g_assert_nonnull (t);
  return t;
}

static void
set_ints (JsonObject * obj, const gchar * member, guint n, const gint64 * v)
{
  JsonArray *a = json_array_new ();

  for (guint i = 0; i < n; i++)
    json_array_add_int_element (a, v[i]);
  json_object_set_array_member (obj, member, a);
}

static void
set_pair (JsonObject * obj, const gchar * member, gint64 a, gint64 b)
{
  gint64 v[2] = { a, b };

  set_ints (obj, member, 2, v);
}

/* Tensors of the colour model: 0.conv2d.weight [0, 864), 0.conv2d.bias
 * [864, 896), 4.dense.weight [896, 82816), 4.dense.bias [82816, 82856). */
#define DATA_LEN 82856

typedef struct
{
  const gchar *name;
  void (*edit) (Corrupt * c, const gchar * arg);
  const gchar *arg;
  const gchar *fragment;
} CorruptCase;

static void
edit_length_past_end (Corrupt * c, const gchar * arg)
{
  gchar *text = header_text (c);

  compose (c, strlen (text) + c->data->len + 1, text, strlen (text));
  g_free (text);
}

static void
edit_length_absurd (Corrupt * c, const gchar * arg)
{
  gchar *text = header_text (c);

  compose (c, G_GUINT64_CONSTANT (1) << 63, text, strlen (text));
  g_free (text);
}

static void
edit_text (Corrupt * c, const gchar * arg)
{
  compose_text (c, arg);
}

/* Two million zeros: small text, but gigabytes as json-glib nodes. */
static void
edit_many_values (Corrupt * c, const gchar * arg)
{
  GString *text = g_string_new ("[");

  for (guint i = 0; i < 2000000; i++)
    g_string_append (text, "0,");
  g_string_append (text, "0]");
  compose_text (c, text->str);
  g_string_free (text, TRUE);
}

static void
edit_nul (Corrupt * c, const gchar * arg)
{
  compose (c, 16, "{\"a\": 1}\0       ", 16);
}

static void
edit_deep (Corrupt * c, const gchar * arg)
{
  gchar *text = g_strnfill (100000, '[');

  compose_text (c, text);
  g_free (text);
}

/* @arg is "FROM|TO": a textual edit of the header. */
static void
edit_replace (Corrupt * c, const gchar * arg)
{
  gchar **parts = g_strsplit (arg, "|", 2);

  compose_replaced (c, parts[0], parts[1]);
  g_strfreev (parts);
}

static void
edit_no_metadata (Corrupt * c, const gchar * arg)
{
  json_object_remove_member (root_of (c), "__metadata__");
  compose_edited (c);
}

static void
edit_remove_key (Corrupt * c, const gchar * arg)
{
  json_object_remove_member (meta_of (c), arg);
  compose_edited (c);
}

/* @arg is "KEY=VALUE". */
static void
edit_set_key (Corrupt * c, const gchar * arg)
{
  gchar **kv = g_strsplit (arg, "=", 2);

  json_object_set_string_member (meta_of (c), kv[0], kv[1]);
  compose_edited (c);
  g_strfreev (kv);
}

static void
edit_rename_tensor (Corrupt * c, const gchar * arg)
{
  JsonObject *bias = json_object_ref (tensor_of (c, "0.conv2d.bias"));

  json_object_remove_member (root_of (c), "0.conv2d.bias");
  json_object_set_object_member (root_of (c), arg, bias);
  compose_edited (c);
}

/* The last tensor and its bytes gone: the rest is consistent. */
static void
edit_missing_tensor (Corrupt * c, const gchar * arg)
{
  json_object_remove_member (root_of (c), "4.dense.bias");
  g_byte_array_set_size (c->data, c->data->len - 40);
  compose_edited (c);
}

/* One more tensor of two floats at the end of the data. */
static void
edit_extra_tensor (Corrupt * c, const gchar * arg)
{
  JsonObject *t = json_object_new ();
  gint64 shape[] = { 2 };
  guint8 eight[8] = { 0 };

  json_object_set_string_member (t, "dtype", "F32");
  set_ints (t, "shape", 1, shape);
  set_pair (t, "data_offsets", DATA_LEN, DATA_LEN + 8);
  json_object_set_object_member (root_of (c), arg, t);
  g_byte_array_append (c->data, eight, 8);
  compose_edited (c);
}

static void
edit_dtype (Corrupt * c, const gchar * arg)
{
  json_object_set_string_member (tensor_of (c, "0.conv2d.weight"), "dtype",
      arg);
  compose_edited (c);
}

/* @arg is the new shape of 0.conv2d.weight, comma separated. */
static void
edit_shape (Corrupt * c, const gchar * arg)
{
  gchar **dims = g_strsplit (arg, ",", -1);
  guint n = g_strv_length (dims);
  /* As many as given: "shape-too-many-dims" gives more than any reader
   * accepts. */
  gint64 *v = g_new (gint64, n);

  for (guint i = 0; i < n; i++)
    v[i] = g_ascii_strtoll (dims[i], NULL, 10);
  set_ints (tensor_of (c, "0.conv2d.weight"), "shape", n, v);
  compose_edited (c);
  g_free (v);
  g_strfreev (dims);
}

/* @arg is "TENSOR BEGIN END". */
static void
edit_offsets (Corrupt * c, const gchar * arg)
{
  gchar **words = g_strsplit (arg, " ", 3);

  set_pair (tensor_of (c, words[0]), "data_offsets",
      g_ascii_strtoll (words[1], NULL, 10),
      g_ascii_strtoll (words[2], NULL, 10));
  compose_edited (c);
  g_strfreev (words);
}

/* Four spare bytes before the last tensor, which moves up. */
static void
edit_gap (Corrupt * c, const gchar * arg)
{
  guint8 four[4] = { 0 }, bias[40];

  memcpy (bias, c->data->data + DATA_LEN - 40, 40);
  g_byte_array_set_size (c->data, DATA_LEN - 40);
  g_byte_array_append (c->data, four, 4);
  g_byte_array_append (c->data, bias, 40);
  set_pair (tensor_of (c, "4.dense.bias"), "data_offsets", DATA_LEN - 36,
      DATA_LEN + 4);
  compose_edited (c);
}

static void
edit_trailing (Corrupt * c, const gchar * arg)
{
  guint8 four[4] = { 1, 2, 3, 4 };

  g_byte_array_append (c->data, four, 4);
  compose_edited (c);
}

static void
edit_flip_data (Corrupt * c, const gchar * arg)
{
  c->data->data[1000] ^= 0x01;
  compose_edited (c);
}

static void
edit_tensor_not_object (Corrupt * c, const gchar * arg)
{
  json_object_set_int_member (root_of (c), "0.conv2d.weight", 5);
  compose_edited (c);
}

static void
edit_labels_member (Corrupt * c, const gchar * arg)
{
  json_object_set_string_member (meta_of (c), "labels", arg);
  compose_edited (c);
}

static const CorruptCase corrupt_cases[] = {
  {"length-past-end", edit_length_past_end, NULL,
      "runs past the end of the file"},
  {"length-absurd", edit_length_absurd, NULL, "is absurd"},
  {"json-truncated", edit_text, "{\"__metadata__\": {\"format\": \"gst-cnn\",",
      "is not valid JSON"},
  {"json-garbage", edit_text, "{\"__metadata__\": nope}",
      "is not valid JSON"},
  {"json-comment", edit_text, "{/* [ */}", "unexpected character at byte 9"},
  {"json-single-quotes", edit_text, "{'__metadata__': {}}",
      "unexpected character at byte 9"},
  {"json-empty", edit_text, "        ", "is not valid JSON: it is empty"},
  {"json-deep", edit_deep, NULL,
      "not valid JSON for this reader: nesting too deep at byte 24"},
  {"json-many-values", edit_many_values, NULL,
      "not valid JSON for this reader: too many values at byte 2097159"},
  {"json-array", edit_text, "[1, 2, 3]", "is an array, not a JSON object"},
  {"json-string", edit_text, "\"model\"", "is a string, not a JSON object"},
  {"not-utf8", edit_replace, "gst-cnn|gst-\xff", "is not valid UTF-8"},
  {"nul-byte", edit_nul, NULL, "NUL byte at byte 16"},
  /* Escapes json-glib would decode into bytes that are not UTF-8, or
   * into a NUL that cuts the string short. */
  {"octal-escape", edit_replace, "gst-cnn|gst-\\314",
      "not valid JSON for this reader: an escape JSON does not have"},
  {"lone-surrogate", edit_replace, "gst-cnn|gst-\\udc00",
      "not valid JSON for this reader: a UTF-16 surrogate not in a pair"},
  {"reversed-surrogates", edit_replace, "gst-cnn|gst-\\udc00\\ud800",
      "a UTF-16 surrogate not in a pair"},
  {"escaped-nul", edit_replace, "gst-cnn|gst-\\u0000cnn",
      "not valid JSON for this reader: an escaped NUL character"},
  {"short-unicode-escape", edit_replace, "gst-cnn|gst-\\u12",
      "an escape JSON does not have"},
  {"huge-integer", edit_replace, "[0,864]|[0,18446744073709551616]",
      "a number too large for 64 bits"},
  {"no-metadata", edit_no_metadata, NULL, "has no '__metadata__'"},
  {"metadata-not-object", edit_replace, "\"__metadata__\":{|\"__metadata__\":"
        "[],\"x\":{", "'__metadata__' is an array, not an object"},
  {"metadata-not-string", edit_replace, "\"format\":\"gst-cnn\"|\"format\":1",
      "__metadata__ field 'format' is a number, not a string"},
  {"missing-format", edit_remove_key, "format", "has no 'format'"},
  {"missing-format-version", edit_remove_key, "format-version",
      "has no 'format-version'"},
  {"missing-architecture", edit_remove_key, "architecture",
      "has no 'architecture'"},
  {"missing-input", edit_remove_key, "input", "has no 'input'"},
  {"missing-labels", edit_remove_key, "labels", "has no 'labels'"},
  {"missing-preprocess", edit_remove_key, "preprocess",
      "has no 'preprocess'"},
  {"missing-sha256", edit_remove_key, "sha256", "has no 'sha256'"},
  {"wrong-format", edit_set_key, "format=onnx",
      "'format' is 'onnx', not 'gst-cnn'"},
  {"format-version-2", edit_set_key, "format-version=2",
      "'format-version' is '2'; this reader supports version 1 only"},
  {"bad-input", edit_set_key, "input=3x32", "'input': input shape '3x32'"},
  {"empty-preprocess", edit_set_key, "preprocess=", "'preprocess' is empty"},
  {"unknown-layer-kind", edit_set_key, "architecture=conv 8 3 pad=1, relu, "
        "frobnicate 2, flatten, dense 10, softmax",
      "'architecture' does not make a network for input 3x32x32: layer 2 "
        "('frobnicate 2'): unknown layer kind 'frobnicate'"},
  {"architecture-shapes", edit_set_key, "architecture=conv 8 40, flatten, "
        "dense 10", "'architecture' does not make a network for input "
        "3x32x32: layer 0 (conv2d)"},
  {"labels-count", edit_labels_member, "[\"cat\",\"dog\"]",
      "'labels' has 2 labels but the network has 10 outputs"},
  {"labels-not-json", edit_labels_member, "cat, dog",
      "'labels' is not a JSON array of strings"},
  {"labels-object", edit_labels_member, "{\"a\": \"b\"}",
      "'labels' is an object, not a JSON array of strings"},
  {"labels-numbers", edit_labels_member, "[0,1,2,3,4,5,6,7,8,9]",
      "'labels' element 0 is a number, not a string"},
  {"labels-nested", edit_labels_member, "[[\"a\"]]",
      "'labels' is not a JSON array of strings: nesting too deep"},
  {"tensor-not-object", edit_tensor_not_object, NULL,
      "header field '0.conv2d.weight' is a number, not a tensor"},
  {"unknown-tensor-kind", edit_rename_tensor, "0.dense.bias",
      "unexpected tensor '0.dense.bias': layer 0 is conv2d"},
  {"unknown-tensor-name", edit_rename_tensor, "conv.bias",
      "unexpected tensor 'conv.bias'"},
  {"missing-tensor", edit_missing_tensor, NULL,
      "tensor '4.dense.bias' for layer 4 (dense) is missing"},
  {"extra-tensor-no-params", edit_extra_tensor, "5.softmax.weight",
      "unexpected tensor '5.softmax.weight': layer 5 (softmax) has no "
        "parameters"},
  {"extra-tensor-no-layer", edit_extra_tensor, "9.dense.weight",
      "unexpected tensor '9.dense.weight': the architecture has 6 layers"},
  {"dtype-f16", edit_dtype, "F16", "tensor '0.conv2d.weight': dtype 'F16' "
        "is not supported (only F32)"},
  {"shape-mismatch", edit_shape, "8,3,9,1", "tensor '0.conv2d.weight' "
        "(layer 0, conv2d) has shape [8, 3, 9, 1], expected [8, 3, 3, 3]"},
  {"shape-size-mismatch", edit_shape, "8,3,3,2", "tensor '0.conv2d.weight':"
        " data_offsets [0, 864] hold 864 bytes but shape [8, 3, 3, 2] of F32"
        " needs 576"},
  {"shape-overflow", edit_shape, "4611686018427387904,4",
      "shape [4611686018427387904, 4] of F32 would be more than 2^64 bytes"},
  {"shape-negative", edit_shape, "8,-3,3,3",
      "'shape' element 1 is not a non-negative integer"},
  {"shape-too-many-dims", edit_shape, "1,1,1,1,1,1,1,1,8",
      "'shape' has 9 dimensions, more than 8"},
  {"offsets-out-of-range", edit_offsets, "4.dense.bias 82816 100000",
      "tensor '4.dense.bias': data_offsets [82816, 100000] run past the end "
        "of the data section (82856 bytes from byte"},
  {"offsets-begin-after-end", edit_offsets, "0.conv2d.bias 896 864",
      "tensor '0.conv2d.bias': data_offsets [896, 864] begin after they end"},
  {"offsets-overlap", edit_offsets, "0.conv2d.bias 860 892",
      "tensors '0.conv2d.weight' (data_offsets [0, 864]) and "
        "'0.conv2d.bias' (data_offsets [860, 892]) overlap"},
  {"offsets-overlap-tail", edit_offsets, "4.dense.bias 82808 82848",
      "tensors '4.dense.weight' (data_offsets [896, 82816]) and "
        "'4.dense.bias' (data_offsets [82808, 82848]) overlap"},
  {"offsets-negative", edit_offsets, "0.conv2d.bias -32 0",
      "'data_offsets' is not two non-negative integers"},
  {"offsets-three", edit_replace, "[864,896]|[864,896,900]",
      "tensor '0.conv2d.bias': 'data_offsets' is not two non-negative "
        "integers"},
  {"offsets-float", edit_replace, "[864,896]|[864.0,896]",
      "'data_offsets' is not two non-negative integers"},
  {"gap", edit_gap, NULL, "data section bytes 82816-82819 (before tensor "
        "'4.dense.bias') belong to no tensor"},
  {"trailing", edit_trailing, NULL, "4 trailing bytes (data section offset "
        "82856 to the end) belong to no tensor"},
  {"checksum-data", edit_flip_data, NULL, "checksum mismatch"},
  {"checksum-stated", edit_set_key, "sha256=0000000000000000000000000000000"
        "000000000000000000000000000000000", "checksum mismatch"},
};

static void
test_corrupt (gconstpointer data)
{
  const CorruptCase *cc = data;
  Corrupt c;

  corrupt_init (&c);
  cc->edit (&c, cc->arg);
  assert_load_fails (c.path, CNN_ERROR_MODEL, cc->fragment);
  corrupt_clear (&c);
}

/* The unedited file loads: the cases above fail for their edit alone. */
static void
test_corrupt_control (void)
{
  Corrupt c;
  CnnModel *model;

  corrupt_init (&c);
  g_assert_cmpuint (c.data->len, ==, DATA_LEN);
  compose_edited (&c);
  model = load_ok (c.path);
  cnn_model_free (model);
  corrupt_clear (&c);
}

static void
test_truncated (void)
{
  Corrupt c;
  GBytes *whole;
  const guint8 *file;
  guint64 header_len;
  gsize len;

  corrupt_init (&c);
  compose_edited (&c);
  whole = read_file (c.path);
  file = g_bytes_get_data (whole, &len);
  memcpy (&header_len, file, 8);
  header_len = GUINT64_FROM_LE (header_len);
  {
    const struct
    {
      gsize at;
      const gchar *fragment;
    } cuts[] = {
      {0, "the file is 0 bytes, too short for the 8-byte header length"},
      {4, "the file is 4 bytes, too short for the 8-byte header length"},
      {8, "runs past the end of the file (8 bytes)"},
      {8 + header_len / 2, "runs past the end of the file"},
      {8 + header_len, "tensor '0.conv2d.weight': data_offsets [0, 864] "
            "run past the end of the data section (0 bytes"},
      {8 + header_len + DATA_LEN / 2, "tensor '4.dense.weight': "
            "data_offsets [896, 82816] run past the end of the data section"},
      {len - 1, "tensor '4.dense.bias': data_offsets [82816, 82856] run "
            "past the end of the data section (82855 bytes"},
    };

    for (guint i = 0; i < G_N_ELEMENTS (cuts); i++) {
      write_file (c.path, file, cuts[i].at);
      assert_load_fails (c.path, CNN_ERROR_MODEL, cuts[i].fragment);
    }
  }
  g_bytes_unref (whole);
  corrupt_clear (&c);
}

/* Every byte of the header changed to a few troublesome values: the
 * reader returns a model or an error naming the file, never crashes. */
static void
test_header_mutations (void)
{
  static const guint8 values[] = { 0x00, 0xff, '[', '"', '9', ' ', '}' };
  Corrupt c;
  GBytes *whole;
  guint8 *file;
  guint64 header_len;
  gsize len;
  guint n_loaded = 0, n_failed = 0;

  corrupt_init (&c);
  compose_edited (&c);
  whole = read_file (c.path);
  len = g_bytes_get_size (whole);
  file = g_memdup2 (g_bytes_get_data (whole, NULL), len);
  memcpy (&header_len, file, 8);
  header_len = GUINT64_FROM_LE (header_len);
  for (gsize at = 8; at < 8 + header_len; at++) {
    guint8 orig = file[at];

    for (guint v = 0; v < G_N_ELEMENTS (values); v++) {
      GError *err = NULL;
      CnnModel *model;

      if (values[v] == orig)
        continue;
      file[at] = values[v];
      write_file (c.path, file, len);
      model = cnn_model_load (c.path, &err);
      if (model) {
        n_loaded++;
        cnn_model_free (model);
      } else {
        n_failed++;
        g_assert_true (err->domain == CNN_ERROR);
        g_assert_true (g_str_has_prefix (err->message, c.path));
        g_error_free (err);
      }
    }
    file[at] = orig;
  }
  g_test_message ("%u mutations loaded, %u refused", n_loaded, n_failed);
  /* Label or metadata text edits load; structural ones do not. */
  g_assert_cmpuint (n_loaded, >, 0);
  g_assert_cmpuint (n_failed, >, n_loaded);
  g_free (file);
  g_bytes_unref (whole);
  corrupt_clear (&c);
}

/* cnn_json_check() lets every escape JSON has through, a surrogate
 * pair among them, and stops at the first one it has not. */
static void
test_json_escapes (void)
{
  static const gchar good[] =
      "{\"a\": \"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\ud83d\\ude00\"}";
  static const struct
  {
    const gchar *text;
    gsize offset;
    const gchar *problem;
  } bad[] = {
    {"{\"a\": \"x\\x\"}", 8, "an escape JSON does not have"},
    {"{\"a\": \"\\u00g0\"}", 7, "an escape JSON does not have"},
    {"{\"a\": \"\\ud83d x\"}", 7, "a UTF-16 surrogate not in a pair"},
    {"{\"a\": \"\\ude00\\ud83d\"}", 7, "a UTF-16 surrogate not in a pair"},
    {"{\"a\": \"\\u0000\"}", 7, "an escaped NUL character"},
    {"{\"a\": \"\\", 7, "an escape JSON does not have"},
  };
  const gchar *problem = NULL;
  gsize offset = 0;

  g_assert_true (cnn_json_check (good, strlen (good), 4, &offset, &problem));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    problem = NULL;
    g_assert_false (cnn_json_check (bad[i].text, strlen (bad[i].text), 4,
            &offset, &problem));
    g_assert_cmpstr (problem, ==, bad[i].problem);
    g_assert_cmpuint (offset, ==, bad[i].offset);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/model/round-trip/colour", test_round_trip_colour);
  g_test_add_func ("/model/round-trip/default", test_round_trip_default);
  g_test_add_func ("/model/file-layout", test_file_layout);
  g_test_add_func ("/model/new", test_new_model);
  g_test_add_func ("/model/metadata", test_metadata);
  g_test_add_func ("/model/json-escapes", test_json_escapes);
  g_test_add_func ("/model/labels", test_labels);
  g_test_add_func ("/model/labels-file", test_labels_file);
  g_test_add_func ("/model/save/missing-dir", test_save_missing_dir);
  g_test_add_func ("/model/save/replaces", test_save_replaces);
  g_test_add_func ("/model/load/io-errors", test_load_io_errors);
  g_test_add_func ("/model/load/over-memory-limit",
      test_load_over_memory_limit);
  g_test_add_func ("/model/corrupt/control", test_corrupt_control);
  g_test_add_func ("/model/corrupt/truncated", test_truncated);
  g_test_add_func ("/model/corrupt/header-mutations", test_header_mutations);
  for (guint i = 0; i < G_N_ELEMENTS (corrupt_cases); i++) {
    gchar *name = g_strdup_printf ("/model/corrupt/%s",
        corrupt_cases[i].name);

    g_test_add_data_func (name, &corrupt_cases[i], test_corrupt);
    g_free (name);
  }
  return g_test_run ();
}
