/**
 * Seeded inputs for the in-process fuzzers. Input `i` of a run is a function of the run's seed and
 * `i` alone (`inputSeed`), so any input can be made again from the two numbers a report gives.
 * Most inputs are a valid seed, bent by a few stacked mutations; the rest are random bytes.
 */
import { mulberry32 } from '../../test/support/random.js';

/** A seeded source of choices. */
export class Rng {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** A number in [0, 1). */
  float(): number {
    return this.next();
  }

  /** An integer in [0, below). */
  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) out[i] = this.int(256);
    return out;
  }

  /** Cut points that split `length` bytes into 1..`most` chunks (some empty). */
  cuts(length: number, most = 6): number[] {
    const points = [0, length];
    for (let i = 1, n = this.int(most); i < n; i++) points.push(this.int(length + 1));
    return points.sort((a, b) => a - b);
  }
}

/** The seed of input `index` of a run seeded `runSeed` (a 32-bit mix of the two). */
export function inputSeed(runSeed: number, index: number): number {
  let h = Math.imul(runSeed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** What a target gives the mutator to start from. */
export interface Corpus {
  /** Valid inputs. */
  readonly seeds: readonly Uint8Array[];
  /** Byte strings that mean something to the target (tags, keys, magic numbers), spliced in whole. */
  readonly dictionary?: readonly Uint8Array[];
  /** Inputs are cut to this many bytes (default 4096). */
  readonly maxLength?: number;
  /** Text formats: new bytes are mostly printable ASCII, so that more inputs get past the UTF-8 check. */
  readonly text?: boolean;
  /** Makes a structured input from scratch (a third of the inputs, mutated half the time). */
  generate?(rng: Rng): Buffer;
}

const interestingBytes = [0, 1, 0x7f, 0x80, 0xff, 0x3a, 0x2c, 0x25, 0x7b, 0x5b, 0x22, 0x30, 0x39];
const interestingInts = [
  0, 1, 2, 3, 4, 5, 7, 8, 16, 20, 0x7f, 0x80, 0xff, 0x100, 0x3fff, 0x4000, 0x7fff, 0x8000, 0xffff, 0x10000,
  0xfffff, 0x100000, 0xffffff, 0x1000000, 0x1000001, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
];

/** Input `index` of a run: a mutated seed (9 in 10) or random bytes. */
export function makeInput(corpus: Corpus, rng: Rng): Buffer {
  const maxLength = corpus.maxLength ?? 4096;
  if (corpus.seeds.length === 0 || rng.chance(0.1)) return randomBytes(rng, maxLength, corpus.text === true);
  const generated = corpus.generate !== undefined && rng.chance(0.33);
  let input = generated ? corpus.generate!(rng) : Buffer.from(rng.pick(corpus.seeds));
  if (generated && rng.chance(0.5)) return input.length > maxLength ? input.subarray(0, maxLength) : input;
  // 1 mutation half the time, 2 a quarter, ... at most 8.
  let n = 1;
  while (n < 8 && rng.chance(0.5)) n++;
  for (let i = 0; i < n; i++) input = mutate(input, corpus, rng);
  return input.length > maxLength ? input.subarray(0, maxLength) : input;
}

function randomBytes(rng: Rng, maxLength: number, text: boolean): Buffer {
  const length = rng.int(Math.min(maxLength, rng.chance(0.8) ? 64 : 1024) + 1);
  if (rng.chance(0.7)) return newBytes(rng, length, text);
  // Few distinct bytes: long runs of the same structure (deep nesting, repeated headers).
  const alphabet = [newByte(rng, text), newByte(rng, text), newByte(rng, text)];
  return Buffer.from(Array.from({ length }, () => rng.pick(alphabet)));
}

/** A new byte: any, or for text mostly printable ASCII. */
function newByte(rng: Rng, text: boolean): number {
  return text && rng.chance(0.97) ? 0x20 + rng.int(95) : rng.int(256);
}

function newBytes(rng: Rng, length: number, text: boolean): Buffer {
  if (!text) return rng.bytes(length);
  return Buffer.from(Array.from({ length }, () => newByte(rng, true)));
}

/** One mutation of `input` (which it may change in place). */
export function mutate(input: Buffer, corpus: Corpus, rng: Rng): Buffer {
  const at = (extra = 0) => rng.int(input.length + extra);
  const text = corpus.text === true;
  switch (rng.int(13)) {
    case 0: // flip a bit (of the low seven, mostly, in text)
      if (input.length > 0) input[at()]! ^= 1 << rng.int(text && rng.chance(0.97) ? 7 : 8);
      return input;
    case 1: // a random byte
      if (input.length > 0) input[at()] = newByte(rng, text);
      return input;
    case 2: // an interesting byte
      if (input.length > 0) input[at()] = rng.pick(interestingBytes);
      return input;
    case 3: // a small step up or down
      if (input.length > 0) {
        const i = at();
        input[i] = (input[i]! + rng.int(33) - 16) & 0xff;
      }
      return input;
    case 4: // a length field rewritten: an interesting 16- or 32-bit number, or one near the input's size
      return writeInt(input, rng);
    case 5: // bytes inserted
      return splice(input, at(1), 0, newBytes(rng, 1 + rng.int(16), text));
    case 6: { // a range deleted
      const start = at();
      return splice(input, start, 1 + rng.int(Math.max(1, input.length - start)), Buffer.alloc(0));
    }
    case 7: { // a range duplicated somewhere
      const start = at();
      const piece = Buffer.from(input.subarray(start, start + 1 + rng.int(64)));
      return splice(input, at(1), 0, rng.chance(0.2) ? Buffer.concat(Array.from({ length: 2 + rng.int(30) }, () => piece)) : piece);
    }
    case 8: // cut short
      return input.subarray(0, at());
    case 9: { // spliced with another seed: our head, its tail
      const other = rng.pick(corpus.seeds);
      return Buffer.concat([input.subarray(0, at(1)), other.subarray(rng.int(other.length + 1))]);
    }
    case 10: // another seed appended (several messages in one stream)
      return Buffer.concat([input, rng.pick(corpus.seeds)]);
    case 11: { // a dictionary word inserted or written over
      const words = corpus.dictionary ?? [];
      if (words.length === 0) return writeInt(input, rng);
      const word = rng.pick(words);
      const start = at(1);
      return splice(input, start, rng.chance(0.5) ? word.length : 0, word);
    }
    default: // random bytes over a range
      if (input.length > 0) newBytes(rng, 1 + rng.int(8), text).copy(input, at());
      return input;
  }
}

function writeInt(input: Buffer, rng: Rng): Buffer {
  const width = rng.pick([1, 2, 4]);
  if (input.length < width) return input;
  const value = rng.chance(0.7) ? rng.pick(interestingInts) : Math.max(0, input.length + rng.int(9) - 4);
  const offset = rng.int(input.length - width + 1);
  const big = rng.chance(0.85);
  if (width === 1) input[offset] = value & 0xff;
  else if (width === 2) input[big ? 'writeUInt16BE' : 'writeUInt16LE'](value & 0xffff, offset);
  else input[big ? 'writeUInt32BE' : 'writeUInt32LE'](value >>> 0, offset);
  return input;
}

function splice(input: Buffer, start: number, remove: number, insert: Uint8Array): Buffer {
  return Buffer.concat([input.subarray(0, start), insert, input.subarray(Math.min(input.length, start + remove))]);
}
