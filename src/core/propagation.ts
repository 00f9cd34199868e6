/**
 * What a call made while a handler serves another takes from the call being served, as gRPC
 * propagates by default: the earlier of the two deadlines, and cancellation when the served call is
 * cancelled (its client went away, its deadline passed, the server stopped). A chain of services
 * then gives up as a whole, instead of the far end working on for a caller that has gone.
 */
import type { Invocation } from './invocation.js';

/** The outgoing call's deadline and signal once the served call's are taken in. */
export interface Propagated {
  readonly deadline: number | undefined;
  /** The deadline is the served call's, not one this call set (or the two are the same). */
  readonly deadlineInherited: boolean;
  readonly signal: AbortSignal | undefined;
  /** Lets go of the served call's signal once the outgoing call has settled; undefined when nothing was linked. */
  readonly release: (() => void) | undefined;
}

/**
 * Takes `parent`'s deadline and cancellation into an outgoing call whose own are `deadline` and
 * `signal`. A parent that is already over passes nothing on.
 */
export function propagate(parent: Invocation, deadline: number | undefined, signal: AbortSignal | undefined): Propagated {
  const inherited = parent.deadline;
  const deadlineInherited = inherited !== undefined && !(deadline !== undefined && deadline < inherited);
  const earliest = deadlineInherited ? inherited : deadline;
  const served = parent.signal;
  if (served === undefined || served === signal) return { deadline: earliest, deadlineInherited, signal, release: undefined };
  if (signal === undefined) return { deadline: earliest, deadlineInherited, signal: served, release: undefined };
  const link = new LinkedSignal(signal, served);
  return { deadline: earliest, deadlineInherited, signal: link.signal, release: () => link.release() };
}

/**
 * A signal that fires when either of two does, with that one's reason. Made by hand rather than with
 * `AbortSignal.any`, so that it holds on to its sources only until `release`: a long-lived caller
 * signal would otherwise keep every call's combined signal (nodejs/node#55351).
 */
class LinkedSignal {
  private readonly controller = new AbortController();

  constructor(
    private readonly first: AbortSignal,
    private readonly second: AbortSignal,
  ) {
    if (first.aborted) this.controller.abort(first.reason);
    else if (second.aborted) this.controller.abort(second.reason);
    else {
      first.addEventListener('abort', this);
      second.addEventListener('abort', this);
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** One of the sources fired (this object is their listener). */
  handleEvent(event: Event): void {
    this.release();
    this.controller.abort((event.target as AbortSignal).reason);
  }

  release(): void {
    this.first.removeEventListener('abort', this);
    this.second.removeEventListener('abort', this);
  }
}
