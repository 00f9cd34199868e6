// SwitchyardTransport in a real Nest microservice in this process. The controllers here take
// Nest's decorators by calling them, the way compiled decorators do, so this file needs no
// decorator syntax (nest.test.ts runs applications written with it).
import assert from 'node:assert/strict';
import test from 'node:test';
import { Controller } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, MessagePattern, type MicroserviceOptions } from '@nestjs/microservices';
import { from, map, of } from 'rxjs';
import { Code, RpcError, createClient, currentCall, defineService } from '../../src/index.js';
import { SwitchyardExceptionFilter, SwitchyardMethod, SwitchyardTransport, switchyardPattern } from '../../src/nestjs/index.js';

interface Echo {
  echo(text: string): Promise<string>;
  shout(text: string): Promise<string>;
}
const EchoService = defineService<Echo>('nest.Echo', { version: '2.0.0', methods: { echo: {}, shout: {} } });

/** A controller class with `handlers` as methods, each declared with `decorators` called on it. */
function controller(handlers: Record<string, { decorator: MethodDecorator; run: (...args: never[]) => unknown }>): new () => object {
  class TestController {}
  for (const [name, { decorator, run }] of Object.entries(handlers)) {
    Object.defineProperty(TestController.prototype, name, { value: run, writable: true, configurable: true });
    decorator(TestController.prototype, name, Object.getOwnPropertyDescriptor(TestController.prototype, name)!);
  }
  Controller()(TestController);
  return TestController;
}

async function microservice(controllers: Array<new () => object>, transport: SwitchyardTransport) {
  class TestModule {}
  const app = await NestFactory.createMicroservice<MicroserviceOptions>({ module: TestModule, controllers }, { strategy: transport, logger: false });
  app.useGlobalFilters(new SwitchyardExceptionFilter({ logUnexpected: false }));
  return app;
}

test('a Nest microservice serves a service from its handlers, an Observable answering with its last value', async (t) => {
  const transport = new SwitchyardTransport({ listen: ['tcp://127.0.0.1:0'], registry: false, services: [EchoService] });
  const app = await microservice([controller({
    echo: { decorator: SwitchyardMethod(EchoService, 'echo'), run: ([text]: [string]) => text },
    shout: { decorator: SwitchyardMethod(EchoService, 'shout'), run: ([text]: [string]) => of(text, `${text.toUpperCase()}!`) },
  })], transport);
  t.after(() => app.close());
  const addresses = (await app.listen()) as string[];
  assert.deepEqual(addresses, transport.addresses);
  assert.ok(transport.unwrap<{ addresses: readonly string[] }>().addresses.length === 1);

  const client = createClient({ url: addresses[0]! });
  t.after(() => client.close());
  const echo = client.proxy(EchoService);
  assert.equal(await echo.echo('hi'), 'hi');
  assert.equal(await echo.shout('hey'), 'HEY!');
});

test('listen fails, naming them, when methods of a served service have no handler', async (t) => {
  const transport = new SwitchyardTransport({ listen: ['tcp://127.0.0.1:0'], registry: false, services: [EchoService] });
  const app = await microservice([controller({ echo: { decorator: SwitchyardMethod(EchoService, 'echo'), run: () => 'x' } })], transport);
  t.after(() => app.close());
  await assert.rejects(app.listen(), (error: unknown) =>
    error instanceof RpcError && error.code === Code.FAILED_PRECONDITION && /nest\.Echo:2\.0\.0 shout/.test(error.message));
});

test('listen refuses a handler for a method the service does not declare', async (t) => {
  const transport = new SwitchyardTransport({ listen: ['tcp://127.0.0.1:0'], registry: false, services: [EchoService] });
  const app = await microservice([controller({
    echo: { decorator: SwitchyardMethod(EchoService, 'echo'), run: () => 'x' },
    shout: { decorator: SwitchyardMethod(EchoService, 'shout'), run: () => 'x' },
    whisper: { decorator: MessagePattern({ service: 'nest.Echo', method: 'whisper' }), run: () => 'x' },
  })], transport);
  t.after(() => app.close());
  await assert.rejects(app.listen(), (error: unknown) => error instanceof RpcError && /nest\.Echo whisper/.test(error.message));
});

test('a pattern can only name a method its definition declares', () => {
  assert.deepEqual(switchyardPattern(EchoService, 'echo'), { service: 'nest.Echo:2.0.0', method: 'echo' });
  assert.throws(() => switchyardPattern(EchoService, 'whisper' as 'echo'), (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT);
  assert.throws(() => new SwitchyardTransport({ listen: ['tcp://127.0.0.1:0'], services: [] }), RpcError);
});

test('close() drains the Switchyard server once, however often Nest calls it', async () => {
  const transport = new SwitchyardTransport({ listen: ['tcp://127.0.0.1:0'], registry: false, services: [EchoService] });
  const app = await microservice([controller({
    echo: { decorator: SwitchyardMethod(EchoService, 'echo'), run: () => 'x' },
    shout: { decorator: SwitchyardMethod(EchoService, 'shout'), run: () => 'x' },
  })], transport);
  const statuses: string[] = [];
  const watching = transport.status.subscribe((status) => statuses.push(status));
  await app.listen();
  await Promise.all([transport.close(), app.close()]);
  watching.unsubscribe();
  assert.deepEqual(statuses, ['listening', 'draining', 'closed']);
  const client = createClient({ url: transport.addresses[0]!, waitForProvidersMs: 100, connectTimeoutMs: 500 });
  await assert.rejects(client.proxy(EchoService).echo('x'), (error: unknown) => error instanceof RpcError && error.code === Code.UNAVAILABLE);
  await client.close();
});

interface Extras {
  total(numbers: AsyncIterable<number>): Promise<number>;
  shout(words: AsyncIterable<string>): AsyncIterable<string>;
  caller(): Promise<string | null>;
  notify(value: number): Promise<void>;
  notified(): Promise<number[]>;
}
const ExtrasService = defineService<Extras>('nest.Extras', {
  methods: { total: { stream: 'client' }, shout: { stream: 'bidi' }, caller: {}, notify: { oneWay: true }, notified: {} },
});

test('request streams arrive as the payload’s one AsyncIterable; one-way methods may be event handlers; currentCall() works with asyncContext', async (t) => {
  const notified: number[] = [];
  const transport = new SwitchyardTransport({ listen: ['tcp://127.0.0.1:0'], registry: false, asyncContext: true, services: [ExtrasService] });
  const app = await microservice([controller({
    total: {
      decorator: SwitchyardMethod(ExtrasService, 'total'),
      run: async ([numbers]: [AsyncIterable<number>]) => {
        let sum = 0;
        for await (const value of numbers) sum += value;
        return sum;
      },
    },
    shout: { decorator: SwitchyardMethod(ExtrasService, 'shout'), run: ([words]: [AsyncIterable<string>]) => from(words).pipe(map((word) => word.toUpperCase())) },
    // Nest awaits before it calls a handler: the call is current there only with asyncContext.
    caller: { decorator: SwitchyardMethod(ExtrasService, 'caller'), run: () => currentCall().metadata.get('caller') ?? null },
    notify: { decorator: EventPattern(switchyardPattern(ExtrasService, 'notify')), run: ([value]: [number]) => void notified.push(value) },
    notified: { decorator: SwitchyardMethod(ExtrasService, 'notified'), run: () => notified },
  })], transport);
  t.after(() => app.close());
  const [address] = (await app.listen()) as string[];
  const client = createClient({ url: address! });
  t.after(() => client.close());
  const extras = client.proxy(ExtrasService);

  assert.equal(await extras.total([1, 2, 3, 4]), 10);
  const shouted: string[] = [];
  for await (const word of extras.shout(['a', 'b'])) shouted.push(word);
  assert.deepEqual(shouted, ['A', 'B']);
  assert.equal(await extras.caller.with({ metadata: { caller: 'billing' } })(), 'billing');
  await extras.notify(5);
  let seen = await extras.notified();
  for (let attempt = 0; attempt < 100 && seen.length === 0; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    seen = await extras.notified();
  }
  assert.deepEqual(seen, [5]);
});
