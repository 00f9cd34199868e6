/** Why a live server does not take calls: not registered yet, taken out by an operator, or closing. */
export type NotReadyReason = 'starting' | 'offline' | 'draining';

/** What a health endpoint reports: the process is alive; `ready` says whether it should get calls. */
export interface HealthSnapshot {
  readonly live: true;
  readonly ready: boolean;
  /** Present when not ready. */
  readonly reason?: NotReadyReason;
  /** Epoch ms of the last change of `ready` or `reason` (or of the start). */
  readonly since: number;
}

/**
 * The health of one server, for every transport's `grpc.health.v1.Health` and the admin listener.
 * A server is ready from the moment its services are in its registry (or it listens, without one)
 * until an operator takes it offline or it starts closing; closing is final.
 *
 * ```ts
 * const health = new ServerHealth();
 * const stop = health.onChange((s) => console.log(s.ready, s.reason));
 * health.markRegistered(); // ready
 * health.markDraining();   // not ready: 'draining'
 * stop();
 * ```
 */
export class ServerHealth {
  readonly live = true as const;
  private registered = false;
  private offline = false;
  private draining = false;
  private changedAt = Date.now();
  private readonly listeners = new Set<(snapshot: HealthSnapshot) => void>();

  get ready(): boolean {
    return this.registered && !this.offline && !this.draining;
  }

  /** Why the server is not ready, the most lasting cause first; undefined when it is ready. */
  get reason(): NotReadyReason | undefined {
    if (this.draining) return 'draining';
    if (this.offline) return 'offline';
    if (!this.registered) return 'starting';
    return undefined;
  }

  /** The services are in the registry (or the listeners are up, when there is no registry). */
  markRegistered(): void {
    this.change(() => (this.registered = true));
  }

  /** An operator took the server out of its registry (`POST /offline`). */
  markOffline(): void {
    this.change(() => (this.offline = true));
  }

  /** The server is back in its registry (`POST /online`). */
  markOnline(): void {
    this.change(() => (this.offline = false));
  }

  /** `close()` has started; the server never becomes ready again. */
  markDraining(): void {
    this.change(() => (this.draining = true));
  }

  /** Calls `listener` with the new state after each change of `ready` or `reason`; returns the unsubscribe. */
  onChange(listener: (snapshot: HealthSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  snapshot(): HealthSnapshot {
    const reason = this.reason;
    return reason === undefined ? { live: true, ready: true, since: this.changedAt } : { live: true, ready: false, reason, since: this.changedAt };
  }

  private change(apply: () => void): void {
    const before = this.reason;
    apply();
    if (this.reason === before) return;
    this.changedAt = Date.now();
    const snapshot = this.snapshot();
    // A copy: a listener may unsubscribe itself (or another) while being told.
    for (const listener of [...this.listeners]) {
      try {
        listener(snapshot);
      } catch {
        // One listener's failure must not keep the others from hearing of the change.
      }
    }
  }
}
