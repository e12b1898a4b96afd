#!/bin/bash
# examples/pytorch-interop.py, PyTorch without ONNX (issue 14): a model
# file loaded into an nn.Sequential and written back loads in cnn with
# the same weights bit for bit; fine-tuned in PyTorch for 30 steps, it
# loads in cnn and gives PyTorch's probabilities within 1e-5 (float
# kernels) on 200 MNIST test digits.
. "$(dirname "$0")/lib.sh"
need_mnist
: "${CNN_SHIPPED_MODEL:?CNN_SHIPPED_MODEL must name the bundled model}"
: "${PRINT_PROBABILITIES:?PRINT_PROBABILITIES must name print-probabilities}"
if ! /usr/bin/python3 -c 'import torch' 2> /dev/null; then
  [ -z "${CI:-}" ] || fail "/usr/bin/python3 cannot import torch"
  echo "SKIP: /usr/bin/python3 cannot import torch (python3-torch)"
  exit 77
fi
HERE=$(cd "$(dirname "$0")" && pwd)
EXAMPLE=$HERE/../../examples/pytorch-interop.py
T10K=$MNIST/t10k-images-idx3-ubyte.gz
cd "$WORK"

/usr/bin/python3 "$EXAMPLE" "$CNN_SHIPPED_MODEL" same.safetensors > /dev/null \
  || fail "the example could not write the model back"
"$CNN" summary same.safetensors > /dev/null || fail "cnn cannot load what it wrote"
cmp -s <(tensor_data "$CNN_SHIPPED_MODEL") <(tensor_data same.safetensors) \
  || fail "load → save changed the weights"

/usr/bin/python3 "$EXAMPLE" "$CNN_SHIPPED_MODEL" tuned.safetensors --steps 30 \
  --images "$MNIST/train10k-images-idx3-ubyte.gz" \
  --labels "$MNIST/train10k-labels-idx1-ubyte.gz" || fail "fine-tuning failed"
cmp -s <(tensor_data "$CNN_SHIPPED_MODEL") <(tensor_data tuned.safetensors) \
  && fail "fine-tuning changed nothing"
/usr/bin/python3 - "$EXAMPLE" tuned.safetensors "$T10K" torch.probs <<'PY'
import importlib.util, sys
import numpy as np, torch
spec = importlib.util.spec_from_file_location("interop", sys.argv[1])
interop = importlib.util.module_from_spec(spec)
spec.loader.exec_module(interop)
net, _, _ = interop.load(sys.argv[2])
x = torch.from_numpy(interop.read_idx(sys.argv[3])[:200].astype(np.float32) / 255)
with torch.no_grad():
    p = net.eval()(x.unsqueeze(1)).numpy()
np.savetxt(sys.argv[4], p, fmt="%.9g")
PY
CNN_KERNELS=portable "$PRINT_PROBABILITIES" tuned.safetensors "$T10K" 200 > cnn.probs
/usr/bin/python3 "$HERE/onnx-reference.py" compare torch.probs cnn.probs 1e-5 \
  || fail "cnn and PyTorch disagree on the fine-tuned model"
echo "ok: PyTorch → gst-cnn model files, as the example writes them"
