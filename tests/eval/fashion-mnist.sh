#!/usr/bin/env bash
# Fashion-MNIST with the reference architecture: how the `cnn` tool does
# on a harder 28x28 grey dataset than digits.  Trains the default network
# (conv 32 3, relu, conv 64 3, relu, maxpool 2, dropout 0.25, flatten,
# dense 128, relu, dropout 0.5, dense 10, softmax) on the 60,000 training
# images of Debian's dataset-fashion-mnist (the last 6,000 held out to
# pick the epoch), then scores it on the 10,000 test images with
# `cnn eval`.  Not part of CI: it takes 10 to 20 minutes on 2 cores.
#
#   tests/eval/fashion-mnist.sh [BUILD_DIR] [EPOCHS]     (defaults: build, 15)
#
# Prints the training log, then eval's report, whose first line is the
# accuracy.  The model and its log land in ${TMPDIR:-/tmp}/fashion-mnist/.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
epochs=${2:-15}
data=${CNN_FASHION_DIR:-/usr/share/datasets/fashion-mnist}
out=${TMPDIR:-/tmp}/fashion-mnist
labels=$out/labels.txt

if [ ! -r "$data/train-images-idx3-ubyte.gz" ]; then
  echo "fashion-mnist.sh: no Fashion-MNIST in $data (apt-get install dataset-fashion-mnist)" >&2
  exit 2
fi
mkdir -p "$out"
printf '%s\n' T-shirt/top Trouser Pullover Dress Coat Sandal Shirt Sneaker Bag "Ankle boot" > "$labels"

echo "fashion-mnist.sh: training the reference network for $epochs epochs on $data"
"$build/model-tools/cnn" train \
  --train-images "$data/train-images-idx3-ubyte.gz" \
  --train-labels "$data/train-labels-idx1-ubyte.gz" \
  --labels-file "$labels" \
  --epochs "$epochs" --batch 128 --optimizer adam --lr 0.001 --lr-schedule cosine \
  --augment shift=1 --validation 0.1 --seed 1 --threads 2 \
  --log "$out/fashion.csv" --checkpoint "$out/fashion.ckpt" \
  -o "$out/fashion.safetensors"

"$build/model-tools/cnn" eval "$out/fashion.safetensors" \
  "$data/t10k-images-idx3-ubyte.gz" "$data/t10k-labels-idx1-ubyte.gz"
