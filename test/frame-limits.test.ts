import assert from 'node:assert/strict';
import test from 'node:test';
import { Code, RpcError, createClient, createServer, defineService } from '../src/index.js';
import { startClient, startServer } from './support/calculator.js';

test('a request over the client frame limit is refused before it is sent, and the connection stays usable', async (t) => {
  const { address, log } = await startServer(t);
  const { calc } = startClient(t, address, { maxFrameSize: 64 * 1024 });
  await assert.rejects(calc.echo(new Uint8Array(128 * 1024)), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, Code.RESOURCE_EXHAUSTED);
    assert.equal(error.unprocessed, true);
    assert.match(error.message, /exceeds the frame limit of 65536/);
    return true;
  });
  assert.equal(log.calls.filter((call) => call.method === 'echo').length, 0, 'the server never saw the request');
  assert.equal(await calc.add(2, 3), 5);
});

test('a response over the server frame limit reaches the caller as RESOURCE_EXHAUSTED', async (t) => {
  interface Blob { make(size: number): Promise<Uint8Array> }
  const BlobService = defineService<Blob>('test.Blob', { methods: { make: {} } });
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], maxFrameSize: 64 * 1024 });
  server.provide(BlobService, { make: async (size) => new Uint8Array(size) });
  const [address] = await server.listen();
  const client = createClient({ url: address! });
  t.after(async () => {
    await client.close();
    await server.close();
  });
  const blob = client.proxy(BlobService);
  assert.equal((await blob.make(1024)).length, 1024);
  await assert.rejects(blob.make(128 * 1024), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, Code.RESOURCE_EXHAUSTED);
    assert.match(error.message, /response of \d+ bytes exceeds the frame limit of 65536/);
    return true;
  });
  assert.equal((await blob.make(10)).length, 10, 'the connection still serves calls');
});
