import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as v from 'valibot';
import { z } from 'zod';
import { Code, defineService } from '../../src/index.js';
import { schemaIssuesOf } from '../../src/schema/issues.js';
import { hasCode, recordEscapes, rejection } from '../support/assertions.js';
import { errorLog, serve } from './peers.js';

const Reading = z.object({ sensor: z.string(), celsius: z.number() });

const Sensors = defineService('test.schema.Sensors', {
  methods: {
    average: { stream: 'client', args: [Reading.transform(({ sensor, celsius }) => ({ sensor, kelvin: celsius + 273 }))], result: z.number() },
    // An async item schema (valibot), on a bidi method.
    relay: { stream: 'bidi', args: [v.pipeAsync(v.number(), v.checkAsync(async (n) => n >= 0, 'must not be negative'))], result: v.number() },
    readings: { stream: 'server', args: [z.number()], result: Reading, checkResult: true },
  },
});

/** A request stream that records how far the caller's producer got and whether it was closed. */
function producer<T>(items: T[]): { source: AsyncIterable<T>; state: { pulled: number; closed: boolean } } {
  const state = { pulled: 0, closed: false };
  async function* source(): AsyncGenerator<T> {
    try {
      for (const item of items) {
        state.pulled++;
        yield item;
      }
    } finally {
      state.closed = true;
    }
  }
  return { source: source(), state };
}

describe('schemas on streams over tcp', () => {
  it('checks each request item as the handler reads it, handing it the output', async (t) => {
    const seen: unknown[] = [];
    const sensors = await serve(t, Sensors, {
      async average(readings) {
        let sum = 0;
        let count = 0;
        for await (const reading of readings) {
          seen.push(reading);
          sum += reading.kelvin;
          count++;
        }
        return sum / count;
      },
      relay: async function* (items) { yield* items; },
      readings: async function* () {},
    });
    assert.equal(await sensors.average([{ sensor: 'a', celsius: 10 }, { sensor: 'b', celsius: 20 }] as never), 288);
    assert.deepEqual(seen, [{ sensor: 'a', kelvin: 283 }, { sensor: 'b', kelvin: 293 }]);
  });

  it("fails the call with INVALID_ARGUMENT at a refused item, naming it, and stops the caller's producer", async (t) => {
    const escaped = recordEscapes(t);
    let handlerSaw: unknown;
    let read = 0;
    const sensors = await serve(t, Sensors, {
      async average(readings) {
        try {
          for await (const reading of readings) {
            void reading;
            read++;
          }
          return 0;
        } catch (error) {
          handlerSaw = error;
          throw error;
        }
      },
      relay: async function* (items) { yield* items; },
      readings: async function* () {},
    });
    const { source, state } = producer<unknown>([{ sensor: 'a', celsius: 1 }, { sensor: 'b', celsius: 'warm' }, { sensor: 'c', celsius: 3 }]);
    const error = await rejection(sensors.average(source as never));
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.match(error.message, /^invalid item 1 of the request stream of test\.schema\.Sensors\.average: item\.celsius: /);
    assert.equal(error.details.item, 1);
    assert.deepEqual(schemaIssuesOf(error)?.map((issue) => issue.path), [['celsius']]);
    assert.equal(read, 1, 'the handler read the good item only');
    assert.ok(handlerSaw instanceof Error && (handlerSaw as { code?: unknown }).code === Code.INVALID_ARGUMENT, "the handler's loop threw INVALID_ARGUMENT");
    assert.ok(state.closed, "the caller's producer was closed");
    assert.deepEqual(escaped, []);
  });

  it('checks bidi items with an async schema', async (t) => {
    const escaped = recordEscapes(t);
    const sensors = await serve(t, Sensors, {
      average: async () => 0,
      relay: async function* (items) {
        for await (const n of items) yield n * 2;
      },
      readings: async function* () {},
    });
    const doubled: number[] = [];
    for await (const n of sensors.relay([1, 2, 3])) doubled.push(n);
    assert.deepEqual(doubled, [2, 4, 6]);
    const got: number[] = [];
    const error = await rejection((async () => {
      for await (const n of sensors.relay([5, -1, 7])) got.push(n);
    })());
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.deepEqual(schemaIssuesOf(error), [{ message: 'must not be negative', path: [] }]);
    assert.deepEqual(got, [10], 'the items before the refused one came through');
    assert.deepEqual(escaped, []);
  });

  it('with checkResult, fails a server stream with INTERNAL at an item that breaks the result schema, logs it and ends the generator', async (t) => {
    const escaped = recordEscapes(t);
    const { logger, errors } = errorLog();
    let generatorEnded = false;
    const sensors = await serve(t, Sensors, {
      average: async () => 0,
      relay: async function* (items) { yield* items; },
      async *readings(count) {
        try {
          for (let i = 0; i < count; i++) yield i === 2 ? ({ sensor: 'bad', celsius: 'hot' } as never) : { sensor: `s${i}`, celsius: i };
        } finally {
          generatorEnded = true;
        }
      },
    }, { logger });
    const got: unknown[] = [];
    const error = await rejection((async () => {
      for await (const reading of sensors.readings(5)) got.push(reading);
    })());
    assert.equal(error.code, Code.INTERNAL);
    assert.match(error.message, /^item 2 of the result stream of test\.schema\.Sensors\.readings does not match its schema$/);
    assert.deepEqual(error.details, {}, 'the issues stay on the server');
    assert.deepEqual(got, [{ sensor: 's0', celsius: 0 }, { sensor: 's1', celsius: 1 }]);
    assert.ok(generatorEnded, "the generator's finally ran");
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.obj.method, 'readings');
    assert.equal(errors[0]!.obj.item, 2);
    assert.deepEqual((errors[0]!.obj.issues as Array<{ path: unknown }>).map((issue) => issue.path), [['celsius']]);
    assert.deepEqual(escaped, []);
  });

  it('refuses the arguments of a server stream before its generator starts', async (t) => {
    let started = false;
    const sensors = await serve(t, Sensors, {
      average: async () => 0,
      relay: async function* (items) { yield* items; },
      async *readings() {
        started = true;
        yield* [];
      },
    });
    const readings = sensors.readings as (...args: unknown[]) => AsyncIterable<unknown>;
    await assert.rejects(readings('many')[Symbol.asyncIterator]().next(), hasCode(Code.INVALID_ARGUMENT, /args\[0\]: Invalid input: expected number/));
    assert.equal(started, false);
  });
});
