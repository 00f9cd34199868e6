import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallTable, type MethodEntry } from '../../src/core/call-table.js';
import { Code } from '../../src/core/code.js';
import type { Interceptor } from '../../src/core/invocation.js';
import { Metadata } from '../../src/core/metadata.js';
import { RpcError } from '../../src/core/rpc-error.js';
import { ServerCall, currentCall } from '../../src/core/server-call.js';
import { defineService, type ServiceDefinition } from '../../src/core/service.js';

interface Calculator {
  add(a: number, b: number): Promise<number>;
  divide(a: number, b: number): Promise<number>;
}

const CalculatorV1 = defineService<Calculator>('demo.Calculator', {
  version: '1.0.0',
  methods: {
    add: {},
    divide: {
      validate: ([, b]) => {
        if (b === 0) throw new Error('divisor must not be 0');
      },
    },
  },
});

class CalculatorImpl implements Calculator {
  secretCalls = 0;
  async add(a: number, b: number): Promise<number> {
    return a + b;
  }
  async divide(a: number, b: number): Promise<number> {
    return a / b;
  }
  /** Public on the object, but not declared by the service. */
  async secret(): Promise<string> {
    this.secretCalls++;
    return 'leaked';
  }
}

function entryOf(table: CallTable, service: string | undefined, method: string | undefined): MethodEntry {
  const found = table.lookup(service, method);
  if (found instanceof RpcError) throw found;
  return found;
}

function errorOf(table: CallTable, service: string | undefined, method: string | undefined): RpcError {
  const found = table.lookup(service, method);
  assert.ok(found instanceof RpcError, `expected ${service}.${method} not to be found`);
  return found;
}

function callOf(entry: MethodEntry, args: unknown[]): ServerCall {
  return new ServerCall(entry.service, entry.method, args, new Metadata(), undefined, false);
}

/** Runs a call through the table; a synchronous throw counts as a rejection here (see the tests that require a rejection). */
async function invoke(table: CallTable, service: ServiceDefinition, method: string, args: unknown[]): Promise<unknown> {
  const entry = entryOf(table, service.id, method);
  return entry.handler(callOf(entry, args));
}

describe('CallTable lookup', () => {
  it('runs a declared method of the implementation with the call arguments', async () => {
    const table = new CallTable();
    table.provide(CalculatorV1, new CalculatorImpl(), []);
    assert.equal(await invoke(table, CalculatorV1, 'add', [2, 3]), 5);
    assert.deepEqual(table.serviceIds, ['demo.Calculator:1.0.0']);
  });

  it('does not reach methods the implementation has but the service does not declare', () => {
    const table = new CallTable();
    const impl = new CalculatorImpl();
    table.provide(CalculatorV1, impl, []);
    const error = errorOf(table, CalculatorV1.id, 'secret');
    assert.equal(error.code, Code.UNIMPLEMENTED);
    assert.match(error.message, /"secret"/);
    assert.match(error.message, /demo\.Calculator:1\.0\.0/);
    assert.equal(impl.secretCalls, 0);
  });

  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'then']) {
    it(`answers UNIMPLEMENTED naming ${JSON.stringify(name)} when it is asked for as a method`, () => {
      const table = new CallTable();
      table.provide(CalculatorV1, new CalculatorImpl(), []);
      const error = errorOf(table, CalculatorV1.id, name);
      assert.equal(error.code, Code.UNIMPLEMENTED);
      assert.ok(error.message.includes(JSON.stringify(name)), error.message);
    });

    it(`answers NOT_FOUND naming ${JSON.stringify(name)} when it is asked for as a service`, () => {
      const table = new CallTable();
      table.provide(CalculatorV1, new CalculatorImpl(), []);
      const error = errorOf(table, name, 'add');
      assert.equal(error.code, Code.NOT_FOUND);
      assert.ok(error.message.includes(JSON.stringify(name)), error.message);
    });
  }

  it('answers NOT_FOUND for another version, naming the asked id and the ids provided', () => {
    const table = new CallTable();
    const CalculatorV2 = defineService<Calculator>('demo.Calculator', { version: '2.0.0', group: 'blue', methods: { add: {}, divide: {} } });
    table.provide(CalculatorV1, new CalculatorImpl(), []);
    table.provide(CalculatorV2, new CalculatorImpl(), []);
    const error = errorOf(table, 'demo.Calculator:3.0.0', 'add');
    assert.equal(error.code, Code.NOT_FOUND);
    assert.ok(error.message.includes('demo.Calculator:3.0.0'), error.message);
    assert.ok(error.message.includes('demo.Calculator:1.0.0'), error.message);
    assert.ok(error.message.includes('blue/demo.Calculator:2.0.0'), error.message);
  });

  it('answers NOT_FOUND without a hint for a service name it has never heard of', () => {
    const table = new CallTable();
    table.provide(CalculatorV1, new CalculatorImpl(), []);
    const error = errorOf(table, 'demo.Other:1.0.0', 'add');
    assert.equal(error.code, Code.NOT_FOUND);
    assert.ok(error.message.includes('demo.Other:1.0.0'));
    assert.ok(!error.message.includes('demo.Calculator'), error.message);
  });

  it('answers INVALID_ARGUMENT when the request names no service or no method', () => {
    const table = new CallTable();
    table.provide(CalculatorV1, new CalculatorImpl(), []);
    assert.equal(errorOf(table, undefined, 'add').code, Code.INVALID_ARGUMENT);
    assert.equal(errorOf(table, CalculatorV1.id, undefined).code, Code.INVALID_ARGUMENT);
  });
});

describe('CallTable provide', () => {
  it('refuses an implementation that lacks a declared method, naming it', () => {
    const table = new CallTable();
    const partial = { add: async (a: number, b: number) => a + b } as unknown as Calculator;
    assert.throws(() => table.provide(CalculatorV1, partial, []), (error: unknown) => {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, Code.INVALID_ARGUMENT);
      assert.match(error.message, /divide/);
      return true;
    });
    assert.deepEqual(table.serviceIds, [], 'nothing was entered');
  });

  it('refuses a declared method that is not a function on the implementation', () => {
    const table = new CallTable();
    const wrong = { add: async () => 0, divide: 42 } as unknown as Calculator;
    assert.throws(() => table.provide(CalculatorV1, wrong, []), /lacks method divide/);
  });

  it('refuses to provide the same service id twice', () => {
    const table = new CallTable();
    table.provide(CalculatorV1, new CalculatorImpl(), []);
    assert.throws(() => table.provide(CalculatorV1, new CalculatorImpl(), []), (error: unknown) => {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, Code.FAILED_PRECONDITION);
      return true;
    });
  });

  it('calls implementation methods with the implementation as this', async () => {
    const table = new CallTable();
    const impl = {
      offset: 100,
      async add(this: { offset: number }, a: number, b: number) {
        return this.offset + a + b;
      },
      async divide() {
        return 0;
      },
    };
    table.provide(CalculatorV1, impl, []);
    assert.equal(await invoke(table, CalculatorV1, 'add', [1, 2]), 103);
  });

  it('makes the call current while the implementation starts', async () => {
    const table = new CallTable();
    let seen: unknown;
    table.provide(CalculatorV1, {
      async add(a: number, b: number) {
        seen = currentCall();
        return a + b;
      },
      async divide() {
        return 0;
      },
    }, []);
    const entry = entryOf(table, CalculatorV1.id, 'add');
    const call = callOf(entry, [1, 1]);
    await entry.handler(call);
    assert.equal(seen, call);
    assert.throws(() => currentCall(), /only available inside a handler/);
  });
});

describe('CallTable validation', () => {
  it('turns an Error thrown by validate into INVALID_ARGUMENT and does not run the method', async () => {
    const table = new CallTable();
    let ran = false;
    table.provide(CalculatorV1, { add: async () => 0, divide: async (a: number, b: number) => { ran = true; return a / b; } }, []);
    await assert.rejects(invoke(table, CalculatorV1, 'divide', [1, 0]), (error: unknown) => {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, Code.INVALID_ARGUMENT);
      assert.match(error.message, /divisor must not be 0/);
      assert.match(error.message, /demo\.Calculator:1\.0\.0\.divide/);
      return true;
    });
    assert.equal(ran, false);
    assert.equal(await invoke(table, CalculatorV1, 'divide', [6, 3]), 2, 'valid arguments pass');
    assert.equal(ran, true);
  });

  it('lets an RpcError thrown by validate through with its own code', async () => {
    const Strict = defineService<Calculator>('demo.Strict', {
      methods: {
        add: { validate: () => { throw new RpcError(Code.PERMISSION_DENIED, 'no adding today'); } },
        divide: {},
      },
    });
    const table = new CallTable();
    table.provide(Strict, new CalculatorImpl(), []);
    await assert.rejects(invoke(table, Strict, 'add', [1, 2]), { code: Code.PERMISSION_DENIED, message: 'no adding today' });
  });

  it('hands a validation failure to interceptors as a rejected promise', async () => {
    const seen: unknown[] = [];
    const observe: Interceptor = (next) => (call) => next(call).catch((error: unknown) => {
      seen.push(error);
      throw error;
    });
    const table = new CallTable();
    table.provide(CalculatorV1, new CalculatorImpl(), [observe]);
    const entry = entryOf(table, CalculatorV1.id, 'divide');
    await assert.rejects(async () => entry.handler(callOf(entry, [1, 0])), { code: Code.INVALID_ARGUMENT });
    assert.equal(seen.length, 1, 'the interceptor saw the failure');
  });

  it('hands a synchronous throw of a non-async method to interceptors as a rejected promise', async () => {
    const seen: unknown[] = [];
    const observe: Interceptor = (next) => (call) => next(call).catch((error: unknown) => {
      seen.push(error);
      throw error;
    });
    const table = new CallTable();
    const impl = {
      add: (): Promise<number> => {
        throw new Error('sync failure');
      },
      divide: async () => 0,
    };
    table.provide(CalculatorV1, impl, [observe]);
    const entry = entryOf(table, CalculatorV1.id, 'add');
    await assert.rejects(async () => entry.handler(callOf(entry, [1, 2])), /sync failure/);
    assert.equal(seen.length, 1, 'the interceptor saw the failure');
  });
});

describe('CallTable interceptors', () => {
  it('composes interceptors in order, the first outermost, around the implementation', async () => {
    const order: string[] = [];
    const tag = (name: string): Interceptor => (next) => async (call) => {
      order.push(`${name}>`);
      call.args = [...call.args, name];
      const result = await next(call);
      order.push(`<${name}`);
      return `${name}(${String(result)})`;
    };
    const table = new CallTable();
    table.provide(CalculatorV1, {
      async add(...args: unknown[]) {
        order.push(`impl ${args.join(',')}`);
        return 'r';
      },
      async divide() {
        return 0;
      },
    } as unknown as Calculator, [tag('a'), tag('b'), tag('c')]);
    const result = await invoke(table, CalculatorV1, 'add', [1]);
    assert.equal(result, 'a(b(c(r)))');
    assert.deepEqual(order, ['a>', 'b>', 'c>', 'impl 1,a,b,c', '<c', '<b', '<a']);
  });

  it('lets an interceptor answer without running the implementation', async () => {
    let ran = false;
    const deny: Interceptor = () => async (call) => {
      throw new RpcError(Code.PERMISSION_DENIED, `${call.method} denied`);
    };
    const table = new CallTable();
    table.provide(CalculatorV1, { add: async () => { ran = true; return 0; }, divide: async () => 0 }, [deny]);
    await assert.rejects(invoke(table, CalculatorV1, 'add', [1, 2]), { code: Code.PERMISSION_DENIED, message: 'add denied' });
    assert.equal(ran, false);
  });

  it('gives the interceptors the method entry\'s service and method', async () => {
    const seen: string[] = [];
    const record: Interceptor = (next) => (call) => {
      seen.push(`${call.service.id}.${call.method}`);
      return next(call);
    };
    const table = new CallTable();
    table.provide(CalculatorV1, new CalculatorImpl(), [record]);
    await invoke(table, CalculatorV1, 'add', [1, 2]);
    await invoke(table, CalculatorV1, 'divide', [4, 2]);
    assert.deepEqual(seen, ['demo.Calculator:1.0.0.add', 'demo.Calculator:1.0.0.divide']);
  });
});
