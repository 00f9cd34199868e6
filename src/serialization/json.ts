import { fromBase64, toBase64 } from '../core/base64.js';
import { checkJson } from './json-scan.js';
import { DEFAULT_DECODE_LIMITS, mayExceed, type DecodeLimits, type Serializer } from './serializer.js';
import { unfaithful } from './unfaithful.js';

/**
 * JSON. Values JSON has no form for travel as one-key tags: bytes as `{"$bytes": "<base64>"}`,
 * bigints as `{"$bigint": "<digits>"}`, maps as `{"$map": [[key, value], …]}`, sets as
 * `{"$set": [item, …]}`, dates as `{"$date": "<ISO 8601>"}`, `NaN`, `±Infinity` and `-0` as
 * `{"$number": "NaN"}` and so on, and `undefined` in an array (or a hole) as `{"$undefined": true}`.
 * A tag whose value has the wrong form is refused rather than decoded to something else. Values
 * JSON would change without a word are refused when encoded: `Error` and `RegExp` values, typed
 * arrays other than `Uint8Array`, `DataView`s, `ArrayBuffer`s and invalid dates. An object field
 * holding `undefined` is left out, as JSON does (reading it still gives `undefined`).
 * `JSON.parse` defines `__proto__` as an own key, so payloads cannot reach a prototype.
 * Text is walked before it is parsed and refused past `limits` (nesting, items).
 */
export function jsonSerializer(limits: DecodeLimits = DEFAULT_DECODE_LIMITS): Serializer {
  return {
    id: 1,
    name: 'json',
    encode: (value) => utf8(jsonText(value)),
    decode(bytes) {
      if (bytes.length === 0) return undefined;
      if (mayExceed(bytes.length, limits)) checkJson(bytes, limits);
      const text = textOf(bytes);
      // Only a tag (`{"$bytes": …}` and the others) needs the reviver, which costs several times the parse.
      return text.includes('"$') ? JSON.parse(text, reviver) : JSON.parse(text);
    },
  };
}

/**
 * What `jsonSerializer().encode` writes, as text rather than bytes, for a transport that writes
 * text more cheaply (Node's HTTP server joins a text body to the head). Empty for a value JSON
 * cannot write at all (undefined, a function, a symbol); throws where `encode` does.
 */
export function jsonText(value: unknown): string {
  if (isPlain(value)) return JSON.stringify(value);
  // A byte array's toJSON must not run (see withBytesTagged): the value itself is tagged here, those inside it by the replacer.
  const root = value instanceof Uint8Array ? bytesTag(value) : value;
  // JSON.stringify gives undefined for a value it cannot write (undefined itself): empty, read back as undefined.
  return (JSON.stringify(root, replacer) as string | undefined) ?? '';
}

/*
 * UTF-8 both ways. In Node, Buffer's own conversions (checked with isUtf8, so that bad bytes are
 * still refused) take a tenth of the time TextEncoder and a fatal TextDecoder take for a small
 * value; the browser build has only the latter.
 */
const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;
type BufferModule = { isUtf8?: (input: Uint8Array) => boolean };
// Read through process.getBuiltinModule (Node 20.16+): an import of node:buffer would break the browser build.
const nodeIsUtf8 = NodeBuffer === undefined ? undefined
  : (globalThis as { process?: { getBuiltinModule?: (id: string) => BufferModule | undefined } }).process?.getBuiltinModule?.('node:buffer')?.isUtf8;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

function utf8(text: string): Uint8Array {
  return NodeBuffer === undefined ? textEncoder.encode(text) : NodeBuffer.from(text, 'utf8');
}

/**
 * Node's conversion writes U+FFFD for every bad sequence, so only a text holding one can come from
 * bad bytes, and only then are the bytes checked. Most texts hold none (one that is all ASCII is
 * known not to without a scan), so most decodes skip the check's second pass over the bytes.
 */
function textOf(bytes: Uint8Array): string {
  if (NodeBuffer === undefined || nodeIsUtf8 === undefined) return textDecoder.decode(bytes);
  const buffer = NodeBuffer.isBuffer(bytes) ? bytes : NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = buffer.toString('utf8');
  if (text.includes(REPLACEMENT) && !nodeIsUtf8(bytes)) throw new TypeError('The encoded data was not valid for encoding utf-8');
  return text;
}

const REPLACEMENT = '\uFFFD';

/** Items of an array checked for `isPlain`; a longer one takes the replacer's way. */
const PLAIN_ITEMS = 16;

/**
 * Whether JSON writes `value` faithfully as it is, so that the replacer, which costs several times
 * the rest, can be skipped: a string, a boolean, null, a finite number other than -0, or a short
 * array of those (a call's arguments, a small result).
 */
function isPlain(value: unknown): boolean {
  if (Array.isArray(value)) {
    // An array of its own toJSON may become anything: the replacer's way checks what it becomes.
    if (value.length > PLAIN_ITEMS || (value as { toJSON?: unknown }).toJSON !== undefined) return false;
    for (let i = 0; i < value.length; i++) if (!isPlainScalar(value[i])) return false;
    return true;
  }
  return isPlainScalar(value);
}

function isPlainScalar(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object':
      return value === null;
    default:
      return false;
  }
}

/**
 * The most digits a `$bigint` may have. Turning decimal digits into a bigint takes time quadratic
 * in their number (16 MiB of digits blocked the event loop for 5 s); 4,300 is Python's limit for
 * the same reason, and covers any 14,000-bit number.
 */
export const MAX_BIGINT_DIGITS = 4300;

const bigintDigits = /^-?\d+$/;
const specialNumbers = new Map<string, number>([['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity], ['-0', -0]]);
const undefinedTag = Object.freeze({ $undefined: true });
// Arrays from which the reviver removed a `$undefined` item: JSON.parse deletes an item the
// reviver turns into undefined, leaving a hole that is filled with undefined again.
const holey = new WeakSet<unknown[]>();
// Node's decoder takes both alphabets; anything else in the text is not base64 and must not vanish.
const base64Text = /^[A-Za-z0-9+/_-]*={0,2}$/;

function replacer(this: unknown, key: string, value: unknown): unknown {
  const holder = this as Record<string, unknown>;
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0) ? value : { $number: specialNumberText(value) };
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (value === undefined) return Array.isArray(holder) ? undefinedTag : undefined;
  // Objects are checked as they were given, before their toJSON (a Buffer's or a Date's) ran.
  const raw = holder[key];
  if (typeof raw !== 'object' || raw === null) return value;
  if (raw instanceof Uint8Array) return bytesTag(raw);
  if (raw instanceof Date) return { $date: isoTimeOf(raw, key) };
  if (raw instanceof Map) return { $map: [...raw] };
  if (raw instanceof Set) return { $set: [...raw] };
  refuseUnfaithful(raw, key);
  return withBytesTagged(value);
}

function bytesTag(bytes: Uint8Array): { $bytes: string } {
  return { $bytes: toBase64(bytes) };
}

/**
 * `value`, or a copy of it whose byte arrays are tagged already. JSON.stringify calls a value's
 * toJSON before the replacer sees it, and a Buffer's makes an array of its bytes as numbers: 1.9 ms
 * for 64 KiB, where the tag takes 0.1 ms. So the replacer, given a container, tags its byte arrays
 * before JSON reaches them; a container without any is given back as it is.
 */
function withBytesTagged(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item instanceof Uint8Array) (copy ??= value.slice())[i] = bytesTag(item);
    }
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  // for-in walks V8's enum cache without making an array of keys; JSON writes own keys only.
  for (const key in value) {
    const item = (value as Record<string, unknown>)[key];
    if (item instanceof Uint8Array && Object.hasOwn(value, key)) (copy ??= { ...value })[key] = bytesTag(item);
  }
  return copy ?? value;
}

/** `NaN`, `Infinity`, `-Infinity` or `-0`: JSON writes the first three as null and the last as 0. */
function specialNumberText(value: number): string {
  return Object.is(value, -0) ? '-0' : String(value);
}

function isoTimeOf(date: Date, key: string): string {
  if (Number.isNaN(date.getTime())) throw new TypeError(`JSON cannot carry an invalid Date${at(key)}`);
  return date.toISOString();
}

/** Throws for values JSON would turn into something else (`{}`, an object of indices) without a word. */
function refuseUnfaithful(value: object, key: string): void {
  const refused = unfaithful(value);
  if (refused !== undefined) throw new TypeError(`JSON cannot carry ${refused.what}${at(key)}: ${refused.instead}`);
}

function at(key: string): string {
  return key === '' ? '' : ` (at key ${JSON.stringify(key)})`;
}

function reviver(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    if (holey.has(value)) fillHoles(value);
    return value;
  }
  const keys = Object.keys(value);
  if (keys.length !== 1) return value;
  const tag = keys[0]!;
  const content = (value as Record<string, unknown>)[tag];
  switch (tag) {
    case '$bytes':
      return typeof content === 'string' ? bytesFrom(content) : value;
    case '$bigint':
      return typeof content === 'string' ? bigintFrom(content) : value;
    case '$map':
      return Array.isArray(content) ? mapFrom(content) : value;
    case '$set':
      return Array.isArray(content) ? new Set(content) : value;
    case '$date':
      return typeof content === 'string' ? dateFrom(content) : value;
    case '$number':
      return typeof content === 'string' ? numberFrom(content) : value;
    case '$undefined':
      if (content !== true) return value;
      if (Array.isArray(this)) holey.add(this);
      return undefined;
    default:
      return value;
  }
}

function fillHoles(items: unknown[]): void {
  for (let i = 0; i < items.length; i++) if (!(i in items)) items[i] = undefined;
}

/** A `$date` must be exactly what `toISOString()` writes: `Date` reads other text leniently (Feb 30 as Mar 1). */
function dateFrom(text: string): Date {
  const date = new Date(text);
  if (Number.isNaN(date.getTime()) || date.toISOString() !== text) {
    throw new SyntaxError(`$date holds ${JSON.stringify(text.slice(0, 40))}, which is not an ISO 8601 UTC time as toISOString() writes it`);
  }
  return date;
}

function numberFrom(text: string): number {
  const number = specialNumbers.get(text);
  if (number === undefined) throw new SyntaxError(`$number holds ${JSON.stringify(text.slice(0, 40))}; only NaN, Infinity, -Infinity and -0 travel tagged`);
  return number;
}

function bytesFrom(text: string): Uint8Array {
  if (!base64Text.test(text) || text.replace(/=+$/, '').length % 4 === 1) {
    throw new SyntaxError(`$bytes holds text that is not base64 (${text.length} characters)`);
  }
  return fromBase64(text);
}

function bigintFrom(text: string): bigint {
  const digits = text.length - (text.startsWith('-') ? 1 : 0);
  if (digits > MAX_BIGINT_DIGITS) throw new RangeError(`$bigint has ${digits} digits; at most ${MAX_BIGINT_DIGITS} are accepted`);
  if (!bigintDigits.test(text)) throw new SyntaxError(`$bigint holds ${JSON.stringify(text.slice(0, 40))}, which is not an integer`);
  return BigInt(text);
}

function mapFrom(entries: unknown[]): Map<unknown, unknown> {
  for (const entry of entries) {
    if (!Array.isArray(entry) || entry.length !== 2) throw new SyntaxError('$map holds an entry that is not a [key, value] pair');
  }
  return new Map(entries as Array<[unknown, unknown]>);
}
