import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import { resumeAfter } from '../core/resumable.js';
import { currentCall } from '../core/server-call.js';
import { defineService, type DefineServiceOptions } from '../core/service.js';
import type { Probe } from './probe.js';
import { indexItemSchema, labelSchema, numberSchema, pointSchema, scaleSchema, tagSchema, type IndexItem, type Point } from './schemas.js';
import { valueCases } from './values.js';

/** One stream item of `count`: its position, and padding that makes flow control measurable. */
export interface CountItem {
  index: number;
  padding: string;
}

/** How `fail` fails. */
export type FailureKind = 'rpc-error' | 'rich-details' | 'error-subclass' | 'non-error';

/** The service every row calls. Each method reports what it saw to the suite's `Probe`. */
export interface Conformance {
  /** Keeps what arrived under `tag`, for the row to compare with what it sent. */
  receive(tag: string, value: unknown): Promise<void>;
  /** Returns the value of the values-table case named `name`. */
  produce(name: string): Promise<unknown>;
  fail(kind: FailureKind): Promise<never>;
  /** Runs until the row emits `release:<tag>`, or until its signal fires (then rejects with the reason). */
  hold(tag: string): Promise<string>;
  /** Returns the request metadata `x-conformance` and `x-blob-bin`; sends response metadata back. */
  metadata(): Promise<{ text: unknown; blob: unknown }>;
  /** One-way: reports `notified:<tag>`. */
  notify(tag: string): Promise<void>;
  /** Guarded by a `validate` hook that wants one number. */
  validated(count: number): Promise<number>;
  /** A stream of `n` items of `paddingBytes` each; reports how far it got under `tag`. */
  count(tag: string, n: number, paddingBytes: number): AsyncIterable<CountItem>;
  /** Yields `n` items, then throws an RpcError. */
  failAfter(n: number): AsyncIterable<number>;
  /** A unary method whose handler wrongly returns an async generator. */
  unaryReturningGenerator(): Promise<number>;
  /** A streaming method whose handler wrongly returns something that is not iterable. */
  streamReturningNumber(): AsyncIterable<number>;
  /**
   * Reads a request stream to its end; answers how many items came and the sum of their indices.
   * With `x-conformance-pause-after: n` it reports `paused:<tag>` after n items and reads on once
   * the row emits `release:<tag>` (the tag from `x-conformance-tag`); it reports `collected:<tag>`
   * with how it ended.
   */
  collect(items: AsyncIterable<CountItem>): Promise<{ count: number; indexSum: number }>;
  /** Answers the first item's index without reading further. */
  first(items: AsyncIterable<CountItem>): Promise<number>;
  /** Reads two items, then throws an RpcError. */
  failReading(items: AsyncIterable<CountItem>): Promise<never>;
  /** Bidi: answers each item with itself as it comes; reports under `x-conformance-tag` like `count`. */
  chat(items: AsyncIterable<CountItem>): AsyncIterable<CountItem>;
  /**
   * A resumable stream of `0 … n - 1` that breaks with UNAVAILABLE after every `breakEvery` items,
   * as a lost connection would; each run (the first and every resumption) is counted under `tag`.
   */
  resumableCount(tag: string, n: number, breakEvery: number): AsyncIterable<number>;
  /** Checked by schemas (`label`'s is async, `scale` defaults to 1); keeps what it got under `tag`, and returns it. */
  checkedPoint(tag: string, point: Point, label: string, scale?: number): Promise<{ point: Point; label: string; scale: number }>;
  /** Its result is checked against a number schema: returns `value` as it is. */
  checkedResult(value: unknown): Promise<number>;
  /** Reads a request stream whose items are checked by a schema; answers how many came and the sum of their indices. */
  checkedTotal(items: AsyncIterable<IndexItem>): Promise<{ count: number; indexSum: number }>;
}

const methods = {
  receive: {},
  produce: {},
  fail: {},
  hold: {},
  metadata: {},
  notify: { oneWay: true },
  validated: {
    validate: (args: unknown[]) => {
      if (args.length !== 1 || typeof args[0] !== 'number') throw new TypeError('validated takes one number');
    },
  },
  count: { stream: 'server' },
  failAfter: { stream: 'server' },
  unaryReturningGenerator: {},
  streamReturningNumber: { stream: 'server' },
  collect: { stream: 'client' },
  first: { stream: 'client' },
  failReading: { stream: 'client' },
  chat: { stream: 'bidi' },
  resumableCount: { stream: 'server', resumable: { idOf: (n: number) => n } },
  checkedPoint: { args: [tagSchema, pointSchema, labelSchema, scaleSchema] },
  checkedResult: { result: numberSchema, checkResult: true },
  checkedTotal: { stream: 'client', args: [indexItemSchema] },
} satisfies DefineServiceOptions<Conformance>['methods'];

export const ConformanceService = defineService<Conformance>('switchyard.conformance.Conformance', { version: '1.0.0', methods });

interface Wider extends Conformance {
  undeclared(): Promise<void>;
}

/** The same service as a caller that believes in one method more, to reach the server with it. */
export const WiderConformanceService = defineService<Wider>(ConformanceService.key.name, {
  version: ConformanceService.key.version,
  methods: { ...methods, undeclared: {} },
});

/** A service no server of the suite provides. */
export const AbsentService = defineService<{ anything(): Promise<void> }>('switchyard.conformance.Absent', { methods: { anything: {} } });

/** The ids of the services the suite's servers provide (a broker's topics, say). */
export const conformanceServiceIds: readonly string[] = [ConformanceService.id];

export class LedgerError extends Error {
  override name = 'LedgerError';
}

/** The implementation, reporting to `probe`. */
export function conformanceImplementation(probe: Probe): Conformance {
  return {
    async receive(tag, value) {
      probe.received.set(tag, value);
    },
    async produce(name) {
      const found = valueCases.find((valueCase) => valueCase.name === name);
      if (found === undefined) throw new RpcError(Code.NOT_FOUND, `no value case ${JSON.stringify(name)}`);
      return found.make();
    },
    async fail(kind) {
      if (kind === 'rpc-error') {
        throw new RpcError(Code.FAILED_PRECONDITION, 'the ledger is closed', { details: { ledger: 'main', attempts: 3, flags: [true, null], nested: { reason: 'audit' } } });
      }
      if (kind === 'rich-details') {
        throw new RpcError(Code.FAILED_PRECONDITION, 'the ledger is out of balance', { details: { total: 2n ** 64n, at: new Date('2024-02-29T12:34:56.789Z'), digest: new Uint8Array([1, 2, 255]) } });
      }
      if (kind === 'error-subclass') throw new LedgerError('ledger entry 7 is missing');
      throw 42;
    },
    hold(tag) {
      const { signal } = currentCall();
      probe.emit(`started:${tag}`);
      return new Promise<string>((resolve, reject) => {
        const onAbort = (): void => {
          probe.emit(`aborted:${tag}`, signal?.reason);
          reject(signal?.reason);
        };
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        void probe.next(`release:${tag}`, 60_000).then(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve('released');
        }, () => undefined);
      });
    },
    async metadata() {
      const { metadata, responseMetadata } = currentCall();
      responseMetadata.set('x-served-by', 'conformance');
      responseMetadata.set('x-reply-bin', new Uint8Array([9, 0, 255]));
      return { text: metadata.get('x-conformance'), blob: metadata.get('x-blob-bin') };
    },
    async notify(tag) {
      probe.emit(`notified:${tag}`);
    },
    async validated(count) {
      probe.validatedRuns += 1;
      return count * 2;
    },
    async *count(tag, n, paddingBytes) {
      const { signal } = currentCall();
      const state = probe.stream(tag);
      const padding = 'x'.repeat(paddingBytes);
      try {
        for (let index = 0; index < n; index++) {
          state.produced = index + 1;
          yield { index, padding };
        }
        state.completed = true;
      } finally {
        state.aborted = signal?.aborted === true;
        probe.emit(`ended:${tag}`, state);
      }
    },
    async *failAfter(n) {
      for (let i = 0; i < n; i++) yield i;
      throw new RpcError(Code.RESOURCE_EXHAUSTED, `stopped after ${n} items`, { details: { items: n } });
    },
    unaryReturningGenerator() {
      return (async function* generator() {
        yield 1;
      })() as unknown as Promise<number>;
    },
    streamReturningNumber() {
      return 42 as unknown as AsyncIterable<number>;
    },
    async collect(items) {
      const { metadata, signal } = currentCall();
      const tag = String(metadata.get('x-conformance-tag') ?? '');
      const pauseAfter = Number(metadata.get('x-conformance-pause-after') ?? -1);
      let count = 0;
      let indexSum = 0;
      try {
        for await (const item of items) {
          count++;
          indexSum += item.index;
          if (count === pauseAfter) {
            probe.emit(`paused:${tag}`);
            await probe.next(`release:${tag}`, 60_000);
          }
        }
        probe.emit(`collected:${tag}`, { count, aborted: false });
        return { count, indexSum };
      } catch (error) {
        probe.emit(`collected:${tag}`, { count, aborted: signal?.aborted === true, error });
        throw error;
      }
    },
    async first(items) {
      for await (const item of items) return item.index;
      throw new RpcError(Code.INVALID_ARGUMENT, 'the stream was empty');
    },
    async failReading(items) {
      let read = 0;
      for await (const item of items) {
        void item;
        if (++read === 2) break;
      }
      throw new RpcError(Code.RESOURCE_EXHAUSTED, `stopped after ${read} requests`, { details: { read } });
    },
    async *resumableCount(tag, n, breakEvery) {
      const after = resumeAfter();
      probe.emit(`run:${tag}:${after ?? 'fresh'}`);
      let sent = 0;
      for (let i = after === undefined ? 0 : Number(after) + 1; i < n; i++) {
        yield i;
        if (++sent === breakEvery && i < n - 1) throw new RpcError(Code.UNAVAILABLE, 'the link broke');
      }
    },
    async checkedPoint(tag, point, label, scale) {
      const seen = { point, label, scale: scale as number };
      probe.received.set(tag, seen);
      return seen;
    },
    async checkedResult(value) {
      return value as number;
    },
    async checkedTotal(items) {
      let count = 0;
      let indexSum = 0;
      for await (const item of items) {
        count++;
        indexSum += item.index;
      }
      return { count, indexSum };
    },
    async *chat(items) {
      const { metadata, signal } = currentCall();
      const state = probe.stream(String(metadata.get('x-conformance-tag') ?? ''));
      try {
        for await (const item of items) {
          state.produced++;
          yield item;
        }
        state.completed = true;
      } finally {
        state.aborted = signal?.aborted === true;
        probe.emit(`ended:${String(metadata.get('x-conformance-tag') ?? '')}`, state);
      }
    },
  };
}
