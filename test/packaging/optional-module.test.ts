// Loading optional peer dependencies: a missing package is named with how to install it; a
// package that is there but broken keeps its own error.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Code } from '../../src/core/code.js';
import { importOptional, requireOptional } from '../../src/core/optional-module.js';
import { RpcError } from '../../src/core/rpc-error.js';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-optional-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function assertMissing(error: unknown, message: string): true {
  assert.ok(error instanceof RpcError, String(error));
  assert.equal(error.code, Code.FAILED_PRECONDITION);
  assert.equal(error.unprocessed, true);
  assert.equal(error.message, message);
  return true;
}

test('an installed package loads, asynchronously or not', async () => {
  const amqplib = await importOptional<{ connect: unknown }>('amqplib', 'amqp://');
  assert.equal(typeof amqplib.connect, 'function');
  const protobuf = requireOptional<{ Root: unknown }>('protobufjs', 'Protocol Buffers');
  assert.equal(typeof protobuf.Root, 'function');
  const descriptor = requireOptional<{ FileDescriptorProto: unknown }>('protobufjs/ext/descriptor', 'Protocol Buffers');
  assert.ok(descriptor.FileDescriptorProto);
});

test('a missing package fails with FAILED_PRECONDITION naming the package and its install command', async () => {
  await assert.rejects(importOptional('switchyard-absent-package', 'amqp://'), (error) =>
    assertMissing(error, 'amqp:// needs the package switchyard-absent-package: npm install switchyard-absent-package'));
  assert.throws(() => requireOptional('switchyard-absent-package/ext/descriptor', 'Protocol Buffers'), (error) =>
    assertMissing(error, 'Protocol Buffers needs the package switchyard-absent-package: npm install switchyard-absent-package'));
  await assert.rejects(importOptional('@switchyard-absent/scoped/sub', 'this feature'), (error) =>
    assertMissing(error, 'this feature needs the package @switchyard-absent/scoped: npm install @switchyard-absent/scoped'));
});

test('a package that is there but misses a dependency of its own keeps its own error', async () => {
  const esm = join(dir, 'broken.mjs');
  const cjs = join(dir, 'broken.cjs');
  writeFileSync(esm, "import 'switchyard-absent-dependency';\n");
  writeFileSync(cjs, "require('switchyard-absent-dependency');\n");
  await assert.rejects(importOptional(esm, 'x://'), (error: NodeJS.ErrnoException) => {
    assert.ok(!(error instanceof RpcError));
    assert.equal(error.code, 'ERR_MODULE_NOT_FOUND');
    assert.match(error.message, /switchyard-absent-dependency/);
    return true;
  });
  assert.throws(() => requireOptional(cjs, 'x://'), (error: NodeJS.ErrnoException) => {
    assert.ok(!(error instanceof RpcError));
    assert.equal(error.code, 'MODULE_NOT_FOUND');
    return true;
  });
});
