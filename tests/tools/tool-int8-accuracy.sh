#!/bin/bash
# The int8 kernels (CNN_KERNELS=avx512-int8) on the bundled model: its
# MNIST test accuracy at most 0.1 point (10 digits of 10,000) below the
# default kernels', as the issue that asked for them wants.  Registered
# only where the build has the int8 kernels; exit 77 where the CPU has
# no AVX512-VNNI (the run would quietly be the default kernels').
. "$(dirname "$0")/lib.sh"
need_mnist
: "${CNN_SHIPPED_MODEL:?CNN_SHIPPED_MODEL must name the bundled model}"
for flag in avx512f avx512bw avx512vl avx512dq avx512_vnni; do
  grep -qw "$flag" /proc/cpuinfo \
    || { echo "SKIP: no $flag on this CPU"; exit 77; }
done

# correct KERNELS: the digits the model reads right with CNN_KERNELS=KERNELS
correct () {
  CNN_KERNELS=$1 "$CNN" eval "$CNN_SHIPPED_MODEL" \
    "$MNIST/t10k-images-idx3-ubyte.gz" "$MNIST/t10k-labels-idx1-ubyte.gz" \
    > "$WORK/eval-$1" || fail "eval with CNN_KERNELS=$1 failed"
  sed -n 's/^accuracy: [0-9.]*% (\([0-9]*\)\/10000)$/\1/p' "$WORK/eval-$1" \
    | grep . || fail "no accuracy line: $(head -n 1 "$WORK/eval-$1")"
}

float=$(correct default)
int8=$(correct avx512-int8)
echo "default kernels: $float/10000, avx512-int8: $int8/10000"
[ "$int8" -ge $((float - 10)) ] \
  || fail "int8 reads $int8/10000, more than 0.1 point below $float"
echo "ok: int8 within 0.1 point of the float kernels"
