/* The registry of layer kinds (internal to libcnn): one line per kind,
 * CNN_LAYER_KIND (x) for the cnn_x_ops table that cnn-x.c defines, in
 * the order the architecture text's errors list them.  Adding a kind is
 * its file, its line here and its line in meson.build: the grammar, the
 * traits and the kernels are all in its ops table.  Included by
 * cnn-private.h (the declarations) and cnn-arch.c (the list). */
CNN_LAYER_KIND (conv2d)
CNN_LAYER_KIND (relu)
CNN_LAYER_KIND (maxpool)
CNN_LAYER_KIND (dropout)
CNN_LAYER_KIND (flatten)
CNN_LAYER_KIND (dense)
CNN_LAYER_KIND (softmax)
CNN_LAYER_KIND (avgpool)
