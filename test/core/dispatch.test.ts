import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { CallTable, type MethodEntry } from '../../src/core/call-table.js';
import { Code } from '../../src/core/code.js';
import { dispatch, type CallResponder } from '../../src/core/dispatch.js';
import type { Logger } from '../../src/core/logger.js';
import { RpcError } from '../../src/core/rpc-error.js';
import { ServerCall } from '../../src/core/server-call.js';
import { defineService } from '../../src/core/service.js';
import { recordEscapes } from '../support/assertions.js';

/** The dispatcher alone, with a responder that records what it is told. */

interface Shapes {
  value(): Promise<number>;
  fail(): Promise<number>;
  items(): AsyncIterable<number>;
}
const ShapesService = defineService<Shapes>('test.Shapes', { methods: { value: {}, fail: {}, items: { stream: 'server' } } });

function tableOf(): CallTable {
  const table = new CallTable();
  table.provide(ShapesService, {
    value: async () => 7,
    fail: async () => {
      throw new Error('no');
    },
    async *items() {
      yield 1;
      yield 2;
    },
  }, []);
  return table;
}

function entry(table: CallTable, method: string): MethodEntry {
  const found = table.lookup(ShapesService.id, method);
  assert.ok(!(found instanceof RpcError));
  return found;
}

interface Recorded {
  events: string[];
  errors: RpcError[];
  logged: string[];
}

function recorder(overrides: Partial<CallResponder> = {}): CallResponder & Recorded {
  const recorded: Recorded = { events: [], errors: [], logged: [] };
  return {
    ...recorded,
    settled: () => void recorded.events.push('settled'),
    result: (_call, value) => void recorded.events.push(`result ${String(value)}`),
    error: (_call, error) => {
      recorded.events.push(`error ${error.code}`);
      recorded.errors.push(error);
    },
    item: (_call, value) => void recorded.events.push(`item ${String(value)}`),
    end: () => void recorded.events.push('end'),
    isOpen: () => true,
    ...overrides,
  };
}

function loggerInto(lines: string[]): Logger {
  const write = (_: object, msg?: string) => void lines.push(msg ?? '');
  return { debug: write, info: write, warn: write, error: write };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await tick();
}

test('a result, an error and a stream reach the responder in order, each after the call has settled', async () => {
  const table = tableOf();
  for (const [method, expected] of [
    ['value', ['settled', 'result 7']],
    ['fail', ['settled', `error ${Code.UNKNOWN}`]],
    ['items', ['item 1', 'item 2', 'settled', 'end']],
  ] as const) {
    const responder = recorder();
    const found = entry(table, method);
    const call = new ServerCall(found.service, found.method, [], undefined, undefined, false);
    let finished = false;
    call.whenFinished(() => (finished = true));
    dispatch(found, call, responder, loggerInto([]));
    await settle();
    assert.deepEqual(responder.events, expected, method);
    assert.ok(finished, `${method}: finish() ran`);
  }
});

test('a one-way call that fails is logged, not answered', async () => {
  const table = tableOf();
  const responder = recorder();
  const logged: string[] = [];
  const found = entry(table, 'fail');
  dispatch(found, new ServerCall(found.service, found.method, [], undefined, undefined, true), responder, loggerInto(logged));
  await settle();
  assert.deepEqual(responder.events, ['settled']);
  assert.deepEqual(logged, ['one-way call failed']);
});

test('an aborted call is answered with its abort reason, whatever the handler returned', async () => {
  const table = tableOf();
  const responder = recorder();
  const found = entry(table, 'value');
  const call = new ServerCall(found.service, found.method, [], undefined, undefined, false);
  dispatch(found, call, responder, loggerInto([]));
  call.abort(new RpcError(Code.DEADLINE_EXCEEDED, 'deadline exceeded'));
  await settle();
  assert.deepEqual(responder.events, ['settled', `error ${Code.DEADLINE_EXCEEDED}`]);
});

test('a transport that throws while answering is logged, and nothing escapes as an unhandled rejection', async (t) => {
  const escaped = recordEscapes(t);
  const table = tableOf();
  const logged: string[] = [];
  const throwing = () => {
    throw new Error('socket gone');
  };
  for (const method of ['value', 'fail', 'items']) {
    const found = entry(table, method);
    const responder = recorder({ result: throwing, error: throwing, end: throwing });
    dispatch(found, new ServerCall(found.service, found.method, [], undefined, undefined, false), responder, loggerInto(logged));
  }
  await settle();
  assert.deepEqual(logged, ['cannot answer a call', 'cannot answer a call', 'cannot answer a call']);
  assert.deepEqual(escaped, []);
});

test('a stream stops being pulled once the caller no longer listens, and its generator is closed', async () => {
  const table = new CallTable();
  let closed = false;
  let pulled = 0;
  table.provide(ShapesService, {
    value: async () => 0,
    fail: async () => 0,
    async *items() {
      try {
        for (;;) yield ++pulled;
      } finally {
        closed = true;
      }
    },
  }, []);
  let open = true;
  const responder = recorder({
    isOpen: () => open,
    item: (_call, value) => {
      if (value === 3) open = false;
      return undefined;
    },
  });
  const found = entry(table, 'items');
  dispatch(found, new ServerCall(found.service, found.method, [], undefined, undefined, false), responder, loggerInto([]));
  await settle();
  assert.equal(pulled, 3);
  assert.ok(closed, 'the generator ran its finally');
  assert.deepEqual(responder.events, ['settled'], 'no end is sent to a caller that left');
});
