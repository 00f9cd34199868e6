/**
 * Target `http`: what the HTTP transport makes of a request, in the order its server reads it
 * (src/transport/http/server.ts): path segments, route (resource-style mappings and the default
 * `POST /<service>/<method>`), query, `sy-meta-*` metadata headers, timeout header, content type,
 * CORS headers, the body read against its limit, and the arguments from the JSON body.
 * Property: each step throws nothing but `RpcError` INVALID_ARGUMENT (the body reader rejects only
 * with RESOURCE_EXHAUSTED for a body over the limit, CANCELLED for a broken one, and gives exactly
 * the bytes sent otherwise; the JSON body only throws the decode errors of target `json`), and what
 * each returns is in its documented range.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import fc from 'fast-check';
import { CallTable } from '../../src/core/call-table.js';
import { Code } from '../../src/core/code.js';
import { isValidMetadataKey } from '../../src/core/metadata.js';
import { RpcError } from '../../src/core/rpc-error.js';
import { defineService } from '../../src/core/service.js';
import { jsonSerializer } from '../../src/serialization/json.js';
import { readBody } from '../../src/transport/http/body.js';
import { Cors } from '../../src/transport/http/cors.js';
import { Header, MAX_TIMEOUT_MS, isJson, readMetadata, readTimeout } from '../../src/transport/http/headers.js';
import { Router, bodyArgs, pathSegments, resolveService, restArgs } from '../../src/transport/http/routes.js';
import { Rng } from './mutator.js';
import { ensure, expectOnly, expectOnlyAsync, property, type FuzzTarget } from './runner.js';
import { checkDecoded } from './values.js';

const json = jsonSerializer();
const BODY_LIMIT = 256;
const isInvalidArgument = (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT;
const isDecodeError = (error: unknown) => error instanceof SyntaxError || error instanceof RangeError || error instanceof TypeError;

const ShopService = defineService<Record<string, (...args: unknown[]) => Promise<unknown>>>('demo.Shop', {
  version: '2.1.0',
  methods: {
    add: { http: { method: 'GET', path: '/calculator/add', params: ['a', 'b'] } },
    price: { http: { method: 'GET', path: '/shop/items/{item}/price', params: ['item', 'qty'] } },
    order: { http: { method: 'POST', path: '/shop/orders', params: ['item', 'qty', 'note'] } },
    cancel: { http: { method: 'DELETE', path: '/shop/orders/{id}', params: ['id'] } },
    reset: { http: { method: 'PUT', path: '/shop/state' } },
    echo: {},
  },
});
const table = new CallTable();
const handler = async () => undefined;
table.provide(ShopService, { add: handler, price: handler, order: handler, cancel: handler, reset: handler, echo: handler }, []);
const router = new Router(table, (error) => {
  throw error;
});
router.compileStrict();
const cors = new Cors({ origins: ['https://app.example.com'], allowHeaders: ['x-extra'] });

const seeds = [
  'POST /demo.Shop/echo HTTP/1.1\r\ncontent-type: application/json\r\nx-switchyard-version: 2.1.0\r\nsy-meta-x-tenant: acme\r\nsy-meta-trace-bin: AAEC\r\n\r\n[1,"two",{"$bigint":"3"}]',
  'GET /shop/items/b%C3%BCcher/price?qty=%5B1%2C2%5D&qty=3 HTTP/1.1\r\nx-switchyard-timeout-ms: 1500\r\norigin: https://app.example.com\r\n\r\n',
  'POST /shop/orders HTTP/1.1\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: 38\r\n\r\n{"item":"tea","qty":2,"note":"green"}',
  'DELETE /shop/orders/42?x=1 HTTP/1.1\r\nsy-meta-x-user: ann\r\nsy-meta-a%2fb: c\r\n\r\n',
  'OPTIONS /demo.Shop/echo HTTP/1.1\r\norigin: https://app.example.com\r\naccess-control-request-method: POST\r\naccess-control-request-headers: content-type, sy-meta-x, x-extra, x-no\r\n\r\n',
  'GET /calculator/add?a=1&b=%7B%22%24bigint%22%3A%229%22%7D HTTP/1.1\r\n\r\n',
].map((text) => Buffer.from(text, 'latin1'));
const dictionary = ['%', '%2f', '%C3', '%ZZ', '/', '?', '&', '=', '\r\n', ': ', 'sy-meta-', '-bin', 'x-switchyard-timeout-ms: ', 'content-length: 999999',
  'content-type: application/json\r\n', 'transfer-encoding: chunked\r\n', '{"$bytes":"', '__proto__', '{id}', '999999999999', ' 12 ']
  .map((word) => Buffer.from(word, 'latin1'));

interface RawRequest {
  verb: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** A request line, headers and a body, read as loosely as a fuzzer needs (Node's own parser is not under test). */
function parseRaw(input: Buffer): RawRequest {
  const text = input.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? Buffer.alloc(0) : input.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
  const [line = '', ...lines] = head.split('\r\n');
  const [verb = 'GET', url = '/'] = line.split(' ');
  const headers: Record<string, string> = {};
  for (const header of lines) {
    const colon = header.indexOf(':');
    const name = header.slice(0, colon).trim().toLowerCase();
    const value = header.slice(colon + 1).trim();
    // What Node's parser lets through: token names, values without control characters.
    if (colon <= 0 || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name) || [...value].some((c) => (c < ' ' && c !== '\t') || c === '\x7f')) continue;
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { verb, url: url.startsWith('/') ? url : `/${url}`, headers, body };
}

/** A request whose body arrives in the chunks `rng` cuts, as readBody reads it. */
function fakeRequest(raw: RawRequest, rng: Rng): { req: IncomingMessage; send: () => void } {
  const req = Object.assign(new EventEmitter(), { headers: raw.headers, method: raw.verb, readableEnded: false, pause: () => undefined });
  const send = () => {
    const cuts = rng.cuts(raw.body.length);
    for (let i = 1; i < cuts.length; i++) req.emit('data', raw.body.subarray(cuts[i - 1], cuts[i]));
    if (rng.chance(0.02)) req.emit('aborted');
    req.emit('end');
  };
  return { req: req as unknown as IncomingMessage, send };
}

async function check(input: Buffer, rng: Rng): Promise<void> {
  const raw = parseRaw(input);
  const { req, send } = fakeRequest(raw, rng);
  const allowed = cors.allowedOrigin(req);
  ensure(allowed === undefined || allowed === raw.headers.origin, 'CORS allowed an origin not listed');
  if (Cors.isPreflight(req)) cors.preflightHeaders(req);
  const mark = raw.url.indexOf('?');
  const pathname = mark < 0 ? raw.url : raw.url.slice(0, mark);
  const segments = expectOnly('pathSegments', () => pathSegments(pathname), isInvalidArgument);
  const query = new URLSearchParams(mark < 0 ? '' : raw.url.slice(mark + 1));
  const rest = segments === undefined ? undefined : router.match(raw.verb, segments);
  if (segments !== undefined && rest === undefined && segments.length === 2) {
    resolveService(table, segments[0]!, segments[1]!, raw.headers[Header.version], raw.headers[Header.group]);
  }
  if (segments !== undefined && rest === undefined) router.verbsAt(segments);
  const metadata = expectOnly('readMetadata', () => readMetadata(Object.entries(raw.headers)), isInvalidArgument);
  for (const [key, value] of metadata ?? []) ensure(isValidMetadataKey(key) && (typeof value === 'string' || value instanceof Uint8Array), `metadata ${key} passed`);
  const timeout = expectOnly('readTimeout', () => readTimeout(raw.headers[Header.timeout]), isInvalidArgument);
  ensure(timeout === undefined || (Number.isInteger(timeout) && timeout >= 0 && timeout <= MAX_TIMEOUT_MS), `timeout read as ${timeout}`);
  isJson(raw.headers['content-type']);
  const reading = readBody(req, BODY_LIMIT, rng.chance(0.9));
  send();
  let cancelled = false;
  const body = await expectOnlyAsync('readBody', () => reading, (error) => {
    cancelled = error instanceof RpcError && error.code === Code.CANCELLED;
    return error instanceof RpcError && (error.code === Code.RESOURCE_EXHAUSTED || cancelled);
  });
  const declared = Number(raw.headers['content-length']);
  const tooLarge = raw.body.length > BODY_LIMIT || declared > BODY_LIMIT;
  ensure((body === undefined) === (tooLarge || cancelled), `readBody ${body === undefined ? 'refused' : 'took'} ${raw.body.length} bytes (declared ${declared})`);
  if (body === undefined || body.byteLength === 0) return;
  ensure(Buffer.from(body).equals(raw.body) || body.byteLength === 0, 'readBody changed the body');
  const value = expectOnly('json decode of the body', () => json.decode(body), isDecodeError);
  if (value === undefined) return;
  checkDecoded(value);
  const args = rest === undefined ? bodyArgs(value) : expectOnly('restArgs', () => restArgs(rest, query, value, true), isInvalidArgument);
  ensure(args === undefined || Array.isArray(args), 'arguments are not an array');
}

const headerName = fc.oneof(fc.constantFrom('sy-meta-', 'sy-meta-x-', 'x-switchyard-timeout-ms', 'content-type', 'origin'), fc.string({ unit: 'binary-ascii', maxLength: 12 }));
const headerValue = fc.string({ unit: 'binary-ascii', maxLength: 24 });

export const httpTarget: FuzzTarget = {
  name: 'http',
  seeds,
  dictionary,
  maxLength: 2048,
  text: true,
  check,
  properties: [
    property('any path, query, headers and body: typed errors only', fc.asyncProperty(
      fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'),
      fc.webPath(), fc.webQueryParameters(), fc.array(fc.tuple(headerName, headerValue), { maxLength: 6 }), fc.string({ maxLength: 64 }), fc.integer(),
      async (verb, path, query, headers, body, seed) => {
        const head = headers.map(([name, value]) => `${name}: ${value}`).join('\r\n');
        await check(Buffer.from(`${verb} ${path || '/'}?${query} HTTP/1.1\r\n${head}\r\n\r\n${body}`, 'latin1'), new Rng(seed));
      },
    )),
    property('metadata headers read back what metadataHeaders wrote', fc.property(fc.dictionary(fc.stringMatching(/^[a-z0-9_.-][a-z0-9_.\-/]{0,12}$/).filter((key) => !key.endsWith('-bin')), fc.uint8Array({ maxLength: 16 }), { maxKeys: 4 }), (entries) => {
      const headers = Object.entries(entries).map(([key, value]) => [`sy-meta-${key.replaceAll('/', '%2f')}-bin`, Buffer.from(value).toString('base64')] as const);
      const read = readMetadata(headers);
      for (const [key, value] of Object.entries(entries)) ensure(Buffer.from(value).equals(read?.get(key) as Uint8Array), `metadata ${key} changed`);
    })),
  ],
};
