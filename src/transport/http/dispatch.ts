import type { MethodEntry } from '../../core/call-table.js';
import { Code } from '../../core/code.js';
import type { Logger } from '../../core/logger.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';
import type { ServerCall } from '../../core/server-call.js';
import { startTimerAt, stopTimer, type Timer } from '../../core/timer.js';
import { jsonSerializer } from '../../serialization/json.js';
import type { Exchange, ExchangeCall } from './exchange.js';
import { metadataHeaders } from './headers.js';

const json = jsonSerializer();

/** What the calls of one server share. */
export interface CallHost {
  readonly logger: Logger;
  /** The calls the server still answers for. */
  readonly calls: Set<HttpCall>;
}

/**
 * One call from dispatch until the server is done with it. The handler's promise holds this object
 * until it settles, which may be never; so the server lets go of the call (its place in the table,
 * its deadline timer, its link to the request and response) as soon as it is answered, its
 * deadline passes or its client goes away. A handler that never settles then keeps only itself,
 * its call and this object alive. The call is `finish()`ed only when the handler has settled (and
 * its stream ended), so that a concurrency limit counts a handler for as long as it runs.
 */
export class HttpCall implements ExchangeCall {
  private exchange: Exchange | undefined;
  private host: CallHost | undefined;
  private timer: Timer | undefined;
  private readonly logger: Logger;

  constructor(host: CallHost, exchange: Exchange, private readonly entry: MethodEntry, private readonly call: ServerCall) {
    this.host = host;
    this.logger = host.logger;
    if (call.oneWay) {
      exchange.send(202, undefined, '');
    } else {
      this.exchange = exchange;
      exchange.running = this;
    }
    host.calls.add(this);
    if (call.deadline !== undefined) this.timer = startTimerAt(call.deadline, expire, this);
    entry.handler(call).then(
      (result) => this.settled(result),
      (error: unknown) => this.failed(error),
    );
  }

  /** The client went away: the handler's signal fires and the server forgets the call. */
  cancel(): void {
    if (this.host === undefined) return; // answered meanwhile
    this.call.abort(new RpcError(Code.CANCELLED, 'the client went away'));
    this.release();
  }

  /** The server is cut off: the same, with UNAVAILABLE. */
  cut(): void {
    this.call.abort(new RpcError(Code.UNAVAILABLE, 'server shut down'));
    this.release();
  }

  /** The deadline passed: the client gets 504 now, whatever the handler does later. */
  expire(): void {
    this.timer = undefined;
    const error = new RpcError(Code.DEADLINE_EXCEEDED, 'deadline exceeded');
    this.call.abort(error);
    const exchange = this.exchange;
    this.release();
    if (exchange === undefined) return;
    try {
      exchange.fail(error, undefined, this.responseMetadata());
    } catch (failure) {
      this.transportFailed(exchange, failure);
    }
  }

  private release(): void {
    stopTimer(this.timer);
    this.timer = undefined;
    this.host?.calls.delete(this);
    this.host = undefined;
    if (this.exchange !== undefined) this.exchange.running = undefined;
    this.exchange = undefined;
  }

  private settled(result: unknown): void {
    if (this.entry.options.stream === 'server') {
      void this.stream(result);
      return;
    }
    const exchange = this.exchange;
    this.release();
    this.call.finish();
    if (exchange === undefined) return;
    try {
      if (this.call.aborted) return this.answerAborted(exchange);
      const metadata = this.responseMetadata();
      if (result === undefined) return exchange.send(204, undefined, '', metadata);
      let body: Uint8Array;
      try {
        body = json.encode(result);
      } catch (error) {
        return exchange.fail(new RpcError(Code.INTERNAL, `cannot encode the result: ${errorMessage(error)}`));
      }
      // JSON.stringify writes nothing at all for a function or a symbol
      if (body.byteLength === 0) return exchange.fail(new RpcError(Code.INTERNAL, `cannot encode the result: JSON has no form for a ${typeof result}`));
      exchange.send(200, body, 'application/json', metadata);
    } catch (error) {
      this.transportFailed(exchange, error);
    }
  }

  private failed(error: unknown): void {
    const exchange = this.exchange;
    this.release();
    this.call.finish();
    if (this.call.oneWay) {
      const rpcError = RpcError.from(error);
      const { service, method } = this.entry;
      this.logger.warn({ service: service.id, method, code: rpcError.code, message: rpcError.message }, 'one-way call failed');
      return;
    }
    if (exchange === undefined) return;
    try {
      if (this.call.aborted) this.answerAborted(exchange);
      else exchange.fail(RpcError.from(error), undefined, this.responseMetadata());
    } catch (failure) {
      this.transportFailed(exchange, failure);
    }
  }

  /** Writes a server stream as JSON lines, pulling the next item only when the client takes more. */
  private async stream(result: unknown): Promise<void> {
    let iterator: AsyncIterator<unknown> | undefined;
    let ended = false;
    let failure: unknown;
    try {
      iterator = iteratorOf(result, this.call.method);
      this.exchange?.startStream(this.responseMetadata());
      // The exchange is read anew after each await: a call dropped meanwhile has let go of it.
      while (this.exchange !== undefined && !this.call.aborted) {
        const next = await iterator.next();
        if (next.done === true) ended = true;
        if (ended || this.exchange === undefined || this.call.aborted) break;
        let line: Uint8Array;
        try {
          line = json.encode({ value: next.value });
        } catch (error) {
          throw new RpcError(Code.INTERNAL, `cannot encode a stream item: ${errorMessage(error)}`);
        }
        await this.exchange.item(line);
      }
    } catch (error) {
      failure = error;
      ended = true; // an iterator that threw is done
    }
    if (!ended) closeIterator(iterator);
    const exchange = this.exchange;
    this.release();
    this.call.finish();
    if (exchange === undefined) return;
    try {
      if (this.call.aborted) this.answerAborted(exchange);
      else if (failure !== undefined) exchange.fail(RpcError.from(failure));
      else exchange.endStream();
    } catch (error) {
      this.transportFailed(exchange, error);
    }
  }

  /**
   * Answers a call that was aborted before its handler settled: with DEADLINE_EXCEEDED if its
   * deadline passed first. A client that went away, or a server cut off, gets nothing (no one listens).
   */
  private answerAborted(exchange: Exchange): void {
    const reason: unknown = this.call.signal.reason;
    exchange.fail(reason instanceof RpcError ? reason : new RpcError(Code.CANCELLED, 'call aborted'), undefined, this.responseMetadata());
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

function iteratorOf(result: unknown, method: string): AsyncIterator<unknown> {
  const iterable = result as AsyncIterable<unknown> | null | undefined;
  if (iterable == null || typeof iterable[Symbol.asyncIterator] !== 'function') {
    throw new RpcError(Code.INTERNAL, `streaming method ${method} did not return an AsyncIterable`);
  }
  return iterable[Symbol.asyncIterator]();
}

/** Tells an iterator the stream is over, ignoring whatever it does about it. */
function closeIterator(iterator: AsyncIterator<unknown> | undefined): void {
  try {
    void Promise.resolve(iterator?.return?.()).catch(() => {});
  } catch {
    // a return() that throws at once: nothing more to do
  }
}
