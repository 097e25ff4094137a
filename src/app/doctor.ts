/**
 * `npx tapegrad doctor`: which backends load here, the native kernel build (ISA level), and why any
 * backend did not load, with the fix. It only reports: it always exits 0.
 */
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NODE_LOADERS } from '../backends/registry.js';
import { load } from '../backends/select.js';
import { BACKEND_NAMES, type BackendName } from '../backends/types.js';
import { defaultWasmUrl } from '../backends/wasm/loader.js';

export interface DoctorRow {
  readonly backend: BackendName;
  readonly ok: boolean;
  /** what loaded (kernel build, file), or why it did not */
  readonly detail: string;
  readonly fix?: string;
}

async function detail(name: BackendName): Promise<string> {
  if (name === 'native') {
    const { loadAddon } = await import('../backends/native/loader.js');
    const a = loadAddon();
    return `kernel build ${a.isa} (this CPU runs: ${a.supportedIsas.join(', ')})`;
  }
  if (name === 'wasm') {
    const path = fileURLToPath(defaultWasmUrl());
    return `${path} (${(statSync(path).size / 1024).toFixed(0)} KiB, WebAssembly SIMD)`;
  }
  return 'plain TypeScript, always available';
}

/** One row per backend, best first. */
export async function diagnose(): Promise<DoctorRow[]> {
  const rows: DoctorRow[] = [];
  for (const name of BACKEND_NAMES) {
    try {
      await load(name);
      rows.push({ backend: name, ok: true, detail: await detail(name) });
    } catch (e) {
      rows.push({ backend: name, ok: false, detail: (e as Error).message, fix: NODE_LOADERS[name]?.fix });
    }
  }
  return rows;
}

export function formatDoctor(rows: readonly DoctorRow[]): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const lines = [`tapegrad ${pkg.version} on Node ${process.version}, ${process.platform} ${process.arch}`];
  for (const r of rows) {
    lines.push(`  ${r.backend.padEnd(7)} ${r.ok ? 'loads' : 'DOES NOT LOAD'}: ${r.detail}`);
    if (r.fix) lines.push(`          fix: ${r.fix}`);
  }
  const env = ['TAPEGRAD_BACKEND', 'TAPEGRAD_NATIVE_ISA', 'TAPEGRAD_NATIVE_PATH'].filter((k) => process.env[k]);
  for (const k of env) lines.push(`  ${k}=${process.env[k]} is set`);
  const best = process.env.TAPEGRAD_BACKEND || rows.find((r) => r.ok)?.backend;
  lines.push(`backend() picks: ${best ?? 'none'}`);
  return lines.join('\n');
}
