import { Code, codeName, isCode } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import { freshSeed, mulberry32 } from './random.js';

/**
 * What happens to the bytes of a connection, in each direction: what a network does. The same
 * settings drive the in-process transport (`inproc://`) and the TCP fault proxy (`faultProxy`).
 */
export interface LinkFaults {
  /** Added to every byte's trip, each way: a call's round trip grows by twice this. */
  latencyMs?: number;
  /** Up to this much more, drawn per chunk from the seeded generator; bytes still arrive in order. */
  jitterMs?: number;
  /** The link carries at most this many bytes a second, each way. */
  bytesPerSecond?: number;
  /** Bytes stop moving, both ways, without the connection closing: they move on once it is lifted. */
  blackhole?: boolean;
  /** Open connections are reset; new ones are refused (inproc) or reset as they are accepted (proxy). */
  dead?: boolean;
}

/** Fail calls with `code`: every call, or a share of them, or those of one method or service. */
export interface ErrorFault {
  code: Code;
  /** The share of matching calls that fail, from 0 to 1, drawn from the seeded generator. Default 1. */
  share?: number;
  /** Only calls of this method (its name, or a pattern of names). */
  method?: string | RegExp;
  /** Only calls of this service (its name, e.g. `demo.Calculator`). */
  service?: string;
  /** Default `injected <CODE>`. */
  message?: string;
}

/** Faults of an `inproc://` address: its link, and what its provider does with the calls it gets. */
export interface InprocFaults extends LinkFaults {
  /**
   * Answer matching calls with an error instead of running them, as a provider that fails would:
   * the first entry that matches a call (and wins its draw) decides. The error comes over the wire
   * like any other, so it is not `unprocessed` and failover retries it only for idempotent methods.
   */
  errors?: readonly ErrorFault[];
  /**
   * The provider takes calls and answers none: each waits until its deadline passes, its caller
   * cancels or the freeze is lifted (then it runs). Heartbeats still flow, so the connection looks healthy.
   */
  frozen?: boolean;
}

const controls = new WeakMap<FaultControl<LinkFaults>, Set<() => void>>();

/**
 * The faults of one address, changed at any time: a change applies to the next byte and the next
 * call. Random choices (jitter, error shares) come from a generator seeded with `seed`.
 *
 * ```ts
 * server.faults.update({ latencyMs: 20, jitterMs: 10 });
 * server.faults.update({ errors: [{ code: Code.UNAVAILABLE, share: 0.3 }] });
 * server.faults.clear();
 * ```
 */
export class FaultControl<F extends LinkFaults = InprocFaults> {
  #seed: number;
  #random: () => number;
  #current: Readonly<F>;

  constructor(initial: F = {} as F, seed: number = freshSeed()) {
    this.#seed = checkedSeed(seed);
    this.#random = mulberry32(seed);
    this.#current = checked(initial);
    controls.set(this, new Set());
  }

  /** The seed of the generator: log it, and pass it back (`reseed`, or a `seed` option) to replay a run's random choices. */
  get seed(): number {
    return this.#seed;
  }

  /** Starts the generator again from `seed`. */
  reseed(seed: number): void {
    this.#seed = checkedSeed(seed);
    this.#random = mulberry32(seed);
  }

  /** The faults in force now. */
  get current(): Readonly<F> {
    return this.#current;
  }

  /** Replaces every fault with `faults`. */
  set(faults: F): void {
    this.#current = checked(faults);
    for (const listener of [...(controls.get(this) ?? [])]) listener();
  }

  /** Changes the faults `changes` names and keeps the others; an `undefined` entry lifts that fault. */
  update(changes: F): void {
    this.set({ ...this.#current, ...changes });
  }

  /** Lifts every fault. */
  clear(): void {
    this.set({} as F);
  }

  /** The next number in [0, 1) of the seeded generator. */
  random(): number {
    return this.#random();
  }
}

/** Calls `listener` after every change of `control`'s faults; returns what stops it. For the transports, not for users. */
export function watchFaults(control: FaultControl<LinkFaults>, listener: () => void): () => void {
  const listeners = controls.get(control)!;
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The error `faults` inject into a call of `service`.`method`, if any (drawing for shares below 1). */
export function injectedError(control: FaultControl<InprocFaults>, service: string, method: string): RpcError | undefined {
  for (const fault of control.current.errors ?? []) {
    if (fault.service !== undefined && fault.service !== service) continue;
    if (fault.method !== undefined && !(typeof fault.method === 'string' ? fault.method === method : fault.method.test(method))) continue;
    const share = fault.share ?? 1;
    if (share >= 1 || control.random() < share) return new RpcError(fault.code, fault.message ?? `injected ${codeName(fault.code)}`);
  }
  return undefined;
}

/** A frozen copy of `faults`, after checking every value: a typo must fail the test that made it, not pass silently. */
function checked<F extends LinkFaults>(faults: F): Readonly<F> {
  const { latencyMs, jitterMs, bytesPerSecond } = faults;
  nonNegative('latencyMs', latencyMs);
  nonNegative('jitterMs', jitterMs);
  if (bytesPerSecond !== undefined && !(Number.isFinite(bytesPerSecond) && bytesPerSecond > 0)) invalid(`bytesPerSecond must be a positive number, not ${String(bytesPerSecond)}`);
  const errors = (faults as InprocFaults).errors;
  if (errors !== undefined) {
    if (!Array.isArray(errors)) invalid('errors must be an array of { code, share?, method?, service? }');
    for (const fault of errors as ErrorFault[]) {
      if (!isCode(fault?.code) || fault.code === Code.OK) invalid(`an error fault needs the code of an error, not ${String(fault?.code)}`);
      const share = fault.share;
      if (share !== undefined && !(share >= 0 && share <= 1)) invalid(`share must be between 0 and 1, not ${String(share)}`);
    }
  }
  return Object.freeze({ ...faults, ...(errors === undefined ? {} : { errors: Object.freeze([...errors]) }) });
}

function checkedSeed(seed: number): number {
  if (!Number.isSafeInteger(seed)) invalid(`a seed must be a whole number, not ${String(seed)}`);
  return seed;
}

function nonNegative(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= 0)) invalid(`${name} must be a number of at least 0, not ${String(value)}`);
}

function invalid(message: string): never {
  throw new RpcError(Code.INVALID_ARGUMENT, message);
}
