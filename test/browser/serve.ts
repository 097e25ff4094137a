/**
 * A tiny static file server on 127.0.0.1 (never another address) for the browser tests and the
 * demo: URL prefixes map to directories; `missing` paths answer 404 (a test of the fallback);
 * `headers` go on every answer (COOP/COEP for a fine-grained clock).
 */
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.gz': 'application/gzip',
  '.csv': 'text/csv',
};

export interface Server {
  readonly url: string;
  close(): void;
}

export async function serve(
  routes: Record<string, string>,
  missing: readonly string[] = [],
  port = 0,
  headers: Record<string, string> = {},
): Promise<Server> {
  const prefixes = Object.keys(routes).sort((a, b) => b.length - a.length); // longest first
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname));
    const prefix = prefixes.find((p) => path.startsWith(p));
    if (!prefix || missing.includes(path) || path.includes('..')) return void res.writeHead(404).end();
    let file = join(routes[prefix], path.slice(prefix.length));
    try {
      if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
      const body = await readFile(file);
      res
        .writeHead(200, {
          'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
          'cache-control': 'no-store',
          ...headers,
        })
        .end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', ok);
  });
  const { port: p } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${p}/`, close: () => server.close() };
}
