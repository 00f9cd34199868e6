import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code } from '../../src/core/code.js';
import { RpcError } from '../../src/core/rpc-error.js';
import { defineService, serviceId, type MethodOptions } from '../../src/core/service.js';

// Returns `unknown`, so that a method may be declared streaming or not.
type AnyService = Record<string, (...args: unknown[]) => unknown>;

function define(name: string, methods: Record<string, MethodOptions>, tags: { version?: string; group?: string } = {}) {
  return defineService<AnyService>(name, { ...tags, methods });
}

function isInvalidArgument(pattern: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof RpcError, `expected an RpcError, got ${String(error)}`);
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.match(error.message, pattern);
    return true;
  };
}

describe('defineService names', () => {
  for (const name of ['Calc', 'demo.Calculator', 'a.b.c', '_private.$svc', 'v2.Svc_1']) {
    it(`accepts the service name ${JSON.stringify(name)}`, () => {
      const def = define(name, { add: {} });
      assert.equal(def.key.name, name);
    });
  }

  for (const name of ['', '1abc', 'a..b', 'a.', '.a', 'a b', 'a/b', 'a:b', 'demo.1x', 'a-b']) {
    it(`rejects the service name ${JSON.stringify(name)} with INVALID_ARGUMENT`, () => {
      assert.throws(() => define(name, { add: {} }), isInvalidArgument(/invalid service name/));
    });
  }

  for (const tag of ['1.0/x', 'a:b', 'has space', 'ü']) {
    it(`rejects ${JSON.stringify(tag)} as a version and as a group`, () => {
      assert.throws(() => define('demo.Calc', { add: {} }, { version: tag }), isInvalidArgument(/invalid version or group/));
      assert.throws(() => define('demo.Calc', { add: {} }, { group: tag }), isInvalidArgument(/invalid version or group/));
    });
  }

  it('accepts versions and groups made of word characters, dots, dashes, plus and star', () => {
    const def = define('demo.Calc', { add: {} }, { version: '1.0.0-rc.1+build', group: 'team_a-eu.west*' });
    assert.equal(def.key.version, '1.0.0-rc.1+build');
    assert.equal(def.key.group, 'team_a-eu.west*');
  });
});

describe('defineService methods', () => {
  for (const method of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'then', 'valueOf', 'prototype']) {
    it(`rejects the method name ${JSON.stringify(method)} at definition`, () => {
      // JSON.parse makes `__proto__` an own key, as an attacker-controlled or generated table would.
      const methods = JSON.parse(`{${JSON.stringify(method)}: {}}`) as Record<string, MethodOptions>;
      assert.ok(Object.hasOwn(methods, method));
      assert.throws(() => define('demo.Calc', { add: {}, ...methods }), (error: unknown) => {
        isInvalidArgument(/cannot be a remote method/)(error);
        assert.ok((error as Error).message.includes(JSON.stringify(method)), 'the message names the method');
        return true;
      });
    });
  }

  for (const method of ['', '1add', 'add-one', 'a.b', 'a b']) {
    it(`rejects the malformed method name ${JSON.stringify(method)}`, () => {
      assert.throws(() => define('demo.Calc', { [method]: {} }), isInvalidArgument(/cannot be a remote method/));
    });
  }

  it('keeps every declared method with a copy of its options', () => {
    const divideOptions: MethodOptions = { timeoutMs: 500, idempotent: true };
    const def = define('demo.Calc', { add: {}, divide: divideOptions });
    assert.deepEqual([...def.methods.keys()], ['add', 'divide']);
    assert.deepEqual(def.methods.get('divide'), { timeoutMs: 500, idempotent: true });
    divideOptions.timeoutMs = 1;
    assert.equal(def.methods.get('divide')?.timeoutMs, 500, 'later changes to the caller\'s object do not leak in');
  });

  it('freezes the definition, its key and the options of each method', () => {
    const def = define('demo.Calc', { add: { timeoutMs: 10 } }, { version: '1.0.0' });
    assert.ok(Object.isFrozen(def));
    assert.ok(Object.isFrozen(def.key));
    assert.ok(Object.isFrozen(def.methods.get('add')));
    assert.throws(() => {
      (def as { id: string }).id = 'other';
    }, TypeError);
    assert.throws(() => {
      (def.methods.get('add') as MethodOptions).timeoutMs = 99;
    }, TypeError);
  });

  it('does not let anyone add, remove or clear methods of a definition after it is made', () => {
    const def = define('demo.Calc', { add: {} });
    const methods = def.methods as Map<string, MethodOptions>;
    const attempts: Array<[string, () => unknown]> = [
      ['set', () => methods.set('evil', {})],
      ['delete', () => methods.delete('add')],
      ['clear', () => methods.clear()],
    ];
    for (const [name, attempt] of attempts) {
      try {
        attempt();
      } catch {
        // Refusing by throwing is as good as ignoring the change.
      }
      assert.deepEqual([...def.methods.keys()], ['add'], `methods.${name}() changed the definition`);
    }
  });
});

describe('service ids', () => {
  it('is the bare name when there is no version or group', () => {
    assert.equal(define('demo.Calc', { add: {} }).id, 'demo.Calc');
  });

  it('appends :version', () => {
    assert.equal(define('demo.Calc', { add: {} }, { version: '1.0.0' }).id, 'demo.Calc:1.0.0');
  });

  it('prefixes group/', () => {
    assert.equal(define('demo.Calc', { add: {} }, { group: 'blue' }).id, 'blue/demo.Calc');
  });

  it('has the form group/name:version with both', () => {
    const def = define('demo.Calc', { add: {} }, { version: '2.1', group: 'blue' });
    assert.equal(def.id, 'blue/demo.Calc:2.1');
    assert.equal(def.id, serviceId(def.key));
    assert.deepEqual({ ...def.key }, { name: 'demo.Calc', version: '2.1', group: 'blue' });
  });

  it('leaves out empty version and group', () => {
    assert.equal(serviceId({ name: 'demo.Calc', version: '', group: '' }), 'demo.Calc');
  });
});
