#!/bin/bash
# Bad input to cnn train, eval and predict: each must exit with status 2,
# say what and where, and leave no output file behind.  The datasets are
# small IDX files written here.
. "$(dirname "$0")/lib.sh"

D=$WORK/data
mkdir -p "$D" "$WORK/out"
idx_images "$D/img" 20 28 28
idx_labels "$D/lab" 20
M=$WORK/out/m.safetensors

# expect_train_fails FRAGMENT ARGS...: cnn train ARGS -o $M must fail with
# status 2 mentioning FRAGMENT and write nothing.
expect_train_fails () {
  fragment=$1
  shift
  expect_exit 2 "$fragment" "$CNN" train "$@" -o "$M"
  [ -z "$(ls -A "$WORK/out")" ] || fail "files left after '$*': $(ls -A "$WORK/out")"
}

GOOD="--train-images $D/img --train-labels $D/lab"

# --- IDX files ---
expect_train_fails "$D/missing: cannot open" --train-images "$D/missing" --train-labels "$D/lab"
idx_images "$D/short" 20 28 28 $(( 20 * 784 - 10 ))
expect_train_fails "$D/short: file is shorter than its header says" --train-images "$D/short" --train-labels "$D/lab"
idx_images "$D/long" 20 28 28 $(( 20 * 784 + 1 ))
expect_train_fails "$D/long: file is longer than its header says" --train-images "$D/long" --train-labels "$D/lab"
{ printf '\001\002\010\003'; tail -c +5 "$D/img"; } > "$D/magic"
expect_train_fails "$D/magic: wrong magic number at byte offset 0" --train-images "$D/magic" --train-labels "$D/lab"
{ printf '\000\000\015\003'; tail -c +5 "$D/img"; } > "$D/float"
expect_train_fails "element type 0x0d (32-bit float) at byte offset 2" --train-images "$D/float" --train-labels "$D/lab"
idx_labels "$D/lab19" 19
expect_train_fails "$D/lab19: 19 labels (dimension 0, byte offset 4), but $D/img has 20 images" \
  --train-images "$D/img" --train-labels "$D/lab19"
{ printf '\000\000\010\002'; be32 20; be32 784; head -c $(( 20 * 784 )) /dev/zero; } > "$D/flat"
expect_train_fails "$D/flat: 2 dimension(s) at byte offset 3" --train-images "$D/flat" --train-labels "$D/lab"
expect_train_fails "$D/img: 3 dimension(s) at byte offset 3, but labels need 1" \
  --train-images "$D/img" --train-labels "$D/img"
{ printf '\000\000\010\003'; be32 20; be32 0; be32 28; } > "$D/zero"
expect_train_fails "$D/zero: dimension 1 (byte offset 8) is zero" --train-images "$D/zero" --train-labels "$D/lab"
{ printf '\000\000\010\003'; be32 4000000000; be32 28; be32 28; } > "$D/huge"
expect_train_fails "$D/huge: dimension 1 (byte offset 8) = 28 makes the data larger than 4 GiB" \
  --train-images "$D/huge" --train-labels "$D/lab"
idx_labels "$D/lab10" 20 10
expect_train_fails "$D/lab10: label 10 of sample 19 (byte offset 27) is not below the model's 10 classes" \
  --train-images "$D/img" --train-labels "$D/lab10"
# The architecture decides the classes: 5 outputs cannot learn label 5.
expect_train_fails "$D/lab: label 5 of sample 5 (byte offset 13) is not below the model's 5 classes" \
  $GOOD --arch "flatten, dense 5, softmax"
gzip -c "$D/img" | head -c 3000 > "$D/cut.gz"
expect_train_fails "$D/cut.gz: " --train-images "$D/cut.gz" --train-labels "$D/lab"
idx_images "$D/small" 20 14 14
expect_train_fails "--input 1x28x28 does not match the training images ($D/small), which are 1x14x14" \
  --train-images "$D/small" --train-labels "$D/lab" --input 1x28x28
idx_labels "$D/lab7" 7
idx_images "$D/test14" 7 14 14
expect_train_fails "$D/test14: test images are 1x14x14 but the training images ($D/img) are 1x28x28" \
  $GOOD --test-images "$D/test14" --test-labels "$D/lab7"
expect_train_fails "go together" $GOOD --test-images "$D/img"

# --- the architecture and the settings ---
expect_train_fails "bogus" $GOOD --arch "conv 8 3, relu, bogus 2, softmax"
expect_train_fails "needs a softmax" $GOOD --arch "flatten, dense 10"
expect_train_fails "layer 0" $GOOD --arch "conv 8 31, flatten, dense 10, softmax"
expect_train_fails "--epochs '0' is not a whole number in 1..100000" $GOOD --epochs 0
expect_train_fails "--batch 'x' is not a whole number" $GOOD --batch x
expect_train_fails "--optimizer 'rmsprop' is not sgd, adam or adadelta" $GOOD --optimizer rmsprop
expect_train_fails "--lr '-1' is not a number" $GOOD --lr -1
expect_train_fails "--validation '1.5' is not a number in 0..0.9" $GOOD --validation 1.5
expect_train_fails "--augment: 'twist=1' is not one of" $GOOD --augment twist=1
expect_train_fails "--lr-schedule 'sometimes'" $GOOD --lr-schedule sometimes
expect_train_fails "preprocess" $GOOD --preprocess "squash"
expect_train_fails "$D/no-labels.txt" $GOOD --labels-file "$D/no-labels.txt"
printf 'a\nb\nc\n' > "$D/three.txt"
expect_train_fails "label" $GOOD --labels-file "$D/three.txt"
expect_train_fails "--train-labels is required" --train-images "$D/img"
expect_exit 2 "-o MODEL is required" "$CNN" train $GOOD
expect_exit 2 "takes no arguments" "$CNN" train $GOOD stray -o "$M"

# --- unwritable outputs, found before any work ---
expect_exit 2 "cannot write in directory '$WORK/no/such'" \
  "$CNN" train $GOOD -o "$WORK/no/such/m.safetensors"
: > "$WORK/a-file"
expect_exit 2 "cannot write in directory '$WORK/a-file'" \
  "$CNN" train $GOOD -o "$WORK/a-file/m.safetensors"
expect_exit 2 "is a directory" "$CNN" train $GOOD -o "$WORK/out"
expect_train_fails "cannot write in directory '$WORK/no'" $GOOD --log "$WORK/no/log.csv"
expect_train_fails "cannot write in directory '$WORK/no'" $GOOD --plot "$WORK/no/p.png"
expect_train_fails "cannot write in directory '$WORK/no'" $GOOD --checkpoint "$WORK/no/c.ckpt"
if [ "$(id -u)" != 0 ]; then
  mkdir "$WORK/ro" && chmod a-w "$WORK/ro"
  expect_exit 2 "cannot write in directory '$WORK/ro'" \
    "$CNN" train $GOOD -o "$WORK/ro/m.safetensors"
  [ -z "$(ls -A "$WORK/ro")" ] || fail "files written in a read-only directory"
fi
[ ! -e "$WORK/no" ] || fail "an output directory was created"

# --- checkpoints: a real one from a tiny run, then damaged copies ---
T=$WORK/tiny
mkdir "$T"
"$CNN" train $GOOD --arch "flatten, dense 10, softmax" --epochs 1 --batch 8 \
  --threads 1 -o "$T/m.safetensors" > "$T/log" 2> "$T/err" || fail "tiny training run"
# 28x28 grey pictures trained without --preprocess mnist: a warning says
# what cnnclassify will then do, and the model is still written.
grep -q "^cnn train: warning: the training images are 28x28 grey, .* preprocessing is 'resize'.* pass --preprocess mnist" "$T/err" \
  || fail "no warning about the preprocessing: $(cat "$T/err")"
"$CNN" train $GOOD --arch "flatten, dense 10, softmax" --epochs 1 --batch 8 \
  --threads 1 --preprocess mnist --validation 0 -o "$T/mnist.safetensors" > /dev/null 2> "$T/err-mnist" \
  || fail "tiny training run with --preprocess mnist: $(cat "$T/err-mnist")"
! grep -q "warning" "$T/err-mnist" || fail "warned with --preprocess mnist: $(cat "$T/err-mnist")"
[ -f "$T/m.safetensors.ckpt" ] || fail "no checkpoint written"
CK=$T/m.safetensors.ckpt

resume_fails () {
  fragment=$1
  shift
  expect_exit 2 "$fragment" "$CNN" train $GOOD --epochs 2 "$@" -o "$M"
  [ -z "$(ls -A "$WORK/out")" ] || fail "files left after resume '$*'"
}

size=$(stat -c %s "$CK")
cp "$CK" "$D/flipped.ckpt"
printf '\377' | dd of="$D/flipped.ckpt" bs=1 seek=$(( size - 3 )) conv=notrunc status=none
resume_fails "$D/flipped.ckpt: tensor data is damaged" --resume "$D/flipped.ckpt"
head -c $(( size - 100 )) "$CK" > "$D/cut.ckpt"
resume_fails "$D/cut.ckpt: tensor data is damaged" --resume "$D/cut.ckpt"
head -c 50 "$CK" > "$D/stub.ckpt"
resume_fails "$D/stub.ckpt: header length" --resume "$D/stub.ckpt"
printf 'not a checkpoint at all' > "$D/text.ckpt"
resume_fails "$D/text.ckpt" --resume "$D/text.ckpt"
resume_fails "$D/none.ckpt" --resume "$D/none.ckpt"
resume_fails "not a training checkpoint" --resume "$T/m.safetensors"
resume_fails "--batch 16 differs from the checkpoint's batch (8)" --resume "$CK" --batch 16
resume_fails "--arch" --resume "$CK" --arch "flatten, dense 20, relu, dense 10, softmax"
idx_images "$D/img2" 20 28 28
expect_exit 2 "was made with other training data" \
  "$CNN" train --train-images "$D/img2" --train-labels "$D/lab" --epochs 2 --resume "$CK" -o "$M"
[ -z "$(ls -A "$WORK/out")" ] || fail "files left after resume with other data"

# --- eval and predict ---
MODEL=$T/m.safetensors
expect_exit 2 "$D/nope.safetensors" "$CNN" eval "$D/nope.safetensors" "$D/img" "$D/lab"
expect_exit 2 "$D/small: images are 1x14x14 but the model $MODEL takes 1x28x28" \
  "$CNN" eval "$MODEL" "$D/small" "$D/lab"
expect_exit 2 "19 labels" "$CNN" eval "$MODEL" "$D/img" "$D/lab19"
expect_exit 2 "label 10 of sample 19" "$CNN" eval "$MODEL" "$D/img" "$D/lab10"
expect_exit 2 "needs MODEL IMAGES LABELS" "$CNN" eval "$MODEL" "$D/img"
cp "$MODEL" "$D/damaged.safetensors"
size=$(stat -c %s "$MODEL")
printf '\377' | dd of="$D/damaged.safetensors" bs=1 seek=$(( size - 3 )) conv=notrunc status=none
expect_exit 2 "$D/damaged.safetensors" "$CNN" eval "$D/damaged.safetensors" "$D/img" "$D/lab"
expect_exit 2 "$D/damaged.safetensors" "$CNN" predict "$D/damaged.safetensors" "$D/black.pgm"
printf 'P5 28 28 255\n' > "$D/cut.pgm"
head -c 100 /dev/zero >> "$D/cut.pgm"
{ printf 'P5 28 28 255\n'; head -c 784 /dev/zero; } > "$D/black.pgm"
expect_exit 2 "$D/cut.pgm: pixel data ends at byte offset 113" \
  "$CNN" predict "$MODEL" "$D/black.pgm" "$D/cut.pgm" "$D/black.pgm"
# The good pictures are still classified, one line each.
[ "$(grep -c "^$D/black.pgm [0-9] [01]\.[0-9]\{4\}$" "$WORK/stdout")" = 2 ] \
  || fail "predict output: $(cat "$WORK/stdout")"
expect_exit 2 "$D/img: not a PNG" "$CNN" predict "$MODEL" "$D/img"
expect_exit 2 "$D/nothing.png" "$CNN" predict "$MODEL" "$D/nothing.png"
printf '\211PNG\r\n\032\n garbage' > "$D/fake.png"
expect_exit 2 "$D/fake.png: bad PNG" "$CNN" predict "$MODEL" "$D/fake.png"
echo "ok"
