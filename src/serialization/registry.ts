import { Code } from '../core/code.js';
import { ExtensionTable } from '../core/extension-table.js';
import { RpcError } from '../core/rpc-error.js';
import { flatbuffersSerializer } from './flatbuffers/serializer.js';
import { jsonSerializer } from './json.js';
import { msgpackSerializer } from './msgpack.js';
import { DEFAULT_DECODE_LIMITS, type DecodeLimits, type Serializer } from './serializer.js';

/**
 * Makes a serializer; called for every server and client that enables it by name, with the
 * decode limits of that server or client, which a serializer of nested values should enforce.
 */
export type SerializerFactory = (limits: DecodeLimits) => Serializer;

/** Serializers known by name, each made when a server or client enables it. */
const factories = new ExtensionTable<SerializerFactory>('serializer', 'name', (value): value is SerializerFactory => typeof value === 'function', [
  ['msgpack', msgpackSerializer],
  ['json', jsonSerializer],
  // Carries only services defined from a .fbs; loads the flatbuffers package when one is first written.
  ['flatbuffers', flatbuffersSerializer],
]);

/** The built-in serializers. */
export type SerializerName = 'msgpack' | 'json' | 'flatbuffers';

/**
 * Makes `serializer: name` (client) and `serializers: [name]` (server) enable the serializer
 * `factory` makes, whose `name` must be `name` and whose wire `id` (0..255) no other enabled
 * serializer may use. A taken name (a built-in included) is refused with INVALID_ARGUMENT.
 *
 * ```ts
 * registerSerializer('cbor', () => ({ id: 7, name: 'cbor', encode: (v) => cbor.encode(v), decode: (b) => cbor.decode(b) }));
 * ```
 */
export function registerSerializer(name: string, factory: SerializerFactory): void {
  factories.register(name, factory);
}

/** Every peer reads JSON: a request in a serializer the server lacks is refused with a JSON error. */
export const errorSerializer: Serializer = jsonSerializer();

/** The serializers enabled for one server or client, looked up by wire id. */
export class SerializerSet {
  /** JSON with this set's decode limits, enabled or not: HTTP bodies are JSON in any case. */
  readonly json: Serializer;
  private readonly byId: Array<Serializer | undefined> = [];
  private readonly byName = new Map<string, Serializer>();

  constructor(names: readonly (string | Serializer)[], limits: DecodeLimits = DEFAULT_DECODE_LIMITS) {
    this.json = jsonSerializer(limits);
    for (const entry of names) {
      const serializer = typeof entry === 'string' ? create(entry, limits) : entry;
      if (this.byName.has(serializer.name)) continue;
      if (!Number.isInteger(serializer.id) || serializer.id < 0 || serializer.id > 255) {
        throw new RpcError(Code.INVALID_ARGUMENT, `serializer ${serializer.name} has an id outside 0..255`);
      }
      if (this.byId[serializer.id] !== undefined) {
        throw new RpcError(Code.INVALID_ARGUMENT, `two serializers share id ${serializer.id}`);
      }
      this.byId[serializer.id] = serializer;
      this.byName.set(serializer.name, serializer);
    }
  }

  /** Names of the enabled serializers, in the order given. */
  get names(): string[] {
    return [...this.byName.keys()];
  }

  byWireId(id: number): Serializer | undefined {
    return this.byId[id];
  }

  /** For reading responses: the enabled serializers, and JSON for errors in any case. */
  forResponse(id: number): Serializer | undefined {
    return this.byId[id] ?? (id === errorSerializer.id ? errorSerializer : undefined);
  }

  named(name: string): Serializer {
    const serializer = this.byName.get(name);
    if (serializer === undefined) throw new RpcError(Code.INVALID_ARGUMENT, `serializer ${name} is not enabled`);
    return serializer;
  }
}

function create(name: string, limits: DecodeLimits): Serializer {
  const serializer = factories.get(name)(limits);
  // Peers and options look a serializer up by the name it reports, which must be the one it was asked by.
  if (serializer?.name !== name || typeof serializer.encode !== 'function' || typeof serializer.decode !== 'function') {
    throw new RpcError(Code.INVALID_ARGUMENT, `the serializer registered as ${JSON.stringify(name)} must make a serializer named ${JSON.stringify(name)} with encode and decode`);
  }
  return serializer;
}
