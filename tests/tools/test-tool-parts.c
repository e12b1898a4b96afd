/* The pieces under the `cnn` tool, called directly: the IDX reader
 * (libcnn) on files written here byte by byte, checkpoints (round trip
 * and damage), PGM/PPM parsing, augmentation and the settings' text
 * forms. */
#include "augment.h"
#include "checkpoint.h"
#include "picture.h"
#include "trainer.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static gchar *tmpdir;

static gchar *
tmp_path (const gchar * name)
{
  return g_build_filename (tmpdir, name, NULL);
}

/* ---- IDX ----------------------------------------------------------- */

static GByteArray *
idx_header (guint8 type, guint n_dims, const guint32 * dims)
{
  GByteArray *b = g_byte_array_new ();
  guint8 magic[4] = { 0, 0, type, (guint8) n_dims };

  g_byte_array_append (b, magic, 4);
  for (guint i = 0; i < n_dims; i++) {
    guint32 be = GUINT32_TO_BE (dims[i]);

    g_byte_array_append (b, (guint8 *) & be, 4);
  }
  return b;
}

static gchar *
write_file (const gchar * name, const guint8 * data, gsize len)
{
  gchar *path = tmp_path (name);

  g_assert_true (g_file_set_contents (path, (const gchar *) data, len, NULL));
  return path;
}

static gchar *
write_gzip (const gchar * name, const guint8 * data, gsize len)
{
  g_autoptr (GZlibCompressor) gz =
      g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, -1);
  g_autoptr (GOutputStream) mem = g_memory_output_stream_new_resizable ();
  g_autoptr (GOutputStream) out =
      g_converter_output_stream_new (mem, G_CONVERTER (gz));
  gsize written;

  g_assert_true (g_output_stream_write_all (out, data, len, &written, NULL,
          NULL));
  g_assert_true (g_output_stream_close (out, NULL, NULL));
  return write_file (name,
      g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (mem)),
      g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (mem)));
}

/* n images of h×w whose pixel (i, y, x) is (i + 3y + 7x) mod 256. */
static GByteArray *
grey_images (guint n, guint h, guint w)
{
  guint32 dims[3] = { n, h, w };
  GByteArray *b = idx_header (0x08, 3, dims);

  for (guint i = 0; i < n; i++)
    for (guint y = 0; y < h; y++)
      for (guint x = 0; x < w; x++) {
        guint8 v = (guint8) (i + 3 * y + 7 * x);
        g_byte_array_append (b, &v, 1);
      }
  return b;
}

static GByteArray *
labels_of (guint n, guint8 first)
{
  guint32 dims[1] = { n };
  GByteArray *b = idx_header (0x08, 1, dims);

  for (guint i = 0; i < n; i++) {
    guint8 v = (guint8) ((first + i) % 10);
    g_byte_array_append (b, &v, 1);
  }
  return b;
}

static void
test_idx_plain_and_gzip (void)
{
  g_autoptr (GByteArray) img = grey_images (5, 4, 3);
  g_autoptr (GByteArray) lab = labels_of (5, 2);
  g_autofree gchar *ip = write_file ("i.idx", img->data, img->len);
  g_autofree gchar *lp = write_file ("l.idx", lab->data, lab->len);
  g_autofree gchar *igz = write_gzip ("i.idx.gz", img->data, img->len);
  g_autofree gchar *lgz = write_gzip ("l.idx.gz", lab->data, lab->len);
  GError *error = NULL;
  CnnDataset *plain = cnn_dataset_load_idx (ip, lp, &error);
  CnnDataset *gz;

  g_assert_no_error (error);
  gz = cnn_dataset_load_idx (igz, lgz, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (plain->n, ==, 5);
  g_assert_cmpuint (plain->shape.c, ==, 1);
  g_assert_cmpuint (plain->shape.h, ==, 4);
  g_assert_cmpuint (plain->shape.w, ==, 3);
  for (guint i = 0; i < 5; i++) {
    g_assert_cmpuint (plain->labels[i], ==, (2 + i) % 10);
    for (guint y = 0; y < 4; y++)
      for (guint x = 0; x < 3; x++)
        g_assert_cmpuint (plain->pixels[i * 12 + y * 3 + x], ==,
            (guint8) (i + 3 * y + 7 * x));
  }
  g_assert_cmpmem (plain->pixels, 60, gz->pixels, 60);
  g_assert_cmpmem (plain->labels, 5 * sizeof (guint), gz->labels,
      5 * sizeof (guint));

  cnn_dataset_free (plain);
  /* Labels are optional. */
  plain = cnn_dataset_load_idx (ip, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (plain->labels);
  cnn_dataset_free (plain);
  cnn_dataset_free (gz);
}

/* N×H×W×C on disk (channels last) must come out N×C×H×W. */
static void
test_idx_rgb_channels_first (void)
{
  guint32 dims[4] = { 2, 2, 3, 3 };
  g_autoptr (GByteArray) img = idx_header (0x08, 4, dims);
  g_autofree gchar *path = NULL;
  GError *error = NULL;
  CnnDataset *ds;

  for (guint i = 0; i < 2; i++)
    for (guint y = 0; y < 2; y++)
      for (guint x = 0; x < 3; x++)
        for (guint c = 0; c < 3; c++) {
          guint8 v = (guint8) (100 * i + 30 * c + 10 * y + x);
          g_byte_array_append (img, &v, 1);
        }
  path = write_file ("rgb.idx", img->data, img->len);
  ds = cnn_dataset_load_idx (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ds->shape.c, ==, 3);
  g_assert_cmpuint (ds->shape.h, ==, 2);
  g_assert_cmpuint (ds->shape.w, ==, 3);
  for (guint i = 0; i < 2; i++)
    for (guint c = 0; c < 3; c++)
      for (guint y = 0; y < 2; y++)
        for (guint x = 0; x < 3; x++)
          g_assert_cmpuint (ds->pixels[i * 18 + c * 6 + y * 3 + x], ==,
              100 * i + 30 * c + 10 * y + x);
  cnn_dataset_free (ds);
}

static void
expect_idx_error (const guint8 * img, gsize img_len, const guint8 * lab,
    gsize lab_len, gint code, const gchar * fragment)
{
  g_autofree gchar *ip = write_file ("bad-i.idx", img, img_len);
  g_autofree gchar *lp = lab ? write_file ("bad-l.idx", lab, lab_len) : NULL;
  GError *error = NULL;
  CnnDataset *ds = cnn_dataset_load_idx (ip, lp, &error);

  g_assert_null (ds);
  g_assert_error (error, CNN_ERROR, code);
  if (!strstr (error->message, fragment))
    g_error ("message '%s' lacks '%s'", error->message, fragment);
  /* Every message names the file at fault. */
  g_assert_nonnull (strstr (error->message, "bad-"));
  g_error_free (error);
}

static void
test_idx_errors (void)
{
  g_autoptr (GByteArray) img = grey_images (4, 2, 2);
  g_autoptr (GByteArray) lab3 = labels_of (3, 0);
  guint8 buf[64];
  guint32 dims2[2] = { 4, 4 };
  g_autoptr (GByteArray) two_dims = idx_header (0x08, 2, dims2);
  guint32 zero_dims[3] = { 4, 0, 2 };
  g_autoptr (GByteArray) zero = idx_header (0x08, 3, zero_dims);
  guint32 huge_dims[3] = { 0xFFFFFFFF, 0xFFFF, 0xFFFF };
  g_autoptr (GByteArray) huge = idx_header (0x08, 3, huge_dims);
  guint32 two_channel_dims[4] = { 1, 2, 2, 2 };
  g_autoptr (GByteArray) two_channels = idx_header (0x08, 4, two_channel_dims);
  g_autofree gchar *missing = tmp_path ("does-not-exist.idx");
  GError *error = NULL;

  /* Short: header says 4 images of 2×2, data has 3 and a bit. */
  expect_idx_error (img->data, img->len - 3, NULL, 0, CNN_ERROR_DATASET,
      "shorter than its header says");
  /* Longer. */
  memcpy (buf, img->data, img->len);
  buf[img->len] = 0;
  expect_idx_error (buf, img->len + 1, NULL, 0, CNN_ERROR_DATASET,
      "longer than its header says");
  /* Wrong magic. */
  memcpy (buf, img->data, img->len);
  buf[0] = 0x12;
  expect_idx_error (buf, img->len, NULL, 0, CNN_ERROR_DATASET,
      "wrong magic number at byte offset 0");
  /* Element type float. */
  buf[0] = 0;
  buf[2] = 0x0D;
  expect_idx_error (buf, img->len, NULL, 0, CNN_ERROR_DATASET,
      "element type 0x0d");
  /* Dimensions. */
  expect_idx_error (two_dims->data, two_dims->len, NULL, 0,
      CNN_ERROR_DATASET, "2 dimension(s) at byte offset 3");
  expect_idx_error (img->data, img->len, img->data, img->len,
      CNN_ERROR_DATASET, "3 dimension(s) at byte offset 3, but labels");
  expect_idx_error (zero->data, zero->len, NULL, 0, CNN_ERROR_DATASET,
      "dimension 1 (byte offset 8) is zero");
  expect_idx_error (huge->data, huge->len, NULL, 0, CNN_ERROR_DATASET,
      "larger than");
  expect_idx_error (two_channels->data, two_channels->len, NULL, 0,
      CNN_ERROR_DATASET, "2 channels");
  /* Header cut inside the sizes. */
  expect_idx_error (img->data, 9, NULL, 0, CNN_ERROR_DATASET,
      "inside the dimension sizes");
  /* Counts disagree. */
  expect_idx_error (img->data, img->len, lab3->data, lab3->len,
      CNN_ERROR_DATASET, "3 labels");
  /* A missing file is an I/O error naming it. */
  g_assert_null (cnn_dataset_load_idx (missing, NULL, &error));
  g_assert_error (error, CNN_ERROR, CNN_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "does-not-exist.idx"));
  g_clear_error (&error);
}

static void
test_idx_gzip_damage (void)
{
  g_autoptr (GByteArray) img = grey_images (50, 8, 8);
  g_autofree gchar *gz = write_gzip ("d.idx.gz", img->data, img->len);
  gchar *bytes;
  gsize len;
  GError *error = NULL;

  g_assert_true (g_file_get_contents (gz, &bytes, &len, NULL));
  /* Truncated stream. */
  g_assert_true (g_file_set_contents (gz, bytes, len / 2, NULL));
  g_assert_null (cnn_dataset_load_idx (gz, NULL, &error));
  g_assert_error (error, CNN_ERROR, CNN_ERROR_DATASET);
  g_clear_error (&error);
  /* Damaged trailer (CRC). */
  bytes[len - 6] ^= 0xFF;
  g_assert_true (g_file_set_contents (gz, bytes, len, NULL));
  g_assert_null (cnn_dataset_load_idx (gz, NULL, &error));
  g_assert_error (error, CNN_ERROR, CNN_ERROR_DATASET);
  g_assert_nonnull (strstr (error->message, "gzip"));
  g_clear_error (&error);
  g_free (bytes);
}

/* ---- checkpoints --------------------------------------------------- */

static void
test_checkpoint_round_trip (void)
{
  g_autofree gchar *path = tmp_path ("c.ckpt");
  g_autoptr (GHashTable) md = g_hash_table_new (g_str_hash, g_str_equal);
  gfloat a[5] = { 1.5f, -2.0f, 1e-30f, 3.25f, 0.0f }, b[2] = { 7, 8 };
  CheckpointTensor t[2] = { {"a", a, 5}, {"b", b, 2} };
  GError *error = NULL;
  Checkpoint *ckpt;
  const gfloat *got;
  gsize n;

  g_hash_table_insert (md, "epoch", "3");
  g_hash_table_insert (md, "note", "héllo \"quoted\"");
  g_assert_true (checkpoint_write (path, md, t, 2, &error));
  g_assert_no_error (error);

  ckpt = checkpoint_read (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (checkpoint_get (ckpt, "epoch"), ==, "3");
  g_assert_cmpstr (checkpoint_get (ckpt, "note"), ==, "héllo \"quoted\"");
  g_assert_null (checkpoint_get (ckpt, "missing"));
  got = checkpoint_tensor (ckpt, "a", &n);
  g_assert_cmpuint (n, ==, 5);
  g_assert_cmpmem (got, sizeof a, a, sizeof a);
  got = checkpoint_tensor (ckpt, "b", &n);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpmem (got, sizeof b, b, sizeof b);
  g_assert_null (checkpoint_tensor (ckpt, "c", &n));
  checkpoint_free (ckpt);
}

static void
expect_ckpt_error (const gchar * path, const gchar * fragment)
{
  GError *error = NULL;

  g_assert_null (checkpoint_read (path, &error));
  g_assert_error (error, CNN_ERROR, CNN_ERROR_MODEL);
  if (!strstr (error->message, fragment))
    g_error ("message '%s' lacks '%s'", error->message, fragment);
  g_error_free (error);
}

/* Writes a checkpoint with a hand-made header over @data. */
static gchar *
handmade (const gchar * tensors_json, const guint8 * data, gsize len)
{
  g_autofree gchar *sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256,
      data, len);
  g_autofree gchar *header = g_strdup_printf ("{\"__metadata__\": "
      "{\"format\": \"gst-cnn-checkpoint\", \"format-version\": \"1\", "
      "\"sha256\": \"%s\"}%s}", sha, tensors_json);
  g_autoptr (GByteArray) file = g_byte_array_new ();
  guint64 hl = GUINT64_TO_LE (strlen (header));

  g_byte_array_append (file, (guint8 *) & hl, 8);
  g_byte_array_append (file, (guint8 *) header, strlen (header));
  g_byte_array_append (file, data, len);
  return write_file ("h.ckpt", file->data, file->len);
}

static void
test_checkpoint_damage (void)
{
  g_autofree gchar *path = tmp_path ("d.ckpt");
  g_autoptr (GHashTable) md = g_hash_table_new (g_str_hash, g_str_equal);
  gfloat a[4] = { 1, 2, 3, 4 };
  CheckpointTensor t[1] = { {"a", a, 4} };
  guint8 data[8] = { 0 };
  gchar *bytes;
  gsize len;

  g_assert_true (checkpoint_write (path, md, t, 1, NULL));
  g_assert_true (g_file_get_contents (path, &bytes, &len, NULL));

  bytes[len - 1] ^= 1;
  g_assert_true (g_file_set_contents (path, bytes, len, NULL));
  expect_ckpt_error (path, "damaged");
  bytes[len - 1] ^= 1;

  g_assert_true (g_file_set_contents (path, bytes, len - 4, NULL));
  expect_ckpt_error (path, "damaged");
  g_assert_true (g_file_set_contents (path, bytes, 5, NULL));
  expect_ckpt_error (path, "too short");
  bytes[0] = (gchar) 0xFF;
  g_assert_true (g_file_set_contents (path, bytes, len, NULL));
  expect_ckpt_error (path, "header length");
  bytes[0] = 8;
  g_assert_true (g_file_set_contents (path, bytes, len, NULL));
  expect_ckpt_error (path, "not valid JSON");
  g_assert_true (g_file_set_contents (path, "garbage-garbage-garbage", -1,
          NULL));
  expect_ckpt_error (path, "header length");
  g_free (bytes);

  /* Tensors must tile the data exactly and be what they say. */
  g_free (path);
  path = handmade (", \"a\": {\"dtype\": \"F32\", \"shape\": [2], "
      "\"data_offsets\": [0, 8]}, \"b\": {\"dtype\": \"F32\", \"shape\": [1], "
      "\"data_offsets\": [4, 8]}", data, 8);
  expect_ckpt_error (path, "overlap or gap");
  g_free (path);
  path = handmade (", \"a\": {\"dtype\": \"F32\", \"shape\": [1], "
      "\"data_offsets\": [0, 4]}", data, 8);
  expect_ckpt_error (path, "after the last tensor");
  g_free (path);
  path = handmade (", \"a\": {\"dtype\": \"F64\", \"shape\": [1], "
      "\"data_offsets\": [0, 8]}", data, 8);
  expect_ckpt_error (path, "is not {\"dtype\": \"F32\"");
  g_free (path);
  path = handmade (", \"a\": {\"dtype\": \"F32\", \"shape\": [3], "
      "\"data_offsets\": [0, 8]}", data, 8);
  expect_ckpt_error (path, "do not hold 3 floats");
  g_free (path);
  path = handmade (", \"a\": {\"dtype\": \"F32\", \"shape\": [2], "
      "\"data_offsets\": [4, 12]}", data, 8);
  expect_ckpt_error (path, "do not hold");
}

/* ---- PGM / PPM ----------------------------------------------------- */

static void
test_pnm (void)
{
  const gchar pgm[] = "P5\n# a comment\n3 2 # another\n255\n\x01\x02\x03"
      "\x04\x05\xff";
  const guint8 ppm16[] = "P6 1 1 65535\n\xff\xff\x00\x00\x80\x00";
  Picture pic;
  GError *error = NULL;

  g_assert_true (picture_parse_pnm ("a.pgm", (const guint8 *) pgm,
          sizeof pgm - 1, &pic, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (pic.width, ==, 3);
  g_assert_cmpuint (pic.height, ==, 2);
  g_assert_cmpuint (pic.channels, ==, 1);
  g_assert_cmpmem (pic.data, 6, "\x01\x02\x03\x04\x05\xff", 6);
  picture_clear (&pic);

  g_assert_true (picture_parse_pnm ("b.ppm", ppm16, sizeof ppm16 - 1, &pic,
          &error));
  g_assert_no_error (error);
  g_assert_cmpuint (pic.channels, ==, 3);
  g_assert_cmpuint (pic.data[0], ==, 255);
  g_assert_cmpuint (pic.data[1], ==, 0);
  g_assert_cmpuint (pic.data[2], ==, 128);     /* 32768·255/65535 */
  picture_clear (&pic);
}

static void
expect_pnm_error (const gchar * bytes, const gchar * fragment)
{
  Picture pic;
  GError *error = NULL;

  g_assert_false (picture_parse_pnm ("x.pgm", (const guint8 *) bytes,
          strlen (bytes), &pic, &error));
  g_assert_nonnull (error);
  if (!strstr (error->message, fragment))
    g_error ("message '%s' lacks '%s'", error->message, fragment);
  g_assert_nonnull (strstr (error->message, "x.pgm"));
  g_error_free (error);
}

static void
test_pnm_errors (void)
{
  expect_pnm_error ("P2 1 1 255 0", "not a binary PGM");
  expect_pnm_error ("P5 2 2 255\n\x01\x02\x03", "pixel data ends at byte "
      "offset 14, but 2x2x1 samples need 4 bytes from byte offset 11");
  expect_pnm_error ("P5 2 2 255", "white space character after maxval");
  expect_pnm_error ("P5 2 x 255\n", "height at byte offset 5");
  expect_pnm_error ("P52 2 255\n", "width at byte offset 2");
  expect_pnm_error ("P5 0 2 255\n", "size 0x2");
  expect_pnm_error ("P5 99999 2 255\n", "width at byte offset 3 is larger");
  expect_pnm_error ("P5 1 1 0\n", "maxval is 0");
  expect_pnm_error ("P5 1 1 300\n\x01\x3f", "sample 319 at byte offset 11 "
      "exceeds maxval 300");
}

/* ---- augmentation -------------------------------------------------- */

static void
test_augment_settings (void)
{
  AugmentSettings s;
  GError *error = NULL;
  g_autofree gchar *text = NULL;

  g_assert_true (augment_settings_parse ("none", &s, &error));
  g_assert_false (augment_settings_enabled (&s));
  g_assert_true (augment_settings_parse ("rotate=10, shift=2,noise=0.1",
          &s, &error));
  g_assert_no_error (error);
  text = augment_settings_to_string (&s);
  g_assert_cmpstr (text, ==, "shift=2,rotate=10,noise=0.1");
  g_assert_false (augment_settings_parse ("shift=-1", &s, &error));
  g_assert_nonnull (strstr (error->message, "--augment shift"));
  g_clear_error (&error);
  g_assert_false (augment_settings_parse ("twist=3", &s, &error));
  g_assert_nonnull (strstr (error->message, "'twist=3'"));
  g_clear_error (&error);

  /* webcam alone: 4 scenes a digit, half the samples, one in twenty a
   * negative; no warp. */
  g_assert_true (augment_settings_parse ("webcam", &s, &error));
  g_assert_cmpfloat (s.webcam, ==, 4.0);
  g_assert_cmpfloat (s.webcam_p, ==, 0.5);
  g_assert_cmpfloat (s.webcam_neg, ==, 0.05);
  g_assert_true (augment_settings_enabled (&s));
  g_assert_false (augment_settings_warps (&s));
  g_free (text);
  text = augment_settings_to_string (&s);
  g_assert_cmpstr (text, ==, "webcam=4,webcam-p=0.5,webcam-neg=0.05");
  g_assert_true (augment_settings_parse ("webcam-p=0.25,shift=1,webcam=2,"
          "webcam-neg=0.1", &s, &error));
  g_free (text);
  text = augment_settings_to_string (&s);
  g_assert_cmpstr (text, ==, "shift=1,webcam=2,webcam-p=0.25,webcam-neg=0.1");
  g_assert_false (augment_settings_parse ("webcam-neg=0.9", &s, &error));
  g_clear_error (&error);
  g_assert_false (augment_settings_parse ("webcam=2.5", &s, &error));
  g_assert_nonnull (strstr (error->message, "whole number"));
  g_clear_error (&error);
}

/* Centre of mass and total of a H×W plane. */
static void
moments (const gfloat * p, guint h, guint w, gdouble * mass, gdouble * cx,
    gdouble * cy)
{
  *mass = *cx = *cy = 0;
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++) {
      *mass += p[y * w + x];
      *cx += x * p[y * w + x];
      *cy += y * p[y * w + x];
    }
  *cx /= *mass;
  *cy /= *mass;
}

static void
test_augment_warp (void)
{
  CnnShape shape = { 1, 20, 20 };
  gfloat in[400] = { 0 }, out[400], again[400];
  AugmentSettings s;
  Augmenter *aug;
  gdouble m0, x0, y0, m, x, y, biggest = 0;

  /* A 2×2 blob near the centre. */
  in[9 * 20 + 9] = in[9 * 20 + 10] = in[10 * 20 + 9] = in[10 * 20 + 10] = 1;
  moments (in, 20, 20, &m0, &x0, &y0);

  /* A pure shift keeps the mass and moves the centre by at most 2 px on
   * each axis: bilinear interpolation of a translation is exact in its
   * first moments. */
  g_assert_true (augment_settings_parse ("shift=2", &s, NULL));
  aug = augmenter_new (&s, shape);
  for (guint64 key = 1; key <= 50; key++) {
    augmenter_apply (aug, key, in, out);
    moments (out, 20, 20, &m, &x, &y);
    g_assert_cmpfloat (fabs (m - m0), <, 1e-4);
    g_assert_cmpfloat (fabs (x - x0), <=, 2.0 + 1e-4);
    g_assert_cmpfloat (fabs (y - y0), <=, 2.0 + 1e-4);
    biggest = MAX (biggest, fabs (x - x0));
    /* Same key, same warp. */
    augmenter_apply (aug, key, in, again);
    g_assert_cmpmem (out, sizeof out, again, sizeof again);
  }
  g_assert_cmpfloat (biggest, >, 1.0);  /* it does move things */
  augmenter_free (aug);

  /* Rotation about the centre leaves a centred blob's centre in place. */
  g_assert_true (augment_settings_parse ("rotate=30", &s, NULL));
  aug = augmenter_new (&s, shape);
  memset (in, 0, sizeof in);
  in[9 * 20 + 9] = in[9 * 20 + 10] = in[10 * 20 + 9] = in[10 * 20 + 10] = 1;
  for (guint64 key = 1; key <= 20; key++) {
    augmenter_apply (aug, key, in, out);
    moments (out, 20, 20, &m, &x, &y);
    g_assert_cmpfloat (fabs (x - 9.5), <, 1e-3);
    g_assert_cmpfloat (fabs (y - 9.5), <, 1e-3);
  }
  augmenter_free (aug);

  /* Noise stays within 0..1 and changes the picture. */
  g_assert_true (augment_settings_parse ("noise=0.5,elastic=10,sigma=3", &s,
          NULL));
  aug = augmenter_new (&s, shape);
  augmenter_apply (aug, 7, in, out);
  for (guint i = 0; i < 400; i++)
    g_assert_true (out[i] >= 0.0f && out[i] <= 1.0f);
  g_assert_true (memcmp (in, out, sizeof in) != 0);
  augmenter_free (aug);
}

/* ---- settings text ------------------------------------------------- */

static void
test_settings_round_trip (void)
{
  TrainSettings s, t;
  GError *error = NULL;
  const gchar *given[][2] = {
    {"architecture", "conv 8 3, relu, flatten, dense 10, softmax"},
    {"input", "1x28x28"}, {"epochs", "7"}, {"batch", "33"},
    {"optimizer", "sgd"}, {"learning-rate", "0.1"}, {"momentum", "0.5"},
    {"weight-decay", "0.0001"}, {"lr-schedule", "step,gamma=0.3"},
    {"seed", "18446744073709551615"}, {"threads", "2"},
    {"validation", "0.2"}, {"limit", "500"},
    {"augment", "elastic=30,shift=1.5"}, {"preprocess", "resize mean=0.5"},
    {"labels", "[\"a\",\"b\"]"},
  };

  train_settings_init (&s);
  for (guint i = 0; i < G_N_ELEMENTS (given); i++) {
    g_assert_true (train_settings_set (&s, given[i][0], given[i][1],
            &error));
    g_assert_no_error (error);
  }
  /* The table is full: TRAIN_N_SETTINGS entries, each with a key. */
  for (guint i = 0; i < TRAIN_N_SETTINGS; i++)
    g_assert_nonnull (train_setting_table[i].key);
  /* Every key's text reads back to the same text. */
  train_settings_init (&t);
  for (guint i = 0; i < TRAIN_N_SETTINGS; i++) {
    const gchar *key = train_setting_table[i].key;
    g_autofree gchar *v = train_settings_get (&s, key);

    g_assert_true (train_settings_set (&t, key, v, &error));
    g_assert_no_error (error);
  }
  for (guint i = 0; i < TRAIN_N_SETTINGS; i++) {
    g_autofree gchar *a = train_settings_get (&s, train_setting_table[i].key);
    g_autofree gchar *b = train_settings_get (&t, train_setting_table[i].key);

    g_assert_cmpstr (a, ==, b);
  }
  g_assert_cmpfloat (t.optimizer.learning_rate, ==, 0.1);
  g_assert_cmpuint (t.seed, ==, G_MAXUINT64);
  {
    g_autofree gchar *sched = train_settings_get (&t, "lr-schedule");
    g_autofree gchar *aug = train_settings_get (&t, "augment");

    g_assert_cmpstr (sched, ==, "step,every=5,gamma=0.3");
    g_assert_cmpstr (aug, ==, "shift=1.5,elastic=30,sigma=4");
  }
  /* step: × gamma every `every` epochs. */
  g_assert_cmpfloat (fabs (train_settings_rate (&t, 4) - 0.1), <, 1e-12);
  g_assert_cmpfloat (fabs (train_settings_rate (&t, 5) - 0.03), <, 1e-12);

  g_assert_false (train_settings_set (&t, "batch", "0", &error));
  g_assert_nonnull (strstr (error->message, "--batch '0'"));
  g_clear_error (&error);
  g_assert_false (train_settings_set (&t, "optimizer", "rmsprop", &error));
  g_clear_error (&error);
  g_assert_false (train_settings_set (&t, "learning-rate", "1e", &error));
  g_clear_error (&error);
  g_assert_false (train_settings_set (&t, "labels", "[1, 2]", &error));
  g_clear_error (&error);
  train_settings_clear (&s);
  train_settings_clear (&t);
}

static void
test_numbers (void)
{
  gchar *t;
  guint64 u;

  t = tool_thousands (1199882);
  g_assert_cmpstr (t, ==, "1,199,882");
  g_free (t);
  t = tool_thousands (999);
  g_assert_cmpstr (t, ==, "999");
  g_free (t);
  t = tool_thousands (1000);
  g_assert_cmpstr (t, ==, "1,000");
  g_free (t);
  for (gdouble v = 1e-9; v < 1e9; v *= 3.7) {
    t = tool_format_double (v);
    g_assert_cmpfloat (g_ascii_strtod (t, NULL), ==, v);
    g_free (t);
  }
  g_assert_false (tool_parse_uint ("--x", "12a", 0, 100, &u, NULL));
  g_assert_false (tool_parse_uint ("--x", "-1", 0, 100, &u, NULL));
  g_assert_false (tool_parse_uint ("--x", "101", 0, 100, &u, NULL));
  g_assert_false (tool_parse_uint ("--x", "", 0, 100, &u, NULL));
  g_assert_true (tool_parse_uint ("--x", "100", 0, 100, &u, NULL));
  g_assert_cmpuint (u, ==, 100);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("cnn-tool-test-XXXXXX", NULL);
  g_assert_nonnull (tmpdir);

  g_test_add_func ("/idx/plain-and-gzip", test_idx_plain_and_gzip);
  g_test_add_func ("/idx/rgb-channels-first", test_idx_rgb_channels_first);
  g_test_add_func ("/idx/errors", test_idx_errors);
  g_test_add_func ("/idx/gzip-damage", test_idx_gzip_damage);
  g_test_add_func ("/checkpoint/round-trip", test_checkpoint_round_trip);
  g_test_add_func ("/checkpoint/damage", test_checkpoint_damage);
  g_test_add_func ("/picture/pnm", test_pnm);
  g_test_add_func ("/picture/pnm-errors", test_pnm_errors);
  g_test_add_func ("/augment/settings", test_augment_settings);
  g_test_add_func ("/augment/warp", test_augment_warp);
  g_test_add_func ("/settings/round-trip", test_settings_round_trip);
  g_test_add_func ("/tool/numbers", test_numbers);
  status = g_test_run ();

  {
    g_autoptr (GDir) dir = g_dir_open (tmpdir, 0, NULL);
    const gchar *name;

    while (dir && (name = g_dir_read_name (dir))) {
      g_autofree gchar *p = g_build_filename (tmpdir, name, NULL);
      g_unlink (p);
    }
    g_rmdir (tmpdir);
  }
  return status;
}
