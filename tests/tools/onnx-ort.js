// ONNX Runtime's side of tool-onnx.sh: runs an ONNX model exported by
// `cnn export` over an MNIST IDX test set and prints one JSON object,
// {"correct", "total", "confusion"} (rows: true class), to set beside
// `cnn eval --json` on the same files.  Inputs are bytes / 255, as cnn
// eval feeds them; batches of 500.
//
//   NODE_PATH=$ORT_DIR/node_modules node onnx-ort.js MODEL.onnx IMAGES LABELS
'use strict';

const fs = require('fs');
const zlib = require('zlib');

function readIdx(path) {
  let data = fs.readFileSync(path);
  if (data[0] === 0x1f && data[1] === 0x8b)
    data = zlib.gunzipSync(data);
  const ndim = data[3];
  const dims = [];
  for (let i = 0; i < ndim; i++)
    dims.push(data.readUInt32BE(4 + 4 * i));
  return { dims, bytes: data.subarray(4 + 4 * ndim) };
}

async function main() {
  const [model, imagesPath, labelsPath] = process.argv.slice(2);
  const ort = require('onnxruntime-node');
  const images = readIdx(imagesPath), labels = readIdx(labelsPath);
  const [n, h, w] = images.dims;
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1, interOpNumThreads: 1 });
  const size = h * w, batch = 500;
  let classes = 0, correct = 0;
  const confusion = [];
  for (let first = 0; first < n; first += batch) {
    const count = Math.min(batch, n - first);
    const x = new Float32Array(count * size);
    for (let i = 0; i < x.length; i++)
      x[i] = images.bytes[first * size + i] / 255;
    const out = await session.run({
      input: new ort.Tensor('float32', x, [count, 1, h, w]) });
    const p = out.probabilities;
    classes = p.dims[1];
    for (let s = 0; s < count; s++) {
      let best = 0;
      for (let k = 1; k < classes; k++)
        if (p.data[s * classes + k] > p.data[s * classes + best])
          best = k;
      const truth = labels.bytes[first + s];
      while (confusion.length < classes)
        confusion.push(new Array(classes).fill(0));
      confusion[truth][best]++;
      if (best === truth)
        correct++;
    }
  }
  console.log(JSON.stringify({ correct, total: n, confusion }));
}

main().catch((e) => { console.error('onnx-ort: ' + e.message); process.exit(1); });
