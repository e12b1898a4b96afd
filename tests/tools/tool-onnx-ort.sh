#!/bin/bash
# The bundled model exported by cnn export and run by ONNX Runtime (npm
# onnxruntime-node, as tests/bench uses it) over the whole MNIST test
# set: the same predictions as cnn eval's, to the confusion matrix.
# ONNX Runtime is found in ORT_DIR (.ci/install-deps installs it there).
. "$(dirname "$0")/lib.sh"
need_onnx
need_mnist
: "${CNN_SHIPPED_MODEL:?CNN_SHIPPED_MODEL must name the bundled model}"
: "${ORT_DIR:?ORT_DIR must name the folder onnxruntime-node is installed in}"
if [ ! -f "$ORT_DIR/node_modules/onnxruntime-node/package.json" ] \
    || ! command -v node > /dev/null; then
  [ -z "${CI:-}" ] || fail "no node, or no onnxruntime-node in ORT_DIR=$ORT_DIR (.ci/install-deps installs it)"
  echo "SKIP: no node, or no onnxruntime-node in ORT_DIR=$ORT_DIR (npm install --ignore-scripts onnxruntime-node there)"
  exit 77
fi
T10K=$MNIST/t10k-images-idx3-ubyte.gz
T10K_LABELS=$MNIST/t10k-labels-idx1-ubyte.gz

"$CNN" export "$CNN_SHIPPED_MODEL" -o "$WORK/digits.onnx" || fail "export failed"
NODE_PATH="$ORT_DIR/node_modules" node "$(dirname "$0")/onnx-ort.js" \
  "$WORK/digits.onnx" "$T10K" "$T10K_LABELS" > "$WORK/ort.json" \
  || fail "ONNX Runtime could not run the export"
"$CNN" eval --json "$CNN_SHIPPED_MODEL" "$T10K" "$T10K_LABELS" > "$WORK/cnn.json" \
  || fail "cnn eval failed"
/usr/bin/python3 - "$WORK/ort.json" "$WORK/cnn.json" <<'PY' || fail "ONNX Runtime and cnn eval disagree"
import json, sys
ort, cnn = (json.load(open(p)) for p in sys.argv[1:])
print(f"ONNX Runtime: {ort['correct']}/{ort['total']}, cnn eval: {cnn['correct']}/{cnn['total']}")
assert ort["total"] == cnn["total"] == 10000
assert ort["confusion"] == cnn["confusion"], (ort["confusion"], cnn["confusion"])
PY
echo "ok: ONNX Runtime and cnn eval agree on all 10,000 test digits"
