import { valueKey } from './stable-key.js';

/** An argument list's key: the first `length` units of `units`. */
export interface Key {
  readonly units: Uint16Array;
  readonly length: number;
}

// One tag unit before each value; each value's payload is of a fixed size or prefixed by its
// length, so a run of units has exactly one reading as a list of values.
const INT = 1; // 2 units: an int32
const DOUBLE = 2; // 4 units: the float64's bits
const NAN = 3;
const STRING = 4; // 2 units of length, then the string's code units
const TRUE = 5;
const FALSE = 6;
const UNDEFINED = 7;
const NULL = 8;
const OTHER = 9; // 2 units of length, then the value's `stableKey` text

const float = new Float64Array(1);
const floatUnits = new Uint16Array(float.buffer);

/**
 * Writes an argument list's key as 16-bit units into a buffer it reuses, so that looking a call
 * up in a cache builds no string and leaves nothing for the garbage collector. Numbers, strings,
 * booleans, null and undefined are written as they are; anything else as its `stableKey` text.
 * Two argument lists get the same units exactly when `stableKey` gives them the same key.
 */
export class ArgKeyWriter implements Key {
  units = new Uint16Array(64);
  length = 0;

  /** Writes the key of `args`; false if they have none (see `stableKey`). */
  write(args: readonly unknown[]): boolean {
    this.length = 0;
    for (let i = 0; i < args.length; i++) if (!this.value(args[i])) return false;
    return true;
  }

  private value(value: unknown): boolean {
    switch (typeof value) {
      case 'number':
        this.number(value);
        return true;
      case 'string':
        this.text(STRING, value);
        return true;
      case 'boolean':
        this.room(1);
        this.units[this.length++] = value ? TRUE : FALSE;
        return true;
      case 'undefined':
        this.room(1);
        this.units[this.length++] = UNDEFINED;
        return true;
      default: {
        if (value === null) {
          this.room(1);
          this.units[this.length++] = NULL;
          return true;
        }
        const key = valueKey(value);
        if (key === undefined) return false;
        this.text(OTHER, key);
        return true;
      }
    }
  }

  private number(value: number): void {
    this.room(5);
    const { units } = this;
    if ((value | 0) === value && !Object.is(value, -0)) {
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

  private text(tag: number, text: string): void {
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
