import { writeKey, type KeyWriter } from '../core/stable-key.js';

/** An argument list's key: the first `length` units of `units`. */
export interface Key {
  readonly units: Uint16Array;
  readonly length: number;
}

// What follows a NUMBER or DATE tag: a sub-tag, then a payload of a fixed size.
const INT = 1; // 2 units: an int32
const DOUBLE = 2; // 4 units: the float64's bits
const NAN = 3;

const float = new Float64Array(1);
const floatUnits = new Uint16Array(float.buffer);

/**
 * Writes the key of an argument list (see `writeKey`: the same tokens as `stableKey`'s string) as
 * 16-bit units into a buffer it reuses, so that looking a call up in a cache builds no string and
 * leaves nothing for the garbage collector. A tag is one unit, a number its int32 or float64 bits,
 * a text its length in two units and then its code units. Two argument lists get the same units
 * exactly when `stableKey` gives them the same key.
 */
export class ArgKeyWriter implements Key, KeyWriter {
  units = new Uint16Array(64);
  length = 0;

  /** Writes the key of `args`; false if they have none (see `stableKey`). */
  write(args: readonly unknown[]): boolean {
    this.length = 0;
    return writeKey(args, this);
  }

  tag(tag: number): void {
    this.room(1);
    this.units[this.length++] = tag;
  }

  number(tag: number, value: number): void {
    this.room(6);
    const { units } = this;
    units[this.length++] = tag;
    if ((value | 0) === value && !(value === 0 && 1 / value < 0)) {
      units[this.length++] = INT;
      units[this.length++] = value >>> 16;
      units[this.length++] = value & 0xffff;
    } else if (value !== value) {
      units[this.length++] = NAN; // NaNs differ only in bits that no caller can tell apart
    } else {
      float[0] = value;
      units[this.length++] = DOUBLE;
      for (let i = 0; i < 4; i++) units[this.length++] = floatUnits[i]!;
    }
  }

  text(tag: number, text: string): void {
    this.room(3 + text.length);
    const { units } = this;
    units[this.length++] = tag;
    units[this.length++] = text.length >>> 16;
    units[this.length++] = text.length & 0xffff;
    for (let i = 0; i < text.length; i++) units[this.length++] = text.charCodeAt(i);
  }

  private room(more: number): void {
    if (this.length + more <= this.units.length) return;
    const wider = new Uint16Array(Math.max(this.units.length * 2, this.length + more));
    wider.set(this.units.subarray(0, this.length));
    this.units = wider;
  }
}
