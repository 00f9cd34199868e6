import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConditionSyntaxError, formatCondition, parseCondition, type ConditionTerm } from '../../src/rules/condition-grammar.js';
import { compileGlob, globMatch, globTest } from '../../src/rules/glob.js';

/** A side of a condition as plain data: key, then `=` values and `!=` values as written. */
function shape(terms: readonly ConditionTerm[] | null): Array<[string, string[], string[]]> | null {
  return terms === null ? null : terms.map((term) => [term.key, term.matches.map((v) => v.raw), term.mismatches.map((v) => v.raw)]);
}

describe('parseCondition: the forms Dubbo documents', () => {
  const cases: Array<[string, ReturnType<typeof shape>, ReturnType<typeof shape>]> = [
    ['host = 10.20.153.10 => host = 10.20.153.11', [['host', ['10.20.153.10'], []]], [['host', ['10.20.153.11'], []]]],
    ['=> host != 172.22.3.91', [], [['host', [], ['172.22.3.91']]]],
    ['register.ip != 10.20.153.10,10.20.153.11 =>', [['register.ip', [], ['10.20.153.10', '10.20.153.11']]], null],
    ['=> host = 172.22.3.1*,172.22.3.2*', [], [['host', ['172.22.3.1*', '172.22.3.2*'], []]]],
    ['application != kylin => host != 172.22.3.95,172.22.3.96', [['application', [], ['kylin']]], [['host', [], ['172.22.3.95', '172.22.3.96']]]],
    ['method = find*,list*,get*,is* => host = 172.22.3.94', [['method', ['find*', 'list*', 'get*', 'is*'], []]], [['host', ['172.22.3.94'], []]]],
    ['host != 172.22.3.* => host != 172.22.3.*', [['host', [], ['172.22.3.*']]], [['host', [], ['172.22.3.*']]]],
    ['=> host = $host', [], [['host', ['$host'], []]]],
    ['method=getComment => region=Hangzhou', [['method', ['getComment'], []]], [['region', ['Hangzhou'], []]]],
    ['application=app1 => address=*:20880', [['application', ['app1'], []]], [['address', ['*:20880'], []]]],
    ['arguments[0] = 1~100 & attachments[foo] = bar => ', [['arguments[0]', ['1~100'], []], ['attachments[foo]', ['bar'], []]], null],
    ['userId = 101~ => region = $region', [['userId', ['101~'], []]], [['region', ['$region'], []]]],
    ['true => false', [], null],
    ['host = 1.1.1.1', [], [['host', ['1.1.1.1'], []]]],
    ['method = get* != getSecret => host = a & host != b', [['method', ['get*'], ['getSecret']]], [['host', ['a'], ['b']]]],
    ['consumer.host = a => provider.port = 20880', [['host', ['a'], []]], [['port', ['20880'], []]]],
    ['method = a,a,b => host = x', [['method', ['a', 'b'], []]], [['host', ['x'], []]]],
    ['=>', [], null],
  ];
  for (const [text, when, then] of cases) {
    it(JSON.stringify(text), () => {
      const condition = parseCondition(text);
      assert.deepEqual(shape(condition.when), when);
      assert.deepEqual(shape(condition.then), then);
      assert.equal(condition.text, text);
    });
  }

  it('knows what each key reads', () => {
    const condition = parseCondition('method = a & arguments[2] = b & attachments[X-Tenant] = c & host = d => method = e');
    assert.deepEqual(condition.when.map((term) => term.source), [{ kind: 'method' }, { kind: 'argument', index: 2 }, { kind: 'attachment', name: 'x-tenant' }, { kind: 'field', name: 'host' }]);
    assert.deepEqual(condition.then!.map((term) => term.source), [{ kind: 'field', name: 'method' }]);
  });

  it('reads ranges and references', () => {
    const [range] = parseCondition('arguments[0] = 5~ => host = $host').when[0]!.matches;
    assert.deepEqual(range, { kind: 'range', raw: '5~', min: 5, max: Infinity });
    assert.deepEqual(parseCondition('=> host = $host').then![0]!.matches[0], { kind: 'reference', raw: '$host', key: 'host' });
  });
});

describe('parseCondition: what it refuses', () => {
  const bad: Array<[string, RegExp]> = [
    ['host == a => b = c', /unexpected "=="/],
    ['host = a b => c = d', /expected & or , before "b"/],
    ['host = => c = d', /"=" must be followed by a value/],
    ['host => c = d', /"host" has no value/],
    ['host = a & => c = d', /"&" must be followed by a key/],
    ['& host = a => c = d', /cannot start with &/],
    ['= a => c = d', /expected a key before =/],
    ['host = a, => c = d', /"," must be followed by a value/],
    [', a => c = d', /"," must follow a value/],
    ['host = a & b, c => d = e', /"," must follow a value/],
    ['a = 1 => b = 2 => c = 3', /"=>" appears more than once/],
    ['arguments[x] = 1 =>', /write arguments\[N\]/],
    ['arguments[0].name = 1 =>', /write arguments\[N\]/],
    ['attachments[] = 1 =>', /write attachments\[name\]/],
    ['=> arguments[0] = 1', /belongs before =>/],
    ['=> attachments[a] = 1', /belongs before =>/],
    ['host = $host => port = 1', /belongs after =>/],
    ['=> host = $', /must be followed by the name/],
    ['port = 5~1 =>', /the range is empty/],
    ['port = ~ =>', /a range is N~M/],
    ['port = 1~2~3 =>', /a range is N~M/],
    ['port = a~b =>', /a range is N~M/],
    ['host != => a = b', /"!=" must be followed by a value/],
    ['ho"st = a =>', /is not a key/],
  ];
  for (const [text, message] of bad) {
    it(JSON.stringify(text), () => {
      assert.throws(() => parseCondition(text), (error: unknown) => error instanceof ConditionSyntaxError && message.test(error.message) && error.index >= 0 && error.index <= text.length);
    });
  }
});

// Arbitraries for whole conditions: keys, values, terms and sides, written in the canonical form.
const word = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,6}$/);
const glob = fc.oneof(word, word.map((w) => `${w}*`), word.map((w) => `*${w}`), fc.tuple(word, word).map(([a, b]) => `${a}*${b}`), fc.constant('*'));
const range = fc.oneof(
  fc.tuple(fc.nat(500), fc.nat(500)).map(([a, b]) => `${Math.min(a, b)}~${Math.max(a, b)}`),
  fc.nat(500).map((n) => `${n}~`),
  fc.nat(500).map((n) => `~${n}`),
);
const whenKey = fc.oneof(fc.constantFrom('method', 'host', 'application', 'region'), fc.nat(9).map((n) => `arguments[${n}]`), word.map((w) => `attachments[${w}]`));
const thenKey = fc.constantFrom('host', 'port', 'address', 'region', 'dubbo.tag', 'version', 'group', 'application');
const values = (extra: fc.Arbitrary<string>) => fc.uniqueArray(fc.oneof(glob, range, extra), { maxLength: 3 });
const term = (key: fc.Arbitrary<string>, extra: fc.Arbitrary<string>) =>
  fc.record({ key, matches: values(extra), mismatches: values(extra) }).filter((t) => t.matches.length + t.mismatches.length > 0);
const side = (key: fc.Arbitrary<string>, extra: fc.Arbitrary<string>, min: number) =>
  fc.uniqueArray(term(key, extra), { minLength: min, maxLength: 3, selector: (t) => t.key });
const conditionShape = fc.record({
  when: side(whenKey, fc.constant('x'), 0),
  then: fc.option(side(thenKey, fc.constantFrom('$host', '$region', '$application'), 1), { nil: null }),
});

describe('the condition grammar, property-based', () => {
  it('formats and reads back every condition unchanged', () => {
    fc.assert(
      fc.property(conditionShape, (generated) => {
        const expected = (terms: typeof generated.when | null) => (terms === null ? null : terms.map((t) => [t.key, t.matches, t.mismatches]));
        const toTerms = (terms: typeof generated.when) =>
          terms.map((t) => ({ key: t.key, matches: t.matches.map((raw) => ({ raw })), mismatches: t.mismatches.map((raw) => ({ raw })) })) as unknown as ConditionTerm[];
        const text = formatCondition({ when: toTerms(generated.when), then: generated.then === null ? null : toTerms(generated.then) });
        const parsed = parseCondition(text);
        assert.deepEqual(shape(parsed.when), expected(generated.when));
        assert.deepEqual(shape(parsed.then), expected(generated.then));
        assert.equal(formatCondition(parsed), text);
      }),
      { numRuns: 500 },
    );
  });

  it('reads the same condition whatever the spacing', () => {
    fc.assert(
      fc.property(conditionShape, fc.constantFrom('', ' ', '  ', '\t'), (generated, space) => {
        const toTerms = (terms: typeof generated.when) =>
          terms.map((t) => ({ key: t.key, matches: t.matches.map((raw) => ({ raw })), mismatches: t.mismatches.map((raw) => ({ raw })) })) as unknown as ConditionTerm[];
        const canonical = formatCondition({ when: toTerms(generated.when), then: generated.then === null ? null : toTerms(generated.then) });
        const respaced = canonical.replace(/ ?(!=|=>|=|&|,) ?/g, `${space}$1${space}`);
        assert.equal(formatCondition(parseCondition(respaced)), canonical);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws anything but ConditionSyntaxError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', '1', '.', '*', '~', '$', '=', '!', '&', ',', '>', ' ', '[', ']'), maxLength: 40 }), (text) => {
        try {
          parseCondition(text);
        } catch (error) {
          assert.ok(error instanceof ConditionSyntaxError, String(error));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('a compiled glob answers as Dubbo\'s wildcard match does', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', '*'), maxLength: 6 });
    fc.assert(
      fc.property(text, text, (pattern, value) => {
        assert.equal(globTest(compileGlob(pattern))(value), globMatch(pattern, value));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('globMatch: Dubbo\'s wildcard', () => {
  const cases: Array<[string, string, boolean]> = [
    ['*', '', true],
    ['*', 'anything', true],
    ['get*', 'getUser', true],
    ['get*', 'get', true],
    ['get*', 'setUser', false],
    ['*Service', 'UserService', true],
    ['10.*.1', '10.20.30.1', true],
    ['ab*ba', 'aba', true], // prefix and suffix may overlap, as in Dubbo
    ['a*b*', 'a*bc', true], // only the last * is a wildcard
    ['a*b*', 'axbc', false],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
    ['a*', '', false],
    ['', '', true],
  ];
  for (const [pattern, value, expected] of cases) {
    it(`${JSON.stringify(pattern)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(value)}`, () => {
      assert.equal(globMatch(pattern, value), expected);
      assert.equal(globTest(compileGlob(pattern))(value), expected);
    });
  }
});
