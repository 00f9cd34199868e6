import type { CircuitBreakerOptions, CircuitEvent } from './circuit-breaker.js';
import { Code } from '../core/code.js';
import type { Invocation } from '../core/invocation.js';
import type { ClientObserver } from '../core/observer.js';
import { RpcError } from '../core/rpc-error.js';
import type { Invoker } from './invoker.js';

type Send = (invoker: Invoker, call: Invocation) => Promise<unknown>;

/**
 * The sending step of a method with its guards: the provider's circuit breaker, the fixed limit of
 * calls in flight to one provider and its adaptive limit (`adaptive`: the directory gives each
 * provider one). A refused call is `unprocessed`, so failover tries another provider.
 *
 * The adaptive limit steers rather than refuses: a provider at it is passed over while another has
 * room, and when none has, the one that should answer soonest gets the call anyway (`pick`). Refusing then turned a busy
 * machine into an outage in tests: calls slowed down everywhere at once, every limit was cut, the
 * callers' calls failed at once and were made again at once, which kept the machine busy and the
 * limits down. Shedding load is the server's own adaptive limit's work.
 */
export function guards(method: string, breakerOptions: CircuitBreakerOptions | false | undefined, maxActive: number | undefined, adaptive: boolean,
  onChange: (event: CircuitEvent) => void, observer: ClientObserver | undefined): { send: Send; admits?: (invoker: Invoker) => boolean } {
  const breakers = breakerOptions === undefined || breakerOptions === false ? undefined : breakerOptions;
  if (breakers === undefined && maxActive === undefined && !adaptive) return { send: (invoker, call) => invoker.invoke(call, undefined, observer) };
  const breakerOf = (invoker: Invoker) => breakers && invoker.breaker(method, breakers, onChange);
  const hasRoom = (invoker: Invoker) => (maxActive === undefined || invoker.active < maxActive) && (!adaptive || invoker.limiter === undefined || invoker.active < invoker.limiter.limit);
  return {
    admits: (invoker) => hasRoom(invoker) && (breakerOf(invoker)?.admits ?? true),
    send: (invoker, call) => {
      if (maxActive !== undefined && invoker.active >= maxActive) {
        return Promise.reject(new RpcError(Code.RESOURCE_EXHAUSTED, `${maxActive} calls already in flight to ${invoker.provider.address}`, { unprocessed: true }));
      }
      const breaker = breakerOf(invoker);
      if (breaker !== undefined && !breaker.tryAcquire()) {
        return Promise.reject(new RpcError(Code.UNAVAILABLE, `circuit open for ${call.service.id}.${method} at ${invoker.provider.address}`, { unprocessed: true }));
      }
      // The invoker times the call anyway, so it reports the outcome to the breaker too.
      return invoker.invoke(call, breaker, observer);
    },
  };
}
