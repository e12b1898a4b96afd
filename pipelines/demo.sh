#!/usr/bin/env bash
# demo.sh — shows cnnclassify reading handwritten-style digits off "paper":
# the digits 0 to 9 are drawn one a second in dark ink onto a paper-white
# videotestsrc (textoverlay, fed by a subtitle track), classified by the
# bundled digit model, and the results printed as they come.  With a
# display (and no --headless) the frames are also shown in a window, with
# cnnoverlay drawing the region, the label, a bar per class and the 28×28
# picture the network was given.
# No camera and no download needed.
#
#   pipelines/demo.sh [--headless] [--seconds N]
#
# Run it from the repository after building (meson setup build && meson
# compile -C build); an installed plugin is used when the build is absent.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
headless=0
seconds=10
while [ $# -gt 0 ]; do
  case "$1" in
    --headless) headless=1 ;;
    --seconds) seconds=$2; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ -d "$top/build/gst-cnn/gst" ]; then
  export GST_PLUGIN_PATH="$top/build/gst-cnn/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
fi
if ! gst-inspect-1.0 cnnclassify >/dev/null 2>&1; then
  echo "demo.sh: the cnnclassify element is not found: build first (meson setup build && meson compile -C build)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One subtitle a second: the digit to draw.  Printed fonts give the 1 a
# foot that handwriting never has (the model reads it as a 2), so the 1
# is drawn as the plain stroke a hand makes: a sans-serif capital I.
for ((i = 0; i < seconds; i++)); do
  digit=$((i % 10))
  glyph=$digit
  [ "$digit" = 1 ] && glyph=I
  printf '%d\n%02d:%02d:%02d,000 --> %02d:%02d:%02d,999\n%s\n\n' $((i + 1)) \
    $((i / 3600)) $((i / 60 % 60)) $((i % 60)) $((i / 3600)) $((i / 60 % 60)) $((i % 60)) "$glyph"
done > "$work/digits.srt"

if [ "$headless" = 0 ] && [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  sink="cnnoverlay show-input=true ! videoconvert ! autovideosink"
  echo "demo.sh: showing the frames with cnnoverlay's box, label, bars and the network's input in a window; results below"
else
  sink="fakesink sync=true"
  echo "demo.sh: no display (or --headless): printing the results only"
fi

echo "demo.sh: drawing the digits 0..9 at 10 frames/s for ${seconds} s, classifying 2 frames a second"
echo "  time      drawn  classified  confidence"

# gst-launch -m prints each cnn-classification message; keep the fields
# a person wants and pair them with the digit drawn at that time.
# shellcheck disable=SC2086
gst-launch-1.0 -m \
  videotestsrc pattern=white num-buffers=$((seconds * 10)) \
  ! video/x-raw,format=I420,width=320,height=240,framerate=10/1 \
  ! textoverlay name=ink font-desc="Sans Bold 110" auto-resize=false \
      color=0xff1a1a1a draw-shadow=false draw-outline=false \
      valignment=center halignment=center \
  ! cnnclassify interval=5 \
  ! $sink \
  filesrc location="$work/digits.srt" ! subparse ! ink.text_sink 2>&1 \
| awk '
  /cnn-classification/ {
    label = $0; sub(/.*label=\(string\)/, "", label); sub(/,.*/, "", label)
    if (label ~ /^"/) label = "-"
    conf = $0; sub(/.*confidence=\(double\)/, "", conf); sub(/,.*/, "", conf)
    rt = $0; sub(/.*running-time=\(guint64\)/, "", rt); sub(/[,;].*/, "", rt)
    s = rt / 1e9
    printf "  %6.1f s  %5d  %10s  %10.3f\n", s, int(s) % 10, label, conf
    fflush()
  }
  /ERROR/ { print; fflush() }'
