// The console's changes to a configurators document: what each action writes, and that it keeps
// every config it did not make, comments included. Each result is read back by the rule parser.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { disableEdit, timeoutEdit, weightEdit } from '../../src/console/configurator-actions.js';
import { editConfigurators } from '../../src/console/configurator-edit.js';
import { Code } from '../../src/core/code.js';
import { parseConfigurator } from '../../src/rules/configurator.js';

const KEY = 'demo.Calculator:1.0.0:';
const SERVICE = 'demo.Calculator:1.0.0';

const written = `# retries for everyone, set by the on-call team
configVersion: v2.7
scope: service
key: demo.Calculator:1.0.0
enabled: true
configs:
  - side: consumer
    addresses: [0.0.0.0]
    parameters:
      retries: 0   # no retry while the database migrates
`;

function configsOf(text: string | undefined): unknown[] {
  return (parse(text ?? 'configs: []') as { configs: unknown[] }).configs;
}

describe('console: configurator documents', () => {
  it('disabling a provider of a service with no document writes a whole, valid configurator', () => {
    const { text } = editConfigurators(undefined, KEY, SERVICE, disableEdit('10.0.0.7:20880', true));
    const rule = parseConfigurator(text!);
    assert.equal(rule.key, SERVICE);
    assert.equal(rule.scope, 'service');
    assert.deepEqual(configsOf(text), [{ side: 'consumer', addresses: ['0.0.0.0'], providerAddresses: ['10.0.0.7:20880'], parameters: { disabled: true } }]);
  });

  it('a disable is added to the configs there are, and enabling again gives back the document as it was', () => {
    const disabled = editConfigurators(written, KEY, SERVICE, disableEdit('10.0.0.7:20880', true)).text!;
    parseConfigurator(disabled);
    assert.match(disabled, /# retries for everyone, set by the on-call team/);
    assert.match(disabled, /retries: 0 +# no retry while the database migrates/);
    assert.equal(configsOf(disabled).length, 2);
    const enabled = editConfigurators(disabled, KEY, SERVICE, disableEdit('10.0.0.7:20880', false)).text;
    assert.deepEqual(parse(enabled!), parse(written));
    assert.match(enabled!, /# no retry while the database migrates/);
  });

  it('enabling the last disabled provider of a document the console made removes the document', () => {
    const disabled = editConfigurators(undefined, KEY, SERVICE, disableEdit('10.0.0.7:20880', true)).text;
    assert.equal(editConfigurators(disabled, KEY, SERVICE, disableEdit('10.0.0.7:20880', false)).text, undefined);
  });

  it('disabling twice leaves one config; enabling one of several disabled addresses keeps the others', () => {
    const twice = editConfigurators(editConfigurators(undefined, KEY, SERVICE, disableEdit('a:1', true)).text, KEY, SERVICE, disableEdit('a:1', true)).text;
    assert.equal(configsOf(twice).length, 1);
    const shared = 'configVersion: v2.7\nkey: demo.Calculator:1.0.0\nconfigs:\n  - side: consumer\n    providerAddresses: [a:1, b:2]\n    parameters: { disabled: true }\n';
    const left = editConfigurators(shared, KEY, SERVICE, disableEdit('a:1', false)).text;
    assert.deepEqual(configsOf(left), [{ side: 'consumer', providerAddresses: ['b:2'], parameters: { disabled: true } }]);
  });

  it('a weight replaces the weight given before, Dubbo Admin\'s provider-side form included, and a reset takes it out', () => {
    const admin = 'configVersion: v2.7\nkey: demo.Calculator:1.0.0\nconfigs:\n  - side: provider\n    addresses: [a:1]\n    parameters: { weight: 7 }\n';
    const set = editConfigurators(admin, KEY, SERVICE, weightEdit('a:1', 50)).text!;
    parseConfigurator(set);
    assert.deepEqual(configsOf(set), [{ side: 'consumer', addresses: ['0.0.0.0'], providerAddresses: ['a:1'], parameters: { weight: 50 } }]);
    const again = editConfigurators(set, KEY, SERVICE, weightEdit('a:1', 20)).text;
    assert.deepEqual(configsOf(again), [{ side: 'consumer', addresses: ['0.0.0.0'], providerAddresses: ['a:1'], parameters: { weight: 20 } }]);
    assert.equal(editConfigurators(again, KEY, SERVICE, weightEdit('a:1', undefined)).text, undefined);
  });

  it('service and method timeouts are separate configs, Dubbo\'s `timeout` and `<method>.timeout`', () => {
    let text = editConfigurators(written, KEY, SERVICE, timeoutEdit(undefined, 800)).text;
    text = editConfigurators(text, KEY, SERVICE, timeoutEdit('divide', 200)).text;
    text = editConfigurators(text, KEY, SERVICE, timeoutEdit('divide', 300)).text!;
    parseConfigurator(text);
    assert.deepEqual(configsOf(text).slice(1), [
      { side: 'consumer', addresses: ['0.0.0.0'], parameters: { timeout: 800 } },
      { side: 'consumer', addresses: ['0.0.0.0'], parameters: { 'divide.timeout': 300 } },
    ]);
    const cleared = editConfigurators(text, KEY, SERVICE, timeoutEdit(undefined, undefined)).text;
    assert.deepEqual(configsOf(cleared).slice(1), [{ side: 'consumer', addresses: ['0.0.0.0'], parameters: { 'divide.timeout': 300 } }]);
  });

  it('says when the document is switched off, and refuses to rewrite one that is not YAML', () => {
    const off = written.replace('enabled: true', 'enabled: false');
    assert.equal(editConfigurators(off, KEY, SERVICE, disableEdit('a:1', true)).documentDisabled, true);
    assert.throws(() => editConfigurators('configs: [unclosed', KEY, SERVICE, disableEdit('a:1', true)), (error: { code?: number }) => error.code === Code.FAILED_PRECONDITION);
    assert.throws(() => editConfigurators('- a list\n- at the top\n', KEY, SERVICE, disableEdit('a:1', true)), (error: { code?: number }) => error.code === Code.FAILED_PRECONDITION);
  });
});
