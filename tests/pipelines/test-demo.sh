#!/bin/bash
# pipelines/demo.sh, headless as CI runs it: it must print one result line
# per classified frame, and the bundled model must read the digit drawn
# in nearly every one of them.
set -eu
: "${DEMO:?DEMO must name pipelines/demo.sh}"
out=$(mktemp)
trap 'rm -f "$out"' EXIT

"$DEMO" --headless --seconds 10 > "$out" 2>&1 || { cat "$out"; echo "FAIL: demo.sh exited non-zero"; exit 1; }
cat "$out"
rows=$(grep -cE '^ +[0-9.]+ s +[0-9] +' "$out" || true)
right=$(awk '$2 == "s" && $3 == $4 { n++ } END { print n + 0 }' "$out")
[ "$rows" -eq 20 ] || { echo "FAIL: expected 20 result lines (10 s, 2 a second), got $rows"; exit 1; }
[ "$right" -ge 18 ] || { echo "FAIL: only $right of $rows digits read right"; exit 1; }
echo "ok: $right of $rows digits read right"
