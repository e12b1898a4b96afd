#!/usr/bin/env bash
# Builds the whole test suite with AddressSanitizer and UndefinedBehavior-
# Sanitizer (gcc) in ./build-asan and runs it there.  Any sanitizer
# report fails the test that triggered it.
set -euo pipefail
cd "$(dirname "$0")/.."

# -Dvector_clones=false: the plain build's suite runs the AVX2 build of
# the preprocessing on this CPU, this one runs the x86-64 baseline build.
[ -d build-asan ] \
  || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
    -Dvector_clones=false -Dwerror=true
meson compile -C build-asan

# halt_on_error: the first report ends the process with a failure status,
# so that no report can scroll by in a passing test.
# detect_leaks=0: GLib and GStreamer keep one-time allocations (types,
# the registry, caps caches) to the end, and the Python examples leak
# by design; leaks are checked instead by valgrind (tests/valgrind.sh),
# whose suppressions know GLib's.
export ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:detect_leaks=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# Registries scanned in the test's own process: gst-plugin-scanner is not
# built with ASan and could not load the plugin.
export GST_REGISTRY_FORK=no
# No test is left out: tests/asan-wrapper.sh preloads ASan into the
# programs that load our ASan-built libraries without being ASan-built.
CNN_LIBASAN=$(gcc -print-file-name=libasan.so)
[ -f "$CNN_LIBASAN" ] || { echo "sanitize.sh: no libasan.so from gcc" >&2; exit 1; }
export CNN_LIBASAN CNN_ASAN_SHIMS=$PWD/build-asan/asan-shims

meson test -C build-asan --print-errorlogs --num-processes 1 \
  --wrapper "$PWD/tests/asan-wrapper.sh" --timeout-multiplier 4 "$@"
