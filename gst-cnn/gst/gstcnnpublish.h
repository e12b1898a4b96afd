/* GStreamer CNN plugin: the cnnpublish element.
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
#ifndef __GST_CNN_PUBLISH_H__
#define __GST_CNN_PUBLISH_H__

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_CNN_PUBLISH (gst_cnn_publish_get_type ())
G_DECLARE_FINAL_TYPE (GstCnnPublish, gst_cnn_publish, GST, CNN_PUBLISH,
    GstBaseTransform);

GST_ELEMENT_REGISTER_DECLARE (cnnpublish);

G_END_DECLS

#endif /* __GST_CNN_PUBLISH_H__ */
