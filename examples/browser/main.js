// The demo page: UI, charts (vega-lite) and the canvas; all computing happens in worker.js.
import { connect } from 'tapegrad/worker';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { FAMILIES } from './families.js';

const $ = (id) => document.getElementById(id);
const worker = connect(new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }));
worker.ready.then(
  (r) => {
    $('backend').textContent = r.backend;
  },
  (e) => {
    $('backend').textContent = `no backend: ${e.message}`;
  },
);

async function draw(el, spec) {
  const view = new vega.View(vega.parse(compile({ width: 420, height: 260, ...spec }).spec), {
    renderer: 'svg',
    container: $(el),
  });
  await view.runAsync();
}

// 1. timing
for (const [key, f] of Object.entries(FAMILIES)) $('family').add(new Option(f.label, key));
$('family').value = 'mlp';
const fmt = (ms) => (ms < 0.1 ? ms.toFixed(4) : ms < 10 ? ms.toFixed(3) : ms.toFixed(1));

$('time').onclick = async () => {
  const N = Number($('n').value),
    family = $('family').value;
  const backends = $('with-js').checked ? ['wasm', 'js'] : ['wasm'];
  $('time').disabled = true;
  $('verdict').textContent = '';
  const body = $('timing').tBodies[0];
  body.replaceChildren();
  const rows = [];
  try {
    await worker.run('time', { family, N, backends }, (r) => {
      rows.push(r);
      $('time-status').textContent = `${r.backend}, N = ${r.N} done`;
      body.insertRow().innerHTML =
        `<td>${r.backend}</td><td>${r.N}</td><td>${fmt(r.value)}</td><td>${fmt(r.reverse)}</td><td>${fmt(r.fd)}</td>` +
        `<td>${(r.reverse / r.value).toPrecision(2)}</td><td>${(r.fd / r.value).toPrecision(3)}</td>`;
    });
    const points = rows.flatMap((r) =>
      [
        ['value', r.value],
        ['reverse', r.reverse],
        ['fd-forward', r.fd],
      ].map(([method, ms]) => ({ backend: r.backend, N: r.N, method, ms })),
    );
    await draw('chart-time', {
      title: 'time of one call',
      data: { values: points },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'N', type: 'quantitative', scale: { type: 'log' } },
        y: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'ms' },
        color: { field: 'method' },
        strokeDash: { field: 'backend' },
      },
    });
    const ratios = rows.flatMap((r) => [
      { backend: r.backend, N: r.N, method: 'reverse', ratio: r.reverse / r.value },
      { backend: r.backend, N: r.N, method: 'fd-forward', ratio: r.fd / r.value },
    ]);
    await draw('chart-ratio', {
      title: 'gradient time / value time',
      data: { values: ratios },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'N', type: 'quantitative', scale: { type: 'log' } },
        y: { field: 'ratio', type: 'quantitative', scale: { type: 'log' }, title: '× one evaluation' },
        color: { field: 'method' },
        strokeDash: { field: 'backend' },
      },
    });
    const last = rows.filter((r) => r.backend === 'wasm').at(-1);
    const rev = last.reverse / last.value,
      fd = last.fd / last.value;
    $('verdict').textContent =
      `At N = ${last.N.toLocaleString('en')} on wasm, one reverse gradient took ${rev.toFixed(1)}× one evaluation ` +
      `and forward differences ${fd.toFixed(0)}×: backprop was ${(last.fd / last.reverse).toFixed(0)}× faster, ` +
      `${fd > 2 * rev ? 'so it saves far more than one evaluation' : 'only a little faster at this small N'}.`;
    $('time-status').textContent = 'done';
  } catch (e) {
    $('time-status').textContent = `error: ${e.message}`;
  } finally {
    $('time').disabled = false;
  }
};

// 2. training and drawing
const history = [];
$('train').onclick = async () => {
  $('train').disabled = true;
  history.length = 0;
  const t0 = performance.now();
  try {
    await worker.run('train', { epochs: Number($('epochs').value) }, (e) => {
      history.push(
        { epoch: e.epoch, series: 'loss', v: e.loss },
        { epoch: e.epoch, series: 'train accuracy', v: e.accuracy },
        { epoch: e.epoch, series: 'validation loss', v: e.valLoss },
        { epoch: e.epoch, series: 'validation accuracy', v: e.valAccuracy },
      );
      $('train-status').textContent =
        `epoch ${e.epoch}: loss ${e.loss.toFixed(3)}, validation accuracy ${(e.valAccuracy * 100).toFixed(1)}%`;
      $('train-status').dataset.accuracy = String(e.valAccuracy);
      draw('chart-train', {
        title: 'training (fit with adam)',
        data: { values: history },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'epoch', type: 'quantitative' },
          y: { field: 'v', type: 'quantitative', title: null },
          color: { field: 'series' },
        },
      });
    });
    $('train-status').textContent += ` (done in ${((performance.now() - t0) / 1000).toFixed(1)} s)`;
    $('train-status').dataset.done = 'true';
  } catch (e) {
    $('train-status').textContent = `error: ${e.message}`;
  } finally {
    $('train').disabled = false;
  }
};

const canvas = $('canvas'),
  g = canvas.getContext('2d');
function clear() {
  g.fillStyle = '#000';
  g.fillRect(0, 0, canvas.width, canvas.height);
  $('prediction').textContent = '–';
}
clear();
let drawing = false;
canvas.onpointerdown = (e) => {
  drawing = true;
  g.beginPath();
  g.moveTo(e.offsetX, e.offsetY);
};
canvas.onpointermove = (e) => {
  if (!drawing) return;
  g.strokeStyle = '#fff';
  g.lineWidth = 16;
  g.lineCap = 'round';
  g.lineTo(e.offsetX, e.offsetY);
  g.stroke();
};
canvas.onpointerup = canvas.onpointerleave = async () => {
  if (!drawing) return;
  drawing = false;
  // 8x8 cells of 20x20 pixels, mean brightness scaled to the data set's 0..16, then /16
  const img = g.getImageData(0, 0, 160, 160).data,
    pixels = new Array(64).fill(0);
  for (let y = 0; y < 160; y++)
    for (let x = 0; x < 160; x++) pixels[((y / 20) | 0) * 8 + ((x / 20) | 0)] += img[(y * 160 + x) * 4] / 255 / 400;
  try {
    const p = await worker.run('predict', { pixels });
    $('prediction').textContent = `${p.digit} (${(p.probs[p.digit] * 100).toFixed(0)}%)`;
  } catch (e) {
    $('prediction').textContent = e.message;
  }
};
$('clear').onclick = clear;
