#!/usr/bin/python3
"""Writes the reference digit network as an ONNX file, the way a PyTorch
user would (torch.onnx.export): the independent side of cnn import's
tests (tests/tools/onnx-reference.py); `cnn export` writes gst-cnn's own.

    export-onnx.py MODEL.safetensors OUT.onnx

Builds conv 32 3, relu, conv 64 3, relu, maxpool 2, dropout, flatten,
dense 128, relu, dropout, dense 10, softmax in PyTorch, loads the gst-cnn
model's weights (PyTorch layout, read by hand: 8-byte little-endian
header length, JSON header, raw F32 data) and exports it in eval mode
with a dynamic batch dimension.  Needs Debian's python3-torch; nothing is
downloaded.
"""
import importlib.util
import json
import os
import struct
import sys

import torch
from torch import nn


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise SystemExit(f"{path}: {name} is {info['dtype']}, not F32")
        lo, hi = info["data_offsets"]
        values = torch.frombuffer(bytearray(data[lo:hi]), dtype=torch.float32)
        tensors[name] = values.reshape(info["shape"])
    return header.get("__metadata__", {}), tensors


def reference_network():
    """bench-train-pytorch.py's network (logits) with the softmax on top."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "bench-train-pytorch.py")
    spec = importlib.util.spec_from_file_location("bench_train_pytorch", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return nn.Sequential(*module.reference_network().children(),
                         nn.Softmax(dim=1))


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: export-onnx.py MODEL.safetensors OUT.onnx")
    meta, tensors = read_safetensors(sys.argv[1])
    net = reference_network().eval()
    # gst-cnn names tensors '<layer index>.<kind>.weight'; the Sequential's
    # indices are the same layers' indices.
    state = {}
    for name, value in tensors.items():
        index, _kind, part = name.split(".")
        state[f"{index}.{part}"] = value
    net.load_state_dict(state, strict=True)
    torch.set_num_threads(1)
    x = torch.zeros(1, 1, 28, 28)
    torch.onnx.export(net, x, sys.argv[2], input_names=["input"],
                      output_names=["probabilities"],
                      dynamic_axes={"input": {0: "batch"},
                                    "probabilities": {0: "batch"}},
                      opset_version=13)
    print(f"export-onnx: {sys.argv[2]} ({meta.get('architecture', '?')})",
          file=sys.stderr)


if __name__ == "__main__":
    main()
