#!/usr/bin/env bash
# number.sh — shows cnnclassify mode=number reading whole numbers off a
# sheet: numbers of MNIST test digits written on a line, one a second,
# as a webcam sees them (tests/eval/make-number-frames: plain, ruled or
# squared paper, a wavering baseline, touching digits, webcam light and
# noise), read by the bundled digit model, and the results printed as
# they come: the number drawn and the number read.  With a display (and
# no --headless) the frames are also shown in a window, with cnnoverlay
# drawing a box per digit, a tag per digit when no two tags overlap,
# and the number read under them.
#
#   pipelines/number.sh [--headless] [--seconds N] [--digits D] [--seed S]
#                       [--picture FILE]
#
#   --seconds N     numbers shown, one a second (default 10)
#   --digits D      digits a number, 2 to 5 (default 4)
#   --seed S        which numbers and scenes (default 1)
#   --picture FILE  also write the overlay on the last frame as a PNG
#                   (docs/number-overlay.png is
#                   "pipelines/number.sh --headless --seconds 1 --seed 6
#                   --picture docs/number-overlay.png")
#
# Needs a build (meson setup build && meson compile -C build: the plugin
# and make-number-frames, or MAKE_NUMBER_FRAMES naming it) and the MNIST
# test set in CNN_MNIST_DIR (default ../shared/data/mnist beside the
# repository).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
headless=0 seconds=10 digits=4 seed=1 picture=""
while [ $# -gt 0 ]; do
  case "$1" in
    --headless) headless=1 ;;
    --seconds) seconds=${2:?--seconds needs a value}; shift ;;
    --digits) digits=${2:?--digits needs a value}; shift ;;
    --seed) seed=${2:?--seed needs a value}; shift ;;
    --picture) picture=${2:?--picture needs a file}; shift ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "number.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$seconds$digits$seed" in
  *[!0-9]*) echo "number.sh: --seconds, --digits and --seed take whole numbers" >&2; exit 2 ;;
esac
[ "$seconds" -ge 1 ] || { echo "number.sh: --seconds must be at least 1" >&2; exit 2; }

gen=${MAKE_NUMBER_FRAMES:-$top/build/tests/eval/make-number-frames}
mnist=${CNN_MNIST_DIR:-$top/../shared/data/mnist}
if [ -d "$top/build/gst-cnn/gst" ]; then
  export GST_PLUGIN_PATH="$top/build/gst-cnn/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
fi
if ! gst-inspect-1.0 cnnclassify >/dev/null 2>&1 || [ ! -x "$gen" ]; then
  echo "number.sh: cnnclassify or make-number-frames is not built: build first (meson setup build && meson compile -C build)" >&2
  exit 1
fi
if [ ! -r "$mnist/t10k-images-idx3-ubyte.gz" ]; then
  echo "number.sh: no MNIST test set in $mnist (set CNN_MNIST_DIR)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fps=10
"$gen" --images "$mnist/t10k-images-idx3-ubyte.gz" \
  --labels "$mnist/t10k-labels-idx1-ubyte.gz" --count "$seconds" \
  --repeat "$fps" --digits "$digits" --seed "$seed" --raw \
  --labels-out "$work/labels.txt" > "$work/frames.gray8"

show="cnnoverlay ! videoconvert"
if [ -n "$picture" ]; then
  sink="$show ! pngenc ! multifilesink location=$work/frame-%05d.png"
  echo "number.sh: writing the overlay on each frame, the last to $picture"
elif [ "$headless" = 0 ] && [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  sink="$show ! autovideosink"
  echo "number.sh: showing the frames with cnnoverlay's boxes, tags and the number read in a window; results below"
else
  sink="fakesink sync=true"
  echo "number.sh: no display (or --headless): printing the results only"
fi

echo "number.sh: $seconds numbers of $digits digits, one a second at $fps frames/s, read with smoothing over 5 frames"
echo "  time     drawn       read"

# gst-launch -m prints each cnn-classification message; the reading on
# each number's last frame is printed beside the number drawn.
# shellcheck disable=SC2086
gst-launch-1.0 -m \
  filesrc location="$work/frames.gray8" \
  ! rawvideoparse format=gray8 width=640 height=480 framerate=$fps/1 \
  ! videoconvert ! video/x-raw,format=I420 \
  ! cnnclassify mode=number smoothing=5 \
  ! $sink 2>&1 \
| awk -v fps="$fps" -v labels="$work/labels.txt" '
  BEGIN { while ((getline line < labels) > 0) { split(line, f, " "); if (f[1] !~ /^#/) drawn[f[1]] = f[3] } }
  /cnn-classification/ {
    text = $0
    if (match(text, /text=\(string\)("([^"\\]|\\.)*"|[^,;]*)/)) {
      text = substr(text, RSTART + 13, RLENGTH - 13); gsub(/^"|"$/, "", text); gsub(/\\/, "", text)
    } else text = ""
    ts = $0; sub(/.*timestamp=\(guint64\)/, "", ts); sub(/[,;].*/, "", ts)
    frame = int(ts * fps / 1e9 + 0.5)
    if (frame % fps == fps - 1)
      printf "  %5.1f s  %-10s  %-10s\n", (frame + 1) / fps, drawn[frame], text == "" ? "-" : text
    fflush()
  }
  /ERROR/ { print; fflush() }'

if [ -n "$picture" ]; then
  last=$(find "$work" -name "frame-*.png" | sort | tail -n 1)
  [ -n "$last" ] || { echo "number.sh: no frame was written" >&2; exit 1; }
  # Written beside the target, then renamed: never half a picture.
  cp "$last" "$picture.tmp" && mv "$picture.tmp" "$picture"
fi
