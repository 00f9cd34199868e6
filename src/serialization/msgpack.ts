import { Packr, addExtension } from 'msgpackr';
import type { Serializer } from './serializer.js';

// msgpack has no Map type distinct from objects; an extension keeps Maps as Maps.
// (Dates, bigints, Sets and binary are handled by msgpackr itself.)
const MAP_EXTENSION = 0x4d;
addExtension({
  Class: Map,
  type: MAP_EXTENSION,
  write: (map: Map<unknown, unknown>) => [...map],
  read: (entries: Array<[unknown, unknown]>) => new Map(entries),
});

/**
 * MessagePack (the default). Binary values decode as views of the received frame, not copies.
 * A `__proto__` key decodes as the plain key `__proto_`, so no payload can reach a prototype.
 */
export function msgpackSerializer(): Serializer {
  const packr = new Packr({
    useRecords: false,
    moreTypes: true,
    int64AsType: 'bigint',
  });
  return {
    id: 0,
    name: 'msgpack',
    encode: (value) => packr.pack(value),
    decode: (bytes) => packr.unpack(bytes as Buffer),
  };
}
