import { RuleError } from './rule-error.js';
import { childPath, type RuleList, type RuleMap, type RuleNode } from './rule-yaml.js';

/**
 * Typed reading of a rule's fields, each failure a `RuleError` naming the field and its line. Dubbo
 * reads rules loosely (an unknown field is ignored, `enabled: maybe` is false); these readers refuse
 * what Dubbo would misread, so that a typo cannot quietly change what a rule does.
 */
export class FieldReader {
  /** @param rule the kind of rule, for messages: `'tag router'`. */
  constructor(readonly rule: string) {}

  fail(node: RuleNode | { readonly path: string }, problem: string): never {
    throw new RuleError(this.rule, node, problem);
  }

  /** `node` as a map whose keys are all among `known`. */
  map(node: RuleNode, known: readonly string[], what = 'a map'): RuleMap {
    if (node.kind !== 'map') this.fail(node, `expected ${what}, found ${describe(node)}`);
    for (const key of node.entries.keys()) {
      if (!known.includes(key)) this.fail(node.keys.get(key) ?? { path: childPath(node.path, key) }, `unknown field ${JSON.stringify(key)}; known fields: ${known.join(', ')}`);
    }
    return node;
  }

  list(node: RuleNode, what = 'a list'): RuleList {
    if (node.kind !== 'list') this.fail(node, `expected ${what}, found ${describe(node)}`);
    return node;
  }

  /** The entry under `key`, or undefined when it is absent or written as null (`key:` with nothing after it). */
  field(map: RuleMap, key: string): RuleNode | undefined {
    const node = map.entries.get(key);
    return node === undefined || (node.kind === 'scalar' && node.value === null) ? undefined : node;
  }

  required(map: RuleMap, key: string): RuleNode {
    const node = this.field(map, key);
    if (node === undefined) this.fail({ ...map, path: childPath(map.path, key) }, `the field ${JSON.stringify(key)} is required`);
    return node;
  }

  /** Text; numbers and booleans are refused where text is meant, as Dubbo's casts would fail on them. */
  text(node: RuleNode, what = 'text'): string {
    if (node.kind !== 'scalar' || typeof node.value !== 'string') this.fail(node, `expected ${what}, found ${describe(node)}`);
    return node.value;
  }

  /** Non-empty text, trimmed. */
  name(node: RuleNode, what = 'a name'): string {
    const value = this.text(node, what).trim();
    if (value === '') this.fail(node, `expected ${what}, found empty text`);
    return value;
  }

  /** Text, a number or a boolean, as text: what Dubbo's `String.valueOf` accepts in lists and parameters. */
  scalarText(node: RuleNode, what = 'a value'): string {
    if (node.kind !== 'scalar' || node.value === null) this.fail(node, `expected ${what}, found ${describe(node)}`);
    return String(node.value);
  }

  /** true/false, or the text "true"/"false" in any case. */
  boolean(map: RuleMap, key: string, fallback: boolean): boolean {
    const node = this.field(map, key);
    if (node === undefined) return fallback;
    if (node.kind === 'scalar') {
      if (typeof node.value === 'boolean') return node.value;
      if (typeof node.value === 'string' && /^(true|false)$/i.test(node.value)) return node.value.toLowerCase() === 'true';
    }
    return this.fail(node, `expected true or false, found ${describe(node)}`);
  }

  /** An integer, written as a number or as decimal text. */
  integer(map: RuleMap, key: string, fallback: number): number {
    const node = this.field(map, key);
    if (node === undefined) return fallback;
    if (node.kind === 'scalar') {
      if (typeof node.value === 'number' && Number.isSafeInteger(node.value)) return node.value;
      if (typeof node.value === 'string' && /^-?\d{1,9}$/.test(node.value.trim())) return Number(node.value);
    }
    return this.fail(node, `expected an integer, found ${describe(node)}`);
  }

  /** A list of text items (numbers allowed and read as text), or undefined when absent. */
  textList(map: RuleMap, key: string, what = 'an address'): string[] | undefined {
    const node = this.field(map, key);
    if (node === undefined) return undefined;
    return this.list(node).items.map((item) => {
      const value = this.scalarText(item, what).trim();
      if (value === '') this.fail(item, `expected ${what}, found empty text`);
      return value;
    });
  }

  /** One of `choices`, or `fallback` when absent. */
  choice<T extends string>(map: RuleMap, key: string, choices: readonly T[], fallback?: T): T {
    const node = fallback === undefined ? this.required(map, key) : this.field(map, key);
    if (node === undefined) return fallback!;
    const value = this.text(node, `one of ${choices.join(', ')}`);
    if (!(choices as readonly string[]).includes(value)) this.fail(node, `expected one of ${choices.join(', ')}, found ${JSON.stringify(value)}`);
    return value as T;
  }
}

/** A short description of what a node holds, for messages. */
export function describe(node: RuleNode): string {
  if (node.kind === 'map') return 'a map';
  if (node.kind === 'list') return 'a list';
  if (node.value === null) return 'nothing';
  if (typeof node.value === 'string') return node.value === '' ? 'empty text' : `${JSON.stringify(truncate(node.value))}`;
  return String(node.value);
}

function truncate(value: string): string {
  return value.length > 60 ? `${value.slice(0, 57)}...` : value;
}

/**
 * `configVersion`: absent (read as v2.7, as Dubbo does), or v2.7 / v3.0. Dubbo 3.3's v3.1
 * multi-destination condition rules use another shape and are refused by name.
 */
export function readConfigVersion(reader: FieldReader, map: RuleMap): 'v2.7' | 'v3.0' {
  const node = reader.field(map, 'configVersion');
  if (node === undefined) return 'v2.7';
  const value = reader.scalarText(node, 'a rule version').trim().toLowerCase();
  if (value === 'v2.7' || value === 'v3.0') return value;
  if (value.startsWith('v3.1')) reader.fail(node, 'v3.1 (multi-destination) rules are not supported; write v3.0 conditions');
  return reader.fail(node, `expected v2.7 or v3.0, found ${describe(node)}`);
}
