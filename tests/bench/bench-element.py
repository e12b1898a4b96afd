#!/usr/bin/python3
"""cnnclassify's whole cost per frame in a pipeline, beside the network's.

    bench-element.py [--build DIR] [--frames N] [--size WxH] [--format F]
                     [--pattern P]

Runs videotestsrc ! video/x-raw,format=F,width=W,height=H ! cnnclassify
! fakesink sync=false to the end, and the same pipeline without
cnnclassify, and prints one JSON object: the element's own figure
(mean-inference-time: preprocessing and network pass, µs), the pipeline's
wall time per frame with and without the element, and their difference
(the element's whole cost: preprocessing, network, meta, bookkeeping).
Pin it (taskset -c 1) on a shared machine.  Uses this build's plugin
(GST_PLUGIN_PATH) and Debian's python3-gi; CNN_KERNELS applies as usual.
"""
import argparse
import json
import os
import sys
import time


def run(Gst, description, frames):
    pipeline = Gst.parse_launch(description)
    start = time.monotonic()
    pipeline.set_state(Gst.State.PLAYING)
    msg = pipeline.get_bus().timed_pop_filtered(
        Gst.CLOCK_TIME_NONE, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    seconds = time.monotonic() - start
    if msg.type == Gst.MessageType.ERROR:
        err, _ = msg.parse_error()
        sys.exit(f"bench-element: {err.message}")
    element = pipeline.get_by_name("classify")
    stats = None
    if element is not None:
        stats = (element.get_property("frames-classified"),
                 element.get_property("mean-inference-time"))
    pipeline.set_state(Gst.State.NULL)
    return seconds * 1e6 / frames, stats


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(here, "..", "..", "build"))
    ap.add_argument("--frames", type=int, default=3000)
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--format", default="GRAY8")
    ap.add_argument("--pattern", default="ball")
    args = ap.parse_args()
    os.environ["GST_PLUGIN_PATH"] = os.path.join(args.build, "gst-cnn", "gst")

    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    Gst.init(None)

    width, height = args.size.split("x")
    source = (f"videotestsrc num-buffers={args.frames} pattern={args.pattern}"
              f" ! video/x-raw,format={args.format},width={width},"
              f"height={height}")
    without, _ = run(Gst, f"{source} ! fakesink sync=false", args.frames)
    with_element, (classified, mean_us) = run(
        Gst, f"{source} ! cnnclassify name=classify ! fakesink sync=false",
        args.frames)
    print(json.dumps({
        "source": f"{args.format} {args.size} {args.pattern}",
        "frames": args.frames,
        "frames_classified": classified,
        "kernels": os.environ.get("CNN_KERNELS", "default"),
        "element_mean_inference_us": round(mean_us, 1),
        "pipeline_us_per_frame": round(with_element, 1),
        "pipeline_without_element_us_per_frame": round(without, 1),
        "element_whole_us_per_frame": round(with_element - without, 1),
    }))


if __name__ == "__main__":
    main()
