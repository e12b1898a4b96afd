#!/bin/sh
# gst-cnn's forward pass side by side with ONNX Runtime's, on the same
# network (the reference digit network, docs/design.md §2) with the same weights
# (the bundled model, exported to ONNX by `cnn export`), in one run:
# batch 1 on 1 thread (median and p99 µs) and batch 64 images/s on 1 and
# 2 threads, each engine's figures next to the other's, and the ratios.
#
#   bench-onnxruntime.sh [--seconds S] [--build DIR] [--model FILE]
#
# Needs, none of them fetched at run time:
#  - ONNX Runtime for Node, whose CPU library ships inside the npm
#    package.  Install it once, in any scratch directory, with the node
#    and npm found on PATH (Debian's nodejs and npm will do):
#        mkdir -p ../ort && cd ../ort &&   (from the source tree)
#        npm install --ignore-scripts onnxruntime-node
#    and name that directory in ORT_DIR (default: ort/ beside the source
#    tree).
#  - a build of gst-cnn (default: build/ beside tests/) with the meson
#    option onnx, for bench-forward and `cnn export`.
# Without onnxruntime-node it stops at once with a message saying so and
# exit status 3 (CI checks just that; it does not run the benchmark).
#
# Pinning, as the machine is shared: the 1-thread figures are measured
# under `taskset -c 1`, the 2-thread ones under `taskset -c 0,1`, for both
# engines alike.  ONNX Runtime's session runs with intraOpNumThreads 1 or
# 2, interOpNumThreads 1, sequential execution, all graph optimisations;
# its times include the Node binding's per-call cost (a few µs).
# Both also report the median CPU time per pass of the 1-thread cases
# (bench-forward: its thread's; ORT: its process's), which other programs
# on the core do not inflate.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
seconds=3
build="$top/build"
model="$top/gst-cnn/models/digits.safetensors"
ort_dir="${ORT_DIR:-$top/../ort}"

while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    *) echo "usage: $0 [--seconds S] [--build DIR] [--model FILE]" >&2; exit 2 ;;
  esac
done

fail () { echo "bench-onnxruntime: $1" >&2; exit "${2:-1}"; }

[ -f "$ort_dir/node_modules/onnxruntime-node/package.json" ] ||
  fail "onnxruntime-node not found in ORT_DIR=$ort_dir: install it there with 'npm install --ignore-scripts onnxruntime-node'" 3
command -v node > /dev/null || fail "node is not on PATH (Debian: apt-get install nodejs)"
bench="$build/tests/bench/bench-forward"
[ -x "$bench" ] || fail "$bench is not built (meson setup build && meson compile -C build)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$build/model-tools/cnn" export "$model" -o "$work/net.onnx"
export NODE_PATH="$ort_dir/node_modules"
js="$here/bench-onnxruntime.js"

echo "measuring for about $seconds s per case..." >&2
taskset -c 1 node "$js" measure "$work/net.onnx" "$seconds" 1 > "$work/ort1.json"
taskset -c 0,1 node "$js" measure "$work/net.onnx" "$seconds" 2 > "$work/ort2.json"
taskset -c 1 "$bench" --json --seconds "$seconds" --model "$model" > "$work/ours1.json"
taskset -c 0,1 "$bench" --json --seconds "$seconds" --model "$model" > "$work/ours2.json"

for f in ort1 ort2 ours1 ours2; do echo "$f: $(cat "$work/$f.json")"; done
echo
node "$js" table "$work/ort1.json" "$work/ort2.json" "$work/ours1.json" \
  "$work/ours2.json"
