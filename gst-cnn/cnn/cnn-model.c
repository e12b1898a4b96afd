/* Model files (docs/design.md §3): a network, its class labels and string
 * metadata, stored as safetensors (cnn-safetensors.c does the container).
 *
 * Loading checks, after the container: the required "__metadata__" keys,
 * format and version, the input shape, that the architecture builds a
 * network for it, the labels (a JSON array of as many strings as there
 * are outputs), that the tensors are exactly the network's (no unknown,
 * none missing, every shape as expected) and the data's SHA-256.
 *
 * The metadata table holds every key, those the library maintains
 * included; they are refreshed from the model whenever it changes:
 * "architecture" and "input" at creation, "labels" with the labels and
 * "sha256" (of the data section, from the current parameters) when it is
 * asked for and when the model is saved.
 */
#include "cnn-model-private.h"
#include "cnn-safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#define FORMAT_NAME "gst-cnn"
#define FORMAT_VERSION "1"

/* A model is its header (at most CNN_JSON_MAX_BYTES) and its weights,
 * which the memory limit bounds anyway; labels files are far smaller. */
#define MAX_READ_BYTES (G_GUINT64_CONSTANT (4) << 30)
#define READ_STEP ((gsize) 1 << 16)

/* Labels are a flat array of strings. */
#define LABELS_MAX_DEPTH 1


/* Derived from the model; cnn_model_set_metadata() refuses them. */
static const gchar *const library_keys[] = {
  "format", "format-version", "architecture", "input", "labels", "sha256",
};

/* What a file must have, in the order they are checked. */
static const gchar *const required_keys[] = {
  "format", "format-version", "architecture", "input", "labels",
  "preprocess", "sha256",
};

static gboolean
is_library_key (const gchar * key)
{
  for (guint i = 0; i < G_N_ELEMENTS (library_keys); i++)
    if (g_str_equal (key, library_keys[i]))
      return TRUE;
  return FALSE;
}

static void
set_meta (CnnModel * model, const gchar * key, const gchar * value)
{
  g_hash_table_insert (model->metadata, g_strdup (key), g_strdup (value));
}

/* ---- the model's tensors ------------------------------------------- */

/* The network's tensors in file order, named "<layer>.<kind>.<part>". */
typedef struct
{
  CnnSafetensorsTensor *t;
  guint n;
  guint *layer;                 /* the layer of each */
  GPtrArray *names;             /* owns the names */
} TensorList;

static void
tensor_list_init (TensorList * list, CnnNetwork * net)
{
  guint n_layers = cnn_network_n_layers (net);

  /* At most a weight and a bias per layer. */
  list->t = g_new0 (CnnSafetensorsTensor, 2 * n_layers);
  list->layer = g_new0 (guint, 2 * n_layers);
  list->names = g_ptr_array_new_with_free_func (g_free);
  list->n = 0;
  for (guint l = 0; l < n_layers; l++) {
    for (guint i = 0; i < cnn_network_layer_n_tensors (net, l); i++) {
      CnnSafetensorsTensor *out = &list->t[list->n];
      const gchar *part;
      gsize dims[4];
      gchar *name;

      out->data = cnn_network_layer_tensor (net, l, i, &part, &out->n_dims,
          dims);
      for (guint d = 0; d < out->n_dims; d++)
        out->dims[d] = dims[d];
      name = g_strdup_printf ("%u.%s.%s", l, cnn_network_layer_kind (net, l),
          part);
      g_ptr_array_add (list->names, name);
      out->name = name;
      list->layer[list->n++] = l;
    }
  }
}

static void
tensor_list_clear (TensorList * list)
{
  g_free (list->t);
  g_free (list->layer);
  g_ptr_array_unref (list->names);
}

static gchar *
params_sha256 (CnnNetwork * net)
{
  TensorList list;
  gchar *hex;

  tensor_list_init (&list, net);
  hex = cnn_safetensors_tensors_sha256 (list.t, list.n);
  tensor_list_clear (&list);
  return hex;
}

/* Keeps the stored string (and pointers handed out) when unchanged. */
static void
refresh_sha256 (CnnModel * model)
{
  gchar *hex = params_sha256 (model->net);

  if (g_strcmp0 (hex, g_hash_table_lookup (model->metadata, "sha256")))
    g_hash_table_insert (model->metadata, g_strdup ("sha256"), hex);
  else
    g_free (hex);
}

/* ---- labels -------------------------------------------------------- */

static gchar *
labels_to_json (gchar ** labels)
{
  JsonBuilder *b = json_builder_new_immutable ();
  JsonGenerator *gen = json_generator_new ();
  JsonNode *root;
  gchar *text;

  json_builder_begin_array (b);
  for (guint i = 0; labels[i]; i++)
    json_builder_add_string_value (b, labels[i]);
  json_builder_end_array (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  json_node_unref (root);
  g_object_unref (gen);
  g_object_unref (b);
  return text;
}

/* Takes @labels. */
static void
take_labels (CnnModel * model, gchar ** labels)
{
  g_strfreev (model->labels);
  model->labels = labels;
  model->n_labels = g_strv_length (labels);
  g_hash_table_insert (model->metadata, g_strdup ("labels"),
      labels_to_json (labels));
}

static gchar **
default_labels (guint n)
{
  gchar **labels = g_new0 (gchar *, n + 1);

  for (guint i = 0; i < n; i++)
    labels[i] = g_strdup_printf ("%u", i);
  return labels;
}

/* ---- creation ------------------------------------------------------ */

/* Takes @net; metadata starts as @metadata's (if any), then the
 * library's keys are set from the model. */
static CnnModel *
model_for_network (CnnNetwork * net, GHashTable * metadata)
{
  CnnModel *model = g_new0 (CnnModel, 1);
  gchar *input = cnn_shape_to_string (cnn_network_input_shape (net));
  GHashTableIter iter;
  gpointer key, value;

  model->net = net;
  model->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  if (metadata) {
    g_hash_table_iter_init (&iter, metadata);
    while (g_hash_table_iter_next (&iter, &key, &value))
      set_meta (model, key, value);
  }
  set_meta (model, "format", FORMAT_NAME);
  set_meta (model, "format-version", FORMAT_VERSION);
  set_meta (model, "architecture", cnn_network_architecture (net));
  set_meta (model, "input", input);
  if (!g_hash_table_contains (model->metadata, "preprocess"))
    set_meta (model, "preprocess", CNN_DEFAULT_PREPROCESS);
  take_labels (model,
      default_labels (cnn_shape_size (cnn_network_output_shape (net))));
  g_free (input);
  return model;
}

CnnModel *
cnn_model_new (const gchar * architecture, CnnShape input, GError ** error)
{
  CnnNetwork *net;
  CnnModel *model;

  g_return_val_if_fail (architecture != NULL, NULL);

  net = cnn_network_new (architecture, input, error);
  if (!net)
    return NULL;
  model = model_for_network (net, NULL);
  refresh_sha256 (model);
  return model;
}

void
cnn_model_free (CnnModel * model)
{
  if (!model)
    return;
  if (model->cache_entry)
    cnn_model_cache_release (model);
  else
    cnn_model_destroy (model);
}

void
cnn_model_destroy (CnnModel * model)
{
  cnn_network_free (model->net);
  g_strfreev (model->labels);
  g_hash_table_unref (model->metadata);
  g_free (model->file_stem);
  g_free (model);
}

/* ---- loading ------------------------------------------------------- */

/* Reads @fd to its end, not to @size_hint: files of /proc and /sys say
 * 0 bytes.  The result has room for a NUL after its @length bytes. */
static guint8 *
read_to_end (gint fd, const gchar * path, gsize size_hint, gsize * length,
    GError ** error)
{
  guint8 *buf = NULL;
  gsize got = 0, capacity = 0;

  while (TRUE) {
    gssize n;

    if (got + READ_STEP + 1 > capacity) {
      guint8 *bigger;

      capacity = MAX (got + READ_STEP + 1, size_hint + 1);
      bigger = got + READ_STEP <= MAX_READ_BYTES ? g_try_realloc (buf,
          capacity) : NULL;
      if (!bigger) {
        g_set_error (error, CNN_ERROR, CNN_ERROR_IO, "%s: too large to read "
            "(more than %" G_GSIZE_FORMAT " bytes)", path, got);
        g_free (buf);
        return NULL;
      }
      buf = bigger;
    }
    n = read (fd, buf + got, capacity - got - 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_IO, "%s: cannot read at byte %"
          G_GSIZE_FORMAT ": %s", path, got, g_strerror (errno));
      g_free (buf);
      return NULL;
    }
    if (n == 0)
      break;
    got += n;
  }
  *length = got;
  return buf;
}

/* @path opened for reading, with what fstat() says of it in @st; it must
 * be a regular file (a FIFO or a device would block or never end) and
 * not too large.  -1 on error. */
gint
cnn_model_open_regular (const gchar * path, struct stat *st, GError ** error)
{
  gint fd;

  /* Non-blocking, or opening a FIFO would wait for a writer. */
  fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);
  if (fd < 0) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_IO, "%s: cannot open: %s", path,
        g_strerror (errno));
    return -1;
  }
  if (fstat (fd, st) != 0) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_IO, "%s: cannot stat: %s", path,
        g_strerror (errno));
    close (fd);
    return -1;
  }
  if (!S_ISREG (st->st_mode)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_IO, "%s: not a regular file",
        path);
    close (fd);
    return -1;
  }
  if ((guint64) st->st_size > MAX_READ_BYTES) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_IO, "%s: too large to read (%"
        G_GINT64_FORMAT " bytes, more than %" G_GUINT64_FORMAT " MiB)", path,
        (gint64) st->st_size, MAX_READ_BYTES >> 20);
    close (fd);
    return -1;
  }
  return fd;
}

/* The rest of @fd (opened by cnn_model_open_regular(), @st its stat),
 * NUL-terminated after its @length bytes; closes @fd. */
guint8 *
cnn_model_read_open (gint fd, const gchar * path, const struct stat *st,
    gsize * length, GError ** error)
{
  gsize got = 0;
  guint8 *buf = read_to_end (fd, path, st->st_size, &got, error);

  close (fd);
  if (!buf)
    return NULL;
  buf[got] = 0;
  *length = got;
  return buf;
}

static guint8 *
read_regular_file (const gchar * path, gsize * length, GError ** error)
{
  struct stat st;
  gint fd = cnn_model_open_regular (path, &st, error);

  return fd < 0 ? NULL : cnn_model_read_open (fd, path, &st, length, error);
}

static gboolean
check_required_keys (const gchar * path, GHashTable * metadata,
    GError ** error)
{
  if (!metadata) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: the header has no "
        "'__metadata__': not a " FORMAT_NAME " model", path);
    return FALSE;
  }
  for (guint i = 0; i < G_N_ELEMENTS (required_keys); i++) {
    if (!g_hash_table_contains (metadata, required_keys[i])) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: __metadata__ has "
          "no '%s' (required)", path, required_keys[i]);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
check_format (const gchar * path, GHashTable * metadata, GError ** error)
{
  const gchar *format = g_hash_table_lookup (metadata, "format");
  const gchar *version = g_hash_table_lookup (metadata, "format-version");

  if (!g_str_equal (format, FORMAT_NAME)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: __metadata__ "
        "'format' is '%s', not '" FORMAT_NAME "'", path, format);
    return FALSE;
  }
  if (!g_str_equal (version, FORMAT_VERSION)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: __metadata__ "
        "'format-version' is '%s'; this reader supports version "
        FORMAT_VERSION " only", path, version);
    return FALSE;
  }
  if (!*(const gchar *) g_hash_table_lookup (metadata, "preprocess")) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: __metadata__ "
        "'preprocess' is empty", path);
    return FALSE;
  }
  return TRUE;
}

static CnnNetwork *
network_from_metadata (const gchar * path, GHashTable * metadata,
    guint64 memory_limit, GError ** error)
{
  const gchar *arch = g_hash_table_lookup (metadata, "architecture");
  const gchar *input_text = g_hash_table_lookup (metadata, "input");
  CnnShape input;
  CnnNetwork *net;
  GError *err = NULL;

  if (!cnn_shape_parse (input_text, &input, &err)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: __metadata__ "
        "'input': %s", path, err->message);
    g_error_free (err);
    return NULL;
  }
  net = cnn_network_new_full (arch, input, memory_limit, &err);
  if (!net) {
    /* A network past the memory limit is that, not a bad file. */
    g_set_error (error, CNN_ERROR, g_error_matches (err, CNN_ERROR,
            CNN_ERROR_NOMEM) ? CNN_ERROR_NOMEM : CNN_ERROR_MODEL,
        "%s: __metadata__ 'architecture' does not make a network for "
        "input %s: %s", path, input_text, err->message);
    g_error_free (err);
  }
  return net;
}

gchar **
cnn_labels_from_json (const gchar * text, guint n_labels, const gchar * what,
    GError ** error)
{
  JsonParser *parser = json_parser_new_immutable ();
  GError *err = NULL;
  const gchar *problem;
  gchar **labels = NULL;
  JsonNode *root;
  JsonArray *array;
  gsize offset;

  if (!cnn_json_check (text, strlen (text), LABELS_MAX_DEPTH,
          &offset, &problem)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s is not a JSON "
        "array of strings: %s at character %" G_GSIZE_FORMAT, what, problem,
        offset);
    goto out;
  }
  if (!json_parser_load_from_data (parser, text, -1, &err)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s is not valid "
        "JSON: %s", what, err->message);
    g_error_free (err);
    goto out;
  }
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_ARRAY (root)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s is %s, not a JSON "
        "array of strings", what, root ? cnn_json_kind (root) : "empty");
    goto out;
  }
  array = json_node_get_array (root);
  if (n_labels == 0)
    n_labels = json_array_get_length (array);
  if (json_array_get_length (array) != n_labels) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s has %u labels but "
        "the network has %u outputs", what, json_array_get_length (array),
        n_labels);
    goto out;
  }
  labels = g_new0 (gchar *, n_labels + 1);
  for (guint i = 0; i < n_labels; i++) {
    JsonNode *node = json_array_get_element (array, i);

    if (!JSON_NODE_HOLDS_VALUE (node)
        || json_node_get_value_type (node) != G_TYPE_STRING) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s element %u is "
          "%s, not a string", what, i, cnn_json_kind (node));
      g_strfreev (labels);
      labels = NULL;
      goto out;
    }
    labels[i] = g_strdup (json_node_get_string (node));
  }
out:
  g_object_unref (parser);
  return labels;
}

static void
set_unexpected_error (const gchar * path, const gchar * name,
    CnnNetwork * net, GError ** error)
{
  guint n_layers = cnn_network_n_layers (net);
  gchar *end;
  guint64 layer;

  layer = g_ascii_isdigit (name[0]) ? g_ascii_strtoull (name, &end, 10) : 0;
  if (!g_ascii_isdigit (name[0]) || *end != '.')
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: unexpected tensor "
        "'%s': names are <layer>.<kind>.weight or .bias", path, name);
  else if (layer >= n_layers)
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: unexpected tensor "
        "'%s': the architecture has %u layers", path, name, n_layers);
  else if (cnn_network_layer_n_tensors (net, layer) == 0)
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: unexpected tensor "
        "'%s': layer %u (%s) has no parameters", path, name, (guint) layer,
        cnn_network_layer_kind (net, layer));
  else
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: unexpected tensor "
        "'%s': layer %u is %s, whose tensors are '%u.%s.weight' and "
        "'%u.%s.bias'", path, name, (guint) layer,
        cnn_network_layer_kind (net, layer), (guint) layer,
        cnn_network_layer_kind (net, layer), (guint) layer,
        cnn_network_layer_kind (net, layer));
}

static gboolean
check_tensor_shape (const gchar * path, const CnnSafetensorsEntry * e,
    const CnnSafetensorsTensor * want, guint layer, const gchar * kind,
    GError ** error)
{
  gchar *found, *expected;

  if (e->n_dims == want->n_dims
      && memcmp (e->dims, want->dims, want->n_dims * sizeof (guint64)) == 0)
    return TRUE;
  found = cnn_safetensors_shape_to_string (e->dims, e->n_dims);
  expected = cnn_safetensors_shape_to_string (want->dims, want->n_dims);
  g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: tensor '%s' (layer "
      "%u, %s) has shape %s, expected %s", path, e->name, layer, kind, found,
      expected);
  g_free (found);
  g_free (expected);
  return FALSE;
}

/* The file's tensors must be exactly the network's: a stray tensor
 * means the file was made for another architecture. */
static gboolean
match_tensors (const gchar * path, const CnnSafetensors * st,
    CnnNetwork * net, GError ** error)
{
  GHashTable *wanted = g_hash_table_new (g_str_hash, g_str_equal);
  gboolean ok = FALSE;
  TensorList list;

  tensor_list_init (&list, net);
  for (guint i = 0; i < list.n; i++)
    g_hash_table_add (wanted, (gpointer) list.t[i].name);

  for (guint i = 0; i < st->n_entries; i++) {
    if (!g_hash_table_contains (wanted, st->entries[i].name)) {
      set_unexpected_error (path, st->entries[i].name, net, error);
      goto out;
    }
  }
  for (guint i = 0; i < list.n; i++) {
    const CnnSafetensorsEntry *e = cnn_safetensors_find (st, list.t[i].name);
    guint layer = list.layer[i];
    const gchar *kind = cnn_network_layer_kind (net, layer);

    if (!e) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: tensor '%s' for "
          "layer %u (%s) is missing", path, list.t[i].name, layer, kind);
      goto out;
    }
    if (!check_tensor_shape (path, e, &list.t[i], layer, kind, error))
      goto out;
  }
  ok = TRUE;
out:
  g_hash_table_unref (wanted);
  tensor_list_clear (&list);
  return ok;
}

/* After match_tensors(): every tensor is there with the right size.  A
 * checksum only says the data is what the writer wrote: a NaN or an
 * infinity written there would make every result NaN. */
static gboolean
copy_tensors (const gchar * path, const CnnSafetensors * st,
    CnnNetwork * net, GError ** error)
{
  gboolean ok = TRUE;
  TensorList list;

  tensor_list_init (&list, net);
  for (guint i = 0; ok && i < list.n; i++) {
    const CnnSafetensorsEntry *e = cnn_safetensors_find (st, list.t[i].name);
    gfloat *data = (gfloat *) list.t[i].data;
    gssize bad;

    cnn_safetensors_copy_f32 (st, e, data);
    bad = cnn_find_nonfinite (data, (e->end - e->begin) / sizeof (gfloat));
    if (bad >= 0) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: tensor '%s' "
          "value %" G_GSSIZE_FORMAT " (data section byte %" G_GUINT64_FORMAT
          ") is %g, not a finite number", path, e->name, bad,
          e->begin + (guint64) bad * sizeof (gfloat), data[bad]);
      ok = FALSE;
    }
  }
  tensor_list_clear (&list);
  return ok;
}

/* 64 hexadecimal digits, nothing around them: a stated hash with a
 * space or a newline after it would otherwise be reported as differing
 * from one that prints the same. */
static gboolean
is_sha256_text (const gchar * text)
{
  gsize n = 0;

  for (; text[n]; n++)
    if (!g_ascii_isxdigit (text[n]))
      return FALSE;
  return n == 64;
}

static gboolean
check_checksum (const gchar * path, const CnnSafetensors * st,
    GHashTable * metadata, GError ** error)
{
  const gchar *stated = g_hash_table_lookup (metadata, "sha256");
  gchar *actual;
  gboolean ok;

  if (!is_sha256_text (stated)) {
    gchar *shown = g_strescape (stated, NULL);

    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: __metadata__ "
        "'sha256' is \"%s\", not 64 hexadecimal digits", path, shown);
    g_free (shown);
    return FALSE;
  }
  actual = cnn_safetensors_data_sha256 (st);
  ok = g_ascii_strcasecmp (actual, stated) == 0;
  if (!ok)
    g_set_error (error, CNN_ERROR, CNN_ERROR_MODEL, "%s: checksum mismatch: "
        "the data section (%" G_GUINT64_FORMAT " bytes from byte %"
        G_GUINT64_FORMAT ") has sha256 %s but __metadata__ 'sha256' says %s",
        path, st->data_len, st->data_start, actual, stated);
  g_free (actual);
  return ok;
}

static gchar *
file_stem (const gchar * path)
{
  gchar *base = g_path_get_basename (path);
  gchar *dot = strrchr (base, '.');

  if (dot && dot != base)
    *dot = '\0';
  return base;
}

CnnModel *
cnn_model_load (const gchar * path, GError ** error)
{
  return cnn_model_load_full (path, 0, error);
}

CnnModel *
cnn_model_load_full (const gchar * path, guint64 memory_limit,
    GError ** error)
{
  CnnModel *model;
  guint8 *contents;
  gsize length;

  g_return_val_if_fail (path != NULL, NULL);

  contents = read_regular_file (path, &length, error);
  if (!contents)
    return NULL;
  model = cnn_model_from_contents (path, contents, length, memory_limit,
      error);
  g_free (contents);
  return model;
}

CnnModel *
cnn_model_from_contents (const gchar * path, const guint8 * contents,
    gsize length, guint64 memory_limit, GError ** error)
{
  CnnSafetensors *st = NULL;
  CnnNetwork *net = NULL;
  CnnModel *model = NULL;
  gchar **labels = NULL;
  g_autofree gchar *what = NULL;

  st = cnn_safetensors_parse (path, contents, length, error);
  if (!st
      || !check_required_keys (path, st->metadata, error)
      || !check_format (path, st->metadata, error))
    goto out;
  net = network_from_metadata (path, st->metadata, memory_limit, error);
  if (!net)
    goto out;
  what = g_strdup_printf ("%s: __metadata__ 'labels'", path);
  labels = cnn_labels_from_json (g_hash_table_lookup (st->metadata,
          "labels"), (guint) cnn_shape_size (cnn_network_output_shape (net)),
      what, error);
  if (!labels
      || !match_tensors (path, st, net, error)
      || !check_checksum (path, st, st->metadata, error)
      || !copy_tensors (path, st, net, error))
    goto out;

  model = model_for_network (g_steal_pointer (&net), st->metadata);
  take_labels (model, g_steal_pointer (&labels));
  refresh_sha256 (model);
  model->file_stem = file_stem (path);
  /* Last: reading the weights above may have thawed them. */
  cnn_network_freeze (model->net);
out:
  g_strfreev (labels);
  cnn_network_free (net);
  cnn_safetensors_free (st);
  return model;
}

/* ---- saving -------------------------------------------------------- */

gboolean
cnn_model_save (CnnModel * model, const gchar * path, GError ** error)
{
  TensorList list;
  gboolean ok;

  g_return_val_if_fail (model != NULL && path != NULL, FALSE);

  refresh_sha256 (model);
  tensor_list_init (&list, model->net);
  ok = cnn_safetensors_write (path, model->metadata, list.t, list.n, error);
  tensor_list_clear (&list);
  return ok;
}

/* ---- accessors ----------------------------------------------------- */

CnnNetwork *
cnn_model_network (CnnModel * model)
{
  g_return_val_if_fail (model != NULL, NULL);
  return model->net;
}

const gchar *
cnn_model_name (const CnnModel * model)
{
  const gchar *name;

  g_return_val_if_fail (model != NULL, NULL);
  name = g_hash_table_lookup (model->metadata, "name");
  if (name && *name)
    return name;
  return model->file_stem ? model->file_stem : "model";
}

guint
cnn_model_n_labels (const CnnModel * model)
{
  g_return_val_if_fail (model != NULL, 0);
  return model->n_labels;
}

const gchar *
cnn_model_label (const CnnModel * model, guint index)
{
  g_return_val_if_fail (model != NULL, NULL);
  g_return_val_if_fail (index < model->n_labels, NULL);
  return model->labels[index];
}

gboolean
cnn_model_set_labels (CnnModel * model, const gchar * const *labels,
    GError ** error)
{
  guint n;

  g_return_val_if_fail (model != NULL && labels != NULL, FALSE);
  g_return_val_if_fail (model->cache_entry == NULL, FALSE);

  n = g_strv_length ((gchar **) labels);
  if (n != model->n_labels) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID, "%u labels given but "
        "the network has %u outputs", n, model->n_labels);
    return FALSE;
  }
  for (guint i = 0; i < n; i++) {
    if (!g_utf8_validate (labels[i], -1, NULL)) {
      g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID, "label %u is not "
          "valid UTF-8", i);
      return FALSE;
    }
  }
  take_labels (model, g_strdupv ((gchar **) labels));
  return TRUE;
}

/* "sha256" is computed from the current parameters, so it is right
 * after training too; the string stays valid while they are unchanged. */
const gchar *
cnn_model_get_metadata (const CnnModel * model, const gchar * key)
{
  g_return_val_if_fail (model != NULL && key != NULL, NULL);

  if (g_str_equal (key, "sha256"))
    refresh_sha256 ((CnnModel *) model);
  return g_hash_table_lookup (model->metadata, key);
}

/* Programming errors, not input errors, are refused with a critical:
 * a library key (see the top of this file), "preprocess" unset or
 * empty, text that is not UTF-8.  A NULL @value removes a key. */
void
cnn_model_set_metadata (CnnModel * model, const gchar * key,
    const gchar * value)
{
  g_return_if_fail (model != NULL && key != NULL && *key);
  g_return_if_fail (model->cache_entry == NULL);
  g_return_if_fail (!is_library_key (key));
  g_return_if_fail (!g_str_equal (key, "preprocess") || (value && *value));
  g_return_if_fail (g_utf8_validate (key, -1, NULL));
  g_return_if_fail (!value || g_utf8_validate (value, -1, NULL));

  if (value)
    set_meta (model, key, value);
  else
    g_hash_table_remove (model->metadata, key);
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

gchar **
cnn_model_metadata_keys (const CnnModel * model)
{
  guint n;
  gchar **keys;

  g_return_val_if_fail (model != NULL, NULL);

  keys = (gchar **) g_hash_table_get_keys_as_array (model->metadata, &n);
  for (guint i = 0; i < n; i++)
    keys[i] = g_strdup (keys[i]);
  qsort (keys, n, sizeof *keys, compare_strings);
  return keys;
}

/* ---- labels files -------------------------------------------------- */

static guint
line_of (const gchar * text, const gchar * at)
{
  guint line = 1;

  for (const gchar * p = text; p < at; p++)
    line += *p == '\n';
  return line;
}

gchar **
cnn_labels_read (const gchar * path, GError ** error)
{
  GPtrArray *labels;
  const gchar *bad;
  gchar *contents, **lines;
  gsize length;

  g_return_val_if_fail (path != NULL, NULL);

  contents = (gchar *) read_regular_file (path, &length, error);
  if (!contents)
    return NULL;
  if (!g_utf8_validate (contents, length, &bad)) {
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID, "%s:%u: not valid "
        "UTF-8 text (%s at byte %" G_GSIZE_FORMAT ")", path,
        line_of (contents, bad), *bad ? "bad sequence" : "NUL byte",
        (gsize) (bad - contents));
    g_free (contents);
    return NULL;
  }
  labels = g_ptr_array_new ();
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    g_strstrip (lines[i]);
    if (*lines[i])
      g_ptr_array_add (labels, g_strdup (lines[i]));
  }
  g_strfreev (lines);
  g_free (contents);
  if (labels->len == 0) {
    g_ptr_array_unref (labels);
    g_set_error (error, CNN_ERROR, CNN_ERROR_INVALID, "%s: no labels: the "
        "file is empty or blank", path);
    return NULL;
  }
  g_ptr_array_add (labels, NULL);
  return (gchar **) g_ptr_array_free (labels, FALSE);
}
