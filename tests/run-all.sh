#!/usr/bin/env bash
# Builds gst-cnn in ./build and runs the whole test suite, then prints
# one closing line "N passed, N failed" counted from meson's test log.
# Data: MNIST is read from $CNN_MNIST_DIR (default ../shared/data/mnist
# beside the repository).
set -uo pipefail
cd "$(dirname "$0")/.."
# Warnings are errors here (CI), not in default_options: packagers
# build with their own flags and buildtypes.
[ -d build ] || meson setup build -Dwerror=true || exit 1
meson compile -C build || exit 1
meson test -C build --print-errorlogs --num-processes 2 "$@"
status=$?
log=build/meson-logs/testlog.json
passed=$(grep -c '"result": "OK"' "$log" || true)
failed=$(grep -c -E '"result": "(FAIL|ERROR|TIMEOUT|UNEXPECTEDPASS)"' "$log" || true)
echo "tests: ${passed} passed, ${failed} failed"
exit $status
