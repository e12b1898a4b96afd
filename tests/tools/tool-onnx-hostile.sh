#!/bin/bash
# Hostile ONNX files for cnn import: each must fail with status 2 and a
# message that says where (file, node, tensor or byte offset) and why,
# without aborting or allocating what the file asks for.  Files are made
# with python3-onnx's onnx.helper, or byte by byte where onnx.helper
# would refuse to write them.
. "$(dirname "$0")/lib.sh"
need_onnx
if ! /usr/bin/python3 -c 'import onnx' 2> /dev/null; then
  [ -z "${CI:-}" ] || fail "/usr/bin/python3 cannot import onnx"
  echo "SKIP: /usr/bin/python3 cannot import onnx (python3-onnx)"
  exit 77
fi
cd "$WORK"

# hostile CASE FILE: a small valid chain (Conv, Relu, Flatten, Gemm,
# Softmax on 1×4×4), then CASE's change to it.
hostile () {
  /usr/bin/python3 - "$@" <<'PY'
import sys
import numpy as np
from onnx import TensorProto, helper, numpy_helper
case, path = sys.argv[1:3]
def t(name, shape, value=0.1):
    return numpy_helper.from_array(np.full(shape, value, np.float32), name)
inits = [t("w", (2, 1, 3, 3)), t("b", (2,)), t("fw", (3, 8)), t("fb", (3,))]
nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", kernel_shape=[3, 3]),
         helper.make_node("Relu", ["c"], ["r"], name="relu"),
         helper.make_node("Flatten", ["r"], ["f"], name="flat"),
         helper.make_node("Gemm", ["f", "fw", "fb"], ["g"], name="gemm", transB=1),
         helper.make_node("Softmax", ["g"], ["y"], name="softmax", axis=1)]
shape = ["N", 1, 4, 4]
if case == "huge-dims":
    inits[0] = TensorProto(name="w", data_type=1, dims=[1 << 30, 1 << 30], raw_data=b"\0" * 16)
elif case == "overflow":
    inits[0] = TensorProto(name="w", data_type=1, dims=[1 << 31] * 4, raw_data=b"\0" * 16)
elif case == "external":
    inits[0].ClearField("raw_data")
    inits[0].data_location = TensorProto.EXTERNAL
    inits[0].external_data.add(key="location", value="/etc/passwd")
elif case == "nan":
    inits[2] = t("fw", (3, 8), np.nan)
elif case == "batchnorm":
    nodes.insert(1, helper.make_node("BatchNormalization", ["c", "b", "b", "b", "b"], ["c2"], name="bn"))
    nodes[2].input[0] = "c2"
elif case == "dilation":
    nodes[0] = helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", dilations=[2, 2])
elif case == "branch":
    nodes[1] = helper.make_node("Relu", ["x"], ["r"], name="relu")
elif case == "empty-auto-pad":
    # An empty STRING attribute: protobuf-c unpacks its bytes as NULL.
    nodes[0] = helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", kernel_shape=[3, 3])
    nodes[0].attribute.append(helper.make_attribute("auto_pad", ""))
    nodes[0].attribute[-1].type = 3
elif case == "rank3":
    shape = ["N", 4, 4]
graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", 1, shape)],
                          [helper.make_tensor_value_info("y", 1, ["N", 3])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
open(path, "wb").write(model.SerializeToString())
PY
}

# The untouched chain imports: the cases below fail for their change.
hostile none ok.onnx
"$CNN" import ok.onnx -o ok.safetensors || fail "the valid base graph does not import"

hostile huge-dims f.onnx
expect_exit 2 "f.onnx: node 0 'conv' (Conv): weight 'w': raw_data holds 16 bytes, its dims ask for 4611686018427387904" \
  "$CNN" import f.onnx -o out.safetensors
hostile overflow f.onnx
expect_exit 2 "weight 'w': its dims' product overflows 64 bits" "$CNN" import f.onnx -o out.safetensors
hostile external f.onnx
expect_exit 2 "weight 'w': its data is in another file (external data)" "$CNN" import f.onnx -o out.safetensors
hostile nan f.onnx
expect_exit 2 "node 3 'gemm' (Gemm): weight 'fw': value 0 is nan" "$CNN" import f.onnx -o out.safetensors
hostile batchnorm f.onnx
expect_exit 2 "node 1 'bn' (BatchNormalization): not a layer kind gst-cnn has" "$CNN" import f.onnx -o out.safetensors
hostile dilation f.onnx
expect_exit 2 "node 0 'conv' (Conv): dilation 2, group 1" "$CNN" import f.onnx -o out.safetensors
hostile branch f.onnx
expect_exit 2 "node 1 'relu' (Relu): its input 'x' is not the output of the node before ('c')" \
  "$CNN" import f.onnx -o out.safetensors
hostile empty-auto-pad f.onnx
expect_exit 2 "node 0 'conv' (Conv): attribute 'auto_pad' is an empty string" \
  "$CNN" import f.onnx -o out.safetensors
hostile rank3 f.onnx
expect_exit 2 "the graph's input 'x' has 3 dims" "$CNN" import f.onnx -o out.safetensors
[ ! -e out.safetensors ] || fail "a refused import wrote its output"

# 90,000 nested messages in 600 kB (graph → node → attribute → graph …):
# protobuf-c would recurse once per level and overflow the stack.
/usr/bin/python3 - nest.onnx <<'PY'
import sys
def varint(n):
    out = b""
    while True:
        out += bytes([(n & 0x7f) | (0x80 if n > 0x7f else 0)])
        n >>= 7
        if not n:
            return out
def field(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload
g = b""
for _ in range(30000):
    g = field(1, field(5, field(6, g)))  # graph.node.attribute.g
open(sys.argv[1], "wb").write(field(7, g))  # model.graph
PY
expect_exit 2 "nest.onnx: byte 129: not an ONNX model: messages nested more than 32 deep" \
  "$CNN" import nest.onnx -o out.safetensors

head -c 4096 /dev/urandom > random.onnx
printf '\377\377\377\377' >> random.onnx
expect_exit 2 "random.onnx: byte" "$CNN" import random.onnx -o out.safetensors
grep -qF "not an ONNX model" "$WORK/stderr" || fail "random bytes: $(cat "$WORK/stderr")"

# The memory limit holds the file and what unpacking it takes.
"$CNN" export "${CNN_SHIPPED_MODEL:?}" -o digits.onnx
expect_exit 2 "digits.onnx: the ONNX file needs 4.6" \
  "$CNN" import --memory-limit 1M digits.onnx -o out.safetensors
expect_exit 2 "memory limit" "$CNN" import --memory-limit 6M digits.onnx -o out.safetensors

# Neither command overwrites its input.
cp ok.onnx keep.onnx
expect_exit 2 "are the same file" "$CNN" import keep.onnx -o keep.onnx
cmp -s ok.onnx keep.onnx || fail "import overwrote its input"
cp "$CNN_SHIPPED_MODEL" m.safetensors
expect_exit 2 "are the same file" "$CNN" export m.safetensors -o m.safetensors
cmp -s "$CNN_SHIPPED_MODEL" m.safetensors || fail "export overwrote its input"
echo "ok: hostile ONNX files refused, each saying where and why"
