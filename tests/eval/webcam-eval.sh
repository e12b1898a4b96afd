#!/bin/bash
# The webcam-like evaluation of cnnclassify: MNIST *test* digits drawn as
# a camera sees a digit written on paper (make-webcam-frames: ink on lit
# paper with a lighting gradient, random size, place and slight rotation,
# blur, sensor noise, clutter near the edges), classified by cnnclassify
# with its defaults through gst-launch-1.0, and scored against the
# labels: accuracy overall and per class, the confusions, the frames
# with no class.
#
# Two passes:
#   1. one frame per digit, smoothing off (the headline figure);
#   2. when cnnclassify has a `smoothing` property: each digit shown for
#      --repeat consecutive frames (the hand's small moves, fresh noise
#      each frame), classified side by side with smoothing=W and without;
#      frames are scored once the window holds only the current digit
#      (from the W-th frame of each digit on).
#
# The full evaluation (10,000 test digits), from the source tree:
#   meson setup build-eval && meson compile -C build-eval
#   tests/eval/webcam-eval.sh --build build-eval --all
#
# Options:
#   --count N          digits (default 1000);  --all: all 10,000
#   --seed S           scene seed (default 1)
#   --smoothing W      window for pass 2 (default 5); --no-smoothing skips it
#   --repeat K         frames per digit in pass 2 (default 8)
#   --png              PNG files read by multifilesrc ! pngdec, instead of
#                      raw frames piped into fdsrc ! rawvideoparse
#   --keep DIR         keep labels, messages and failures in DIR (and the
#                      frames, with --png); make-webcam-frames --first I
#                      --count 1 redraws digit I's frames to look at
#   --format FMT       videoconvert to FMT (e.g. I420) before cnnclassify
#   --props "P=V ..."  extra cnnclassify properties (default: none)
#   --min-accuracy P   exit 1 when pass 1 scores below P percent
#   --build DIR        build directory (default: build); MAKE_WEBCAM_FRAMES
#                      and GST_PLUGIN_PATH in the environment win
# MNIST comes from CNN_MNIST_DIR (default ../shared/data/mnist beside the
# source tree); without it the script exits 77 (skipped).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=SCRIPTDIR/eval-lib.sh
. "$top/tests/eval/eval-lib.sh"
# shellcheck disable=SC2034  # eval_* variables are read by eval-lib.sh
eval_name=webcam-eval
count=1000 all=0 seed=1 smoothing=5 repeat=8 use_png=0 keep="" format=""
props="" min_accuracy="" build="$top/build"

while [ $# -gt 0 ]; do
  case "$1" in
    --count) count=$2; shift ;;
    --all) all=1 ;;
    --seed) seed=$2; shift ;;
    --smoothing) smoothing=$2; shift ;;
    --no-smoothing) smoothing=0 ;;
    --repeat) repeat=$2; shift ;;
    --png) use_png=1 ;;
    --keep) keep=$2; shift ;;
    --format) format=$2; shift ;;
    --props) props=$2; shift ;;
    --min-accuracy) min_accuracy=$2; shift ;;
    --build) build=$(cd "$2" && pwd); shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) eval_die "unknown option '$1' (see --help)" ;;
  esac
  shift
done
case "$smoothing$repeat$count" in *[!0-9]*) eval_die "--smoothing, --repeat and --count take whole numbers" ;; esac
eval_gen=${MAKE_WEBCAM_FRAMES:-$build/tests/eval/make-webcam-frames}
eval_prepare "$smoothing" "$repeat" "$build" "$keep"
out=$eval_out
range=(--count "$count"); [ "$all" -eq 1 ] && range=(--all)
# shellcheck disable=SC2034
eval_gen_args=(--images "$eval_images" --labels "$eval_labels" "${range[@]}" --seed "$seed")
# shellcheck disable=SC2034
eval_use_png=$use_png eval_width=640 eval_height=480
# shellcheck disable=SC2034
eval_convert=""; [ -n "$format" ] && eval_convert="videoconvert ! video/x-raw,format=$format !"

# Scores branch $2 of pass $1 (frames per digit $4): the frames whose
# place in their digit's run (0-based) is at least $3; a frame without a
# message counts as wrong.  Prints the summary; the wrong frames (their
# labels line, then what came out) go to $out/$1-$2.failures.
# shellcheck disable=SC2317  # called by eval_two_passes
score () {
  local pass=$1 name=$2 from=$3 k=$4 base=$out/$1-$2
  awk -v name="$name" -v from="$from" -v k="$k" -v fails="$base.failures.tmp" \
    -v confusions="$base.confusions" '
    FNR == NR { if ($1 !~ /^#/ && $1 % k >= from) { label[$1] = $3; scene[$1] = $0 } next }
    $1 == name && ($2 in label) { cls[$2] = $3; conf[$2] = $4 }
    END {
      printf "" > fails; printf "" > confusions
      for (f in label) {
        t = label[f]; n++; per[t]++
        if (!(f in cls)) { missing++; printf "%s no message\n", scene[f] > fails }
        else if (cls[f] == t) { right++; ok[t]++ }
        else {
          if (cls[f] < 0) none++; else pair[t "→" cls[f]]++
          printf "%s predicted %d (%.3f)\n", scene[f], cls[f], conf[f] > fails
        }
      }
      if (n == 0) { print "  no frames to score"; print 0 > "/dev/stderr"; exit }
      printf "  accuracy %.2f%% (%d/%d)", 100 * right / n, right, n
      printf ", no class %d, no message %d\n", none, missing
      printf "  per class:"
      for (c = 0; c < 10; c++) printf " %d:%.1f%%", c, per[c] ? 100 * ok[c] / per[c] : 0
      printf "\n"
      for (c in pair) printf "%d %s\n", pair[c], c > confusions
      printf "%.2f\n", 100 * right / n > "/dev/stderr"
    }' "$out/$pass.labels" "$out/$pass.msgs" 2> "$base.accuracy"
  eval_report_confusions "$base"
}

what=$([ "$all" -eq 1 ] && echo "all 10000" || echo "the first $count")
echo "webcam-like evaluation: $what MNIST test digits, seed $seed, 640x480" \
  "$([ -n "$format" ] && echo "$format" || echo GRAY8)" \
  "via $([ "$use_png" -eq 1 ] && echo 'multifilesrc ! pngdec' || echo 'fdsrc ! rawvideoparse')," \
  "cnnclassify defaults${props:+ plus $props}"

eval_two_passes score digit "$smoothing" "$repeat" "$props"
accuracy=$(cat "$out/single-plain.accuracy")
[ -z "$keep" ] || echo "frames, labels, messages and failures kept in $keep"

eval_check "pass 1 accuracy" "$accuracy" min "$min_accuracy"
