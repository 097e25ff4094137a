/**
 * `npm run test:browser`: loads the built package (dist/) as ES modules in headless Chromium,
 * runs the seed example on every backend that loads there, and checks the results against Node's
 * js reference. Needs Debian's chromium (`apt-get install -y chromium`); .ci/run installs it.
 */
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { backend, define } from '../../src/index.js';
import { difference } from '../../src/api/compare.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.map': 'application/json' };
const server = createServer(async (req, res) => {
  const url = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
  const path = url === '/' ? 'test/browser/page.html' : url;
  try {
    const body = await readFile(join(root, path));
    res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
const port = (server.address() as { port: number }).port;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
let failed = false;
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, undefined, { timeout: 30_000 });
  const result = await page.evaluate(() => (window as unknown as { __result: unknown }).__result) as
    { error?: string; backends: string[]; best: string; results: Record<string, { value: number; grad: number[]; fd: number[] }> };
  if (result.error) throw new Error(result.error);
  console.log(`browser backends: ${result.backends.join(', ')}; best: ${result.best}`);

  const x = Float64Array.from({ length: 1000 }, (_, i) => Math.sin(i));
  const f = define({ params: { a: [], b: [] }, inputs: { x: [1000] } }, ({ a, b }, i) => b.mul(a.mul(i.x).sigmoid()).sum());
  const ref = (await backend('js')).compile(f);
  const want = ref.grad({ a: 0.7, b: -1.3 }, { x });
  const wantFd = ref.grad({ a: 0.7, b: -1.3 }, { x }, { method: 'fd-central' });
  const expected = (process.env.TAPEGRAD_BROWSER_BACKENDS ?? 'js').split(',');
  for (const name of expected) {
    const r = result.results[name];
    if (!r) { console.error(`FAIL ${name}: did not load in the browser`); failed = true; continue; }
    const errs = [difference([r.value], [want.value]).normRel, difference(r.grad, [want.grad.a[0], want.grad.b[0]]).normRel,
      difference(r.fd, [wantFd.grad.a[0], wantFd.grad.b[0]]).normRel];
    const ok = errs[0] <= 1e-12 && errs[1] <= 1e-12 && errs[2] <= 1e-9;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: value, reverse and fd-central vs Node's js reference: ${errs.map((e) => e.toExponential(1)).join(', ')}`);
    failed ||= !ok;
  }
} finally {
  await browser.close();
  server.close();
}
process.exit(failed ? 1 : 0);
