#!/usr/bin/env bash
# file.sh — classifies the frames of any video file decodebin can read
# (with the bundled digit model, or --model FILE) and prints a line per
# classified frame: its time, label and confidence.
#
#   pipelines/file.sh VIDEO [--model MODEL] [--interval N] [--roi x,y,w,h]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
[ $# -ge 1 ] || { sed -n '2,6p' "$0"; exit 2; }
video=$1
shift
props=()
while [ $# -gt 0 ]; do
  case "$1" in
    --model) props+=("model=$2"); shift ;;
    --interval) props+=("interval=$2"); shift ;;
    --roi) props+=("roi=$2"); shift ;;
    *) echo "file.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
[ -r "$video" ] || { echo "file.sh: cannot read '$video'" >&2; exit 2; }

if [ -d "$top/build/gst-cnn/gst" ]; then
  export GST_PLUGIN_PATH="$top/build/gst-cnn/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
fi

echo "file.sh: classifying $video"
echo "  time        label  confidence"
gst-launch-1.0 -m filesrc location="$video" ! decodebin ! cnnclassify "${props[@]}" \
  ! fakesink sync=false 2>&1 \
| awk '/cnn-classification/ {
    label = $0; sub(/.*label=\(string\)/, "", label); sub(/,.*/, "", label)
    if (label ~ /^"/) label = "-"
    conf = $0; sub(/.*confidence=\(double\)/, "", conf); sub(/,.*/, "", conf)
    ts = $0; sub(/.*[ ,]timestamp=\(guint64\)/, "", ts); sub(/[,;].*/, "", ts)
    printf "  %8.3f s  %6s  %10.3f\n", ts / 1e9, label, conf; fflush() }
  /ERROR/ { print; fflush() }'
