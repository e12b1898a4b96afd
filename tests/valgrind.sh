#!/usr/bin/env bash
# Runs the gst-check tests (suite 'gst': cnnclassify, cnnoverlay and the
# stress tests at 1/100 of their size) under valgrind's memcheck in
# ./build.  Fails on any memory error and on any "definitely lost" block;
# "possibly lost" and "still reachable" are GLib's and GStreamer's
# one-time allocations (types, the registry, caps caches), not leaks.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d build ] || meson setup build -Dwerror=true
meson compile -C build

glib_supp=/usr/share/glib-2.0/valgrind/glib.supp
[ -f "$glib_supp" ] || { echo "valgrind.sh: no $glib_supp (libglib2.0-dev)" >&2; exit 1; }
# Debian's GStreamer ships no suppressions file; ours holds the few
# definite "leaks" of the libraries under us that GLib's file does not.
other_supp=tests/valgrind/third-party.supp

# GSlice off and memory cleared on free, so that valgrind sees every
# block; no forking per test, so that one valgrind sees the whole run.
export G_SLICE=always-malloc G_DEBUG=gc-friendly CK_FORK=no
# The stress tests in a reduced size: the same paths, 1/100 of the counts.
export CNN_STRESS_SCALE=100

# --fair-sched=yes: valgrind runs one thread at a time, and its default
# hand-over lets a thread that keeps making system calls take the turn
# back from one that waits for it; the ticket lock hands turns round.
# The tests take well under a minute each under valgrind: 3 × their
# 300 s limit stops a hang long before CI's 30 minutes.
meson test -C build --print-errorlogs --num-processes 1 --suite gst \
  --timeout-multiplier 3 \
  --wrapper "valgrind --tool=memcheck --fair-sched=yes --leak-check=full \
--errors-for-leak-kinds=definite --show-leak-kinds=definite \
--error-exitcode=1 --num-callers=30 \
--suppressions=$glib_supp --suppressions=$PWD/$other_supp" "$@"
