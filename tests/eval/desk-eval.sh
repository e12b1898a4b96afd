#!/bin/bash
# The hard evaluation of cnnclassify (issue 11): MNIST *test* digits as a
# webcam sees them written on paper on a real desk (make-desk-frames:
# ruled and squared paper, pens from ballpoint to marker, light inks,
# uneven and low light, defocus and motion blur, MJPEG, fingers, table
# edges, shadows, perspective), one frame in ten blank paper, through
#   fdsrc ! rawvideoparse format=gray8 width=640 height=480 ! videoconvert
#     ! video/x-raw,format=I420 ! cnnclassify ! fakesink
# with every cnnclassify default (the bundled model).  Reports the digit
# accuracy and, for blank paper, the share of frames given a class
# (class-id != -1), overall and per condition: paper, pen, ink, light,
# blur, jpeg, clutter.
#
# Two passes:
#   1. one frame per scene, smoothing off (the headline figures);
#   2. when cnnclassify has a `smoothing` property: each scene shown for
#      --repeat frames (small moves, fresh noise), classified side by
#      side with smoothing=W and without, scored from each scene's W-th
#      frame on (when the window holds only that scene).
#
# Options:
#   --count N            digits (default 900, with 100 blank frames)
#   --seed S             scene seed (default 1)
#   --dev                the development set instead: the last 1,000 of the
#                        training digits (held out from training for
#                        validation), to tune preprocessing on; the test
#                        digits are for reporting only
#   --smoothing W        window for pass 2 (default 5); --no-smoothing skips it
#   --repeat K           frames per scene in pass 2 (default 8)
#   --keep DIR           keep labels, messages and failures in DIR;
#                        make-desk-frames --first I --count 1 -o D redraws
#                        digit I (and the blank after it when I+1 is a
#                        multiple of 9)
#   --props "P=V ..."    extra cnnclassify properties (default: none)
#   --min-accuracy P     exit 1 when pass 1's digit accuracy is below P %
#   --max-blank-rate P   exit 1 when pass 1 gives a class to more than P %
#                        of the blank frames
#   --build DIR          build directory (default: build); MAKE_DESK_FRAMES
#                        and GST_PLUGIN_PATH in the environment win
# MNIST comes from CNN_MNIST_DIR (default ../shared/data/mnist beside the
# source tree); without it the script exits 77 (skipped).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=SCRIPTDIR/eval-lib.sh
. "$top/tests/eval/eval-lib.sh"
# shellcheck disable=SC2034  # eval_* variables are read by eval-lib.sh
eval_name=desk-eval
dev=0 count=900 seed=1 smoothing=5 repeat=8 keep="" props="" min_accuracy=""
max_blank="" build="$top/build"

while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || case "$1" in --no-smoothing|--dev|-h|--help) ;; *) eval_die "$1 needs a value" ;; esac
  case "$1" in
    --count) count=$2; shift ;;
    --seed) seed=$2; shift ;;
    --smoothing) smoothing=$2; shift ;;
    --no-smoothing) smoothing=0 ;;
    --dev) dev=1 ;;
    --repeat) repeat=$2; shift ;;
    --keep) keep=$2; shift ;;
    --props) props=$2; shift ;;
    --min-accuracy) eval_need_number "$1" "$2"; min_accuracy=$2; shift ;;
    --max-blank-rate) eval_need_number "$1" "$2"; max_blank=$2; shift ;;
    --build) build=$(cd "$2" && pwd) || eval_die "--build $2: no such folder"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) eval_die "unknown option '$1' (see --help)" ;;
  esac
  shift
done
eval_check_counts "$smoothing" "$repeat" "$count" "$seed"
eval_gen=${MAKE_DESK_FRAMES:-$build/tests/eval/make-desk-frames}
eval_prepare "$smoothing" "$repeat" "$build" "$keep"
out=$eval_out
eval_set_digits "$dev" "$count" "$seed" 1000 digits
# shellcheck disable=SC2034
eval_use_png=0 eval_width=640 eval_height=480
# shellcheck disable=SC2034
eval_convert="videoconvert ! video/x-raw,format=I420 !"

# Scores branch $2 of pass $1 (frames per scene $4) on the frames whose
# place in their scene's run (0-based) is at least $3.  A digit frame
# without a message counts as wrong, a blank one as given no class.
# Prints a table per condition; the digit accuracy and the blank rate
# go to $out/$1-$2.figures, the frames that went wrong (their labels
# line, then what came out) to $out/$1-$2.failures.
# shellcheck disable=SC2317  # called by eval_two_passes
score () {
  local pass=$1 name=$2 from=$3 k=$4 base=$out/$1-$2
  awk -v name="$name" -v from="$from" -v k="$k" -v fails="$base.failures.tmp" \
    -v figures="$base.figures" -v confusions="$base.confusions" '
    BEGIN {
      order = "paper=plain paper=ruled paper=margin paper=squared " \
        "pen=ballpoint pen=gel pen=felt pen=marker ink=dark ink=light " \
        "light=even light=gradient light=vignette light=low " \
        "blur=none blur=defocus blur=motion jpeg=none jpeg=mild jpeg=strong " \
        "clutter=none clutter=finger clutter=table clutter=shadow"
      n_order = split(order, conds, " ")
    }
    FNR == NR {
      if ($1 !~ /^#/ && $1 % k >= from) { label[$1] = $3; scene[$1] = $0 }
      next
    }
    $1 == name && ($2 in label) { cls[$2] = $3; conf[$2] = $4 }
    function count(c, f) {
      if (label[f] >= 0) { nd[c]++; if (cls[f] == label[f]) rd[c]++ }
      else { nb[c]++; if (cls[f] >= 0) gb[c]++ }
    }
    function pct(a, b) { return b ? sprintf("%6.2f%%", 100 * a / b) : "      -" }
    END {
      printf "" > fails; printf "" > confusions
      for (f in label) {
        if (!(f in cls)) { missing++; cls[f] = -1 }
        count("all", f)
        n = split(scene[f], w, " ")
        for (i = 4; i <= n; i++) count(w[i], f)
        wrong = label[f] >= 0 ? cls[f] != label[f] : cls[f] >= 0
        if (wrong) {
          printf "%s predicted %d (%.3f)\n", scene[f], cls[f], conf[f] > fails
          if (label[f] >= 0 && cls[f] >= 0) pair[label[f] "→" cls[f]]++
          if (label[f] >= 0 && cls[f] < 0) none++
        }
      }
      printf "  %-18s %7s %9s %7s %14s\n", "condition", "digits", "accuracy", "blanks", "given a class"
      for (i = 0; i <= n_order; i++) {
        c = i ? conds[i] : "all"
        if (!nd[c] && !nb[c]) continue
        printf "  %-18s %7d %9s %7d %14s\n", c, nd[c], pct(rd[c], nd[c]), nb[c], pct(gb[c], nb[c])
      }
      printf "  digits given no class: %d; frames without a message: %d\n", none, missing
      for (c in pair) printf "%d %s\n", pair[c], c > confusions
      printf "%.2f %.2f\n", nd["all"] ? 100 * rd["all"] / nd["all"] : 0, \
        nb["all"] ? 100 * gb["all"] / nb["all"] : 0 > figures
    }' "$out/$pass.labels" "$out/$pass.msgs"
  eval_report_confusions "$base"
}

digits=$([ "$dev" -eq 1 ] && echo "development digits (training digits 9000 on)" || echo "MNIST test digits")
echo "desk evaluation: the first $count $digits and $((count / 9)) blank frames," \
  "seed $seed, 640x480 GRAY8 via fdsrc ! rawvideoparse ! videoconvert ! I420," \
  "cnnclassify defaults${props:+ plus $props}"

eval_two_passes score scene "$smoothing" "$repeat" "$props"
read -r accuracy blank_rate < "$out/single-plain.figures"
[ -z "$keep" ] || echo "labels, messages and failures kept in $keep"

status=0
eval_check "pass 1 digit accuracy" "$accuracy" min "$min_accuracy" || status=1
eval_check "pass 1 blank frames given a class" "$blank_rate" max "$max_blank" || status=1
exit $status
