// ONNX Runtime's side of bench-onnxruntime.sh (see there).
//
//   node bench-onnxruntime.js measure MODEL.onnx SECONDS THREADS
//       → one JSON object: with THREADS 1, batch 1 (median, p99 µs) and
//         batch 64 images/s on 1 intra-op thread; with 2, batch 64
//         images/s on 2 threads (bench-forward's field names)
//   node bench-onnxruntime.js table ORT1.json ORT2.json OURS1.json OURS2.json
//       → the side-by-side table (each figure from the run pinned for it)
//
// Timing as bench-forward does it: warm up, then time single calls for
// about SECONDS, and quote the median (p99 for batch 1).  Each call is
// session.run() as a Node program makes it, binding overhead included.
// On 1 thread it also takes the median CPU time per call
// (process.cpuUsage: the whole process's, ORT's thread and Node's), to set
// beside bench-forward's thread CPU time when the machine is shared.
'use strict';

const fs = require('fs');

function loadOrt() {
  try {
    return require('onnxruntime-node');
  } catch (e) {
    console.error('bench-onnxruntime: onnxruntime-node not found (' +
        e.message.split('\n')[0] + ').  Install it with: ' +
        'npm install --ignore-scripts onnxruntime-node, in a scratch ' +
        'directory named by ORT_DIR');
    process.exit(3);
  }
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function timeRuns(ort, session, batch, seconds) {
  const x = new Float32Array(batch * 28 * 28);
  for (let i = 0; i < x.length; i++)
    x[i] = (i * 7919 % 1000) / 1000;
  const feeds = { input: new ort.Tensor('float32', x, [batch, 1, 28, 28]) };
  for (let i = 0; i < 20; i++)
    await session.run(feeds);
  const samples = [], cpu = [];
  const end = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() < end || samples.length < 10) {
    const start = process.hrtime.bigint();
    const cpuStart = process.cpuUsage();
    await session.run(feeds);
    const used = process.cpuUsage(cpuStart);
    samples.push(Number(process.hrtime.bigint() - start) / 1e3);
    cpu.push(used.user + used.system);
  }
  samples.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  return { median_us: percentile(samples, 0.5), p99_us: percentile(samples, 0.99),
    cpu_median_us: percentile(cpu, 0.5), runs: samples.length };
}

async function session(ort, model, threads) {
  return ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
}

async function measure(model, seconds, threads) {
  const ort = loadOrt();
  const s = await session(ort, model, threads);
  const out = { onnxruntime: require('onnxruntime-node/package.json').version };
  if (threads === 1) {
    const b1 = await timeRuns(ort, s, 1, seconds);
    out.batch1_threads1_median_us = b1.median_us;
    out.batch1_threads1_p99_us = b1.p99_us;
    out.batch1_threads1_cpu_median_us = b1.cpu_median_us;
  }
  const b64 = await timeRuns(ort, s, 64, seconds);
  out[`batch64_threads${threads}_images_per_s`] = 64e6 / b64.median_us;
  if (threads === 1)
    out.batch64_threads1_cpu_images_per_s = 64e6 / b64.cpu_median_us;
  console.log(JSON.stringify(out));
}

const readJson = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));

function table(ort1, ort2, ours1, ours2) {
  const ort = Object.assign(readJson(ort2), readJson(ort1));
  const ours = readJson(ours1);
  ours.batch64_threads2_images_per_s =
      readJson(ours2).batch64_threads2_images_per_s;
  // The last element says which way is better (the header line says so).
  const rows = [
    ['batch 1, 1 thread, median (us)', 'batch1_threads1_median_us', 'time'],
    ['batch 1, 1 thread, p99 (us)', 'batch1_threads1_p99_us', 'time'],
    ['batch 64, 1 thread (img/s)', 'batch64_threads1_images_per_s', 'rate'],
    ['batch 64, 2 threads (img/s)', 'batch64_threads2_images_per_s', 'rate'],
    ['batch 1, 1 thread, CPU (us)', 'batch1_threads1_cpu_median_us', 'time'],
    ['batch 64, 1 thread, CPU (img/s)', 'batch64_threads1_cpu_images_per_s',
      'rate'],
  ];
  const pad = (s, n) => String(s).padStart(n);
  console.log(`gst-cnn (${ours.kernels || '?'} kernels) vs ONNX Runtime ` +
      `${ort.onnxruntime}`);
  console.log('case'.padEnd(32) + pad('gst-cnn', 10) + pad('ORT', 10) +
      pad('ratio', 8) + '  (time: ours/ORT, lower is better; ' +
      'rate: ours/ORT, higher is better)');
  for (const [name, key] of rows) {
    const a = ours[key], b = ort[key];
    console.log(name.padEnd(32) + pad(a.toFixed(0), 10) + pad(b.toFixed(0), 10) +
        pad((a / b).toFixed(2), 8));
  }
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'measure' && args.length === 3) {
  measure(args[0], Number(args[1]), Number(args[2])).catch((e) => {
    console.error('bench-onnxruntime: ' + e.message);
    process.exit(1);
  });
} else if (mode === 'table' && args.length === 4) {
  table(...args);
} else {
  console.error('usage: bench-onnxruntime.js measure MODEL.onnx SECONDS ' +
      'THREADS | table ORT1.json ORT2.json OURS1.json OURS2.json');
  process.exit(2);
}
