import type { Key } from './arg-key.js';

/** Keys up to this many units are kept inline, in one shared typed array. */
const INLINE_UNITS = 16;

/**
 * A hash table from keys (runs of 16-bit units, see `ArgKeyWriter`) to slots (the small whole
 * numbers that index a cache's parallel arrays), by open addressing with linear probing. Deletion
 * shifts the following entries back instead of leaving tombstones, so churn never forces a rebuild.
 *
 * It exists for the cost of a miss. A `Map` keyed by strings, with keys added and deleted at call
 * rate, keeps reallocating its backing store, and every key string it holds outlives a few
 * young-generation collections, each of which copies it. Here a short key is copied into a typed
 * array that lives as long as the table: a miss leaves no object behind.
 */
export class KeyTable {
  /** slot + 1 per bucket; 0 is an empty bucket. */
  private buckets = new Int32Array(16);
  private mask = 15;
  /** By slot: the key's hash, its length, and its units (inline if short, else a copy of their own). */
  private hashes = new Int32Array(0);
  private lengths = new Int32Array(0);
  private inline = new Uint16Array(0);
  private readonly long: Array<Uint16Array | undefined> = [];
  size = 0;

  /** The hash that `get` and `set` take with `key`: computed once for a lookup and the insertion after it. */
  static hash(key: Key): number {
    const { units, length } = key;
    let hash = 0x811c9dc5; // 32-bit FNV-1a over the units, then Murmur3's mix so the bucket bits depend on every unit
    for (let i = 0; i < length; i++) hash = Math.imul(hash ^ units[i]!, 0x01000193);
    hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
    hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
    return hash ^ (hash >>> 16);
  }

  /** The slot of `key` (whose hash is `hash`), or -1. */
  get(key: Key, hash: number): number {
    const { buckets, mask, hashes } = this;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const entry = buckets[i]!;
      if (entry === 0) return -1;
      const slot = entry - 1;
      if (hashes[slot] === hash && this.holds(slot, key)) return slot;
    }
  }

  /** Maps `key` (whose hash is `hash`), which must not be in the table, to `slot`, which must not be either. */
  set(key: Key, hash: number, slot: number): void {
    if ((this.size + 1) * 2 > this.buckets.length) this.rehash(this.buckets.length * 2);
    if (slot >= this.hashes.length) this.widen(slot + 1);
    this.hashes[slot] = hash;
    this.lengths[slot] = key.length;
    const { units, length } = key;
    let stored = this.inline;
    let offset = slot * INLINE_UNITS;
    if (length > INLINE_UNITS) {
      stored = this.long[slot] = new Uint16Array(length);
      offset = 0;
    }
    // A loop, not set(subarray()): a subarray is an object made per call.
    for (let i = 0; i < length; i++) stored[offset + i] = units[i]!;
    this.place(slot, hash);
    this.size++;
  }

  /** Removes the key held by `slot`. */
  delete(slot: number): void {
    const { buckets, mask, hashes } = this;
    let hole = hashes[slot]! & mask;
    while (buckets[hole] !== slot + 1) hole = (hole + 1) & mask;
    // Move each later entry of the run back into the hole unless its home bucket lies after the hole.
    for (let i = (hole + 1) & mask; buckets[i] !== 0; i = (i + 1) & mask) {
      const home = hashes[buckets[i]! - 1]! & mask;
      const stays = hole < i ? hole < home && home <= i : hole < home || home <= i;
      if (!stays) {
        buckets[hole] = buckets[i]!;
        hole = i;
      }
    }
    buckets[hole] = 0;
    this.long[slot] = undefined;
    this.size--;
  }

  private holds(slot: number, key: Key): boolean {
    const length = key.length;
    if (this.lengths[slot] !== length) return false;
    const { units } = key;
    let stored: Uint16Array;
    let offset: number;
    if (length <= INLINE_UNITS) {
      stored = this.inline;
      offset = slot * INLINE_UNITS;
    } else {
      stored = this.long[slot]!;
      offset = 0;
    }
    for (let i = 0; i < length; i++) if (stored[offset + i] !== units[i]) return false;
    return true;
  }

  private place(slot: number, hash: number): void {
    const { buckets, mask } = this;
    let i = hash & mask;
    while (buckets[i] !== 0) i = (i + 1) & mask;
    buckets[i] = slot + 1;
  }

  private rehash(length: number): void {
    const old = this.buckets;
    this.buckets = new Int32Array(length);
    this.mask = length - 1;
    for (let i = 0; i < old.length; i++) if (old[i] !== 0) this.place(old[i]! - 1, this.hashes[old[i]! - 1]!);
  }

  private widen(slots: number): void {
    const length = Math.max(slots, 16, this.hashes.length * 2);
    const hashes = new Int32Array(length);
    const lengths = new Int32Array(length);
    const inline = new Uint16Array(length * INLINE_UNITS);
    hashes.set(this.hashes);
    lengths.set(this.lengths);
    inline.set(this.inline);
    [this.hashes, this.lengths, this.inline] = [hashes, lengths, inline];
  }
}
