#!/usr/bin/python3
"""The independent side of tool-onnx.sh: ONNX files written by PyTorch's
exporter and in tf2onnx's pattern, and the probabilities PyTorch gives
for the same images, for `cnn import` to be held against.

    onnx-reference.py torch-bundled MODEL.safetensors OUT.onnx IMAGES N PROBS
    onnx-reference.py torch-random grey|colour SEED OUT.onnx IMAGES N PROBS
    onnx-reference.py keras SEED OUT.onnx IMAGES N PROBS
    onnx-reference.py compare EXPECTED GOT TOLERANCE

torch-bundled reads IMAGES (an IDX file, gzip or not); the others write
N random images there, N×H×W (grey) or N×H×W×C (colour) IDX bytes.
PROBS gets one line per image.  Inputs are bytes / 255 in every case,
as cnn eval feeds them.  keras builds, with onnx.helper, the graph that
tf2onnx writes for a Keras Sequential (NHWC input transposed to NCHW
for Conv and MaxPool and back before the Reshape that flattens, Dense
as MatMul + Add) and computes it with PyTorch operations in that same
NHWC order.  Needs Debian's python3-torch and python3-onnx; nothing is
downloaded.
"""
import gzip
import importlib.util
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def bench_export_module():
    """tests/bench/export-onnx.py: the reference network and a reader of
    gst-cnn model files."""
    path = os.path.join(HERE, "..", "bench", "export-onnx.py")
    spec = importlib.util.spec_from_file_location("export_onnx", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_idx(path, n):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    count = min(n, dims[0])
    size = int(np.prod(dims[1:]))
    pixels = np.frombuffer(data, np.uint8, count * size, 4 + 4 * ndim)
    return pixels.reshape((count,) + tuple(dims[1:]))


def write_idx(path, images):
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 8, images.ndim]))
        f.write(struct.pack(">" + "I" * images.ndim, *images.shape))
        f.write(images.astype(np.uint8).tobytes())


def write_probs(path, probs):
    with open(path, "w") as f:
        for row in probs:
            f.write(" ".join("%.9g" % v for v in row) + "\n")


def export(net, shape, path):
    net.eval()
    torch.onnx.export(net, torch.zeros((1,) + shape), path,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"},
                                    "output": {0: "batch"}},
                      opset_version=13)


def torch_bundled(model, out, images, n, probs):
    module = bench_export_module()
    _, tensors = module.read_safetensors(model)
    net = module.reference_network().eval()
    net.load_state_dict({f"{k.split('.')[0]}.{k.split('.')[2]}": v
                         for k, v in tensors.items()}, strict=True)
    export(net, (1, 28, 28), out)
    x = torch.from_numpy(read_idx(images, n).astype(np.float32) / 255.0)
    with torch.no_grad():
        write_probs(probs, net(x.unsqueeze(1)).numpy())


def random_network(kind):
    """grey: 1×28×28, padding 2, an overlapping average pool, ends in
    Softmax.  colour: 3×32×32,
    padding 1, a stride-2 conv, an overlapping pool, dropout, and logits
    out (no Softmax: gst-cnn takes their softmax)."""
    if kind == "grey":
        return (1, 28, 28), nn.Sequential(
            nn.Conv2d(1, 4, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.AvgPool2d(3, stride=2), nn.Flatten(),
            nn.Linear(4 * 6 * 6, 10), nn.Softmax(dim=1))
    return (3, 32, 32), nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.MaxPool2d(2, stride=1), nn.Flatten(), nn.Linear(16 * 7 * 7, 32),
        nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 5))


def torch_random(kind, seed, out, images, n, probs):
    torch.manual_seed(seed)
    shape, net = random_network(kind)
    net.eval()
    export(net, shape, out)
    rng = np.random.default_rng(seed)
    c, h, w = shape
    pixels = rng.integers(0, 256, (n, h, w, c), dtype=np.uint8)
    write_idx(images, pixels[..., 0] if c == 1 else pixels)
    x = torch.from_numpy(pixels.astype(np.float32) / 255.0).permute(0, 3, 1, 2)
    with torch.no_grad():
        y = net(x.contiguous())
        if not isinstance(net[-1], nn.Softmax):
            y = torch.softmax(y, dim=1)
        write_probs(probs, y.numpy())


def keras_graph(rng):
    """tf2onnx's graph of a Keras Sequential: Conv2D(6, 3, padding=same,
    relu), MaxPooling2D(2), Flatten, Dense(16, relu), Dropout (gone in
    the inference graph), Dense(4, softmax), input 12×12×3 (NHWC)."""
    from onnx import TensorProto, helper, numpy_helper

    w1 = rng.normal(0, 0.3, (6, 3, 3, 3)).astype(np.float32)  # OIHW
    b1 = rng.normal(0, 0.1, 6).astype(np.float32)
    w2 = rng.normal(0, 0.1, (6 * 6 * 6, 16)).astype(np.float32)  # K×N
    b2 = rng.normal(0, 0.1, 16).astype(np.float32)
    w3 = rng.normal(0, 0.3, (16, 4)).astype(np.float32)
    b3 = rng.normal(0, 0.1, 4).astype(np.float32)
    p = "StatefulPartitionedCall/sequential/"
    inits = [numpy_helper.from_array(a, p + name) for a, name in [
        (w1, "conv2d/Conv2D/ReadVariableOp:0"), (b1, "conv2d/BiasAdd:0"),
        (w2, "dense/MatMul/ReadVariableOp:0"), (b2, "dense/BiasAdd/ReadVariableOp:0"),
        (w3, "dense_1/MatMul/ReadVariableOp:0"),
        (b3, "dense_1/BiasAdd/ReadVariableOp:0")]]
    inits.append(numpy_helper.from_array(np.array([-1, 216], np.int64),
                                         "const_fold_opt__12"))
    n = [helper.make_node("Transpose", ["conv2d_input"], ["t0"], perm=[0, 3, 1, 2],
                          name=p + "conv2d/BiasAdd__6"),
         helper.make_node("Conv", ["t0", inits[0].name, inits[1].name], ["c1"],
                          auto_pad="SAME_UPPER", kernel_shape=[3, 3],
                          strides=[1, 1], dilations=[1, 1], group=1,
                          name=p + "conv2d/BiasAdd"),
         helper.make_node("Relu", ["c1"], ["r1"], name=p + "conv2d/Relu"),
         helper.make_node("MaxPool", ["r1"], ["m1"], kernel_shape=[2, 2],
                          strides=[2, 2], name=p + "max_pooling2d/MaxPool"),
         helper.make_node("Transpose", ["m1"], ["t1"], perm=[0, 2, 3, 1],
                          name=p + "max_pooling2d/MaxPool__16"),
         helper.make_node("Reshape", ["t1", "const_fold_opt__12"], ["f1"],
                          name=p + "flatten/Reshape"),
         helper.make_node("MatMul", ["f1", inits[2].name], ["d1"],
                          name=p + "dense/MatMul"),
         helper.make_node("Add", ["d1", inits[3].name], ["a1"],
                          name=p + "dense/BiasAdd"),
         helper.make_node("Relu", ["a1"], ["r2"], name=p + "dense/Relu"),
         helper.make_node("Identity", ["r2"], ["i2"], name=p + "dropout/Identity"),
         helper.make_node("MatMul", ["i2", inits[4].name], ["d2"],
                          name=p + "dense_1/MatMul"),
         helper.make_node("Add", [inits[5].name, "d2"], ["a2"],
                          name=p + "dense_1/BiasAdd"),
         helper.make_node("Softmax", ["a2"], ["dense_1"], axis=1,
                          name=p + "dense_1/Softmax")]
    graph = helper.make_graph(
        n, "tf2onnx", [helper.make_tensor_value_info(
            "conv2d_input", TensorProto.FLOAT, ["unk__18", 12, 12, 3])],
        [helper.make_tensor_value_info("dense_1", TensorProto.FLOAT,
                                       ["unk__19", 4])], inits)
    model = helper.make_model(graph, producer_name="tf2onnx",
                              producer_version="1.9.3",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    return model, (w1, b1, w2, b2, w3, b3)


def keras(seed, out, images, n, probs):
    import onnx

    rng = np.random.default_rng(seed)
    model, weights = keras_graph(rng)
    onnx.checker.check_model(model)
    onnx.save(model, out)
    w1, b1, w2, b2, w3, b3 = (torch.from_numpy(a) for a in weights)
    pixels = rng.integers(0, 256, (n, 12, 12, 3), dtype=np.uint8)
    write_idx(images, pixels)
    x = torch.from_numpy(pixels.astype(np.float32) / 255.0)  # NHWC
    with torch.no_grad():
        y = F.relu(F.conv2d(x.permute(0, 3, 1, 2), w1, b1, padding=1))
        y = F.max_pool2d(y, 2).permute(0, 2, 3, 1).reshape(-1, 216)
        y = F.relu(y @ w2 + b2) @ w3 + b3
        write_probs(probs, torch.softmax(y, dim=1).numpy())


def compare(expected, got, tolerance):
    a = np.loadtxt(expected, ndmin=2)
    b = np.loadtxt(got, ndmin=2)
    if a.shape != b.shape:
        raise SystemExit(f"compare: {expected} is {a.shape}, {got} {b.shape}")
    diff = np.abs(a - b).max()
    same = int((a.argmax(1) == b.argmax(1)).sum())
    print(f"{len(a)} images: the same class for {same}, largest probability "
          f"difference {diff:.2e}")
    if same != len(a) or not diff <= float(tolerance):
        raise SystemExit(f"compare: beyond {tolerance}")


def main():
    torch.set_num_threads(1)
    args = sys.argv[1:]
    if args[:1] == ["torch-bundled"] and len(args) == 6:
        torch_bundled(args[1], args[2], args[3], int(args[4]), args[5])
    elif args[:1] == ["torch-random"] and len(args) == 7:
        torch_random(args[1], int(args[2]), args[3], args[4], int(args[5]),
                     args[6])
    elif args[:1] == ["keras"] and len(args) == 6:
        keras(int(args[1]), args[2], args[3], int(args[4]), args[5])
    elif args[:1] == ["compare"] and len(args) == 4:
        compare(args[1], args[2], args[3])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
