// Why hand-tuned tables and not the lru-cache library (the project's rule is a well-kept library
// unless a benchmark shows it is not fast enough): `npm run bench:cache` compares this cache with
// the same one built on lru-cache plus a map of calls in flight, keyed by `stableKey` strings
// (bench/result-cache-lru.ts). On the 2-core development machine, Node 20.20:
//
// - the interceptor called directly, `price(id, 'EUR')`, calls per second of the tables over
//   lru-cache, median of 5 paired rounds in each of 3 runs: 1.85 / 2.02 / 1.74 at 0 % hits,
//   1.57 / 1.49 / 1.97 at 50 %, 1.29 / 1.22 / 1.32 at 90 %; counted by valgrind, lru-cache takes
//   1.81x, 1.49x and 1.21x the instructions per call. With an object argument the two are even up
//   to 50 % hits (0.96-1.13): building its key costs more than either cache.
// - over tcp with the server in another process, 128 calls in flight: lru-cache 1.13-1.49x the
//   client's CPU per call at 0 % hits, 1.19-1.35x at 50 %, 0.99-1.14x at 90 %.
// - `npm run bench:governance` (every call a miss): with lru-cache the whole governance chain cost
//   16-21 % of the small call's throughput over 3 runs, against a target of at most 10 %; with the
//   tables 6-9 %.
//
// In CPU profiles most of lru-cache's extra cost was garbage collection (a key string per call,
// held by the cache until evicted), then its own bookkeeping per lookup and store; the tables keep
// keys as 16-bit units in typed arrays and allocate nothing per miss.
import { performance } from 'node:perf_hooks';
import type { Key } from './arg-key.js';
import { KeyTable } from './key-table.js';

/** `find` found nothing. */
export const NONE = -1;

/**
 * The results of one method by argument key: least recently used evicted beyond `max`, each served
 * for `ttlMs` after it arrived. A call in flight holds its key's place (and counts towards `max`)
 * until its result replaces it or its failure removes it. An expired result is dropped when it is
 * next looked up, or evicted like any other.
 *
 * Entries live in parallel arrays indexed by slot, the recency list runs through two typed arrays
 * and short keys are copied into the key table's typed array, so a miss leaves no object behind:
 * under a stream of misses the cache churns without work for the garbage collector, which is most
 * of what an LRU of entry objects in a `Map` costs.
 */
export class MethodCache {
  private readonly table = new KeyTable();
  private values: unknown[] = [];
  /** The call in flight that identical calls join; undefined once its result is in. */
  private pending: Array<Promise<unknown> | undefined> = [];
  /** The deadline of the call in flight; NaN for none. */
  private deadlines = new Float64Array(0);
  /** `performance.now()` after which the result is no longer served. */
  private expiries = new Float64Array(0);
  /** Bumped whenever a slot is emptied, so a late outcome of the call that held it finds it changed. */
  private generations = new Uint32Array(0);
  /** Recency neighbours by slot, NONE at the ends: `older` towards the eviction end. */
  private older = new Int32Array(0);
  private newer = new Int32Array(0);
  private oldest = NONE;
  private newest = NONE;
  /** Slots ever used; those below it not in the table are on the free list. */
  private used = 0;
  private free: number[] = [];
  private readonly ttlMs: number;
  private readonly expires: boolean;

  constructor(
    ttlMs: number,
    private readonly max: number,
  ) {
    this.expires = Number.isFinite(ttlMs);
    this.ttlMs = this.expires ? ttlMs : 0;
  }

  /** The slot of a fresh result or a call in flight for `key` (whose `KeyTable.hash` is `hash`), or NONE. */
  find(key: Key, hash = KeyTable.hash(key)): number {
    const slot = this.table.get(key, hash);
    if (slot === NONE) return NONE;
    if (this.pending[slot] === undefined && this.expired(slot)) {
      this.remove(slot);
      return NONE;
    }
    if (slot !== this.newest) {
      this.unlink(slot);
      this.append(slot);
    }
    return slot;
  }

  /** The call in flight at `slot`, or undefined if its result is in. */
  pendingAt(slot: number): Promise<unknown> | undefined {
    return this.pending[slot];
  }

  /** The deadline of the call in flight at `slot`. */
  deadlineAt(slot: number): number | undefined {
    const deadline = this.deadlines[slot]!;
    return Number.isNaN(deadline) ? undefined : deadline;
  }

  valueAt(slot: number): unknown {
    return this.values[slot];
  }

  /**
   * Enters the call in flight for `key`, which must not be in the cache (`find` just said so): its
   * result is kept if it succeeds; if it fails, nothing is.
   */
  start(key: Key, promise: Promise<unknown>, deadline: number | undefined, hash = KeyTable.hash(key)): void {
    // When full, the least recently used makes way, and its slot is the new entry's.
    const slot = this.table.size >= this.max ? this.evictOldest() : this.allocate();
    this.table.set(key, hash, slot);
    this.pending[slot] = promise;
    this.deadlines[slot] = deadline ?? NaN;
    this.append(slot);
    const generation = this.generations[slot]!;
    promise.then(
      (value) => {
        // Invalidated or evicted meanwhile, the slot is another key's or free, and this is moot.
        if (this.generations[slot] !== generation) return;
        this.pending[slot] = undefined;
        this.values[slot] = value;
        if (this.expires) this.expiries[slot] = performance.now() + this.ttlMs;
      },
      () => {
        if (this.generations[slot] === generation) this.remove(slot);
      },
    );
  }

  /** Drops the result or call in flight of `key`; returns 1 if a result was dropped, else 0. */
  delete(key: Key): number {
    const slot = this.table.get(key, KeyTable.hash(key));
    if (slot === NONE) return 0;
    const fresh = this.fresh(slot);
    this.remove(slot);
    return fresh ? 1 : 0;
  }

  /** Drops everything; returns how many results were dropped. */
  clear(): number {
    const dropped = this.size;
    while (this.oldest !== NONE) this.remove(this.oldest);
    return dropped;
  }

  /** Fresh results held, not counting calls in flight. */
  get size(): number {
    let count = 0;
    for (let slot = this.oldest; slot !== NONE; slot = this.newer[slot]!) if (this.fresh(slot)) count++;
    return count;
  }

  private expired(slot: number): boolean {
    return this.expires && this.expiries[slot]! < performance.now();
  }

  private fresh(slot: number): boolean {
    return this.pending[slot] === undefined && !this.expired(slot);
  }

  private allocate(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    if (this.used === this.older.length) this.grow();
    return this.used++;
  }

  /** Doubles the slot arrays (up to `max`): a cache that never fills never pays for its `max`. */
  private grow(): void {
    const length = Math.min(this.max, Math.max(16, this.older.length * 2));
    const widen = <T extends Float64Array | Uint32Array | Int32Array>(old: T, make: new (length: number) => T): T => {
      const wider = new make(length);
      wider.set(old);
      return wider;
    };
    this.deadlines = widen(this.deadlines, Float64Array);
    this.expiries = widen(this.expiries, Float64Array);
    this.generations = widen(this.generations, Uint32Array);
    this.older = widen(this.older, Int32Array);
    this.newer = widen(this.newer, Int32Array);
  }

  private remove(slot: number): void {
    this.empty(slot);
    this.free.push(slot);
  }

  /** Empties the least recently used slot and returns it for reuse. */
  private evictOldest(): number {
    const slot = this.oldest;
    this.empty(slot);
    return slot;
  }

  private empty(slot: number): void {
    this.table.delete(slot);
    this.unlink(slot);
    this.values[slot] = undefined;
    this.pending[slot] = undefined;
    this.generations[slot]!++;
  }

  private append(slot: number): void {
    this.older[slot] = this.newest;
    this.newer[slot] = NONE;
    if (this.newest === NONE) this.oldest = slot;
    else this.newer[this.newest] = slot;
    this.newest = slot;
  }

  private unlink(slot: number): void {
    const older = this.older[slot]!;
    const newer = this.newer[slot]!;
    if (older === NONE) this.oldest = newer;
    else this.newer[older] = newer;
    if (newer === NONE) this.newest = older;
    else this.older[newer] = older;
  }
}
