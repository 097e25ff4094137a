/**
 * The built-in models by name, in order of growing N: what `tapegrad answer` sweeps and what
 * `tapegrad explain NAME` prints. Data sets load once, on first use.
 */
import { breastCancer, digits, type Dataset } from '../../data/datasets.js';
import { FASHION_MNIST_DIR, fashionMnist } from '../../data/idx.js';
import { logistic, mlp, seed, softmaxRegression, type Model } from '../../models/models.js';
import { lenet } from '../../models/lenet.js';
import { upscale } from '../../data/upscale.js';

export interface CatalogEntry {
  /** short name: the table's first column and the argument of `tapegrad explain` */
  readonly key: string;
  /** undefined when its data is not on this machine (Fashion-MNIST is an optional package) */
  readonly build: () => Model | undefined;
}

export const MLP_WIDTHS = [16, 32, 64, 128, 256] as const;

export interface CatalogOptions {
  /** rows of Fashion-MNIST for the 784-128-10 MLP (its time per evaluation grows with them) */
  readonly fashionRows?: number;
  /** where Fashion-MNIST's IDX files are (default: where Debian's dataset-fashion-mnist puts them) */
  readonly dataDir?: string;
}

/** Why the Fashion-MNIST model is missing, and the two ways to provide it. */
export const FASHION_MISSING = (dir = FASHION_MNIST_DIR) =>
  `Fashion-MNIST not found in ${dir}: apt-get install dataset-fashion-mnist, or --data-dir DIR with t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz`;

export function catalog({ fashionRows = 500, dataDir }: CatalogOptions = {}): CatalogEntry[] {
  let d: Dataset | undefined;
  const dig = () => (d ??= digits());
  return [
    { key: 'seed', build: () => seed(1000) },
    { key: 'logistic', build: () => logistic(breastCancer()) },
    { key: 'softmax', build: () => softmaxRegression(dig()) },
    ...MLP_WIDTHS.map((h) => ({ key: `mlp-${h}`, build: () => mlp(dig(), h) })),
    {
      // W4: on Fashion-MNIST when it is installed, else on the digits upscaled to 28x28
      key: 'cnn',
      build: () => lenet(fashionMnist(64, dataDir) ?? upscale(dig(), 28), 64),
    },
    {
      key: 'fashion-mlp',
      build: () => {
        const f = fashionMnist(fashionRows, dataDir);
        return f && mlp(f, 128);
      },
    },
  ];
}

/** One built-in model by key; the error lists the keys. */
export function builtin(key: string, options?: CatalogOptions): Model {
  const all = catalog(options);
  const entry = all.find((e) => e.key === key);
  if (!entry) throw new Error(`unknown model '${key}' (built-in models: ${all.map((e) => e.key).join(', ')})`);
  const m = entry.build();
  if (!m) throw new Error(`model '${key}' needs Fashion-MNIST: ${FASHION_MISSING(options?.dataDir)}`);
  return m;
}
