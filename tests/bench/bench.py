#!/usr/bin/python3
"""gst-cnn's benchmark (issue 6 item 1): every figure in one run.

    bench.py [--build DIR] [--mnist-dir DIR] [--seconds S] [--frames N]
             [--runs N] [--train-steps N] [--onnxruntime] [--quick] [--json]

Runs this build's benchmarks one after the other, each pinned the same
way (1-thread figures on core 1, 2-thread figures on cores 0 and 1, as
bench-onnxruntime.sh does), and prints one table, or with --json one JSON
object:

  forward      bench-forward: batch 1 on 1 thread (median, p99 µs),
               batch 64 on 1 and 2 threads (images/s)
  preprocess   bench-preprocess: one frame's region → model input, µs
  element      bench-element.py: cnnclassify's whole cost per frame in
               pipelines of distinct frames (with the element minus
               without), 28x28 MNIST digits, 640x480 I420 and 1280x720
               NV12 desk frames; the message's share, and each cost over
               the bare network's
  number       bench-number.py: mode=number against digit mode on
               640x480 I420 frames of 4-digit numbers (issue 16: at most
               2 times)
  training     bench-train: batch 128 on 2 threads, images/s
  memory       bench-memory: model load time, RSS per cnnclassify
  instances    bench-instances: peak RSS of 1 and 17 cnnclassify
               instances of one model, 64x64 GRAY8, and per extra one
  onnxruntime  with --onnxruntime: bench-onnxruntime.sh's figures for
               ONNX Runtime on the same network and weights, and ours
               over its (needs onnxruntime-node, see that script)

A benchmark, not a test: it asserts nothing.  --quick runs each part for
a moment, to check that it all runs (CI does).
"""
import json
import os
import re
import subprocess
import sys

import bench_options

HERE = os.path.dirname(os.path.abspath(__file__))


def run_json(cmd, cores, env=None):
    """Runs @cmd pinned to @cores; its last output line, parsed."""
    full = ["taskset", "-c", cores] + cmd
    out = subprocess.run(full, check=True, stdout=subprocess.PIPE,
                         env=env, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure(args):
    bench = os.path.join(args.build, "tests", "bench")
    plugin_env = dict(os.environ,
                      GST_PLUGIN_PATH=os.path.join(args.build, "gst-cnn",
                                                   "gst"))
    result = {}
    # First, so that a missing ONNX Runtime or torch stops the run before
    # minutes of the other parts, not after.
    if args.onnxruntime:
        result["onnxruntime"] = onnxruntime(args)
    print("bench: forward pass ...", file=sys.stderr)
    one = run_json([os.path.join(bench, "bench-forward"), "--json",
                    "--seconds", str(args.seconds)], "1")
    two = run_json([os.path.join(bench, "bench-forward"), "--json",
                    "--seconds", str(args.seconds)], "0,1")
    result["forward"] = {
        "kernels": one["kernels"],
        "batch1_threads1_median_us": one["batch1_threads1_median_us"],
        "batch1_threads1_p99_us": one["batch1_threads1_p99_us"],
        "batch64_threads1_images_per_s": one["batch64_threads1_images_per_s"],
        "batch64_threads2_images_per_s": two["batch64_threads2_images_per_s"],
    }
    print("bench: preprocessing ...", file=sys.stderr)
    result["preprocess"] = run_json(
        [os.path.join(bench, "bench-preprocess"), "--json", "--seconds",
         str(args.seconds)], "1")
    print("bench: the element in pipelines ...", file=sys.stderr)
    result["element"] = run_json(
        ["/usr/bin/python3", os.path.join(HERE, "bench-element.py"),
         "--build", args.build, "--mnist-dir", args.mnist_dir, "--json",
         "--frames", str(args.frames),
         "--runs", str(args.runs), "--seconds", str(args.seconds)], "1")
    print("bench: number mode ...", file=sys.stderr)
    result["number"] = run_json(
        ["/usr/bin/python3", os.path.join(HERE, "bench-number.py"),
         "--build", args.build, "--mnist-dir", args.mnist_dir, "--json",
         "--runs", str(args.runs),
         "--frames", "10" if args.quick else "100"], "1")
    print("bench: training ...", file=sys.stderr)
    train = run_json([os.path.join(bench, "bench-train"), "--json",
                      "--threads", "2", "--steps", str(args.train_steps)],
                     "0,1")
    result["training"] = {"batch": train["batch"],
                          "optimizer": train["optimizer"],
                          "threads2_images_per_s":
                              train["images_per_s"]["2"]}
    print("bench: memory ...", file=sys.stderr)
    result["memory"] = run_json(
        [os.path.join(bench, "bench-memory"), "--runs",
         "3" if args.quick else "20"], "1", env=plugin_env)
    print("bench: instances of one model ...", file=sys.stderr)
    result["instances"] = run_json(
        [os.path.join(bench, "bench-instances"), "--json", "--instances",
         "3" if args.quick else "17"], "1", env=plugin_env)
    return result


def onnxruntime(args):
    """bench-onnxruntime.sh's per-engine JSON lines, and the ratios."""
    print("bench: ONNX Runtime side by side ...", file=sys.stderr)
    out = subprocess.run(
        ["sh", os.path.join(HERE, "bench-onnxruntime.sh"), "--build",
         args.build, "--seconds", str(args.seconds)], check=True,
        stdout=subprocess.PIPE, text=True).stdout
    lines = dict(re.findall(r"^(ort1|ort2|ours1|ours2): (\{.*\})$", out,
                            re.M))
    got = {k: json.loads(v) for k, v in lines.items()}
    ort1, ort2, ours1 = got["ort1"], got["ort2"], got["ours1"]
    ours2 = got["ours2"]
    return {
        "onnxruntime_version": ort1["onnxruntime"],
        "ort_batch1_threads1_median_us": ort1["batch1_threads1_median_us"],
        "ort_batch1_threads1_p99_us": ort1["batch1_threads1_p99_us"],
        "ort_batch64_threads1_images_per_s":
            round(ort1["batch64_threads1_images_per_s"]),
        "ort_batch64_threads2_images_per_s":
            round(ort2["batch64_threads2_images_per_s"]),
        "ours_batch1_threads1_median_us": ours1["batch1_threads1_median_us"],
        "ours_batch64_threads1_images_per_s":
            ours1["batch64_threads1_images_per_s"],
        "ours_batch64_threads2_images_per_s":
            ours2["batch64_threads2_images_per_s"],
        "batch1_time_ratio": round(ours1["batch1_threads1_median_us"]
                                   / ort1["batch1_threads1_median_us"], 2),
        "batch64_threads1_throughput_ratio": round(
            ours1["batch64_threads1_images_per_s"]
            / ort1["batch64_threads1_images_per_s"], 2),
        "batch64_threads2_throughput_ratio": round(
            ours2["batch64_threads2_images_per_s"]
            / ort2["batch64_threads2_images_per_s"], 2),
    }


def print_table(r):
    f, e = r["forward"], r["element"]
    print(f"forward pass, reference network (kernels {f['kernels']})")
    print(f"  batch 1, 1 thread     median {f['batch1_threads1_median_us']:8.1f}"
          f" µs   p99 {f['batch1_threads1_p99_us']:.1f} µs")
    print(f"  batch 64, 1 thread    {f['batch64_threads1_images_per_s']:8.0f}"
          " images/s")
    print(f"  batch 64, 2 threads   {f['batch64_threads2_images_per_s']:8.0f}"
          " images/s")
    print(f"preprocessing \"{r['preprocess']['spec']}\", one frame's"
          " region → 1x28x28 (median µs)")
    for name, v in r["preprocess"].items():
        if isinstance(v, dict):
            print(f"  {name:<20}  {v['median_us']:8.1f}")
    print(f"cnnclassify's whole cost per frame, distinct frames (medians of"
          f" {e['runs']} runs; bare network {e['bare_network_us']:.1f} µs)")
    for c in e["cases"]:
        print(f"  {c['case']:<20}  {c['element_whole_us_per_frame']:8.1f} µs"
              f"   × {c['ratio_to_bare_network']:.2f} of the network"
              f"   message {c['message_us_per_frame']:.1f} µs"
              f"   ({c['frames_given_a_class']} of {c['frames']} frames"
              " given a class)")
    n = r["number"]
    print(f"number mode, {n['frames']} frames of {n['digits']}-digit numbers"
          f" ({n['case']}): {n['number_us_per_frame']:.1f} µs against digit"
          f" mode's {n['digit_us_per_frame']:.1f}: × {n['number_over_digit']:.2f}"
          f" (target ≤ 2)")
    t = r["training"]
    print(f"training, batch {t['batch']} {t['optimizer']}, 2 threads"
          f"  {t['threads2_images_per_s']:8.0f} images/s")
    print("memory: " + json.dumps(r["memory"]))
    i = r["instances"]
    print(f"instances of one model ({i['caps']}): peak RSS"
          f" {i['peak_rss_1_kib'] / 1024:.1f} MB with 1,"
          f" {i['peak_rss_%d_kib' % i['instances']] / 1024:.1f} MB with"
          f" {i['instances']}: {i['per_extra_instance_kib'] / 1024:.2f} MB"
          " per extra instance")
    o = r.get("onnxruntime")
    if o:
        print("ONNX Runtime, same network and weights (ours / ORT)")
        print(f"  batch 1, 1 thread     {o['ours_batch1_threads1_median_us']:.1f}"
              f" / {o['ort_batch1_threads1_median_us']:.1f} µs"
              f"   ratio {o['batch1_time_ratio']:.2f} (target ≤ 0.45)")
        print(f"  batch 64, 1 thread    "
              f"{o['ours_batch64_threads1_images_per_s']:.0f}"
              f" / {o['ort_batch64_threads1_images_per_s']:.0f} images/s"
              f"   ratio {o['batch64_threads1_throughput_ratio']:.2f}"
              " (target ≥ 1.6)")
        print(f"  batch 64, 2 threads   "
              f"{o['ours_batch64_threads2_images_per_s']:.0f}"
              f" / {o['ort_batch64_threads2_images_per_s']:.0f} images/s"
              f"   ratio {o['batch64_threads2_throughput_ratio']:.2f}")


def main():
    ap = bench_options.parser(runs=5)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--frames", type=int, default=10000)
    ap.add_argument("--train-steps", type=int, default=15)
    ap.add_argument("--onnxruntime", action="store_true")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    if args.quick:
        args.seconds, args.frames, args.runs, args.train_steps = 0.2, 20, 1, 2
    try:
        result = measure(args)
    except subprocess.CalledProcessError as e:
        # The part has said what is wrong on stderr already.
        sys.exit(f"bench: '{' '.join(e.cmd)}' failed (exit status"
                 f" {e.returncode}); nothing measured is printed")
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
