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
count=1000 all=0 seed=1 smoothing=5 repeat=8 use_png=0 keep="" format=""
props="" min_accuracy="" build="$top/build"

die () { echo "webcam-eval: $*" >&2; exit 2; }
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
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done
case "$smoothing$repeat$count" in *[!0-9]*) die "--smoothing, --repeat and --count take whole numbers" ;; esac
[ "$smoothing" -eq 0 ] || [ "$repeat" -ge "$smoothing" ] \
  || die "--repeat ($repeat) must be at least the smoothing window ($smoothing)"

gen=${MAKE_WEBCAM_FRAMES:-$build/tests/eval/make-webcam-frames}
export GST_PLUGIN_PATH=${GST_PLUGIN_PATH:-$build/gst-cnn/gst}
export GST_REGISTRY=${GST_REGISTRY:-$build/tests/eval/eval.registry}
mnist=${CNN_MNIST_DIR:-$top/../shared/data/mnist}
images=$mnist/t10k-images-idx3-ubyte.gz
labels=$mnist/t10k-labels-idx1-ubyte.gz
if [ ! -f "$images" ] || [ ! -f "$labels" ]; then
  echo "SKIP: no MNIST test set in $mnist"
  exit 77
fi
[ -x "$gen" ] || die "$gen: not built (meson compile -C $build)"
gst-inspect-1.0 cnnclassify > /dev/null 2>&1 \
  || die "cnnclassify not found in GST_PLUGIN_PATH=$GST_PLUGIN_PATH"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=${keep:-$work}
mkdir -p "$out"
range=(--count "$count"); [ "$all" -eq 1 ] && range=(--all)
convert=""; [ -n "$format" ] && convert="videoconvert ! video/x-raw,format=$format !"

# Frames of pass $1 (frames per digit $2) through the cnnclassify
# branches given as the rest ("NAME PROPS..." each), one message line per
# frame and branch in $out/$1.msgs; the labels in $out/$1.labels.
run_pass () {
  local pass=$1 k=$2; shift 2
  local dir=$out/$pass-frames branches="" b
  for b in "$@"; do
    branches="$branches t. ! queue max-size-buffers=4 ! cnnclassify name=$b ! fakesink sync=false"
  done
  if [ "$use_png" -eq 1 ]; then
    "$gen" --images "$images" --labels "$labels" "${range[@]}" --seed "$seed" \
      --repeat "$k" -o "$dir" --labels-out "$out/$pass.labels"
    # shellcheck disable=SC2086
    gst-launch-1.0 -m multifilesrc location="$dir/frame-%05d.png" index=0 \
      caps=image/png,framerate=30/1 ! pngdec ! $convert tee name=t $branches \
      > "$out/$pass.log" 2>&1 || { tail -20 "$out/$pass.log"; die "gst-launch-1.0 failed"; }
    [ -n "$keep" ] || rm -rf "$dir"
  else
    # shellcheck disable=SC2086
    "$gen" --images "$images" --labels "$labels" "${range[@]}" --seed "$seed" \
      --repeat "$k" --raw --labels-out "$out/$pass.labels" \
      | gst-launch-1.0 -m fdsrc fd=0 ! rawvideoparse format=gray8 width=640 \
          height=480 framerate=30/1 ! $convert tee name=t $branches \
          > "$out/$pass.log" 2>&1 || { tail -20 "$out/$pass.log"; die "gst-launch-1.0 failed"; }
  fi
  # "element": branch name; the frame from the timestamp (30 frames/s).
  sed -n 's/^Got message #[0-9]* from element "\([^"]*\)" (element): cnn-classification, \(.*\)$/\1 \2/p' \
    "$out/$pass.log" | awk '{
      name = $1; cls = ""; conf = ""; ts = ""
      if (match($0, /class-id=\(int\)-?[0-9]+/)) cls = substr($0, RSTART + 14, RLENGTH - 14)
      if (match($0, /confidence=\(double\)[-0-9.e+]+/)) conf = substr($0, RSTART + 19, RLENGTH - 19)
      if (match($0, /[ ,]timestamp=\(guint64\)[0-9]+/)) ts = substr($0, RSTART + 20, RLENGTH - 20)
      if (match($0, /roi-x=\(uint\)[0-9]+, roi-y=\(uint\)[0-9]+, roi-width=\(uint\)[0-9]+, roi-height=\(uint\)[0-9]+/))
        roi = substr($0, RSTART, RLENGTH)
      printf "%s %d %d %s\n", name, int(ts * 30 / 1e9 + 0.5), cls, conf
      if (!seen[name]++) print roi > "/dev/stderr"
    }' > "$out/$pass.msgs" 2> "$out/$pass.roi"
}

# Scores branch $2 of pass $1 (frames per digit $4): the frames whose
# place in their digit's run (0-based) is at least $3; a frame without a
# message counts as wrong.  Prints the summary; the wrong frames (their
# labels line, then what came out) go to $out/$1-$2.failures.
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
  sort -n "$base.failures.tmp" > "$base.failures" && rm -f "$base.failures.tmp"
  echo "  confusions (true→predicted ×count):" \
    "$(sort -rn "$base.confusions" | head -12 \
      | awk '{ printf "%s%s×%d", (NR > 1 ? ", " : ""), $2, $1 } END { if (!NR) printf "none" }')"
}

what=$([ "$all" -eq 1 ] && echo "all 10000" || echo "the first $count")
echo "webcam-like evaluation: $what MNIST test digits, seed $seed, 640x480" \
  "$([ -n "$format" ] && echo "$format" || echo GRAY8)" \
  "via $([ "$use_png" -eq 1 ] && echo 'multifilesrc ! pngdec' || echo 'fdsrc ! rawvideoparse')," \
  "cnnclassify defaults${props:+ plus $props}"

elapsed () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
t0=$(date +%s.%N)
run_pass single 1 "plain $props"
t1=$(date +%s.%N)
echo "pass 1: one frame per digit, smoothing off ($(head -1 "$out/single.roi"))"
score single plain 0 1
accuracy=$(cat "$out/single-plain.accuracy")
echo "  took $(elapsed "$t0" "$t1") s (generation and classification)"

if [ "$smoothing" -gt 0 ]; then
  if gst-inspect-1.0 cnnclassify 2>/dev/null | grep -q '^ *smoothing '; then
    t0=$(date +%s.%N)
    run_pass repeated "$repeat" "plain $props" "smooth smoothing=$smoothing $props"
    t1=$(date +%s.%N)
    echo "pass 2: each digit for $repeat frames (jitter, fresh noise), scored from its frame $smoothing on"
    echo " smoothing off:"
    score repeated plain "$((smoothing - 1))" "$repeat"
    echo " smoothing=$smoothing:"
    score repeated smooth "$((smoothing - 1))" "$repeat"
    echo "  took $(elapsed "$t0" "$t1") s (generation and both classifications)"
  else
    echo "pass 2 skipped: this cnnclassify has no 'smoothing' property yet"
  fi
fi
[ -z "$keep" ] || echo "frames, labels, messages and failures kept in $keep"

if [ -n "$min_accuracy" ]; then
  if awk -v a="$accuracy" -v m="$min_accuracy" 'BEGIN { exit !(a >= m) }'; then
    echo "ok: pass 1 accuracy $accuracy% >= $min_accuracy%"
  else
    echo "FAIL: pass 1 accuracy $accuracy% < $min_accuracy%"
    exit 1
  fi
fi
