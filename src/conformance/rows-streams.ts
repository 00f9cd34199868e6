import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Code, codeName } from '../core/code.js';
import { mistakeCodes, rejectionOf, type Row } from './fixture.js';
import { uniqueTag, type Probe } from './probe.js';
import type { CountItem } from './service.js';

/**
 * Flow control: items of 16 KiB, of which a producer without flow control would make 64 MiB at
 * once. A transport may keep up to 16 MiB (1,024 items) in windows, queues and socket buffers
 * between the generator and the reader: far more than any of them does, far less than nothing.
 */
const PADDING_BYTES = 16 * 1024;
const ITEMS = 4096;
const MAX_AHEAD = 1024;
/** The producer counts as held back once it made nothing new for this long. */
const SETTLED_MS = 750;

/** Waits until the stream `tag` produced nothing new for SETTLED_MS (or reached its end); returns how many it made. */
async function settledProduction(probe: Probe, tag: string): Promise<number> {
  const state = probe.stream(tag);
  const until = Date.now() + 20_000;
  let last = -1;
  let stableSince = Date.now();
  while (Date.now() < until && state.produced < ITEMS) {
    if (state.produced !== last) {
      last = state.produced;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= SETTLED_MS) {
      break;
    }
    await sleep(50);
  }
  return state.produced;
}

export const streamRows: readonly Row[] = [
  {
    name: 'streams: items arrive in order, then the stream ends',
    async run({ service, probe }) {
      const tag = uniqueTag('stream');
      const indices: number[] = [];
      for await (const item of service.count(tag, 200, 8)) indices.push(item.index);
      assert.deepEqual(indices, Array.from({ length: 200 }, (_, i) => i));
      assert.equal(probe.stream(tag).completed, true);
    },
  },
  {
    name: 'streams: a slow reader holds the producer back',
    async run({ service, probe }) {
      const tag = uniqueTag('flow');
      const iterator = service.count(tag, ITEMS, PADDING_BYTES)[Symbol.asyncIterator]();
      try {
        let read = 0;
        for (; read < 5; read++) assert.equal(((await iterator.next()).value as CountItem).index, read);
        const produced = await settledProduction(probe, tag);
        assert.ok(produced - read <= MAX_AHEAD, `the producer made ${produced} items of ${PADDING_BYTES} bytes for ${read} read: more than ${MAX_AHEAD} ahead`);
        // Reading on lets the producer go on.
        for (; read < 5 + MAX_AHEAD + 20; read++) assert.equal(((await iterator.next()).value as CountItem).index, read);
        assert.ok(probe.stream(tag).produced >= read);
      } finally {
        await iterator.return?.();
      }
    },
  },
  {
    name: 'streams: leaving the loop early stops the producer and fires its signal',
    async run({ service, probe }) {
      const tag = uniqueTag('leave');
      for await (const item of service.count(tag, ITEMS, 8)) if (item.index === 10) break;
      const state = await probe.next(`ended:${tag}`);
      assert.deepEqual({ completed: (state as { completed: boolean }).completed, aborted: (state as { aborted: boolean }).aborted }, { completed: false, aborted: true });
    },
  },
  {
    name: 'streams: an error thrown mid-stream arrives after the items before it',
    async run({ service }) {
      const items: number[] = [];
      const failing = (async () => {
        for await (const item of service.failAfter(3)) items.push(item);
      })();
      const error = await rejectionOf(failing, 'failAfter(3)');
      assert.equal(codeName(error.code), codeName(Code.RESOURCE_EXHAUSTED), error.message);
      assert.equal(error.message, 'stopped after 3 items');
      assert.deepEqual(error.details, { items: 3 });
      assert.deepEqual(items, [0, 1, 2]);
    },
  },
  {
    name: 'streams: a resumable stream that breaks goes on after the last item the caller got',
    async run({ service, probe }) {
      const tag = uniqueTag('resume');
      const items: number[] = [];
      for await (const item of service.resumableCount(tag, 20, 7)) items.push(item);
      assert.deepEqual(items, Array.from({ length: 20 }, (_, i) => i));
      // The first run, then one after each break, each told where the caller stood.
      for (const after of ['fresh', '6', '13']) assert.ok(probe.happened(`run:${tag}:${after}`), `no run resumed after ${after}`);
    },
  },
  {
    name: 'handler mistakes: a streaming method returning a non-iterable fails, naming the method',
    async run({ service }) {
      const reading = (async () => {
        for await (const item of service.streamReturningNumber()) assert.fail(`got an item: ${String(item)}`);
      })();
      const error = await rejectionOf(reading, 'streamReturningNumber()');
      assert.ok(mistakeCodes.includes(error.code), `code ${codeName(error.code)}: ${error.message}`);
      assert.match(error.message, /streamReturningNumber/);
    },
  },
  {
    name: 'shutdown: a call in flight when close() starts completes',
    async run({ startPeers, probe }) {
      const { server, service } = await startPeers();
      const tag = uniqueTag('drain');
      const call = service.hold(tag);
      await probe.next(`started:${tag}`);
      const closing = server.close({ timeoutMs: 20_000 });
      // Let the close begin (stop accepting, tell clients to go) before the handler finishes.
      await sleep(100);
      probe.emit(`release:${tag}`);
      assert.equal(await call, 'released');
      await closing;
    },
  },
];
