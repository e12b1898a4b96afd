#!/usr/bin/python3
"""cnnclassify's whole cost per frame in a pipeline, on distinct frames.

    bench-element.py [--build DIR] [--mnist-dir DIR] [--frames N]
                     [--runs N] [--case WxH:FORMAT ...] [--json]

Each case (default: 28x28 GRAY8, 640x480 I420, 1280x720 NV12) plays a
raw video file of distinct frames, made once before timing:

  28x28 GRAY8    the first --frames MNIST test digits (default 10,000),
                 as the network's own input size;
  640x480 and up webcam-like desk frames of MNIST test digits from
                 tests/eval/make-desk-frames (--frames / 30 of them, 20
                 to 200), converted to the case's size and format by
                 videoscale and videoconvert.

A frozen, repeated frame would hide costs (caches stay warm, the digit
finder's work never changes), so none is used.  For each case it times,
--runs times in turn and on the same file,

    filesrc ! rawvideoparse ! cnnclassify [VARIANT] ! fakesink sync=false
    filesrc ! rawvideoparse ! fakesink sync=false

and reports the median of the difference per frame for each variant:

  defaults       every default, as a user runs it;
  no-messages    post-messages=false: the message's cost is the
                 difference between the two;
  network-only   also preprocess=resize (28x28 only: the region is the
                 input, so this is the network and the element's
                 bookkeeping).

In the same run it times the bare network at batch 1 (bench-forward,
1 thread, same kernels) and gives each case's defaults cost over it.

Pin it (taskset -c 1) on a shared machine.  Uses this build's plugin
(GST_PLUGIN_PATH) and Debian's python3-gi; CNN_KERNELS applies as usual.
Prints a table, or with --json one JSON object.
"""
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import bench_options

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CASES = ["28x28:GRAY8", "640x480:I420", "1280x720:NV12"]
VARIANTS = {
    "defaults": "",
    "no-messages": "post-messages=false",
    "network-only": "post-messages=false preprocess=resize",
}
DESK_W, DESK_H = 640, 480
MAX_LARGE_FRAMES = 200          # 1280x720 NV12: 276 MB of frames


def read_idx_images(path, count):
    """The first @count images of an IDX file: bytes, and their side."""
    with gzip.open(path, "rb") as f:
        header = f.read(16)
        n = int.from_bytes(header[4:8], "big")
        rows = int.from_bytes(header[8:12], "big")
        cols = int.from_bytes(header[12:16], "big")
        count = min(count, n)
        return f.read(count * rows * cols), count, cols, rows


def mnist_file(args, directory):
    """A raw GRAY8 file of distinct MNIST test digits; its frame count."""
    images = os.path.join(args.mnist_dir, "t10k-images-idx3-ubyte.gz")
    data, count, w, h = read_idx_images(images, args.frames)
    path = os.path.join(directory, f"mnist-{w}x{h}.gray8")
    with open(path, "wb") as f:
        f.write(data)
    return path, count


def desk_frames(args, directory, count):
    """A raw 640x480 GRAY8 file of @count desk frames (made once)."""
    path = os.path.join(directory, f"desk-{count}.gray8")
    if os.path.exists(path):
        return path
    tool = os.path.join(args.build, "tests", "eval", "make-desk-frames")
    with open(path, "wb") as out:
        subprocess.run([tool, "--images",
                        os.path.join(args.mnist_dir,
                                     "t10k-images-idx3-ubyte.gz"),
                        "--labels",
                        os.path.join(args.mnist_dir,
                                     "t10k-labels-idx1-ubyte.gz"),
                        "-n", str(count), "--raw",
                        "--labels-out", os.devnull],
                       check=True, stdout=out, stderr=subprocess.DEVNULL)
    return path


def raw_source(path, width, height, fmt):
    return (f"filesrc location={path} blocksize=-1"
            f" ! rawvideoparse use-sink-caps=false format={fmt.lower()}"
            f" width={width} height={height} framerate=30/1")


def converted_file(Gst, args, directory, width, height, fmt):
    """Desk frames at @width x @height in @fmt; the path and count."""
    count = min(max(20, args.frames // 30), MAX_LARGE_FRAMES)
    desk = desk_frames(args, directory, count)
    path = os.path.join(directory, f"desk-{width}x{height}.{fmt.lower()}")
    launch(Gst, f"{raw_source(desk, DESK_W, DESK_H, 'GRAY8')}"
           " ! videoscale ! videoconvert"
           f" ! video/x-raw,format={fmt},width={width},height={height}"
           f" ! filesink location={path}")
    return path, count


def launch(Gst, description):
    """Plays @description to EOS; wall seconds from PLAYING."""
    pipeline = Gst.parse_launch(description)
    pipeline.set_state(Gst.State.PAUSED)
    pipeline.get_state(Gst.CLOCK_TIME_NONE)
    bus = pipeline.get_bus()
    start = time.monotonic()
    pipeline.set_state(Gst.State.PLAYING)
    msg = bus.timed_pop_filtered(Gst.CLOCK_TIME_NONE,
                                 Gst.MessageType.EOS | Gst.MessageType.ERROR)
    seconds = time.monotonic() - start
    if msg.type == Gst.MessageType.ERROR:
        err, _ = msg.parse_error()
        sys.exit(f"bench-element: {err.message}")
    pipeline.set_state(Gst.State.NULL)
    return seconds


def play_to_eos(Gst, description, on_classification):
    """Plays @description to EOS, calling @on_classification with each
    cnn-classification message's structure; the pipeline, still at EOS
    (read its elements' properties, then set it to NULL)."""
    pipeline = Gst.parse_launch(description)
    pipeline.set_state(Gst.State.PLAYING)
    bus = pipeline.get_bus()
    while True:
        msg = bus.timed_pop_filtered(
            Gst.CLOCK_TIME_NONE, Gst.MessageType.EOS | Gst.MessageType.ERROR
            | Gst.MessageType.ELEMENT)
        if msg.type == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            if s.get_name() == "cnn-classification":
                on_classification(s)
            continue
        if msg.type == Gst.MessageType.ERROR:
            err, _ = msg.parse_error()
            sys.exit(f"{os.path.basename(sys.argv[0])}: {err.message}")
        return pipeline


def frames_classified(Gst, src, props):
    """The frames cnnclassify classified, and those given a class."""
    with_class = [0]

    def count(s):
        with_class[0] += s.get_value("class-id") >= 0
    pipeline = play_to_eos(Gst, f"{src} ! cnnclassify name=classify {props}"
                           " ! fakesink sync=false", count)
    classified = pipeline.get_by_name("classify").get_property(
        "frames-classified")
    pipeline.set_state(Gst.State.NULL)
    return classified, with_class[0]


def time_variant(Gst, src, props, frames, runs):
    """Median µs per frame of the element, @runs alternating runs."""
    cost = []
    for _ in range(runs):
        with_s = launch(Gst, f"{src} ! cnnclassify {props}"
                        " ! fakesink sync=false")
        without_s = launch(Gst, f"{src} ! fakesink sync=false")
        cost.append((with_s - without_s) * 1e6 / frames)
    return round(statistics.median(cost), 1)


def measure(Gst, case, args, directory):
    size, fmt = case.split(":")
    width, height = (int(v) for v in size.split("x"))
    if (width, height, fmt) == (28, 28, "GRAY8"):
        path, frames = mnist_file(args, directory)
        variants = list(VARIANTS)
    else:
        path, frames = converted_file(Gst, args, directory, width, height,
                                      fmt)
        variants = ["defaults", "no-messages"]
    src = raw_source(path, width, height, fmt)
    classified, with_class = frames_classified(Gst, src, "")
    costs = {v: time_variant(Gst, src, VARIANTS[v], frames, args.runs)
             for v in variants}
    return {
        "case": f"{width}x{height} {fmt}",
        "frames": frames,
        "frames_classified": classified,
        "frames_given_a_class": with_class,
        "element_us_per_frame": costs,
        "element_whole_us_per_frame": costs["defaults"],
        "message_us_per_frame": round(costs["defaults"]
                                      - costs["no-messages"], 1),
    }


def bare_network_us(args):
    """bench-forward's batch-1, 1-thread median with this model, µs."""
    tool = os.path.join(args.build, "tests", "bench", "bench-forward")
    out = subprocess.run([tool, "--json", "--seconds", str(args.seconds)],
                         check=True, stdout=subprocess.PIPE, text=True,
                         stderr=subprocess.DEVNULL).stdout
    return json.loads(out.strip().splitlines()[-1])["batch1_threads1_median_us"]


def print_table(result):
    print(f"cnnclassify's whole cost per frame on distinct frames (kernels"
          f" {result['kernels']}; medians of {result['runs']} runs; bare"
          f" network {result['bare_network_us']:.1f} µs)")
    print(f"{'case':<16}{'frames':>7}{'class':>7}{'defaults':>10}"
          f"{'no msgs':>9}{'net only':>10}{'message':>9}{'× net':>7}")
    for c in result["cases"]:
        e = c["element_us_per_frame"]
        net = e.get("network-only")
        print(f"{c['case']:<16}{c['frames']:>7}{c['frames_given_a_class']:>7}"
              f"{e['defaults']:>10.1f}{e['no-messages']:>9.1f}"
              f"{(f'{net:.1f}' if net is not None else '-'):>10}"
              f"{c['message_us_per_frame']:>9.1f}"
              f"{c['ratio_to_bare_network']:>7.2f}")


def main():
    ap = bench_options.parser(runs=5)
    ap.add_argument("--frames", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=2.0,
                    help="bench-forward's time for the bare network")
    ap.add_argument("--case", action="append",
                    help="WxH:FORMAT (repeatable; default: %s)"
                    % " ".join(DEFAULT_CASES))
    args = ap.parse_args()
    os.environ["GST_PLUGIN_PATH"] = os.path.join(args.build, "gst-cnn", "gst")

    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    Gst.init(None)

    bare = bare_network_us(args)
    with tempfile.TemporaryDirectory(prefix="bench-element-") as directory:
        cases = [measure(Gst, case, args, directory)
                 for case in args.case or DEFAULT_CASES]
    base = cases[0]["element_whole_us_per_frame"]
    for c in cases:
        c["ratio_to_first"] = round(c["element_whole_us_per_frame"] / base, 2)
        c["ratio_to_bare_network"] = round(c["element_whole_us_per_frame"]
                                           / bare, 2)
    result = {"kernels": os.environ.get("CNN_KERNELS", "default"),
              "runs": args.runs, "bare_network_us": bare, "cases": cases}
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
