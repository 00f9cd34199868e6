/**
 * Switchyard over RabbitMQ: `createServer` / `createClient` with an `amqp://` address (default
 * options: msgpack, publisher confirms, mandatory flag, prefetch 64), one fresh exchange per run.
 * The broker is the machine's (127.0.0.1:5672, guest/guest; started if installed but not running, as the
 * tests do) unless `SWITCHYARD_BENCH_AMQP` names another.
 */
import { randomBytes } from 'node:crypto';
import amqplib from 'amqplib';
import { createServer } from '../../src/index.js';
import { ensureRabbitMQ } from '../../test/support/rabbitmq.js';
import type { System } from './index.js';
import { BenchService, connectBench, provideBench } from './switchyard.js';

export const BROKER = process.env.SWITCHYARD_BENCH_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672';

export const amqp: System = {
  async serve(handlers) {
    if (process.env.SWITCHYARD_BENCH_AMQP === undefined) await ensureRabbitMQ();
    const exchange = `bench-${randomBytes(4).toString('hex')}`;
    const address = `${BROKER}/?exchange=${exchange}&server=bench`;
    const server = createServer({ listen: [address], registry: false });
    provideBench(server, handlers);
    await server.listen();
    return {
      address,
      async close() {
        await server.close({ timeoutMs: 1000 });
        // What the drain left: the exchanges (queues go with the last server when empty).
        const connection = await amqplib.connect(BROKER);
        const channel = await connection.createChannel();
        await channel.deleteExchange(`${exchange}.${BenchService.id}_fanout`);
        await channel.deleteExchange(exchange);
        await connection.close();
      },
    };
  },

  connect: connectBench,
};
