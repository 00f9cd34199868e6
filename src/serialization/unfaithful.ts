/** A value a serializer would change without a word, and what to send instead. */
export interface Unfaithful {
  /** The value, as a message names it: "an Error value", "a Float64Array". */
  readonly what: string;
  readonly instead: string;
}

/**
 * Values neither built-in serializer can carry unchanged, so both refuse them when encoding: an
 * `Error` (JSON writes `{}`, msgpackr an array of its name and message), a `RegExp` (`{}`, an array
 * of source and flags), a typed array other than `Uint8Array`, a `DataView` or an `ArrayBuffer`
 * (an object of indices, or plain bytes that decode as a `Buffer`).
 */
export function unfaithful(value: object): Unfaithful | undefined {
  if (value instanceof Error) return { what: 'an Error value', instead: 'send its name and message as plain data' };
  if (value instanceof RegExp) return { what: 'a RegExp', instead: 'send its source and flags as strings' };
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && value instanceof SharedArrayBuffer)) {
    const type = value.constructor.name;
    return { what: `${/^[AEIO]/.test(type) ? 'an' : 'a'} ${type}`, instead: 'send its bytes as a Uint8Array, or its numbers as an array' };
  }
  return undefined;
}
