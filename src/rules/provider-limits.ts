// What provider-side override rules do to the calls a server runs: `timeout` (a call that runs
// longer fails with DEADLINE_EXCEEDED), `executes` (calls of a method running at once, through the
// concurrencyLimit interceptor) and `tps` (through the rateLimit interceptor).
import { Code } from '../core/code.js';
import type { Handler, Interceptor } from '../core/invocation.js';
import { RpcError } from '../core/rpc-error.js';
import { ServerCall } from '../core/server-call.js';
import { returnsStream, type ServiceDefinition } from '../core/service.js';
import { startTimer, stopTimer } from '../core/timer.js';
import { concurrencyLimit } from '../interceptors/concurrency-limit.js';
import { rateLimit } from '../interceptors/rate-limit.js';
import type { MethodOverrides, RoutingOverrides } from './routing-overrides.js';

/** The limits the rules in force put on one service's calls. */
export interface ServiceCallLimits {
  /** Equal for equal limits: a server makes new limits (and so new counters) only when this changes. */
  readonly key: string;
  /** The handler of `method`'s calls under the limits, around `next`. */
  wrap(next: Handler, method: string): Handler;
}

/**
 * The limits `overrides` (a server's own entry's, from `overridesFor`) put on the calls of
 * `definition`, or undefined when they set none. As in Dubbo, `executes` and `timeout` apply per
 * method (a method's own `<method>.executes` first), `tps` to the whole service.
 */
export function serviceCallLimits(definition: ServiceDefinition, overrides: RoutingOverrides): ServiceCallLimits | undefined {
  const timeouts = new Map<string, number>();
  const executes: Record<string, { max: number }> = {};
  for (const [method, options] of definition.methods) {
    const own: MethodOverrides | undefined = overrides.methods?.[method];
    const timeoutMs = own?.timeoutMs ?? overrides.timeoutMs;
    // A stream lasts as long as its reader reads: a call timeout is for unary calls.
    if (timeoutMs !== undefined && !returnsStream(options)) timeouts.set(method, timeoutMs);
    const max = own?.concurrencyLimit ?? overrides.concurrencyLimit;
    if (max !== undefined && max !== Infinity) executes[method] = { max };
  }
  const rate = overrides.rateLimit === undefined || overrides.rateLimit === false ? undefined : overrides.rateLimit;
  if (timeouts.size === 0 && Object.keys(executes).length === 0 && rate === undefined) return undefined;
  const limitExecutes = Object.keys(executes).length === 0 ? undefined : concurrencyLimit({ services: { [definition.id]: { methods: executes } } });
  const limitRate = rate === undefined ? undefined : rateLimit({ services: { [definition.id]: { ...rate } } });
  return {
    key: JSON.stringify([[...timeouts], executes, rate ?? null]),
    wrap(next, method) {
      let handler = next;
      const timeoutMs = timeouts.get(method);
      if (timeoutMs !== undefined) handler = providerTimeout(timeoutMs)(handler);
      if (limitExecutes !== undefined) handler = limitExecutes(handler);
      if (limitRate !== undefined) handler = limitRate(handler);
      return handler;
    },
  };
}

/**
 * Fails a call with DEADLINE_EXCEEDED once it has run `ms` on this server, and aborts its signal so
 * that a handler that watches it can stop. A handler that does not watch it runs on; its outcome is
 * dropped.
 */
export function providerTimeout(ms: number): Interceptor {
  return (next) => (call) => new Promise((resolve, reject) => {
    const timer = startTimer(ms, () => {
      const error = new RpcError(Code.DEADLINE_EXCEEDED, `${call.service.id}.${call.method} ran past the provider's timeout of ${ms} ms`);
      if (call instanceof ServerCall) call.abort(error);
      reject(error);
    }, undefined);
    let pending: Promise<unknown>;
    try {
      pending = next(call);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => {
        stopTimer(timer);
        resolve(value);
      },
      (error: unknown) => {
        stopTimer(timer);
        reject(error);
      },
    );
  });
}
