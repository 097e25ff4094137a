// The page side of bench/browser/run.ts: the browser entry, timed, results on window.
import * as tapegrad from '../../src/index.browser.js';
import { timeWasm } from './timing.js';

timeWasm(tapegrad as never).then(
  (r) => {
    (window as unknown as { __result: unknown }).__result = r;
  },
  (e: Error) => {
    (window as unknown as { __result: unknown }).__result = { error: e.stack ?? String(e) };
  },
);
