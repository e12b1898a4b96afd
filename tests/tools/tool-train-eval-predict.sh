#!/bin/bash
# The tool end to end on MNIST: a short training run (3,000 images, one
# epoch) must reach far above chance on the official test set; eval must
# agree with it and with the test set's known class counts; summary must
# show the model's metadata; predict must read MNIST digits written here
# as PGM (and PNG) files and name them correctly.
. "$(dirname "$0")/lib.sh"
need_mnist

O=$WORK/run
mkdir "$O"
"$CNN" train $TRAIN $TEST --limit 3000 --epochs 1 --batch 64 --seed 7 \
  --log "$O/log.csv" --plot "$O/plot.png" -o "$O/m.safetensors" > "$O/train.out" \
  || fail "training failed: $(cat "$O/train.out")"
cat "$O/train.out"

# The start of the run states its settings and the BLAS in use.
grep -q "^optimizer: adam, learning rate 0.001" "$O/train.out" || fail "settings line"
grep -q "^epochs 1, batch 64, seed 7, threads" "$O/train.out" || fail "epochs line"
grep -q "^BLAS: " "$O/train.out" || fail "BLAS line"
grep -q "^training data: 3000 images 1x28x28 .*: 2700 for training, 300 held out" "$O/train.out" \
  || fail "data line"

# Far above chance (10%): one epoch of 2,700 digits gives about 90%.
line=$(grep "^test accuracy of the kept weights" "$O/train.out")
correct=$(echo "$line" | sed -n 's/.*(\([0-9]*\)\/10000)$/\1/p')
[ -n "$correct" ] && [ "$correct" -gt 8000 ] || fail "test accuracy too low: $line"

# Log: a header and one line per epoch; plot: a PNG; checkpoint: present.
[ "$(head -n 1 "$O/log.csv")" = "epoch,train_loss,train_accuracy,val_loss,val_accuracy,test_accuracy,learning_rate,seconds,images_per_second" ] \
  || fail "log header: $(head -n 1 "$O/log.csv")"
[ "$(wc -l < "$O/log.csv")" = 2 ] || fail "log lines"
grep -Eq '^1,[0-9.]+,0\.[0-9]+,[0-9.]+,0\.[0-9]+,0\.[0-9]+,0\.001,[0-9.]+,[0-9.]+$' "$O/log.csv" \
  || fail "log line: $(tail -n 1 "$O/log.csv")"
[ "$(head -c 8 "$O/plot.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] || fail "plot is not a PNG"
[ -f "$O/m.safetensors.ckpt" ] || fail "no checkpoint"

# summary of the model file: metadata, then the table.
"$CNN" summary "$O/m.safetensors" > "$O/summary"
[ "$(tail -n 1 "$O/summary")" = "Total params: 1,199,882" ] || fail "summary total"
grep -q '^  labels: \["0","1","2","3","4","5","6","7","8","9"\]$' "$O/summary" || fail "labels"
grep -q '^  preprocess: resize$' "$O/summary" || fail "preprocess"
grep -q '^  seed: 7$' "$O/summary" || fail "seed"
grep -q '^  epochs: 1$' "$O/summary" || fail "epochs"
grep -q "^  test-accuracy: $(echo "$line" | sed 's/.*: \([0-9.]*%\) .*/\1/')\$" "$O/summary" \
  || fail "test-accuracy metadata: $(grep test-accuracy "$O/summary")"
grep -q '^  trained-with: cnn train --train-images train10k-images-idx3-ubyte.gz .* --limit 3000 --epochs 1 --batch 64 --seed 7 ' "$O/summary" \
  || fail "trained-with: $(grep trained-with "$O/summary")"
# The training machine's folders stay on it.
! grep '^  trained-with:' "$O/summary" | grep -q / || fail "trained-with names a folder"
grep -q '^  dataset: train10k-images-idx3-ubyte.gz: first 3000 images' "$O/summary" || fail "dataset"

# eval: the first line, the same count as training reported.
"$CNN" eval "$O/m.safetensors" "$MNIST/t10k-images-idx3-ubyte.gz" \
  "$MNIST/t10k-labels-idx1-ubyte.gz" > "$O/eval"
first=$(head -n 1 "$O/eval")
echo "$first" | grep -Eq "^accuracy: [0-9]+\.[0-9]{2}% \($correct/10000\)$" \
  || fail "eval first line: $first (training said $correct/10000)"
grep -q "^confusion matrix" "$O/eval" || fail "no confusion matrix"
grep -Eq '^ +class +precision +recall +support$' "$O/eval" || fail "no per-class table"

# --json: the confusion matrix's rows add up to the official test set's
# class counts, its diagonal to the correct count.
"$CNN" eval --json --threads 1 --batch 100 "$O/m.safetensors" \
  "$MNIST/t10k-images-idx3-ubyte.gz" "$MNIST/t10k-labels-idx1-ubyte.gz" > "$O/eval.json"
if [ -x /usr/bin/python3 ]; then
  /usr/bin/python3 - "$O/eval.json" "$correct" <<'EOF' || fail "eval --json"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["total"] == 10000 and r["correct"] == int(sys.argv[2]), r
m = r["confusion"]
assert [sum(row) for row in m] == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
assert sum(m[i][i] for i in range(10)) == r["correct"]
for i, c in enumerate(r["classes"]):
    assert c["label"] == str(i) and c["support"] == sum(m[i])
    assert abs(c["recall"] - m[i][i] / sum(m[i])) < 1e-9
    col = sum(m[t][i] for t in range(10))
    assert col == 0 or abs(c["precision"] - m[i][i] / col) < 1e-9
EOF
fi

# predict: the first test digits as PGM files.
for i in 0 1 2 3 4; do
  mnist_pgm "$i" "$O/digit$i.pgm"
done
"$CNN" predict "$O/m.safetensors" "$O"/digit?.pgm > "$O/predict"
cat "$O/predict"
for i in 0 1 2 3 4; do
  want=$(mnist_label "$i")
  grep -Eq "^$O/digit$i.pgm $want (0|1)\.[0-9]{4}$" "$O/predict" \
    || fail "digit $i (label $want): $(grep "digit$i" "$O/predict")"
done

# predict --json: one object a line, the same answers as the text, the
# probabilities summing to 1; a blank picture, to the shipped model (mnist
# preprocessing: no ink), is class -1, label null.
printf 'P5\n28 28\n255\n' > "$O/blank.pgm"
head -c 784 /dev/zero >> "$O/blank.pgm"
"$CNN" predict --json "$O/m.safetensors" "$O"/digit?.pgm > "$O/predict.json"
if [ -x /usr/bin/python3 ]; then
  /usr/bin/python3 - "$O/predict.json" "$O/predict" <<'EOF' || fail "predict --json: $(cat "$O/predict.json")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
text = [l.split() for l in open(sys.argv[2])]
assert len(lines) == len(text) == 5, (len(lines), len(text))
for j, (path, label, confidence) in zip(lines, text):
    assert j["path"] == path and j["label"] == label, (j, path, label)
    assert j["class_id"] == int(label) and len(j["probabilities"]) == 10, j
    assert abs(j["confidence"] - float(confidence)) < 5e-5, (j, confidence)
    assert j["confidence"] == max(j["probabilities"]), j
    assert abs(sum(j["probabilities"]) - 1) < 1e-5, j
EOF
fi
"$CNN" predict --json "$CNN_SHIPPED_MODEL" "$O/blank.pgm" > "$O/blank.json"
[ "$(cat "$O/blank.json")" = "{\"path\":\"$O/blank.pgm\",\"class_id\":-1,\"label\":null,\"confidence\":0,\"probabilities\":[0,0,0,0,0,0,0,0,0,0]}" ] \
  || fail "predict --json of a blank picture: $(cat "$O/blank.json")"

# The same digit as a PNG (written with Python's zlib when available).
if [ -x /usr/bin/python3 ]; then
  /usr/bin/python3 - "$O/digit0.pgm" "$O/digit0.png" <<'EOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()[-784:]
def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
rows = b"".join(b"\0" + data[y * 28:(y + 1) * 28] for y in range(28))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, 0, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
open(sys.argv[2], "wb").write(png)
EOF
  "$CNN" predict "$O/m.safetensors" "$O/digit0.png" > "$O/png"
  grep -Eq "^$O/digit0.png $(mnist_label 0) " "$O/png" || fail "png: $(cat "$O/png")"
  # Same pixels, same answer, whichever the format.
  [ "$(cut -d' ' -f2- "$O/png")" = "$(grep digit0.pgm "$O/predict" | cut -d' ' -f2-)" ] \
    || fail "PNG and PGM of the same digit disagree"
fi
echo "ok"
