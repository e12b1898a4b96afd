#!/bin/bash
# The bundled digit model: it loads, asks for MNIST-style preprocessing,
# carries its labels and provenance, and scores at least 99.0 % on the
# official MNIST test set (which it was never trained or tuned on).
. "$(dirname "$0")/lib.sh"
need_mnist
: "${CNN_SHIPPED_MODEL:?CNN_SHIPPED_MODEL must name the bundled model}"

"$CNN" summary "$CNN_SHIPPED_MODEL" > "$WORK/summary" || fail "summary failed"
[ "$(tail -n 1 "$WORK/summary")" = "Total params: 1,199,882" ] \
  || fail "not the reference network: $(tail -n 1 "$WORK/summary")"
grep -q "preprocess.*mnist" "$WORK/summary" || fail "model does not ask for mnist preprocessing"

"$CNN" eval "$CNN_SHIPPED_MODEL" "$MNIST/t10k-images-idx3-ubyte.gz" \
  "$MNIST/t10k-labels-idx1-ubyte.gz" > "$WORK/eval" || fail "eval failed"
head -n 1 "$WORK/eval"
correct=$(head -n 1 "$WORK/eval" | sed -n 's/^accuracy: [0-9.]*% (\([0-9]*\)\/10000)$/\1/p')
[ -n "$correct" ] || fail "no accuracy line: $(head -n 1 "$WORK/eval")"
[ "$correct" -ge 9900 ] || fail "accuracy $correct/10000 is below 99.0 %"
echo "ok: bundled model scores $correct/10000"
