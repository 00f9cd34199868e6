// A handler reading a request stream over grpc:// more slowly than it arrives holds only the items
// not read yet: those it has read are garbage once it lets go of them, though its buffer never empties.
import assert from 'node:assert/strict';
import test from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createServer, defineService } from '../../src/index.js';
import { onCleanup } from '../support/calculator.js';
import { startGrpcClient } from './fixtures/greeter.js';
import { sleep } from './fixtures/uploads.js';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

interface Intake {
  /** Reads every item slowly; after `checkAt` items, how many of those read `lag` or more items ago are still alive. */
  slowRead(items: AsyncIterable<Uint8Array>): Promise<{ read: number; alive: number }>;
}
const IntakeService = defineService<Intake>('test.grpc.Intake', { methods: { slowRead: { stream: 'client' } } });

const COUNT = 160;
const CHECK_AT = 120;
// Twice the window of unread items: what the stream may hold on to by design.
const LAG = 32;

test('items a slow handler has read are not held by the request stream behind it', async (t) => {
  const server = createServer({ registry: false, listen: ['grpc://127.0.0.1:0'] });
  server.provide(IntakeService, {
    async slowRead(items) {
      const seen: Array<WeakRef<Uint8Array>> = [];
      let alive = -1;
      for await (const item of items) {
        seen.push(new WeakRef(item));
        if (seen.length === CHECK_AT) {
          collectGarbage();
          alive = seen.slice(0, CHECK_AT - LAG).filter((ref) => ref.deref() !== undefined).length;
        }
        // Slower than the caller sends: the items behind this one wait, and the buffer never empties.
        await sleep(2);
      }
      return { read: seen.length, alive };
    },
  });
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  const intake = startGrpcClient(t, address!).proxy(IntakeService);
  function* items() {
    for (let i = 0; i < COUNT; i++) yield new Uint8Array(16 * 1024).fill(i % 256);
  }
  const { read, alive } = await intake.slowRead(items());
  assert.equal(read, COUNT);
  assert.equal(alive, 0, `${alive} of the first ${CHECK_AT - LAG} items read are still reachable`);
});
