import { isUtf8 } from 'node:buffer';

/**
 * A received FlatBuffer, read with every offset checked before it is followed. The `flatbuffers`
 * package's own reader has no verifier: on a truncated or hostile message it reads past the end
 * (as zeros), and a vector length from garbage can make a loop of billions of steps. Here every
 * table, vtable, field, vector and string must lie inside the message, offsets only point forward
 * (so no walk can loop), strings end in their zero byte and hold valid UTF-8, and anything else
 * is a `RangeError` naming what is wrong, which the codec answers with INVALID_ARGUMENT.
 */
export class CheckedBuffer {
  readonly length: number;
  /** The same bytes as a `Buffer`, for zero-copy views and fast UTF-8 decoding. */
  readonly buffer: Buffer;
  private readonly view: DataView;

  constructor(bytes: Uint8Array) {
    this.buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.length = bytes.byteLength;
  }

  /** The position of the root table. */
  root(): number {
    if (this.length < 8) throw new RangeError(`a FlatBuffer has at least 8 bytes, not ${this.length}`);
    return this.indirect(0);
  }

  /** Where the unsigned offset stored at `at` points. */
  indirect(at: number): number {
    this.need(at, 4, 'an offset');
    const target = at + this.view.getUint32(at, true);
    if (target >= this.length) throw new RangeError(`the offset at byte ${at} points past the end of the ${this.length}-byte message`);
    return target;
  }

  /** Checks the table at `pos` and returns the position of its vtable. */
  vtable(pos: number): number {
    this.need(pos, 4, 'a table');
    const vt = pos - this.view.getInt32(pos, true);
    this.need(vt, 4, 'a vtable');
    const vtSize = this.view.getUint16(vt, true);
    const tableSize = this.view.getUint16(vt + 2, true);
    if (vtSize < 4 || (vtSize & 1) !== 0) throw new RangeError(`the vtable at byte ${vt} has the impossible size ${vtSize}`);
    if (tableSize < 4) throw new RangeError(`the table at byte ${pos} has the impossible size ${tableSize}`);
    this.need(vt, vtSize, 'a vtable');
    this.need(pos, tableSize, 'a table');
    return vt;
  }

  /** The position of field `id` of the table at `pos` (vtable `vt`), `size` bytes long; -1 when the field is absent. */
  field(pos: number, vt: number, id: number, size: number): number {
    const slot = 4 + 2 * id;
    if (slot >= this.view.getUint16(vt, true)) return -1;
    const offset = this.view.getUint16(vt + slot, true);
    if (offset === 0) return -1;
    if (offset < 4 || offset + size > this.view.getUint16(vt + 2, true)) {
      throw new RangeError(`field ${id} of the table at byte ${pos} lies outside its table`);
    }
    return pos + offset;
  }

  /** Follows the offset at `at` to a vector of `elementSize`-byte items; returns the position of its length word. */
  vector(at: number, elementSize: number): number {
    const target = this.indirect(at);
    this.need(target, 4, 'a vector');
    this.need(target + 4, this.view.getUint32(target, true) * elementSize, 'a vector');
    return target;
  }

  /** Follows the offset at `at` to a string. */
  string(at: number): string {
    const target = this.indirect(at);
    this.need(target, 4, 'a string');
    const length = this.view.getUint32(target, true);
    const start = target + 4;
    const end = start + length;
    this.need(start, length + 1, 'a string');
    if (this.buffer[end] !== 0) throw new RangeError(`the string at byte ${target} lacks its terminating zero`);
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (this.buffer[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (!ascii && !isUtf8(this.buffer.subarray(start, end))) throw new RangeError(`the string at byte ${target} is not valid UTF-8`);
    return this.buffer.toString(ascii ? 'latin1' : 'utf8', start, end);
  }

  u8(pos: number): number {
    return this.view.getUint8(pos);
  }

  i8(pos: number): number {
    return this.view.getInt8(pos);
  }

  u16(pos: number): number {
    return this.view.getUint16(pos, true);
  }

  i16(pos: number): number {
    return this.view.getInt16(pos, true);
  }

  u32(pos: number): number {
    return this.view.getUint32(pos, true);
  }

  i32(pos: number): number {
    return this.view.getInt32(pos, true);
  }

  u64(pos: number): bigint {
    return this.view.getBigUint64(pos, true);
  }

  i64(pos: number): bigint {
    return this.view.getBigInt64(pos, true);
  }

  f32(pos: number): number {
    return this.view.getFloat32(pos, true);
  }

  f64(pos: number): number {
    return this.view.getFloat64(pos, true);
  }

  private need(pos: number, size: number, what: string): void {
    if (pos < 0 || pos + size > this.length) {
      throw new RangeError(`${what} at byte ${pos} runs past the end of the ${this.length}-byte message`);
    }
  }
}
