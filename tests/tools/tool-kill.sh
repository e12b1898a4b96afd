#!/bin/bash
# The trainer killed (SIGKILL) at 20 random moments: loading the data,
# in an epoch, writing a checkpoint, writing the model.  After each kill
# the model and the checkpoint on disk must each be the previous complete
# file or a new complete one (never a torn one): the model loads, the
# checkpoint resumes.  What else is left must be a writer's temporary
# file, named for the file it was to become plus ".XXXXXX", which no
# reader takes for a model or a checkpoint.
# CNN_KILL_SEED repeats a run's random delays.
. "$(dirname "$0")/lib.sh"
need_mnist

KILLS=20
SEED=${CNN_KILL_SEED:-$$}
RANDOM=$SEED
echo "kill delays from seed $SEED (CNN_KILL_SEED=$SEED repeats them)"

# About 0.15 s of loading, then 8 epochs of about 0.1 s each, each ending
# with a 1.4 MB checkpoint; the model is 350 kB.
ARCH="conv 8 3, relu, maxpool 2, flatten, dense 64, relu, dense 10, softmax"
O=$WORK/o
mkdir "$O"
MODEL=$O/m.safetensors
CKPT=$O/m.safetensors.ckpt

digest () {
  if [ -e "$1" ]; then sha256sum < "$1"; else echo absent; fi
}

# check_output FILE BEFORE VALIDATE: FILE is absent (no run got so far
# yet), the one from before the kill (BEFORE, its digest), or a new one
# that VALIDATE accepts; prints which.
check_output () {
  if [ ! -e "$1" ]; then
    [ "$2" = absent ] || fail "round $round: the previous ${1##*/} vanished"
    echo absent
  elif [ "$(digest "$1")" = "$2" ]; then
    echo previous
  else
    "$3" "$1"
    echo new
  fi
}

valid_model () {
  "$CNN" summary "$1" > "$WORK/summary.out" 2>&1 \
    || fail "round $round: torn model: $(cat "$WORK/summary.out")"
}

# A checkpoint must resume: the run is cut after its first batch (one
# made at the end of the last epoch writes its model instead).
valid_checkpoint () {
  set +e
  CNN_TEST_INTERRUPT_AFTER_BATCHES=1 "$CNN" train $TRAIN --resume "$1" \
    -o "$WORK/resumed.safetensors" --checkpoint "$WORK/resumed.ckpt" \
    > "$WORK/resume.out" 2>&1
  status=$?
  set -e
  [ "$status" = 0 ] || { [ "$status" = 1 ] && grep -q "interrupted after" "$WORK/resume.out"; } \
    || fail "round $round: torn checkpoint (resume exits $status): $(cat "$WORK/resume.out")"
}

# Leftovers: only writers' temporary files; they are counted, then
# removed as a user would.
check_leftovers () {
  for f in "$O"/* "$O"/.[!.]*; do
    [ -e "$f" ] || continue
    case $f in
      "$MODEL" | "$CKPT") ;;
      "$MODEL".?????? | "$CKPT".?????? | "$O"/.cnn-write-test-??????)
        echo "round $round: left behind: ${f#"$O"/}"
        temporaries=$(( temporaries + 1 ))
        rm -f "$f" ;;
      *) fail "round $round: unexpected file ${f#"$O"/}" ;;
    esac
  done
}

TRAIN_ARGS=(train $TRAIN --limit 2000 --arch "$ARCH" --epochs 8 --threads 1
  -o "$MODEL")

# How long a whole run takes here, in ms: the kills are spread over it,
# so that they land from start to end whether this machine is fast or
# busy.  This run's outputs are the "previous" files of round 1.
start=$(date +%s%N)
"$CNN" "${TRAIN_ARGS[@]}" --seed 0 > "$WORK/train.out" 2>&1 \
  || fail "the uninterrupted run failed: $(cat "$WORK/train.out")"
run_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "an uninterrupted run takes $run_ms ms"

temporaries=0
declare -A outcomes
for round in $(seq 1 $KILLS); do
  model_before=$(digest "$MODEL")
  ckpt_before=$(digest "$CKPT")
  # From the start to 110 % of a run's length: the model is written at
  # the very end, so some kills must land there, and a few runs finish.
  delay_ms=$(( (RANDOM * 32768 + RANDOM) % (run_ms * 110 / 100 + 1) ))
  delay=$(printf '%d.%03d' $(( delay_ms / 1000 )) $(( delay_ms % 1000 )))
  # A simple command, not a function: with &, bash runs a function in a
  # subshell whose child, the trainer, would outlive the kill and go on
  # writing beside the next round's; this way $! is the trainer itself.
  "$CNN" "${TRAIN_ARGS[@]}" --seed "$round" > "$WORK/train.out" 2>&1 &
  pid=$!
  sleep "$delay"
  kill -KILL "$pid" 2> /dev/null || true
  set +e
  wait "$pid" 2> /dev/null  # bash's "Killed" notice
  status=$?
  set -e
  case $status in
    137) how=killed ;;
    0) how=finished ;;
    *) fail "round $round: training exited $status: $(cat "$WORK/train.out")" ;;
  esac
  epochs=$(grep -c "^epoch " "$WORK/train.out" || true)
  model=$(check_output "$MODEL" "$model_before" valid_model)
  ckpt=$(check_output "$CKPT" "$ckpt_before" valid_checkpoint)
  check_leftovers
  echo "round $round: after ${delay} s $how ($epochs epochs done): model $model, checkpoint $ckpt"
  outcomes[$how]=$(( ${outcomes[$how]:-0} + 1 ))
done

echo "$KILLS rounds: ${outcomes[killed]:-0} killed, ${outcomes[finished]:-0} finished first;" \
  "$temporaries temporary file(s) left behind"
# The delays must have cut most runs: a test that never kills tests nothing.
[ "${outcomes[killed]:-0}" -ge $(( KILLS / 2 )) ] \
  || fail "only ${outcomes[killed]:-0} of $KILLS runs were killed: the runs are too short"
