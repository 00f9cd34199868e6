/**
 * The key of an argument list: the same for equal lists however they were built, different for
 * lists that differ. `writeKey` walks the arguments and hands their key, token by token, to a
 * `KeyWriter`; `stableKey` writes it as a string, and the result cache's `ArgKeyWriter` writes it
 * as 16-bit units into a reused buffer, so the two always agree. The rules, all made here:
 *
 * - Every value is tagged with its type: `1`, `'1'`, `1n`, `true`, `null`, `undefined`, a Date
 *   and its ISO string or its time, a Map and an object with the same entries, an array and a Set
 *   all differ.
 * - Object keys are sorted, so the order they were set in does not matter; Map entries and Set
 *   members are ordered by their own keys, so insertion order does not either.
 * - `-0` and `0` differ: the default serializer sends them apart and a method can tell them apart
 *   (`1 / -0`), so sharing a result could be wrong, while two keys only cost a miss. Every NaN is
 *   one key: callers cannot tell NaNs apart.
 * - A property set to `undefined` differs from an absent one (serializers that keep it send it).
 * - A Buffer and a Uint8Array with the same bytes agree (serializers send both as those bytes);
 *   other typed arrays are keyed by their type and bytes.
 * - Class instances are keyed by their class name and own enumerable properties, the way
 *   serializers send them.
 * - Functions, symbols, errors, promises, weak collections, cyclic structures and nesting too deep
 *   to walk have no key: the call is not cached.
 *
 * ```ts
 * stableKey([{ b: 2, a: 1 }]) === stableKey([{ a: 1, b: 2 }]);   // true
 * stableKey([1]) === stableKey(['1']);                            // false
 * ```
 */
export function stableKey(args: readonly unknown[]): string | undefined {
  const writer = new StringKeyWriter();
  return writeKey(args, writer) ? writer.key : undefined;
}

/** Receives a key from `writeKey`. A writer must write different token sequences differently. */
export interface KeyWriter {
  /** A tag alone: a type without a payload, or where a list or record opens, divides or closes. */
  tag(tag: number): void;
  /** A tag and a number (NUMBER, DATE). */
  number(tag: number, value: number): void;
  /** A tag and a text of any characters (STRING, and the tags of what is keyed as text). */
  text(tag: number, value: string): void;
}

const code = (char: string) => char.charCodeAt(0);
/** The tags, each a character: `StringKeyWriter` writes it as it is. */
const Tag = {
  LIST: code('['),
  END_LIST: code(']'),
  RECORD: code('{'),
  END_RECORD: code('}'),
  NEXT: code(','),
  UNDEFINED: code('u'),
  NULL: code('z'),
  TRUE: code('t'),
  FALSE: code('f'),
  NUMBER: code('#'),
  STRING: code('s'),
  BIGINT: code('n'),
  DATE: code('D'),
  REGEXP: code('R'),
  BYTES: code('B'),
  VIEW: code('V'),
  ARRAY_BUFFER: code('A'),
  MAP: code('M'),
  SET: code('S'),
  CLASS: code('C'),
  /** A property name of a record. */
  NAME: code('@'),
  /** A Map entry or Set member, as its `stableKey` text. */
  MEMBER: code('>'),
} as const;

/**
 * Hands the key of `args` to `out`; false if they have none. Each tag says what payload follows
 * it, and a number's payload is always followed by a NEXT, END_LIST or END_RECORD tag or ends the
 * key or a member's text: so a writer may write numbers as plain digits and texts behind their
 * length and still write no two keys alike.
 */
export function writeKey(args: readonly unknown[], out: KeyWriter): boolean {
  try {
    // The usual arguments are a few numbers and strings: they are written here as writeValue would,
    // which saves a call each; the list of objects being walked is made only for an object.
    let ancestors: object[] | undefined;
    for (let i = 0; i < args.length; i++) {
      if (i > 0) out.tag(Tag.NEXT);
      const arg = args[i];
      if (typeof arg === 'number') out.number(Tag.NUMBER, arg);
      else if (typeof arg === 'string') out.text(Tag.STRING, arg);
      else if (typeof arg === 'object' && arg !== null) writeObject(arg, out, (ancestors ??= [args]));
      else writeValue(arg, out, noAncestors);
    }
    return true;
  } catch (error) {
    if (error === unkeyable || error instanceof RangeError) return false;
    throw error;
  }
}

/** Writes keys as strings: numbers as their digits, texts as `length:text`. */
class StringKeyWriter implements KeyWriter {
  key = '';

  tag(tag: number): void {
    this.key += tagText[tag];
  }

  number(tag: number, value: number): void {
    this.key += tagText[tag]! + (value === 0 && 1 / value < 0 ? '-0' : value);
  }

  text(tag: number, value: string): void {
    this.key += tagText[tag]! + value.length + ':' + value;
  }
}

const tagText: string[] = [];
for (const tag of Object.values(Tag)) tagText[tag] = String.fromCharCode(tag);

/** Thrown inside to give up on a value that has no stable key. */
const unkeyable = Symbol('unkeyable');

const opaque = [Error, Promise, WeakMap, WeakSet, WeakRef];

/** What `writeValue` is given for a value that is not an object, which it never walks. */
const noAncestors: object[] = [];

/** `ancestors`: the objects being walked, outermost first, to find cycles (nesting is shallow). */
function writeValue(value: unknown, out: KeyWriter, ancestors: object[]): void {
  switch (typeof value) {
    case 'number':
      return out.number(Tag.NUMBER, value);
    case 'string':
      return out.text(Tag.STRING, value);
    case 'boolean':
      return out.tag(value ? Tag.TRUE : Tag.FALSE);
    case 'undefined':
      return out.tag(Tag.UNDEFINED);
    case 'bigint':
      return out.text(Tag.BIGINT, value.toString());
    case 'object':
      return value === null ? out.tag(Tag.NULL) : writeObject(value, out, ancestors);
    default:
      throw unkeyable; // function, symbol
  }
}

function writeObject(value: object, out: KeyWriter, ancestors: object[]): void {
  const proto = Object.getPrototypeOf(value) as object | null;
  // Plain objects and arrays first: they are most arguments.
  if (proto === Object.prototype || proto === null) return within(value, out, ancestors, writeRecord);
  if (Array.isArray(value)) return within(value, out, ancestors, writeList);
  if (value instanceof Date) return out.number(Tag.DATE, value.getTime());
  if (ArrayBuffer.isView(value)) return writeView(value, out);
  if (value instanceof ArrayBuffer) return out.text(Tag.ARRAY_BUFFER, Buffer.from(value).toString('base64'));
  if (value instanceof RegExp) return out.text(Tag.REGEXP, String(value));
  if (value instanceof Map) return within(value, out, ancestors, writeMap);
  if (value instanceof Set) return within(value, out, ancestors, writeSet);
  if (opaque.some((type) => value instanceof type)) throw unkeyable;
  out.text(Tag.CLASS, String((value.constructor as { name?: unknown } | undefined)?.name ?? ''));
  within(value, out, ancestors, writeRecord);
}

/** Writes a container with `write`, refusing a cycle through it. */
function within<T extends object>(value: T, out: KeyWriter, ancestors: object[], write: (value: T, out: KeyWriter, ancestors: object[]) => void): void {
  if (ancestors.includes(value)) throw unkeyable;
  ancestors.push(value);
  write(value, out, ancestors);
  ancestors.pop();
}

function writeView(view: ArrayBufferView, out: KeyWriter): void {
  if (!(view instanceof Uint8Array)) out.text(Tag.VIEW, view.constructor.name);
  out.text(Tag.BYTES, Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64'));
}

function writeList(list: readonly unknown[], out: KeyWriter, ancestors: object[]): void {
  out.tag(Tag.LIST);
  for (let i = 0; i < list.length; i++) {
    if (i > 0) out.tag(Tag.NEXT);
    writeValue(list[i], out, ancestors);
  }
  out.tag(Tag.END_LIST);
}

function writeRecord(record: object, out: KeyWriter, ancestors: object[]): void {
  const names = sorted(Object.keys(record));
  out.tag(Tag.RECORD);
  for (let i = 0; i < names.length; i++) {
    if (i > 0) out.tag(Tag.NEXT);
    out.text(Tag.NAME, names[i]!);
    writeValue((record as Record<string, unknown>)[names[i]!], out, ancestors);
  }
  out.tag(Tag.END_RECORD);
}

function writeMap(map: Map<unknown, unknown>, out: KeyWriter, ancestors: object[]): void {
  const entries: string[] = [];
  for (const entry of map) entries.push(memberText(entry, ancestors));
  writeMembers(Tag.MAP, entries, out);
}

function writeSet(set: Set<unknown>, out: KeyWriter, ancestors: object[]): void {
  const members: string[] = [];
  for (const member of set) members.push(memberText(member, ancestors));
  writeMembers(Tag.SET, members, out);
}

/** The string key of one member (a Set's member, or a Map entry as a `[key, value]` list). */
function memberText(member: unknown, ancestors: object[]): string {
  const writer = new StringKeyWriter();
  writeValue(member, writer, ancestors);
  return writer.key;
}

/** Writes members in the order of their keys: one order for the same members, whatever order they were added in. */
function writeMembers(tag: number, members: string[], out: KeyWriter): void {
  members.sort();
  out.tag(tag);
  out.tag(Tag.LIST);
  for (let i = 0; i < members.length; i++) {
    if (i > 0) out.tag(Tag.NEXT);
    out.text(Tag.MEMBER, members[i]!);
  }
  out.tag(Tag.END_LIST);
}

/** `names` in code-unit order; most objects are built in one order, checked before sorting. */
function sorted(names: string[]): string[] {
  for (let i = 1; i < names.length; i++) if (names[i - 1]! > names[i]!) return names.sort();
  return names;
}
