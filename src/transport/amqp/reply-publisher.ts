import type { ChannelModel, ConfirmChannel, Options } from 'amqplib';
import type { Logger } from '../../core/logger.js';
import { errorMessage, type RpcError } from '../../core/rpc-error.js';
import { defaultBackoff } from '../backoff.js';
import type { ClientTlsOptions } from '../tls/options.js';
import { codeOf } from './errors.js';
import { BrokerLink } from './link.js';
import { DIRECT_REPLY_TO, isDirectReplyTo, readReplyAddress } from './reply-address.js';

const EMPTY = Buffer.alloc(0);
/** Replies held while the reply connection is down or suspects are tried one by one. */
const MAX_HELD = 10_000;
/** Addresses remembered as proven or refused; each set is cleared when full. */
const MAX_REMEMBERED = 10_000;
/** The broker closed the connection by an operator's or its own shutdown's order, not over a frame. */
const CONNECTION_FORCED = 320;

interface Reply {
  to: string;
  body: Buffer;
  properties: Options.Publish;
}

/** One reply connection: a confirm channel, its replies not yet confirmed, and how it ended. */
class ReplySession {
  closed = false;
  failureCode: unknown;
  /** Replies whose confirm the channel's closing cancelled, in publish order. */
  readonly unconfirmed: Reply[] = [];

  constructor(readonly channel: ConfirmChannel) {}
}

/**
 * Publishes the replies a server cannot safely publish on the connection that consumes requests.
 *
 * RabbitMQ closes the connection that publishes to a direct reply-to name it cannot decode or
 * deliver to a node (541 INTERNAL_ERROR), and a name can be of the right form and still do that (a
 * forged one, or one whose pid numbers are out of range). Closing the consuming connection would
 * put every request the server holds back in its queue. So a server publishes there only to queue
 * names and to direct reply-to names the broker has already taken a reply to; the first reply to
 * any other name goes here, on a connection of its own, with a publisher confirm. A confirmed name
 * is proven. When the broker closes this connection over a frame, the replies it had not confirmed
 * are suspects: they are published again one at a time, and the one the broker closes the
 * connection over again is refused from then on and dropped. Replies unconfirmed when the
 * connection went for another reason are published again as they are. Either way a caller may get
 * an answer twice (Switchyard clients drop the second), but not lose it to another's address.
 */
export class ReplyPublisher {
  private readonly link: BrokerLink<ReplySession>;
  private readonly proven = new Set<string>();
  private readonly refused = new Set<string>();
  private strict = true;
  private readonly waiting: Reply[] = [];
  private readonly suspects: Reply[] = [];
  /** The suspect in flight, alone on the connection. */
  private isolated: Reply | undefined;
  private overflowing = false;
  private closed = false;
  private readonly flushWaiters: Array<() => void> = [];

  /** `tls`: for an `amqps://` broker, what the connection trusts and presents. */
  constructor(url: string, connectionName: string, connectTimeoutMs: number, private readonly logger: Logger, tls?: ClientTlsOptions) {
    this.link = new BrokerLink(
      { url, tls, connectionName, connectTimeoutMs, backoff: defaultBackoff, logger },
      {
        open: async (model) => {
          const session = await openSession(model, logger);
          this.learn(await issuedName(model));
          setImmediate(() => this.pump());
          return session;
        },
        lost: (session, reason) => this.lost(session, reason),
      },
    );
  }

  async connect(): Promise<void> {
    await this.link.connect();
  }

  /** Whether a reply to `to` may go out on the consuming connection: a queue name, or a proven address. */
  isSafe(to: string): boolean {
    return !isDirectReplyTo(to) || this.proven.has(to);
  }

  /** Publishes a reply to an address that is not safe (yet), or drops it if the address cannot be one. */
  send(to: string, body: Buffer, properties: Options.Publish): void {
    if (this.closed || this.refused.has(to) || readReplyAddress(to, this.strict) === 'malformed') {
      this.logger.debug({ replyTo: to }, 'reply address refused; reply dropped');
      return;
    }
    const reply: Reply = { to, body, properties };
    const session = this.link.current;
    if (session !== undefined && !session.closed && this.isolated === undefined && this.suspects.length === 0 && this.waiting.length === 0) {
      this.publish(session, reply);
      return;
    }
    if (this.waiting.length >= MAX_HELD) {
      if (!this.overflowing) this.logger.warn({ held: this.waiting.length }, 'too many replies wait for the reply connection; dropping replies');
      this.overflowing = true;
      return;
    }
    this.waiting.push(reply);
  }

  /** Resolves once no reply waits to be published (or the publisher is closed). */
  flushed(): Promise<void> {
    if (this.closed || this.idle()) return Promise.resolve();
    return new Promise<void>((resolve) => this.flushWaiters.push(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.waiting.length = 0;
    this.suspects.length = 0;
    this.isolated = undefined;
    for (const resolve of this.flushWaiters.splice(0)) resolve();
    await this.link.close();
  }

  private idle(): boolean {
    return this.waiting.length === 0 && this.suspects.length === 0 && this.isolated === undefined;
  }

  private publish(session: ReplySession, reply: Reply): void {
    try {
      session.channel.publish('', reply.to, reply.body, reply.properties, (error: unknown) => {
        if (error == null) this.prove(reply);
        // A nack is the broker's own failure to take it; a closing channel leaves it unknown.
        else if (!isNack(error)) session.unconfirmed.push(reply);
        else this.settled(reply);
      });
    } catch (error) {
      if (session.closed) session.unconfirmed.push(reply);
      else {
        this.logger.warn({ replyTo: reply.to, message: errorMessage(error) }, 'cannot publish a reply');
        this.settled(reply);
      }
    }
  }

  /** A reply is neither proven nor kept to be sent again: if it was the one on trial, the next may go. */
  private settled(reply: Reply): void {
    if (this.isolated !== reply) return;
    this.isolated = undefined;
    this.pump();
  }

  private prove(reply: Reply): void {
    if (this.proven.size >= MAX_REMEMBERED) this.proven.clear();
    this.proven.add(reply.to);
    if (this.isolated !== reply) return;
    this.isolated = undefined;
    this.pump();
  }

  private refuse(reply: Reply, code: unknown): void {
    if (this.refused.size >= MAX_REMEMBERED) this.refused.clear();
    this.refused.add(reply.to);
    this.logger.warn({ replyTo: reply.to, code }, 'the broker closed the reply connection over a reply address; replies to it are dropped');
  }

  /** The broker's own name shows whether its names have the form checked here; if not, names are not checked. */
  private learn(sample: string | undefined): void {
    if (sample === undefined) return;
    const strict = readReplyAddress(sample, true) === 'direct';
    if (strict === this.strict) return;
    this.strict = strict;
    if (!strict) this.logger.warn({ sample }, 'the broker\'s direct reply-to names are not of the known form; reply addresses are not checked before their first reply');
  }

  private pump(): void {
    const session = this.link.current;
    if (session === undefined || session.closed || this.isolated !== undefined) return;
    // Held replies may be to an address refused meanwhile.
    for (let suspect = this.suspects.shift(); suspect !== undefined; suspect = this.suspects.shift()) {
      if (this.refused.has(suspect.to)) continue;
      this.isolated = suspect;
      this.publish(session, suspect);
      return;
    }
    for (let reply = this.waiting.shift(); reply !== undefined; reply = this.waiting.shift()) {
      if (!this.refused.has(reply.to)) this.publish(session, reply);
    }
    this.overflowing = false;
    for (const resolve of this.flushWaiters.splice(0)) resolve();
  }

  /** Sorts what the lost connection left unconfirmed: suspects if a frame closed it, replies to send again if not. */
  private lost(session: ReplySession, reason: RpcError): void {
    const code = session.failureCode ?? codeOf(reason.cause);
    const overFrame = typeof code === 'number' && code !== CONNECTION_FORCED;
    const unconfirmed = session.unconfirmed.splice(0);
    const isolated = this.isolated;
    this.isolated = undefined;
    if (this.closed) return;
    if (!overFrame) {
      this.waiting.unshift(...unconfirmed.filter((reply) => reply !== isolated));
      if (isolated !== undefined) this.suspects.unshift(isolated);
    } else if (isolated !== undefined || unconfirmed.length === 1) {
      // Alone in flight: it is the one.
      const culprit = isolated ?? unconfirmed[0]!;
      this.refuse(culprit, code);
      this.suspects.unshift(...unconfirmed.filter((reply) => reply !== culprit));
    } else {
      this.suspects.unshift(...unconfirmed);
    }
  }
}

async function openSession(model: ChannelModel, logger: Logger): Promise<ReplySession> {
  const channel = await model.createConfirmChannel();
  const session = new ReplySession(channel);
  channel.on('error', (error: unknown) => {
    session.failureCode = codeOf(error);
    logger.debug({ message: errorMessage(error) }, 'reply channel error');
  });
  // A channel closed by the broker takes its replies with it: start over on a new connection.
  channel.on('close', () => {
    session.closed = true;
    void model.close().catch(() => undefined);
  });
  return session;
}

/**
 * A direct reply-to name the broker issues, to learn what its names look like, or undefined if it
 * would not issue one here (a user without the permissions this takes: replies work all the same).
 * On a channel of its own, since a refused operation closes its channel.
 */
async function issuedName(model: ChannelModel): Promise<string | undefined> {
  const channel = await model.createConfirmChannel().catch(() => undefined);
  if (channel === undefined) return undefined;
  channel.on('error', () => undefined);
  try {
    await channel.consume(DIRECT_REPLY_TO, () => undefined, { noAck: true });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
    channel.sendToQueue(queue, EMPTY, { replyTo: DIRECT_REPLY_TO });
    await channel.waitForConfirms();
    const sample = await channel.get(queue, { noAck: true });
    await channel.deleteQueue(queue);
    return sample !== false && typeof sample.properties.replyTo === 'string' ? sample.properties.replyTo : undefined;
  } catch {
    return undefined;
  } finally {
    await channel.close().catch(() => undefined);
  }
}

function isNack(error: unknown): boolean {
  return error instanceof Error && error.message === 'message nacked';
}
