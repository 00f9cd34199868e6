import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code } from '../../src/core/code.js';
import { RpcError } from '../../src/core/rpc-error.js';
import { parseConditionRouter } from '../../src/rules/condition-router.js';
import { parseConfigurator } from '../../src/rules/configurator.js';
import { RuleError } from '../../src/rules/rule-error.js';
import { MAX_RULE_LENGTH, readRuleYaml } from '../../src/rules/rule-yaml.js';
import { parseTagRouter } from '../../src/rules/tag-router.js';

/** The RuleError `parse(text)` throws; fails the test when it throws none or another error. */
function refusal(parse: (text: string) => unknown, text: string): RuleError {
  try {
    parse(text);
  } catch (error) {
    assert.ok(error instanceof RuleError, `expected a RuleError, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected ${JSON.stringify(text.slice(0, 80))} to be refused`);
}

const parsers = { configurator: parseConfigurator, 'condition router': parseConditionRouter, 'tag router': parseTagRouter };

const aliasBomb = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
  'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
  'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
  'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
  'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
  'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
  'h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]',
  'conditions: *h',
].join('\n');

/** Hostile documents, each with words its refusal must contain. */
const hostile: Array<[string, string, RegExp]> = [
  ['an alias bomb (9^8 strings)', aliasBomb, /more than 20000 values/],
  ['flow nesting 10,000 deep', `conditions: ${'['.repeat(10_000)}${']'.repeat(10_000)}`, /brackets are nested more than 16 deep/],
  ['map nesting in flow style', `conditions: ${'{a: '.repeat(5000)}1${'}'.repeat(5000)}`, /brackets are nested/],
  ['block nesting by indentation', Array.from({ length: 300 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n'), /indented more than 128 columns/],
  ['compact sequences nested on one line', `conditions:\n${'- '.repeat(5000)}x`, /indented more than 128 columns/],
  ['nesting under the bracket limit but deeper than any rule', `conditions: ${'['.repeat(15)}${']'.repeat(15)}`, /nested more than 12 deep/],
  ['a self-referencing alias', 'conditions: &a [*a]', /nested more than 12 deep|names no anchor|not valid YAML/],
  ['a document over 64 KiB', `conditions:\n${'  - "=> host = 10.0.0.1"\n'.repeat(4000)}`, /characters long; at most 65536/],
  ['several documents', 'conditions: ["=> host = a"]\n---\nconditions: ["=> host = b"]\n', /not valid YAML/],
  ['a custom tag', 'conditions: !!js/function "function () {}"', /not valid YAML: Unresolved tag/],
  ['a local tag', 'conditions: !exec ["rm -rf /"]', /not valid YAML: Unresolved tag/],
  ['a binary value', 'conditions: !!binary aGVsbG8=', /only text, numbers, true\/false and null/],
  ['a timestamp value', 'key: 2001-12-14\nconditions: ["=> host = a"]', /only text, numbers, true\/false and null are allowed/],
  ['a duplicate key', 'conditions: ["=> host = a"]\nconditions: ["=> host = b"]', /the key "conditions" is given twice/],
  ['a merge key', 'base: &b {force: true}\n<<: *b\nconditions: ["=> host = a"]', /merge keys \(<<\) are not supported/],
  ['a list at the top', '- conditions', /expected a condition rule/],
  ['a scalar at the top', 'just text', /expected a condition rule/],
  ['an empty document', '', /the document is empty/],
  ['only a comment', '# nothing here', /the document is empty/],
  ['broken YAML', 'conditions: [unclosed', /not valid YAML/],
  ['a complex key', '? [a, b]\n: c\nconditions: ["=> host = a"]', /map keys must be plain text/],
  ['text that is not a string', 42 as unknown as string, /the rule is not text|expected a condition rule/],
];

describe('rule documents: hostile YAML is refused with RuleError', () => {
  for (const [what, text, message] of hostile) {
    it(`refuses ${what}`, () => {
      const error = refusal(parseConditionRouter, text);
      assert.match(error.message, message);
      assert.equal(error.code, Code.INVALID_ARGUMENT);
      assert.ok(error instanceof RpcError);
    });
  }

  it('refuses the alias bomb and the deep nesting in every kind of rule', () => {
    for (const [kind, parse] of Object.entries(parsers)) {
      assert.match(refusal(parse, aliasBomb.replace('conditions', 'tags')).message, new RegExp(`invalid ${kind} rule`));
      assert.match(refusal(parse, `configs: ${'['.repeat(50_000)}`).message, /brackets are nested/);
    }
  });

  it('reads a document of exactly the largest length', () => {
    const head = 'conditions:\n  - "=> host = 10.0.0.1"\n';
    const text = head + '#'.repeat(MAX_RULE_LENGTH - head.length);
    assert.equal(text.length, MAX_RULE_LENGTH);
    assert.equal(parseConditionRouter(text).conditions.length, 1);
  });

  it('allows a few aliases where they stay small', () => {
    const rule = parseConditionRouter('conditions:\n  - &c "=> host = 10.0.0.1"\n  - *c\n');
    assert.deepEqual(rule.conditions.map((condition) => condition.text), ['=> host = 10.0.0.1', '=> host = 10.0.0.1']);
  });

  it('gives the line and column of what it refuses', () => {
    const error = refusal(parseConditionRouter, 'force: true\nconditions:\n  - "method = => host = 10.0.0.1"\n');
    assert.equal(error.path, 'conditions[0]');
    assert.equal(error.line, 3);
    assert.equal(error.column, 5);
    assert.match(error.message, /^invalid condition router rule at conditions\[0\] \(line 3, column 5\): /);
    assert.deepEqual(error.details, { rule: 'condition router', path: 'conditions[0]', line: 3, column: 5 });
  });
});

describe('rule documents: keys never reach a prototype', () => {
  it('keeps __proto__, constructor and prototype as ordinary keys of a Map', () => {
    const tree = readRuleYaml('__proto__: {polluted: true}\nconstructor: 1\nprototype: 2\n"__proto__.x": 3', 'test');
    assert.equal(tree.kind, 'map');
    if (tree.kind !== 'map') return;
    assert.deepEqual([...tree.entries.keys()], ['__proto__', 'constructor', 'prototype', '__proto__.x']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
  });

  it('refuses __proto__ as a field of a rule, as any unknown field', () => {
    assert.match(refusal(parseTagRouter, '__proto__: {force: true}\ntags: [{name: a, addresses: ["10.0.0.1"]}]').message, /unknown field "__proto__"/);
    assert.equal(({} as Record<string, unknown>).force, undefined);
  });

  it('reads YAML 1.1 booleans, as Dubbo does', () => {
    assert.equal(parseConditionRouter('force: yes\nenabled: off\nconditions: ["=> host = a"]').force, true);
    assert.equal(parseConditionRouter('force: yes\nenabled: off\nconditions: ["=> host = a"]').enabled, false);
  });
});
