#!/usr/bin/python3
"""gst-cnn model files in PyTorch, without ONNX: load one into an
nn.Sequential, fine-tune it, write it back for cnnclassify.

    pytorch-interop.py MODEL.safetensors OUT.safetensors
        [--images IDX --labels IDX --steps N --lr X]

A model file is safetensors (docs/design.md §3): an 8-byte little-endian
header length, a JSON header, the float32 tensors back to back.  The
tensors of layer i of the architecture (every layer counted from 0) are
`i.conv2d.weight` [F, C, k, k] and `i.conv2d.bias` [F], or
`i.dense.weight` [N, M] and `i.dense.bias` [N]: nn.Conv2d's and
nn.Linear's own layouts, so the Sequential built layer for layer here
takes them as `i.weight` and `i.bias`.  "__metadata__" holds the
architecture, the input shape CxHxW, the labels (a JSON array), the
preprocessing (inputs are bytes / 255, then (x - mean) / std per
channel) and a SHA-256 of the data section, which cnn checks on load.

With --images and --labels (IDX files, gzip or not, as `cnn train`
reads) it runs N steps of SGD on batches of 64 before writing; without,
it writes the same weights back (the file loads in cnn bit for bit the
same).  Needs Debian's python3-torch.
"""
import argparse
import gzip
import hashlib
import json
import re
import struct

import numpy as np
import torch
from torch import nn


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise SystemExit(f"{path}: {name} is {info['dtype']}, not F32")
        lo, hi = info["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(data[lo:hi]),
                                         dtype=torch.float32).reshape(info["shape"])
    return meta, tensors


def layer_from_text(text, shape):
    """One layer of gst-cnn's architecture text → (module, kind, shape
    after it); shape is (C, H, W)."""
    words = text.split()
    options = dict(w.split("=") for w in words[1:] if "=" in w)
    numbers = [w for w in words[1:] if "=" not in w]
    c, h, w = shape
    kind = {"conv2d": "conv", "pool": "maxpool"}.get(words[0], words[0])
    if kind == "conv":
        f, k = int(numbers[0]), int(numbers[1])
        s, p = int(options.get("stride", 1)), int(options.get("pad", 0))
        return (nn.Conv2d(c, f, k, stride=s, padding=p), "conv2d",
                (f, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1))
    if kind == "maxpool":
        k = int(numbers[0])
        s = int(options.get("stride", k))
        return nn.MaxPool2d(k, stride=s), None, (c, (h - k) // s + 1, (w - k) // s + 1)
    if kind == "dense":
        n = int(numbers[0])
        return nn.Linear(c * h * w, n), "dense", (n, 1, 1)
    if kind == "flatten":
        return nn.Flatten(), None, (c * h * w, 1, 1)
    if kind == "dropout":
        return nn.Dropout(float(numbers[0])), None, shape
    if kind == "relu":
        return nn.ReLU(), None, shape
    if kind == "softmax":
        return nn.Softmax(dim=1), None, shape
    raise SystemExit(f"unknown layer kind in '{text}'")


def network(meta):
    """The architecture as an nn.Sequential, and each layer's tensor kind."""
    shape = tuple(int(v) for v in meta["input"].split("x"))
    layers, kinds = [], []
    for text in meta["architecture"].split(","):
        module, kind, shape = layer_from_text(text.strip(), shape)
        layers.append(module)
        kinds.append(kind)
    return nn.Sequential(*layers), kinds


def load(path):
    meta, tensors = read_safetensors(path)
    net, kinds = network(meta)
    net.load_state_dict({f"{name.split('.')[0]}.{name.split('.')[2]}": value
                         for name, value in tensors.items()}, strict=True)
    return net, kinds, meta


def save(net, kinds, meta, path):
    """Writes the Sequential's weights under gst-cnn's names, with the
    metadata cnn demands (format, version, SHA-256 of the data)."""
    entries, blobs, offset = {}, [], 0
    for i, kind in enumerate(kinds):
        if kind is None:
            continue
        for part in ("weight", "bias"):
            value = getattr(net[i], part).detach().to(torch.float32).contiguous()
            blob = value.numpy().astype("<f4").tobytes()
            entries[f"{i}.{kind}.{part}"] = {
                "dtype": "F32", "shape": list(value.shape),
                "data_offsets": [offset, offset + len(blob)]}
            blobs.append(blob)
            offset += len(blob)
    data = b"".join(blobs)
    meta = dict(meta, format="gst-cnn", **{"format-version": "1"})
    meta["sha256"] = hashlib.sha256(data).hexdigest()
    meta["trained-with"] = "pytorch-interop.py (fine-tuned in PyTorch)"
    header = json.dumps({"__metadata__": meta, **entries}).encode()
    header += b" " * (-len(header) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + data)


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def channel_values(meta, key, default):
    """The preprocess text's mean= or std= (one value, or one a channel)."""
    found = re.search(key + r"=([0-9.,]+)", meta.get("preprocess", ""))
    values = [float(v) for v in found.group(1).split(",")] if found else [default]
    return torch.tensor(values)


def fine_tune(net, meta, images, labels, steps, lr):
    """SGD on the cross-entropy of the network's outputs (their log when
    it ends in softmax, as cnn train's loss is)."""
    x_all = torch.from_numpy(read_idx(images).astype(np.float32) / 255.0)
    if x_all.dim() == 3:
        x_all = x_all.unsqueeze(1)
    else:
        x_all = x_all.permute(0, 3, 1, 2)
    y_all = torch.from_numpy(read_idx(labels).astype(np.int64))
    mean, std = channel_values(meta, "mean", 0.0), channel_values(meta, "std", 1.0)
    x_all = (x_all - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)
    ends_in_softmax = isinstance(net[-1], nn.Softmax)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    generator = torch.Generator().manual_seed(1)
    net.train()
    for _ in range(steps):
        batch = torch.randint(0, len(x_all), (64,), generator=generator)
        out = net(x_all[batch])
        logp = torch.log(out.clamp_min(1e-12)) if ends_in_softmax else torch.log_softmax(out, 1)
        loss = nn.functional.nll_loss(logp, y_all[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    net.eval()
    print(f"pytorch-interop: {steps} SGD steps, last batch loss {loss.item():.4f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("output")
    parser.add_argument("--images")
    parser.add_argument("--labels")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.001)
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    net, kinds, meta = load(args.model)
    print(f"pytorch-interop: {args.model}: {meta['architecture']} on {meta['input']}")
    if args.images and args.labels:
        fine_tune(net, meta, args.images, args.labels, args.steps, args.lr)
    save(net, kinds, meta, args.output)
    print(f"pytorch-interop: wrote {args.output}")


if __name__ == "__main__":
    main()
