import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import test from 'node:test';

// The package is consumed through its `exports` map: the built ESM entry and its type declarations.
test('the package resolves by its own name to the built ESM entry with types', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    name: string;
    type: string;
    exports: { '.': { types: string; import: string } };
  };
  assert.equal(pkg.name, 'switchyard');
  assert.equal(pkg.type, 'module');
  assert.ok(existsSync(new URL(`../${pkg.exports['.'].types}`, import.meta.url)), 'type declarations are built');
  const api = (await import('switchyard')) as Record<string, unknown>;
  for (const name of ['defineService', 'createServer', 'createClient', 'RpcError', 'Code', 'Metadata', 'currentCall']) {
    assert.ok(name in api, `switchyard exports ${name}`);
  }
  assert.equal(import.meta.resolve('switchyard'), new URL(`../${pkg.exports['.'].import}`, import.meta.url).href);
});
