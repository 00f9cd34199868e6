import type { Channel as BrokerChannel, ChannelModel, ConfirmChannel, ConsumeMessage, Message, Options } from 'amqplib';
import { CallWatch, refusal } from '../../core/call-watch.js';
import { Code } from '../../core/code.js';
import type { Invocation } from '../../core/invocation.js';
import { RpcError, errorMessage, fromWireError } from '../../core/rpc-error.js';
import { startTimer, stopTimer } from '../../core/timer.js';
import { methodSerializer } from '../../serialization/serializer.js';
import type { ChannelOptions } from '../registry.js';
import { brokerError, connectionLost, queueFull, unroutable } from './errors.js';
import { CANCEL_TYPE, ERROR_TYPE, expirationOf, fromHeaders, toHeaders, type ContentTypes } from './message.js';
import type { AmqpAddress } from './options.js';
import { declareExchange, declareFanoutExchange, fanoutExchangeOf } from './topology.js';

const REPLY_TO = 'amq.rabbitmq.reply-to';
const EMPTY = Buffer.alloc(0);

/** A call checked and encoded, ready to publish. */
export interface Outgoing {
  invocation: Invocation;
  body: Buffer;
  contentType: string;
  topic: string;
  exchange: string;
  routingKey: string;
  fanout: boolean;
  /** How errors name where the call went. */
  what: string;
}

/** A published call waiting for its reply (or, one-way, its confirm). */
class Pending extends CallWatch {
  /** The broker returned it unroutable; a one-way call learns of it from its confirm. */
  returned = false;

  constructor(
    readonly id: string,
    readonly request: Outgoing,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: RpcError) => void,
    private readonly giveUp: (id: string, error: RpcError) => void,
  ) {
    super();
  }

  /** Published to `address`: from now on the deadline and the signal can end the call. */
  sent(address: string): void {
    this.watch(this.request.invocation, address);
  }

  release(): void {
    this.unwatch();
  }

  protected override abandon(error: RpcError): void {
    this.giveUp(this.id, error);
  }
}

/**
 * What one broker connection carries for a client: the confirm channel that publishes requests
 * (mandatory, with a confirm each) and consumes their replies from direct reply-to, and the calls
 * waiting on it, by correlation id.
 */
export class ClientSession {
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;
  private dead: RpcError | undefined;
  private readonly fanoutDeclared = new Map<string, Promise<void> | true>();
  private admin: Promise<BrokerChannel> | undefined;
  private onDrained: (() => void) | undefined;
  /** How the deadline or signal of a call ends it: one function for every call, so a call makes no closure. */
  private readonly giveUp = (id: string, error: RpcError): void => this.abandon(id, error);

  private constructor(
    private readonly model: ChannelModel,
    private readonly channel: ConfirmChannel,
    private readonly target: AmqpAddress,
    private readonly contentTypes: ContentTypes,
    private readonly options: ChannelOptions,
  ) {}

  static async open(model: ChannelModel, target: AmqpAddress, contentTypes: ContentTypes, options: ChannelOptions): Promise<ClientSession> {
    const channel = await model.createConfirmChannel();
    const session = new ClientSession(model, channel, target, contentTypes, options);
    channel.on('error', (error: unknown) => options.logger.debug({ message: errorMessage(error) }, 'broker channel error'));
    channel.on('return', (message: Message) => session.onReturn(message));
    // The channel alone can die (a publish to an exchange deleted meanwhile): start over on a new connection.
    channel.on('close', () => {
      session.fail(new RpcError(Code.UNAVAILABLE, 'broker channel closed'));
      void model.close().catch(() => undefined);
    });
    // Consume replies before the first publish names direct reply-to, or the broker closes the channel.
    await channel.consume(REPLY_TO, (message) => session.onReply(message), { noAck: true });
    await declareExchange(channel, target.exchange);
    return session;
  }

  /** Calls waiting for their answer (or, one-way, for the broker's confirm). */
  get active(): number {
    return this.pending.size;
  }

  send(request: Outgoing): Promise<unknown> {
    if (this.dead !== undefined) return Promise.reject(new RpcError(Code.UNAVAILABLE, this.dead.message, { unprocessed: true }));
    if (request.fanout) {
      const declared = this.declareFanout(request.exchange);
      if (declared !== true) return declared.then(() => this.publish(request));
    }
    return this.publish(request);
  }

  /** Resolves once no call waits for an answer; calls still waiting after `timeoutMs` are cancelled. */
  drain(timeoutMs: number): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = startTimer(timeoutMs, () => {
        for (const [id, pending] of this.pending) this.settle(id, pending, new RpcError(Code.CANCELLED, 'client closed'));
        resolve();
      }, undefined);
      this.onDrained = () => {
        stopTimer(timer);
        resolve();
      };
    });
  }

  /** The connection is gone: every call waiting on it fails. */
  fail(reason: RpcError): void {
    if (this.dead !== undefined) return;
    this.dead = reason;
    for (const [id, pending] of this.pending) this.settle(id, pending, connectionLost(reason, this.target.display));
  }

  private publish(request: Outgoing): Promise<unknown> {
    if (this.dead !== undefined) return Promise.reject(new RpcError(Code.UNAVAILABLE, this.dead.message, { unprocessed: true }));
    const { invocation } = request;
    // Checked here, right before publishing: a fanout call may have waited for its exchange.
    const refused = refusal(invocation);
    if (refused !== undefined) return Promise.reject(refused);
    const left = invocation.deadline === undefined ? undefined : invocation.deadline - Date.now();
    const id = String(this.nextId++);
    const properties: Options.Publish = { contentType: request.contentType, type: invocation.method, correlationId: id, mandatory: true };
    if (!invocation.oneWay) properties.replyTo = REPLY_TO;
    // Beyond what brokers take as an expiration, the deadline travels as `:deadline` only.
    const expiration = left === undefined ? undefined : expirationOf(left);
    if (expiration !== undefined) properties.expiration = expiration;
    const metadata = invocation.metadata;
    const headers = toHeaders(metadata.size === 0 ? undefined : metadata, invocation.deadline);
    if (headers !== undefined) properties.headers = headers;
    return new Promise<unknown>((resolve, reject) => {
      const pending = new Pending(id, request, resolve, reject, this.giveUp);
      this.pending.set(id, pending);
      try {
        this.channel.publish(request.exchange, request.routingKey, request.body, properties, (error: unknown) => this.onConfirm(id, pending, error));
      } catch (error) {
        this.pending.delete(id);
        const code = error instanceof RangeError || error instanceof TypeError ? Code.INVALID_ARGUMENT : Code.UNAVAILABLE;
        reject(new RpcError(code, `cannot publish the request: ${errorMessage(error)}`, { unprocessed: true, cause: error }));
        return;
      }
      pending.sent(this.target.display);
    });
  }

  private onConfirm(id: string, pending: Pending, error: unknown): void {
    if (this.pending.get(id) !== pending) return;
    if (error != null) {
      // A closing channel fails its unconfirmed publishes too; fail() reports those.
      if (error instanceof Error && error.message === 'message nacked') this.settle(id, pending, queueFull(pending.request.what));
      return;
    }
    if (pending.request.invocation.oneWay) this.settle(id, pending, pending.returned ? unroutable(pending.request.what) : undefined);
  }

  private onReturn(message: Message): void {
    const id = message.properties.correlationId as string | undefined;
    const pending = id === undefined ? undefined : this.pending.get(id);
    if (pending === undefined) return;
    // A one-way call learns its fate from the confirm that follows; a call fails now.
    if (pending.request.invocation.oneWay) pending.returned = true;
    else this.settle(id!, pending, unroutable(pending.request.what));
  }

  private onReply(message: ConsumeMessage | null): void {
    if (message === null) return;
    const { correlationId, contentType, headers, type } = message.properties;
    const pending = this.pending.get(correlationId as string);
    if (pending === undefined) return; // timed out or cancelled: a late answer is dropped
    const invocation = pending.request.invocation;
    let error: RpcError | undefined;
    let value: unknown;
    try {
      const metadata = fromHeaders(headers);
      if (metadata !== undefined) for (const [key, v] of metadata) invocation.responseMetadata.set(key, v);
      const body = message.content;
      if (body.length > this.options.maxFrameSize) throw new RpcError(Code.RESOURCE_EXHAUSTED, `reply of ${body.length} bytes exceeds the limit of ${this.options.maxFrameSize}`);
      const serializer = this.contentTypes.serializerFor(contentType as string | undefined);
      if (serializer === undefined) throw new RpcError(Code.INTERNAL, `reply in unknown content type ${JSON.stringify(contentType)}`);
      if (type === ERROR_TYPE) error = fromWireError(serializer.decode(body));
      else value = body.length === 0 ? undefined : methodSerializer(serializer, invocation.service, invocation.method, 'client').decode(body);
    } catch (thrown) {
      error = RpcError.from(thrown, Code.INTERNAL);
    }
    this.settle(correlationId as string, pending, error, value);
  }

  /** The caller gave up: fail the call now, and tell the servers of its topic to stop it. */
  private abandon(id: string, error: RpcError): void {
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    this.settle(id, pending, error);
    if (!pending.request.invocation.oneWay) this.sendCancel(pending.request.topic, id);
  }

  private sendCancel(topic: string, id: string): void {
    const exchange = fanoutExchangeOf(this.target.exchange, topic);
    const publish = (): void => {
      if (this.dead !== undefined) return;
      // Same channel, same reply-to: the broker names it as it named the request's.
      this.channel.publish(exchange, '', EMPTY, { type: CANCEL_TYPE, correlationId: id, replyTo: REPLY_TO });
    };
    const declared = this.declareFanout(exchange);
    if (declared === true) publish();
    else declared.then(publish, () => undefined);
  }

  private settle(id: string, pending: Pending, error: RpcError | undefined, value?: unknown): void {
    this.pending.delete(id);
    pending.release();
    if (error === undefined) pending.resolve(value);
    else pending.reject(error);
    if (this.pending.size === 0) this.onDrained?.();
  }

  /** Fanout exchanges are declared on first use, on a channel of their own (a refused declaration closes it). */
  private declareFanout(exchange: string): Promise<void> | true {
    const known = this.fanoutDeclared.get(exchange);
    if (known !== undefined) return known;
    const declaring = this.adminChannel()
      .then((admin) => declareFanoutExchange(admin, exchange))
      .then(
        () => {
          this.fanoutDeclared.set(exchange, true);
        },
        (error: unknown) => {
          this.fanoutDeclared.delete(exchange);
          this.admin = undefined;
          throw brokerError(error, `cannot declare exchange ${exchange}`);
        },
      );
    this.fanoutDeclared.set(exchange, declaring);
    return declaring;
  }

  private adminChannel(): Promise<BrokerChannel> {
    this.admin ??= this.model.createChannel().then((channel) => {
      channel.on('error', () => undefined);
      channel.on('close', () => {
        this.admin = undefined;
      });
      return channel;
    });
    return this.admin;
  }
}
