import type { Socket } from 'node:net';
import { Code } from '../../core/code.js';
import type { MethodEntry } from '../../core/call-table.js';
import type { Metadata } from '../../core/metadata.js';
import { RpcError, errorMessage } from '../../core/rpc-error.js';
import { dispatch, type CallResponder } from '../../core/dispatch.js';
import { passGate } from '../../core/gate.js';
import type { Principal } from '../../core/principal.js';
import { ServerCall } from '../../core/server-call.js';
import { errorSerializer } from '../../serialization/registry.js';
import { bodyLength, encodeBody, methodSerializer, type Body, type Serializer } from '../../serialization/serializer.js';
import { ConnectionRecord, peerAddress } from '../connection-record.js';
import { firstRequestArrived } from '../limits/first-request.js';
import type { ServerContext } from '../transport.js';
import { Connection, type ConnectionOptions } from './connection.js';
import { Flags, FrameType, ProtocolError, countBody, decodeRequestMetadata, encodeMetadata, readCount, type Frame, type RequestMetadata } from './frame.js';
import { ServerInput } from './server-input.js';
import { returnsStream, takesStream } from '../../core/service.js';
import { CallbackBridge } from './server-callbacks.js';
import { DEFAULT_STREAM_CREDIT, StreamCredit } from './stream-credit.js';
import { encodeError } from './wire-error.js';

/**
 * How often a connection looks for calls past their deadline, while it has any with one. One sweep
 * per connection instead of a timer per call keeps the small call free of timer work; the caller's
 * own timer is exact, and a handler's `signal` arms an exact timer of its own when it is read.
 */
const DEADLINE_SWEEP_MS = 20;

/** A call of this connection, with what its answer needs. */
class TcpServerCall extends ServerCall {
  /** A server stream's flow control. */
  credit: StreamCredit | undefined;
  /** A client or bidi stream's request stream. */
  input: ServerInput | undefined;

  // Names kept apart from ServerCall's own (private) fields, which share the object.
  constructor(
    entry: MethodEntry,
    args: unknown[],
    metadata: Metadata | undefined,
    readonly budgetMs: number | undefined,
    oneWay: boolean,
    readonly requestId: number,
    readonly wireSerializer: Serializer,
  ) {
    super(entry.service, entry.method, args, metadata, budgetMs === undefined ? undefined : Date.now() + budgetMs, oneWay);
  }
}

/** One accepted connection: dispatches its requests and answers them. */
export class ServerConnection implements CallResponder<TcpServerCall> {
  private readonly connection: Connection;
  /** Calls the caller still waits for, by request id. */
  private readonly inFlight = new Map<number, TcpServerCall>();
  private readonly callbacks: CallbackBridge;
  /** Its traffic and requests; `active` counts handlers started on it that have not settled, answered or not. */
  readonly stats: ConnectionRecord;
  /** Calls in `inFlight` that have a deadline, and the sweep that runs while there are any. */
  private withDeadline = 0;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly protocol: string;

  constructor(
    socket: Socket,
    private readonly context: ServerContext,
    options: ConnectionOptions,
    private readonly maxCalls: number,
    onClosed: () => void,
    /** The identity of the client's TLS certificate, on a `tls://` connection whose client presented a trusted one. */
    private readonly peer: Principal | undefined = undefined,
  ) {
    this.protocol = (socket as { encrypted?: boolean }).encrypted === true ? 'tls' : 'tcp';
    this.stats = new ConnectionRecord(peerAddress(socket), socket);
    this.connection = new Connection(socket, options, {
      onFrame: (frame) => this.onFrame(frame),
      // The client's first frame (its settings, or its answer to ours) ends the first-request timeout.
      onReady: () => firstRequestArrived(socket),
      onClose: (reason) => {
        for (const call of this.inFlight.values()) {
          call.abort(reason);
          call.credit?.stop();
          call.input?.fail(reason);
        }
        this.inFlight.clear();
        this.withDeadline = 0;
        clearInterval(this.sweeper);
        this.callbacks.close(reason);
        onClosed();
      },
    });
    this.callbacks = new CallbackBridge(this.connection);
  }

  goAway(): void {
    this.connection.goAway('server shutting down');
  }

  destroy(): void {
    this.connection.close(new RpcError(Code.UNAVAILABLE, 'server shut down'));
  }

  private onFrame(frame: Frame): void {
    switch (frame.type) {
      case FrameType.REQUEST:
      case FrameType.ONEWAY:
        this.dispatch(frame);
        return;
      case FrameType.CANCEL: {
        const call = this.inFlight.get(frame.requestId);
        if (call !== undefined) {
          this.forget(call);
          const reason = new RpcError(Code.CANCELLED, 'cancelled by the caller');
          call.abort(reason);
          call.credit?.stop();
          call.input?.fail(reason);
        }
        return;
      }
      case FrameType.STREAM_ITEM: {
        // Items of a call already answered are late, not wrong: they are dropped.
        const call = this.inFlight.get(frame.requestId);
        const refused = call?.input?.receive(frame.body, call.wireSerializer);
        if (refused !== undefined) this.failInput(call!, refused);
        return;
      }
      case FrameType.STREAM_END:
        this.inFlight.get(frame.requestId)?.input?.end();
        return;
      case FrameType.CREDIT:
        this.inFlight.get(frame.requestId)?.credit?.grant(readCount(frame.body));
        return;
      case FrameType.CALLBACK_RESPONSE:
        this.callbacks.answer(frame, (id) => this.context.serializers.forResponse(id));
        return;
      case FrameType.GOAWAY:
        // The client leaves; it closes the socket itself once its calls are answered.
        return;
      default:
        throw new ProtocolError(`a client may not send frame type ${frame.type}`);
    }
  }

  private dispatch(frame: Frame): void {
    const oneWay = frame.type === FrameType.ONEWAY;
    const id = frame.requestId;
    this.stats.calls++;
    const serializer = this.context.serializers.byWireId(frame.serializer);
    if (serializer === undefined) {
      this.reject(oneWay, id, undefined, new RpcError(Code.INVALID_ARGUMENT, `serializer id ${frame.serializer} is not enabled on this server`));
      return;
    }
    if (this.stats.active >= this.maxCalls) {
      const error = new RpcError(Code.RESOURCE_EXHAUSTED, `${this.maxCalls} calls already running on this connection`, { unprocessed: true });
      this.reject(oneWay, id, serializer, error, Flags.UNPROCESSED);
      return;
    }
    let request: RequestMetadata;
    try {
      request = decodeRequestMetadata(frame.metadata, this.context.limits);
    } catch (error) {
      if (error instanceof ProtocolError) throw error;
      this.reject(oneWay, id, serializer, RpcError.from(error, Code.INVALID_ARGUMENT));
      return;
    }
    const entry = this.context.table.lookup(request.target.service, request.target.method);
    if (entry instanceof RpcError) {
      this.reject(oneWay, id, serializer, entry);
      return;
    }
    if (request.target.timeoutMs === 0) {
      this.reject(oneWay, id, serializer, new RpcError(Code.DEADLINE_EXCEEDED, 'deadline exceeded before the call arrived'));
      return;
    }
    const gate = this.context.gate;
    if (gate === undefined) {
      this.start(frame, entry, request, serializer, this.peer);
      return;
    }
    // Counted while the gate decides, so that a gate that waits cannot pile up calls past the limit.
    this.stats.active++;
    passGate(gate, { service: entry.service, method: entry.method, metadata: request.metadata, peer: this.peer, protocol: this.protocol }, (principal) => {
      this.stats.active--;
      if (!this.connection.isClosed) this.start(frame, entry, request, serializer, principal);
    }, (error) => {
      this.stats.active--;
      this.reject(oneWay, id, serializer, error);
    });
  }

  /** Decodes an admitted request's arguments and runs it. */
  private start(frame: Frame, entry: MethodEntry, request: RequestMetadata, wireSerializer: Serializer, principal: Principal | undefined): void {
    const serializer = methodSerializer(wireSerializer, entry.service, entry.method, 'server');
    const oneWay = frame.type === FrameType.ONEWAY;
    const id = frame.requestId;
    let args: unknown;
    try {
      args = frame.body.length === 0 ? [] : serializer.decode(frame.body);
    } catch (error) {
      this.reject(oneWay, id, serializer, new RpcError(Code.INVALID_ARGUMENT, `cannot decode arguments: ${errorMessage(error)}`));
      return;
    }
    if (!Array.isArray(args)) {
      this.reject(oneWay, id, serializer, new RpcError(Code.INVALID_ARGUMENT, 'arguments must be an array'));
      return;
    }
    const streaming = returnsStream(entry.options);
    const takes = takesStream(entry.options);
    if (oneWay && (entry.options.stream !== undefined || request.target.callbacks !== undefined)) {
      this.reject(oneWay, id, serializer, new RpcError(Code.INVALID_ARGUMENT, 'a one-way call can neither stream nor take callbacks'));
      return;
    }
    if (takes !== (request.target.inputStream === true) || (takes && (args.length > 0 || request.target.callbacks !== undefined))) {
      this.reject(oneWay, id, serializer, new RpcError(Code.INVALID_ARGUMENT, takes
        ? `${entry.service.id}.${entry.method} takes a request stream (its one argument, an AsyncIterable) and nothing else`
        : `${entry.service.id}.${entry.method} takes no request stream`));
      return;
    }
    const call = new TcpServerCall(entry, args, request.metadata, request.target.timeoutMs, oneWay, id, serializer);
    call.principal = principal;
    call.requestBytes = frame.body.length;
    for (const index of request.target.callbacks ?? []) {
      if (index >= args.length) {
        this.reject(oneWay, id, serializer, new RpcError(Code.INVALID_ARGUMENT, `callback index ${index} is past the arguments`));
        return;
      }
      args[index] = this.callbacks.proxy(id, index, call, serializer, () => this.inFlight.get(id) === call);
    }
    this.stats.active++;
    if (!oneWay) {
      this.inFlight.set(id, call);
      if (call.deadline !== undefined && this.withDeadline++ === 0) this.sweeper = setInterval(this.sweep, DEADLINE_SWEEP_MS).unref();
    }
    if (streaming) call.credit = new StreamCredit(request.target.credit ?? DEFAULT_STREAM_CREDIT);
    if (takes) {
      call.input = new ServerInput((count) => {
        if (this.isOpen(call)) this.connection.send(FrameType.CREDIT, 0, 0, id, undefined, countBody(count));
      });
      args.push(call.input.stream);
    }
    dispatch(entry, call, this, this.context.logger);
  }

  // The CallResponder side: the dispatcher tells this connection how each call ended.
  settled(): void {
    this.stats.active--;
  }

  isOpen(call: TcpServerCall): boolean {
    return this.inFlight.get(call.requestId) === call;
  }

  result(call: TcpServerCall, value: unknown): void {
    if (this.forget(call)) this.respond(call, value);
  }

  error(call: TcpServerCall, error: RpcError): void {
    if (this.forget(call)) this.respondError(call.requestId, call.wireSerializer, error, responseMetadata(call));
  }

  /** A stream item as a STREAM_ITEM frame; then, if the caller's credit is spent, a wait for more. */
  item(call: TcpServerCall, value: unknown): Promise<void> | undefined {
    const body = this.encodeItem(call.wireSerializer, value);
    call.responseBytes += body.byteLength;
    const credit = call.credit!;
    if (!credit.available) {
      // Only a caller that granted no credit at all gets here: the item waits for its first grant.
      return credit.ready()!.then(() => {
        if (this.isOpen(call)) this.sendItem(call, credit, body);
      });
    }
    this.sendItem(call, credit, body);
    return credit.ready();
  }

  /** The stream's end: an empty RESPONSE. */
  end(call: TcpServerCall): void {
    if (!this.forget(call)) return;
    this.connection.send(FrameType.RESPONSE, 0, call.wireSerializer.id, call.requestId, responseMetadata(call), undefined);
  }

  /** Sends a result, or RESOURCE_EXHAUSTED if it does not fit the frame limit the caller announced. */
  private respond(call: TcpServerCall, result: unknown): void {
    const { requestId: id, wireSerializer: serializer } = call;
    let body: Body | undefined;
    try {
      body = result === undefined ? undefined : encodeBody(serializer, result);
    } catch (error) {
      this.respondError(id, serializer, new RpcError(Code.INTERNAL, `cannot encode the result: ${errorMessage(error)}`));
      return;
    }
    const metadata = responseMetadata(call);
    call.responseBytes = bodyLength(body);
    const size = (metadata?.length ?? 0) + call.responseBytes;
    const limit = this.connection.sendLimit;
    if (size > limit) {
      this.context.logger.warn({ service: call.service.id, method: call.method, size, limit }, 'response exceeds the frame limit');
      this.respondError(id, serializer, new RpcError(Code.RESOURCE_EXHAUSTED, `response of ${size} bytes exceeds the frame limit of ${limit}`));
      return;
    }
    this.connection.send(FrameType.RESPONSE, 0, serializer.id, id, metadata, body);
  }


  private sendItem(call: TcpServerCall, credit: StreamCredit, body: Uint8Array): void {
    credit.spend();
    this.connection.send(FrameType.STREAM_ITEM, 0, call.wireSerializer.id, call.requestId, undefined, body);
  }

  private encodeItem(serializer: Serializer, value: unknown): Uint8Array {
    let body: Uint8Array;
    try {
      body = serializer.encode(value);
    } catch (error) {
      throw new RpcError(Code.INTERNAL, `cannot encode a stream item: ${errorMessage(error)}`);
    }
    const limit = this.connection.sendLimit;
    if (body.byteLength > limit) {
      throw new RpcError(Code.RESOURCE_EXHAUSTED, `stream item of ${body.byteLength} bytes exceeds the frame limit of ${limit}`);
    }
    return body;
  }

  /**
   * The server's deadline for a call passed while its handler runs: the caller hears
   * DEADLINE_EXCEEDED now, and the handler's signal fires. The handler keeps its place in
   * `stats.active` (and in any concurrency limit) until it has settled.
   */
  private expire(call: TcpServerCall): void {
    if (!this.forget(call)) return;
    const error = new RpcError(Code.DEADLINE_EXCEEDED, `deadline of ${call.budgetMs} ms exceeded on the server`);
    call.abort(error);
    call.credit?.stop();
    call.input?.fail(error);
    this.respondError(call.requestId, call.wireSerializer, error);
  }

  /** The caller's request stream broke the call (an item past its credit, or one that cannot be decoded). */
  private failInput(call: TcpServerCall, error: RpcError): void {
    if (!this.forget(call)) return;
    call.abort(error);
    call.credit?.stop();
    call.input?.fail(error);
    this.respondError(call.requestId, call.wireSerializer, error);
  }

  private readonly sweep = (): void => {
    const now = Date.now();
    // forget() deletes the entry being visited, which a Map's iteration allows.
    for (const call of this.inFlight.values()) if (call.deadline !== undefined && call.deadline <= now) this.expire(call);
  };

  /** Forgets a call that is answered now; false if it was already (cancelled or timed out), so nothing more is sent. */
  private forget(call: TcpServerCall): boolean {
    if (this.inFlight.get(call.requestId) !== call) return false;
    this.inFlight.delete(call.requestId);
    if (call.deadline !== undefined && --this.withDeadline === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
    return true;
  }

  private reject(oneWay: boolean, id: number, serializer: Serializer | undefined, error: RpcError, flags = 0): void {
    if (oneWay) {
      this.context.logger.warn({ code: error.code, message: error.message }, 'one-way call refused');
      return;
    }
    this.respondError(id, serializer ?? errorSerializer, error, undefined, flags);
  }

  /** Sends an error; one too large for the caller's frame limit is shortened, and this never throws. */
  private respondError(id: number, serializer: Serializer, error: RpcError, metadata?: Buffer, flags = 0): void {
    // A serializer bound to one method's messages (`Serializer.forMethod`) does not write errors: the one it came from does.
    const encoded = encodeError(this.context.serializers.byWireId(serializer.id) ?? serializer, error, this.connection.sendLimit, metadata?.length ?? 0);
    this.connection.send(FrameType.RESPONSE, Flags.ERROR | flags, encoded.serializer.id, id, encoded.keepMetadata ? metadata : undefined, encoded.body);
  }
}

function responseMetadata(call: ServerCall): Buffer | undefined {
  return call.hasResponseMetadata ? encodeMetadata(call.responseMetadata) : undefined;
}
