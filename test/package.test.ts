import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import test from 'node:test';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  name: string;
  type: string;
  exports: Record<string, string | { types: string; default: string }>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

// The package is consumed through its `exports` map: the built ESM entry and its type declarations.
// test/packaging/ checks the packed tarball itself (attw, publint, require from CommonJS, no peers).
test('the package resolves by its own name to the built ESM entry with types', async () => {
  const root = pkg.exports['.'] as { types: string; default: string };
  assert.equal(pkg.name, 'switchyard');
  assert.equal(pkg.type, 'module');
  assert.ok(existsSync(new URL(`../${root.types}`, import.meta.url)), 'type declarations are built');
  const api = (await import('switchyard')) as Record<string, unknown>;
  for (const name of ['defineService', 'createServer', 'createClient', 'RpcError', 'Code', 'Metadata', 'currentCall']) {
    assert.ok(name in api, `switchyard exports ${name}`);
  }
  assert.equal(import.meta.resolve('switchyard'), new URL(`../${root.default}`, import.meta.url).href);
});

test('every subpath names its types first and one build for import and require alike', () => {
  for (const [key, target] of Object.entries(pkg.exports)) {
    if (key === './package.json') continue;
    assert.equal(typeof target, 'object', key);
    assert.deepEqual(Object.keys(target), ['types', 'default'], `${key}: types first, then the one ES module build`);
  }
});

test('heavy and framework packages are optional peers, installed here for the tests', () => {
  const optional = ['amqplib', 'node-zookeeper-client', 'etcd3', 'flatbuffers', 'protobufjs', '@nestjs/common', '@nestjs/core', '@nestjs/microservices', 'reflect-metadata', 'rxjs'];
  for (const name of optional) {
    assert.ok(!(name in pkg.dependencies), `${name} is no dependency`);
    assert.ok(name in pkg.peerDependencies, `${name} is a peer dependency`);
    assert.equal(pkg.peerDependenciesMeta[name]?.optional, true, `${name} is optional`);
    assert.ok(name in pkg.devDependencies, `${name} is installed for the tests`);
  }
  assert.ok('@standard-schema/spec' in pkg.dependencies, 'Standard Schema types stay a dependency');
});
