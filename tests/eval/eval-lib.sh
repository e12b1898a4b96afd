# shellcheck shell=bash disable=SC2154  # the eval_* variables and $top are the caller's
# Shell functions the evaluations share (webcam-eval.sh, desk-eval.sh,
# number-eval.sh):
# finding the tools and data, running a generator's frames through
# cnnclassify branches with gst-launch-1.0, and reading the
# cnn-classification messages back.  Source it; it sets nothing until
# a function is called.
#
# eval_run_pass reads these variables, which the caller sets:
#   eval_gen        the frame generator (make-*-frames)
#   eval_gen_args   array: its data, range and seed options
#   eval_out        folder for labels, logs and messages (eval_prepare)
#   eval_use_png    1: PNG files through multifilesrc ! pngdec;
#                   0: raw GRAY8 frames through fdsrc ! rawvideoparse
#   eval_convert    "" or "videoconvert ! video/x-raw,format=FMT !"
#   eval_width, eval_height   the frames' size (raw frames)

# Prints "NAME: MESSAGE" to stderr and exits 2 (bad usage or setup).
eval_die () { echo "$eval_name: $*" >&2; exit 2; }

# Exits 2 unless option $1's value $2 is a number (a percentage).
eval_need_number () {
  case "$2" in ''|*[!0-9.]*|*.*.*) eval_die "$1 takes a number, not '$2'" ;; esac
}

# Exits 2 unless --smoothing $1, --repeat $2, --count $3 and --seed $4
# are whole numbers, the count positive.
eval_check_counts () {
  case "$1$2$3$4" in *[!0-9]*) eval_die "--smoothing, --repeat, --count and --seed take whole numbers" ;; esac
  [ "$3" -gt 0 ] || eval_die "--count must be positive"
}

# eval_gen_args for $2 frames of seed $3: of the MNIST test digits, or
# with $1 = 1 of the development set, the last 1,000 of the 10,000
# training digits, which training holds out for validation (tune on
# these, never on the test digits); it holds $4 frames ($5: "digits",
# "numbers"), at most.  After eval_prepare.
eval_set_digits () {
  local dev=$1 count=$2 seed=$3 most=$4 what=$5
  # shellcheck disable=SC2034
  eval_gen_args=(--images "$eval_images" --labels "$eval_labels" --count "$count" --seed "$seed")
  [ "$dev" -eq 1 ] || return 0
  [ "$count" -le "$most" ] || eval_die "--dev has $most $what; --count $count is more"
  # shellcheck disable=SC2034
  eval_gen_args=(--images "$eval_mnist/train10k-images-idx3-ubyte.gz"
    --labels "$eval_mnist/train10k-labels-idx1-ubyte.gz" --first 9000
    --count "$count" --seed "$seed")
}

# Sets GST_PLUGIN_PATH and GST_REGISTRY from build folder $1 unless
# they are set, eval_mnist to the MNIST folder and eval_images /
# eval_labels to the MNIST test set
# (CNN_MNIST_DIR, default $2); exits 77 (skipped) without it and 2
# when cnnclassify cannot be found.
eval_setup () {
  local build=$1 mnist=${CNN_MNIST_DIR:-$2}
  export GST_PLUGIN_PATH=${GST_PLUGIN_PATH:-$build/gst-cnn/gst}
  export GST_REGISTRY=${GST_REGISTRY:-$build/tests/eval/eval.registry}
  eval_mnist=$mnist
  eval_images=$mnist/t10k-images-idx3-ubyte.gz
  eval_labels=$mnist/t10k-labels-idx1-ubyte.gz
  if [ ! -f "$eval_images" ] || [ ! -f "$eval_labels" ]; then
    echo "SKIP: no MNIST test set in $mnist"
    exit 77
  fi
  gst-inspect-1.0 cnnclassify > /dev/null 2>&1 \
    || eval_die "cnnclassify not found in GST_PLUGIN_PATH=$GST_PLUGIN_PATH"
}

# Checks that pass 2's runs ($2 frames) are at least the smoothing
# window ($1; 0: no pass 2) long, then sets everything up for a run of
# generator $eval_gen from build folder $3: eval_setup, the generator
# built, and $eval_out: folder $4 when given (kept), else a temporary
# one removed on exit.
eval_prepare () {
  local smoothing=$1 repeat=$2 build=$3 keep=$4
  [ "$smoothing" -eq 0 ] || [ "$repeat" -ge "$smoothing" ] \
    || eval_die "--repeat ($repeat) must be at least the smoothing window ($smoothing)"
  eval_setup "$build" "$top/../shared/data/mnist"
  [ -x "$eval_gen" ] || eval_die "$eval_gen: not built (meson compile -C $build)"
  eval_work=$(mktemp -d)
  trap 'rm -rf "$eval_work"' EXIT
  eval_out=${keep:-$eval_work}
  eval_keep=$keep
  mkdir -p "$eval_out"
}

# True when this cnnclassify has a `smoothing` property.
eval_has_smoothing () {
  gst-inspect-1.0 cnnclassify 2>/dev/null | grep -q '^ *smoothing '
}

# Seconds from $1 to $2 (date +%s.%N), one decimal.
eval_elapsed () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# The cnn-classification messages of gst-launch-1.0 -m log $1, one line
# per message in $2: "BRANCH FRAME CLASS-ID CONFIDENCE", the branch
# being the element's name and the frame its timestamp at 30 frames/s;
# each branch's region (roi-x=..., first message) goes to $3.
eval_parse_messages () {
  sed -n 's/^Got message #[0-9]* from element "\([^"]*\)" (element): cnn-classification, \(.*\)$/\1 \2/p' \
    "$1" | awk '{
      name = $1; cls = ""; conf = ""; ts = ""
      if (match($0, /class-id=\(int\)-?[0-9]+/)) cls = substr($0, RSTART + 14, RLENGTH - 14)
      if (match($0, /confidence=\(double\)[-0-9.e+]+/)) conf = substr($0, RSTART + 19, RLENGTH - 19)
      if (match($0, /[ ,]timestamp=\(guint64\)[0-9]+/)) ts = substr($0, RSTART + 20, RLENGTH - 20)
      if (match($0, /roi-x=\(uint\)[0-9]+, roi-y=\(uint\)[0-9]+, roi-width=\(uint\)[0-9]+, roi-height=\(uint\)[0-9]+/))
        roi = substr($0, RSTART, RLENGTH)
      printf "%s %d %d %s\n", name, int(ts * 30 / 1e9 + 0.5), cls, conf
      if (!seen[name]++) print roi > "/dev/stderr"
    }' > "$2" 2> "$3"
}

# Frames of pass $1 (frames per scene $2) through the cnnclassify
# branches given as the rest ("NAME PROPS..." each): one message line
# per frame and branch in $eval_out/$1.msgs, the generator's labels in
# $eval_out/$1.labels, each branch's region in $eval_out/$1.roi.
eval_run_pass () {
  local pass=$1 k=$2; shift 2
  local dir=$eval_out/$pass-frames branches="" b
  for b in "$@"; do
    branches="$branches t. ! queue max-size-buffers=4 ! cnnclassify name=$b ! fakesink sync=false"
  done
  if [ "$eval_use_png" -eq 1 ]; then
    "$eval_gen" "${eval_gen_args[@]}" --repeat "$k" -o "$dir" \
      --labels-out "$eval_out/$pass.labels" || eval_die "$eval_gen failed"
    # shellcheck disable=SC2086
    gst-launch-1.0 -m multifilesrc location="$dir/frame-%05d.png" index=0 \
      caps=image/png,framerate=30/1 ! pngdec ! $eval_convert tee name=t $branches \
      > "$eval_out/$pass.log" 2>&1 \
      || { tail -20 "$eval_out/$pass.log"; eval_die "gst-launch-1.0 failed"; }
    [ -n "${eval_keep:-}" ] || rm -rf "$dir"
  else
    # shellcheck disable=SC2086
    "$eval_gen" "${eval_gen_args[@]}" --repeat "$k" --raw \
      --labels-out "$eval_out/$pass.labels" \
      | gst-launch-1.0 -m fdsrc fd=0 ! rawvideoparse format=gray8 \
          width="$eval_width" height="$eval_height" framerate=30/1 \
          ! $eval_convert tee name=t $branches \
          > "$eval_out/$pass.log" 2>&1 \
      || { tail -20 "$eval_out/$pass.log"; eval_die "gst-launch-1.0 failed"; }
  fi
  eval_parse_messages "$eval_out/$pass.log" "$eval_out/$pass.msgs" "$eval_out/$pass.roi"
}

# Pass 1: one frame per scene, branch "plain" of cnnclassify with the
# extra properties $5, scored by the caller's function $1 (called as
# `$1 PASS BRANCH FROM K`: score the frames from the FROM-th of each run
# of K).  Pass 2, when smoothing window $3 > 0 and cnnclassify has the
# property: each scene for $4 frames, branches "plain" and "smooth"
# (smoothing=$3) side by side, scored from each run's $3-th frame.  $2
# names a scene in the headings ("digit").
eval_two_passes () {
  local score=$1 what=$2 smoothing=$3 repeat=$4 props=$5 t0 t1
  t0=$(date +%s.%N)
  eval_run_pass single 1 "plain $props"
  t1=$(date +%s.%N)
  echo "pass 1: one frame per $what, smoothing off ($(head -1 "$eval_out/single.roi"))"
  "$score" single plain 0 1
  echo "  took $(eval_elapsed "$t0" "$t1") s (generation and classification)"
  [ "$smoothing" -gt 0 ] || return 0
  if ! eval_has_smoothing; then
    echo "pass 2 skipped: this cnnclassify has no 'smoothing' property yet"
    return 0
  fi
  t0=$(date +%s.%N)
  eval_run_pass repeated "$repeat" "plain $props" "smooth smoothing=$smoothing $props"
  t1=$(date +%s.%N)
  echo "pass 2: each $what for $repeat frames (jitter, fresh noise), scored from its frame $smoothing on"
  echo " smoothing off:"
  "$score" repeated plain "$((smoothing - 1))" "$repeat"
  echo " smoothing=$smoothing:"
  "$score" repeated smooth "$((smoothing - 1))" "$repeat"
  echo "  took $(eval_elapsed "$t0" "$t1") s (generation and both classifications)"
}

# Sorts the failures of $1 (.failures.tmp → .failures) and prints the
# commonest confusions of $1.confusions ("COUNT TRUE→PREDICTED" lines).
eval_report_confusions () {
  sort -n "$1.failures.tmp" > "$1.failures" && rm -f "$1.failures.tmp"
  echo "  confusions (true→predicted ×count):" \
    "$(sort -rn "$1.confusions" | head -12 \
      | awk '{ printf "%s%s×%d", (NR > 1 ? ", " : ""), $2, $1 } END { if (!NR) printf "none" }')"
}

# Prints "ok: WHAT V% OP LIMIT%" or "FAIL: ..." and returns 1 when
# value $2 is not $3 ("min" or "max") limit $4; no limit: returns 0.
eval_check () {
  local what=$1 value=$2 kind=$3 limit=$4
  [ -n "$limit" ] || return 0
  if awk -v v="$value" -v l="$limit" -v k="$kind" \
      'BEGIN { exit !(k == "min" ? v >= l : v <= l) }'; then
    echo "ok: $what $value% $([ "$kind" = min ] && echo '>=' || echo '<=') $limit%"
  else
    echo "FAIL: $what $value% $([ "$kind" = min ] && echo '<' || echo '>') $limit%"
    return 1
  fi
}
