/**
 * Before the tests: rebuild dist/tapegrad.wasm when it is missing or older than any file under
 * assembly/, so the suite never tests a stale module (npm install builds it too, via prepare).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const wasm = join(root, 'dist/tapegrad.wasm');
  if (existsSync(wasm) && statSync(wasm).mtimeMs >= newest(join(root, 'assembly'))) return;
  execFileSync('npm', ['run', '--silent', 'build:wasm'], { cwd: root, stdio: 'inherit' });
}
