// The embedded registry's rule store: the contract, its files, and keys that try to leave the folder.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import { Code, RpcError } from '../../src/index.js';
import { createEmbeddedRegistry } from '../../src/registry/embedded.js';
import { openRegistry } from '../../src/registry/index.js';
import type { RuleId } from '../../src/rules/types.js';
import { makeProvider, uniqueServiceName } from '../registry/contract.js';
import { TextRecorder, ruleStoreContract } from './store-contract.js';

const base = mkdtempSync(join(tmpdir(), 'switchyard-rules-embedded-'));
after(() => rmSync(base, { recursive: true, force: true }));
const shared = join(base, 'shared');

ruleStoreContract('embedded', async () => createEmbeddedRegistry({ dir: shared, pollMs: 100 }));

let dirs = 0;
/** A registry in a folder of its own, inside a parent folder of its own, closed when the test ends. */
function isolated(t: TestContext) {
  const parent = join(base, `p${++dirs}`);
  mkdirSync(parent);
  const dir = join(parent, 'registry');
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (_obj: object, msg = '') => void lines.push({ level, msg });
  const registry = createEmbeddedRegistry({ dir, pollMs: 50, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } });
  t.after(() => registry.close());
  return { parent, dir, rulesDir: join(dir, 'rules'), registry, rules: registry.rules, lines };
}

describe('embedded rule store', () => {
  test('a rule is a private file <dir>/rules/<encoded key>.<kind> holding the text, written without leftovers', async (t) => {
    const { rulesDir, rules } = isolated(t);
    await rules.put({ key: 'demo.Calculator:1.0.0:', kind: 'configurators' }, 'configVersion: v3.0\n');
    await rules.put({ key: 'blue/demo.Calculator', kind: 'condition-router' }, 'force: false\n');
    await rules.put({ key: 'shop-app', kind: 'tag-router' }, 'tags: []\n');
    assert.deepEqual(readdirSync(rulesDir).sort(), [
      'blue%2Fdemo.Calculator.condition-router',
      'demo.Calculator%3A1.0.0%3A.configurators',
      'shop-app.tag-router',
    ]);
    assert.equal(readFileSync(join(rulesDir, 'demo.Calculator%3A1.0.0%3A.configurators'), 'utf8'), 'configVersion: v3.0\n');
    assert.equal(statSync(rulesDir).mode & 0o777, 0o700);
    assert.equal(statSync(join(rulesDir, 'shop-app.tag-router')).mode & 0o777, 0o600);
  });

  test('keys made to climb out of the folder stay inside it', async (t) => {
    const { parent, dir, rulesDir, rules } = isolated(t);
    const keys = ['..', '.', '../escaped', '../../escaped', '/etc/passwd', 'a/../../../escaped', '..\\..\\escaped', '%2e%2e', '.hidden'];
    for (const key of keys) await rules.put({ key, kind: 'tag-router' }, `key: ${JSON.stringify(key)}\n`);
    for (const key of keys) assert.equal(await rules.get({ key, kind: 'tag-router' }), `key: ${JSON.stringify(key)}\n`);
    assert.deepEqual(readdirSync(parent), ['registry'], 'nothing beside the registry folder');
    assert.deepEqual(readdirSync(dir), ['rules'], 'nothing beside the rules folder');
    const files = readdirSync(rulesDir);
    assert.equal(files.length, keys.length);
    for (const file of files) {
      assert.ok(statSync(join(rulesDir, file)).isFile(), file);
      assert.doesNotMatch(file, /^\.|[/\\\0]/, 'no hidden name, no separator, no NUL');
    }
    assert.equal(existsSync(join(base, 'escaped.tag-router')), false);
    assert.deepEqual((await rules.list()).map((id) => id.key), [...keys].sort());
  });

  test('a rule file written by hand (an editor, a deployment script) is read and watched', async (t) => {
    const { rulesDir, rules } = isolated(t);
    const id: RuleId = { key: 'demo.Calculator::', kind: 'condition-router' };
    const seen = new TextRecorder();
    t.after(rules.watch(id, seen.onChange));
    await seen.waitFor(undefined);
    writeFileSync(join(rulesDir, 'demo.Calculator%3A%3A.condition-router'), 'conditions:\n  - => host = 10.0.0.1\n', { mode: 0o600 });
    await seen.waitFor('conditions:\n  - => host = 10.0.0.1\n', 'the file written by hand');
    assert.deepEqual(await rules.list(), [id]);
    rmSync(join(rulesDir, 'demo.Calculator%3A%3A.condition-router'));
    await seen.waitFor(undefined, 'the file removed by hand');
  });

  test('files others could write, links and files that are not rules are never used', async (t) => {
    const { rulesDir, rules, lines } = isolated(t);
    await rules.list();
    const writable: RuleId = { key: 'group.writable', kind: 'configurators' };
    const linked: RuleId = { key: 'linked', kind: 'configurators' };
    writeFileSync(join(rulesDir, 'group.writable.configurators'), 'planted: true\n');
    // chmod, not writeFile's mode: the umask would take the group bit away.
    chmodSync(join(rulesDir, 'group.writable.configurators'), 0o664);
    const target = join(base, `target-${dirs}.yaml`);
    writeFileSync(target, 'linked: true\n', { mode: 0o600 });
    symlinkSync(target, join(rulesDir, 'linked.configurators'));
    writeFileSync(join(rulesDir, 'README.md'), 'not a rule\n');
    writeFileSync(join(rulesDir, 'demo%41.configurators'), 'not written by the store: %41 is "A"\n');
    const refused = (error: unknown) => error instanceof RpcError && error.code === Code.FAILED_PRECONDITION;
    await assert.rejects(rules.get(writable), (error: unknown) => refused(error) && /can be written by its group/.test((error as Error).message));
    await assert.rejects(rules.get(linked), (error: unknown) => refused(error) && /symbolic link/.test((error as Error).message));
    assert.deepEqual(await rules.list(), []);
    const seen = new TextRecorder();
    t.after(rules.watch(writable, seen.onChange));
    await seen.waitFor(undefined, 'the planted rule to be ignored');
    assert.ok(lines.some((line) => line.level === 'warn' && /ignoring a rule file that can be written by its group/.test(line.msg)));
    // Written again through the store, it is this user's alone and used.
    await rules.put(writable, 'mine: true\n');
    await seen.waitFor('mine: true\n');
  });

  test('the rules folder is no service: services() leaves it out', async (t) => {
    const { registry, rules } = isolated(t);
    const service = uniqueServiceName('WithRules');
    await registry.register(makeProvider(service, 23001));
    await rules.put({ key: 'shop-app', kind: 'tag-router' }, 'tags: []\n');
    assert.deepEqual(await registry.services(), [service]);
  });

  test('an embedded:// address opens a registry whose rules live in its folder', async (t) => {
    const dir = join(base, 'by-address');
    const { registry } = await openRegistry(`embedded://${dir}`);
    t.after(() => registry.close());
    await registry.rules!.put({ key: 'shop-app', kind: 'tag-router' }, 'tags: []\n');
    assert.equal(readFileSync(join(dir, 'rules', 'shop-app.tag-router'), 'utf8'), 'tags: []\n');
  });
});
