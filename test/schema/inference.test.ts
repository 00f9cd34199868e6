/*
 * Types read from schemas. The assertions are types: `npx tsc -p tsconfig.json` checks them (and
 * each `@ts-expect-error` must meet an error); the test at the end makes calls through the same
 * definitions, so the types are shown to describe what really travels.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import * as v from 'valibot';
import { z } from 'zod';
import { defineService, type ServiceDefinition, type ServiceProxy } from '../../src/index.js';
import { serve } from './peers.js';

/** True when `A` and `B` are the same type (not merely assignable to each other). */
type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends (<X>() => X extends B ? 1 : 2) ? true : false;
/** Compiles only when `Check` is true. */
function expectType<Check extends true>(): Check | undefined {
  return undefined;
}
type ServiceOf<D> = D extends ServiceDefinition<infer T> ? T : never;

// The service type of a definition without a type argument comes from its schemas.
const Calculator = defineService('demo.Calculator', { methods: { add: { args: [z.number(), z.number()], result: z.number() } } });
expectType<Equal<typeof Calculator, ServiceDefinition<{ add(a: number, b: number): Promise<number> }>>>();

const Kinds = defineService('test.schema.Kinds', {
  methods: {
    bare: {},
    ticks: { stream: 'server', args: [v.number()], result: v.string() },
    upload: { stream: 'client', args: [z.object({ chunk: z.string() })], result: z.number() },
    chat: { stream: 'bidi', args: [z.string()], result: z.number() },
    note: { oneWay: true, args: [z.string()] },
    // Outputs: a default gives a number, a transform its result.
    page: { args: [z.number().default(20), z.string().transform((text) => text.length)] },
    untyped: { stream: 'server' },
  },
});
type Kinds = ServiceOf<typeof Kinds>;
expectType<Equal<Kinds['bare'], (...args: unknown[]) => Promise<unknown>>>();
expectType<Equal<Kinds['ticks'], (n: number) => AsyncIterable<string>>>();
expectType<Equal<Kinds['upload'], (chunks: AsyncIterable<{ chunk: string }>) => Promise<number>>>();
expectType<Equal<Kinds['chat'], (lines: AsyncIterable<string>) => AsyncIterable<number>>>();
expectType<Equal<Kinds['note'], (text: string) => Promise<void>>>();
expectType<Equal<Kinds['page'], (size: number, length: number) => Promise<unknown>>>();
expectType<Equal<Kinds['untyped'], (...args: unknown[]) => AsyncIterable<unknown>>>();

// The proxy follows, as it does for an interface.
type KindsProxy = ServiceProxy<Kinds>;
expectType<Equal<ReturnType<KindsProxy['ticks']>, AsyncIterable<string>>>();
expectType<Equal<Parameters<KindsProxy['upload']>, [AsyncIterable<{ chunk: string }> | Iterable<{ chunk: string }>]>>();
expectType<Equal<ReturnType<ServiceProxy<ServiceOf<typeof Calculator>>['add']>, Promise<number>>>();

// With an interface, the definition's type is the interface, and schemas must fit it.
interface Counter {
  add(a: number, b: number): Promise<number>;
  label(text: string, times?: number): Promise<string>;
  total(items: AsyncIterable<{ n: number }>): Promise<number>;
  ticks(every: number): AsyncIterable<{ at: number }>;
}
const CounterService = defineService<Counter>('test.schema.Counter', {
  methods: {
    // A schema may take more than it gives (coerce), as long as what it gives fits.
    add: { args: [z.coerce.number(), z.number()], result: z.number() },
    label: { args: [z.string(), z.number().optional()] },
    total: { stream: 'client', args: [z.object({ n: z.number() })] },
    ticks: { stream: 'server', result: z.object({ at: z.number() }), checkResult: true },
  },
});
expectType<Equal<typeof CounterService, ServiceDefinition<Counter>>>();

defineService<Counter>('test.schema.Counter', {
  methods: {
    // @ts-expect-error the second schema gives a string where the interface takes a number
    add: { args: [z.number(), z.string()] },
    // @ts-expect-error one schema for two parameters
    label: { args: [z.string(), z.number(), z.number()] },
    // @ts-expect-error an item schema whose output is no `{ n: number }`
    total: { stream: 'client', args: [z.object({ n: z.string() })] },
    // @ts-expect-error a result schema whose output is no item of the stream
    ticks: { stream: 'server', result: z.number() },
  },
});

defineService<Counter>('test.schema.Counter', {
  methods: {
    // @ts-expect-error a result schema whose output is no number
    add: { result: z.string() },
    label: {},
    total: { stream: 'client' },
    ticks: { stream: 'server' },
  },
});

it('calls made through definitions typed from schemas carry the values their types say', async (t) => {
  assert.deepEqual([...Kinds.methods.keys()], ['bare', 'ticks', 'upload', 'chat', 'note', 'page', 'untyped']);
  const calculator = await serve(t, Calculator, { add: async (a, b) => a + b });
  const sum: number = await calculator.add(2, 3);
  assert.equal(sum, 5);
  const counter = await serve(t, CounterService, {
    add: async (a, b) => a + b,
    label: async (text, times = 1) => text.repeat(times),
    total: async (items) => {
      let total = 0;
      for await (const { n } of items) total += n;
      return total;
    },
    ticks: async function* (every) {
      for (let at = 0; at < 3 * every; at += every) yield { at };
    },
  });
  assert.equal(await (counter.add as (...args: unknown[]) => Promise<number>)('4', 1), 5, 'the coerced string arrived as a number');
  assert.equal(await counter.label('ab', 2), 'abab');
  assert.equal(await counter.total([{ n: 1 }, { n: 2 }]), 3);
  const ticks: number[] = [];
  for await (const { at } of counter.ticks(5)) ticks.push(at);
  assert.deepEqual(ticks, [0, 5, 10]);
});
