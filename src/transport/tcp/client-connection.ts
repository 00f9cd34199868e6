import type { Socket } from 'node:net';
import { Code } from '../../core/code.js';
import type { Invocation } from '../../core/invocation.js';
import { refusal } from '../../core/call-watch.js';
import { RpcError, errorMessage } from '../../core/rpc-error.js';
import { startTimer, stopTimer } from '../../core/timer.js';
import { errorSerializer, type SerializerSet } from '../../serialization/registry.js';
import { bodyLength, encodeBody, methodSerializer, type Body, type Serializer } from '../../serialization/serializer.js';
import { Connection, type ConnectionOptions } from './connection.js';
import { InboundStream, STREAM_WINDOW } from '../../core/inbound-stream.js';
import { pumpRequestStream, requestStreamOf, type RequestStream } from '../../core/request-stream.js';
import { returnsStream, takesStream } from '../../core/service.js';
import { RequestSink } from './client-input.js';
import { Flags, FrameType, countBody, decodeMetadata, readCount, type Frame } from './frame.js';
import { PendingCall, requestMetadata, responseError, takeCallbacks } from './client-request.js';
import { encodeError } from './wire-error.js';

export interface ClientConnectionOptions extends ConnectionOptions {
  /** Serializers this client reads responses with. */
  serializers: SerializerSet;
  /** The serializer this client writes requests with, bound to the channel when it is made. */
  serializer: Serializer;
}

export interface ConnectionHooks {
  /** The server's limits are known: the connection may carry calls. */
  ready(): void;
  goAway(): void;
  closed(reason: RpcError): void;
}

const MAX_REQUEST_ID = 0xffffffff;

/** One client socket: request ids, calls waiting for their response, deadlines and cancels. */
export class ClientConnection {
  private readonly connection: Connection;
  private readonly pending = new Map<number, PendingCall>();
  private nextId = 1;
  private leaving = false;
  private onDrained: (() => void) | undefined;

  constructor(
    /** Read for the channel's byte counts. */
    readonly socket: Socket,
    private readonly address: string,
    private readonly options: ClientConnectionOptions,
    private readonly hooks: ConnectionHooks,
  ) {
    this.connection = new Connection(socket, options, {
      onFrame: (frame) => this.onFrame(frame),
      onClose: (reason) => this.onClose(reason),
      onReady: () => hooks.ready(),
    });
  }

  /** Calls waiting for their answer (a stream until it ends). */
  get active(): number {
    return this.pending.size;
  }

  /** True once the server said GOAWAY or this side began to leave. */
  get isLeaving(): boolean {
    return this.leaving;
  }

  call(invocation: Invocation, serviceId: string): Promise<unknown> {
    const refused = refusal(invocation);
    if (refused !== undefined) return Promise.reject(refused);
    const timeoutMs = invocation.deadline === undefined ? undefined : invocation.deadline - Date.now();
    const serializer = methodSerializer(this.options.serializer, invocation.service, invocation.method, 'client');
    const method = invocation.service.methods.get(invocation.method);
    const streaming = returnsStream(method);
    let input: RequestStream | undefined;
    try {
      if (takesStream(method)) input = requestStreamOf(invocation.args, invocation.method);
    } catch (error) {
      return Promise.reject(error);
    }
    const { args, callbacks, indexes } = input === undefined ? takeCallbacks(invocation.args) : { args: [], callbacks: undefined, indexes: undefined };
    const extra: Array<[string, string]> = [];
    if (streaming) extra.push([':credit', String(STREAM_WINDOW)]);
    if (input !== undefined) extra.push([':input', 'stream']);
    if (indexes !== undefined) extra.push([':callbacks', indexes.join(',')]);
    if (invocation.oneWay && extra.length > 0) {
      return Promise.reject(new RpcError(Code.INVALID_ARGUMENT, 'a one-way call can neither stream nor take callbacks', { unprocessed: true }));
    }
    let body: Body;
    try {
      body = encodeBody(serializer, args);
    } catch (error) {
      return Promise.reject(new RpcError(Code.INVALID_ARGUMENT, `cannot encode the arguments: ${errorMessage(error)}`, { unprocessed: true }));
    }
    const metadata = requestMetadata(invocation, serviceId, timeoutMs, extra);
    const size = metadata.length + bodyLength(body);
    const limit = this.connection.sendLimit;
    if (size > limit) {
      return Promise.reject(new RpcError(Code.RESOURCE_EXHAUSTED, `request of ${size} bytes exceeds the frame limit of ${limit}`, { unprocessed: true }));
    }
    const id = this.nextId;
    this.nextId = id === MAX_REQUEST_ID ? 1 : id + 1;
    if (invocation.oneWay) {
      this.connection.send(FrameType.ONEWAY, 0, serializer.id, id, metadata, body);
      return Promise.resolve(undefined);
    }
    return new Promise<unknown>((resolve, reject) => {
      const pending = new PendingCall(id, invocation, callbacks, resolve, reject, this.connection.flushGeneration, this.giveUp);
      this.pending.set(id, pending);
      this.connection.send(FrameType.REQUEST, 0, serializer.id, id, metadata, body);
      pending.sent(this.address);
      if (input !== undefined) this.sendInput(pending, input, serializer);
      if (streaming) {
        pending.stream = new InboundStream(
          (count) => this.connection.send(FrameType.CREDIT, 0, 0, id, undefined, countBody(count)),
          () => this.abandon(id, new RpcError(Code.CANCELLED, 'stream closed by the caller')),
        );
        resolve(pending.stream);
      }
    });
  }

  /** Sends a call's request stream as the server grants credit, until the stream or the call ends. */
  private sendInput(pending: PendingCall, stream: RequestStream, serializer: Serializer): void {
    const id = pending.id;
    const sink = new RequestSink(this.connection, serializer, id, () => this.pending.get(id) === pending, (error) => this.abandon(id, error));
    pending.input = { stream, sink };
    void pumpRequestStream(stream, sink);
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
      const timer = startTimer(timeoutMs, () => {
        this.connection.close(new RpcError(Code.CANCELLED, 'client closed'));
        resolve();
      }, undefined);
      this.onDrained = () => {
        stopTimer(timer);
        resolve();
      };
    });
  }

  /** Closes at once, failing whatever is pending with `reason`. */
  close(reason: RpcError): void {
    this.connection.close(reason);
  }

  private onFrame(frame: Frame): void {
    if (frame.type === FrameType.RESPONSE) {
      this.onResponse(frame);
    } else if (frame.type === FrameType.STREAM_ITEM) {
      this.onStreamItem(frame);
    } else if (frame.type === FrameType.CREDIT) {
      this.pending.get(frame.requestId)?.input?.sink.credit.grant(readCount(frame.body));
    } else if (frame.type === FrameType.CALLBACK) {
      this.onCallback(frame);
    } else if (frame.type === FrameType.GOAWAY) {
      this.leaving = true;
      this.hooks.goAway();
      this.endIfDrained();
    }
    // Anything else a server sends is ignored, so that later revisions may add frames.
  }

  private onResponse(frame: Frame): void {
    const call = this.pending.get(frame.requestId);
    if (call === undefined) return; // cancelled or timed out: the late answer is dropped
    this.pending.delete(frame.requestId);
    call.release();
    try {
      if (frame.metadata.length > 0) {
        const response = call.invocation.responseMetadata;
        for (const [key, value] of decodeMetadata(frame.metadata)) response.set(key, value);
      }
      const serializer = this.readerOf(frame, call.invocation);
      if (serializer === undefined) throw new RpcError(Code.INTERNAL, `response in unknown serializer ${frame.serializer}`);
      if ((frame.flags & Flags.ERROR) !== 0) call.fail(responseError(serializer.decode(frame.body), frame.flags));
      else if (call.stream !== undefined) call.stream.finish();
      else call.resolve(frame.body.length === 0 ? undefined : serializer.decode(frame.body));
    } catch (error) {
      call.fail(RpcError.from(error, Code.INTERNAL));
    }
    this.endIfDrained();
  }

  private onStreamItem(frame: Frame): void {
    const call = this.pending.get(frame.requestId);
    if (call?.stream === undefined) return;
    let value: unknown;
    try {
      const serializer = this.readerOf(frame, call.invocation);
      if (serializer === undefined) throw new RpcError(Code.INTERNAL, `stream item in unknown serializer ${frame.serializer}`);
      value = serializer.decode(frame.body);
    } catch (error) {
      this.abandon(frame.requestId, RpcError.from(error, Code.INTERNAL));
      return;
    }
    call.stream.push(value);
  }

  /** Answers in this client's own serializer are read as the call's method writes them (`Serializer.forMethod`); errors as they are. */
  private readerOf(frame: Frame, invocation: Invocation): Serializer | undefined {
    const own = this.options.serializer;
    if (frame.serializer !== own.id || (frame.flags & Flags.ERROR) !== 0) return this.options.serializers.forResponse(frame.serializer);
    return methodSerializer(own, invocation.service, invocation.method, 'client');
  }

  /** The server calls one of the caller's callback arguments; the answer goes back on this connection. */
  private onCallback(frame: Frame): void {
    const connection = this.connection;
    const id = frame.requestId;
    let callId = -1;
    let index = -1;
    const fail = (error: unknown): void => {
      const encoded = encodeError(errorSerializer, RpcError.from(error), connection.sendLimit);
      connection.send(FrameType.CALLBACK_RESPONSE, Flags.ERROR, encoded.serializer.id, id, undefined, encoded.body);
    };
    try {
      decodeMetadata(frame.metadata, (key, value) => {
        if (key === ':call') callId = Number(value);
        else if (key === ':index') index = Number(value);
      });
      const fn = this.pending.get(callId)?.callbacks?.[index];
      if (fn === undefined) throw new RpcError(Code.NOT_FOUND, `no callback ${index} for call ${callId}`);
      const decoder = this.options.serializers.forResponse(frame.serializer);
      if (decoder === undefined) throw new RpcError(Code.INVALID_ARGUMENT, `callback in unknown serializer ${frame.serializer}`);
      const args = frame.body.length === 0 ? [] : decoder.decode(frame.body);
      if (!Array.isArray(args)) throw new RpcError(Code.INVALID_ARGUMENT, 'callback arguments must be an array');
      Promise.resolve()
        .then(() => fn(...(args as unknown[])))
        .then((value) => {
          const body = value === undefined ? undefined : decoder.encode(value);
          const size = body?.length ?? 0;
          if (size > connection.sendLimit) throw new RpcError(Code.RESOURCE_EXHAUSTED, `callback result of ${size} bytes exceeds the frame limit of ${connection.sendLimit}`);
          connection.send(FrameType.CALLBACK_RESPONSE, 0, decoder.id, id, undefined, body);
        })
        .catch(fail);
    } catch (error) {
      fail(error);
    }
  }

  /** The deadline or signal of a call ended it: one function for every call, so a call makes no closure. */
  private readonly giveUp = (id: number, error: RpcError): void => this.abandon(id, error);

  /** The caller gave up: fail the call now and tell the server to stop. */
  private abandon(id: number, error: RpcError): void {
    const call = this.pending.get(id);
    if (call === undefined) return;
    this.pending.delete(id);
    call.release();
    this.connection.send(FrameType.CANCEL, 0, 0, id, undefined, undefined);
    call.fail(error);
    this.endIfDrained();
  }

  private onClose(reason: RpcError): void {
    for (const call of this.pending.values()) {
      call.release();
      const unprocessed = call.unsent(this.connection.flushGeneration);
      call.fail(new RpcError(Code.UNAVAILABLE, `${reason.message} (call to ${this.address})`, { unprocessed, cause: reason }));
    }
    this.pending.clear();
    this.hooks.closed(reason);
    this.onDrained?.();
  }

  private endIfDrained(): void {
    if (this.leaving && this.pending.size === 0) {
      this.connection.end();
      this.onDrained?.();
    }
  }
}
