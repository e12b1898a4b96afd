#!/usr/bin/env bash
# Reproduces the bundled digit model, digits.safetensors, bit for bit
# (same code, same seed, same 2 threads): the reference network trained
# on the 10,000 MNIST training digits in ../shared/data/mnist (the last
# 1,000 held out for validation; the test set is only scored).
# Usage: gst-cnn/models/train-digits.sh [BUILD_DIR]   (default: build)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
data=${CNN_MNIST_DIR:-$top/../shared/data/mnist}
out=$top/gst-cnn/models
"$build/model-tools/cnn" train \
  --train-images "$data/train10k-images-idx3-ubyte.gz" \
  --train-labels "$data/train10k-labels-idx1-ubyte.gz" \
  --test-images "$data/t10k-images-idx3-ubyte.gz" \
  --test-labels "$data/t10k-labels-idx1-ubyte.gz" \
  --epochs 50 --batch 128 --optimizer adam --lr 0.001 --lr-schedule cosine \
  --augment shift=2,rotate=10,scale=0.1,elastic=12,sigma=4,webcam=12 \
  --validation 0.1 --seed 1 --threads 2 --preprocess mnist \
  --log "$out/digits-training.csv" --plot "$out/digits-training.png" \
  --checkpoint "${TMPDIR:-/tmp}/digits.ckpt" \
  -o "$out/digits.safetensors"
