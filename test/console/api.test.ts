// The console's JSON API against a real embedded registry, real providers with admin listeners,
// and a client calling them: what it shows, and the rule documents its actions write.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ADMIN_PARAM } from '../../src/registry/provider.js';
import { serviceRuleKey } from '../../src/rules/store-keys.js';
import { CalculatorService } from '../support/calculator.js';
import { TOKEN, ask, bearer, callInLoop, openRegistry, providerOf, startConsumer, startProvider, startTestConsole, state, stateWhen, tempRegistry } from './support.js';

const KEY = serviceRuleKey(CalculatorService.key);
const configurators = { key: KEY, kind: 'configurators' } as const;

describe('console API', () => {
  it('shows each provider with its admin listener, and its calls, call rate and p99 from there', async (t) => {
    const spec = await tempRegistry(t);
    const a = await startProvider(t, spec);
    const b = await startProvider(t, spec);
    callInLoop(t, startConsumer(t, spec).calc);
    const console = await startTestConsole(t, spec, { token: TOKEN });

    const s = await stateWhen(console, (s) => [a, b].every(({ address }) => {
      const stats = s.services[0]?.providers.find((p) => p.address === address)?.stats;
      return stats != null && stats.calls > 0 && stats.callsPerSecond !== null && stats.p99Ms !== null;
    }));
    assert.equal(s.registry, spec);
    assert.equal(s.consumersRecorded, false, 'the embedded registry records no consumers');
    assert.deepEqual(s.services.map((service) => service.name), ['demo.Calculator']);
    for (const provider of [a, b]) {
      const shown = providerOf(s, provider.address);
      assert.equal(shown.admin, provider.admin);
      assert.equal(shown.params[ADMIN_PARAM], provider.admin, 'the server announces its admin listener');
      assert.equal(shown.hostPort, provider.hostPort);
      assert.equal(shown.state, 'enabled');
      assert.equal(shown.service.version, '1.0.0');
      assert.ok(shown.stats!.callsPerSecond! >= 0 && shown.stats!.p99Ms! > 0, JSON.stringify(shown.stats));
      assert.equal(shown.stats!.errors, 0);
    }
    assert.deepEqual(s.admins.map((admin) => [admin.kind, admin.ok]), [['server', true], ['server', true]]);
  });

  it('disable, weight and timeout write the service\'s configurators through the registry\'s rule store, keeping other configs; undoing them restores it', async (t) => {
    const spec = await tempRegistry(t);
    const a = await startProvider(t, spec);
    const console = await startTestConsole(t, spec, { token: TOKEN });
    const rules = openRegistry(t, spec).rules;
    const theirs = 'configVersion: v2.7\nscope: service\nkey: demo.Calculator:1.0.0\nconfigs:\n  - side: consumer\n    addresses: [0.0.0.0]\n    parameters: { retries: 0 }  # kept\n';
    await rules.put(configurators, theirs);
    const before = await stateWhen(console, (s) => s.services[0]?.providers.length === 1);
    const service = providerOf(before, a.address).service;
    const act = async (body: Record<string, unknown>) => {
      const answer = await ask(console, '/api/action', { method: 'POST', headers: bearer, body: { service, ...body } });
      assert.equal(answer.status, 200, answer.text);
      return answer.json as { id: { key: string; kind: string }; text: string | null; warnings: string[] };
    };

    const disabled = await act({ action: 'disable', address: a.hostPort });
    assert.deepEqual(disabled.id, configurators);
    const stored = await rules.get(configurators);
    assert.equal(stored, disabled.text);
    assert.match(stored!, /# kept/);
    assert.deepEqual((parse(stored!) as { configs: unknown[] }).configs, [
      { side: 'consumer', addresses: ['0.0.0.0'], parameters: { retries: 0 } },
      { side: 'consumer', addresses: ['0.0.0.0'], providerAddresses: [a.hostPort], parameters: { disabled: true } },
    ]);
    assert.equal(providerOf(await state(console), a.address).state, 'disabled');

    await act({ action: 'weight', address: a.hostPort, weight: 25 });
    await act({ action: 'timeout', method: 'divide', timeoutMs: 250 });
    await act({ action: 'timeout', timeoutMs: 900 });
    const changed = await state(console);
    assert.equal(providerOf(changed, a.address).ruleWeight, 25);
    assert.deepEqual(changed.services[0]!.timeouts, [{ ruleKey: KEY, method: 'divide', timeoutMs: 250 }, { ruleKey: KEY, timeoutMs: 900 }]);

    await act({ action: 'enable', address: a.hostPort });
    await act({ action: 'weight', address: a.hostPort, weight: null });
    await act({ action: 'timeout', method: 'divide', timeoutMs: null });
    await act({ action: 'timeout', timeoutMs: null });
    assert.deepEqual(parse((await rules.get(configurators))!), parse(theirs), 'only the console\'s configs were taken out');
    const after = await state(console);
    assert.equal(providerOf(after, a.address).state, 'enabled');
    assert.equal(providerOf(after, a.address).ruleWeight, null);
    assert.deepEqual(after.services[0]!.timeouts, []);
  });

  it('a rule written by someone else shows on the page: a provider disabled outside the console is shown disabled', async (t) => {
    const spec = await tempRegistry(t);
    const a = await startProvider(t, spec);
    const console = await startTestConsole(t, spec, { token: TOKEN });
    await stateWhen(console, (s) => s.services[0]?.providers[0]?.state === 'enabled');
    await openRegistry(t, spec).rules.put(configurators,
      `configVersion: v2.7\nkey: demo.Calculator:1.0.0\nconfigs:\n  - side: consumer\n    providerAddresses: ['${a.hostPort}']\n    parameters: { disabled: true }\n`);
    await stateWhen(console, (s) => s.services[0]?.providers[0]?.state === 'disabled');
  });

  it('routing rules: a condition router and a tag router are checked, written, listed and removed; a broken one is refused', async (t) => {
    const spec = await tempRegistry(t);
    await startProvider(t, spec);
    const console = await startTestConsole(t, spec, { token: TOKEN });
    const rules = openRegistry(t, spec).rules;
    const condition = 'configVersion: v3.0\nscope: service\nkey: demo.Calculator:1.0.0\nenabled: true\nconditions:\n  - method = add => host = 127.0.0.1\n';
    const tag = 'configVersion: v3.0\nkey: shop\nenabled: true\ntags:\n  - name: gray\n    addresses: ["127.0.0.1:20880"]\n';

    const check = await ask(console, '/api/check', { method: 'POST', headers: bearer, body: { kind: 'condition-router', text: condition } });
    assert.equal(check.status, 200);
    assert.deepEqual(check.json, { ok: true, checkedBy: 'parser' }, 'checked by the parser consumers use');
    const broken = await ask(console, '/api/check', { method: 'POST', headers: bearer, body: { kind: 'condition-router', text: 'conditions: [unclosed' } });
    assert.equal((broken.json as { ok: boolean }).ok, false);
    const meaningless = await ask(console, '/api/check', { method: 'POST', headers: bearer, body: { kind: 'condition-router', text: condition.replace('method = add', 'method = ') } });
    assert.equal((meaningless.json as { ok: boolean }).ok, false, 'valid YAML, but no condition');
    assert.match((meaningless.json as { message: string }).message, /conditions\[0\]/);

    for (const [kind, key, text] of [['condition-router', KEY, condition], ['tag-router', 'shop', tag]] as const) {
      const put = await ask(console, '/api/rule', { method: 'PUT', headers: bearer, body: { kind, key, text } });
      assert.equal(put.status, 200, put.text);
      assert.equal(await rules.get({ key, kind }), text);
    }
    const listed = await ask(console, '/api/rules', { headers: bearer });
    assert.deepEqual((listed.json as { rules: unknown[] }).rules, [{ key: KEY, kind: 'condition-router' }, { key: 'shop', kind: 'tag-router' }]);
    const read = await ask(console, `/api/rule?key=shop&kind=tag-router`, { headers: bearer });
    assert.equal((read.json as { text: string }).text, tag);

    const refused = await ask(console, '/api/rule', { method: 'PUT', headers: bearer, body: { kind: 'condition-router', key: KEY, text: 'conditions: [unclosed' } });
    assert.equal(refused.status, 400);
    assert.equal((refused.json as { code: string }).code, 'INVALID_ARGUMENT');
    assert.equal(await rules.get({ key: KEY, kind: 'condition-router' }), condition, 'a refused rule leaves the stored one alone');
    const configuratorPut = await ask(console, '/api/rule', { method: 'PUT', headers: bearer, body: { kind: 'configurators', key: KEY, text: condition } });
    assert.equal(configuratorPut.status, 400, 'configurators are written by the actions only');

    const removed = await ask(console, `/api/rule?key=shop&kind=tag-router`, { method: 'DELETE', headers: bearer });
    assert.equal(removed.status, 200);
    assert.equal(await rules.get({ key: 'shop', kind: 'tag-router' }), undefined);
  });

  it('bad actions are refused with INVALID_ARGUMENT and write nothing', async (t) => {
    const spec = await tempRegistry(t);
    await startProvider(t, spec);
    const console = await startTestConsole(t, spec, { token: TOKEN });
    const service = { name: 'demo.Calculator', version: '1.0.0' };
    for (const body of [
      { action: 'disable', service, address: 'not an address' },
      { action: 'weight', service, address: '127.0.0.1:1', weight: -1 },
      { action: 'weight', service, address: '127.0.0.1:1', weight: 1.5 },
      { action: 'timeout', service, method: 'x; rm -rf', timeoutMs: 5 },
      { action: 'timeout', service, timeoutMs: 0 },
      { action: 'explode', service },
      { action: 'disable', address: '127.0.0.1:1' },
    ]) {
      const answer = await ask(console, '/api/action', { method: 'POST', headers: bearer, body });
      assert.equal(answer.status, 400, `${JSON.stringify(body)}: ${answer.text}`);
      assert.equal((answer.json as { code: string }).code, 'INVALID_ARGUMENT');
    }
    assert.deepEqual(await openRegistry(t, spec).rules.list(), []);
  });

  it('--read-only: the state says so and every change is refused with 403', async (t) => {
    const spec = await tempRegistry(t);
    const a = await startProvider(t, spec);
    const console = await startTestConsole(t, spec, { token: TOKEN, readOnly: true });
    const s = await stateWhen(console, (s) => s.services[0]?.providers.length === 1);
    assert.equal(s.readOnly, true);
    const service = providerOf(s, a.address).service;
    for (const [method, path, body] of [
      ['POST', '/api/action', { action: 'disable', service, address: a.hostPort }],
      ['PUT', '/api/rule', { kind: 'tag-router', key: 'shop', text: 'tags: [{ name: gray }]' }],
      ['DELETE', '/api/rule?key=shop&kind=tag-router', undefined],
      ['POST', '/api/check', { kind: 'tag-router', text: 'tags: []' }],
    ] as const) {
      const answer = await ask(console, path, { method, headers: bearer, body });
      assert.equal(answer.status, 403, `${method} ${path}: ${answer.text}`);
    }
    assert.deepEqual(await openRegistry(t, spec).rules.list(), []);
  });

  it('a client\'s admin listener given with --admin: shown as a consumer, with the breakers it keeps per provider', async (t) => {
    const spec = await tempRegistry(t);
    const a = await startProvider(t, spec);
    const { client, calc } = startConsumer(t, spec, { admin: 'http://127.0.0.1:0', circuitBreaker: { minimumCalls: 1000 } });
    await calc.add(1, 2);
    const clientAdmin = await client.admin();
    const console = await startTestConsole(t, spec, { token: TOKEN, admins: [clientAdmin] });
    const s = await stateWhen(console, (s) => s.services[0]?.providers[0]?.seenBy.length === 1);
    assert.deepEqual(s.services[0]!.consumers, [{ url: clientAdmin, from: 'admin' }]);
    const seen = providerOf(s, a.address).seenBy[0]!;
    assert.equal(seen.client, clientAdmin);
    assert.equal(seen.available, true);
    assert.deepEqual(seen.breakers.map((breaker) => [breaker.method, breaker.state]), [['add', 'CLOSED']]);
    assert.ok(s.admins.some((admin) => admin.url === clientAdmin && admin.kind === 'client' && admin.ok));
  });
});
