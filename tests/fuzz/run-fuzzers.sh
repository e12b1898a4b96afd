#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS on a scratch copy of its seed
# corpus (the committed seeds stay as they are) and prints each one's
# executions and their total.  Fails when a target stops on a crash,
# a leak, a timeout or an out-of-memory; the input that did it is kept
# in OUT_DIR (default: BUILD_DIR/fuzz-out/<target>/).
#
#   bash tests/fuzz/run-fuzzers.sh BUILD_DIR SECONDS [TARGET...]
#
# FUZZ_SEED (default 1) seeds libFuzzer's mutations, so that a run's
# verdict can be reproduced: CI replays seed 1, and a finding there is
# found again by the same command.  FUZZ_SEED=0 picks a new seed each
# run, for exploring (as before a release, for longer).
set -uo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 BUILD_DIR SECONDS [TARGET...]" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(model idx arch preprocess number checkpoint picture)
  # cnn import, where the build has ONNX support (meson option onnx).
  [ -x "$build/tests/fuzz/fuzz-onnx" ] && targets+=(onnx)
fi
out_root=${OUT_DIR:-$build/fuzz-out}

total=0
failed=()
for t in "${targets[@]}"; do
  exe=$build/tests/fuzz/fuzz-$t
  if [ ! -x "$exe" ]; then
    echo "run-fuzzers: $exe is missing (setup with -Dfuzzing=true)" >&2
    exit 2
  fi
  out=$out_root/$t
  rm -rf "$out"
  mkdir -p "$out/corpus"
  cp "$here/corpus/$t"/* "$out/corpus/"
  # One job on one core (the machine is shared).  A failure: 10 s for
  # one input, 2 GiB resident, or one allocation over 1 GiB, so that a
  # memory bomb counts as a finding (the targets hold libcnn to 256 MiB).
  (cd "$out" && "$exe" -max_total_time="$seconds" -print_final_stats=1 \
      -seed="${FUZZ_SEED:-1}" \
      -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
      -artifact_prefix="$out/" corpus) >"$out/log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log" | tail -1)
  execs=${execs:-0}
  total=$((total + execs))
  if [ $rc -ne 0 ]; then
    failed+=("$t")
    echo "fuzz-$t: FAILED (exit $rc) after $execs executions; log $out/log"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)' \
        "$out/log" | head -20
    tail -40 "$out/log"
  else
    echo "fuzz-$t: $execs executions in ${seconds} s, no crash"
  fi
done
echo "total: $total executions"
if [ ${#failed[@]} -ne 0 ]; then
  echo "failed: ${failed[*]}"
  exit 1
fi
