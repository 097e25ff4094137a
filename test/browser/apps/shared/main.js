// The app every bundler builds: tapegrad from npm, the conformance models, the results on window.
import * as tapegrad from 'tapegrad';
import { runConformance } from './conformance.js';

runConformance(tapegrad).then(
  (r) => {
    window.__result = r;
    document.body.textContent = `backend: ${r.best}`;
  },
  (e) => {
    window.__result = { error: String((e && e.stack) || e) };
  },
);
