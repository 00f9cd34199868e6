import { randomBytes } from 'node:crypto';
import type { Channel as AmqpChannel } from 'amqplib';
import { Code } from '../../core/code.js';
import { RpcError } from '../../core/rpc-error.js';
import type { AmqpAddress } from './options.js';

/**
 * Names of the exchanges and queues, in oslo.messaging's layout, all derived from the
 * application's exchange `E` and a service's topic (its id, `group/name:version`):
 *
 * | what | name | type / binding |
 * | --- | --- | --- |
 * | routing exchange | `E` | topic |
 * | shared queue (any server) | `E.<topic>` | bound to `E` with `<topic>` |
 * | server queue (one server) | `E.<topic>.<server>` | bound to `E` with `<topic>.<server>` |
 * | broadcast exchange | `E.<topic>_fanout` | fanout |
 * | broadcast queue (per server process) | `E.<topic>_fanout_<server>_<random>` | exclusive, bound to the fanout exchange |
 * | dead-letter exchange (option) | `E.dead-letter` | fanout; the service queues' `x-dead-letter-exchange` |
 */
export interface Topology {
  readonly topic: string;
  readonly sharedQueue: string;
  readonly serverQueue: string;
  readonly serverKey: string;
  readonly fanoutExchange: string;
}

/** The topic of a service: its id. Dots in it separate words for `*` and `#` bindings. */
export function topicOf(serviceId: string): string {
  if (/[*#]/.test(serviceId)) {
    throw new RpcError(Code.INVALID_ARGUMENT, `service id ${JSON.stringify(serviceId)} cannot be an AMQP topic: it contains * or #`);
  }
  return serviceId;
}

export function topologyOf(address: Pick<AmqpAddress, 'exchange' | 'server'>, serviceId: string): Topology {
  const topic = topicOf(serviceId);
  const e = address.exchange;
  return {
    topic,
    sharedQueue: `${e}.${topic}`,
    serverQueue: `${e}.${topic}.${address.server}`,
    serverKey: `${topic}.${address.server}`,
    fanoutExchange: fanoutExchangeOf(e, topic),
  };
}

export function fanoutExchangeOf(exchange: string, topic: string): string {
  return `${exchange}.${topic}_fanout`;
}

/** Where a request goes: the routing exchange with `topic` or `topic.server`, or the topic's fanout exchange. */
export function routeOf(exchange: string, topic: string, targetServer: string | undefined, fanout: boolean): { exchange: string; routingKey: string } {
  if (fanout) return { exchange: fanoutExchangeOf(exchange, topic), routingKey: '' };
  return { exchange, routingKey: targetServer === undefined ? topic : `${topic}.${targetServer}` };
}

/** Arguments of service queues; every server of an application must declare them alike. */
export function queueArguments(address: Pick<AmqpAddress, 'maxQueueLength' | 'queueExpiresMs' | 'deadLetterExchange'>): Record<string, unknown> {
  const args: Record<string, unknown> = { 'x-expires': address.queueExpiresMs };
  if (address.maxQueueLength !== undefined) {
    args['x-max-length'] = address.maxQueueLength;
    args['x-overflow'] = 'reject-publish';
  }
  if (address.deadLetterExchange !== undefined) args['x-dead-letter-exchange'] = address.deadLetterExchange;
  return args;
}

/** Exchanges are transient and never auto-deleted, so a publisher never meets a vanished one. */
export const EXCHANGE_OPTIONS = { durable: false, autoDelete: false } as const;

export async function declareExchange(channel: AmqpChannel, exchange: string): Promise<void> {
  await channel.assertExchange(exchange, 'topic', EXCHANGE_OPTIONS);
}

export async function declareFanoutExchange(channel: AmqpChannel, exchange: string): Promise<void> {
  await channel.assertExchange(exchange, 'fanout', EXCHANGE_OPTIONS);
}

/** The application's exchanges a server needs before its queues: a request dead-lettered to a missing exchange is lost. */
export async function declareServerExchanges(channel: AmqpChannel, address: AmqpAddress): Promise<void> {
  await declareExchange(channel, address.exchange);
  if (address.deadLetterExchange !== undefined) await declareFanoutExchange(channel, address.deadLetterExchange);
}

/**
 * Declares and binds a server's three queues for one service; resolves with their names. Service
 * queues outlive their consumers for `queueExpiresMs`, so a reconnecting or restarting server finds
 * its requests still there; the broadcast queue lives only as long as this connection.
 */
export async function declareServiceQueues(channel: AmqpChannel, address: AmqpAddress, topology: Topology): Promise<{ shared: string; server: string; fanout: string }> {
  const args = queueArguments(address);
  await channel.assertQueue(topology.sharedQueue, { durable: false, autoDelete: false, arguments: args });
  await channel.bindQueue(topology.sharedQueue, address.exchange, topology.topic);
  await channel.assertQueue(topology.serverQueue, { durable: false, autoDelete: false, arguments: args });
  await channel.bindQueue(topology.serverQueue, address.exchange, topology.serverKey);
  await declareFanoutExchange(channel, topology.fanoutExchange);
  const fanout = `${topology.fanoutExchange}_${address.server}_${randomBytes(4).toString('hex')}`;
  await channel.assertQueue(fanout, { exclusive: true, autoDelete: true, durable: false });
  await channel.bindQueue(fanout, topology.fanoutExchange, '');
  return { shared: topology.sharedQueue, server: topology.serverQueue, fanout };
}
