/**
 * `npm run demo`: builds the demo (examples/browser/) with Vite against the packed package and
 * serves it on 127.0.0.1 (PORT, default 5180); prints the URL. Ctrl-C stops it.
 */
import { serve } from '../test/browser/serve.js';
import { build, stage } from '../test/browser/stage.js';

stage();
const out = build('vite', 'demo');
const server = await serve({ '/': out }, [], Number(process.env.PORT ?? 5180));
console.log(`tapegrad demo: ${server.url}`);
