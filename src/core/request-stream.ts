import { Code } from './code.js';
import { RpcError, errorMessage } from './rpc-error.js';

/**
 * The request stream of a client- or bidi-streaming call, as the caller gave it (an
 * `AsyncIterable`, or a plain `Iterable` such as an array). It can be sent once: it remembers
 * whether anything was pulled from it, so that a call which failed before its first item may go to
 * another provider, and one that failed after may not (its items are gone).
 */
export class RequestStream {
  #iterator: AsyncIterator<unknown> | Iterator<unknown> | undefined;
  #pulled = false;
  #claimed = false;

  constructor(private readonly source: AsyncIterable<unknown> | Iterable<unknown>) {}

  /** Whether an item was asked for: from then on the call cannot be sent again. */
  get pulled(): boolean {
    return this.#pulled;
  }

  /** Takes the stream for one attempt of the call; false when another attempt has it already. */
  claim(): boolean {
    if (this.#claimed) return false;
    this.#claimed = true;
    return true;
  }

  /** The next item; the first call opens the source. */
  async next(): Promise<IteratorResult<unknown>> {
    this.#pulled = true;
    const iterator = (this.#iterator ??= open(this.source));
    const next = await iterator.next();
    if (typeof next !== 'object' || next === null) throw new TypeError('the request stream yielded a non-object from next()');
    return next;
  }

  /** Lets the source clean up when the call ends before the source did; never throws. */
  close(): void {
    const iterator = this.#iterator;
    this.#iterator = undefined;
    if (iterator === undefined) return;
    try {
      const done: unknown = iterator.return?.();
      if (done instanceof Promise) done.catch(() => {});
    } catch {
      // the call's outcome is decided either way
    }
  }
}

function open(source: AsyncIterable<unknown> | Iterable<unknown>): AsyncIterator<unknown> | Iterator<unknown> {
  const asyncFactory = (source as AsyncIterable<unknown>)[Symbol.asyncIterator];
  if (typeof asyncFactory === 'function') return asyncFactory.call(source) as AsyncIterator<unknown>;
  return (source as Iterable<unknown>)[Symbol.iterator]();
}

/**
 * The one argument of a stream-taking call, checked and wrapped; an `RpcError` when the arguments
 * are anything else. A `RequestStream` already made (the call is being sent again) is returned as is.
 */
export function requestStreamOf(args: readonly unknown[], method: string): RequestStream {
  const [first] = args;
  if (args.length === 1 && first instanceof RequestStream) return first;
  if (args.length !== 1 || !isIterableSource(first)) {
    throw new RpcError(Code.INVALID_ARGUMENT, `${method} takes one argument, an AsyncIterable (or Iterable) of requests`, { unprocessed: true });
  }
  return new RequestStream(first);
}

function isIterableSource(value: unknown): value is AsyncIterable<unknown> | Iterable<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  return typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' || typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function';
}

/** Where a transport sends a request stream's items; the mirror of the server's `CallResponder` for streams. */
export interface StreamSink {
  /** Whether the call still wants items: false once it was answered, cancelled or its peer went. */
  isOpen(): boolean;
  /**
   * Sends one item. Returns a promise when the peer must take more before the next is pulled.
   * Throws an `RpcError` when the item cannot be sent (it cannot be encoded, it is too large).
   */
  write(item: unknown): Promise<void> | undefined;
  /** The source ended: the peer reads the end of the stream. */
  end(): void;
  /** The source threw, or an item could not be sent: the call ends with `error`. */
  fail(error: RpcError): void;
}

/**
 * Pulls `stream` into `sink` for as long as the call is open, one item at a time and only while
 * the peer has room; whatever the source or the sink throws ends the call through `fail`, never as
 * an unhandled rejection. A call that ends first closes the source.
 */
export async function pumpRequestStream(stream: RequestStream, sink: StreamSink): Promise<void> {
  if (!stream.claim()) {
    sink.fail(new RpcError(Code.FAILED_PRECONDITION, 'the request stream of this call was already sent: a stream-taking call goes to one provider, once'));
    return;
  }
  try {
    while (sink.isOpen()) {
      const next = await stream.next();
      if (!sink.isOpen()) break;
      if (next.done === true) {
        sink.end();
        return;
      }
      const room = sink.write(next.value);
      if (room !== undefined) await room;
    }
  } catch (error) {
    if (sink.isOpen()) {
      sink.fail(error instanceof RpcError ? error : new RpcError(Code.CANCELLED, `the request stream failed: ${errorMessage(error)}`, { cause: error }));
    }
  }
  stream.close();
}
