#!/usr/bin/python3
"""PyTorch's side of bench-train: the same step on the same network.

    /usr/bin/python3 tests/bench/bench-train-pytorch.py [--batch N] [--threads N,...] [--steps N]

One step is what bench-train times: forward with dropout, cross-entropy,
backward, Adam update, on the reference digit network (docs/design.md §2) with
random 1x28x28 inputs and labels.  After 3 warm-up steps it prints the
median of --steps steps as images/s for each thread count, in
bench-train's format, so the two can be run side by side.  Needs
Debian's python3-torch (hence /usr/bin/python3).
"""
import argparse
import statistics
import time

import torch
from torch import nn

WARM_UP_STEPS = 3


def reference_network():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(),
        nn.Conv2d(32, 64, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
        nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, 10))


def median_step_seconds(net, optimizer, x, y, steps):
    loss_fn = nn.CrossEntropyLoss()
    seconds = []
    for step in range(WARM_UP_STEPS + steps):
        start = time.perf_counter()
        optimizer.zero_grad()
        loss_fn(net(x), y).backward()
        optimizer.step()
        if step >= WARM_UP_STEPS:
            seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--steps", type=int, default=15)
    args = parser.parse_args()

    torch.manual_seed(1)
    net = reference_network()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
    x = torch.rand(args.batch, 1, 28, 28)
    y = torch.randint(0, 10, (args.batch,))
    print(f"pytorch {torch.__version__}")
    print(f"step:    forward with dropout, cross-entropy, backward, adam; "
          f"median of {args.steps} after {WARM_UP_STEPS} warm-up\n")
    for threads in (int(t) for t in args.threads.split(",")):
        torch.set_num_threads(threads)
        median = median_step_seconds(net, optimizer, x, y, args.steps)
        print(f"train, batch {args.batch}, {threads} thread(s): "
              f"{args.batch / median:7.0f} images/s  ({median * 1e3:.1f} ms/step)")


if __name__ == "__main__":
    main()
