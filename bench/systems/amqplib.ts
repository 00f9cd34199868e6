/**
 * Baseline for the AMQP row: plain `amqplib` RPC as RabbitMQ's tutorial writes it, with direct
 * reply-to. The server consumes one queue (prefetch 64, the same as Switchyard's default), answers
 * with `sendToQueue(replyTo)` and acks; the client publishes to that queue through the default
 * exchange with `type` = method, `correlation_id` and `reply_to: amq.rabbitmq.reply-to`, and matches
 * replies by correlation id. `add` carries JSON `[a, b]`, `echo` raw bytes. No publisher confirms,
 * no mandatory flag, no deadlines, no metadata. Like Switchyard it sets `noDelay` on its socket
 * (amqplib leaves Nagle on by default, which holds small frames back by up to 40 ms).
 */
import { randomBytes } from 'node:crypto';
import amqplib, { type ConsumeMessage } from 'amqplib';
import { BROKER } from './amqp.js';
import { ensureRabbitMQ } from '../../test/support/rabbitmq.js';
import type { System } from './index.js';

const REPLY_TO = 'amq.rabbitmq.reply-to';

export const amqplibBaseline: System = {
  async serve(handlers) {
    if (process.env.SWITCHYARD_BENCH_AMQP === undefined) await ensureRabbitMQ();
    const queue = `bench-baseline-${randomBytes(4).toString('hex')}`;
    const connection = await amqplib.connect(BROKER, { noDelay: true });
    const channel = await connection.createChannel();
    await channel.prefetch(64);
    await channel.assertQueue(queue, { exclusive: true, autoDelete: true });
    await channel.consume(queue, (message) => {
      if (message === null) return;
      const { type, replyTo, correlationId } = message.properties;
      let reply: Buffer;
      if (type === 'add') {
        const [a, b] = JSON.parse(message.content.toString('utf8')) as [number, number];
        reply = Buffer.from(JSON.stringify(handlers.add(a, b)));
      } else {
        const echoed = handlers.echo(message.content);
        reply = Buffer.from(echoed.buffer, echoed.byteOffset, echoed.byteLength);
      }
      channel.sendToQueue(replyTo, reply, { correlationId });
      channel.ack(message);
    });
    return { address: queue, close: () => connection.close() };
  },

  async connect(queue) {
    const connection = await amqplib.connect(BROKER, { noDelay: true });
    const channel = await connection.createChannel();
    const pending = new Map<string, (reply: Buffer) => void>();
    let nextId = 1;
    await channel.consume(REPLY_TO, (message: ConsumeMessage | null) => {
      if (message === null) return;
      const id = message.properties.correlationId as string;
      const resolve = pending.get(id);
      pending.delete(id);
      resolve?.(message.content);
    }, { noAck: true });
    const call = (type: string, body: Buffer): Promise<Buffer> => new Promise((resolve) => {
      const correlationId = String(nextId++);
      pending.set(correlationId, resolve);
      channel.sendToQueue(queue, body, { type, correlationId, replyTo: REPLY_TO });
    });
    return {
      add: async (a, b) => JSON.parse((await call('add', Buffer.from(JSON.stringify([a, b])))).toString('utf8')) as number,
      echo: (data) => call('echo', Buffer.from(data.buffer, data.byteOffset, data.byteLength)),
      close: () => connection.close(),
    };
  },
};
