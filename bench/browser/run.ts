/**
 * `npm run bench:browser`: W1 and W3 on the wasm backend in headless Chromium next to Node, timed
 * the same way (bench/browser/timing.ts), interleaved Node, Chromium, Node, Chromium, ... (ROUNDS rounds, default 3; the machine
 * may be shared: the ratios of one run are what count). The page is bundled by esbuild (node:
 * imports of the data loaders, never run here, stubbed) and served cross-origin isolated so the
 * browser's clock is fine-grained.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { serve } from '../../test/browser/serve.js';
import { root, work } from '../../test/browser/stage.js';
import * as tapegrad from '../../src/index.js';
import { timeWasm } from './timing.js';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const out = join(work, 'bench');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(root, 'bench/browser/page.ts')],
  bundle: true,
  format: 'esm',
  outfile: join(out, 'page.js'),
  logLevel: 'warning',
  plugins: [
    {
      name: 'stub-node',
      setup(b) {
        b.onResolve({ filter: /^node:/ }, (a) => ({ path: a.path, namespace: 'stub' }));
        b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
          contents: 'export const readFileSync = () => { throw new Error("no fs here"); }, gunzipSync = readFileSync;',
        }));
      },
    },
  ],
});
cpSync(join(root, 'dist/tapegrad.wasm'), join(out, 'tapegrad.wasm'));
writeFileSync(
  join(out, 'index.html'),
  '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="./page.js"></script>',
);
const server = await serve({ '/': out }, [], 0, {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
});
const browser = await chromium.launch({
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
type Times = Record<string, { value: number; reverse: number }>;
const runs: { node: Times[]; chromium: Times[] } = { node: [], chromium: [] };
try {
  for (let round = 0; round < ROUNDS; round++) {
    runs.node.push(await timeWasm(tapegrad as never));
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, undefined, {
      timeout: 120_000,
    });
    const r = await page.evaluate(() => (window as unknown as { __result: Times & { error?: string } }).__result);
    if ((r as { error?: string }).error) throw new Error((r as { error?: string }).error);
    runs.chromium.push(r);
    await page.close();
  }
} finally {
  await browser.close();
  server.close();
}
const best = (ts: Times[], w: string, k: 'value' | 'reverse') => Math.min(...ts.map((t) => t[w][k]));
console.log(
  `wasm backend, Chromium ${browser.version()} vs Node ${process.version} (best of ${ROUNDS} interleaved runs; ms per call)`,
);
console.log('workload  call     Node      Chromium  Chromium/Node');
for (const w of ['W1', 'W3'])
  for (const k of ['value', 'reverse'] as const) {
    const n = best(runs.node, w, k),
      c = best(runs.chromium, w, k);
    console.log(
      `${w.padEnd(9)} ${k.padEnd(8)} ${n.toFixed(4).padStart(8)}  ${c.toFixed(4).padStart(8)}  ${(c / n).toFixed(2)}x`,
    );
  }
process.exit(0);
