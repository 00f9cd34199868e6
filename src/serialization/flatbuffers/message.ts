import { Code } from '../../core/code.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';
import { DEFAULT_DECODE_LIMITS, type DecodeLimits } from '../serializer.js';
import { loadFbsSchema, type FbsLoadOptions, type FbsSource } from './load.js';
import { flatbuffersRuntime } from './runtime.js';
import { schemaCodec } from './schema-codec.js';

/** One table of a FlatBuffers schema, written and read on its own (outside a call). */
export interface FbsMessage<T = Record<string, unknown>> {
  /** Fully qualified: `shop.Order`. */
  readonly name: string;
  /** The FlatBuffer of `value`; INVALID_ARGUMENT, naming the field, for a value the table cannot hold. */
  encode(value: T): Uint8Array;
  /** The table as a plain object; INVALID_ARGUMENT for a malformed message or one past the decode limits. */
  decode(bytes: Uint8Array): T;
}

export interface FbsMessageOptions extends FbsLoadOptions {
  /** Nesting and item limits of `decode` (the defaults of servers and clients unless given). */
  limits?: Partial<Pick<DecodeLimits, 'maxDepth' | 'maxItems'>>;
}

/**
 * The codec of the table `tableName` of a schema (`.fbs` or `.bfbs`, see `defineServiceFromFbs`),
 * the same one calls use: to store FlatBuffers, or to test what a peer will read.
 *
 * ```ts
 * const Order = flatbuffersMessage('schemas/shop.fbs', 'shop.Order');
 * const bytes = Order.encode({ id: 7n, lines: [] });
 * ```
 */
export function flatbuffersMessage<T = Record<string, unknown>>(source: FbsSource, tableName: string, options: FbsMessageOptions = {}): FbsMessage<T> {
  flatbuffersRuntime();
  const schema = loadFbsSchema(source, options);
  const object = schema.objects.find((candidate) => candidate.name === tableName && !candidate.isStruct);
  if (object === undefined) throw new RpcError(Code.NOT_FOUND, `no table ${JSON.stringify(tableName)} in the FlatBuffers schema`);
  const codec = schemaCodec(schema);
  const limits: DecodeLimits = { ...DEFAULT_DECODE_LIMITS, ...options.limits };
  return {
    name: object.name,
    encode(value) {
      try {
        return codec.encode(object, value, object.name);
      } catch (error) {
        throw new RpcError(Code.INVALID_ARGUMENT, errorMessage(error), { cause: error });
      }
    },
    decode(bytes) {
      try {
        return codec.decode(object, bytes, limits) as T;
      } catch (error) {
        throw new RpcError(Code.INVALID_ARGUMENT, errorMessage(error), { cause: error });
      }
    },
  };
}
