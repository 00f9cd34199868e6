import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { Code } from '../../core/code.js';
import type { MethodEntry } from '../../core/call-table.js';
import { RpcError, toWireError } from '../../core/rpc-error.js';
import { ServerCall } from '../../core/server-call.js';
import { errorSerializer } from '../../serialization/registry.js';
import { bodyLength, encodeBody, type Body, type Serializer } from '../../serialization/serializer.js';
import type { ServerContext, ServerTransport } from '../transport.js';
import { Connection, type ConnectionOptions } from './connection.js';
import { Flags, FrameType, ProtocolError, decodeRequestMetadata, encodeMetadata, readCount, type Frame } from './frame.js';
import { CallbackBridge } from './server-callbacks.js';
import { DEFAULT_STREAM_CREDIT, OutgoingStream } from './server-stream.js';

/** Serves the call table on one `tcp://host:port` address. */
export class TcpServerTransport implements ServerTransport {
  private readonly server: NetServer;
  private readonly connections = new Set<ServerConnection>();
  private draining = false;
  private allClosed: (() => void) | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly context: ServerContext,
    private readonly options: ConnectionOptions,
  ) {
    this.server = createNetServer((socket) => this.accept(socket));
  }

  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, this.host, () => {
        this.server.off('error', reject);
        const bound = this.server.address();
        const port = typeof bound === 'object' && bound !== null ? bound.port : this.port;
        const host = this.host.includes(':') ? `[${this.host}]` : this.host;
        resolve(`tcp://${host}:${port}`);
      });
    });
  }

  drain(): Promise<void> {
    this.draining = true;
    this.server.close();
    const done = new Promise<void>((resolve) => {
      this.allClosed = resolve;
    });
    for (const connection of this.connections) connection.goAway();
    this.checkClosed();
    return done;
  }

  forceClose(): void {
    this.server.close();
    for (const connection of this.connections) connection.destroy();
  }

  private accept(socket: Socket): void {
    if (this.draining) {
      socket.destroy();
      return;
    }
    const connection = new ServerConnection(socket, this.context, this.options, () => {
      this.connections.delete(connection);
      this.checkClosed();
    });
    this.connections.add(connection);
  }

  private checkClosed(): void {
    if (this.draining && this.connections.size === 0) this.allClosed?.();
  }
}

/** One accepted connection: dispatches its requests and answers them. */
class ServerConnection {
  private readonly connection: Connection;
  private readonly inFlight = new Map<number, ServerCall>();
  private readonly streams = new Map<number, OutgoingStream>();
  private readonly callbacks: CallbackBridge;

  constructor(
    socket: Socket,
    private readonly context: ServerContext,
    private readonly options: ConnectionOptions,
    onClosed: () => void,
  ) {
    this.connection = new Connection(socket, options, {
      onFrame: (frame) => this.onFrame(frame),
      onClose: (reason) => {
        for (const call of this.inFlight.values()) call.abort(reason);
        this.inFlight.clear();
        for (const stream of this.streams.values()) stream.stop();
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
          this.inFlight.delete(frame.requestId);
          call.abort(new RpcError(Code.CANCELLED, 'cancelled by the caller'));
        }
        this.streams.get(frame.requestId)?.stop();
        return;
      }
      case FrameType.CREDIT:
        this.streams.get(frame.requestId)?.grant(readCount(frame.body));
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
    const serializer = this.context.serializers.byWireId(frame.serializer);
    if (serializer === undefined) {
      this.reject(oneWay, id, undefined, new RpcError(Code.INVALID_ARGUMENT, `serializer id ${frame.serializer} is not enabled on this server`));
      return;
    }
    let request;
    try {
      request = decodeRequestMetadata(frame.metadata);
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
    let args: unknown;
    try {
      args = frame.body.length === 0 ? [] : serializer.decode(frame.body);
    } catch (error) {
      this.reject(oneWay, id, serializer, new RpcError(Code.INVALID_ARGUMENT, `cannot decode arguments: ${(error as Error).message}`));
      return;
    }
    if (!Array.isArray(args)) {
      this.reject(oneWay, id, serializer, new RpcError(Code.INVALID_ARGUMENT, 'arguments must be an array'));
      return;
    }
    const streaming = entry.options.stream === 'server';
    if (oneWay && (streaming || request.target.callbacks !== undefined)) {
      this.reject(oneWay, id, serializer, new RpcError(Code.INVALID_ARGUMENT, 'a one-way call can neither stream nor take callbacks'));
      return;
    }
    const timeout = request.target.timeoutMs;
    const call = new ServerCall(entry.service, entry.method, args, request.metadata, timeout === undefined ? undefined : Date.now() + timeout, oneWay);
    for (const index of request.target.callbacks ?? []) {
      if (index >= args.length) {
        this.reject(oneWay, id, serializer, new RpcError(Code.INVALID_ARGUMENT, `callback index ${index} is past the arguments`));
        return;
      }
      args[index] = this.callbacks.proxy(id, index, call, serializer, () => this.inFlight.get(id) === call);
    }
    if (streaming) this.runStream(entry, call, id, serializer, request.target.credit ?? DEFAULT_STREAM_CREDIT);
    else this.run(entry, call, id, serializer);
  }

  /** A server-streaming call: items as STREAM_ITEM frames, then an empty RESPONSE (or an error). */
  private runStream(entry: MethodEntry, call: ServerCall, id: number, serializer: Serializer, credit: number): void {
    this.inFlight.set(id, call);
    const stream = new OutgoingStream(call, serializer, {
      item: (body) => this.connection.send(FrameType.STREAM_ITEM, 0, serializer.id, id, undefined, body),
      end: (error) => {
        if (!this.settle(id, call)) return;
        const metadata = call.hasResponseMetadata ? encodeMetadata(call.responseMetadata) : undefined;
        if (error === undefined) this.connection.send(FrameType.RESPONSE, 0, serializer.id, id, metadata, undefined);
        else this.respondError(id, serializer, error, metadata);
      },
    }, credit);
    this.streams.set(id, stream);
    entry.handler(call)
      .then((result) => stream.run(result), (error: unknown) => stream.sink.end(RpcError.from(error)))
      .finally(() => {
        this.streams.delete(id);
        call.finish();
      });
  }

  private run(entry: MethodEntry, call: ServerCall, id: number, serializer: Serializer): void {
    if (!call.oneWay) this.inFlight.set(id, call);
    entry.handler(call).then(
      (result) => {
        call.finish();
        if (call.oneWay || !this.settle(id, call)) return;
        let body: Body | undefined;
        try {
          body = result === undefined ? undefined : encodeBody(serializer, result);
        } catch (error) {
          this.respondError(id, serializer, new RpcError(Code.INTERNAL, `cannot encode the result: ${(error as Error).message}`));
          return;
        }
        const metadata = call.hasResponseMetadata ? encodeMetadata(call.responseMetadata) : undefined;
        const size = (metadata?.length ?? 0) + bodyLength(body);
        if (size > this.options.maxFrameSize) {
          this.respondError(id, serializer, new RpcError(Code.RESOURCE_EXHAUSTED, `response of ${size} bytes exceeds the frame limit of ${this.options.maxFrameSize}`));
          return;
        }
        this.connection.send(FrameType.RESPONSE, 0, serializer.id, id, metadata, body);
      },
      (error: unknown) => {
        call.finish();
        const rpcError = RpcError.from(error);
        if (call.oneWay) {
          this.context.logger.warn({ service: entry.service.id, method: entry.method, code: rpcError.code, message: rpcError.message }, 'one-way call failed');
          return;
        }
        if (!this.settle(id, call)) return;
        this.respondError(id, serializer, rpcError, call.hasResponseMetadata ? encodeMetadata(call.responseMetadata) : undefined);
      },
    );
  }

  /** Forgets a finished call; false if its caller has cancelled it, so nothing is sent. */
  private settle(id: number, call: ServerCall): boolean {
    if (this.inFlight.get(id) !== call) return false;
    this.inFlight.delete(id);
    return true;
  }

  private reject(oneWay: boolean, id: number, serializer: Serializer | undefined, error: RpcError): void {
    if (oneWay) {
      this.context.logger.warn({ code: error.code, message: error.message }, 'one-way call refused');
      return;
    }
    this.respondError(id, serializer ?? errorSerializer, error);
  }

  private respondError(id: number, serializer: Serializer, error: RpcError, metadata?: Buffer): void {
    let body: Uint8Array;
    try {
      body = serializer.encode(toWireError(error));
    } catch {
      serializer = errorSerializer;
      body = serializer.encode({ code: error.code, name: error.name, message: error.message });
    }
    this.connection.send(FrameType.RESPONSE, Flags.ERROR, serializer.id, id, metadata, body);
  }
}
