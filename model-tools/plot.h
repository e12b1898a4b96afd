/* Training curves as a PNG (cairo). */
#ifndef TOOL_PLOT_H
#define TOOL_PLOT_H

#include "trainer.h"

G_BEGIN_DECLS

/* Loss (train, validation) and accuracy (train, validation, test) per
 * epoch, side by side; written atomically. */
gboolean plot_training (const gchar * path, const EpochRecord * records,
    guint n, GError ** error);

G_END_DECLS

#endif /* TOOL_PLOT_H */
