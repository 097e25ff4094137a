/**
 * Staging for the browser tests and the demo: the package as npm packs it, unpacked into
 * .browser-work/node_modules/tapegrad, with the apps (test/browser/apps/, examples/browser/ as
 * apps/demo with the digits in its public/) beside it, and their builds by each bundler.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const work = join(root, '.browser-work');
export const bin = (name: string) => join(root, 'node_modules/.bin', name);

export function sh(cmd: string, args: string[], cwd: string, input?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 120_000 });
}

/** The packed package in .browser-work/node_modules/tapegrad, and the apps beside it. */
export function stage(): void {
  rmSync(work, { recursive: true, force: true });
  const pkg = join(work, 'node_modules/tapegrad');
  mkdirSync(pkg, { recursive: true });
  const [packed] = JSON.parse(sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], root)) as {
    filename: string;
  }[];
  sh('tar', ['xzf', join(work, packed.filename), '-C', pkg, '--strip-components=1'], root);
  cpSync(join(root, 'test/browser/apps'), join(work, 'apps'), { recursive: true });
  cpSync(join(root, 'examples/browser'), join(work, 'apps/demo'), { recursive: true });
  mkdirSync(join(work, 'apps/demo/public'), { recursive: true });
  cpSync(join(root, 'data/digits.csv.gz'), join(work, 'apps/demo/public/digits.csv.gz'));
}

/** Builds one app (default: the one named after the bundler); returns the directory to serve. */
export function build(bundler: string, name = bundler): string {
  const app = join(work, 'apps', name),
    out = join(work, 'out', name);
  const t0 = performance.now();
  if (bundler === 'vite') {
    sh(bin('vite'), ['build', '--outDir', out, '--emptyOutDir', '--logLevel', 'warn'], app);
  } else if (bundler === 'esbuild') {
    sh(
      bin('esbuild'),
      ['main.js', '--bundle', '--format=esm', '--minify', `--outdir=${out}`, '--log-level=warning'],
      app,
    );
    cpSync(join(app, 'index.html'), join(out, 'index.html'));
    for (const f of ['tapegrad.wasm', 'tapegrad-relaxed.wasm'])
      // the README's one step
      cpSync(join(work, 'node_modules/tapegrad/dist', f), join(out, f));
  } else if (bundler === 'webpack') {
    sh(
      bin('webpack'),
      ['--entry', './main.js', '--mode', 'production', '--output-path', out, '--stats', 'errors-warnings'],
      app,
    );
    cpSync(join(app, 'index.html'), join(out, 'index.html'));
  } else {
    throw new Error(`unknown bundler ${bundler}`);
  }
  console.log(`built ${name} with ${bundler} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return out;
}
