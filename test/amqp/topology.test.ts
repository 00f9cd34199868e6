import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Code } from '../../src/index.js';
import { parseAmqpAddress } from '../../src/transport/amqp/options.js';
import { queueArguments, routeOf, topologyOf } from '../../src/transport/amqp/topology.js';

test('an amqp:// address keeps credentials and broker options for amqplib, and reads Switchyard\'s own', () => {
  const address = parseAmqpAddress('amqp://app:s3cret@rabbit.local:5673/prod?exchange=myapp&server=host-1&prefetch=16&maxQueueLength=1000&heartbeat=30&frameMax=8192', 5);
  assert.equal(address.brokerUrl, 'amqp://app:s3cret@rabbit.local:5673/prod?heartbeat=30&frameMax=8192');
  assert.equal(address.display, 'amqp://rabbit.local:5673/prod?exchange=myapp&server=host-1');
  assert.deepEqual([address.exchange, address.server, address.prefetch, address.maxQueueLength, address.queueExpiresMs], ['myapp', 'host-1', 16, 1000, 1_800_000]);
});

test('defaults: exchange switchyard, server <hostname>-<pid>, prefetch 64, no length limit, heartbeat from the client settings', () => {
  const address = parseAmqpAddress('amqp://127.0.0.1', 5);
  assert.equal(address.exchange, 'switchyard');
  assert.match(address.server, new RegExp(`-${process.pid}$`));
  assert.equal(address.prefetch, 64);
  assert.equal(address.maxQueueLength, undefined);
  assert.equal(address.brokerUrl, 'amqp://127.0.0.1?heartbeat=5');
});

test('bad options are refused with INVALID_ARGUMENT naming the problem', () => {
  const refused = (url: string, message: RegExp) => assert.throws(() => parseAmqpAddress(url, 5), { code: Code.INVALID_ARGUMENT, message });
  refused('amqp://h/?prefetch=-1', /prefetch must be an integer from 1 to 65535/);
  refused('amqp://h/?prefetch=1e3', /prefetch must be an integer/);
  refused('amqp://h/?maxQueueLength=0', /maxQueueLength must be an integer/);
  refused('amqp://h/?exchange=amq.topic', /invalid exchange name/);
  refused('amqp://h/?server=a*b', /invalid server name/);
  refused('amqp://h/?exchnage=x', /unknown option "exchnage"/);
  refused('http://h/', /not an amqp:\/\/ address/);
  refused('amqp://u:p@h/?typo=1', /^(?!.*:p@)/);
});

test('names follow oslo.messaging\'s layout under the application exchange', () => {
  const names = topologyOf({ exchange: 'myapp', server: 'host-1' }, 'blue/demo.Calculator:1.0.0');
  assert.deepEqual(names, {
    topic: 'blue/demo.Calculator:1.0.0',
    sharedQueue: 'myapp.blue/demo.Calculator:1.0.0',
    serverQueue: 'myapp.blue/demo.Calculator:1.0.0.host-1',
    serverKey: 'blue/demo.Calculator:1.0.0.host-1',
    fanoutExchange: 'myapp.blue/demo.Calculator:1.0.0_fanout',
  });
  assert.deepEqual(routeOf('myapp', 'demo.Calc', undefined, false), { exchange: 'myapp', routingKey: 'demo.Calc' });
  assert.deepEqual(routeOf('myapp', 'demo.Calc', 'host-1', false), { exchange: 'myapp', routingKey: 'demo.Calc.host-1' });
  assert.deepEqual(routeOf('myapp', 'demo.Calc', undefined, true), { exchange: 'myapp.demo.Calc_fanout', routingKey: '' });
  assert.throws(() => topologyOf({ exchange: 'e', server: 's' }, 'demo.Calc:1.*'), { code: Code.INVALID_ARGUMENT });
});

test('service queues expire when unused, dead-letter to the dead-letter exchange and, with a length limit, refuse publishes on overflow', () => {
  assert.deepEqual(queueArguments({ maxQueueLength: undefined, queueExpiresMs: 60_000, deadLetterExchange: undefined }), { 'x-expires': 60_000 });
  assert.deepEqual(queueArguments({ maxQueueLength: 10, queueExpiresMs: 60_000, deadLetterExchange: 'e.dead-letter' }), {
    'x-expires': 60_000, 'x-max-length': 10, 'x-overflow': 'reject-publish', 'x-dead-letter-exchange': 'e.dead-letter',
  });
});

test('the dead-letter exchange is <exchange>.dead-letter unless named, and none when the option is empty', () => {
  assert.equal(parseAmqpAddress('amqp://h/?exchange=shop', 5).deadLetterExchange, 'shop.dead-letter');
  assert.equal(parseAmqpAddress('amqp://h/?exchange=shop&deadLetterExchange=shop.graveyard', 5).deadLetterExchange, 'shop.graveyard');
  assert.equal(parseAmqpAddress('amqp://h/?exchange=shop&deadLetterExchange=', 5).deadLetterExchange, undefined);
  assert.throws(() => parseAmqpAddress('amqp://h/?deadLetterExchange=amq.fanout', 5), { code: Code.INVALID_ARGUMENT, message: /invalid dead-letter exchange/ });
  assert.throws(() => parseAmqpAddress('amqp://h/?deadLetterExchange=a%23b', 5), { code: Code.INVALID_ARGUMENT, message: /invalid dead-letter exchange/ });
});

test('amqplib is loaded only when an amqp:// address is used', () => {
  const index = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
  const script = `
    import { createRequire } from 'node:module';
    const { createServer } = await import(${JSON.stringify(index)});
    const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false });
    await server.listen();
    await server.close();
    const loaded = Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('/amqplib/'));
    process.stdout.write(String(loaded));`;
  const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(output, 'false');
});
