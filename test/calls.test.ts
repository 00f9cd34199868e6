import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, defineService, type ServiceDefinition } from '../src/index.js';
import { CalculatorService, calculatorImpl, startClient, startServer, type Calculator } from './support/calculator.js';
import { hasCode } from './support/assertions.js';


test('typed proxy methods return the results the server computed', async (t) => {
  const { address, log } = await startServer(t);
  const { calc } = startClient(t, address);
  assert.equal(await calc.add(2, 3), 5);
  assert.equal(await calc.divide(7, 2), 3.5);
  assert.deepEqual(log.calls.map((c) => [c.method, c.args]), [['add', [2, 3]], ['divide', [7, 2]]]);
});

test('concurrent calls on one connection each get their own answer', async (t) => {
  const { address } = await startServer(t);
  const { calc } = startClient(t, address);
  const inputs = Array.from({ length: 200 }, (_, i) => i);
  const results = await Promise.all(inputs.map((i) => (i % 2 === 0 ? calc.add(i, 1000) : calc.divide(i, 2))));
  assert.deepEqual(results, inputs.map((i) => (i % 2 === 0 ? i + 1000 : i / 2)));
});

test('client.invoke calls a method by name', async (t) => {
  const { address } = await startServer(t);
  const { client } = startClient(t, address);
  assert.equal(await client.invoke(CalculatorService, 'add', [20, 22]), 42);
  assert.equal(await client.invoke(CalculatorService, 'divide', [9, 3], { timeoutMs: 1000 }), 3);
});

test('a proxy exposes only the declared methods', async (t) => {
  const { address } = await startServer(t);
  const { calc } = startClient(t, address);
  assert.deepEqual(Object.keys(calc).sort(), ['add', 'divide', 'echo', 'fail', 'notify', 'slow']);
  const loose = calc as unknown as Record<string, unknown>;
  for (const name of ['then', 'toString', 'valueOf', 'constructor', 'hasOwnProperty', 'secret', '__proto__']) {
    assert.equal(loose[name], undefined, `proxy.${name} should be undefined`);
  }
  assert.ok(!('then' in calc), 'a proxy is not thenable');
  assert.equal(await Promise.resolve(calc), calc, 'awaiting a proxy yields the proxy, not a remote call');
  assert.ok(Object.isFrozen(calc));
  assert.equal(calc.add.name, 'add');
});

test('invoking an undeclared method fails with UNIMPLEMENTED without reaching the server', async (t) => {
  const { address, log } = await startServer(t);
  const { client } = startClient(t, address);
  await assert.rejects(client.invoke(CalculatorService, 'multiply', [2, 3]), hasCode(Code.UNIMPLEMENTED, /multiply/));
  await assert.rejects(client.invoke(CalculatorService, 'toString', []), hasCode(Code.UNIMPLEMENTED));
  assert.equal(log.calls.length, 0);
});

interface CalculatorWithSecret extends Calculator {
  secret(): Promise<string>;
}

test('the server answers UNIMPLEMENTED for a method its definition does not declare, even if the implementation has it', async (t) => {
  let secretRan = false;
  const { address } = await startServer(t, {
    implementation: (log) => ({
      ...calculatorImpl(log),
      async secret() {
        secretRan = true;
        return 'leaked';
      },
    }),
  });
  const { client } = startClient(t, address);
  // Same name and version as the provided service, but declaring one more method.
  const Wider = defineService<CalculatorWithSecret>('demo.Calculator', {
    version: '1.0.0',
    methods: { add: {}, divide: {}, slow: {}, echo: {}, notify: {}, fail: {}, secret: {} },
  });
  await assert.rejects(client.proxy(Wider).secret(), hasCode(Code.UNIMPLEMENTED, /secret/));
  assert.equal(secretRan, false, 'the undeclared implementation method must never run');
  assert.equal(await client.proxy(Wider).add(1, 1), 2, 'declared methods still work through the wider definition');
});

test('method names every object answers to are refused by the server when sent raw', async (t) => {
  const { address, log } = await startServer(t);
  const { client } = startClient(t, address);
  const names = ['constructor', 'hasOwnProperty', '__proto__', 'toString', 'valueOf', '__defineGetter__', 'then'];
  for (const name of names) {
    assert.throws(() => defineService('demo.Calculator', { version: '1.0.0', methods: { [name]: {} } }), hasCode(Code.INVALID_ARGUMENT));
  }
  // defineService refuses these names, so build the definition by hand to put them on the wire.
  const raw: ServiceDefinition = {
    key: CalculatorService.key,
    id: CalculatorService.id,
    methods: new Map(names.map((name) => [name, {}])),
  };
  for (const name of names) {
    await assert.rejects(client.invoke(raw, name, []), hasCode(Code.UNIMPLEMENTED), `method ${name}`);
  }
  assert.equal(log.calls.length, 0);
  const { calc } = startClient(t, address);
  assert.equal(await calc.add(1, 2), 3, 'the server keeps serving afterwards');
});

test('a version the server does not provide fails with NOT_FOUND naming that version', async (t) => {
  const { address, log } = await startServer(t);
  const { client } = startClient(t, address);
  const V2 = defineService<Calculator>('demo.Calculator', {
    version: '2.0.0',
    methods: { add: {}, divide: {}, slow: {}, echo: {}, notify: {}, fail: {} },
  });
  await assert.rejects(client.proxy(V2).add(1, 2), hasCode(Code.NOT_FOUND, /2\.0\.0/));
  assert.equal(log.calls.length, 0);
});

test('a service name the server does not provide fails with NOT_FOUND naming that service', async (t) => {
  const { address, log } = await startServer(t);
  const { client } = startClient(t, address);
  const Other = defineService<Pick<Calculator, 'add'>>('demo.Abacus', { version: '1.0.0', methods: { add: {} } });
  await assert.rejects(client.proxy(Other).add(1, 2), hasCode(Code.NOT_FOUND, /demo\.Abacus/));
  const Grouped = defineService<Pick<Calculator, 'add'>>('demo.Calculator', { version: '1.0.0', group: 'blue', methods: { add: {} } });
  await assert.rejects(client.proxy(Grouped).add(1, 2), hasCode(Code.NOT_FOUND, /blue/));
  assert.equal(log.calls.length, 0);
});
