import type { MethodEntry } from './call-table.js';
import type { Invocation } from './invocation.js';
import type { RpcError } from './rpc-error.js';
import type { ServerCall } from './server-call.js';

/*
 * How tracing and metrics see calls, on both sides, without the transports knowing of them. The
 * server's dispatcher and the client's call path ask their observer once per call (and the client
 * once per attempt at a provider); an observer that has nothing to do answers undefined, so a
 * process without tracing or metrics pays one check per call.
 */

/** What an observer watches of one call or attempt, from its start to its end. */
export interface CallProbe {
  /**
   * Runs the rest of the call inside the probe's context: tracing makes its span current, so
   * that calls made by the handler (server) or by the attempts (client) become its children.
   */
  run?<T>(fn: () => T): T;
  /**
   * The call is over: `error` is undefined when it succeeded. On the server this comes after the
   * answer was handed to the transport (and after a stream's last item), once.
   */
  end(error: RpcError | undefined): void;
}

/** One attempt of a client call at one provider. */
export interface AttemptProbe extends CallProbe {
  /**
   * The call as it should leave for this attempt: a copy with its own request metadata when the
   * observer adds to it (a `traceparent`), so attempts forked at once do not share it.
   */
  readonly call?: Invocation;
}

/** Where an attempt goes. */
export interface AttemptTarget {
  /** The provider's address, e.g. `tcp://10.0.0.7:20880`. */
  readonly address: string;
  /** The URL scheme of the address: `tcp`, `http`, `grpc`, `amqp`, … */
  readonly protocol: string;
}

/** Watches the calls a server runs: asked when a call has passed its gate and its arguments are decoded. */
export interface ServerObserver {
  serverCall(entry: MethodEntry, call: ServerCall): CallProbe | undefined;
}

/** Watches the calls a client makes: once per logical call, and once per attempt at a provider. */
export interface ClientObserver {
  clientCall(call: Invocation): CallProbe | undefined;
  attempt(call: Invocation, target: AttemptTarget): AttemptProbe | undefined;
}

/** The observers of a server as one, or undefined when there are none. */
export function serverObservers(observers: readonly ServerObserver[]): ServerObserver | undefined {
  if (observers.length === 0) return undefined;
  if (observers.length === 1) return observers[0];
  return {
    serverCall(entry, call) {
      // Usually every observer answers undefined (no SDK registered): nothing is allocated then.
      let first: CallProbe | undefined;
      let more: CallProbe[] | undefined;
      for (const observer of observers) {
        const probe = observer.serverCall(entry, call);
        if (probe === undefined) continue;
        if (first === undefined) first = probe;
        else (more ??= [first]).push(probe);
      }
      return more === undefined ? first : combine(more);
    },
  };
}

/** The observers of a client as one, or undefined when there are none. */
export function clientObservers(observers: readonly ClientObserver[]): ClientObserver | undefined {
  if (observers.length === 0) return undefined;
  if (observers.length === 1) return observers[0];
  return {
    clientCall(call) {
      let first: CallProbe | undefined;
      let more: CallProbe[] | undefined;
      for (const observer of observers) {
        const probe = observer.clientCall(call);
        if (probe === undefined) continue;
        if (first === undefined) first = probe;
        else (more ??= [first]).push(probe);
      }
      return more === undefined ? first : combine(more);
    },
    attempt(call, target) {
      // Each observer sees the call as the one before it left it (a copy with a traceparent, say).
      let first: AttemptProbe | undefined;
      let more: AttemptProbe[] | undefined;
      let sent = call;
      for (const observer of observers) {
        const probe = observer.attempt(sent, target);
        if (probe === undefined) continue;
        if (probe.call !== undefined) sent = probe.call;
        if (first === undefined) first = probe;
        else (more ??= [first]).push(probe);
      }
      if (more === undefined) return first;
      const combined = combine(more);
      return { call: sent === call ? undefined : sent, run: combined.run, end: combined.end };
    },
  };
}

/** Several probes as one: `run` nests them, the first outermost; `end` tells each. */
function combine(probes: readonly CallProbe[]): CallProbe {
  const runners = probes.filter((probe) => probe.run !== undefined);
  return {
    run: runners.length === 0 ? undefined : <T>(fn: () => T): T => runners.reduceRight<() => T>((inner, probe) => () => probe.run!(inner), fn)(),
    end(error) {
      for (const probe of probes) probe.end(error);
    },
  };
}
