# Shared by the tool-*.sh tests: a scratch directory, assertions, and IDX
# files written byte by byte.
set -eu

: "${CNN:?CNN must name the cnn executable}"
MNIST=${CNN_MNIST_DIR:-${CNN_MNIST_DIR_DEFAULT:-}}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cnn-tool-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

fail () {
  echo "FAIL: $*" >&2
  exit 1
}

need_mnist () {
  for f in train10k-images-idx3-ubyte.gz train10k-labels-idx1-ubyte.gz \
      t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
    if [ ! -f "$MNIST/$f" ]; then
      # CI always has the data beside the repository: missing there is a
      # failure, not a skip.
      [ -z "${CI:-}" ] || fail "no MNIST ($f) in '$MNIST' (set CNN_MNIST_DIR)"
      echo "SKIP: no MNIST ($f) in '$MNIST' (set CNN_MNIST_DIR)"
      exit 77
    fi
  done
  TRAIN="--train-images $MNIST/train10k-images-idx3-ubyte.gz --train-labels $MNIST/train10k-labels-idx1-ubyte.gz"
  TEST="--test-images $MNIST/t10k-images-idx3-ubyte.gz --test-labels $MNIST/t10k-labels-idx1-ubyte.gz"
}

# The ONNX commands are there unless cnn was built without the meson
# option onnx; CI builds it, so missing there is a failure.
need_onnx () {
  if "$CNN" export --help 2> /dev/null | grep -q ONNX \
      && ! "$CNN" import /dev/null -o "$WORK/probe.safetensors" 2>&1 \
        | grep -q "without ONNX support"; then
    return 0
  fi
  [ -z "${CI:-}" ] || fail "cnn was built without ONNX support (meson option onnx)"
  echo "SKIP: cnn was built without ONNX support (meson option onnx)"
  exit 77
}

# expect_exit STATUS FRAGMENT COMMAND...: COMMAND must exit with STATUS
# and say FRAGMENT on stderr.  Its output is left in $WORK/stdout, $WORK/stderr.
expect_exit () {
  want=$1
  fragment=$2
  shift 2
  set +e
  "$@" > "$WORK/stdout" 2> "$WORK/stderr"
  got=$?
  set -e
  [ "$got" = "$want" ] \
    || fail "exit status $got, expected $want: $*; stderr: $(cat "$WORK/stderr")"
  grep -qF -- "$fragment" "$WORK/stderr" \
    || fail "stderr of '$*' lacks '$fragment'; it says: $(cat "$WORK/stderr")"
}

# Bytes of a big-endian 32-bit number.
be32 () {
  printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(( ($1 >> 24) & 255 )) \
    $(( ($1 >> 16) & 255 )) $(( ($1 >> 8) & 255 )) $(( $1 & 255 )))"
}

byte () {
  printf "$(printf '\\%03o' "$1")"
}

# idx_images FILE N H W [DATA_BYTES]: N×H×W random images; DATA_BYTES
# (default N·H·W) lets a test write fewer or more than the header says.
idx_images () {
  {
    printf '\000\000\010\003'
    be32 "$2"; be32 "$3"; be32 "$4"
    head -c "${5:-$(( $2 * $3 * $4 ))}" /dev/urandom
  } > "$1"
}

# idx_labels FILE N [LAST]: labels 0,1,..,9,0,..; the last one LAST if given.
idx_labels () {
  {
    printf '\000\000\010\001'
    be32 "$2"
    i=0
    while [ "$i" -lt "$(( $2 - 1 ))" ]; do
      byte $(( i % 10 ))
      i=$(( i + 1 ))
    done
    byte "${3:-$(( i % 10 ))}"
  } > "$1"
}

# The raw tensor data of a safetensors file (what follows the header).
tensor_data () {
  len=$(od -An -tu8 -N8 "$1" | tr -d ' ')
  tail -c +$(( 9 + len )) "$1"
}

# mnist_pgm INDEX FILE: test image INDEX of MNIST as a binary PGM.
mnist_pgm () {
  {
    printf 'P5\n# MNIST t10k image %s\n28 28\n255\n' "$1"
    gzip -dc "$MNIST/t10k-images-idx3-ubyte.gz" | tail -c +$(( 17 + $1 * 784 )) | head -c 784
  } > "$2"
}

mnist_label () {
  gzip -dc "$MNIST/t10k-labels-idx1-ubyte.gz" | tail -c +$(( 9 + $1 )) | head -c 1 | od -An -tu1 | tr -d ' '
}
