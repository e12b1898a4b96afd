#!/bin/bash
# cnn summary: the reference network's table and its exact last line,
# another architecture whose counts are worked out here by hand, usage
# errors, and the help texts.
. "$(dirname "$0")/lib.sh"

"$CNN" summary > "$WORK/summary"
[ "$(tail -n 1 "$WORK/summary")" = "Total params: 1,199,882" ] \
  || fail "last line is '$(tail -n 1 "$WORK/summary")'"
# Per layer: conv 32·(1·3·3)+32, conv 64·(32·3·3)+64, dense 128·9216+128,
# dense 10·128+10, with their output shapes.
grep -Eq '^0 conv2d 32 3x3 .* 32x26x26 +320$' "$WORK/summary" || fail "layer 0 row"
grep -Eq '^2 conv2d 64 3x3 .* 64x24x24 +18,496$' "$WORK/summary" || fail "layer 2 row"
grep -Eq '^4 maxpool .* 64x12x12 +0$' "$WORK/summary" || fail "layer 4 row"
grep -Eq '^6 flatten .* 9216 +0$' "$WORK/summary" || fail "layer 6 row"
grep -Eq '^7 dense 128 .* 128 +1,179,776$' "$WORK/summary" || fail "layer 7 row"
grep -Eq '^10 dense 10 .* 10 +1,290$' "$WORK/summary" || fail "layer 10 row"
[ "$(grep -Ec '^[0-9]+ ' "$WORK/summary")" = 12 ] || fail "expected 12 layer rows"

# conv 8·(3·5·5)+8 = 608 → 8×28×28, pool → 8×14×14 = 1568,
# dense 10·1568+10 = 15,690; total 16,298.
"$CNN" summary --arch "conv 8 5, relu, maxpool 2, flatten, dense 10, softmax" \
  --input 3x32x32 > "$WORK/small"
[ "$(tail -n 1 "$WORK/small")" = "Total params: 16,298" ] \
  || fail "small network: $(tail -n 1 "$WORK/small")"
grep -Eq '^0 conv2d 8 5x5 .* 8x28x28 +608$' "$WORK/small" || fail "small layer 0"

# --version: one line, the project's version, status 0.
"$CNN" --version > "$WORK/version" || fail "cnn --version failed"
grep -Eqx 'cnn \(gst-cnn\) [0-9]+\.[0-9]+\.[0-9]+' "$WORK/version" \
  || fail "cnn --version said '$(cat "$WORK/version")'"
[ "$(wc -l < "$WORK/version")" = 1 ] || fail "cnn --version: more than one line"
"$CNN" --help | grep -q -- "--version" || fail "the usage does not name --version"

expect_exit 2 "bogus" "$CNN" summary --arch "conv 32 3, bogus 2, softmax"
expect_exit 2 "layer 0" "$CNN" summary --arch "conv 32 40, softmax"
expect_exit 2 "1x28" "$CNN" summary --input 1x28
expect_exit 2 "give one or the other" "$CNN" summary model.safetensors --arch "dense 10"
expect_exit 2 "nothing-here.safetensors" "$CNN" summary "$WORK/nothing-here.safetensors"
expect_exit 2 "Unknown option" "$CNN" summary --frobnicate

# Help and dispatch.
"$CNN" help > "$WORK/help"
for c in summary train eval predict compare; do
  grep -q "^  $c " "$WORK/help" || fail "help lacks $c"
done
"$CNN" train --help | grep -q -- "--train-images" || fail "train --help"
"$CNN" help eval | grep -q -- "--json" || fail "help eval"
expect_exit 2 "unknown command 'frob'" "$CNN" frob
expect_exit 2 "Usage" "$CNN"
echo "ok"
