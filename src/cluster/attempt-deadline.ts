import { ClientCall } from '../core/client-call.js';
import type { Invocation, TransportCallOptions } from '../core/invocation.js';
import type { Metadata } from '../core/metadata.js';
import type { Principal } from '../core/principal.js';
import type { ServiceDefinition } from '../core/service.js';

/**
 * The timeouts a traffic rule sets for the calls sent to one provider (a consumer-side override
 * aimed at it), where they differ from what the rules set for the whole service.
 */
export interface AttemptTimeouts {
  /** ms from the attempt's start, for every method without one of its own. */
  readonly timeoutMs?: number;
  /** By method. */
  readonly methods?: ReadonlyMap<string, number>;
}

/**
 * The call as sent to a provider with a rule timeout of its own: the same call with the deadline the
 * provider's timeout gives, counted from now. A deadline the caller set itself (`timeoutMs` or
 * `deadline` call options) wins over any rule, so such a call is sent as it is, as is a call made by
 * an interceptor (not the client's own call object), whose deadline was set by code.
 */
export function withAttemptTimeout(call: Invocation, timeouts: AttemptTimeouts): Invocation {
  if (!(call instanceof ClientCall) || call.callerDeadline) return call;
  const ms = timeouts.methods?.get(call.method) ?? timeouts.timeoutMs;
  return ms === undefined ? call : new TimedAttempt(call, Date.now() + ms);
}

/** The call with another deadline, everything else its own. */
export function withDeadline(call: Invocation, deadline: number): Invocation {
  return call.deadline === deadline ? call : new TimedAttempt(call, deadline);
}

class TimedAttempt implements Invocation {
  constructor(private readonly call: Invocation, readonly deadline: number) {}

  get service(): ServiceDefinition { return this.call.service; }
  get method(): string { return this.call.method; }
  get args(): unknown[] { return this.call.args; }
  set args(args: unknown[]) { this.call.args = args; }
  get metadata(): Metadata { return this.call.metadata; }
  get responseMetadata(): Metadata { return this.call.responseMetadata; }
  get signal(): AbortSignal | undefined { return this.call.signal; }
  get oneWay(): boolean { return this.call.oneWay; }
  get principal(): Principal | undefined { return this.call.principal; }
  get transportOptions(): Readonly<TransportCallOptions> | undefined { return this.call.transportOptions; }
}
