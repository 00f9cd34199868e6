import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Code, codeName } from '../core/code.js';
import { rejectionOf, type Row } from './fixture.js';
import { uniqueTag } from './probe.js';
import type { CountItem } from './service.js';

/*
 * Request streams (client and bidi streaming), with the same bounds as the server-stream rows:
 * items of 16 KiB, of which a producer without flow control would make 64 MiB at once; a transport
 * may hold up to 1,024 items (16 MiB) in windows, queues and socket buffers in each direction.
 */
const PADDING_BYTES = 16 * 1024;
const ITEMS = 4096;
const MAX_AHEAD = 1024;
const SETTLED_MS = 750;

/** A caller's request stream that counts what was pulled from it and whether it was closed. */
class Producer {
  pulled = 0;
  closed = false;

  constructor(
    private readonly limit: number,
    private readonly paddingBytes: number,
    /** Waited for before item `index` is made, when given. */
    private readonly before?: (index: number) => Promise<void>,
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<CountItem> {
    const padding = 'x'.repeat(this.paddingBytes);
    try {
      for (let index = 0; index < this.limit; index++) {
        await this.before?.(index);
        this.pulled = index + 1;
        yield { index, padding };
      }
    } finally {
      this.closed = true;
    }
  }

  /** Waits until nothing new was pulled for SETTLED_MS (or the limit was reached); returns how many were. */
  async settled(): Promise<number> {
    const until = Date.now() + 20_000;
    let last = -1;
    let stableSince = Date.now();
    while (Date.now() < until && this.pulled < this.limit) {
      if (this.pulled !== last) {
        last = this.pulled;
        stableSince = Date.now();
      } else if (Date.now() - stableSince >= SETTLED_MS) {
        break;
      }
      await sleep(50);
    }
    return this.pulled;
  }

  /** Waits (a few seconds at most) for the stream to be closed by the call's end. */
  async closing(what: string): Promise<void> {
    const until = Date.now() + 5_000;
    while (!this.closed && Date.now() < until) await sleep(10);
    assert.ok(this.closed, `${what}: the caller's request stream was not closed`);
  }
}

const sum = (n: number) => (n * (n - 1)) / 2;

export const requestStreamRows: readonly Row[] = [
  {
    name: 'client streams: every item arrives in order, and one answer comes back',
    async run({ service }) {
      const producer = new Producer(300, 8);
      assert.deepEqual(await service.collect(producer), { count: 300, indexSum: sum(300) });
      assert.deepEqual(await service.collect([]), { count: 0, indexSum: 0 });
      assert.deepEqual(await service.collect([{ index: 4, padding: '' }, { index: 5, padding: '' }]), { count: 2, indexSum: 9 });
    },
  },
  {
    name: 'client streams: a slow handler holds the caller\'s producer back',
    async run({ service, probe }) {
      const tag = uniqueTag('upload');
      const producer = new Producer(ITEMS, PADDING_BYTES);
      const answer = service.collect.with({ metadata: { 'x-conformance-tag': tag, 'x-conformance-pause-after': '5' } })(producer);
      answer.catch(() => undefined);
      await probe.next(`paused:${tag}`);
      const pulled = await producer.settled();
      assert.ok(pulled - 5 <= MAX_AHEAD, `the caller's producer made ${pulled} items of ${PADDING_BYTES} bytes while the handler read 5: more than ${MAX_AHEAD} ahead`);
      probe.emit(`release:${tag}`);
      assert.deepEqual(await answer, { count: ITEMS, indexSum: sum(ITEMS) });
    },
  },
  {
    name: 'client streams: an answer before the end closes the caller\'s producer',
    async run({ service }) {
      const producer = new Producer(ITEMS, PADDING_BYTES);
      assert.equal(await service.first(producer), 0);
      await producer.closing('first()');
      assert.ok(producer.pulled < ITEMS, `all ${ITEMS} items were pulled for an answer after one`);
    },
  },
  {
    name: 'client streams: a producer that throws fails the call with its message, and the handler hears it',
    async run({ service, probe }) {
      const tag = uniqueTag('broken');
      const broken = (async function* () {
        yield { index: 0, padding: '' };
        yield { index: 1, padding: '' };
        throw new Error('the source broke');
      })();
      const error = await rejectionOf(service.collect.with({ metadata: { 'x-conformance-tag': tag } })(broken), 'collect(broken)');
      assert.equal(codeName(error.code), codeName(Code.CANCELLED), error.message);
      assert.match(error.message, /the source broke/);
      const seen = (await probe.next(`collected:${tag}`)) as { count: number; error?: unknown };
      assert.ok(seen.error !== undefined, 'the handler read the stream to a clean end');
      assert.ok(seen.count <= 2);
    },
  },
  {
    name: 'client streams: a handler that fails mid-stream fails the call and closes the producer',
    async run({ service }) {
      const producer = new Producer(ITEMS, PADDING_BYTES);
      const error = await rejectionOf(service.failReading(producer), 'failReading()');
      assert.equal(codeName(error.code), codeName(Code.RESOURCE_EXHAUSTED), error.message);
      assert.equal(error.message, 'stopped after 2 requests');
      assert.deepEqual(error.details, { read: 2 });
      await producer.closing('failReading()');
    },
  },
  {
    name: 'bidi streams: answers come back while requests are still being sent',
    async run({ service }) {
      const rounds = 20;
      const answered: number[] = [];
      let wake: (() => void) | undefined;
      // Item i is made only after the answer to item i - 1 arrived: a half-duplex stream would hang.
      const producer = new Producer(rounds, 8, async (index) => {
        while (answered.length < index) await new Promise<void>((resolve) => (wake = resolve));
      });
      for await (const item of service.chat(producer)) {
        answered.push(item.index);
        wake?.();
      }
      assert.deepEqual(answered, Array.from({ length: rounds }, (_, i) => i));
    },
  },
  {
    name: 'bidi streams: a slow reader holds both producers back',
    async run({ service, probe }) {
      const tag = uniqueTag('chat-flow');
      const producer = new Producer(ITEMS, PADDING_BYTES);
      const iterator = service.chat.with({ metadata: { 'x-conformance-tag': tag } })(producer)[Symbol.asyncIterator]();
      try {
        let read = 0;
        for (; read < 5; read++) assert.equal(((await iterator.next()).value as CountItem).index, read);
        const pulled = await producer.settled();
        // Two windows: answers waiting for the reader, and requests waiting for the handler.
        assert.ok(pulled - read <= 2 * MAX_AHEAD, `the caller's producer made ${pulled} items for ${read} answers read`);
        assert.ok(probe.stream(tag).produced - read <= MAX_AHEAD, `the handler answered ${probe.stream(tag).produced} items for ${read} read`);
        for (; read < 5 + MAX_AHEAD + 20; read++) assert.equal(((await iterator.next()).value as CountItem).index, read);
      } finally {
        await iterator.return?.();
      }
    },
  },
  {
    name: 'bidi streams: leaving the loop early ends the call and closes the caller\'s producer',
    async run({ service, probe }) {
      const tag = uniqueTag('chat-leave');
      const producer = new Producer(ITEMS, 8);
      for await (const item of service.chat.with({ metadata: { 'x-conformance-tag': tag } })(producer)) if (item.index === 10) break;
      const state = (await probe.next(`ended:${tag}`)) as { completed: boolean; aborted: boolean };
      assert.deepEqual({ completed: state.completed, aborted: state.aborted }, { completed: false, aborted: true });
      await producer.closing('chat()');
    },
  },
];
