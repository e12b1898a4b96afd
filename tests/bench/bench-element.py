#!/usr/bin/python3
"""cnnclassify's whole cost per frame in a pipeline (issue 6 item 1).

    bench-element.py [--build DIR] [--frames N] [--runs N] [--digit D]
                     [--case WxH:FORMAT ...] [--json]

For each case (default: 28x28 GRAY8, 640x480 I420, 1280x720 NV12) it
times, --runs times in turn,

    SOURCE ! cnnclassify ! fakesink sync=false
    SOURCE ! fakesink sync=false

and reports the medians of their wall time per frame and of the
difference: the element's whole cost per frame (region, preprocessing,
network, meta, message, bookkeeping), and the ratio of each case's cost
to the first case's.  SOURCE is one frame, made once and repeated by
imagefreeze: a digit (default 3, dark on white, half the frame's height)
drawn by textoverlay in the middle of the picture, so that at every size
the digit finder finds ink and the network runs on every frame; the
frames classified and the class found are reported to show it.

Pin it (taskset -c 1) on a shared machine.  Uses this build's plugin
(GST_PLUGIN_PATH) and Debian's python3-gi; CNN_KERNELS applies as usual.
Prints a table, or with --json one JSON object.
"""
import argparse
import json
import os
import statistics
import sys
import time

DEFAULT_CASES = ["28x28:GRAY8", "640x480:I420", "1280x720:NV12"]


def source(width, height, fmt, digit, frames):
    """One frame with a digit on it, repeated @frames times."""
    return (f"videotestsrc num-buffers=1 pattern=white"
            f" ! video/x-raw,format=I420,width={width},height={height}"
            f" ! textoverlay auto-resize=false text={digit}"
            f" font-desc=\"Sans Bold {max(height // 2, 1)}px\""
            f" valignment=center halignment=center color=0xff000000"
            f" ! videoconvert ! video/x-raw,format={fmt}"
            f" ! imagefreeze num-buffers={frames}")


def run(Gst, description, frames):
    """Wall µs per frame from PLAYING to EOS, and the element's figures."""
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
    element = pipeline.get_by_name("classify")
    stats = None
    if element is not None:
        stats = {"classified": element.get_property("frames-classified"),
                 "mean_us": element.get_property("mean-inference-time")}
    pipeline.set_state(Gst.State.NULL)
    return seconds * 1e6 / frames, stats


def last_class(Gst, src):
    """The class cnnclassify finds on the source frame (-1: none)."""
    pipeline = Gst.parse_launch(
        f"{src} ! cnnclassify name=classify ! fakesink sync=false")
    pipeline.set_state(Gst.State.PLAYING)
    bus = pipeline.get_bus()
    class_id = None
    while True:
        msg = bus.timed_pop_filtered(
            Gst.CLOCK_TIME_NONE, Gst.MessageType.EOS | Gst.MessageType.ERROR
            | Gst.MessageType.ELEMENT)
        if msg.type == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            if s.get_name() == "cnn-classification":
                class_id = s.get_value("class-id")
            continue
        if msg.type == Gst.MessageType.ERROR:
            err, _ = msg.parse_error()
            sys.exit(f"bench-element: {err.message}")
        break
    pipeline.set_state(Gst.State.NULL)
    return class_id


def measure(Gst, case, args):
    size, fmt = case.split(":")
    width, height = (int(v) for v in size.split("x"))
    src = source(width, height, fmt, args.digit, args.frames)
    with_element, without, cost = [], [], []
    stats = None
    for _ in range(args.runs):
        w, stats = run(Gst, f"{src} ! cnnclassify name=classify"
                       " ! fakesink sync=false", args.frames)
        wo, _ = run(Gst, f"{src} ! fakesink sync=false", args.frames)
        with_element.append(w)
        without.append(wo)
        cost.append(w - wo)
    return {
        "case": f"{width}x{height} {fmt}",
        "frames": args.frames,
        "runs": args.runs,
        "frames_classified": stats["classified"],
        "class_found": last_class(Gst, source(width, height, fmt, args.digit,
                                              2)),
        "element_mean_inference_us": round(stats["mean_us"], 1),
        "pipeline_us_per_frame": round(statistics.median(with_element), 1),
        "pipeline_without_element_us_per_frame":
            round(statistics.median(without), 1),
        "element_whole_us_per_frame": round(statistics.median(cost), 1),
    }


def print_table(result):
    print(f"cnnclassify's whole cost per frame (digit {result['digit']},"
          f" kernels {result['kernels']}; medians of {result['runs']} runs"
          f" of {result['frames']} frames)")
    print(f"{'case':<16}{'class':>6}{'classified':>11}{'element µs':>12}"
          f"{'inference µs':>14}{'ratio':>7}")
    for c in result["cases"]:
        print(f"{c['case']:<16}{c['class_found']:>6}"
              f"{c['frames_classified']:>11}"
              f"{c['element_whole_us_per_frame']:>12.1f}"
              f"{c['element_mean_inference_us']:>14.1f}"
              f"{c['ratio_to_first']:>7.2f}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(here, "..", "..", "build"))
    ap.add_argument("--frames", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--digit", default="3")
    ap.add_argument("--case", action="append",
                    help="WxH:FORMAT (repeatable; default: %s)"
                    % " ".join(DEFAULT_CASES))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    os.environ["GST_PLUGIN_PATH"] = os.path.join(args.build, "gst-cnn", "gst")

    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    Gst.init(None)

    cases = [measure(Gst, case, args) for case in args.case or DEFAULT_CASES]
    base = cases[0]["element_whole_us_per_frame"]
    for c in cases:
        c["ratio_to_first"] = round(c["element_whole_us_per_frame"] / base, 2)
    result = {"kernels": os.environ.get("CNN_KERNELS", "default"),
              "digit": args.digit, "frames": args.frames, "runs": args.runs,
              "cases": cases}
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
