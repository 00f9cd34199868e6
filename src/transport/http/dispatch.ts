import type { MethodEntry } from '../../core/call-table.js';
import { Code } from '../../core/code.js';
import type { Logger } from '../../core/logger.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';
import { dispatch, type CallResponder } from '../../core/dispatch.js';
import type { ServerCall } from '../../core/server-call.js';
import type { CallList, Listed } from '../../core/call-list.js';
import { startTimerAt, stopTimer, type Timer } from '../../core/timer.js';
import { jsonSerializer, jsonText } from '../../serialization/json.js';
import type { Exchange, ExchangeCall } from './exchange.js';
import { metadataHeaders } from './headers.js';
import type { RequestLines } from './request-lines.js';
import { eventId } from './sse.js';

const json = jsonSerializer();
const NULL = new TextEncoder().encode('null');

/** What the calls of one server share. */
export interface CallHost {
  readonly logger: Logger;
  /** The calls the server still answers for. */
  readonly calls: CallList<HttpCall>;
}

/**
 * One call from dispatch until the server is done with it. The handler's promise holds this object
 * until it settles, which may be never; so the server lets go of the call (its place in the table,
 * its deadline timer, its link to the request and response) as soon as it is answered, its
 * deadline passes or its client goes away. A handler that never settles then keeps only itself,
 * its call and this object alive. The dispatcher finishes the call only when the handler has
 * settled (and its stream ended), so that a concurrency limit counts a handler for as long as it runs.
 */
export class HttpCall implements ExchangeCall, CallResponder, Listed<HttpCall> {
  listPrev: HttpCall | undefined = undefined;
  listNext: HttpCall | undefined = undefined;
  private exchange: Exchange | undefined;
  private host: CallHost | undefined;
  private timer: Timer | undefined;
  private readonly logger: Logger;
  /** A client stream's request lines, read until the call is answered or ends. */
  private readonly input: RequestLines | undefined;

  constructor(host: CallHost, exchange: Exchange, private readonly entry: MethodEntry, private readonly call: ServerCall, input?: RequestLines) {
    this.host = host;
    this.logger = host.logger;
    this.input = input;
    if (call.oneWay) {
      exchange.send(202, undefined, '');
    } else {
      this.exchange = exchange;
      exchange.running = this;
    }
    host.calls.add(this);
    if (call.deadline !== undefined) this.timer = startTimerAt(call.deadline, expire, this);
    input?.start();
    dispatch(entry, call, this, this.logger);
  }

  /** The client went away: the handler's signal fires and the server forgets the call. */
  cancel(): void {
    if (this.exchange === undefined) return; // answered meanwhile
    this.giveUp(new RpcError(Code.CANCELLED, 'the client went away'));
    this.release();
  }

  /** The server is cut off: the same, with UNAVAILABLE. */
  cut(): void {
    this.giveUp(new RpcError(Code.UNAVAILABLE, 'server shut down'));
    this.release();
  }

  /** The deadline passed: the client gets 504 now, whatever the handler does later. */
  expire(): void {
    this.timer = undefined;
    this.refuse(new RpcError(Code.DEADLINE_EXCEEDED, 'deadline exceeded'));
  }

  /** The call fails with `error` now (its request stream could not be read, its deadline passed), whatever the handler does later. */
  refuse(error: RpcError): void {
    this.giveUp(error);
    this.error(this.call, error);
  }

  /** The handler's signal fires, and a handler still reading its request stream hears `reason` too. */
  private giveUp(reason: RpcError): void {
    this.call.abort(reason);
    this.input?.stop(reason);
  }

  // The CallResponder side: the dispatcher says how the call ended.
  settled(): void {
    stopTimer(this.timer);
    this.timer = undefined;
    this.host?.calls.delete(this);
    this.host = undefined;
  }

  isOpen(): boolean {
    return this.exchange !== undefined;
  }

  result(call: ServerCall, value: unknown): void {
    const exchange = this.take();
    if (exchange === undefined) return;
    try {
      const metadata = this.responseMetadata();
      const answer = exchange.format?.result;
      if (answer !== undefined) return answer(exchange, call, value, metadata);
      if (value === undefined) {
        exchange.send(204, undefined, '', metadata);
        return;
      }
      let body: string;
      try {
        body = jsonText(value);
      } catch (error) {
        return exchange.fail(new RpcError(Code.INTERNAL, `cannot encode the result: ${errorMessage(error)}`));
      }
      // JSON.stringify writes nothing at all for a function or a symbol
      if (body.length === 0) return exchange.fail(new RpcError(Code.INTERNAL, `cannot encode the result: JSON has no form for a ${typeof value}`));
      call.responseBytes = exchange.send(200, body, 'application/json', metadata);
    } catch (error) {
      this.transportFailed(exchange, error);
    }
  }

  error(_call: ServerCall, error: RpcError): void {
    const exchange = this.take();
    if (exchange === undefined) return;
    try {
      exchange.fail(error, undefined, this.responseMetadata());
    } catch (failure) {
      this.transportFailed(exchange, failure);
    }
  }

  /** A server stream is written as JSON lines; the headers go before the first item is pulled. */
  streamStarts(): void {
    this.exchange?.startStream(this.responseMetadata());
  }

  item(call: ServerCall, value: unknown): Promise<void> | undefined {
    if (this.exchange?.events === true) return this.event(call, this.exchange, value);
    let line: Uint8Array;
    try {
      line = json.encode({ value });
    } catch (error) {
      throw new RpcError(Code.INTERNAL, `cannot encode a stream item: ${errorMessage(error)}`);
    }
    call.responseBytes += line.byteLength;
    return this.exchange?.item(line);
  }

  end(): void {
    const exchange = this.take();
    if (exchange === undefined) return;
    try {
      exchange.endStream();
    } catch (error) {
      this.transportFailed(exchange, error);
    }
  }

  /** A server-sent event: the item's JSON as its data, its id when the method is resumable. */
  private event(call: ServerCall, exchange: Exchange, value: unknown): Promise<void> | undefined {
    const idOf = this.entry.options.resumable?.idOf as ((item: unknown) => unknown) | undefined;
    let data: Uint8Array;
    let id: string | undefined;
    try {
      data = json.encode(value);
      id = idOf === undefined ? undefined : eventId(idOf(value));
    } catch (error) {
      throw error instanceof RpcError ? error : new RpcError(Code.INTERNAL, `cannot encode a stream item: ${errorMessage(error)}`);
    }
    if (data.byteLength === 0) data = NULL; // undefined, as JSON has it in an array
    call.responseBytes += data.byteLength;
    return exchange.item(data, id);
  }

  /** The exchange, which this call answers now and so lets go of, with everything else. */
  private take(): Exchange | undefined {
    const exchange = this.exchange;
    this.release();
    return exchange;
  }

  private release(): void {
    this.settled();
    this.input?.stop();
    if (this.exchange !== undefined) this.exchange.running = undefined;
    this.exchange = undefined;
  }

/** A failure of the transport itself: logged, and answered if nothing was yet. */
  private transportFailed(exchange: Exchange, error: unknown): void {
    this.logger.error({ message: errorMessage(error) }, 'HTTP transport failed to answer');
    try {
      exchange.fail(new RpcError(Code.INTERNAL, 'the server failed to answer'));
    } catch {
      exchange.res.destroy();
    }
  }

  private responseMetadata(): Array<[string, string]> | undefined {
    const { call } = this;
    if (!call.hasResponseMetadata) return undefined;
    try {
      return metadataHeaders(call.responseMetadata);
    } catch (error) {
      this.logger.warn({ service: call.service.id, method: call.method, message: errorMessage(error) }, 'response metadata not sent');
      return undefined;
    }
  }
}

function expire(call: HttpCall): void {
  call.expire();
}
