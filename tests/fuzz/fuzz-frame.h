/* Shared by the libFuzzer targets that feed libcnn frames (fuzz-preprocess,
 * fuzz-number): the frame layouts the element hands libcnn, and frames
 * of any of them whose every memory plane is its own allocation of
 * exactly the bytes a real frame of that layout holds (the last row
 * without padding), so that any read outside the frame is an ASan
 * report.  Each target fills the planes as it likes. */
#ifndef FUZZ_FRAME_H
#define FUZZ_FRAME_H

#include "cnn.h"

#include <stdint.h>
#include <string.h>

/* A block of memory holding one or more channels: its samples are
 * 2^shift frame pixels apart, each sample @bytes wide. */
typedef struct
{
  guint x_shift, y_shift, bytes;
} FuzzMemPlane;

/* Where a channel's samples lie inside its memory plane. */
typedef struct
{
  guint mem, offset, pixel_stride, x_shift, y_shift;
} FuzzChannel;

typedef struct
{
  const gchar *name;
  CnnColorModel color;
  guint n_mem;
  FuzzMemPlane mem[3];
  guint n_channels;
  FuzzChannel ch[3];
} FuzzLayout;

static const FuzzLayout fuzz_layouts[] = {
  {"GREY", CNN_COLOR_GREY, 1, {{0, 0, 1}}, 1, {{0, 0, 1, 0, 0}}},
  {"GRAY16_LE", CNN_COLOR_GREY, 1, {{0, 0, 2}}, 1, {{0, 1, 2, 0, 0}}},
  {"RGB", CNN_COLOR_RGB, 1, {{0, 0, 3}}, 3,
      {{0, 0, 3, 0, 0}, {0, 1, 3, 0, 0}, {0, 2, 3, 0, 0}}},
  {"BGRx", CNN_COLOR_RGB, 1, {{0, 0, 4}}, 3,
      {{0, 2, 4, 0, 0}, {0, 1, 4, 0, 0}, {0, 0, 4, 0, 0}}},
  {"GBR", CNN_COLOR_RGB, 3, {{0, 0, 1}, {0, 0, 1}, {0, 0, 1}}, 3,
      {{2, 0, 1, 0, 0}, {0, 0, 1, 0, 0}, {1, 0, 1, 0, 0}}},
  {"Y444", CNN_COLOR_YUV, 3, {{0, 0, 1}, {0, 0, 1}, {0, 0, 1}}, 3,
      {{0, 0, 1, 0, 0}, {1, 0, 1, 0, 0}, {2, 0, 1, 0, 0}}},
  {"I420", CNN_COLOR_YUV, 3, {{0, 0, 1}, {1, 1, 1}, {1, 1, 1}}, 3,
      {{0, 0, 1, 0, 0}, {1, 0, 1, 1, 1}, {2, 0, 1, 1, 1}}},
  {"YUV9", CNN_COLOR_YUV, 3, {{0, 0, 1}, {2, 2, 1}, {2, 2, 1}}, 3,
      {{0, 0, 1, 0, 0}, {1, 0, 1, 2, 2}, {2, 0, 1, 2, 2}}},
  {"NV12", CNN_COLOR_YUV, 2, {{0, 0, 1}, {1, 1, 2}}, 3,
      {{0, 0, 1, 0, 0}, {1, 0, 2, 1, 1}, {1, 1, 2, 1, 1}}},
  {"YUY2", CNN_COLOR_YUV, 1, {{1, 0, 4}}, 3,
      {{0, 0, 2, 0, 0}, {0, 1, 4, 1, 0}, {0, 3, 4, 1, 0}}},
};

/* A frame's memory planes (mem[m]: rows[m] rows of row_bytes[m] bytes,
 * samples of sample_bytes[m] bytes, the rows strides[m] apart in
 * memory, top row first) and the image libcnn sees of them. */
typedef struct
{
  guint n_mem;
  guint8 *mem[3];
  gsize bytes[3];
  guint rows[3], row_bytes[3], sample_bytes[3];
  gsize strides[3];
  CnnImage image;
} FuzzFrame;

/* How a frame is laid out in memory: the low bits of a target's flags
 * byte. */
#define FUZZ_FRAME_PADDING(flags) ((flags) & 0xf)      /* bytes a row */
#define FUZZ_FRAME_BOTTOM_UP(flags) (((flags) >> 4) & 1)       /* rows */
#define FUZZ_FRAME_LIMITED(flags) (((flags) >> 5) & 1) /* YUV range */
#define FUZZ_FRAME_BT709(flags) (((flags) >> 6) & 1)

/* A little-endian 16-bit field of a target's header. */
static inline guint
fuzz_read_u16 (const uint8_t * p)
{
  return p[0] | (guint) p[1] << 8;
}

/* ceil (n / 2^shift), the samples a subsampled plane has */
static inline guint
fuzz_subsampled (guint n, guint shift)
{
  return (n + (1u << shift) - 1) >> shift;
}

/* A @width × @height frame of @layout, laid out as @flags says
 * (FUZZ_FRAME_*), its planes allocated but not filled. */
static inline void
fuzz_frame_init (FuzzFrame * f, const FuzzLayout * layout, guint width,
    guint height, guint flags)
{
  const guint padding = FUZZ_FRAME_PADDING (flags);

  memset (f, 0, sizeof *f);
  f->n_mem = layout->n_mem;
  for (guint m = 0; m < layout->n_mem; m++) {
    const FuzzMemPlane *mp = &layout->mem[m];

    f->sample_bytes[m] = mp->bytes;
    f->row_bytes[m] = fuzz_subsampled (width, mp->x_shift) * mp->bytes;
    f->rows[m] = fuzz_subsampled (height, mp->y_shift);
    f->strides[m] = f->row_bytes[m] + padding;
    f->bytes[m] = f->strides[m] * (f->rows[m] - 1) + f->row_bytes[m];
    f->mem[m] = g_malloc (f->bytes[m]);
  }

  f->image.width = width;
  f->image.height = height;
  f->image.color = layout->color;
  f->image.limited_range = FUZZ_FRAME_LIMITED (flags);
  if (FUZZ_FRAME_BT709 (flags)) {
    f->image.kr = 0.2126f;
    f->image.kb = 0.0722f;
  } else {
    f->image.kr = CNN_BT601_KR;
    f->image.kb = CNN_BT601_KB;
  }
  for (guint k = 0; k < layout->n_channels; k++) {
    const FuzzChannel *ch = &layout->ch[k];
    CnnPlane *p = &f->image.planes[k];
    const guint8 *first_row = f->mem[ch->mem];
    gint stride = (gint) f->strides[ch->mem];

    if (FUZZ_FRAME_BOTTOM_UP (flags)) {
      first_row += f->strides[ch->mem] * (f->rows[ch->mem] - 1);
      stride = -stride;
    }
    p->data = first_row + ch->offset;
    p->row_stride = stride;
    p->pixel_stride = ch->pixel_stride;
    p->x_shift = ch->x_shift;
    p->y_shift = ch->y_shift;
  }
}

static inline void
fuzz_frame_clear (FuzzFrame * f)
{
  for (guint m = 0; m < f->n_mem; m++)
    g_free (f->mem[m]);
}

/* Fills @dest with @pixels repeated (zeros when there are none). */
static inline void
fuzz_fill_tiled (guint8 * dest, gsize size, const uint8_t * pixels,
    size_t n_pixels)
{
  gsize filled;

  if (n_pixels == 0) {
    memset (dest, 0, size);
    return;
  }
  filled = MIN (n_pixels, size);
  memcpy (dest, pixels, filled);
  /* double the filled part until the plane is full */
  while (filled < size) {
    gsize n = MIN (filled, size - filled);

    memcpy (dest + filled, dest, n);
    filled += n;
  }
}

#endif /* FUZZ_FRAME_H */
