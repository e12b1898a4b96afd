#!/usr/bin/python3
"""Training speed against PyTorch, measured fairly: one epoch each.

    /usr/bin/python3 tests/bench/bench-train-pytorch.py [--cnn PATH]
        [--data DIR] [--threads N] [--batch N] [--rounds N] [--json]

The unit is what `cnn train` reports per epoch: training images over the
time spent on batches (filling the batch from the data, forward with
dropout, cross-entropy, backward, Adam), evaluation left out.  Both
sides train the reference digit network (docs/design.md §2) on the
10,000 MNIST training digits (train10k in --data), batch 128, Adam
(lr 0.001), no augmentation, no validation split, --threads threads.

PyTorch is set up as one would for speed on a CPU: the same number of
intra-op threads, one inter-op thread (the default starts one per core,
which compete with the intra-op pool on a small machine), the whole
dataset as one uint8 tensor, shuffled by index each epoch and each batch
converted and normalised as `cnn train` does (pixels / 255, then the
dataset's mean and standard deviation); no DataLoader, whose worker
processes and collation cost more than the step on this network.  A few
warm-up steps come first, outside the timing.

OPENBLAS_CORETYPE, when set, forces OpenBLAS's kernels on both sides:
the figures name it.  With --cnn, `cnn train` runs too, the two alternating --rounds times;
the best of each side is kept (the machine's other load only slows a
run down) and their ratio printed.  Needs Debian's python3-torch (hence
/usr/bin/python3).  A benchmark: it asserts nothing.
"""
import argparse
import csv
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
WARM_UP_STEPS = 3
IMAGES = "train10k-images-idx3-ubyte.gz"
LABELS = "train10k-labels-idx1-ubyte.gz"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big")
             for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def reference_network():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(),
        nn.Conv2d(32, 64, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
        nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, 10))


class Peer:
    """PyTorch's side: the network, its optimizer and the data."""

    def __init__(self, data_dir, batch):
        images = read_idx(os.path.join(data_dir, IMAGES))
        self.pixels = torch.from_numpy(images.copy()).unsqueeze(1)
        self.labels = torch.from_numpy(
            read_idx(os.path.join(data_dir, LABELS)).astype(np.int64))
        unit = self.pixels.float() / 255.0
        self.mean, self.std = unit.mean().item(), unit.std().item()
        self.batch = batch
        torch.manual_seed(1)
        self.net = reference_network()
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=0.001)
        self.loss_fn = nn.CrossEntropyLoss()

    def step(self, index):
        x = (self.pixels[index].float() / 255.0 - self.mean) / self.std
        y = self.labels[index]
        self.optimizer.zero_grad()
        out = self.net(x)
        loss = self.loss_fn(out, y)
        loss.backward()
        self.optimizer.step()
        # cnn train counts the loss and the correct answers per batch.
        return loss.item(), (out.argmax(1) == y).sum().item()

    def epoch_images_per_s(self):
        n = len(self.labels)
        order = torch.randperm(n)
        for i in range(WARM_UP_STEPS):
            self.step(order[i * self.batch:(i + 1) * self.batch])
        seconds = 0.0
        for start in range(0, n, self.batch):
            t0 = time.perf_counter()
            self.step(order[start:start + self.batch])
            seconds += time.perf_counter() - t0
        return n / seconds


def cnn_images_per_s(args, directory):
    """`cnn train`'s images/s over one epoch with the same settings."""
    log = os.path.join(directory, "epoch.csv")
    # Its notes (the preprocessing warning) are noise here; an error is
    # printed below.
    command = [args.cnn, "train",
               "--train-images", os.path.join(args.data, IMAGES),
               "--train-labels", os.path.join(args.data, LABELS),
               "--epochs", "1", "--batch", str(args.batch),
               "--optimizer", "adam", "--lr", "0.001",
               "--validation", "0", "--threads", str(args.threads),
               "--log", log, "-o", os.path.join(directory, "epoch.safetensors")]
    done = subprocess.run(command, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"bench-train-pytorch: cnn train failed:\n{done.stderr}")
    with open(log) as f:
        return float(list(csv.DictReader(f))[-1]["images_per_second"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cnn", help="the cnn tool, to run side by side")
    ap.add_argument("--data", default=os.environ.get("CNN_MNIST_DIR")
                    or os.path.join(TOP, "..", "shared", "data", "mnist"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    peer = Peer(args.data, args.batch)
    ours, theirs = [], []
    with tempfile.TemporaryDirectory(prefix="bench-train-") as directory:
        for _ in range(args.rounds):
            theirs.append(peer.epoch_images_per_s())
            if args.cnn:
                ours.append(cnn_images_per_s(args, directory))
    # OpenBLAS picks its kernels by the CPU unless this names them; on an
    # AVX-512 CPU forced to "Haswell" (AVX2), cnn train's sgemm runs at
    # about two thirds of its speed.
    core = os.environ.get("OPENBLAS_CORETYPE", "")
    result = {"pytorch": torch.__version__, "threads": args.threads,
              "openblas_coretype": core or None,
              "batch": args.batch, "rounds": args.rounds,
              "pytorch_images_per_s": round(max(theirs), 1),
              "pytorch_rounds": [round(v, 1) for v in theirs]}
    if ours:
        result.update(cnn_images_per_s=round(max(ours), 1),
                      cnn_rounds=[round(v, 1) for v in ours],
                      ratio=round(max(ours) / max(theirs), 2))
    if args.json:
        print(json.dumps(result))
        return
    print(f"one epoch of the 10,000 training digits, batch {args.batch},"
          f" Adam, {args.threads} thread(s); best of {args.rounds};"
          f" OpenBLAS core {core or 'of its own choice'}")
    print(f"  pytorch {torch.__version__} (interop 1)"
          f"  {result['pytorch_images_per_s']:8.0f} images/s"
          f"  {result['pytorch_rounds']}")
    if ours:
        print(f"  cnn train{'':24}{result['cnn_images_per_s']:8.0f} images/s"
              f"  {result['cnn_rounds']}")
        print(f"  cnn / pytorch{'':20}{result['ratio']:8.2f}")


if __name__ == "__main__":
    main()
