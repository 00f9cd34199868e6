import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as v from 'valibot';
import { z } from 'zod';
import { Code, WorkerPool, defineService, defineServiceFromProto } from '../../src/index.js';
import { schemaIssuesOf } from '../../src/schema/issues.js';
import { onCleanup } from '../support/calculator.js';
import { recordEscapes, rejection } from '../support/assertions.js';
import { GREETER_PROTO, type Greeter } from '../grpc/fixtures/greeter.js';
import { serve } from './peers.js';

describe('schemas beside other parts of the server', () => {
  it('checks a .proto service after its own conversion (int64 fields are bigints by then), over grpc', async (t) => {
    const escaped = recordEscapes(t);
    const Greeter = defineServiceFromProto<Greeter>(GREETER_PROTO, 'test.greeter.Greeter', {
      methods: {
        sayHello: { args: [z.object({ name: z.string().min(2), bigNumber: z.bigint().nonnegative() }).transform(({ name, bigNumber }) => ({ name: name.toUpperCase(), bigNumber }))] },
        collect: { args: [z.object({ value: z.number().max(100) })] },
      },
    });
    const seen: unknown[] = [];
    const greeter = await serve(t, Greeter, {
      sayHello: async (request) => {
        seen.push(request);
        return { message: `hello ${request.name}` };
      },
      collect: async (numbers) => {
        let value = 0;
        for await (const number of numbers) value += number.value;
        return { value };
      },
      fail: async () => ({ message: '' }),
      slow: async () => ({ message: '' }),
      echo: async (blob) => blob,
      count: async function* () {},
    }, { listen: 'grpc://127.0.0.1:0' });
    assert.deepEqual(await greeter.sayHello({ name: 'ada', bigNumber: 7 }), { message: 'hello ADA' });
    assert.deepEqual(seen, [{ name: 'ADA', bigNumber: 7n }], 'the handler got the output, the int64 a bigint');
    const error = await rejection(greeter.sayHello({ name: 'a', bigNumber: -1 }));
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.deepEqual(schemaIssuesOf(error)?.map((issue) => issue.path), [[0, 'name'], [0, 'bigNumber']]);
    assert.deepEqual(await greeter.collect([{ value: 1 }, { value: 2 }]), { value: 3 });
    const refused = await rejection(greeter.collect([{ value: 1 }, { value: 500 }]));
    assert.equal(refused.code, Code.INVALID_ARGUMENT);
    assert.equal(refused.details.item, 1);
    assert.equal(seen.length, 1, 'the refused call did not reach the handler');
    assert.deepEqual(escaped, []);
  });

  it('checks on the main thread for an implementation in pool workers, which get the outputs', async (t) => {
    // valibot's schemas hold functions, which cannot be posted to a worker: the worker never sees a schema.
    const Scale = defineService('test.schema.Scale', {
      methods: { scale: { args: [v.object({ x: v.number(), y: v.number() }), v.pipe(v.unknown(), v.transform(Number), v.number(), v.minValue(1))], result: v.object({ x: v.number(), y: v.number() }) } },
    });
    const pool = new WorkerPool(new URL('./fixtures/scale-worker.js', import.meta.url), { export: 'ScaleImpl', size: 1 });
    onCleanup(t, () => pool.close());
    const scale = await serve(t, Scale, pool.implementation<{ scale(point: { x: number; y: number }, factor: number): Promise<{ x: number; y: number }> }>());
    const answer = (await (scale.scale as (...args: unknown[]) => Promise<unknown>)({ x: 1, y: 2 }, '3')) as { factor: unknown; thread: number };
    assert.equal(answer.factor, 3, 'the worker got the coerced number');
    assert.notEqual(answer.thread, 0, 'it ran on a worker thread');
    const error = await rejection(scale.scale({ x: 1, y: 2 }, -1));
    assert.equal(error.code, Code.INVALID_ARGUMENT);
  });
});
