#!/usr/bin/env bash
# Reproduces the bundled digit model, digits.safetensors, bit for bit
# (same code, same seed, same 2 threads, same OpenBLAS kernels, below):
# the reference network trained
# on the first 9,000 of the 10,000 MNIST training digits in
# ../shared/data/mnist, the weights of its last epoch kept.  The last
# 1,000 are left out: they are the development set that the desk
# evaluation's --dev renders.  The test set is only scored.
# Usage: gst-cnn/models/train-digits.sh [BUILD_DIR]   (default: build)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
data=${CNN_MNIST_DIR:-$top/../shared/data/mnist}
out=$top/gst-cnn/models
# The bits depend on OpenBLAS's sgemm kernels, which it picks by the CPU:
# pinning its AVX2 ("Haswell") ones, which every x86-64 CPU with AVX2
# runs, makes the model the same on any such machine (its AVX-512 ones
# train about 1.5x as fast, but only where they run, and sum in another
# order).  The development machine's environment pins them too.
if [ "$(uname -m)" = x86_64 ]; then
  export OPENBLAS_CORETYPE=Haswell
fi
"$build/model-tools/cnn" train \
  --train-images "$data/train10k-images-idx3-ubyte.gz" \
  --train-labels "$data/train10k-labels-idx1-ubyte.gz" \
  --test-images "$data/t10k-images-idx3-ubyte.gz" \
  --test-labels "$data/t10k-labels-idx1-ubyte.gz" \
  --epochs 50 --batch 128 --optimizer adam --lr 0.001 --lr-schedule cosine \
  --augment shift=2,rotate=10,scale=0.1,elastic=12,sigma=4,webcam=12 \
  --limit 9000 --validation 0 --seed 1 --threads 2 --preprocess mnist \
  --log "$out/digits-training.csv" --plot "$out/digits-training.png" \
  --checkpoint "${TMPDIR:-/tmp}/digits.ckpt" \
  -o "$out/digits.safetensors"
