import type { Channel as BrokerChannel, ChannelModel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import type { Logger } from '../../core/logger.js';
import { errorMessage } from '../../core/rpc-error.js';
import type { ServerCall } from '../../core/server-call.js';
import { ConnectionRecord, peerAddress } from '../connection-record.js';
import { brokerSocket } from './link.js';
import type { AmqpAddress } from './options.js';
import { declareServerExchanges, declareServiceQueues, type Topology } from './topology.js';

/** Receives every message a server session consumes, with the service and the queue it came from. */
export type Deliver = (session: ServerSession, serviceId: string, queue: string, message: ConsumeMessage | null) => void;

/**
 * What one broker connection carries for a server: the channel that consumes the service queues
 * (prefetch = concurrency), acknowledges requests, puts counted copies of interrupted ones back and
 * publishes replies to proven addresses, and the calls it is running. Replies to other addresses go
 * out on a connection of their own (ReplyPublisher): the broker closes the connection that
 * publishes to an address it cannot use, and closing this one would put every request it holds
 * back in its queue.
 */
export class ServerSession {
  /** Calls that can be cancelled, by reply address and correlation id. */
  readonly calls = new Map<string, ServerCall>();
  /** The connection's traffic; `calls` counts request messages delivered, `active` those running. */
  readonly stats: ConnectionRecord;
  private readonly consumers: string[] = [];
  private readonly queues: string[] = [];
  private alive = true;
  /** Publishes the copies of interrupted requests, with confirms; made when first needed. */
  private copies: Promise<ConfirmChannel> | undefined;

  private constructor(
    private readonly model: ChannelModel,
    private readonly channel: BrokerChannel,
    private readonly logger: Logger,
  ) {
    const socket = brokerSocket(model);
    this.stats = new ConnectionRecord(socket === undefined ? 'broker' : peerAddress(socket), socket);
  }

  static async open(model: ChannelModel, target: AmqpAddress, topologies: Array<[string, Topology]>, deliver: Deliver, logger: Logger): Promise<ServerSession> {
    const channel = await model.createChannel();
    const session = new ServerSession(model, channel, logger);
    channel.on('error', (error: unknown) => logger.warn({ message: errorMessage(error) }, 'broker channel error'));
    channel.on('close', () => session.restart());
    // Per consumer: each queue hands this server at most `prefetch` unacknowledged requests.
    await channel.prefetch(target.prefetch);
    await declareServerExchanges(channel, target);
    for (const [serviceId, topology] of topologies) {
      const queues = await declareServiceQueues(channel, target, topology);
      session.queues.push(queues.shared, queues.server);
      for (const queue of [queues.shared, queues.server, queues.fanout]) {
        const { consumerTag } = await channel.consume(queue, (message) => deliver(session, serviceId, queue, message));
        session.consumers.push(consumerTag);
      }
    }
    return session;
  }

  get isAlive(): boolean {
    return this.alive;
  }

  /** The connection is gone (its unacknowledged requests went back to their queues). */
  markLost(): void {
    this.alive = false;
  }

  ack(message: ConsumeMessage): void {
    if (!this.alive) return;
    try {
      this.channel.ack(message);
    } catch (error) {
      this.logger.debug({ message: errorMessage(error) }, 'cannot acknowledge');
    }
  }

  /**
   * Publishes a reply through the default exchange, on this channel: only to an address that cannot
   * make the broker close the connection (ReplyPublisher.isSafe).
   */
  reply(to: string, body: Buffer, properties: Options.Publish): void {
    if (!this.alive) return;
    try {
      this.channel.publish('', to, body, properties);
    } catch (error) {
      this.logger.warn({ message: errorMessage(error) }, 'cannot publish a reply');
    }
  }

  /** Takes a request off its queue for good: to the queue's dead-letter exchange, if it has one. */
  deadLetter(message: ConsumeMessage): void {
    if (!this.alive) return;
    try {
      this.channel.nack(message, false, false);
    } catch (error) {
      this.logger.debug({ message: errorMessage(error) }, 'cannot reject');
    }
  }

  /**
   * Queues a copy of `message` at the back of `queue` and acknowledges the original once the broker
   * has confirmed the copy; calls `failed` if it refused it (a full queue) while this session lives.
   */
  requeueCopy(queue: string, message: ConsumeMessage, properties: Options.Publish, failed: (error: unknown) => void): void {
    if (!this.alive) return;
    this.copyChannel().then((channel) => {
      channel.publish('', queue, message.content, properties, (error: unknown) => {
        if (!this.alive) return; // the original is back in its queue anyway
        if (error == null) this.ack(message);
        else failed(error);
      });
    }).catch((error: unknown) => {
      if (this.alive) failed(error);
    });
  }

  /** A confirm channel of its own, so that replies on the consuming channel cost no confirms. */
  private copyChannel(): Promise<ConfirmChannel> {
    this.copies ??= this.model.createConfirmChannel().then((channel) => {
      channel.on('error', (error: unknown) => this.logger.debug({ message: errorMessage(error) }, 'broker channel error'));
      channel.on('close', () => {
        this.copies = undefined;
      });
      return channel;
    }, (error: unknown) => {
      this.copies = undefined;
      throw error;
    });
    return this.copies;
  }

  /** Starts over on a new connection (the channel died, or the broker cancelled a consumer). */
  restart(): void {
    if (!this.alive) return;
    this.alive = false;
    void this.model.close().catch(() => undefined);
  }

  /** Takes no more requests; those already delivered still run. */
  async stopConsuming(): Promise<void> {
    if (!this.alive) return;
    const tags = this.consumers.splice(0);
    await Promise.all(tags.map((tag) => this.channel.cancel(tag).catch(() => undefined)));
  }

  /**
   * Deletes this server's service queues if no one else consumes them and no request waits in
   * them, so that calls to a topic nobody serves any more fail fast as unroutable.
   */
  async deleteIdleQueues(): Promise<void> {
    if (!this.alive) return;
    for (const queue of this.queues) {
      // A refused conditional delete closes its channel: one throwaway channel per queue.
      const scratch = await this.model.createChannel().catch(() => undefined);
      if (scratch === undefined) return;
      scratch.on('error', () => undefined);
      await scratch.deleteQueue(queue, { ifUnused: true, ifEmpty: true }).then(
        () => scratch.close(),
        () => undefined,
      ).catch(() => undefined);
    }
  }
}
