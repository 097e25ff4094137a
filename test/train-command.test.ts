/**
 * `tapegrad train`: the options, a short run on the digits that writes a model Python can read
 * back (safetensors), the history and the chart, and Ctrl-C saving a checkpoint.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { backend, decodeSafetensors, loadParams } from '../src/index.js';
import { classifier, loadSplit, runTrain, trainOptions, TRAIN_DEFAULTS } from '../src/app/train.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const flags = (o: Record<string, string | true>) => new Map(Object.entries(o));

describe('tapegrad train', () => {
  it('parses its options and refuses bad ones', () => {
    const o = trainOptions(
      flags({ data: 'digits', epochs: '3', batch: '16', optimizer: 'sgd', lr: '0.1', hidden: '8' }),
    );
    expect(o).toMatchObject({
      data: 'digits',
      epochs: 3,
      batch: 16,
      optimizer: 'sgd',
      lr: 0.1,
      hidden: 8,
      out: TRAIN_DEFAULTS.out,
    });
    expect(() => trainOptions(flags({ optimizer: 'lbfgs' }))).toThrow(/--optimizer must be one of adam, sgd/);
    expect(() => trainOptions(flags({ epochs: '0' }))).toThrow(/--epochs must be a positive integer/);
    expect(() => trainOptions(flags({ lr: '-1' }))).toThrow(/--lr must be a positive number/);
    expect(() => trainOptions(flags({ backend: 'gpu' }))).toThrow(/unknown backend 'gpu'/);
    expect(() => trainOptions(flags({ epoch: '2' }))).toThrow(/unknown option --epoch/);
    expect(trainOptions(flags({})).dtype).toBe('float64');
    expect(trainOptions(flags({ dtype: 'float32' })).dtype).toBe('float32');
    expect(() => trainOptions(flags({ dtype: 'float16' }))).toThrow(/--dtype must be one of float64, float32/);
  });

  it('--dtype float32 trains in float32 (on js) and saves F32 tensors', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tapegrad-train32-'));
    const o = trainOptions(
      flags({
        data: 'digits',
        epochs: '2',
        batch: '32',
        hidden: '16',
        lr: '0.01',
        backend: 'js',
        dtype: 'float32',
        out,
      }),
    );
    const lines: string[] = [];
    const r = await runTrain({ ...o, charts: false }, undefined, (l) => lines.push(l));
    expect(lines[lines.length - 4]).toMatch(/on the js backend in float32/);
    expect(r.history[1].valAccuracy).toBeGreaterThan(0.7);
    const d = decodeSafetensors(readFileSync(join(out, 'model.safetensors')));
    expect(Object.values(d.tensors).every((t) => t.dtype === 'F32')).toBe(true);
  });

  it('trains on the digits, prints one line per epoch and saves model, history and chart', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tapegrad-train-'));
    const lines: string[] = [];
    const o = { ...trainOptions(flags({ data: 'digits', epochs: '4', batch: '32', hidden: '16', lr: '0.01', out })) };
    const r = await runTrain(o, undefined, (l) => lines.push(l));
    expect(r.stopped).toBe('completed');
    expect(r.history).toHaveLength(4);
    expect(
      lines.filter((l) =>
        /^epoch \d\/4: train loss [\d.]+, train accuracy [\d.]+%, test loss [\d.]+, test accuracy [\d.]+%/.test(l),
      ),
    ).toHaveLength(4);
    expect(r.history[3].valAccuracy).toBeGreaterThan(0.85);
    expect(r.history[3].loss).toBeLessThan(r.history[0].loss);
    const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8'));
    expect(history.history).toHaveLength(4);
    expect(existsSync(join(out, 'training.svg'))).toBe(true);
    // the saved model reproduces the final test accuracy
    const c = (await backend(r.backend)).compile(classifier(64, 10, 'mlp', 16));
    const theta = await loadParams(join(out, 'model.safetensors'), c);
    expect(theta.length).toBe(64 * 16 + 16 + 16 * 10 + 10);
    const { test } = loadSplit(o);
    const pred = c.run(theta, { x: test.X, y: test.labels }).pred;
    expect(pred.filter((p, i) => p === test.labels[i]).length / test.rows).toBe(r.history[3].valAccuracy);
    c.dispose();
  });

  it('Ctrl-C stops after the step in progress, saves a checkpoint and exits with 130', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tapegrad-sigint-'));
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/app/cli.ts',
        'train',
        '--data',
        'digits',
        '--epochs',
        '100000',
        '--hidden',
        '8',
        '--out',
        out,
        '--no-charts',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '',
      stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d) => {
        stdout += d;
        if (/epoch 2\//.test(stdout)) resolve();
      }),
    );
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(stderr).toMatch(/stopping after this step and saving a checkpoint/);
    expect(stdout).toMatch(/interrupted after \d+ steps: checkpoint saved to .*model\.safetensors/);
    expect(code).toBe(130);
    expect(existsSync(join(out, 'model.safetensors'))).toBe(true);
  });
});
