/**
 * Switchyard's stream service over RabbitMQ, for `npm run bench:stream-memory -- --transport amqp`:
 * amqp:// carries no streams, so this shows how the refusal reads. The broker is the one
 * bench/systems/amqp.ts uses; one fresh exchange per run, deleted afterwards.
 */
import { randomBytes } from 'node:crypto';
import amqplib from 'amqplib';
import { ensureRabbitMQ } from '../../test/support/rabbitmq.js';
import { BROKER } from '../systems/amqp.js';
import { StreamBenchService, switchyardStreamsOver } from './switchyard.js';
import type { StreamSystem } from './systems.js';

export const amqpStreams: StreamSystem = {
  async serve(side) {
    if (process.env.SWITCHYARD_BENCH_AMQP === undefined) await ensureRabbitMQ();
    const exchange = `bench-streams-${randomBytes(4).toString('hex')}`;
    const server = await switchyardStreamsOver(`${BROKER}/?exchange=${exchange}&server=bench`).serve(side);
    return {
      address: server.address,
      async close() {
        await server.close();
        // What the drain left: the exchanges (queues go with the last server when empty).
        const connection = await amqplib.connect(BROKER);
        const channel = await connection.createChannel();
        await channel.deleteExchange(`${exchange}.${StreamBenchService.id}_fanout`);
        await channel.deleteExchange(exchange);
        await connection.close();
      },
    };
  },
  connect: (address) => switchyardStreamsOver(address).connect(address),
};
