import { parseAddressPattern } from './address-pattern.js';
import { describe, type FieldReader } from './rule-fields.js';
import type { RuleNode } from './rule-yaml.js';
import { globMatch } from './glob.js';

/**
 * The match conditions of Dubbo's v3.0 rules (`StringMatch`, `ListStringMatch`, `AddressMatch`,
 * `ParamMatch`), read into tests. `regex` is refused: a pattern from the registry would run on every
 * call in this process, and a backtracking one could stall it (Dubbo's docs call for RE2, which Node
 * does not have).
 */

/** Whether a value (undefined when absent) meets a condition. */
export type StringTest = (input: string | undefined) => boolean;

const stringFields = ['exact', 'prefix', 'regex', 'wildcard', 'empty', 'noempty'] as const;

/** `{ exact | prefix | wildcard | empty | noempty: value }`, exactly one of them. */
export function readStringMatch(reader: FieldReader, node: RuleNode): StringTest {
  const map = reader.map(node, stringFields, 'a string match ({ exact | prefix | wildcard | empty | noempty: ... })');
  const [field, valueNode] = onlyEntry(reader, node, map.entries);
  if (field === 'regex') reader.fail(valueNode, 'regex matches are not supported (a hostile pattern could stall every call); use exact, prefix or wildcard');
  if (field === 'empty') return (input) => input === undefined || input === '';
  if (field === 'noempty') return (input) => input !== undefined && input !== '';
  const value = reader.scalarText(valueNode, 'the text to match');
  // As Dubbo: a condition on a value never holds when the value is absent.
  if (field === 'exact') return (input) => input === value;
  if (field === 'prefix') return (input) => input !== undefined && input.startsWith(value);
  return value === '*' ? (input) => input !== undefined : (input) => input === value; // Dubbo's StringMatch wildcard is only '*'
}

/** `{ oneof: [StringMatch, ...] }`, or a single StringMatch: true when any holds. */
export function readOneOf(reader: FieldReader, node: RuleNode): StringTest {
  if (node.kind === 'map' && node.entries.has('oneof')) {
    const map = reader.map(node, ['oneof']);
    const tests = reader.list(reader.required(map, 'oneof'), 'a list of string matches').items.map((item) => readStringMatch(reader, item));
    if (tests.length === 0) reader.fail(map, '"oneof" lists no match');
    return (input) => tests.some((test) => test(input));
  }
  return readStringMatch(reader, node);
}

const addressFields = ['exact', 'prefix', 'wildcard', 'cird', 'cidr', 'regex'] as const;

/**
 * `{ exact | prefix | wildcard | cird: value }` on `host` or `host:port` text: `wildcard` is `*` or
 * `0.0.0.0` for any, else Dubbo's glob; `cird` (Dubbo's spelling; `cidr` is read too) is a CIDR
 * block or an address pattern as tag rules write them.
 */
export function readAddressMatch(reader: FieldReader, node: RuleNode): StringTest {
  const map = reader.map(node, addressFields, 'an address match ({ exact | prefix | wildcard | cird: ... })');
  const [field, valueNode] = onlyEntry(reader, node, map.entries);
  if (field === 'regex') reader.fail(valueNode, 'regex matches are not supported; use exact, prefix, wildcard or cird');
  const value = reader.name(valueNode, 'an address');
  if (field === 'exact') return (input) => input === value;
  if (field === 'prefix') return (input) => input !== undefined && input.startsWith(value);
  if (field === 'wildcard') return value === '*' || value === '0.0.0.0' ? (input) => input !== undefined : (input) => input !== undefined && globMatch(value, input);
  let test;
  try {
    test = parseAddressPattern(value);
  } catch (error) {
    return reader.fail(valueNode, (error as Error).message);
  }
  return (input) => {
    if (input === undefined) return false;
    const { host, port } = splitHostPort(input);
    return input === value || test(host, port);
  };
}

/** A condition on one parameter of a provider: `{ key, value: StringMatch }`. */
export interface ParamTest {
  readonly key: string;
  readonly test: StringTest;
}

/** `[{ key, value: StringMatch }, ...]`; every one must hold. */
export function readParamMatches(reader: FieldReader, node: RuleNode): ParamTest[] {
  return reader.list(node, 'a list of { key, value } matches').items.map((item) => {
    const map = reader.map(item, ['key', 'value'], 'a parameter match ({ key, value })');
    return { key: reader.name(reader.required(map, 'key'), 'a parameter name'), test: readOneOf(reader, reader.required(map, 'value')) };
  });
}

function onlyEntry<K extends string>(reader: FieldReader, node: RuleNode, entries: ReadonlyMap<string, RuleNode>): [K, RuleNode] {
  if (entries.size !== 1) reader.fail(node, `expected exactly one kind of match, found ${entries.size === 0 ? 'none' : [...entries.keys()].join(' and ')}`);
  const [entry] = entries;
  if (entry![1].kind !== 'scalar') reader.fail(entry![1], `expected the text to match, found ${describe(entry![1])}`);
  return entry as [K, RuleNode];
}

/** `10.0.0.1:20880` → host and port; `[::1]:20880` too; text without a port has port -1. */
export function splitHostPort(address: string): { host: string; port: number } {
  if (address.startsWith('[')) {
    const end = address.indexOf(']');
    const port = address.slice(end + 2);
    return { host: address.slice(1, end), port: port === '' ? -1 : Number(port) };
  }
  const colon = address.lastIndexOf(':');
  if (colon < 0 || address.indexOf(':') !== colon) return { host: address, port: -1 };
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}
