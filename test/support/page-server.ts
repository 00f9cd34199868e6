import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { TestContext } from 'node:test';
import { onCleanup } from './calculator.js';

/** A page served to headless Chromium from an origin of its own, and what the page reports back. */
export interface PageServer {
  /** `http://127.0.0.1:<port>`: the page's origin, for a Switchyard server's `cors` option. */
  readonly origin: string;
  /** What `GET /` answers. */
  html: string;
  /** The body of the page's `POST /report`: the page's verdict, as the test wants it. */
  readonly reported: Promise<string>;
}

/**
 * Starts a static server on a port of its own for a test's page: `/` is `html`, `POST /report`
 * settles `reported`, and `files` maps other paths to files on disk. Closed after the test.
 */
export async function startPageServer(t: TestContext, files = new Map<string, { type: string; path: string }>()): Promise<PageServer> {
  let report: (text: string) => void = () => {};
  const page = { origin: '', html: '', reported: new Promise<string>((resolve) => (report = resolve)) };
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/report') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        res.writeHead(204).end();
        report(Buffer.concat(chunks).toString('utf8'));
      });
      return;
    }
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page.html);
      return;
    }
    const file = files.get(req.url ?? '');
    if (file === undefined) {
      res.writeHead(404).end();
      return;
    }
    readFile(file.path).then((body) => res.writeHead(200, { 'content-type': file.type }).end(body), () => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(t, () => new Promise<void>((resolve) => server.close(() => resolve())));
  page.origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return page;
}
