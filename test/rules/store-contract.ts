// The behaviour every rule store must show. A test file calls `ruleStoreContract` with a factory of
// registries; every registry it makes must share one backing store (like separate processes pointed
// at the same registry). Each test uses keys of its own, so leftovers of other tests or runs cannot
// interfere.
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { Code, RpcError } from '../../src/index.js';
import type { Registry } from '../../src/registry/registry.js';
import { MAX_RULE_BYTES, MAX_RULE_KEY_BYTES } from '../../src/rules/store-keys.js';
import type { RuleId, RuleKind, RuleStore } from '../../src/rules/types.js';
import { waitFor } from '../registry/contract.js';

/** Records what a rule watcher is told. */
export class TextRecorder {
  readonly calls: (string | undefined)[] = [];
  readonly onChange = (text: string | undefined): void => {
    this.calls.push(text);
  };

  /** Waits until the latest call told `expected` (undefined: the rule is absent). */
  async waitFor(expected: string | undefined, what = 'the expected text', timeoutMs = 5000): Promise<void> {
    await waitFor(() => this.calls.length > 0 && this.calls.at(-1) === expected, `${what}: ${JSON.stringify(expected)}; told ${JSON.stringify(this.calls)}`, timeoutMs);
  }
}

let serial = 0;

/** A rule key no other test or run uses, ending with `label`. */
export function uniqueKey(label: string): string {
  serial++;
  return `contract.r${Date.now().toString(36)}${process.pid}n${serial}.${label}`;
}

export const invalidArgument = (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT;

const yamlRule = (n: number) => `configVersion: v3.0\nscope: service\nkey: demo.Calculator\nenabled: true\nconfigs:\n  - side: consumer\n    parameters:\n      timeout: ${n}\n`;

export function ruleStoreContract(name: string, makeRegistry: () => Promise<Registry>): void {
  /** A registry's rule store, the registry closed when the test ends. */
  async function open(t: TestContext): Promise<RuleStore> {
    const registry = await makeRegistry();
    t.after(() => registry.close());
    assert.ok(registry.rules, `the ${name} registry has a rule store`);
    return registry.rules;
  }

  function watch(t: TestContext, store: RuleStore, id: RuleId): TextRecorder {
    const recorder = new TextRecorder();
    t.after(store.watch(id, recorder.onChange));
    return recorder;
  }

  describe(`${name} rule store contract`, () => {
    test('a rule reads back exactly as written, is replaced by a later put, and is gone after delete', async (t) => {
      const store = await open(t);
      const id: RuleId = { key: uniqueKey('Exact'), kind: 'configurators' };
      assert.equal(await store.get(id), undefined);
      // Comments, CRLF, trailing spaces and non-ASCII text are kept: the store never rewrites a document.
      const text = '# written by hand  \r\nconfigVersion: v3.0\r\nkey: "café 中文"\r\n\r\n';
      await store.put(id, text);
      assert.equal(await store.get(id), text);
      await store.put(id, yamlRule(1));
      assert.equal(await store.get(id), yamlRule(1));
      await store.delete(id);
      assert.equal(await store.get(id), undefined);
      await store.delete(id);
    });

    test('the three kinds of one key are three documents', async (t) => {
      const store = await open(t);
      const key = uniqueKey('Kinds');
      const kinds: RuleKind[] = ['configurators', 'condition-router', 'tag-router'];
      for (const kind of kinds) await store.put({ key, kind }, `kind: ${kind}\n`);
      for (const kind of kinds) assert.equal(await store.get({ key, kind }), `kind: ${kind}\n`);
      await store.delete({ key, kind: 'condition-router' });
      assert.equal(await store.get({ key, kind: 'condition-router' }), undefined);
      assert.equal(await store.get({ key, kind: 'tag-router' }), 'kind: tag-router\n');
    });

    test('another registry on the same store reads what this one wrote', async (t) => {
      const a = await open(t);
      const b = await open(t);
      const id: RuleId = { key: uniqueKey('Shared'), kind: 'tag-router' };
      await a.put(id, 'force: false\n');
      assert.equal(await b.get(id), 'force: false\n');
      await b.delete(id);
      assert.equal(await a.get(id), undefined);
    });

    test('list holds every rule, sorted by key then kind, and forgets deleted ones', async (t) => {
      const store = await open(t);
      const prefix = uniqueKey('List');
      const ids: RuleId[] = [
        { key: `${prefix}.b`, kind: 'tag-router' },
        { key: `${prefix}.a`, kind: 'tag-router' },
        { key: `${prefix}.a`, kind: 'condition-router' },
        { key: `${prefix}.a:1.0.0:`, kind: 'configurators' },
      ];
      for (const id of ids) await store.put(id, 'x: 1\n');
      const mine = (all: RuleId[]) => all.filter((id) => id.key.startsWith(prefix)).map((id) => ({ key: id.key, kind: id.kind }));
      assert.deepEqual(mine(await store.list()), [
        { key: `${prefix}.a`, kind: 'condition-router' },
        { key: `${prefix}.a`, kind: 'tag-router' },
        { key: `${prefix}.a:1.0.0:`, kind: 'configurators' },
        { key: `${prefix}.b`, kind: 'tag-router' },
      ]);
      await store.delete({ key: `${prefix}.a`, kind: 'tag-router' });
      assert.equal(mine(await store.list()).length, 3);
      const all = await store.list();
      const sorted = [...all].sort((x, y) => (x.key === y.key ? (x.kind < y.kind ? -1 : 1) : x.key < y.key ? -1 : 1));
      assert.deepEqual(all, sorted);
    });

    test('keys with "/", ":", dots, backslashes, percent signs and non-ASCII letters are kept apart and read back', async (t) => {
      const store = await open(t);
      const prefix = uniqueKey('Keys');
      const keys = [
        `blue/${prefix}:1.0.0`, `${prefix}:1.0.0:blue`, `${prefix}/..`, `../../${prefix}`, `..\\${prefix}`,
        `${prefix}%2F`, `${prefix} with spaces`, `${prefix}.café.中文`, `.${prefix}`,
      ];
      for (const [n, key] of keys.entries()) await store.put({ key, kind: 'condition-router' }, `n: ${n}\n`);
      for (const [n, key] of keys.entries()) assert.equal(await store.get({ key, kind: 'condition-router' }), `n: ${n}\n`, key);
      const listed = (await store.list()).filter((id) => id.key.includes(prefix)).map((id) => id.key);
      assert.deepEqual(listed, [...keys].sort());
      // Two keys that differ only where an encoding could confuse them stay two rules.
      await store.delete({ key: `${prefix}%2F`, kind: 'condition-router' });
      assert.equal(await store.get({ key: `${prefix}/..`, kind: 'condition-router' }), `n: 2\n`);
    });

    test('invalid keys and kinds are refused with INVALID_ARGUMENT, by every method', async (t) => {
      const store = await open(t);
      const bad: RuleId[] = [
        { key: '', kind: 'configurators' },
        { key: 'a\0b', kind: 'configurators' },
        { key: 'line\nbreak', kind: 'configurators' },
        { key: 'a*b', kind: 'configurators' },
        { key: 'emoji😀', kind: 'configurators' },
        { key: 'x'.repeat(MAX_RULE_KEY_BYTES + 1), kind: 'configurators' },
        { key: 'demo.Calculator', kind: 'routers' as RuleKind },
        { key: 'demo.Calculator', kind: undefined as unknown as RuleKind },
      ];
      for (const id of bad) {
        await assert.rejects(store.get(id), invalidArgument, JSON.stringify(id));
        await assert.rejects(store.put(id, 'a: 1\n'), invalidArgument, JSON.stringify(id));
        await assert.rejects(store.delete(id), invalidArgument, JSON.stringify(id));
        assert.throws(() => store.watch(id, () => {}), invalidArgument, JSON.stringify(id));
      }
      // The longest key allowed is allowed.
      const longest = `${uniqueKey('Long')}.`.padEnd(MAX_RULE_KEY_BYTES, 'k');
      await store.put({ key: longest, kind: 'tag-router' }, 'a: 1\n');
      assert.equal(await store.get({ key: longest, kind: 'tag-router' }), 'a: 1\n');
    });

    test(`a document of ${MAX_RULE_BYTES} bytes is kept, one byte more is refused with INVALID_ARGUMENT`, async (t) => {
      const store = await open(t);
      const id: RuleId = { key: uniqueKey('Size'), kind: 'configurators' };
      const largest = `# ${'x'.repeat(MAX_RULE_BYTES - 3)}\n`;
      await store.put(id, largest);
      assert.equal(await store.get(id), largest);
      // Bytes are counted, not characters: 'é' is two.
      const tooLarge = 'é'.repeat(MAX_RULE_BYTES / 2) + 'x';
      await assert.rejects(store.put(id, tooLarge), (error: unknown) =>
        invalidArgument(error) && (error as RpcError).details.maxBytes === MAX_RULE_BYTES && /at most 1000000 bytes/.test((error as RpcError).message));
      assert.equal(await store.get(id), largest, 'the refused put changed nothing');
      await store.delete(id);
    });

    test('an empty document is a document, not an absent one', async (t) => {
      const store = await open(t);
      const id: RuleId = { key: uniqueKey('Empty'), kind: 'tag-router' };
      const seen = watch(t, store, id);
      await seen.waitFor(undefined, 'absent first');
      await store.put(id, '');
      assert.equal(await store.get(id), '');
      await seen.waitFor('', 'the empty document');
    });

    test('a watcher is told the text soon after watch returns, never inside it', async (t) => {
      const a = await open(t);
      const b = await open(t);
      const id: RuleId = { key: uniqueKey('First'), kind: 'configurators' };
      await a.put(id, yamlRule(1));
      let returned = false;
      let toldBeforeReturn = false;
      const seen = new TextRecorder();
      t.after(b.watch(id, (text) => {
        if (!returned) toldBeforeReturn = true;
        seen.onChange(text);
      }));
      returned = true;
      await seen.waitFor(yamlRule(1));
      assert.equal(toldBeforeReturn, false);
      assert.deepEqual(seen.calls, [yamlRule(1)], 'the first call already holds the document');
      const absent = watch(t, b, { key: uniqueKey('Nothing'), kind: 'configurators' });
      await absent.waitFor(undefined, 'an absent rule');
    });

    test('a watcher follows puts and deletes of another registry, a rule deleted and created again included', async (t) => {
      const writer = await open(t);
      const reader = await open(t);
      const id: RuleId = { key: uniqueKey('Follow'), kind: 'condition-router' };
      const seen = watch(t, reader, id);
      await seen.waitFor(undefined, 'absent first');
      await writer.put(id, yamlRule(1));
      await seen.waitFor(yamlRule(1), 'created');
      await writer.put(id, yamlRule(2));
      await seen.waitFor(yamlRule(2), 'replaced');
      await writer.delete(id);
      await seen.waitFor(undefined, 'deleted');
      await writer.put(id, yamlRule(3));
      await seen.waitFor(yamlRule(3), 'created again');
      // A put of the same text is no change; the next real change is told once.
      await writer.put(id, yamlRule(3));
      await writer.put(id, yamlRule(4));
      await seen.waitFor(yamlRule(4), 'changed after an unchanged put');
      assert.deepEqual(seen.calls, [undefined, yamlRule(1), yamlRule(2), undefined, yamlRule(3), yamlRule(4)]);
    });

    test('watchers of one rule hear the same changes; a watcher that throws does not stop the others', async (t) => {
      const store = await open(t);
      const id: RuleId = { key: uniqueKey('Many'), kind: 'tag-router' };
      t.after(store.watch(id, () => {
        throw new Error('a broken watcher');
      }));
      const first = watch(t, store, id);
      const second = watch(t, store, id);
      await store.put(id, 'a: 1\n');
      await first.waitFor('a: 1\n');
      await second.waitFor('a: 1\n');
    });

    test('after unsubscribing a watcher hears nothing more, the others still do, and unsubscribing twice is harmless', async (t) => {
      const store = await open(t);
      const id: RuleId = { key: uniqueKey('Unsubscribe'), kind: 'configurators' };
      const leaving = new TextRecorder();
      const unsubscribe = store.watch(id, leaving.onChange);
      const staying = watch(t, store, id);
      await store.put(id, yamlRule(1));
      await leaving.waitFor(yamlRule(1));
      unsubscribe();
      unsubscribe();
      await store.put(id, yamlRule(2));
      await staying.waitFor(yamlRule(2));
      await store.delete(id);
      await staying.waitFor(undefined);
      assert.deepEqual(leaving.calls.filter((text) => text !== undefined), [yamlRule(1)]);
      // The rule is watched anew after its last watcher left.
      const back = new TextRecorder();
      const stop = store.watch(id, back.onChange);
      const again = store.watch(id, () => {});
      stop();
      again();
      const last = watch(t, store, id);
      await store.put(id, yamlRule(5));
      await last.waitFor(yamlRule(5));
    });

    test('a closed registry refuses its rule store with FAILED_PRECONDITION and tells its watchers nothing more', async (t) => {
      const registry = await makeRegistry();
      const other = await open(t);
      const store = registry.rules!;
      const id: RuleId = { key: uniqueKey('Closed'), kind: 'configurators' };
      const seen = new TextRecorder();
      store.watch(id, seen.onChange);
      await seen.waitFor(undefined);
      await registry.close();
      const closed = (error: unknown) => error instanceof RpcError && error.code === Code.FAILED_PRECONDITION;
      await assert.rejects(store.get(id), closed);
      await assert.rejects(store.put(id, 'a: 1\n'), closed);
      await assert.rejects(store.list(), closed);
      assert.throws(() => store.watch(id, () => {}), closed);
      const witness = watch(t, other, id);
      await other.put(id, 'a: 1\n');
      await witness.waitFor('a: 1\n');
      assert.deepEqual(seen.calls, [undefined]);
    });
  });
}
