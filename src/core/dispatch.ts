import type { MethodEntry } from './call-table.js';
import { Code } from './code.js';
import type { Logger } from './logger.js';
import { RpcError, errorMessage } from './rpc-error.js';
import type { ServerCall } from './server-call.js';
import { returnsStream } from './service.js';

/**
 * What a server transport does with the outcome of a call. The dispatcher decides what happened
 * and when; the transport only encodes and writes. Each method gets the call it is about, so that
 * one responder object can serve every call of a connection.
 */
export interface CallResponder<C extends ServerCall = ServerCall> {
  /** The call is over for the server (its handler settled, its stream ended): release what it holds. Always called, once. */
  settled(call: C): void;
  /** A unary call's result. Not called for one-way calls. */
  result(call: C, value: unknown): void;
  /** The call failed. Not called for one-way calls (the dispatcher logs those). */
  error(call: C, error: RpcError): void;
  /** A server stream is about to be pulled, for a transport that sends its headers first. */
  streamStarts?(call: C): void;
  /**
   * One item of a server stream. Returns a promise when the caller must take more before the next
   * item is pulled from the implementation. Throws an `RpcError` when the item cannot be encoded.
   */
  item(call: C, value: unknown): Promise<void> | undefined;
  /** The stream ended well. */
  end(call: C): void;
  /** Whether anyone still listens: false once the call is answered, cancelled or its peer gone. */
  isOpen(call: C): boolean;
}

/**
 * Runs one call through its method's handler chain and hands the outcome to the transport: a
 * result, a stream pulled item by item as the caller takes them, or an error made from whatever
 * was thrown. The call is finished (its limits released, its finish listeners told) when the
 * handler has settled and any stream it returned has ended, whatever the transport does.
 */
export function dispatch<C extends ServerCall>(entry: MethodEntry, call: C, responder: CallResponder<C>, logger: Logger): void {
  const probe = entry.observer?.serverCall(entry, call);
  if (probe === undefined) {
    run(entry, call, responder, logger);
    return;
  }
  call.probe = probe;
  // The handler and every step after it run in the probe's context (a span made current), so
  // that what the handler starts, and the stream it returns, belong to this call.
  if (probe.run === undefined) run(entry, call, responder, logger);
  else probe.run(() => run(entry, call, responder, logger));
}

function run<C extends ServerCall>(entry: MethodEntry, call: C, responder: CallResponder<C>, logger: Logger): void {
  let pending: Promise<unknown>;
  try {
    pending = entry.handler(call);
  } catch (error) {
    // The chain promises a promise; one that breaks that promise still ends the call.
    pending = Promise.reject(error);
  }
  if (returnsStream(entry.options)) {
    pending.then(
      (result) => streamResult(entry, call, responder, logger, result),
      (error: unknown) => failed(entry, call, responder, logger, error),
    );
  } else {
    pending.then(
      (result) => unaryResult(entry, call, responder, logger, result),
      (error: unknown) => failed(entry, call, responder, logger, error),
    );
  }
}

function unaryResult<C extends ServerCall>(entry: MethodEntry, call: C, responder: CallResponder<C>, logger: Logger, result: unknown): void {
  if (isStreamLike(result)) {
    closeQuietly(result);
    failed(entry, call, responder, logger, new RpcError(Code.INTERNAL,
      `method ${entry.service.id}.${entry.method} is unary but returned a stream; declare it with stream: 'server' or 'bidi'`));
    return;
  }
  end(call, responder);
  if (call.oneWay) {
    report(call, undefined);
    return;
  }
  const aborted = call.aborted ? abortReason(call) : undefined;
  try {
    if (aborted !== undefined) responder.error(call, aborted);
    else responder.result(call, result);
  } catch (error) {
    cannotAnswer(entry, logger, error);
  }
  report(call, aborted);
}

function failed<C extends ServerCall>(entry: MethodEntry, call: C, responder: CallResponder<C>, logger: Logger, thrown: unknown): void {
  end(call, responder);
  const error = call.aborted ? abortReason(call) : RpcError.from(thrown);
  if (call.oneWay) {
    logger.warn({ service: entry.service.id, method: entry.method, code: error.code, message: error.message }, 'one-way call failed');
  } else {
    try {
      responder.error(call, error);
    } catch (failure) {
      cannotAnswer(entry, logger, failure);
    }
  }
  report(call, error);
}

/** A transport that throws while answering: logged, never an unhandled rejection. */
function cannotAnswer(entry: MethodEntry, logger: Logger, error: unknown): void {
  logger.error({ service: entry.service.id, method: entry.method, message: errorMessage(error) }, 'cannot answer a call');
}

/** Pulls a server stream's items only while the caller listens and takes them. */
async function streamResult<C extends ServerCall>(entry: MethodEntry, call: C, responder: CallResponder<C>, logger: Logger, result: unknown): Promise<void> {
  let iterator: AsyncIterator<unknown>;
  try {
    iterator = iteratorOf(result, entry);
  } catch (error) {
    // The implementation returned something that is no stream: a bug of the server's.
    failed(entry, call, responder, logger, RpcError.from(error, Code.INTERNAL));
    return;
  }
  // Like for-await: an iterator that ended or threw is not asked to return.
  let open = true;
  try {
    responder.streamStarts?.(call);
    while (responder.isOpen(call) && !call.aborted) {
      let next: IteratorResult<unknown>;
      try {
        next = await iterator.next();
      } catch (error) {
        open = false;
        throw error;
      }
      if (typeof next !== 'object' || next === null) {
        open = false;
        throw new RpcError(Code.INTERNAL, `the stream of ${entry.service.id}.${entry.method} yielded a non-object from next()`);
      }
      if (next.done === true) {
        open = false;
        break;
      }
      if (!responder.isOpen(call) || call.aborted) break;
      const taken = responder.item(call, next.value);
      if (taken !== undefined) await taken;
    }
  } catch (error) {
    failed(entry, call, responder, logger, error);
    return;
  } finally {
    if (open) closeQuietly(iterator);
  }
  end(call, responder);
  const aborted = call.aborted ? abortReason(call) : undefined;
  try {
    if (aborted !== undefined) responder.error(call, aborted);
    else if (responder.isOpen(call)) responder.end(call);
  } catch (error) {
    cannotAnswer(entry, logger, error);
  }
  report(call, aborted);
}

/** Tells the call's observer how it ended, once the transport has its answer (and so its size). */
function report(call: ServerCall, error: RpcError | undefined): void {
  const probe = call.probe;
  if (probe === undefined) return;
  call.probe = undefined;
  try {
    probe.end(error);
  } catch (failure) {
    process.emitWarning(`a call observer threw: ${errorMessage(failure)}`, 'SwitchyardWarning');
  }
}

function end<C extends ServerCall>(call: C, responder: CallResponder<C>): void {
  call.finish();
  responder.settled(call);
}

/** Why an aborted call ended: its deadline, its caller's cancel or the server stopping. */
function abortReason(call: ServerCall): RpcError {
  const reason: unknown = call.signal.reason;
  return reason instanceof RpcError ? reason : new RpcError(Code.CANCELLED, 'call aborted');
}

/**
 * Whether a unary method's result is a stream by mistake: anything async-iterable, or a
 * generator. Arrays, Maps, Sets and other collections are iterable too, and are plain values.
 */
function isStreamLike(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  try {
    if (typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') return true;
    return Object.prototype.toString.call(value) === '[object Generator]';
  } catch {
    return false; // a Proxy whose traps throw is left for the serializer to refuse
  }
}

/** The iterator of a handler's result, read without trusting it (its getters may throw). */
function iteratorOf(result: unknown, entry: MethodEntry): AsyncIterator<unknown> {
  const factory: unknown = typeof result === 'object' && result !== null ? (result as AsyncIterable<unknown>)[Symbol.asyncIterator] : undefined;
  if (typeof factory !== 'function') {
    throw new RpcError(Code.INTERNAL, `streaming method ${entry.service.id}.${entry.method} did not return an AsyncIterable`);
  }
  const iterator: unknown = factory.call(result);
  if (typeof iterator !== 'object' || iterator === null || typeof (iterator as AsyncIterator<unknown>).next !== 'function') {
    throw new RpcError(Code.INTERNAL, `the AsyncIterable of streaming method ${entry.service.id}.${entry.method} returned no iterator`);
  }
  return iterator as AsyncIterator<unknown>;
}

/** Lets an iterator or generator clean up; whatever its `return` does, throws or rejects with is ignored. */
function closeQuietly(iterator: object): void {
  try {
    const done: unknown = (iterator as Partial<AsyncIterator<unknown>>).return?.();
    if (done instanceof Promise) done.catch(() => {});
  } catch {
    // the call's outcome is decided either way
  }
}
