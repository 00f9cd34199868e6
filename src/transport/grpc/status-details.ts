import type * as Protobuf from 'protobufjs';
import type { ErrorDetails } from '../../core/rpc-error.js';
import { protobufjs } from './protobufjs.js';

/**
 * `grpc-status-details-bin`: a `google.rpc.Status` whose `details` hold one
 * `google.protobuf.Struct` with an error's plain-data details. Reading accepts any `Any`: Structs
 * are merged into the details, other types are kept as `{ typeUrl, value }` (value in base64)
 * under `details.any`.
 */

const STRUCT_URL = 'type.googleapis.com/google.protobuf.Struct';
const MAX_DEPTH = 32;
/** Values written at most: a wide graph, shared subtrees included, cannot make the encoding run long. */
const MAX_NODES = 4096;

interface Types {
  status: Protobuf.Type;
  struct: Protobuf.Type;
}

let types: Types | undefined;

function load(): Types {
  if (types === undefined) {
    const root = protobufjs().Root.fromJSON(({
      nested: {
        google: {
          nested: {
            protobuf: {
              nested: {
                Any: { fields: { type_url: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
                Struct: { fields: { fields: { keyType: 'string', type: 'Value', id: 1 } } },
                Value: {
                  oneofs: { kind: { oneof: ['nullValue', 'numberValue', 'stringValue', 'boolValue', 'structValue', 'listValue'] } },
                  fields: {
                    nullValue: { type: 'NullValue', id: 1 },
                    numberValue: { type: 'double', id: 2 },
                    stringValue: { type: 'string', id: 3 },
                    boolValue: { type: 'bool', id: 4 },
                    structValue: { type: 'Struct', id: 5 },
                    listValue: { type: 'ListValue', id: 6 },
                  },
                },
                ListValue: { fields: { values: { rule: 'repeated', type: 'Value', id: 1 } } },
                NullValue: { values: { NULL_VALUE: 0 } },
              },
            },
            rpc: {
              nested: {
                Status: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 }, details: { rule: 'repeated', type: 'google.protobuf.Any', id: 3 } } },
              },
            },
          },
        },
      },
    }) as unknown as Protobuf.INamespace);
    types = { status: root.lookupType('google.rpc.Status'), struct: root.lookupType('google.protobuf.Struct') };
  }
  return types;
}

/**
 * A `google.rpc.Status` holding `details` as one Struct. Meant for plain data, as `toWireError`
 * copies it; given anything else it still ends: cycles and values past `MAX_NODES` become null
 * (a getter that throws makes it throw, which callers catch).
 */
export function encodeStatusDetails(code: number, message: string, details: ErrorDetails): Uint8Array {
  const { status, struct } = load();
  const value = struct.encode(toStruct(details, 0, { nodes: 0, path: new Set() })).finish();
  return status.encode({ code, message, details: [{ type_url: STRUCT_URL, value }] }).finish();
}

/** The details carried by a `google.rpc.Status`; undefined when the bytes are not one. */
export function decodeStatusDetails(bytes: Uint8Array): ErrorDetails | undefined {
  const { status, struct } = load();
  let decoded: { details?: Array<{ type_url?: string; value?: Uint8Array }> };
  try {
    decoded = status.decode(bytes) as typeof decoded;
  } catch {
    return undefined;
  }
  const details: ErrorDetails = {};
  const other: Array<{ typeUrl: string; value: string }> = [];
  for (const any of decoded.details ?? []) {
    const typeUrl = any.type_url ?? '';
    const value = any.value ?? new Uint8Array(0);
    if (typeUrl === STRUCT_URL) {
      try {
        for (const [key, item] of Object.entries(fromStruct(struct.decode(value) as StructMessage, 0))) own(details, key, item);
        continue;
      } catch {
        // not a readable Struct after all: keep it as bytes below
      }
    }
    other.push({ typeUrl, value: Buffer.from(value).toString('base64') });
  }
  if (other.length > 0) details.any = other;
  return details;
}

interface StructMessage {
  fields?: Record<string, ValueMessage>;
}
interface ValueMessage {
  nullValue?: number;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: StructMessage;
  listValue?: { values?: ValueMessage[] };
}

/** How much of a details graph is written: values so far, and the objects being written (cycles). */
interface Walk {
  nodes: number;
  path: Set<object>;
}

function toStruct(record: Record<string, unknown>, depth: number, walk: Walk): StructMessage {
  const fields: Record<string, ValueMessage> = {};
  walk.path.add(record);
  for (const [key, item] of Object.entries(record)) {
    if (item !== undefined && typeof item !== 'function') own(fields, key, toValue(item, depth + 1, walk));
  }
  walk.path.delete(record);
  return { fields };
}

function toValue(value: unknown, depth: number, walk: Walk): ValueMessage {
  if (value === null || value === undefined || depth > MAX_DEPTH || ++walk.nodes > MAX_NODES) return { nullValue: 0 };
  switch (typeof value) {
    case 'number':
      return { numberValue: value };
    case 'string':
      return { stringValue: value };
    case 'boolean':
      return { boolValue: value };
    case 'bigint':
      return { stringValue: value.toString() };
    case 'object':
      if (walk.path.has(value)) return { nullValue: 0 };
      if (Array.isArray(value)) {
        walk.path.add(value);
        const values: ValueMessage[] = [];
        for (let i = 0; i < value.length && walk.nodes < MAX_NODES; i++) values.push(toValue(value[i], depth + 1, walk));
        walk.path.delete(value);
        return { listValue: { values } };
      }
      if (value instanceof Uint8Array) return { stringValue: Buffer.from(value).toString('base64') };
      if (value instanceof Date) return { stringValue: value.toISOString() };
      return { structValue: toStruct(value as Record<string, unknown>, depth, walk) };
    default:
      return { nullValue: 0 };
  }
}

function fromStruct(struct: StructMessage, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(struct.fields ?? {})) {
    own(out, key, fromValue(value, depth + 1));
  }
  return out;
}

function fromValue(value: ValueMessage, depth: number): unknown {
  if (depth > MAX_DEPTH) return null;
  // Decoded messages keep defaults on their prototype: only own properties were on the wire.
  const has = (key: keyof ValueMessage) => Object.prototype.hasOwnProperty.call(value, key);
  if (has('numberValue')) return value.numberValue;
  if (has('stringValue')) return value.stringValue;
  if (has('boolValue')) return value.boolValue;
  if (has('structValue')) return fromStruct(value.structValue ?? {}, depth);
  if (has('listValue')) return (value.listValue?.values ?? []).map((item) => fromValue(item, depth + 1));
  return null;
}

/** Sets an own property, so that a `__proto__` key stays a key and never reaches a prototype. */
function own(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
