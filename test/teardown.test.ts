/**
 * A worker thread that loads the native addon can be ended at any moment (worker.terminate(),
 * process.exit() in it or on the main thread) and the process lives: no C++ exception escapes
 * into the environment's teardown (it aborted the whole process: "terminate called after
 * throwing an instance of 'Napi::Error'"; see native/binding/napi-config.h). A terminated
 * worker's pending promises never settle, which is fine. Every case runs in a child process, so
 * that an abort is the child's signal rather than the end of this test run.
 *
 * TAPEGRAD_TEARDOWN_SECONDS sets the stress test's budget (default 10); TAPEGRAD_TEARDOWN_SEED
 * its seed (fixed by default, so that every run explores the same sequence).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { TEST_BACKENDS } from './harness.js';

const seconds = Number(process.env.TAPEGRAD_TEARDOWN_SECONDS ?? 10);
const seed = Number(process.env.TAPEGRAD_TEARDOWN_SEED ?? 20261202);
const crash = /terminate called|Napi::Error|FATAL ERROR|Sanitizer|double free|Segmentation/;

/** runs an ES module script in a child Node.js (tsx loaded, cwd the repository) */
function child(script: string, timeout: number) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout,
  });
}

// The child's prelude: the addon's path, a W1-like model's tape and a helper that starts a worker
// on `body` (CommonJS, with `addon`, `p` a program of that tape, and its arguments in scope).
const prelude = `
  import { Worker } from 'node:worker_threads';
  import { resolve } from 'node:path';
  const t = await import('./src/index.ts');
  const path = resolve(process.env.TAPEGRAD_NATIVE_PATH || 'build/Release/tapegrad.node');
  const tape = t.define({ params: { a: [], b: [] }, inputs: { x: [100] } }, ({ a, b }, { x }) => x.mul(a).sigmoid().mul(b).sum()).tape;
  const start = (body) => new Worker(\`
    const { workerData, parentPort } = require('node:worker_threads');
    const addon = require(workerData.path);
    const p = addon.load(workerData.tape);
    const theta = Float64Array.of(0.5, 2), x = new Float64Array(100).fill(0.25), g = new Float64Array(2);
    const sgd = { momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0, maximize: false };
    const adam = { beta1: 0.9, beta2: 0.999, weightDecay: 0, decoupled: false, amsgrad: false, maximize: false };
    \${body}
  \`, { eval: true, execArgv: [], workerData: { path, tape } });
`;

describe.runIf(TEST_BACKENDS.includes('native'))('ending a worker thread that uses the native addon', () => {
  it(`stress (${seconds} s, seed ${seed}): workers on every entry point, ended at random moments`, () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'test/fixtures/teardown-stress.ts', String(seconds), String(seed), '3'],
      { encoding: 'utf8', timeout: (seconds + 60) * 1000 },
    );
    expect(r.stderr, `exit ${r.status} ${r.signal}`).not.toMatch(crash);
    expect([r.status, r.signal], r.stderr).toEqual([0, null]);
    const rounds = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
    // every scenario ran (the seed and the budget give dozens of each)
    for (const scenario of ['sync', 'async', 'exit', 'normal', 'beforeBusy'])
      expect(rounds[scenario]).toBeGreaterThan(0);
  }, 120_000);

  it('terminate() during a for(;;) of synchronous calls, for each entry point: the process lives', () => {
    // each call made after terminate() and before V8 stops the loop fails inside the addon (the
    // environment refuses JavaScript): before the fix, that failure aborted the process in most rounds
    const r = child(
      `${prelude}
      const loops = {
        value: 'p.value(theta, [x])',
        reverse: 'p.reverse(theta, [x], g)',
        fd: 'p.fd(theta, [x], g, true, 1e-6, true)',
        jvp: 'p.jvp(theta, [x], g, new Float64Array(2))',
        forwardGrad: 'p.forwardGrad(theta, [x], g, true)',
        sgd: 'o.step(theta, g, 1e-3, false)',
        adam: 'o.step(theta, g, 1e-3, 1e-8, 1)',
        load: 'addon.load(workerData.tape).dispose()',
        optimizer: 'new addon.Optimizer("adam", 2, adam).dispose()',
        busy: 'p.busy',
      };
      let rounds = 0;
      for (const delay of [0, 1, 5]) {
        // one worker per entry point at once
        const workers = Object.entries(loops).map(([name, call]) => {
          const o = name === 'sgd' ? 'new addon.Optimizer("sgd", 2, sgd)' : 'new addon.Optimizer("adam", 2, adam)';
          return start(\`const o = \${o}; parentPort.postMessage('busy'); for (;;) \${call};\`);
        });
        await Promise.all(workers.map((w) => new Promise((ok) => w.once('message', ok))));
        await new Promise((ok) => setTimeout(ok, delay));
        await Promise.all(workers.map(async (w) => (await w.terminate(), rounds++)));
      }
      console.log('lived through ' + rounds + ' rounds');`,
      90_000,
    );
    expect(r.stderr, `exit ${r.status} ${r.signal}`).not.toMatch(crash);
    expect(r.stdout.trim(), r.stderr).toBe('lived through 30 rounds');
    expect([r.status, r.signal]).toEqual([0, null]);
  }, 90_000);

  it('process.exit() from user code that the addon runs while it reads its arguments: the process lives', () => {
    // deterministic: a getter the binding reads (an input array's element, one inherited from
    // Array.prototype, a tape field, an optimizer option) ends the worker, so that the read itself
    // fails inside the addon; and a call from an 'exit' listener
    const r = child(
      `${prelude}
      const cases = {
        input: 'const xs = [x]; Object.defineProperty(xs, 0, { get() { process.exit(0); } }); p.value(theta, xs);',
        asyncInput: 'const xs = []; Object.defineProperty(xs, 0, { get() { process.exit(0); } }); p.reverseAsync(theta, xs, g);',
        tape: 'addon.load({ ...workerData.tape, get code() { process.exit(0); } });',
        optimizer: 'new addon.Optimizer("adam", 2, { ...adam, get beta2() { process.exit(0); } });',
        sparse: 'Object.defineProperty(Array.prototype, 0, { get() { process.exit(0); }, configurable: true }); p.fd(theta, new Array(1), g, true, 1e-6, true);',
        uncaught: 'process.on("exit", () => p.value(theta, [x])); throw new Error("ends the worker");',
      };
      const codes = [];
      for (const body of Object.values(cases)) {
        const w = start(body);
        w.on('error', () => {});
        codes.push(await new Promise((ok) => w.once('exit', ok)));
      }
      console.log('exit codes ' + codes.join(','));`,
      60_000,
    );
    expect(r.stderr, `exit ${r.status} ${r.signal}`).not.toMatch(crash);
    expect(r.stdout.trim(), r.stderr).toBe('exit codes 0,0,0,0,0,1');
    expect([r.status, r.signal]).toEqual([0, null]);
  }, 60_000);

  it('a worker that ends normally with undisposed programs, optimizers and settled gradients: freed at teardown', () => {
    const r = child(
      `${prelude}
      let rounds = 0;
      for (let k = 0; k < 6; k++) {
        const w = start(\`
          const ps = Array.from({ length: 20 }, () => addon.load(workerData.tape, undefined, 1 + (\${k} % 3)));
          const os = [new addon.Optimizer('sgd', 2, sgd), new addon.Optimizer('adam', 2, adam)];
          for (const q of ps) q.value(theta, [x]);
          Promise.all(ps.slice(0, 5).map((q) => q.fdAsync(theta, [x], new Float64Array(2), true, 1e-6, false))).then(() => parentPort.postMessage('done'));
        \`);
        const done = new Promise((ok) => w.once('message', ok));
        const code = await new Promise((ok) => w.once('exit', ok));
        await done;
        if (code === 0) rounds++;
      }
      console.log('clean exits ' + rounds);`,
      60_000,
    );
    expect(r.stderr, `exit ${r.status} ${r.signal}`).not.toMatch(crash);
    expect(r.stdout.trim(), r.stderr).toBe('clean exits 6');
    expect([r.status, r.signal]).toEqual([0, null]);
  }, 60_000);
});
