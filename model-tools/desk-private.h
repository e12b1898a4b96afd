/* What desk-scene.c (the conditions) and desk-render.c (the pixels)
 * share; not for other users. */
#ifndef TOOL_DESK_PRIVATE_H
#define TOOL_DESK_PRIVATE_H

#include "desk-scene.h"

G_BEGIN_DECLS

/* MNIST's digits are centred by mass on (14, 14) and fitted in 20×20. */
#define DESK_MNIST_SIDE 28
#define DESK_MNIST_CENTRE 14.0
#define DESK_MNIST_BOX 20.0

/* Glyph point (u, v), MNIST px → frame point (*x, *y) (DeskPose). */
void desk_pose_map (const DeskPose * pose, gdouble u, gdouble v, gdouble * x,
    gdouble * y);

G_END_DECLS

#endif /* TOOL_DESK_PRIVATE_H */
