#!/usr/bin/env node
/**
 * The tapegrad command line. `tapegrad answer` (npm start): is backprop faster than finite
 * differences, measured here. `tapegrad explain MODEL`: the tape and its exact FLOP counts.
 * `tapegrad train`: trains a classifier with fit() and saves it. `tapegrad doctor`: which
 * backends load here, and why not.
 * A bare `tapegrad` prints the help. Each command is one entry of COMMANDS (its usage lines and
 * what it runs), so a new command is one more entry.
 */
import { backend } from '../backends/registry.js';
import { BACKEND_NAMES, type BackendName } from '../backends/types.js';
import { builtin, catalog } from './answer/catalog.js';
import { formatExplain } from './answer/explain.js';
import { DEFAULTS, loadWarning, report, runAnswer, type AnswerOptions } from './answer/main.js';
import { DRIVERS, SOLVE_DEFAULTS, SOLVE_QUICK, solveProblems, type Driver } from './answer/time-to-solution.js';
import { FASHION_MNIST_DIR } from '../data/idx.js';
import { TRAIN_FLAGS, TRAIN_USAGE, runTrain, trainOptions } from './train.js';

type Flags = Map<string, string | true>;

interface Command {
  /** usage lines, the first one `tapegrad NAME ...` */
  readonly usage: string;
  /** options it accepts (without --); anything else is an error */
  readonly options: readonly string[];
  run(positional: readonly string[], flags: Flags): Promise<void>;
}

const COMMANDS: Record<string, Command> = {
  answer: {
    usage: `tapegrad answer [options]     reverse mode vs finite differences on models of growing N, timed here
      --backends js,wasm        backends to measure (default: every one that loads)
      --models seed,mlp-64      models to measure (default: all; see explain)
      --out DIR                 where answer.json and the SVG charts go (default: ${DEFAULTS.out})
      --budget-ms MS            time spent on each timing (default ${DEFAULTS.sweep.budgetMs})
      --sample-ms MS            aimed-for time of one sampled finite-difference call (default ${DEFAULTS.sweep.fd.sampleMs})
      --full-fd-ms MS           FD gradients predicted to take longer are timed on sampled coordinates (default ${DEFAULTS.sweep.fd.fullLimitMs})
      --fashion-rows N          rows of Fashion-MNIST for its MLP (default ${DEFAULTS.fashionRows})
      --data-dir DIR            where Fashion-MNIST's t10k-*-ubyte.gz files are (default ${FASHION_MNIST_DIR})
      --quick                   a few seconds: small models, short timings (a smoke test)
      --no-charts               skip the SVG charts (they need the packages vega and vega-lite)
      --tts-run-ms MS           time to solution: wall-time budget of one run (default ${SOLVE_DEFAULTS.runMs})
      --tts-total-s S           time to solution: budget of the whole study (default ${SOLVE_DEFAULTS.totalMs / 1e3})
      --tts-problems a,b        time to solution: problems (default all: ${solveProblems()
        .map((p) => p.key)
        .join(', ')})
      --tts-optimizers lbfgs,gd time to solution: optimizers (default both)
      --no-tts                  skip the time-to-solution study`,
    options: [
      'backends',
      'models',
      'out',
      'budget-ms',
      'sample-ms',
      'full-fd-ms',
      'fashion-rows',
      'data-dir',
      'quick',
      'no-charts',
      'tts-run-ms',
      'tts-total-s',
      'tts-problems',
      'tts-optimizers',
      'no-tts',
    ],
    async run(_positional, flags) {
      const opts = answerOptions(flags);
      const warning = loadWarning();
      if (warning) process.stderr.write(`tapegrad: warning: ${warning}\n`);
      console.log(report(await runAnswer(opts)));
    },
  },
  explain: {
    usage: `tapegrad explain MODEL [--backend NAME] [--data-dir DIR]
                                the tape, instruction by instruction, with FLOPs; totals of value, reverse, FD
                                MODEL: ${catalog()
                                  .map((e) => e.key)
                                  .join(', ')}`,
    options: ['backend', 'data-dir'],
    async run(positional, flags) {
      const key = positional[0];
      if (!key)
        throw new Error(
          `explain needs a model: ${catalog()
            .map((e) => e.key)
            .join(', ')}`,
        );
      const be = await backend((value(flags, 'backend') ?? 'js') as BackendName);
      const m = builtin(key, { dataDir: value(flags, 'data-dir') });
      const c = be.compile(m.f);
      console.log(formatExplain(m.name, c));
      c.dispose();
    },
  },
  train: {
    usage: TRAIN_USAGE,
    options: TRAIN_FLAGS,
    async run(_positional, flags) {
      const options = trainOptions(flags);
      // Ctrl-C: stop after the step in progress and save a checkpoint; a second Ctrl-C quits at once
      const stop = new AbortController();
      const onInterrupt = () => {
        console.error('\ntapegrad: stopping after this step and saving a checkpoint (Ctrl-C again quits at once)');
        stop.abort();
        process.once('SIGINT', () => process.exit(130));
      };
      process.once('SIGINT', onInterrupt);
      try {
        if ((await runTrain(options, stop.signal)).stopped === 'aborted') process.exitCode = 130;
      } finally {
        process.off('SIGINT', onInterrupt);
      }
    },
  },
  doctor: {
    usage: 'tapegrad doctor               the backends that load here, the native kernel build, and why any did not',
    options: [],
    async run() {
      const { diagnose, formatDoctor } = await import('./doctor.js');
      console.log(formatDoctor(await diagnose()));
    },
  },
  help: {
    usage: 'tapegrad help                 this text',
    options: [],
    async run() {
      console.log(usage());
    },
  },
};

function usage(): string {
  return `usage:\n${Object.values(COMMANDS)
    .map((c) => `  ${c.usage}`)
    .join('\n')}`;
}

/** --key value and --flag arguments after the command. */
function parseFlags(args: readonly string[]): { positional: string[]; flags: Flags } {
  const positional: string[] = [];
  const flags: Flags = new Map();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const [k, v] = a.slice(2).split('=', 2);
    if (v !== undefined) flags.set(k, v);
    else if (i + 1 < args.length && !args[i + 1].startsWith('--')) flags.set(k, args[++i]);
    else flags.set(k, true);
  }
  return { positional, flags };
}

/** The value of --k, undefined when absent; an error when it was given without one. */
function value(flags: Flags, k: string): string | undefined {
  const v = flags.get(k);
  if (v === true) throw new Error(`--${k} needs a value`);
  return v;
}

function answerOptions(flags: Flags): AnswerOptions {
  const num = (k: string, d: number) => {
    const v = value(flags, k);
    if (v === undefined) return d;
    const n = Number(v);
    if (!(n > 0)) throw new Error(`--${k} must be a positive number, got '${v}'`);
    return n;
  };
  const list = (k: string) => value(flags, k)?.split(',').filter(Boolean);
  const quick = flags.has('quick');
  const bes = list('backends');
  for (const b of bes ?? []) if (!BACKEND_NAMES.includes(b as BackendName)) throw new Error(`unknown backend '${b}'`);
  const d = quick
    ? { budgetMs: 20, sampleMs: 10, fullLimitMs: 30 }
    : {
        budgetMs: DEFAULTS.sweep.budgetMs,
        sampleMs: DEFAULTS.sweep.fd.sampleMs,
        fullLimitMs: DEFAULTS.sweep.fd.fullLimitMs,
      };
  const budgetMs = num('budget-ms', d.budgetMs);
  const solve = quick ? SOLVE_QUICK : SOLVE_DEFAULTS;
  const problems = list('tts-problems') ?? solve.problems;
  const known = solveProblems().map((p) => p.key);
  for (const p of problems ?? [])
    if (!known.includes(p)) throw new Error(`unknown time-to-solution problem '${p}' (expected ${known.join(', ')})`);
  const drivers = list('tts-optimizers');
  for (const d of drivers ?? [])
    if (!DRIVERS.includes(d as Driver))
      throw new Error(`unknown time-to-solution optimizer '${d}' (expected ${DRIVERS.join(', ')})`);
  return {
    out: value(flags, 'out') ?? DEFAULTS.out,
    backends: bes as BackendName[] | undefined,
    models: list('models') ?? (quick ? ['seed', 'logistic', 'softmax', 'mlp-16'] : undefined),
    sweep: {
      budgetMs,
      fd: { budgetMs, sampleMs: num('sample-ms', d.sampleMs), fullLimitMs: num('full-fd-ms', d.fullLimitMs), seed: 1 },
    },
    fashionRows: Math.round(num('fashion-rows', DEFAULTS.fashionRows)),
    dataDir: value(flags, 'data-dir'),
    charts: !flags.has('no-charts'),
    timeToSolution: flags.has('no-tts')
      ? false
      : {
          ...solve,
          ...(problems ? { problems } : {}),
          ...(drivers ? { drivers: drivers as Driver[] } : {}),
          runMs: num('tts-run-ms', solve.runMs),
          totalMs: num('tts-total-s', solve.totalMs / 1e3) * 1e3,
        },
  };
}

async function main(argv: readonly string[]): Promise<void> {
  const [name = 'help', ...rest] = argv;
  const { positional, flags } = parseFlags(rest);
  if (name === '--help' || name === '-h' || flags.has('help')) return void console.log(usage());
  const command = COMMANDS[name];
  if (!command) throw new Error(`unknown command '${name}'\n${usage()}`);
  for (const k of flags.keys()) if (!command.options.includes(k)) throw new Error(`unknown option --${k} for ${name}`);
  await command.run(positional, flags);
}

try {
  await main(process.argv.slice(2));
} catch (e) {
  console.error(`tapegrad: ${(e as Error).message}`);
  process.exitCode = 2;
}
