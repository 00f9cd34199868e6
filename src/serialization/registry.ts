import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import { jsonSerializer } from './json.js';
import { msgpackSerializer } from './msgpack.js';
import type { Serializer } from './serializer.js';

/** Serializers known by name, each made on first use. Add one here to make it selectable. */
const factories = new Map<string, () => Serializer>([
  ['msgpack', msgpackSerializer],
  ['json', jsonSerializer],
]);

/** Every peer reads JSON: a request in a serializer the server lacks is refused with a JSON error. */
export const errorSerializer: Serializer = jsonSerializer();

/** The serializers enabled for one server or client, looked up by wire id. */
export class SerializerSet {
  private readonly byId: Array<Serializer | undefined> = [];
  private readonly byName = new Map<string, Serializer>();

  constructor(names: readonly (string | Serializer)[]) {
    for (const entry of names) {
      const serializer = typeof entry === 'string' ? create(entry) : entry;
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

function create(name: string): Serializer {
  const factory = factories.get(name);
  if (factory === undefined) {
    throw new RpcError(Code.INVALID_ARGUMENT, `unknown serializer ${JSON.stringify(name)} (known: ${[...factories.keys()].join(', ')})`);
  }
  return factory();
}
