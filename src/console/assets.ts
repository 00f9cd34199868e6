import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import { SECURITY_HEADERS } from './http-io.js';

/** The page's files, shipped beside this module in `assets/`, by the path they are served at. */
const FILES: ReadonlyArray<readonly [path: string, file: string, type: string]> = [
  ['/', 'index.html', 'text/html; charset=utf-8'],
  ['/console.js', 'console.js', 'text/javascript; charset=utf-8'],
  ['/console.css', 'console.css', 'text/css; charset=utf-8'],
];

export type Assets = ReadonlyMap<string, { readonly body: Buffer; readonly type: string }>;

/** Reads the page's files once, at start. */
export async function loadAssets(): Promise<Assets> {
  const folder = new URL('./assets/', import.meta.url);
  const assets = new Map<string, { body: Buffer; type: string }>();
  for (const [path, file, type] of FILES) {
    try {
      assets.set(path, { body: await readFile(new URL(file, folder)), type });
    } catch (error) {
      throw new RpcError(Code.INTERNAL, `the console's page is missing (${new URL(file, folder).pathname}): is the package built whole?`, { cause: error });
    }
  }
  return assets;
}

/** Answers a GET of one of the page's files, or 404. */
export function sendAsset(response: ServerResponse, assets: Assets, path: string): void {
  const asset = assets.get(path);
  if (asset === undefined) {
    response.writeHead(404, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
    response.end('not found\n');
    return;
  }
  response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': asset.type, 'content-length': asset.body.length, 'cache-control': 'no-cache' });
  response.end(asset.body);
}
