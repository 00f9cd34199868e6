// Request messages that begin and never finish: a time limit releases what they hold.
import assert from 'node:assert/strict';
import type { ClientHttp2Session } from 'node:http2';
import test from 'node:test';
import { Code } from '../../src/index.js';
import { startGreeter } from './fixtures/greeter.js';
import { grpcFrame, grpcHeaders, rawRequest, rawSession, type RawResponse } from './fixtures/raw-h2.js';

const MiB = 1024 * 1024;
const ECHO = '/test.greeter.Greeter/Echo';

/** A test.common.Blob { data } message of `size` bytes of data (field 1, length-delimited). */
function blob(size: number): Buffer {
  const length: number[] = [];
  for (let n = size; ; n >>>= 7) {
    if (n < 0x80) {
      length.push(n);
      break;
    }
    length.push((n & 0x7f) | 0x80);
  }
  return Buffer.concat([Buffer.from([0x0a, ...length]), Buffer.alloc(size, 7)]);
}

/** Resolves with the response, or with undefined if none came within `ms`. */
function within(ms: number, response: Promise<RawResponse>): Promise<RawResponse | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, ms, undefined)));
  return Promise.race([response, late]).finally(() => clearTimeout(timer));
}

/** Opens a stream, writes `first`, and leaves it open; the response is collected as it comes. */
function openRequest(session: ClientHttp2Session, first: Buffer): { response: Promise<RawResponse>; write(bytes: Buffer): void } {
  const chunks: Buffer[] = [];
  const stream = session.request(grpcHeaders(ECHO));
  stream.on('error', () => {});
  stream.write(first);
  const response = new Promise<RawResponse>((resolve) => {
    const result: RawResponse = { headers: {}, trailers: undefined, body: Buffer.alloc(0), rstCode: 0, grpcStatus: undefined, grpcMessage: undefined };
    stream.on('response', (headers) => (result.headers = headers));
    stream.on('trailers', (trailers) => (result.trailers = trailers));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('close', () => {
      result.body = Buffer.concat(chunks);
      result.rstCode = stream.rstCode ?? 0;
      const status = result.trailers?.['grpc-status'] ?? result.headers['grpc-status'];
      result.grpcStatus = status === undefined ? undefined : Number(status);
      const message = result.trailers?.['grpc-message'] ?? result.headers['grpc-message'];
      result.grpcMessage = message === undefined ? undefined : decodeURIComponent(String(message));
      resolve(result);
    });
  });
  return { response, write: (bytes) => !stream.destroyed && stream.write(bytes) };
}

test('a request message that stalls or trickles after its first bytes is answered RESOURCE_EXHAUSTED and its buffer released', { timeout: 30_000 }, async (t) => {
  // Room for one partly received 1 MiB message per connection at a time, and 400 ms to finish one.
  const { port } = await startGreeter(t, { query: `?messageTimeoutMs=400&maxSessionBufferedBytes=${1.5 * MiB}` });
  const session = await rawSession(t, port);

  // Announces 1 MiB, sends 100 bytes, then nothing.
  const stalled = openRequest(session, grpcFrame(Buffer.alloc(100, 1), 0, MiB));
  // Announces 64 KiB and sends one byte every 50 ms: it would take nearly an hour.
  const trickling = openRequest(session, grpcFrame(Buffer.alloc(1, 1), 0, 64 * 1024));
  const drip = setInterval(() => trickling.write(Buffer.alloc(1, 1)), 50);
  t.after(() => clearInterval(drip));

  // While the stalled message holds its MiB, another one spanning chunks does not fit.
  const refused = await rawRequest(session, grpcHeaders(ECHO), [grpcFrame(blob(MiB).subarray(0, 1000), 0, MiB + 4)]);
  assert.equal(refused.grpcStatus, Code.RESOURCE_EXHAUSTED);
  assert.match(refused.grpcMessage ?? '', /too many bytes/);

  for (const [name, request] of [['stalled', stalled], ['trickling', trickling]] as const) {
    const response = await within(10_000, request.response);
    assert.ok(response !== undefined, `the ${name} request got no answer`);
    assert.equal(response.grpcStatus, Code.RESOURCE_EXHAUSTED, `${name}: ${response.grpcStatus} ${response.grpcMessage}`);
    assert.match(response.grpcMessage ?? '', /not complete 400 ms after its first bytes/);
  }
  clearInterval(drip);

  // The buffers are given back: a whole 1 MiB message, sent in parts, fits again and is echoed.
  const message = blob(MiB);
  const echoed = await rawRequest(session, grpcHeaders(ECHO), [grpcFrame(message.subarray(0, 1000), 0, message.length), message.subarray(1000)]);
  assert.equal(echoed.grpcStatus, 0, echoed.grpcMessage);
  assert.ok(echoed.body.subarray(5).equals(message), 'the message came back whole');
});
