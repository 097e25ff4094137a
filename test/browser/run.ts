/**
 * `npm run test:browser`: tapegrad as a web app gets it. The package is packed (npm pack) and
 * unpacked into .browser-work/node_modules/tapegrad; the tiny app in test/browser/apps/ is
 * built by Vite, esbuild and webpack with no tapegrad-specific configuration (esbuild: the wasm
 * copied next to the bundle, as the README says) and also loaded unbundled with an import map.
 * Each is served on 127.0.0.1 and opened in headless Chromium (Debian's chromium, through
 * playwright-core): the best backend must be wasm, and the conformance models' values and
 * gradients (every method) must equal Node's bit for bit on each backend in
 * TAPEGRAD_BROWSER_BACKENDS (default wasm,js). With the wasm missing, backend() must fall back to
 * js with a console warning that names the reason. Any other console error fails. Bounded: 5 min.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { serve, type Server } from './serve.js';
import { bin, build, root, sh, stage, work } from './stage.js';
import { runConformance } from './apps/shared/conformance.js';
import { difference } from '../../src/api/compare.js';
import { AGREEMENT } from '../../src/crosscheck.js';

const BACKENDS = (process.env.TAPEGRAD_BROWSER_BACKENDS ?? 'wasm,js').split(',').filter(Boolean);
const timer = setTimeout(() => {
  console.error('FAIL test:browser: over its 5-minute budget');
  process.exit(1);
}, 5 * 60_000);

interface Result {
  error?: string;
  best: string;
  backends: string[];
  features: Record<string, readonly string[]>;
  results: Record<string, Record<string, Record<string, number | number[]>>>;
}

/** Opens a page, waits for window.__result; console errors and page errors are collected. */
async function open(browser: Browser, url: string): Promise<{ result: Result; errors: string[]; warnings: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [],
    warnings: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
    if (m.type() === 'warning') warnings.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  try {
    await page.goto(url);
    await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, undefined, {
      timeout: 60_000,
    });
    const result = await page.evaluate(() => (window as unknown as { __result: Result }).__result);
    return { result, errors, warnings };
  } finally {
    await page.close();
  }
}

interface WorkerResult {
  error?: string;
  workerBackend: string;
  same: boolean;
  worker: { ms: number; longest: number; frames: number; gaps: number[] };
  main: { ms: number; longest: number; frames: number; gaps: number[] };
}

let failed = 0;
/** the largest js differences seen, per quantity (printed: the tolerances' margin) */
const worst: Record<string, number> = {};
function check(ok: boolean, what: string, detail = ''): void {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${ok || !detail ? '' : `: ${detail}`}`);
  if (!ok) failed++;
}

/**
 * The js backend's agreement between Chromium and Node. Its exp/log/tanh/... are the engine's
 * Math functions, and Chromium 156's differ from Node 20's in the last bit on many arguments
 * (measured on 20,000 arguments in [-10, 10]: exp on 10%, log 7%, tanh 0.03%). Values and
 * reverse gradients only move by rounding (the conformance suite's 1e-12); a finite difference
 * divides f's last-bit change by its step h, so fd-forward (h ~ 1.5e-8) can move by about
 * 2^-52 / 1.5e-8 ~ 1.5e-8 of |f| per coordinate, relative to the gradient's norm more (3.2e-7
 * measured on the mlp model), and fd-central (h ~ 6e-6) by about 4e-11 of |f|.
 */
const TOLERANCE: Record<string, number> = {
  value: AGREEMENT.reverse,
  reverse: AGREEMENT.reverse,
  'fd-forward': 1e-5,
  'fd-central': 1e-8,
};

/**
 * Every number bit for bit (Object.is: -0 and NaN too), or within the conformance suite's
 * tolerance (AGREEMENT, normwise) for the quantities in `tolerant`; the first difference when not.
 */
function firstDifference(
  got: Result['results'][string],
  want: Result['results'][string],
  tolerant: readonly string[],
): string | undefined {
  for (const [model, row] of Object.entries(want)) {
    for (const [what, w] of Object.entries(row)) {
      const g = got?.[model]?.[what];
      const ws = Array.isArray(w) ? w : [w],
        gs = Array.isArray(g) ? g : [g];
      if (gs.length !== ws.length) return `${model} ${what}: ${gs.length} numbers, expected ${ws.length}`;
      const tol = TOLERANCE[what];
      if (tolerant.includes(what)) {
        const d = difference(gs as number[], ws as number[]).normRel;
        worst[what] = Math.max(worst[what] ?? 0, d);
        if (!(d <= tol)) return `${model} ${what}: relative difference ${d.toExponential(1)} > ${tol}`;
        continue;
      }
      const i = ws.findIndex((x, k) => !Object.is(x, gs[k]));
      if (i >= 0) return `${model} ${what}[${i}]: ${gs[i]} in Chromium, ${ws[i]} in Node`;
    }
  }
  return undefined;
}

/** which wasm module a backend's features name */
function moduleOf(features: readonly string[] | undefined): string {
  return features?.includes('relaxed-simd') ? 'tapegrad-relaxed.wasm' : 'tapegrad.wasm';
}

/** What a web app downloads: tapegrad's JS (minified by esbuild, gzip -9) and the wasm (gzip -9). */
function sizes(): void {
  const js = Buffer.from(
    sh(
      bin('esbuild'),
      ['--bundle', '--minify', '--format=esm', '--log-level=warning'],
      join(work, 'apps'),
      "export * from 'tapegrad';",
    ),
  );
  const wasm = readFileSync(join(work, 'node_modules/tapegrad/dist/tapegrad.wasm'));
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  const wasmGz = gzipSync(wasm, { level: 9 }).length;
  console.log(
    `     sizes: JS ${kib(js.length)} minified, ${kib(gzipSync(js, { level: 9 }).length)} gzip; wasm ${kib(wasm.length)}, ${kib(wasmGz)} gzip`,
  );
  check(wasmGz <= 100 * 1024, 'the wasm is at most 100 KiB gzip', kib(wasmGz));
}

const servers: Server[] = [];
async function served(routes: Record<string, string>, missing?: string[]): Promise<string> {
  const server = await serve(routes, missing);
  servers.push(server);
  return server.url;
}

/** The three bundlers' builds and the unbundled package: wasm, and Node's numbers. */
async function bundlers(browser: Browser): Promise<void> {
  const node = await runConformance(await import('../../dist/index.js'), BACKENDS);
  const apps: [string, Record<string, string>][] = [];
  for (const b of ['vite', 'esbuild', 'webpack']) apps.push([b, { '/': build(b) }]);
  apps.push([
    'no bundler (import map)',
    {
      '/': join(work, 'apps/plain'),
      '/pkg/': join(work, 'node_modules/tapegrad'),
      '/shared/': join(work, 'apps/shared'),
    },
  ]);
  for (const [name, routes] of apps) {
    const { result, errors } = await open(browser, await served(routes));
    check(!result.error, `${name}: the app ran`, result.error);
    if (result.error) continue;
    check(errors.length === 0, `${name}: no console errors`, errors.join(' | '));
    check(result.best === 'wasm', `${name}: backend() is wasm (backends: ${result.backends.join(', ')})`, result.best);
    const modules = `Chromium ran ${moduleOf(result.features.wasm)}, Node ${moduleOf(node.features.wasm)}`;
    console.log(`     ${name}: wasm: ${modules}`);
    for (const be of BACKENDS) {
      // wasm, the same module in both engines: bit for bit. The relaxed-SIMD module in one and the
      // plain one in the other (Chromium validates relaxed SIMD, Node 20 does not): value() and
      // reverse() fuse multiply-adds in one only, so they agree to the suite's 1e-12, while finite
      // differences run the exact forward rules in both: bit for bit. js runs on the engine's
      // Math functions, and Chromium's differ from Node's (see TOLERANCE): tolerances.
      const sameModule = moduleOf(result.features.wasm) === moduleOf(node.features.wasm);
      const tolerant = be !== 'wasm' ? Object.keys(TOLERANCE) : sameModule ? [] : ['value', 'reverse'];
      const diff = firstDifference(result.results[be], node.results[be], tolerant);
      check(
        diff === undefined,
        `${name}: ${be}: the conformance models' values and gradients (reverse, fd-forward, fd-central) equal Node's ${
          tolerant.length === 0
            ? 'bit for bit'
            : tolerant.length === Object.keys(TOLERANCE).length
              ? 'to within TOLERANCE'
              : `bit for bit, ${tolerant.join(' and ')} to within TOLERANCE`
        }${be === 'wasm' ? ` (${modules})` : ''}`,
        diff,
      );
    }
  }
  console.log(
    `     js, Chromium vs Node, largest relative difference: ${Object.entries(worst)
      .map(([k, v]) => `${k} ${v.toExponential(1)}`)
      .join(', ')}`,
  );
}

/** Worker mode: a long FD gradient in a Web Worker leaves the page's frames short. */
async function workerMode(browser: Browser): Promise<void> {
  const { result, errors } = (await open(browser, await served({ '/': build('vite', 'worker') }))) as unknown as {
    result: WorkerResult;
    errors: string[];
  };
  check(!result.error, 'worker: the app ran', result.error);
  if (result.error) return;
  check(errors.length === 0, 'worker: no console errors', errors.join(' | '));
  check(result.workerBackend === 'wasm', 'worker: the worker runs wasm', result.workerBackend);
  check(result.same, "worker: the worker's fd-forward gradient equals the main thread's bit for bit");
  const f = (r: WorkerResult['worker']) =>
    `${r.ms.toFixed(0)} ms, ${r.frames} frames, longest ${r.longest.toFixed(0)} ms`;
  // the control shows the measurement can fail: the same gradient on the main thread blocks a frame
  check(
    result.main.longest > 50,
    `worker: control: on the main thread the gradient blocks the page (${f(result.main)})`,
  );
  check(
    result.worker.longest < 50,
    `worker: in the worker, the page's longest frame stays under 50 ms (${f(result.worker)})`,
    JSON.stringify(result.worker.gaps),
  );
}

/** The esbuild app without its wasm: a fallback to js, with a warning that says why. */
async function fallback(browser: Browser): Promise<void> {
  const { result, errors, warnings } = await open(
    browser,
    await served({ '/': join(work, 'out/esbuild') }, ['/tapegrad.wasm', '/tapegrad-relaxed.wasm']),
  );
  check(result.best === 'js', 'without tapegrad.wasm: backend() falls back to js', result.error ?? result.best);
  const w = warnings.filter((m) => /tapegrad: the wasm backend did not load, using js/.test(m));
  check(
    w.length === 1 && /HTTP 404/.test(w[0]) && /Fix: serve tapegrad\.wasm/.test(w[0]),
    'without tapegrad.wasm: one console warning with the reason and the fix',
    warnings.join(' | '),
  );
  check(
    errors.every((e) => /404/.test(e)),
    'without tapegrad.wasm: no console error but the 404',
    errors.join(' | '),
  );
}

/**
 * The demo page (examples/browser/, built by Vite): timing at a small N, a few epochs of training
 * in the worker, a drawn digit; screenshots in test/browser/artifacts/ (gitignored).
 */
async function demo(browser: Browser): Promise<void> {
  const artifacts = join(root, 'test/browser/artifacts');
  mkdirSync(artifacts, { recursive: true });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  try {
    await page.goto(await served({ '/': build('vite', 'demo') }));
    await page.waitForFunction(() => document.getElementById('backend')?.textContent !== '…', undefined, {
      timeout: 30_000,
    });
    check(
      (await page.textContent('#backend')) === 'wasm',
      'demo: the worker runs wasm',
      (await page.textContent('#backend')) ?? '',
    );

    await page.selectOption('#family', 'mlp');
    await page.fill('#n', '400');
    await page.click('#time');
    await page.waitForFunction(() => document.getElementById('verdict')!.textContent !== '', undefined, {
      timeout: 120_000,
    });
    const table = await page.$$eval('#timing tbody tr', (trs) =>
      trs.map((tr) => Array.from(tr.children, (td) => td.textContent ?? '')),
    );
    const numbers = table.flatMap((r) => r.slice(1).map(Number));
    check(
      table.length >= 4 &&
        new Set(table.map((r) => r[0])).size === 2 &&
        numbers.every((x) => x > 0 && Number.isFinite(x)),
      `demo: timing rows for wasm and js with positive, finite times: ${JSON.stringify(table.map((r) => r.slice(0, 5)))}`,
    );
    const wasmRows = table.filter((r) => r[0] === 'wasm');
    const lastWasm = wasmRows[wasmRows.length - 1];
    const verdict = (await page.textContent('#verdict')) ?? '';
    check(
      new RegExp(
        `^At N = ${Number(lastWasm?.[1]).toLocaleString('en')} on wasm, one reverse gradient took [\\d.]+× one evaluation and forward differences \\d+×: backprop was \\d+× faster`,
      ).test(verdict),
      'demo: the verdict names N and the ratios',
      verdict,
    );
    check(
      (await page.locator('#chart-time svg').count()) === 1 && (await page.locator('#chart-ratio svg').count()) === 1,
      'demo: the two timing charts are drawn',
    );
    await page.screenshot({ path: join(artifacts, 'demo-timing.png'), fullPage: true });

    await page.fill('#epochs', '3');
    await page.click('#train');
    await page.waitForFunction(() => document.getElementById('train-status')!.dataset.done === 'true', undefined, {
      timeout: 120_000,
    });
    const acc = Number(await page.getAttribute('#train-status', 'data-accuracy'));
    check(
      acc > 0.9,
      `demo: after 3 epochs of fit() in the worker the validation accuracy is ${(acc * 100).toFixed(1)}% (> 90%)`,
      String(acc),
    );
    check((await page.locator('#chart-train svg').count()) === 1, 'demo: the training chart is drawn');

    // draw a "1": a vertical stroke down the middle of the canvas
    await page.locator('#canvas').scrollIntoViewIfNeeded();
    const box = (await page.locator('#canvas').boundingBox())!;
    await page.mouse.move(box.x + 80, box.y + 20);
    await page.mouse.down();
    for (let y = 20; y <= 140; y += 10) await page.mouse.move(box.x + 80, box.y + y);
    await page.mouse.up();
    await page.waitForFunction(() => document.getElementById('prediction')!.textContent !== '–', undefined, {
      timeout: 30_000,
    });
    const pred = (await page.textContent('#prediction')) ?? '';
    check(/^\d \(\d+%\)$/.test(pred), `demo: a drawn digit gets a prediction (${pred})`, pred);
    await page.screenshot({ path: join(artifacts, 'demo-trained.png'), fullPage: true });
    check(errors.length === 0, 'demo: no console errors', errors.join(' | '));
  } finally {
    await page.close();
  }
}

const PARTS: Record<string, (b: Browser) => Promise<void>> = { bundlers, worker: workerMode, fallback, demo };
const only = process.env.TAPEGRAD_BROWSER_ONLY?.split(',') ?? Object.keys(PARTS);
let browser: Browser | undefined;
try {
  stage();
  sizes();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  for (const part of only) {
    if (part === 'fallback' && !only.includes('bundlers')) build('esbuild');
    await PARTS[part](browser);
  }
} catch (e) {
  check(false, 'test:browser ran to the end', `${(e as Error).message}\n${(e as { stderr?: string }).stderr ?? ''}`);
} finally {
  await browser?.close();
  for (const s of servers) s.close();
  clearTimeout(timer);
}
process.exit(failed ? 1 : 0);
