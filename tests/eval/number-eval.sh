#!/bin/bash
# The number evaluation of cnnclassify mode=number (issue 16): numbers of
# 2 to 5 MNIST *test* digits written on a line of a sheet as a webcam
# sees them (make-number-frames: plain, ruled or squared paper; digits
# 40 to 110 px high with gaps of 0.05 to 0.4 heights, one gap in seven
# closed; a wavering baseline, the line turned up to ±8°; ballpoint to
# felt pens, dark ink, even to vignetted light, mild blur and MJPEG),
# through
#   fdsrc ! rawvideoparse format=gray8 width=640 height=480 ! videoconvert
#     ! video/x-raw,format=I420 ! cnnclassify mode=number ! fakesink
# with every other cnnclassify default (the bundled model, the whole
# frame as the region).  Reports the share of numbers read exactly (the
# message's text), the digit accuracy (1 - edit distance / digits, so
# that a digit missed or added counts once), the share read with the
# right number of digits, overall and per condition.
#
# Passes:
#   1. one frame per number, smoothing off (the headline figures);
#   2. with --smoothing W (default off): each number shown for --repeat
#      frames (fresh sensor noise), read with smoothing=W, scored from
#      each number's W-th frame on;
#   3. with --single-digits: every digit of those numbers alone in a
#      frame of its own, where it was in its number's scene, classified
#      by cnnclassify in digit mode with the whole frame as the region
#      (roi=0,0,640,480, as number mode's): the single-digit figure of
#      the same digits and conditions, which the number's digit accuracy
#      is to be compared with.
#
# Options:
#   --count N            numbers (default 300; frame F shows digits 5F..)
#   --seed S             scene seed (default 1)
#   --dev                the development set: the last 1,000 of the
#                        training digits (held out from training), to tune
#                        the segmentation on; the test digits are for
#                        reporting only
#   --hard               also light inks and low light (make-number-frames)
#   --smoothing W        pass 2 with window W; --repeat K frames a number
#                        (default 8)
#   --single-digits      pass 3
#   --keep DIR           keep labels, logs and failures in DIR
#   --props "P=V ..."    extra cnnclassify properties (default: none)
#   --min-exact P        exit 1 when pass 1 reads fewer than P % exactly
#   --min-digits P       exit 1 when pass 1's digit accuracy is below P %
#   --build DIR          build directory (default: build);
#                        MAKE_NUMBER_FRAMES and GST_PLUGIN_PATH in the
#                        environment win
# MNIST comes from CNN_MNIST_DIR (default ../shared/data/mnist beside the
# source tree); without it the script exits 77 (skipped).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=SCRIPTDIR/eval-lib.sh
. "$top/tests/eval/eval-lib.sh"
# shellcheck disable=SC2034  # eval_* variables are read by eval-lib.sh
eval_name=number-eval
dev=0 hard=0 count=300 seed=1 smoothing=0 repeat=8 keep="" props=""
single=0 min_exact="" min_digits="" build="$top/build"

while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || case "$1" in --dev|--hard|--single-digits|-h|--help) ;; *) eval_die "$1 needs a value" ;; esac
  case "$1" in
    --count) count=$2; shift ;;
    --seed) seed=$2; shift ;;
    --dev) dev=1 ;;
    --hard) hard=1 ;;
    --smoothing) smoothing=$2; shift ;;
    --repeat) repeat=$2; shift ;;
    --single-digits) single=1 ;;
    --keep) keep=$2; shift ;;
    --props) props=$2; shift ;;
    --min-exact) eval_need_number "$1" "$2"; min_exact=$2; shift ;;
    --min-digits) eval_need_number "$1" "$2"; min_digits=$2; shift ;;
    --build) build=$(cd "$2" && pwd) || eval_die "--build $2: no such folder"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) eval_die "unknown option '$1' (see --help)" ;;
  esac
  shift
done
eval_check_counts "$smoothing" "$repeat" "$count" "$seed"
eval_gen=${MAKE_NUMBER_FRAMES:-$build/tests/eval/make-number-frames}
eval_prepare "$smoothing" "$repeat" "$build" "$keep"
out=$eval_out
eval_set_digits "$dev" "$count" "$seed" 200 numbers
[ "$hard" -eq 0 ] || eval_gen_args+=(--hard)
gen_args=("${eval_gen_args[@]}")
# shellcheck disable=SC2034
eval_use_png=0 eval_width=640 eval_height=480
# shellcheck disable=SC2034
eval_convert="videoconvert ! video/x-raw,format=I420 !"

# The texts of the cnn-classification messages of log $1, one line per
# message in $2: "BRANCH FRAME TEXT" ("-" for no digits), the frame from
# the timestamp at 30 frames/s.  GStreamer quotes and escapes a text
# that is not all digits ("\?3373").
texts_of () {
  sed -n 's/^Got message #[0-9]* from element "\([^"]*\)" (element): cnn-classification, \(.*\)$/\1 \2/p' \
    "$1" | awk '{
      name = $1; ts = ""; text = ""
      if (match($0, /[ ,]timestamp=\(guint64\)[0-9]+/)) ts = substr($0, RSTART + 20, RLENGTH - 20)
      if (match($0, /text=\(string\)("([^"\\]|\\.)*"|[^,;]*)/)) {
        text = substr($0, RSTART + 13, RLENGTH - 13)
        gsub(/^"|"$/, "", text); gsub(/\\/, "", text)
      }
      printf "%s %d %s\n", name, int(ts * 30 / 1e9 + 0.5), text == "" ? "-" : text
    }' > "$2"
}

# Scores branch $2 of pass $1 (frames per number $4) from the $3-th
# frame of each number's run: exact, digits, count, per condition; the
# figures to $out/$1-$2.figures, failures to $out/$1-$2.failures.
# shellcheck disable=SC2317  # called by eval_two_passes
score () {
  local pass=$1 name=$2 from=$3 k=$4 base=$out/$1-$2
  texts_of "$out/$pass.log" "$out/$pass.texts"
  awk -v name="$name" -v from="$from" -v k="$k" -v fails="$base.failures" \
    -v figures="$base.figures" '
    BEGIN {
      order = "paper=plain paper=ruled paper=squared pen=ballpoint pen=gel " \
        "pen=felt ink=dark ink=light light=even light=gradient " \
        "light=vignette light=low blur=none blur=defocus blur=motion " \
        "jpeg=none jpeg=mild digits=2 digits=3 digits=4 digits=5 " \
        "touching=no touching=yes"
      n_order = split(order, conds, " ")
    }
    function distance(a, b,   i, j, la, lb, d, c) {
      la = length(a); lb = length(b)
      for (i = 0; i <= la; i++) d[i, 0] = i
      for (j = 0; j <= lb; j++) d[0, j] = j
      for (i = 1; i <= la; i++)
        for (j = 1; j <= lb; j++) {
          c = d[i - 1, j - 1] + (substr(a, i, 1) != substr(b, j, 1))
          if (d[i - 1, j] + 1 < c) c = d[i - 1, j] + 1
          if (d[i, j - 1] + 1 < c) c = d[i, j - 1] + 1
          d[i, j] = c
        }
      return d[la, lb]
    }
    FNR == NR {
      if ($1 !~ /^#/ && $1 % k >= from) { truth[$1] = $3; scene[$1] = $0 }
      next
    }
    $1 == name && ($2 in truth) { read[$2] = $3 == "-" ? "" : $3 }
    function count(c, t, r, e) {
      n[c]++; if (r == t) ex[c]++; if (length(r) == length(t)) len[c]++
      dig[c] += length(t); dist[c] += e
    }
    function pct(a, b) { return b ? sprintf("%6.2f%%", 100 * a / b) : "      -" }
    END {
      printf "" > fails
      for (f in truth) {
        if (!(f in read)) { missing++; read[f] = "" }
        t = truth[f]; r = read[f]; e = distance(t, r)
        if (e > length(t)) e = length(t)
        count("all", t, r, e)
        m = split(scene[f], w, " ")
        for (i = 4; i <= m; i++) count(w[i], t, r, e)
        if (r != t) printf "%s read \"%s\"\n", scene[f], r > fails
      }
      printf "  %-16s %7s %9s %9s %9s\n", "condition", "numbers", "exact", "digits", "count"
      for (i = 0; i <= n_order; i++) {
        c = i ? conds[i] : "all"
        if (!n[c]) continue
        printf "  %-16s %7d %9s %9s %9s\n", c, n[c], pct(ex[c], n[c]), pct(dig[c] - dist[c], dig[c]), pct(len[c], n[c])
      }
      printf "  frames without a message: %d\n", missing
      printf "%.2f %.2f\n", 100 * ex["all"] / n["all"], 100 * (dig["all"] - dist["all"]) / dig["all"] > figures
    }' "$out/$pass.labels" "$out/$pass.texts"
}

digits=$([ "$dev" -eq 1 ] && echo "development digits (training digits 9000 on)" || echo "MNIST test digits")
echo "number evaluation: $count numbers of 2 to 5 $digits, seed $seed$([ "$hard" -eq 0 ] || echo ", hard light and ink")," \
  "640x480 GRAY8 via fdsrc ! rawvideoparse ! videoconvert ! I420," \
  "cnnclassify mode=number${props:+ plus $props}"
eval_two_passes score number "$smoothing" "$repeat" "mode=number $props"
read -r exact digit_accuracy < "$out/single-plain.figures"

if [ "$single" -eq 1 ]; then
  # Pass 3: the same digits alone, digit mode, default region.
  t0=$(date +%s.%N)
  # shellcheck disable=SC2034
  eval_gen_args=("${gen_args[@]}" --alone)
  eval_run_pass alone 1 "plain roi=0,0,640,480 $props"
  t1=$(date +%s.%N)
  awk 'FNR == NR { if ($1 !~ /^#/) label[$1] = $3; next }
    $1 == "plain" && ($2 in label) { n++; if ($3 == label[$2]) ok++ }
    END { printf "pass 3: the %d digits alone, digit mode, the whole frame: %.2f%% read (the single-digit figure)\n", n, 100 * ok / n }' \
    "$out/alone.labels" "$out/alone.msgs"
  echo "  took $(eval_elapsed "$t0" "$t1") s"
fi
[ -z "$keep" ] || echo "labels, logs and failures kept in $keep"

status=0
eval_check "pass 1 numbers read exactly" "$exact" min "$min_exact" || status=1
eval_check "pass 1 digit accuracy" "$digit_accuracy" min "$min_digits" || status=1
exit $status
