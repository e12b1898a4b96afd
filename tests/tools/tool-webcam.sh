#!/bin/bash
# cnn train --augment webcam: the digits' desk scenes are rendered at the
# start and the log says how many and what the preprocessing made of
# them; the same command writes the same model; one epoch and a resume
# to two give the bits of two straight; bad values are usage errors.
. "$(dirname "$0")/lib.sh"
need_mnist

O=$WORK/o
mkdir "$O"
run () {
  "$CNN" train $TRAIN --limit 200 --batch 50 --threads 2 --preprocess mnist \
    --seed 3 --arch "conv 4 3, relu, maxpool 2, flatten, dense 10, softmax" \
    --augment webcam=1,shift=1 "$@"
}

run --epochs 1 -o "$O/m.safetensors" > "$O/first.out"
line=$(grep '^webcam scenes: ' "$O/first.out") || fail "no webcam line: $(cat "$O/first.out")"
# 180 training digits (20 held out), one scene each, one blank per nine.
echo "$line" | grep -qE '^webcam scenes: 180 of 180 digits \(1 each\) and 20 blank, rendered and preprocessed in [0-9.]+ s on 2 thread\(s\); [0-9]+ digit scenes with no ink found \(the clean digit instead\), [0-9]+ in which something else was framed \(learnt as no digit\), [0-9]+ of 20 blank scenes taken for ink$' \
  || fail "webcam line: $line"
no_ink=$(echo "$line" | sed 's/.*; \([0-9]*\) digit scenes.*/\1/')
[ "$no_ink" -lt 90 ] || fail "half the digit scenes had no ink: $line"
grep -q '^augmentation: shift=1,webcam=1,webcam-p=0.5,webcam-neg=0.05$' "$O/first.out" \
  || fail "settings line: $(grep augmentation "$O/first.out")"

mv "$O/m.safetensors" "$O/first.safetensors"
run --epochs 1 -o "$O/m.safetensors" > "$O/second.out"
cmp "$O/first.safetensors" "$O/m.safetensors" || fail "same seed, different models"
[ "$(grep '^webcam scenes' "$O/second.out" | sed 's/ in [0-9.]* s//')" = \
  "$(echo "$line" | sed 's/ in [0-9.]* s//')" ] || fail "counts differ between runs"

# Resumed: the scenes are made again, the same.
run --epochs 2 -o "$O/straight.safetensors" > /dev/null
run --epochs 1 -o "$O/resumed.safetensors" > /dev/null
run --epochs 2 --resume "$O/resumed.safetensors.ckpt" -o "$O/resumed.safetensors" \
  > "$O/resume.out"
grep -q '^webcam scenes: 180 of 180' "$O/resume.out" || fail "resume made no scenes"
tensor_data "$O/straight.safetensors" > "$O/straight.bin"
tensor_data "$O/resumed.safetensors" > "$O/resumed.bin"
cmp "$O/straight.bin" "$O/resumed.bin" || fail "1 + 1 epochs differ from 2 with webcam scenes"

# The scenes are held to the memory limit (180 x 64 scenes: about 10 MB),
# refused before anything is rendered or written.
expect_exit 1 "--augment webcam's scenes needs" run --epochs 1 \
  --augment webcam=64 --memory-limit 8M -o "$O/x.safetensors"
[ ! -e "$O/x.safetensors" ] && [ ! -e "$O/x.safetensors.ckpt" ] \
  || fail "a model or checkpoint written after the memory error"

expect_exit 2 "whole number" run --epochs 1 --augment webcam=1.5 -o "$O/x.safetensors"
expect_exit 2 "webcam-p" run --epochs 1 --augment webcam,webcam-p=2 -o "$O/x.safetensors"
expect_exit 2 "needs --preprocess mnist" "$CNN" train $TRAIN --limit 100 --epochs 1 \
  --augment webcam -o "$O/x.safetensors"
echo "ok"
