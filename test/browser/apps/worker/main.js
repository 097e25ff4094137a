// While a long finite-difference gradient runs in a Web Worker, the page keeps drawing frames;
// the same gradient on the main thread (the control) blocks it. Results on window.__result.
import { backend, define } from 'tapegrad';
import { connect } from 'tapegrad/worker';
import { fn, inputs, options, params, spec } from './model.js';

/** Longest gap between animation frames while `job` runs (ms), and the job's result and time. */
async function longestFrame(job) {
  let last = performance.now(),
    longest = 0,
    frames = 0,
    on = true;
  const gaps = [];
  const tick = (t) => {
    gaps.push(Math.round(t - last));
    longest = Math.max(longest, t - last);
    last = t;
    frames++;
    if (on) requestAnimationFrame(tick);
  };
  await new Promise((ok) =>
    requestAnimationFrame((t) => {
      last = t;
      ok();
    }),
  );
  requestAnimationFrame(tick);
  const t0 = performance.now();
  const result = await job();
  const ms = performance.now() - t0;
  await new Promise((ok) => requestAnimationFrame(ok)); // the frame after the job counts too
  on = false;
  return { result, ms, longest, frames, gaps };
}

try {
  const w = connect(new Worker(new URL('./grad-worker.js', import.meta.url), { type: 'module' }));
  const { backend: workerBackend } = await w.ready;
  const inWorker = await longestFrame(() => w.grad('mlp', params, inputs, options));
  const c = (await backend('wasm')).compile(define(spec, fn));
  await new Promise((ok) => setTimeout(ok, 100));
  const onMain = await longestFrame(async () => c.grad(params, inputs, options));
  const same = Object.keys(params).every((k) =>
    inWorker.result.grad[k].every((v, i) => Object.is(v, onMain.result.grad[k][i])),
  );
  w.terminate();
  window.__result = {
    workerBackend,
    same,
    value: inWorker.result.value,
    worker: { ms: inWorker.ms, longest: inWorker.longest, frames: inWorker.frames, gaps: inWorker.gaps },
    main: { ms: onMain.ms, longest: onMain.longest, frames: onMain.frames },
  };
} catch (e) {
  window.__result = { error: String((e && e.stack) || e) };
}
