#!/usr/bin/env bash
# Builds gst-cnn in ./build and runs the whole test suite.
# Data: the MNIST files are read from $CNN_MNIST_DIR (default
# ../shared/data/mnist beside the repository).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d build ] || meson setup build
meson compile -C build
meson test -C build --print-errorlogs --num-processes 2 "$@"
