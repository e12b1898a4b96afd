#!/usr/bin/env bash
# webcam.sh — classifies a digit written on paper and held up to a webcam:
# frames from v4l2src go through cnnclassify (bundled digit model, MNIST
# preprocessing of the centred square, results smoothed over 5 classified
# frames) and cnnoverlay (box, label, bars, and beside the label the 28×28
# picture the network was given, to see why a digit is misread) to a
# window, and each result is printed as it comes.
#
#   pipelines/webcam.sh [--device /dev/videoN] [--threshold 0.6]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
device=/dev/video0
threshold=0.6
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device=$2; shift ;;
    --threshold) threshold=$2; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "webcam.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ -d "$top/build/gst-cnn/gst" ]; then
  export GST_PLUGIN_PATH="$top/build/gst-cnn/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
fi
if [ ! -e "$device" ]; then
  echo "webcam.sh: no camera at $device (plug one in, or pass --device /dev/videoN;" >&2
  echo "           pipelines/demo.sh shows the same without a camera)" >&2
  exit 1
fi

echo "webcam.sh: reading $device at 640x480, 30 frames/s; hold a digit up to the camera"
echo "webcam.sh: results below (class -1 / '-' means no digit found or below threshold $threshold)"
gst-launch-1.0 -m v4l2src device="$device" \
  ! video/x-raw,width=640,height=480,framerate=30/1 \
  ! cnnclassify interval=3 smoothing=5 threshold="$threshold" \
  ! cnnoverlay show-input=true ! videoconvert ! autovideosink sync=false 2>&1 \
| awk '/cnn-classification/ {
    label = $0; sub(/.*label=\(string\)/, "", label); sub(/,.*/, "", label)
    if (label ~ /^"/) label = "-"
    conf = $0; sub(/.*confidence=\(double\)/, "", conf); sub(/,.*/, "", conf)
    printf "digit %s  confidence %.3f\n", label, conf; fflush() }
  /ERROR|WARNING/ { print; fflush() }'
