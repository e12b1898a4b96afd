#!/bin/sh
# The plugin is a guest in its host's process: it exports its two entry
# points (gst_plugin_cnn_get_desc, gst_plugin_cnn_register) and nothing
# else, none of libcnn's or the elements' functions.
set -eu
plugin=$1
got=$(nm -D --defined-only "$plugin" | awk '{ print $NF }' | sort)
want=$(printf 'gst_plugin_cnn_get_desc\ngst_plugin_cnn_register')
if [ "$got" != "$want" ]; then
  echo "FAIL: $plugin exports more than its entry points:" >&2
  echo "$got" | grep -v '^gst_plugin_cnn_' >&2
  exit 1
fi
echo "$plugin exports: $(echo "$got" | tr '\n' ' ')"
