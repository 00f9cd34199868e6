/**
 * Target `protobuf`: the Protobuf codec of `.proto` services (test/grpc/fixtures/catalog.proto:
 * 64-bit integers, maps, oneofs, enums, nested and well-known types). Property: decoding a request
 * throws nothing but `RpcError` INVALID_ARGUMENT, decoding a response nothing but `RpcError`
 * INTERNAL; a decoded message is plain data, can be sent back, and decodes again to itself.
 */
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { Code } from '../../src/core/code.js';
import { RpcError } from '../../src/core/rpc-error.js';
import { defineServiceFromProto } from '../../src/transport/grpc/proto.js';
import { protoServiceOf } from '../../src/transport/grpc/proto-registry.js';
import { plainItem, richItem } from '../../test/grpc/fixtures/catalog-usage.js';
import { ensure, expectOnly, property, type FuzzTarget } from './runner.js';
import { checkDecoded, fingerprint } from './values.js';

const CATALOG_PROTO = fileURLToPath(new URL('../../test/grpc/fixtures/catalog.proto', import.meta.url));
const catalog = protoServiceOf(defineServiceFromProto(CATALOG_PROTO, 'test.catalog.Catalog'))!;
const getItem = catalog.methods.get('getItem')!.codec;
const listItems = catalog.methods.get('listItems')!.codec;
const codecs = [getItem, listItems, catalog.methods.get('ping')!.codec];

const withCode = (code: Code) => (error: unknown) => error instanceof RpcError && error.code === code;

const seeds = [
  getItem.encodeResponse(richItem(2n ** 64n - 1n)),
  getItem.encodeResponse(plainItem(1n)),
  getItem.encodeResponse({ ...richItem(7n), inline: undefined, url: 'https://example.com/x' }),
  getItem.encodeRequest([{ id: 12345678901234567890n, locale: 'de' }]),
  listItems.encodeRequest([{ kind: 'MUSIC', limit: -1 }]),
];
// Tags of each wire type, varints at their limits, and lengths that run past the end.
const dictionary = [
  [0x08], [0x12], [0x1a], [0x2a, 0x7f], [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80], [0x0b], [0x0c], [0x0d, 0, 0, 0, 0], [0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f],
  [0x72, 0x04, 0x08, 0x01, 0x12, 0x00], [0x52, 0x02, 0x08, 0x01], [0x18, 0x80, 0x80, 0x80, 0x80, 0x10], [0x07], [0x0e], [0x0f],
].map((bytes) => Buffer.from(bytes));

function check(input: Buffer): void {
  for (const codec of codecs) {
    const request = expectOnly('proto decodeRequest', () => codec.decodeRequest(input), withCode(Code.INVALID_ARGUMENT));
    if (request !== undefined) {
      ensure(request.length === 1, 'a request decoded as several arguments');
      checkDecoded(request);
    }
    const response = expectOnly('proto decodeResponse', () => codec.decodeResponse(input), withCode(Code.INTERNAL));
    if (response === undefined) continue;
    checkDecoded(response);
    // A decoded message can be sent back, and reads again as itself.
    const bytes = expectOnly('proto encodeResponse of a decoded message', () => codec.encodeResponse(response), () => false)!;
    ensure(fingerprint(codec.decodeResponse(bytes)) === fingerprint(response), 'a decoded message changed when sent again');
  }
}

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const text = fc.string({ unit: 'binary', maxLength: 12 });
const item = fc.record({
  id: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  title: text,
  kind: fc.constantFrom('KIND_UNSPECIFIED', 'BOOK', 'MUSIC'),
  tags: fc.array(text, { maxLength: 3 }),
  stock: fc.dictionary(text.filter((key) => key !== '__proto__'), int64, { maxKeys: 3 }),
  price: fc.record({ cents: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), currency: text }),
  updatedAt: fc.record({ seconds: int64, nanos: fc.integer({ min: 0, max: 999_999_999 }) }),
  thumbnail: fc.uint8Array({ maxLength: 16 }),
  variants: fc.array(fc.record({ sku: text, delta: int64, shade: fc.constantFrom('PLAIN', 'DARK') }), { maxLength: 2 }),
  notesByDay: fc.dictionary(int64.map(String), text, { maxKeys: 3 }),
  available: fc.boolean(),
  weight: fc.double(),
}, { requiredKeys: ['id', 'title'] });

export const protobufTarget: FuzzTarget = {
  name: 'protobuf',
  seeds,
  dictionary,
  maxLength: 2048,
  check,
  properties: [
    property('messages round-trip through the codec', fc.property(item, (message) => {
      const decoded = getItem.decodeResponse(getItem.encodeResponse(message)) as Record<string, unknown>;
      ensure(decoded.id === message.id && decoded.title === message.title, 'id or title changed on the way');
      ensure(fingerprint(getItem.decodeResponse(getItem.encodeResponse(decoded))) === fingerprint(decoded), 'a decoded message changed when sent again');
    })),
    property('any bytes: RpcError INVALID_ARGUMENT (requests) and INTERNAL (responses) only', fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      check(Buffer.from(bytes));
    })),
  ],
};
