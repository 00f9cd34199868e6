import { connect as netConnect } from 'node:net';
import { Code } from '../../core/code.js';
import type { Invocation } from '../../core/invocation.js';
import { RpcError, fromWireError, toWireError } from '../../core/rpc-error.js';
import { errorSerializer, type SerializerSet } from '../../serialization/registry.js';
import { bodyLength, encodeBody, type Body, type Serializer } from '../../serialization/serializer.js';
import { Backoff, type BackoffOptions } from '../backoff.js';
import type { Channel, ChannelState } from '../transport.js';
import { Connection, type ConnectionOptions } from './connection.js';
import { IncomingStream, STREAM_WINDOW } from './client-stream.js';
import { Flags, FrameType, countBody, decodeMetadata, encodeMetadata, type Frame } from './frame.js';

export interface TcpChannelOptions extends ConnectionOptions {
  connectTimeoutMs: number;
  backoff: BackoffOptions;
  /** Serializers this client reads responses with. */
  serializers: SerializerSet;
}

/**
 * The client side of one `tcp://` provider address: one long-lived connection shared by every
 * call to it, opened on first use and again after it is lost, with backoff after failed attempts.
 */
export class TcpChannel implements Channel {
  private current: ClientConnection | undefined;
  private connecting: Promise<ClientConnection> | undefined;
  private readonly leaving = new Set<ClientConnection>();
  private readonly backoff: Backoff;
  private retryAt = 0;
  private lastError: RpcError | undefined;
  private shutdown = false;
  private goAwayReceived = false;

  constructor(
    readonly address: string,
    private readonly host: string,
    private readonly port: number,
    private readonly options: TcpChannelOptions,
  ) {
    this.backoff = new Backoff(options.backoff);
  }

  get state(): ChannelState {
    if (this.shutdown) return 'SHUTDOWN';
    if (this.current !== undefined) return 'READY';
    if (this.connecting !== undefined) return 'CONNECTING';
    return Date.now() < this.retryAt ? 'TRANSIENT_FAILURE' : 'IDLE';
  }

  get draining(): boolean {
    return this.goAwayReceived;
  }

  call(invocation: Invocation, serializer: Serializer, serviceId: string): Promise<unknown> {
    const ready = this.current;
    if (ready !== undefined) return ready.call(invocation, serializer, serviceId);
    if (this.shutdown) return Promise.reject(new RpcError(Code.UNAVAILABLE, `channel to ${this.address} is closed`, { unprocessed: true }));
    if (this.state === 'TRANSIENT_FAILURE') {
      return Promise.reject(new RpcError(Code.UNAVAILABLE, `${this.address} unreachable, next attempt in ${this.retryAt - Date.now()} ms: ${this.lastError?.message}`, { unprocessed: true }));
    }
    return this.connect().then((connection) => connection.call(invocation, serializer, serviceId));
  }

  async close(timeoutMs = 5000): Promise<void> {
    this.shutdown = true;
    const connections = [...this.leaving];
    if (this.current !== undefined) connections.push(this.current);
    this.current = undefined;
    await Promise.all(connections.map((connection) => connection.leave(timeoutMs)));
  }

  private connect(): Promise<ClientConnection> {
    this.connecting ??= new Promise<ClientConnection>((resolve, reject) => {
      const socket = netConnect({ host: this.host, port: this.port });
      const timer = setTimeout(() => socket.destroy(new Error(`connect timed out after ${this.options.connectTimeoutMs} ms`)), this.options.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', fail);
        this.connecting = undefined;
        this.goAwayReceived = false;
        this.backoff.reset();
        const connection = new ClientConnection(socket, this.address, this.options, {
          goAway: () => this.detach(connection),
          closed: () => {
            this.leaving.delete(connection);
            if (this.current === connection) this.current = undefined;
          },
        });
        if (this.shutdown) {
          void connection.leave(0);
          reject(new RpcError(Code.UNAVAILABLE, `channel to ${this.address} is closed`, { unprocessed: true }));
          return;
        }
        this.current = connection;
        resolve(connection);
      });
      const fail = (error: Error): void => {
        clearTimeout(timer);
        this.connecting = undefined;
        this.retryAt = Date.now() + this.backoff.next();
        this.lastError = new RpcError(Code.UNAVAILABLE, `cannot connect to ${this.address}: ${error.message}`, { unprocessed: true, cause: error });
        reject(this.lastError);
      };
      socket.once('error', fail);
    });
    return this.connecting;
  }

  /** The server said GOAWAY: new calls go to a new connection, this one closes once drained. */
  private detach(connection: ClientConnection): void {
    if (this.current === connection) this.current = undefined;
    this.goAwayReceived = true;
    this.leaving.add(connection);
  }
}

interface PendingCall {
  invocation: Invocation;
  /** Server-streaming calls: where the items go. */
  stream: IncomingStream | undefined;
  /** The call's callback arguments, by argument index. */
  callbacks: Array<((...args: unknown[]) => unknown) | undefined> | undefined;
  serializer: Serializer;
  resolve(value: unknown): void;
  reject(error: RpcError): void;
  /** The connection's flush generation when queued: equal to the current one means not yet written. */
  generation: number;
  timer: NodeJS.Timeout | undefined;
  onAbort: (() => void) | undefined;
}

interface ConnectionHooks {
  goAway(): void;
  closed(): void;
}

const MAX_REQUEST_ID = 0xffffffff;
// Encoded :service/:method pairs by service id and method: a call re-encodes neither.
const targetCache = new Map<string, Map<string, Buffer>>();

/** One client socket: request ids, calls waiting for their response, deadlines and cancels. */
class ClientConnection {
  private readonly connection: Connection;
  private readonly pending = new Map<number, PendingCall>();
  private nextId = 1;
  private leaving = false;
  private onDrained: (() => void) | undefined;

  constructor(
    socket: import('node:net').Socket,
    private readonly address: string,
    private readonly options: TcpChannelOptions,
    private readonly hooks: ConnectionHooks,
  ) {
    this.connection = new Connection(socket, options, {
      onFrame: (frame) => this.onFrame(frame),
      onClose: (reason) => this.onClose(reason),
    });
  }

  call(invocation: Invocation, serializer: Serializer, serviceId: string): Promise<unknown> {
    let timeoutMs: number | undefined;
    if (invocation.deadline !== undefined) {
      timeoutMs = invocation.deadline - Date.now();
      if (timeoutMs <= 0) return Promise.reject(new RpcError(Code.DEADLINE_EXCEEDED, 'deadline exceeded before the call was sent', { unprocessed: true }));
    }
    if (invocation.signal?.aborted) return Promise.reject(cancelled(invocation.signal));
    const streaming = invocation.service.methods.get(invocation.method)?.stream === 'server';
    const { args, callbacks, indexes } = takeCallbacks(invocation.args);
    const extra: Array<[string, string]> = [];
    if (streaming) extra.push([':credit', String(STREAM_WINDOW)]);
    if (indexes !== undefined) extra.push([':callbacks', indexes.join(',')]);
    if (invocation.oneWay && extra.length > 0) {
      return Promise.reject(new RpcError(Code.INVALID_ARGUMENT, 'a one-way call can neither stream nor take callbacks', { unprocessed: true }));
    }
    let body: Body;
    try {
      body = encodeBody(serializer, args);
    } catch (error) {
      return Promise.reject(new RpcError(Code.INVALID_ARGUMENT, `cannot encode the arguments: ${(error as Error).message}`, { unprocessed: true }));
    }
    const metadata = requestMetadata(invocation, serviceId, timeoutMs, extra);
    const size = metadata.length + bodyLength(body);
    if (size > this.options.maxFrameSize) {
      return Promise.reject(new RpcError(Code.RESOURCE_EXHAUSTED, `request of ${size} bytes exceeds the frame limit of ${this.options.maxFrameSize}`, { unprocessed: true }));
    }
    const id = this.nextId;
    this.nextId = id === MAX_REQUEST_ID ? 1 : id + 1;
    if (invocation.oneWay) {
      this.connection.send(FrameType.ONEWAY, 0, serializer.id, id, metadata, body);
      return Promise.resolve(undefined);
    }
    return new Promise<unknown>((resolve, reject) => {
      const pending: PendingCall = {
        invocation, serializer, resolve, reject, stream: undefined, callbacks,
        generation: this.connection.flushGeneration, timer: undefined, onAbort: undefined,
      };
      if (timeoutMs !== undefined) {
        pending.timer = setTimeout(() => this.abandon(id, new RpcError(Code.DEADLINE_EXCEEDED, `deadline of ${timeoutMs} ms exceeded`)), timeoutMs);
      }
      const signal = invocation.signal;
      if (signal !== undefined) {
        pending.onAbort = () => this.abandon(id, cancelled(signal));
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      this.pending.set(id, pending);
      this.connection.send(FrameType.REQUEST, 0, serializer.id, id, metadata, body);
      if (streaming) {
        pending.stream = new IncomingStream(
          (count) => this.connection.send(FrameType.CREDIT, 0, 0, id, undefined, countBody(count)),
          () => this.abandon(id, new RpcError(Code.CANCELLED, 'stream closed by the caller')),
        );
        resolve(pending.stream);
      }
    });
  }

  /** Sends no more calls, tells the server, and closes once the calls in flight are answered. */
  leave(timeoutMs: number): Promise<void> {
    if (!this.leaving) {
      this.leaving = true;
      this.connection.goAway('client closing');
    }
    if (this.pending.size === 0 || this.connection.isClosed) {
      this.connection.end();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.connection.close(new RpcError(Code.CANCELLED, 'client closed'));
        resolve();
      }, timeoutMs);
      this.onDrained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private onFrame(frame: Frame): void {
    if (frame.type === FrameType.RESPONSE) {
      this.onResponse(frame);
    } else if (frame.type === FrameType.STREAM_ITEM) {
      this.onStreamItem(frame);
    } else if (frame.type === FrameType.CALLBACK) {
      this.onCallback(frame);
    } else if (frame.type === FrameType.GOAWAY) {
      this.leaving = true;
      this.hooks.goAway();
      this.endIfDrained();
    }
    // Anything else a server sends is ignored: version 1 servers send nothing more.
  }

  private onResponse(frame: Frame): void {
    const call = this.pending.get(frame.requestId);
    if (call === undefined) return; // cancelled or timed out: the late answer is dropped
    this.pending.delete(frame.requestId);
    this.release(call);
    try {
      if (frame.metadata.length > 0) {
        const response = call.invocation.responseMetadata;
        for (const [key, value] of decodeMetadata(frame.metadata)) response.set(key, value);
      }
      const serializer = this.options.serializers.forResponse(frame.serializer);
      if (serializer === undefined) throw new RpcError(Code.INTERNAL, `response in unknown serializer ${frame.serializer}`);
      if ((frame.flags & Flags.ERROR) !== 0) settle(call, fromWireError(serializer.decode(frame.body)));
      else if (call.stream !== undefined) call.stream.finish();
      else call.resolve(frame.body.length === 0 ? undefined : serializer.decode(frame.body));
    } catch (error) {
      settle(call, RpcError.from(error, Code.INTERNAL));
    }
    this.endIfDrained();
  }

  private onStreamItem(frame: Frame): void {
    const call = this.pending.get(frame.requestId);
    if (call?.stream === undefined) return;
    let value: unknown;
    try {
      const serializer = this.options.serializers.forResponse(frame.serializer);
      if (serializer === undefined) throw new RpcError(Code.INTERNAL, `stream item in unknown serializer ${frame.serializer}`);
      value = serializer.decode(frame.body);
    } catch (error) {
      this.abandon(frame.requestId, RpcError.from(error, Code.INTERNAL));
      return;
    }
    call.stream.push(value);
  }

  /** The server calls one of the caller's callback arguments; the answer goes back on this connection. */
  private onCallback(frame: Frame): void {
    let callId = -1;
    let index = -1;
    const answer = (flags: number, serializer: Serializer, value: unknown) =>
      this.connection.send(FrameType.CALLBACK_RESPONSE, flags, serializer.id, frame.requestId, undefined, value === undefined ? undefined : serializer.encode(value));
    const fail = (error: unknown) => answer(Flags.ERROR, errorSerializer, toWireError(RpcError.from(error)));
    try {
      decodeMetadata(frame.metadata, (key, value) => {
        if (key === ':call') callId = Number(value);
        else if (key === ':index') index = Number(value);
      });
      const fn = this.pending.get(callId)?.callbacks?.[index];
      if (fn === undefined) throw new RpcError(Code.NOT_FOUND, `no callback ${index} for call ${callId}`);
      const serializer = this.options.serializers.forResponse(frame.serializer);
      if (serializer === undefined) throw new RpcError(Code.INVALID_ARGUMENT, `callback in unknown serializer ${frame.serializer}`);
      const args = frame.body.length === 0 ? [] : serializer.decode(frame.body);
      if (!Array.isArray(args)) throw new RpcError(Code.INVALID_ARGUMENT, 'callback arguments must be an array');
      Promise.resolve()
        .then(() => fn(...(args as unknown[])))
        .then((value) => answer(0, serializer, value))
        .catch(fail);
    } catch (error) {
      fail(error);
    }
  }

  /** The caller gave up: fail the call now and tell the server to stop. */
  private abandon(id: number, error: RpcError): void {
    const call = this.pending.get(id);
    if (call === undefined) return;
    this.pending.delete(id);
    this.release(call);
    this.connection.send(FrameType.CANCEL, 0, 0, id, undefined, undefined);
    settle(call, error);
    this.endIfDrained();
  }

  private onClose(reason: RpcError): void {
    for (const call of this.pending.values()) {
      this.release(call);
      const unprocessed = call.generation === this.connection.flushGeneration;
      settle(call, new RpcError(Code.UNAVAILABLE, `${reason.message} (call to ${this.address})`, { unprocessed, cause: reason }));
    }
    this.pending.clear();
    this.hooks.closed();
    this.onDrained?.();
  }

  private endIfDrained(): void {
    if (this.leaving && this.pending.size === 0) {
      this.connection.end();
      this.onDrained?.();
    }
  }

  private release(call: PendingCall): void {
    if (call.timer !== undefined) clearTimeout(call.timer);
    if (call.onAbort !== undefined) call.invocation.signal?.removeEventListener('abort', call.onAbort);
  }
}

/** The metadata section of a request: cached pseudo-keys naming the target, then the rest. */
function requestMetadata(invocation: Invocation, serviceId: string, timeoutMs: number | undefined, extra: Array<[string, string | Uint8Array]>): Buffer {
  let methods = targetCache.get(serviceId);
  if (methods === undefined) {
    methods = new Map();
    targetCache.set(serviceId, methods);
  }
  let target = methods.get(invocation.method);
  if (target === undefined) {
    target = encodeMetadata([[':service', serviceId], [':method', invocation.method]]);
    methods.set(invocation.method, target);
  }
  const user = invocation.metadata;
  if (timeoutMs === undefined && user.size === 0 && extra.length === 0) return target;
  if (timeoutMs !== undefined) extra.push([':timeout', String(Math.ceil(timeoutMs))]);
  for (const entry of user) extra.push(entry);
  return Buffer.concat([target, encodeMetadata(extra)]);
}

/** A failed call: a stream reports it to its reader, any other call rejects. */
function settle(call: PendingCall, error: RpcError): void {
  if (call.stream !== undefined) call.stream.fail(error);
  else call.reject(error);
}

/** Takes the function arguments out of a call, to be called back; null stands in their place on the wire. */
function takeCallbacks(args: unknown[]): { args: unknown[]; callbacks?: PendingCall['callbacks']; indexes?: number[] } {
  let out: unknown[] | undefined;
  let callbacks: PendingCall['callbacks'];
  let indexes: number[] | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (typeof arg !== 'function') continue;
    out ??= args.slice();
    (callbacks ??= [])[i] = arg as (...args: unknown[]) => unknown;
    (indexes ??= []).push(i);
    out[i] = null;
  }
  return { args: out ?? args, callbacks, indexes };
}

function cancelled(signal: AbortSignal): RpcError {
  const reason: unknown = signal.reason;
  if (reason instanceof RpcError) return reason;
  return new RpcError(Code.CANCELLED, reason instanceof Error ? `cancelled: ${reason.message}` : 'cancelled by the caller', { cause: reason });
}
