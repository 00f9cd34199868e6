import type { CallProbe } from './observer.js';
import { RpcError, errorMessage } from './rpc-error.js';
import { isAsyncIterable } from './async-iterable.js';

/**
 * Sends a client call inside its probe and tells the probe how it ended: when the promise settles,
 * or for a server stream when the caller has taken its last item, stopped early or seen it fail.
 */
export function observeCall(probe: CallProbe, streaming: boolean, send: () => Promise<unknown>): Promise<unknown> {
  return settle(probe, started(probe, send), streaming);
}

function started(probe: CallProbe, send: () => Promise<unknown>): Promise<unknown> {
  try {
    return probe.run === undefined ? send() : probe.run(send);
  } catch (error) {
    return Promise.reject(error);
  }
}

function settle(probe: CallProbe, pending: Promise<unknown>, streaming: boolean): Promise<unknown> {
  return pending.then(
    (value) => {
      if (streaming && isAsyncIterable(value)) return endingWith(value, probe);
      tell(probe, undefined);
      return value;
    },
    (error: unknown) => {
      tell(probe, RpcError.from(error));
      throw error;
    },
  );
}

/** A stream that tells `probe` once it is over, however it ends. */
function endingWith(stream: AsyncIterable<unknown>, probe: CallProbe): AsyncIterable<unknown> {
  let told = false;
  const over = (error: RpcError | undefined) => {
    if (told) return;
    told = true;
    tell(probe, error);
  };
  return {
    [Symbol.asyncIterator]() {
      const iterator = stream[Symbol.asyncIterator]();
      return {
        async next() {
          try {
            const step = await iterator.next();
            if (step.done === true) over(undefined);
            return step;
          } catch (error) {
            over(RpcError.from(error));
            throw error;
          }
        },
        async return(value?: unknown) {
          over(undefined);
          return (await iterator.return?.(value)) ?? { done: true, value: undefined };
        },
      };
    },
  };
}

/** Tells a probe how its call ended; a probe that throws is reported as a warning, never to the caller. */
export function tell(probe: CallProbe, error: RpcError | undefined): void {
  try {
    probe.end(error);
  } catch (failure) {
    process.emitWarning(`a call observer threw: ${errorMessage(failure)}`, 'SwitchyardWarning');
  }
}
