import type { Channel as BrokerChannel, ChannelModel, ConsumeMessage, Options } from 'amqplib';
import type { Logger } from '../../core/logger.js';
import type { ServerCall } from '../../core/server-call.js';
import type { AmqpAddress } from './options.js';
import { declareExchange, declareServiceQueues, type Topology } from './topology.js';

/** Receives every message a server session consumes, with the id of the service whose queue it came from. */
export type Deliver = (session: ServerSession, serviceId: string, message: ConsumeMessage | null) => void;

/**
 * What one broker connection carries for a server: the channel that consumes the service queues
 * (prefetch = concurrency), acknowledges requests and publishes replies, and the calls it is running.
 */
export class ServerSession {
  /** Calls that can be cancelled, by reply address and correlation id. */
  readonly calls = new Map<string, ServerCall>();
  private readonly consumers: string[] = [];
  private readonly queues: string[] = [];
  private alive = true;

  private constructor(
    private readonly model: ChannelModel,
    private readonly channel: BrokerChannel,
    private readonly logger: Logger,
  ) {}

  static async open(model: ChannelModel, target: AmqpAddress, topologies: Array<[string, Topology]>, deliver: Deliver, logger: Logger): Promise<ServerSession> {
    const channel = await model.createChannel();
    const session = new ServerSession(model, channel, logger);
    channel.on('error', (error: Error) => logger.warn({ message: error.message }, 'broker channel error'));
    channel.on('close', () => session.restart());
    // Per consumer: each queue hands this server at most `prefetch` unacknowledged requests.
    await channel.prefetch(target.prefetch);
    await declareExchange(channel, target.exchange);
    for (const [serviceId, topology] of topologies) {
      const queues = await declareServiceQueues(channel, target, topology);
      session.queues.push(queues.shared, queues.server);
      for (const queue of [queues.shared, queues.server, queues.fanout]) {
        const { consumerTag } = await channel.consume(queue, (message) => deliver(session, serviceId, message));
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
      this.logger.debug({ message: (error as Error).message }, 'cannot acknowledge');
    }
  }

  /** Publishes a reply through the default exchange to the caller's reply address. */
  reply(to: string, body: Buffer, properties: Options.Publish): void {
    if (!this.alive) return;
    try {
      this.channel.publish('', to, body, properties);
    } catch (error) {
      this.logger.warn({ message: (error as Error).message }, 'cannot publish a reply');
    }
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
