#!/bin/bash
# cnn export and cnn import (issue 14) against independent references:
#  - export → import gives the bundled model's weights bit for bit;
#  - PyTorch's own exports (torch.onnx.export of nn.Sequential: the
#    bundled weights, and random weights of a grey net and of a colour
#    3×32×32 net with padding and strides), imported, give PyTorch's
#    probabilities within 1e-5, and cnn eval / cnn predict its classes;
#  - a graph in tf2onnx's NHWC pattern for a Keras Sequential, built with
#    onnx.helper, imported, gives what PyTorch computes for that graph.
# Needs /usr/bin/python3 with Debian's python3-torch and python3-onnx.
. "$(dirname "$0")/lib.sh"
need_onnx
need_mnist
: "${CNN_SHIPPED_MODEL:?CNN_SHIPPED_MODEL must name the bundled model}"
: "${PRINT_PROBABILITIES:?PRINT_PROBABILITIES must name print-probabilities}"
if ! /usr/bin/python3 -c 'import torch, onnx' 2> /dev/null; then
  [ -z "${CI:-}" ] || fail "/usr/bin/python3 cannot import torch and onnx"
  echo "SKIP: /usr/bin/python3 cannot import torch and onnx (python3-torch, python3-onnx)"
  exit 77
fi
REF="/usr/bin/python3 $(cd "$(dirname "$0")" && pwd)/onnx-reference.py"
T10K=$MNIST/t10k-images-idx3-ubyte.gz
T10K_LABELS=$MNIST/t10k-labels-idx1-ubyte.gz
cd "$WORK"

arch_of () { "$CNN" summary "$1" | sed -n 's/^  architecture: //p'; }
meta_of () { "$CNN" summary "$1" | sed -n "s/^  $2: //p"; }
correct_of () { "$CNN" eval "$1" "$T10K" "$T10K_LABELS" | sed -n 's/^accuracy: .*(\([0-9]*\)\/10000)$/\1/p'; }

# --- export → import: the same weights, labels, preprocessing ---
"$CNN" export "$CNN_SHIPPED_MODEL" -o digits.onnx || fail "export failed"
/usr/bin/python3 -c 'import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m)
assert m.opset_import[0].version == 13, m.opset_import
assert [i.name for i in m.graph.input] == ["input"] and [o.name for o in m.graph.output] == ["probabilities"]
assert m.graph.input[0].type.tensor_type.shape.dim[0].dim_param, "the batch is not free"
meta = {p.key: p.value for p in m.metadata_props}
assert meta["preprocess"] == "mnist" and meta["labels"].startswith("[\"0\""), meta' digits.onnx \
  || fail "the exported file is not what ONNX's checker and DESIGN §7 want"
"$CNN" import digits.onnx -o back.safetensors || fail "import of our own export failed"
tensor_data "$CNN_SHIPPED_MODEL" > want.bin
tensor_data back.safetensors > got.bin
cmp -s want.bin got.bin || fail "export → import changed the weights"
[ "$(arch_of back.safetensors)" = "$(arch_of "$CNN_SHIPPED_MODEL" | sed 's/, dropout [0-9.]*//g')" ] \
  || fail "round trip architecture: $(arch_of back.safetensors)"
for key in labels preprocess reject-below; do
  [ "$(meta_of back.safetensors $key)" = "$(meta_of "$CNN_SHIPPED_MODEL" $key)" ] \
    || fail "round trip lost $key: $(meta_of back.safetensors $key)"
done
echo "ok: export → import, $(wc -c < got.bin) bytes of weights identical"
correct=$(correct_of back.safetensors)
echo "cnn eval, round trip: $correct/10000"

# --- PyTorch's export of the bundled weights ---
$REF torch-bundled "$CNN_SHIPPED_MODEL" torch.onnx "$T10K" 500 torch.probs
"$CNN" import torch.onnx -o torch.safetensors || fail "import of PyTorch's export failed"
cmp -s want.bin <(tensor_data torch.safetensors) || fail "PyTorch's weights came in changed"
# The float path within 1e-5; the default kernels' fp16 copy of a frozen
# model's large dense weights (README, "Inference") within 1e-4.
CNN_KERNELS=portable "$PRINT_PROBABILITIES" torch.safetensors "$T10K" 500 > got.probs
$REF compare torch.probs got.probs 1e-5 || fail "bundled weights (portable kernels)"
"$PRINT_PROBABILITIES" torch.safetensors "$T10K" 500 > got.probs
$REF compare torch.probs got.probs 1e-4 || fail "bundled weights (default kernels)"
correct=$(correct_of torch.safetensors)
[ "$correct" = "$(correct_of "$CNN_SHIPPED_MODEL")" ] \
  || fail "PyTorch's export scores $correct/10000, the bundled model otherwise"
echo "cnn eval, PyTorch's export: $correct/10000"

# --- PyTorch's export of random weights: grey, and colour with padding ---
for kind in grey colour; do
  $REF torch-random $kind 7 $kind.onnx $kind.idx 64 $kind.probs
  "$CNN" import $kind.onnx -o $kind.safetensors || fail "import of $kind failed"
  "$PRINT_PROBABILITIES" $kind.safetensors $kind.idx 64 > got.probs
  $REF compare $kind.probs got.probs 1e-5 || fail "$kind net"
done
[ "$(meta_of colour.safetensors input)" = 3x32x32 ] || fail "colour input"
# Their export → import too: strides, pads, the average pool, no softmax.
for kind in grey colour; do
  "$CNN" export $kind.safetensors -o $kind-again.onnx || fail "export of $kind"
  "$CNN" import $kind-again.onnx -o $kind-again.safetensors || fail "import of $kind-again"
  cmp -s <(tensor_data $kind.safetensors) <(tensor_data $kind-again.safetensors) \
    || fail "$kind: export → import changed the weights"
  [ "$(arch_of $kind-again.safetensors)" = "$(arch_of $kind.safetensors), softmax" ] \
    || [ "$(arch_of $kind-again.safetensors)" = "$(arch_of $kind.safetensors)" ] \
    || fail "$kind: export → import architecture $(arch_of $kind-again.safetensors)"
done
# cnn predict, on the colour net's first image as a PPM.
{
  printf 'P6\n32 32\n255\n'
  tail -c +22 colour.idx | head -c 3072
} > first.ppm
want=$(head -n 1 colour.probs | tr ' ' '\n' | awk 'NR == 1 || $1 > m { m = $1; k = NR - 1 } END { print k }')
got=$("$CNN" predict colour.safetensors first.ppm | awk '{ print $2 }')
[ "$got" = "$want" ] || fail "cnn predict says $got, PyTorch $want"

# --- tf2onnx's pattern for Keras: NHWC, Transposes, MatMul + Add ---
$REF keras 11 keras.onnx keras.idx 64 keras.probs
"$CNN" import keras.onnx -o keras.safetensors || fail "import of the Keras graph failed"
[ "$(arch_of keras.safetensors)" = "conv 6 3 pad=1, relu, maxpool 2, flatten, dense 16, relu, dense 4, softmax" ] \
  || fail "Keras architecture: $(arch_of keras.safetensors)"
[ "$(meta_of keras.safetensors input)" = 3x12x12 ] || fail "Keras input: $(meta_of keras.safetensors input)"
"$PRINT_PROBABILITIES" keras.safetensors keras.idx 64 > got.probs
$REF compare keras.probs got.probs 1e-5 || fail "Keras graph"

# --- options: labels, preprocessing, a free input shape ---
printf 'a\nb\nc\nd\n' > labels.txt
"$CNN" import keras.onnx -o keras2.safetensors --labels labels.txt \
  --preprocess "resize mean=0.5 std=0.25" --input 3x12x12 || fail "import with options"
[ "$(meta_of keras2.safetensors labels)" = '["a","b","c","d"]' ] || fail "--labels"
[ "$(meta_of keras2.safetensors preprocess)" = "resize mean=0.5,0.5,0.5 std=0.25,0.25,0.25" ] || fail "--preprocess"
expect_exit 2 "--input says 1x12x12" "$CNN" import keras.onnx -o k3.safetensors --input 1x12x12
echo "ok: PyTorch and tf2onnx-pattern imports match their references"
