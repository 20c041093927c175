// bench/peers.html's worker: one peer library trains Falken's digits models on the real MNIST
// blocks and times one digit's prediction, exactly as bench/peers_falken.py does for Falken.
//
// Message in: {lib: "tfjs-wasm" | "tfjs-cpu" | "convnetjs", manifest, hidden, conv1, conv2,
//              plan: [[model, [batch, ...]], ...], warmup, window, runs, inferSamples, inferSampleS}
// Message out: {result: {mlp: {train: {batch: [samples/s per run]}, infer_ms: [ms per run]}, ...,
//               meta: {...}}} or {error: "..."}.
"use strict";

const LIBS = "../build/peers/";      // bench/peers.py vendors them there (tools/vendor.py, bench_npm)
const SIDE = 28, PIXELS = SIDE * SIDE, CLASSES = 10, KERNEL = 5;
const LR = 1e-3, BETA1 = 0.9, BETA2 = 0.999, EPS = 1e-8;   // Falken's Adam (models/optim.py)

// -- the data: the same .npz blocks Falken trains on -------------------------------------------
// A block is a zip of images.npy and labels.npy written with ZIP_STORED (models/blocks.py), so a
// member's bytes sit right after its local header: no inflating needed.
function zipMembers(buffer) {
  const view = new DataView(buffer), out = {};
  let at = 0;
  while (at + 30 <= buffer.byteLength && view.getUint32(at, true) === 0x04034b50) {
    const method = view.getUint16(at + 8, true), size = view.getUint32(at + 18, true);
    const nameLength = view.getUint16(at + 26, true), extraLength = view.getUint16(at + 28, true);
    const name = new TextDecoder().decode(new Uint8Array(buffer, at + 30, nameLength));
    if (method !== 0) throw new Error(`block member ${name} is compressed (method ${method}); blocks are stored`);
    const start = at + 30 + nameLength + extraLength;
    out[name] = new Uint8Array(buffer, start, size);
    at = start + size;
  }
  return out;
}

function npyUint8(bytes, name) {
  const magic = String.fromCharCode(...bytes.subarray(1, 6));
  if (bytes[0] !== 0x93 || magic !== "NUMPY") throw new Error(`${name} is not a .npy array`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6], headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = (major === 1 ? 10 : 12) + headerLength;
  const header = new TextDecoder().decode(bytes.subarray(major === 1 ? 10 : 12, start));
  if (!/'descr':\s*'\|u1'/.test(header) || /'fortran_order':\s*True/.test(header))
    throw new Error(`${name}: expected a C-order uint8 array, header ${header.trim()}`);
  return bytes.subarray(start);
}

async function loadTrainSet(manifestUrl) {
  const manifest = await (await fetch(manifestUrl)).json();
  const blocks = manifest.blocks.filter(b => b.split === "train");
  const count = blocks.reduce((n, b) => n + b.count, 0);
  const images = new Float32Array(count * PIXELS), labels = new Int32Array(count);
  let at = 0;
  for (const block of blocks) {
    const response = await fetch(new URL(block.file, manifestUrl));
    if (!response.ok) throw new Error(`${block.file}: HTTP ${response.status}`);
    const members = zipMembers(await response.arrayBuffer());
    const pixels = npyUint8(members["images.npy"], "images.npy"), digits = npyUint8(members["labels.npy"], "labels.npy");
    for (let i = 0; i < pixels.length; i++) images[at * PIXELS + i] = pixels[i] / 255;
    labels.set(digits, at);
    at += digits.length;
  }
  return {images, labels, count};
}

// -- seeded randomness (mulberry32 + Box-Muller): the same init scale as Falken's He init -----
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fillNormal(array, std, random) {
  for (let i = 0; i < array.length; i++)
    array[i] = std * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return array;
}

// Falken: hidden weights N(0, 2/fan_in) (ReLU follows), the output layer N(0, 1/fan_in), biases 0.
const initStd = (fanIn, last) => Math.sqrt((last ? 1 : 2) / fanIn);

// Batches in a shuffled order, copied into one reused buffer (Falken's cache copies too).
function batcher(data, seed) {
  const random = rng(seed), order = Int32Array.from({length: data.count}, (_, i) => i);
  let cursor = data.count;
  return (n, x, y) => {
    for (let k = 0; k < n; k++) {
      if (cursor === data.count) {
        for (let i = order.length - 1; i > 0; i--) {
          const j = Math.floor(random() * (i + 1));
          [order[i], order[j]] = [order[j], order[i]];
        }
        cursor = 0;
      }
      const i = order[cursor++];
      x.set(data.images.subarray(i * PIXELS, (i + 1) * PIXELS), k * PIXELS);
      y[k] = data.labels[i];
    }
  };
}

// -- TensorFlow.js (layers API for the architecture, optimizer.minimize for the step) --------
async function tfjsContender(backend, spec) {
  importScripts(LIBS + "tfjs/tf.min.js");
  if (backend === "wasm") {
    importScripts(LIBS + "tfjs-backend-wasm/tf-backend-wasm.min.js");
    tf.wasm.setWasmPaths(new URL(LIBS + "tfjs-backend-wasm/", self.location.href).href);
  }
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js could not start its ${backend} backend`);
  await tf.ready();
  const meta = {library: `@tensorflow/tfjs ${tf.version.tfjs}`, backend: tf.getBackend()};
  if (backend === "wasm") {
    meta.wasm_simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
    meta.wasm_threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
  }
  const build = (model, random) => {
    const net = tf.sequential();
    if (model === "mlp") {
      net.add(tf.layers.dense({inputShape: [PIXELS], units: spec.hidden, activation: "relu"}));
      net.add(tf.layers.dense({units: CLASSES}));
    } else {       // models/cnn.py: conv5 -> pool2 -> ReLU, twice, dense (ReLU after the pool, as Falken)
      net.add(tf.layers.conv2d({inputShape: [SIDE, SIDE, 1], kernelSize: KERNEL, filters: spec.conv1}));
      net.add(tf.layers.maxPooling2d({poolSize: 2, strides: 2}));
      net.add(tf.layers.reLU());
      net.add(tf.layers.conv2d({kernelSize: KERNEL, filters: spec.conv2}));
      net.add(tf.layers.maxPooling2d({poolSize: 2, strides: 2}));
      net.add(tf.layers.reLU());
      net.add(tf.layers.flatten());
      net.add(tf.layers.dense({units: CLASSES}));
    }
    const shapes = net.getWeights().map(w => w.shape), kernels = shapes.filter(s => s.length > 1).length;
    let seen = 0;
    const initial = shapes.map(shape => {
      const size = shape.reduce((a, b) => a * b, 1);
      if (shape.length === 1) return tf.zeros(shape);
      const fanIn = size / shape[shape.length - 1];
      return tf.tensor(fillNormal(new Float32Array(size), initStd(fanIn, ++seen === kernels), random), shape);
    });
    net.setWeights(initial);
    tf.dispose(initial);
    const optimizer = tf.train.adam(LR, BETA1, BETA2, EPS);
    const shape = model === "mlp" ? [PIXELS] : [SIDE, SIDE, 1];
    return {
      step(n, x, y) {
        const xs = tf.tensor(x.subarray(0, n * PIXELS), [n, ...shape]);
        const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(y.subarray(0, n), "int32"), CLASSES));
        const cost = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, net.apply(xs, {training: true})), true);
        const loss = cost.dataSync()[0];
        tf.dispose([xs, ys, cost]);
        return loss;
      },
      predict(x) {       // one digit in, ten probabilities out (as Falken's predict_proba)
        const probs = tf.tidy(() => tf.softmax(net.predict(tf.tensor(x, [1, ...shape]))));
        const out = probs.dataSync();
        probs.dispose();
        return out;
      },
      dispose() { net.dispose(); optimizer.dispose(); },
    };
  };
  return {meta, build};
}

// -- ConvNetJS: its Net, and Adam over its parameter lists (0.3.0's Trainer has no Adam) -------
function convnetContender(spec) {
  self.window = self;            // convnet-min.js ends by setting window.jsfeat
  importScripts(LIBS + "convnetjs/convnet-min.js");
  const meta = {library: "convnetjs 0.3.0", optimizer: "Adam written here over net.getParamsAndGrads()"};
  const build = (model, random) => {
    const layers = model === "mlp"
      ? [{type: "input", out_sx: 1, out_sy: 1, out_depth: PIXELS},
         {type: "fc", num_neurons: spec.hidden, activation: "relu", bias_pref: 0}]
      : [{type: "input", out_sx: SIDE, out_sy: SIDE, out_depth: 1},
         {type: "conv", sx: KERNEL, filters: spec.conv1, stride: 1, pad: 0, bias_pref: 0},
         {type: "pool", sx: 2, stride: 2}, {type: "relu"},
         {type: "conv", sx: KERNEL, filters: spec.conv2, stride: 1, pad: 0, bias_pref: 0},
         {type: "pool", sx: 2, stride: 2}, {type: "relu"}];
    const net = new convnetjs.Net();
    net.makeLayers([...layers, {type: "softmax", num_classes: CLASSES}]);
    const lists = net.getParamsAndGrads();        // the live weight arrays, updated in place
    const withFilters = net.layers.filter(l => l.filters && l.filters.length);
    withFilters.forEach((layer, i) => {
      const fanIn = layer.filters[0].w.length;
      for (const f of layer.filters) fillNormal(f.w, initStd(fanIn, i === withFilters.length - 1), random);
      layer.biases.w.fill(0);
    });
    const m = lists.map(l => new Float64Array(l.params.length)), v = lists.map(l => new Float64Array(l.params.length));
    let t = 0;
    const input = new convnetjs.Vol(model === "mlp" ? 1 : SIDE, model === "mlp" ? 1 : SIDE, model === "mlp" ? PIXELS : 1, 0);
    return {
      step(n, x, y) {
        let loss = 0;
        for (let k = 0; k < n; k++) {             // ConvNetJS is per sample: gradients add up
          input.w.set(x.subarray(k * PIXELS, (k + 1) * PIXELS));
          net.forward(input, true);
          loss += net.backward(y[k]);
        }
        t += 1;
        const a = LR * Math.sqrt(1 - BETA2 ** t) / (1 - BETA1 ** t);
        lists.forEach((l, i) => {
          const p = l.params, g = l.grads, mi = m[i], vi = v[i];
          for (let j = 0; j < p.length; j++) {
            const gj = g[j] / n;
            mi[j] = BETA1 * mi[j] + (1 - BETA1) * gj;
            vi[j] = BETA2 * vi[j] + (1 - BETA2) * gj * gj;
            p[j] -= a * mi[j] / (Math.sqrt(vi[j]) + EPS);
            g[j] = 0;
          }
        });
        return loss / n;
      },
      predict(x) {
        input.w.set(x);
        return net.forward(input, false).w;
      },
      dispose() {},
    };
  };
  return {meta, build};
}

// -- the protocol: the same in bench/peers_falken.py ---------------------------------------------
const now = () => performance.now() / 1e3;

function trainRates(model, batch, data, spec) {
  const x = new Float32Array(batch * PIXELS), y = new Int32Array(batch), next = batcher(data, 1);
  let loss = NaN;
  const run = seconds => {
    const started = now();
    let steps = 0;
    do {
      next(batch, x, y);
      loss = model.step(batch, x, y);
      steps++;
    } while (now() - started < seconds);
    return steps * batch / (now() - started);
  };
  run(spec.warmup);
  const rates = Array.from({length: spec.runs}, () => run(spec.window));
  if (!Number.isFinite(loss)) throw new Error(`the loss became ${loss} at batch ${batch}`);
  return {rates, loss};
}

function median(values) {
  const s = [...values].sort((a, b) => a - b), h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

// One prediction's ms: calls timed in groups that take at least inferSampleS (timers are coarse
// outside cross-origin isolation: 1 ms in some engines' workers), the median group per run.
function inferMs(model, digit, spec) {
  const timed = calls => {
    const t0 = now();
    for (let i = 0; i < calls; i++) model.predict(digit);
    return now() - t0;
  };
  let group = 1;
  while (timed(group) < spec.inferSampleS) group *= 2;      // also the warm-up
  return Array.from({length: spec.runs}, () => median(Array.from({length: spec.inferSamples},
    () => timed(group) * 1e3 / group)));
}

async function measure(spec) {
  const contender = spec.lib === "convnetjs" ? convnetContender(spec)
    : await tfjsContender(spec.lib === "tfjs-wasm" ? "wasm" : "cpu", spec);
  const data = await loadTrainSet(spec.manifest);
  const digit = data.images.slice(0, PIXELS);
  const result = {meta: {...contender.meta, samples: data.count}};
  for (const [name, batches] of spec.plan) {
    const model = contender.build(name, rng(0)), train = {}, losses = {}, unsupported = {};
    for (const batch of batches) {
      try {
        ({rates: train[batch], loss: losses[batch]} = trainRates(model, batch, data, spec));
      } catch (error) {          // e.g. tfjs-backend-wasm has no Conv2DBackpropFilter kernel
        unsupported[batch] = `${error && error.message || error}`.split("\n")[0];
      }
    }
    result[name] = {train, losses, unsupported, infer_ms: inferMs(model, digit, spec)};
    model.dispose();
  }
  return result;
}

self.onmessage = async event => {
  try {
    postMessage({result: await measure(event.data)});
  } catch (error) {
    postMessage({error: `${error && error.stack || error}`});
  }
};
