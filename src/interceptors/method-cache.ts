import { performance } from 'node:perf_hooks';

/** One key's place in a method's cache: first the call in flight, then its result. */
export class Entry {
  /** The call in flight that identical calls join; undefined once its result is in. */
  promise: Promise<unknown> | undefined;
  value: unknown = undefined;
  /** Whole `performance.now()` milliseconds after which the result is no longer served (a small integer, kept unboxed). */
  expiresAt = 0;
  /** Neighbours in recency order: `older` towards the eviction end. */
  older: Entry | undefined = undefined;
  newer: Entry | undefined = undefined;

  constructor(
    readonly key: string,
    promise: Promise<unknown>,
    /** The deadline of the call in flight. */
    readonly deadline: number | undefined,
  ) {
    this.promise = promise;
  }

}

/**
 * The results of one method by argument key: least recently used evicted beyond `max`, each served
 * for `ttlMs` after it arrived. A call in flight holds its key's place (and counts towards `max`)
 * until its result replaces it or its failure removes it. An expired result is dropped when it is
 * next looked up, or evicted like any other.
 *
 * The recency list runs through the entries themselves, so a lookup or an insertion allocates
 * nothing beyond the entry.
 */
export class MethodCache {
  private readonly entries = new Map<string, Entry>();
  private oldest: Entry | undefined;
  private newest: Entry | undefined;
  private readonly ttlMs: number;
  private readonly expires: boolean;

  constructor(ttlMs: number, private readonly max: number) {
    this.expires = Number.isFinite(ttlMs);
    this.ttlMs = this.expires ? Math.ceil(ttlMs) : 0;
  }

  /** A fresh result or a call in flight for `key`, or undefined. */
  find(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.promise === undefined && this.expired(entry)) {
      this.remove(entry);
      return undefined;
    }
    if (entry !== this.newest) {
      this.unlink(entry);
      this.append(entry);
    }
    return entry;
  }

  /** Enters the call in flight for `key`: its result is kept if it succeeds; if it fails, nothing is. */
  start(key: string, promise: Promise<unknown>, deadline: number | undefined): void {
    const entry = new Entry(key, promise, deadline);
    const size = this.entries.size;
    this.entries.set(key, entry);
    // Normally nothing was there (find() just said so), unless a call for the same key started meanwhile.
    if (this.entries.size === size) this.unlinkReplaced(key);
    this.append(entry);
    if (this.entries.size > this.max) this.remove(this.oldest!);
    promise.then(
      (value) => {
        // Invalidated or evicted meanwhile, the entry is no longer in the cache and this is moot.
        entry.promise = undefined;
        entry.value = value;
        if (this.expires) entry.expiresAt = Math.floor(performance.now()) + this.ttlMs;
      },
      () => {
        if (this.entries.get(key) === entry) this.remove(entry);
      },
    );
  }

  /** Drops the result or call in flight of `key`; returns 1 if a result was dropped, else 0. */
  delete(key: string): number {
    const entry = this.entries.get(key);
    if (entry === undefined) return 0;
    this.remove(entry);
    return this.fresh(entry) ? 1 : 0;
  }

  /** Drops everything; returns how many results were dropped. */
  clear(): number {
    const dropped = this.size;
    this.entries.clear();
    this.oldest = this.newest = undefined;
    return dropped;
  }

  /** Fresh results held, not counting calls in flight. */
  get size(): number {
    let count = 0;
    for (const entry of this.entries.values()) if (this.fresh(entry)) count++;
    return count;
  }

  private expired(entry: Entry): boolean {
    return this.expires && entry.expiresAt < performance.now();
  }

  private fresh(entry: Entry): boolean {
    return entry.promise === undefined && !this.expired(entry);
  }

  /** Takes the entry that the map no longer holds for `key` out of the recency list (a rare case: a linear walk). */
  private unlinkReplaced(key: string): void {
    for (let entry = this.oldest; entry !== undefined; entry = entry.newer) {
      if (entry.key === key) return this.unlink(entry);
    }
  }

  private remove(entry: Entry): void {
    this.entries.delete(entry.key);
    this.unlink(entry);
  }

  private append(entry: Entry): void {
    entry.older = this.newest;
    entry.newer = undefined;
    if (this.newest === undefined) this.oldest = entry;
    else this.newest.newer = entry;
    this.newest = entry;
  }

  private unlink(entry: Entry): void {
    if (entry.older === undefined) this.oldest = entry.newer;
    else entry.older.newer = entry.newer;
    if (entry.newer === undefined) this.newest = entry.older;
    else entry.newer.older = entry.older;
    entry.older = entry.newer = undefined;
  }
}
