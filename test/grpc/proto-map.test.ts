import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { defineServiceFromProto } from '../../src/index.js';
import { protoServiceOf } from '../../src/transport/grpc/proto-registry.js';

test('a __proto__ key in a map field decodes as an own key and leaves every prototype alone', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-proto-map-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'tags.proto');
  writeFileSync(file, `syntax = "proto3";
package test.maps;
message Inner { string note = 1; }
message Tagged { map<string, Inner> tags = 1; }
service Tags { rpc Put (Tagged) returns (Tagged); }`);
  const TagsService = defineServiceFromProto(file, 'test.maps.Tags');
  const codec = protoServiceOf(TagsService)!.methods.get('put')!.codec;

  // What a hostile peer sends: the map entry's key is the string "__proto__".
  const tags = Object.create(null) as Record<string, unknown>;
  Object.defineProperty(tags, '__proto__', { value: { note: 'sneaky' }, enumerable: true });
  tags.plain = { note: 'fine' };
  const [decoded] = codec.decodeRequest(codec.encodeRequest([{ tags }])) as [{ tags: Record<string, { note: string }> }];

  assert.equal(Object.getPrototypeOf(decoded.tags), Object.prototype);
  assert.deepEqual(Object.keys(decoded.tags).sort(), ['__proto__', 'plain']);
  assert.equal(Object.getOwnPropertyDescriptor(decoded.tags, '__proto__')?.value.note, 'sneaky');
  assert.equal(decoded.tags.plain!.note, 'fine');
  assert.equal(({} as Record<string, unknown>).note, undefined, 'Object.prototype untouched');
});
