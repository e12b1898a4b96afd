#!/bin/bash
# Reproducibility: the same command (seed, threads) writes the same model
# file byte for byte; another seed does not; a run interrupted and resumed
# — at an epoch boundary or in the middle of an epoch through the Ctrl-C
# path — ends with exactly the tensors of an uninterrupted run.
. "$(dirname "$0")/lib.sh"
need_mnist

# Augmentation and dropout on, so that every random stream is exercised.
ARGS="$TRAIN --limit 1000 --batch 50 --threads 2 --augment shift=2,rotate=8,scale=0.1,elastic=20,noise=0.02"
O=$WORK/o
mkdir "$O"

# Same seed, same file (the command line is part of the metadata, so the
# output path is the same for both runs).
"$CNN" train $ARGS --epochs 1 --seed 11 -o "$O/m.safetensors" > /dev/null
mv "$O/m.safetensors" "$O/first.safetensors"
"$CNN" train $ARGS --epochs 1 --seed 11 -o "$O/m.safetensors" > /dev/null
cmp "$O/first.safetensors" "$O/m.safetensors" || fail "same seed, different files"
"$CNN" train $ARGS --epochs 1 --seed 12 -o "$O/other.safetensors" > /dev/null
tensor_data "$O/first.safetensors" > "$O/first.bin"
tensor_data "$O/other.safetensors" > "$O/other.bin"
! cmp -s "$O/first.bin" "$O/other.bin" || fail "the seed changes nothing"

# Two epochs straight.
"$CNN" train $ARGS --epochs 2 --seed 11 -o "$O/straight.safetensors" > /dev/null
tensor_data "$O/straight.safetensors" > "$O/straight.bin"

# One epoch, then resume to two.
"$CNN" train $ARGS --epochs 1 --seed 11 -o "$O/resumed.safetensors" > /dev/null
"$CNN" train $ARGS --epochs 2 --seed 11 --resume "$O/resumed.safetensors.ckpt" \
  -o "$O/resumed.safetensors" > "$O/resume.out"
grep -q "resuming from" "$O/resume.out" || fail "resume did not say so"
tensor_data "$O/resumed.safetensors" > "$O/resumed.bin"
cmp "$O/straight.bin" "$O/resumed.bin" || fail "1 + 1 epochs differ from 2"

# Interrupted by SIGINT in the middle of epoch 2 (after 25 batches of 18
# per epoch), resumed with settings from the checkpoint only.
set +e
CNN_TEST_INTERRUPT_AFTER_BATCHES=25 "$CNN" train $ARGS --epochs 2 --seed 11 \
  -o "$O/int.safetensors" > "$O/int.out" 2> "$O/int.err"
status=$?
set -e
[ "$status" = 1 ] || fail "interrupted run exited $status: $(cat "$O/int.err")"
grep -q "interrupted after 1 epoch(s) and 7 of 18 batches; checkpoint written" "$O/int.err" \
  || fail "interrupt message: $(cat "$O/int.err")"
[ ! -e "$O/int.safetensors" ] || fail "an interrupted run wrote a model"
"$CNN" train $TRAIN --resume "$O/int.safetensors.ckpt" -o "$O/int.safetensors" > /dev/null
tensor_data "$O/int.safetensors" > "$O/int.bin"
cmp "$O/straight.bin" "$O/int.bin" || fail "interrupted + resumed differs from straight"

# And interrupted again right after resuming, in the first epoch.
set +e
CNN_TEST_INTERRUPT_AFTER_BATCHES=3 "$CNN" train $ARGS --epochs 2 --seed 11 \
  -o "$O/twice.safetensors" > /dev/null 2>&1
CNN_TEST_INTERRUPT_AFTER_BATCHES=4 "$CNN" train $TRAIN --resume "$O/twice.safetensors.ckpt" \
  -o "$O/twice.safetensors" > /dev/null 2>&1
set -e
"$CNN" train $TRAIN --resume "$O/twice.safetensors.ckpt" -o "$O/twice.safetensors" > /dev/null
tensor_data "$O/twice.safetensors" > "$O/twice.bin"
cmp "$O/straight.bin" "$O/twice.bin" || fail "twice interrupted differs from straight"
echo "ok"
