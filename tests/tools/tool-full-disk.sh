#!/bin/bash
# The trainer on a full disk: a 200 kB tmpfs holding a previous good
# model, and a training run whose checkpoint, then (with the checkpoint
# elsewhere) whose model, does not fit.  Each time the tool must exit 1
# with a message naming the file and the cause, leave the previous model
# byte for byte, and leave no temporary file behind.
# The mount lives in a mount namespace of its own, so that a test killed
# half way leaves nothing mounted; a user other than root (CI runs as
# root) gets one inside a user namespace.  Where neither is permitted
# the test fails, saying so; it never skips.
if [ -z "${CNN_FULL_DISK_NS:-}" ]; then
  as_user=
  [ "$(id -u)" = 0 ] || as_user=--map-root-user
  CNN_FULL_DISK_NS=1 exec unshare $as_user --mount --propagation private \
    "$BASH" "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
need_mnist

FULL=$WORK/full
mkdir "$FULL"
trap 'umount "$FULL" 2> /dev/null || true; rm -rf "$WORK"' EXIT
mount -t tmpfs -o size=200k tmpfs "$FULL" 2> "$WORK/mount.err" \
  || fail "cannot mount a 200 kB tmpfs on $FULL (the test needs root or user namespaces): $(cat "$WORK/mount.err")"

# The previous model: 31 kB.
"$CNN" train $TRAIN --limit 500 --arch "flatten, dense 10, softmax" --epochs 1 \
  -o "$FULL/m.safetensors" --checkpoint "$WORK/small.ckpt" > /dev/null
cp "$FULL/m.safetensors" "$WORK/previous.safetensors"

# full_disk_run WHAT FILE ARGS...: training with ARGS must fail on FILE.
full_disk_run () {
  what=$1
  file=$2
  shift 2
  expect_exit 1 "No space left on device" "$CNN" train $TRAIN \
    --arch "$BIG_ARCH" "$@" -o "$FULL/m.safetensors"
  grep -qF -- "$file" "$WORK/stderr" \
    || fail "$what: the message does not name $file: $(cat "$WORK/stderr")"
  echo "$what: exit 1, $(cat "$WORK/stderr")"
  cmp "$WORK/previous.safetensors" "$FULL/m.safetensors" \
    || fail "$what: the previous model changed"
  "$CNN" summary "$FULL/m.safetensors" > /dev/null \
    || fail "$what: the previous model no longer loads"
  leftovers=$(ls -A "$FULL" | grep -vx m.safetensors || true)
  [ -z "$leftovers" ] || fail "$what: left in $FULL: $leftovers"
}

# The new one: 87,322 parameters, a 350 kB model and a 1.4 MB checkpoint.
BIG_ARCH="conv 8 3, relu, maxpool 2, flatten, dense 64, relu, dense 10, softmax"
# The checkpoint beside the model, as by default: it is the first to fail.
full_disk_run "checkpoint" "$FULL/m.safetensors.ckpt" --limit 500 --epochs 1
# The checkpoint elsewhere: now the model itself fails.
full_disk_run "model" "$FULL/m.safetensors" --limit 500 --epochs 1 \
  --checkpoint "$WORK/big.ckpt"
