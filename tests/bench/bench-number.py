#!/usr/bin/python3
"""Number mode's cost per frame against digit mode's (issue 16).

    bench-number.py [--build DIR] [--mnist-dir DIR] [--frames N]
                    [--runs N] [--digits D] [--json]

Plays a raw 640x480 I420 file of --frames distinct frames (default 100)
of numbers of --digits (default 4) MNIST test digits, webcam-like scenes
from tests/eval/make-number-frames, and times, --runs times in turn on
the same file,

    filesrc ! rawvideoparse ! cnnclassify ! fakesink sync=false
    filesrc ! rawvideoparse ! cnnclassify mode=number ! fakesink sync=false
    filesrc ! rawvideoparse ! fakesink sync=false

and reports the medians of each mode's cost per frame (with the element
minus without), number mode's over digit mode's (issue 16's target: at
most 2 for four digits), the element's own mean inference time in each
mode, and how many of the numbers number mode read exactly.  Digit mode
reads one digit of its default region; number mode finds the digits of
the whole frame, prepares each and classifies them in batches
(cnn_number_reader_run(): a piece where a doubt calls for a second
reading, a touching pair or a broken digit, costs a sample more).

Pin it (taskset -c 1) on a shared machine.  Uses this build's plugin and
Debian's python3-gi; CNN_KERNELS applies as usual.  Prints a table, or
with --json one JSON object.
"""
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile

import bench_options

HERE = os.path.dirname(os.path.abspath(__file__))
W, H = 640, 480


def bench_element():
    """bench-element.py's helpers (launch, raw_source)."""
    spec = importlib.util.spec_from_file_location(
        "bench_element", os.path.join(HERE, "bench-element.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def number_frames(args, directory):
    """A raw 640x480 GRAY8 file of numbers and their texts."""
    tool = os.path.join(args.build, "tests", "eval", "make-number-frames")
    path = os.path.join(directory, "numbers.gray8")
    labels = os.path.join(directory, "labels.txt")
    with open(path, "wb") as out:
        subprocess.run([tool, "--images",
                        os.path.join(args.mnist_dir,
                                     "t10k-images-idx3-ubyte.gz"),
                        "--labels",
                        os.path.join(args.mnist_dir,
                                     "t10k-labels-idx1-ubyte.gz"),
                        "--count", str(args.frames), "--digits",
                        str(args.digits), "--raw", "--labels-out", labels],
                       check=True, stdout=out)
    with open(labels) as f:
        texts = [line.split()[2] for line in f if not line.startswith("#")]
    return path, texts


def texts_read(Gst, be, src):
    """The text of each cnn-classification message of mode=number."""
    texts = []
    pipeline = be.play_to_eos(Gst, f"{src} ! cnnclassify mode=number"
                              " ! fakesink sync=false",
                              lambda s: texts.append(s.get_value("text")))
    pipeline.set_state(Gst.State.NULL)
    return texts


def mean_inference_us(Gst, be, src, props):
    """The element's mean-inference-time after a run, µs."""
    pipeline = be.play_to_eos(Gst, f"{src} ! cnnclassify name=classify"
                              f" {props} ! fakesink sync=false",
                              lambda s: None)
    us = pipeline.get_by_name("classify").get_property("mean-inference-time")
    pipeline.set_state(Gst.State.NULL)
    return us


def measure(Gst, be, args, directory):
    gray, truth = number_frames(args, directory)
    frames = len(truth)
    path = os.path.join(directory, "numbers.i420")
    be.launch(Gst, f"{be.raw_source(gray, W, H, 'GRAY8')} ! videoconvert"
              f" ! video/x-raw,format=I420 ! filesink location={path}")
    src = be.raw_source(path, W, H, "I420")
    runs = {"digit": [], "number": []}
    for _ in range(args.runs):
        without = be.launch(Gst, f"{src} ! fakesink sync=false")
        for mode in runs:
            seconds = be.launch(Gst, f"{src} ! cnnclassify mode={mode}"
                                " ! fakesink sync=false")
            runs[mode].append((seconds - without) * 1e6 / frames)
    read = texts_read(Gst, be, src)
    cost = {m: round(statistics.median(v), 1) for m, v in runs.items()}
    return {
        "case": f"{W}x{H} I420",
        "frames": frames,
        "digits": args.digits,
        "runs": args.runs,
        "digit_us_per_frame": cost["digit"],
        "number_us_per_frame": cost["number"],
        "number_over_digit": round(cost["number"] / cost["digit"], 2),
        "digit_mean_inference_us": round(mean_inference_us(Gst, be, src, ""), 1),
        "number_mean_inference_us": round(mean_inference_us(
            Gst, be, src, "mode=number"), 1),
        "numbers_read_exactly": sum(t == r for t, r in zip(truth, read)),
    }


def print_table(r):
    print(f"cnnclassify per frame, {r['frames']} distinct {r['case']} frames"
          f" of {r['digits']}-digit numbers (kernels {r['kernels']};"
          f" medians of {r['runs']} runs)")
    print(f"  digit mode   {r['digit_us_per_frame']:8.1f} µs"
          f"   (inference {r['digit_mean_inference_us']:.1f} µs)")
    print(f"  number mode  {r['number_us_per_frame']:8.1f} µs"
          f"   (inference {r['number_mean_inference_us']:.1f} µs;"
          f" {r['numbers_read_exactly']} of {r['frames']} read exactly)")
    print(f"  number / digit  {r['number_over_digit']:.2f}  (target ≤ 2)")


def main():
    ap = bench_options.parser(runs=5)
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--digits", type=int, default=4)
    args = ap.parse_args()
    os.environ["GST_PLUGIN_PATH"] = os.path.join(args.build, "gst-cnn", "gst")

    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    Gst.init(None)

    with tempfile.TemporaryDirectory(prefix="bench-number-") as directory:
        result = measure(Gst, bench_element(), args, directory)
    result["kernels"] = os.environ.get("CNN_KERNELS", "default")
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
