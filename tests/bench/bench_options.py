"""The options the Python benchmarks share (bench.py, bench-element.py,
bench-number.py): --build, --mnist-dir, --runs and --json, with the same
meanings and defaults in each.

    ap = bench_options.parser(runs=5)
    ap.add_argument("--frames", ...)    # the script's own
    args = ap.parse_args()
"""
import argparse
import os

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))


def default_mnist_dir():
    """CNN_MNIST_DIR, else ../shared/data/mnist beside the repository."""
    return (os.environ.get("CNN_MNIST_DIR")
            or os.path.join(TOP, "..", "shared", "data", "mnist"))


def parser(runs=5):
    """An ArgumentParser holding the shared options; @runs is --runs'
    default (how many times each measure is repeated for its median)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(TOP, "build"),
                    help="the meson build directory (default: build)")
    ap.add_argument("--mnist-dir", default=default_mnist_dir(),
                    help="the MNIST files (default: $CNN_MNIST_DIR or "
                    "../shared/data/mnist beside the repository)")
    ap.add_argument("--runs", type=int, default=runs,
                    help="times each figure is measured, for its median "
                    "(default: %(default)s)")
    ap.add_argument("--json", action="store_true",
                    help="print one JSON object instead of a table")
    return ap
