import type { ConsumeMessage, Options } from 'amqplib';
import { Code } from '../../core/code.js';
import type { MethodEntry } from '../../core/call-table.js';
import { RpcError, errorMessage, toWireError } from '../../core/rpc-error.js';
import { dispatch, type CallResponder } from '../../core/dispatch.js';
import { passGate } from '../../core/gate.js';
import type { Principal } from '../../core/principal.js';
import type { Metadata } from '../../core/metadata.js';
import { ServerCall } from '../../core/server-call.js';
import { errorSerializer } from '../../serialization/registry.js';
import { methodSerializer, type Serializer } from '../../serialization/serializer.js';
import { defaultBackoff } from '../backoff.js';
import type { ServerTransportOptions } from '../registry.js';
import type { ConnectionInfo, ServerContext, ServerTransport } from '../transport.js';
import { noStreams } from './errors.js';
import { BrokerLink } from './link.js';
import { CANCEL_TYPE, ContentTypes, ERROR_TYPE, RESULT_TYPE, asBuffer, contentTypeOf, deadlineOf, fromHeaders, toHeaders } from './message.js';
import { parseAmqpAddress, type AmqpAddress } from './options.js';
import { allowedRuns, copyProperties, earlierRuns } from './redelivery.js';
import { ReplyPublisher } from './reply-publisher.js';
import { ServerSession } from './server-session.js';
import { topologyOf } from './topology.js';

const CONNECT_TIMEOUT_MS = 5000;

interface Reply {
  to: string;
  correlationId: string | undefined;
}

/** What a caller gets when its request cannot be encoded as an error in any serializer. */
const UNENCODABLE_ERROR = Buffer.from(JSON.stringify({ code: Code.INTERNAL, name: 'RpcError', message: 'the server could not encode its error' }));

/**
 * Serves the call table through a RabbitMQ broker: consumes each service's shared, server and
 * fanout queues, runs each request, then acknowledges it and publishes the reply (on a connection
 * of its own while its address is unproven, see ReplyPublisher). Services must be provided before
 * `listen()`.
 */
/** A call of one delivery, with what its ack and its reply need. */
class AmqpCall extends ServerCall {
  /** Where the caller waits for the reply, and the id under which a cancel finds the call. */
  readonly key: string | undefined;
  /** Acked and not yet answered: the reply may go. */
  answerable = false;

  constructor(
    entry: MethodEntry,
    args: unknown[],
    metadata: Metadata | undefined,
    deadline: number | undefined,
    readonly session: ServerSession,
    readonly message: ConsumeMessage,
    readonly reply: Reply | undefined,
    readonly wireSerializer: Serializer,
  ) {
    super(entry.service, entry.method, args, metadata, deadline, reply === undefined);
    this.key = reply === undefined ? undefined : `${reply.to}\0${reply.correlationId}`;
  }
}

export class AmqpServerTransport implements ServerTransport, CallResponder<AmqpCall> {
  private readonly target: AmqpAddress;
  private readonly link: BrokerLink<ServerSession>;
  private readonly replies: ReplyPublisher;
  private readonly contentTypes: ContentTypes;
  private readonly running = new Map<ServerCall, ServerSession>();
  private readonly protocol: string;
  private onIdle: (() => void) | undefined;
  private draining = false;

  constructor(
    url: string,
    private readonly context: ServerContext,
    private readonly options: ServerTransportOptions,
  ) {
    this.protocol = url.startsWith('amqps:') ? 'amqps' : 'amqp';
    this.target = parseAmqpAddress(url, Math.max(1, Math.ceil(options.heartbeatIntervalMs / 1000)), options.tls);
    this.contentTypes = new ContentTypes(context.serializers);
    this.link = new BrokerLink(
      { url: this.target.brokerUrl, tls: this.target.tls, connectionName: `switchyard server ${this.target.display}`, connectTimeoutMs: CONNECT_TIMEOUT_MS, backoff: defaultBackoff, logger: context.logger },
      {
        open: (model) => {
          const topologies = context.table.serviceIds.map((id) => [id, topologyOf(this.target, id)] as [string, ReturnType<typeof topologyOf>]);
          return ServerSession.open(model, this.target, topologies, (session, serviceId, queue, message) => this.deliver(session, serviceId, queue, message), context.logger);
        },
        lost: (session, reason) => this.lost(session, reason),
      },
    );
    this.replies = new ReplyPublisher(this.target.brokerUrl, `switchyard server ${this.target.display} (replies)`, CONNECT_TIMEOUT_MS, context.logger, this.target.tls);
  }

  async listen(): Promise<string> {
    for (const id of this.context.table.serviceIds) topologyOf(this.target, id);
    // Replies first: a request must not arrive before its reply can leave.
    await this.replies.connect();
    await this.link.connect();
    return this.target.display;
  }

  async drain(): Promise<void> {
    this.draining = true;
    this.link.stopReconnecting();
    const session = this.link.current;
    await session?.stopConsuming();
    if (this.running.size > 0) {
      await new Promise<void>((resolve) => {
        this.onIdle = resolve;
      });
    }
    await session?.deleteIdleQueues();
    await this.link.close();
    await this.replies.flushed();
    await this.replies.close();
  }

  forceClose(): void {
    this.link.stopReconnecting();
    const reason = new RpcError(Code.UNAVAILABLE, 'server shut down');
    for (const call of [...this.running.keys()]) call.abort(reason);
    this.running.clear();
    this.onIdle?.();
    void this.link.close();
    void this.replies.close();
  }

  /** The broker connection that consumes requests, while there is one; replies to unproven addresses use another, not listed. */
  connections(): ConnectionInfo[] {
    const session = this.link.current;
    return session === undefined ? [] : [session.stats.info(this.protocol, this.target.display, this.draining)];
  }

  /** Calls still running on a lost connection are aborted: their requests go back to the queue. */
  private lost(session: ServerSession, reason: RpcError): void {
    session.markLost();
    for (const [call, owner] of this.running) {
      if (owner === session) call.abort(new RpcError(Code.UNAVAILABLE, reason.message));
    }
  }

  private deliver(session: ServerSession, serviceId: string, queue: string, message: ConsumeMessage | null): void {
    if (message === null) {
      this.context.logger.warn({ service: serviceId }, 'the broker cancelled a consumer; reconnecting');
      session.restart();
      return;
    }
    // Delivered just before its connection went: the broker has requeued it already.
    if (!session.isAlive) return;
    const { type, replyTo, correlationId, contentType } = message.properties as { type?: unknown; replyTo?: unknown; correlationId?: unknown; contentType?: unknown };
    const headers = message.properties.headers as Record<string, unknown> | undefined;
    const reply: Reply | undefined = typeof replyTo === 'string' && replyTo.length > 0
      ? { to: replyTo, correlationId: typeof correlationId === 'string' ? correlationId : undefined }
      : undefined;
    if (type === CANCEL_TYPE) {
      session.ack(message);
      if (reply !== undefined) session.calls.get(`${reply.to}\0${reply.correlationId}`)?.abort(new RpcError(Code.CANCELLED, 'cancelled by the caller'));
      return;
    }
    session.stats.calls++;
    const serializer = this.contentTypes.serializerFor(typeof contentType === 'string' ? contentType : undefined);
    if (serializer === undefined) {
      const enabled = this.context.serializers.names.map((name) => contentTypeOf(this.context.serializers.named(name))).join(', ');
      this.refuse(session, message, reply, errorSerializer, new RpcError(Code.INVALID_ARGUMENT, `content type ${JSON.stringify(contentType)} is not enabled on this server (enabled: ${enabled})`));
      return;
    }
    const entry = this.context.table.lookup(serviceId, typeof type === 'string' && type.length > 0 ? type : undefined);
    if (entry instanceof RpcError) {
      this.refuse(session, message, reply, serializer, entry);
      return;
    }
    if (entry.options.stream !== undefined) {
      this.refuse(session, message, reply, serializer, noStreams(entry.service.id, entry.method));
      return;
    }
    const deadline = deadlineOf(headers);
    if (deadline !== undefined && deadline <= Date.now()) {
      this.refuse(session, message, reply, serializer, new RpcError(Code.DEADLINE_EXCEEDED, 'deadline exceeded before the call was delivered'));
      return;
    }
    const body = message.content;
    if (body.length > this.options.maxFrameSize) {
      this.refuse(session, message, reply, serializer, new RpcError(Code.RESOURCE_EXHAUSTED, `request of ${body.length} bytes exceeds the limit of ${this.options.maxFrameSize}`));
      return;
    }
    const redelivered = message.fields.redelivered;
    if (redelivered || headers !== undefined) {
      const earlier = earlierRuns(redelivered, headers);
      if (earlier > 0 && !this.mayRunAgain(session, queue, message, entry, reply, serializer, headers, deadline, earlier)) return;
    }
    const metadata = fromHeaders(headers);
    const tooMuch = this.context.limits?.metadataRefusal(metadata);
    if (tooMuch !== undefined) return this.refuse(session, message, reply, serializer, tooMuch);
    const gate = this.context.gate;
    if (gate === undefined) {
      this.start(session, message, entry, reply, serializer, metadata, deadline, undefined);
      return;
    }
    // Unacknowledged while the gate decides: a connection lost meanwhile gives the request back to the queue.
    passGate(gate, { service: entry.service, method: entry.method, metadata, peer: undefined, protocol: this.protocol }, (principal) => {
      if (session.isAlive) this.start(session, message, entry, reply, serializer, metadata, deadline, principal);
    }, (error) => {
      if (session.isAlive) this.refuse(session, message, reply, serializer, error);
    });
  }

  /** Decodes an admitted request's arguments and runs it. */
  private start(session: ServerSession, message: ConsumeMessage, entry: MethodEntry, reply: Reply | undefined, serializer: Serializer, metadata: Metadata | undefined, deadline: number | undefined, principal: Principal | undefined): void {
    const body = message.content;
    let args: unknown;
    try {
      args = body.length === 0 ? [] : methodSerializer(serializer, entry.service, entry.method, 'server').decode(body);
    } catch (error) {
      this.refuse(session, message, reply, serializer, new RpcError(Code.INVALID_ARGUMENT, `cannot decode arguments: ${errorMessage(error)}`));
      return;
    }
    if (!Array.isArray(args)) {
      this.refuse(session, message, reply, serializer, new RpcError(Code.INVALID_ARGUMENT, 'arguments must be an array'));
      return;
    }
    const call = new AmqpCall(entry, args, metadata, deadline, session, message, reply, serializer);
    call.principal = principal;
    call.requestBytes = body.length;
    session.stats.active++;
    this.running.set(call, session);
    if (call.key !== undefined) session.calls.set(call.key, call);
    dispatch(entry, call, this, this.context.logger);
  }

  // The CallResponder side: the dispatcher says how each call ended.
  settled(call: AmqpCall): void {
    const { session, key } = call;
    if (key !== undefined && session.calls.get(key) === call) session.calls.delete(key);
    const wasRunning = this.running.delete(call);
    session.stats.active--;
    if (this.running.size === 0) this.onIdle?.();
    // A request whose connection was lost is back in its queue: no ack, no reply.
    if (!wasRunning || !session.isAlive) return;
    // Ack first: once the caller can have its answer, the request must not come back.
    session.ack(call.message);
    call.answerable = call.reply !== undefined;
  }

  isOpen(call: AmqpCall): boolean {
    return call.answerable;
  }

  result(call: AmqpCall, result: unknown): void {
    if (!call.answerable) return;
    call.answerable = false;
    const { session, reply, wireSerializer: serializer } = call;
    let body: Uint8Array | undefined;
    try {
      body = result === undefined ? undefined : methodSerializer(serializer, call.service, call.method, 'server').encode(result);
    } catch (thrown) {
      this.sendError(session, reply!, serializer, new RpcError(Code.INTERNAL, `cannot encode the result: ${errorMessage(thrown)}`), call);
      return;
    }
    if (body !== undefined && body.byteLength > this.options.maxFrameSize) {
      this.sendError(session, reply!, serializer, new RpcError(Code.RESOURCE_EXHAUSTED, `response of ${body.byteLength} bytes exceeds the limit of ${this.options.maxFrameSize}`), call);
      return;
    }
    call.responseBytes = body?.byteLength ?? 0;
    this.publish(session, reply!, asBuffer(body), this.replyProperties(reply!, serializer, RESULT_TYPE, call));
  }

  error(call: AmqpCall, error: RpcError): void {
    if (!call.answerable) return;
    call.answerable = false;
    this.sendError(call.session, call.reply!, call.wireSerializer, error, call);
  }

  // Streaming methods are refused before they run (see onMessage): these are never reached.
  item(): undefined {
    throw new RpcError(Code.UNIMPLEMENTED, 'amqp:// carries no server streams');
  }

  end(): void {}

  /**
   * Decides for a request that runs may have started for before (see redelivery.ts): true to run
   * it from this delivery; otherwise it is dead-lettered and answered, or requeued as a counted copy.
   */
  private mayRunAgain(session: ServerSession, queue: string, message: ConsumeMessage, entry: MethodEntry, reply: Reply | undefined, serializer: Serializer,
    headers: Record<string, unknown> | undefined, deadline: number | undefined, earlier: number): boolean {
    if (earlier >= allowedRuns(entry.options.idempotent)) {
      const error = entry.options.idempotent === true
        ? new RpcError(Code.INTERNAL, 'the request was interrupted twice while it ran (a server crashed or lost its broker connection) and was not run again; it was dead-lettered')
        : new RpcError(Code.UNAVAILABLE, `the request was interrupted while it ran (a server crashed or lost its broker connection) and was not run again: ${entry.service.id}.${entry.method} is not idempotent; it was dead-lettered`);
      this.context.logger.warn({ service: entry.service.id, method: entry.method, runs: earlier }, 'interrupted request dead-lettered');
      session.deadLetter(message);
      if (reply !== undefined) this.sendError(session, reply, serializer, error, undefined);
      return false;
    }
    if (!message.fields.redelivered) return true;
    session.requeueCopy(queue, message, copyProperties(message, headers, deadline, earlier), (failure) => {
      session.deadLetter(message);
      if (reply !== undefined) this.sendError(session, reply, serializer, new RpcError(Code.UNAVAILABLE, `the request was interrupted while it ran and could not be queued to run again: ${errorMessage(failure)}`), undefined);
    });
    return false;
  }

  private refuse(session: ServerSession, message: ConsumeMessage, reply: Reply | undefined, serializer: Serializer, error: RpcError): void {
    session.ack(message);
    if (reply === undefined) {
      this.context.logger.warn({ code: error.code, message: error.message }, 'one-way call refused');
      return;
    }
    this.sendError(session, reply, serializer, error, undefined);
  }

  /** Answers with an error whatever it holds: what the serializer cannot encode falls back to less. */
  private sendError(session: ServerSession, reply: Reply, serializer: Serializer, error: RpcError, call: ServerCall | undefined): void {
    const wire = toWireError(error);
    let body: Uint8Array;
    try {
      body = serializer.encode(wire);
    } catch {
      serializer = errorSerializer;
      try {
        body = serializer.encode({ code: wire.code, name: wire.name, message: wire.message });
      } catch {
        body = UNENCODABLE_ERROR;
      }
    }
    this.publish(session, reply, asBuffer(body), this.replyProperties(reply, serializer, ERROR_TYPE, call));
  }

  /** On the consuming channel if the address cannot make the broker close it, else on the reply connection. */
  private publish(session: ServerSession, reply: Reply, body: Buffer, properties: Options.Publish): void {
    if (this.replies.isSafe(reply.to)) session.reply(reply.to, body, properties);
    else this.replies.send(reply.to, body, properties);
  }

  private replyProperties(reply: Reply, serializer: Serializer, type: string, call: ServerCall | undefined): Options.Publish {
    const properties: Options.Publish = { contentType: contentTypeOf(serializer), type };
    if (reply.correlationId !== undefined) properties.correlationId = reply.correlationId;
    if (call?.hasResponseMetadata) properties.headers = toHeaders(call.responseMetadata, undefined);
    return properties;
  }
}
