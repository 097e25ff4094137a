#!/usr/bin/env node
/**
 * The tapegrad command line. `tapegrad answer` (npm start): is backprop faster than finite
 * differences, measured here. `tapegrad explain MODEL`: the tape and its exact FLOP counts.
 */
import { backend } from './backends/registry.js';
import { BACKEND_NAMES, type BackendName } from './backends/types.js';
import { builtin, catalog } from './answer/catalog.js';
import { formatExplain } from './answer/explain.js';
import { DEFAULTS, report, runAnswer, type AnswerOptions } from './answer/main.js';

const USAGE = `usage:
  tapegrad answer [options]     reverse mode vs finite differences on models of growing N, timed here
      --backends js,wasm        backends to measure (default: every one that loads)
      --models seed,mlp-64      models to measure (default: all; see explain)
      --out DIR                 where answer.json and the SVG charts go (default: results)
      --budget-ms MS            time spent on each timing (default ${DEFAULTS.sweep.budgetMs})
      --sample-ms MS            aimed-for time of one sampled finite-difference call (default ${DEFAULTS.sweep.fd.sampleMs})
      --full-fd-ms MS           FD gradients predicted to take longer are timed on sampled coordinates (default ${DEFAULTS.sweep.fd.fullLimitMs})
      --fashion-rows N          rows of Fashion-MNIST for its MLP (default ${DEFAULTS.fashionRows})
      --quick                   a few seconds: small models, short timings (a smoke test)
      --no-charts               skip the SVG charts
  tapegrad explain MODEL [--backend NAME]
                                the tape, instruction by instruction, with FLOPs; totals of value, reverse, FD
                                MODEL: ${catalog().map((e) => e.key).join(', ')}
  tapegrad doctor               the backends that load here, the native kernel build, and why any did not
  tapegrad help`;

/** --key value and --flag arguments after the command. */
function parseFlags(args: readonly string[]): { positional: string[]; flags: Map<string, string | true> } {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) { positional.push(a); continue; }
    const [k, v] = a.slice(2).split('=', 2);
    if (v !== undefined) flags.set(k, v);
    else if (i + 1 < args.length && !args[i + 1].startsWith('--')) flags.set(k, args[++i]);
    else flags.set(k, true);
  }
  return { positional, flags };
}

function answerOptions(flags: Map<string, string | true>): AnswerOptions {
  const known = ['backends', 'models', 'out', 'budget-ms', 'sample-ms', 'full-fd-ms', 'fashion-rows', 'quick', 'no-charts'];
  for (const k of flags.keys()) if (!known.includes(k)) throw new Error(`unknown option --${k}`);
  const str = (k: string) => { const v = flags.get(k); if (v === true) throw new Error(`--${k} needs a value`); return v; };
  const num = (k: string, d: number) => {
    const v = str(k);
    if (v === undefined) return d;
    const n = Number(v);
    if (!(n > 0)) throw new Error(`--${k} must be a positive number, got '${v}'`);
    return n;
  };
  const list = (k: string) => str(k)?.split(',').filter(Boolean);
  const quick = flags.has('quick');
  const bes = list('backends');
  for (const b of bes ?? []) if (!BACKEND_NAMES.includes(b as BackendName)) throw new Error(`unknown backend '${b}'`);
  const d = quick ? { budgetMs: 20, sampleMs: 10, fullLimitMs: 30 } : { budgetMs: DEFAULTS.sweep.budgetMs, sampleMs: DEFAULTS.sweep.fd.sampleMs, fullLimitMs: DEFAULTS.sweep.fd.fullLimitMs };
  const budgetMs = num('budget-ms', d.budgetMs);
  return {
    out: str('out') ?? DEFAULTS.out,
    backends: bes as BackendName[] | undefined,
    models: list('models') ?? (quick ? ['seed', 'logistic', 'softmax', 'mlp-16'] : undefined),
    sweep: { budgetMs, fd: { budgetMs, sampleMs: num('sample-ms', d.sampleMs), fullLimitMs: num('full-fd-ms', d.fullLimitMs), seed: 1 } },
    fashionRows: Math.round(num('fashion-rows', DEFAULTS.fashionRows)),
    charts: !flags.has('no-charts'),
  };
}

async function main(argv: readonly string[]): Promise<void> {
  const [command = 'answer', ...rest] = argv;
  const { positional, flags } = parseFlags(rest);
  if (flags.has('help')) {
    console.log(USAGE);
  } else if (command === 'answer') {
    const r = await runAnswer(answerOptions(flags));
    console.log(report(r));
  } else if (command === 'explain') {
    const key = positional[0];
    if (!key) throw new Error(`explain needs a model: ${catalog().map((e) => e.key).join(', ')}`);
    const name = flags.get('backend');
    const be = await backend(typeof name === 'string' ? (name as BackendName) : 'js');
    const m = builtin(key);
    const c = be.compile(m.f);
    console.log(formatExplain(m.name, c));
    c.dispose();
  } else if (command === 'doctor') {
    const { diagnose, formatDoctor } = await import('./doctor.js');
    console.log(formatDoctor(await diagnose()));
  } else if (command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
  } else {
    throw new Error(`unknown command '${command}'\n${USAGE}`);
  }
}

try {
  await main(process.argv.slice(2));
} catch (e) {
  console.error(`tapegrad: ${(e as Error).message}`);
  process.exitCode = 2;
}
