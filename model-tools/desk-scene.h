/* Desk scenes: a 28×28 MNIST digit as a webcam sees it written on a
 * sheet of paper on a desk (issue 11).  desk_scene_draw() draws the
 * conditions of one scene at random from (seed, index) alone;
 * desk_scene_render() draws the frame.  The evaluation (tests/eval/
 * make-desk-frames) and the trainer's `--augment webcam` share it.
 *
 * Each condition has a small enum so that results can be reported per
 * condition; the numbers beside them say exactly what was drawn.
 */
#ifndef TOOL_DESK_SCENE_H
#define TOOL_DESK_SCENE_H

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  DESK_PAPER_PLAIN,
  DESK_PAPER_RULED,             /* lines 24..36 px apart */
  DESK_PAPER_MARGIN,            /* ruled, with a vertical margin line */
  DESK_PAPER_SQUARED,
  DESK_N_PAPERS
} DeskPaper;

typedef enum
{
  DESK_PEN_BALLPOINT,           /* stroke 1.6..3 px */
  DESK_PEN_GEL,                 /* 3..5.5 px */
  DESK_PEN_FELT,                /* 5.5..9 px */
  DESK_PEN_MARKER,              /* 9..14 px */
  DESK_N_PENS
} DeskPen;

typedef enum
{
  DESK_INK_DARK,                /* reflectance 0.06..0.4 */
  DESK_INK_LIGHT,               /* 50..80 grey levels below the paper */
  DESK_N_INKS
} DeskInk;

typedef enum
{
  DESK_LIGHT_EVEN,
  DESK_LIGHT_GRADIENT,          /* 20..45 % across the frame */
  DESK_LIGHT_VIGNETTE,          /* 25..50 % darker in the corners */
  DESK_LIGHT_LOW,               /* paper ≈ 100 grey, noise σ 8..12 */
  DESK_N_LIGHTS
} DeskLight;

typedef enum
{
  DESK_BLUR_NONE,
  DESK_BLUR_DEFOCUS,            /* Gaussian σ 0.8..2.5 px */
  DESK_BLUR_MOTION,             /* a 3..9 px streak, any direction */
  DESK_N_BLURS
} DeskBlur;

typedef enum
{
  DESK_JPEG_NONE,
  DESK_JPEG_MILD,               /* quality 50..80 */
  DESK_JPEG_STRONG,             /* quality 25..49 */
  DESK_N_JPEGS
} DeskJpeg;

typedef enum
{
  DESK_CLUTTER_NONE,
  DESK_CLUTTER_FINGER,          /* a finger or thumb from a frame edge */
  DESK_CLUTTER_TABLE,           /* the paper ends: the table beyond */
  DESK_CLUTTER_SHADOW,          /* a soft shadow edge across the frame */
  DESK_N_CLUTTERS
} DeskClutter;

/* A straight edge in frame pixels: the side where n·p > offset. */
typedef struct
{
  gdouble nx, ny, offset;
} DeskEdge;

/* Where the digit is.  A glyph point (u, v) in MNIST pixels goes to the
 * frame as: centred on (14, 14), scaled by height/20 (× aspect in x),
 * sheared (x += shear·y), turned by angle (clockwise on screen), seen
 * in perspective (÷ 1 + tilt·q, about the digit's centre), moved to
 * (cx, cy).  The paper's rulings share the perspective and the centre
 * and are turned by paper_angle. */
typedef struct
{
  gdouble height;               /* frame px for MNIST's 20 px box */
  gdouble aspect, shear, angle, paper_angle;
  gdouble tilt_x, tilt_y;       /* per px */
  gdouble cx, cy;
} DeskPose;

typedef struct
{
  guint width, height;          /* the frame's */
  gboolean blank;               /* paper and clutter only, no digit */

  DeskPaper paper;
  DeskPen pen;
  DeskInk ink;
  DeskLight light;
  DeskBlur blur;
  DeskJpeg jpeg;
  DeskClutter clutter;

  DeskPose pose;
  /* The frame box (x0, y0, x1, y1) the digit's ink stays in. */
  gdouble box[4];

  /* Paper: rulings in paper px (about frame px near the digit). */
  gdouble line_spacing, line_phase_u, line_phase_v;
  gdouble line_width, line_reflect;
  gdouble margin_u, margin_width, margin_reflect;

  gdouble pen_width;            /* px, in the frame */
  gdouble ink_reflect;          /* ink's reflectance, paper = 1 */

  /* Light: paper_level · (1 + grad·(p − centre)) · (1 − vignette·r²),
   * r = 1 in the corners. */
  gdouble paper_level, grad_x, grad_y, vignette;
  gdouble noise;                /* sensor noise σ, grey levels */

  /* Clutter: the one that `clutter` names is used. */
  DeskEdge table, shadow;
  gdouble table_reflect;
  gdouble shadow_depth, shadow_soft;    /* fraction of light taken, px */
  gdouble finger[4];            /* from (x0, y0) outside to the tip */
  gdouble finger_radius, skin;

  gdouble blur_sigma;           /* defocus */
  gdouble motion_length, motion_angle;  /* px, radians */
  guint jpeg_quality;

  guint64 noise_key;            /* the sensor noise of this frame */
} DeskScene;

/* Draws the conditions of scene (@seed, @index) for a @width × @height
 * frame: the same arguments give the same scene.  Digit and blank
 * scenes of one index are independent draws.  The digit lies in the
 * default region of cnnclassify, the centred square of side
 * min(width, height). */
void desk_scene_draw (DeskScene * s, guint width, guint height, guint64 seed,
    guint64 index, gboolean blank);
/* Frame @frame (1, 2, ...) of a scene held up for a while: the digit
 * moved by a few pixels, turned by a degree or so, and fresh sensor
 * noise; frame 0 is the scene as drawn. */
void desk_scene_jitter (DeskScene * s, guint64 seed, guint64 index,
    guint frame);
/* Appends the conditions as "key=value" words, the categories first
 * (paper= pen= ink= light= blur= jpeg= clutter=) then the numbers. */
void desk_scene_describe (const DeskScene * s, GString * out);

/* The ink box of a 28×28 digit, its nonzero pixels: box = x0, y0, x1,
 * y1, inclusive.  FALSE when the digit has no ink. */
gboolean desk_digit_ink_box (const guint8 * digit28, guint box[4]);
/* The frame box (x0, y0, x1, y1) that @digit28's ink box covers at
 * @s's pose.  FALSE when the digit has no ink. */
gboolean desk_scene_ink_box (const DeskScene * s, const guint8 * digit28,
    gdouble box[4]);

/* Working memory for frames of one size, allocated once. */
typedef struct _DeskWork DeskWork;

DeskWork *desk_work_new (guint width, guint height);
void desk_work_free (DeskWork * work);

/* Draws @s into @frame (GRAY8, @stride bytes a row).  @digit28 is the
 * 28×28 MNIST digit (0 background, 255 ink; ignored for blank scenes).
 * Allocates nothing itself (libjpeg's own memory pools aside).  Fails
 * when the sizes of @s, @work and the frame differ or libjpeg fails. */
gboolean desk_scene_render (const DeskScene * s, const guint8 * digit28,
    guint8 * frame, guint width, guint height, gsize stride,
    DeskWork * work, GError ** error);

/* A digit of a scene that holds several (a number written on the
 * sheet): its 28×28 MNIST picture and where it lies. */
typedef struct
{
  const guint8 *digit28;
  DeskPose pose;
} DeskGlyph;

/* desk_scene_render() with @n_glyphs digits in the scene's pen and ink
 * instead of its one digit; the sheet's rulings still follow the
 * scene's pose. */
gboolean desk_scene_render_glyphs (const DeskScene * s,
    const DeskGlyph * glyphs, guint n_glyphs, guint8 * frame, guint width,
    guint height, gsize stride, DeskWork * work, GError ** error);

G_END_DECLS

#endif /* TOOL_DESK_SCENE_H */
