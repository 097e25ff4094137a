/**
 * The command line as a user meets it (the CLI spawned from its source, in an empty directory):
 * a bare `tapegrad` prints the help and writes nothing; `answer` writes where --out says (default
 * ./tapegrad-results); `--data-dir` finds Fashion-MNIST; without vega the charts are skipped with a
 * line that says so and the report claims none; a loaded machine is warned about.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import { loadWarning, report, runAnswer } from '../src/app/answer/main.js';

// as in a project that installed tapegrad without its devDependencies
vi.mock('vega', () => {
  throw new Error("Cannot find package 'vega'");
});

const CLI = fileURLToPath(new URL('../src/app/cli.ts', import.meta.url));
/** tsx's loader, by absolute URL: `--import tsx` would resolve from the empty working directory */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** runs `tapegrad ...args` in a fresh empty directory */
function tapegrad(...args: string[]) {
  const cwd = mkdtempSync(join(tmpdir(), 'tapegrad-cli-'));
  const r = spawnSync(process.execPath, ['--import', TSX, CLI, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { cwd, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** a Fashion-MNIST-shaped test split of 3 images (28x28 ubyte) as gzip'd IDX files */
function fashionDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tapegrad-fashion-'));
  const idx = (dims: number[], values: Uint8Array) => {
    const head = new DataView(new ArrayBuffer(4 + 4 * dims.length));
    head.setUint8(2, 0x08);
    head.setUint8(3, dims.length);
    dims.forEach((d, i) => head.setUint32(4 + 4 * i, d));
    return gzipSync(Buffer.concat([new Uint8Array(head.buffer), values]));
  };
  writeFileSync(
    join(dir, 't10k-images-idx3-ubyte.gz'),
    idx(
      [3, 28, 28],
      new Uint8Array(3 * 784).map((_, i) => i % 256),
    ),
  );
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), idx([3], Uint8Array.of(9, 0, 4)));
  return dir;
}

describe('tapegrad (the CLI)', () => {
  it('bare, prints the help and writes nothing', () => {
    const r = tapegrad();
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage:\n {2}tapegrad answer .*\n[\s\S]* {2}tapegrad explain MODEL/);
    expect(readdirSync(r.cwd)).toEqual([]);
  });

  it('answer writes to ./tapegrad-results by default, to --out when given', () => {
    const quick = ['--quick', '--models', 'seed', '--backends', 'js', '--no-charts', '--budget-ms', '5', '--no-tts'];
    const r = tapegrad('answer', ...quick);
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(r.cwd)).toEqual(['tapegrad-results']);
    expect(JSON.parse(readFileSync(join(r.cwd, 'tapegrad-results', 'answer.json'), 'utf8')).rows).toHaveLength(1);
    expect(r.stdout).toMatch(/results in tapegrad-results\/answer\.json, no charts\)\n$/);
    const s = tapegrad('answer', ...quick, '--out', 'elsewhere/run1');
    expect(s.status, s.stderr).toBe(0);
    expect(existsSync(join(s.cwd, 'elsewhere', 'run1', 'answer.json'))).toBe(true);
    expect(readdirSync(s.cwd)).toEqual(['elsewhere']);
  });

  it('--data-dir finds Fashion-MNIST; without it the error names the option', () => {
    const r = tapegrad('explain', 'fashion-mlp', '--data-dir', fashionDir());
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/N = 101,770 parameters/);
    const s = tapegrad('explain', 'fashion-mlp', '--data-dir', join(tmpdir(), 'no-such-dir'));
    expect(s.status).toBe(2);
    expect(s.stderr).toMatch(
      /Fashion-MNIST not found in .*no-such-dir: apt-get install dataset-fashion-mnist, or --data-dir DIR/,
    );
  });

  it('an unknown command or option is an error with the help', () => {
    expect(tapegrad('trian')).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/unknown command 'trian'\nusage:/),
    });
    expect(tapegrad('explain', 'seed', '--out', 'x')).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/unknown option --out for explain/),
    });
  });
});

describe('tapegrad answer without vega', () => {
  it('skips the charts with a line that says why, and the report claims none', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tapegrad-answer-'));
    const lines: string[] = [];
    const tiny = { budgetMs: 2, fd: { budgetMs: 2, sampleMs: 2, fullLimitMs: 5, seed: 1 } };
    const r = await runAnswer(
      { out, backends: ['js'], models: ['seed'], sweep: tiny, fashionRows: 10, charts: true },
      (s) => lines.push(s),
    );
    expect(lines.join('')).toMatch(
      /charts skipped: they need the packages vega and vega-lite \(npm install vega vega-lite\)/,
    );
    expect(r.charts).toEqual([]);
    expect(readdirSync(out)).toEqual(['answer.json']);
    expect(report(r)).toMatch(/, no charts\)$/);
    expect(report(r)).not.toMatch(/beside it/);
  });
});

describe('the load warning', () => {
  it('warns when the 1-minute load average exceeds the cores, not otherwise', () => {
    expect(loadWarning(3.5, 2)).toBe(
      'the 1-minute load average is 3.50 on 2 cores: other processes are busy, so the timings will be unreliable',
    );
    expect(loadWarning(2, 2)).toBeUndefined();
    expect(loadWarning(0.3, 8)).toBeUndefined();
  });
});
