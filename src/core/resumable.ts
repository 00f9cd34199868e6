/*
 * Resumable server streams. The definition names each item (`resumable: { idOf }`), so that the
 * caller, on any transport, knows the id of the last item it got without any wire format of its
 * own. When the stream breaks (its connection drops, its provider drains for a rolling restart)
 * the caller calls again, through the whole client path so that another provider may take it,
 * with that id in the `last-event-id` metadata; the implementation reads it with `resumeAfter()`
 * and yields what comes after. Server-sent events use the same name, so that a browser's
 * `EventSource` resumes the same way.
 */
import { Code } from './code.js';
import { RpcError } from './rpc-error.js';
import { currentCall } from './server-call.js';
import { startTimer, stopTimer, type Timer } from './timer.js';

/** The metadata key, and the SSE header, that carry the id of the last item the caller got. */
export const RESUME_KEY = 'last-event-id';

/** How a server stream names its items, so that it can be resumed after the last one a caller got. */
export interface ResumableOptions {
  /** The id of an item: the same item must have the same id on every provider. */
  idOf: (item: never) => string | number;
}

/**
 * In the implementation of a resumable stream: the id of the last item the caller got, when this
 * call resumes a broken stream; undefined for a fresh one.
 *
 * ```ts
 * async *ticks() {
 *   const after = resumeAfter();
 *   for (let seq = after === undefined ? 0 : Number(after) + 1; ; seq++) yield await tick(seq);
 * }
 * ```
 */
export function resumeAfter(): string | undefined {
  const value = currentCall().metadata.get(RESUME_KEY);
  return typeof value === 'string' ? value : undefined;
}

/** Consecutive attempts that bring no new item, for a call without a deadline, before the caller hears the error. */
const MAX_FRUITLESS_ATTEMPTS = 10;
const FIRST_PAUSE_MS = 50;
const MAX_PAUSE_MS = 2_000;

/**
 * The caller's side: the items of `open(undefined)`, and after a break those of
 * `open(lastId)`, until the stream ends, an error that is no break comes, or the deadline or
 * signal ends the call. A break is `UNAVAILABLE`: a connection lost, a provider that drains, no
 * provider reachable for now.
 */
export async function* resumableStream(
  open: (after: string | undefined) => AsyncIterable<unknown>,
  options: ResumableOptions,
  deadline: number | undefined,
  signal: AbortSignal | undefined,
): AsyncGenerator<unknown, void, undefined> {
  const idOf = options.idOf as (item: unknown) => string | number;
  let last: string | undefined;
  let fruitless = 0;
  for (;;) {
    try {
      for await (const item of open(last)) {
        last = String(idOf(item));
        fruitless = 0;
        yield item;
      }
      return;
    } catch (error) {
      if (!(error instanceof RpcError) || error.code !== Code.UNAVAILABLE || signal?.aborted === true) throw error;
      fruitless++;
      if (deadline === undefined && fruitless >= MAX_FRUITLESS_ATTEMPTS) throw error;
      const pauseMs = Math.min(MAX_PAUSE_MS, FIRST_PAUSE_MS * 2 ** (fruitless - 1));
      if (deadline !== undefined && Date.now() + pauseMs >= deadline) {
        throw new RpcError(Code.DEADLINE_EXCEEDED, `deadline exceeded while resuming the stream: ${error.message}`, { cause: error });
      }
      await pause(pauseMs, signal);
    }
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      stopTimer(timer);
      reject(signal?.reason instanceof RpcError ? signal.reason : new RpcError(Code.CANCELLED, 'call cancelled by the caller'));
    };
    const timer: Timer | undefined = startTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
