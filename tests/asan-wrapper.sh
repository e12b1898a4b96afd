#!/usr/bin/env bash
# meson test --wrapper for tests/sanitize.sh: runs one test so that ASan
# is the first library of every process that loads an ASan-built library
# of ours (the plugin, the meta library) without being built with ASan
# itself: python3 (the Python example, and the app checker whose child
# it is), gst-launch-1.0 and gst-inspect-1.0 (pipeline and eval scripts).
# Nothing else gets it preloaded: the scripts' other tools (mawk, dd)
# trip ASan on their own bugs and allocations, which are not ours.
set -eu
: "${CNN_LIBASAN:?CNN_LIBASAN must name libasan.so}"
shims=${CNN_ASAN_SHIMS:?CNN_ASAN_SHIMS must name a directory for the shims}
mkdir -p "$shims"
for tool in gst-launch-1.0 gst-inspect-1.0; do
  real=$(command -v "$tool")
  [ "$real" != "$shims/$tool" ] || continue
  printf '#!/bin/sh\nLD_PRELOAD=%s exec %s "$@"\n' "$CNN_LIBASAN" "$real" \
    > "$shims/$tool.$$"
  chmod +x "$shims/$tool.$$"
  mv -f "$shims/$tool.$$" "$shims/$tool"
done
export PATH=$shims:$PATH
case $1 in
  */python3*) LD_PRELOAD=$CNN_LIBASAN exec "$@" ;;
  *) exec "$@" ;;
esac
