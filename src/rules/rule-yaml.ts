import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { RuleError, type RulePlace } from './rule-error.js';

/**
 * Reads a rule document's YAML into a small tree of maps, lists and scalars, each knowing where it
 * was written, with limits that keep a hostile document cheap to refuse.
 *
 * The YAML is read as YAML 1.1, as Dubbo's SnakeYAML reads it (`enabled: yes` is true), with no
 * custom tags, no `<<` merge keys and no duplicate keys. Maps become `Map`s, so no key (not even
 * `__proto__`) can reach an object's prototype.
 */

/** The longest document read (characters); Dubbo's rules are a few hundred bytes. */
export const MAX_RULE_LENGTH = 64 * 1024;
/** Maps and lists nested deeper than this are refused; Dubbo's deepest rule needs 5. */
const MAX_DEPTH = 12;
/** Nodes visited at most, aliases counted each time they are used (an alias bomb stops here). */
const MAX_NODES = 20_000;
/** Checked on the raw text before the YAML parser sees it, so that deep nesting is refused in linear time. */
const MAX_BRACKET_DEPTH = 16;
const MAX_LINE_INDENT = 128;

export type RuleNode = RuleMap | RuleList | RuleScalar;

interface NodeBase extends RulePlace {
  readonly kind: 'map' | 'list' | 'scalar';
}

export interface RuleMap extends NodeBase {
  readonly kind: 'map';
  readonly entries: ReadonlyMap<string, RuleNode>;
  /** Where each key is written. */
  readonly keys: ReadonlyMap<string, RulePlace>;
}

export interface RuleList extends NodeBase {
  readonly kind: 'list';
  readonly items: readonly RuleNode[];
}

export interface RuleScalar extends NodeBase {
  readonly kind: 'scalar';
  readonly value: string | number | boolean | null;
}

/** The path of a map entry: `configs[0].parameters.timeout`, or `parameters["a b"]` for an unusual key. */
export function childPath(parent: string, key: string): string {
  const name = /^[A-Za-z_$][\w$.-]*$/.test(key) ? key : JSON.stringify(key);
  if (parent === '') return name;
  return name.startsWith('"') ? `${parent}[${name}]` : `${parent}.${name}`;
}

/**
 * The document's top node. Throws `RuleError` for anything that is not one well-formed YAML document
 * within the limits above. `rule` names the kind of rule for messages.
 */
export function readRuleYaml(text: string, rule: string): RuleNode {
  if (typeof text !== 'string') throw new RuleError(rule, { path: '' }, 'the rule is not text');
  if (text.length > MAX_RULE_LENGTH) {
    throw new RuleError(rule, { path: '' }, `the document is ${text.length} characters long; at most ${MAX_RULE_LENGTH} are read`);
  }
  checkNesting(text, rule);
  const lines = new LineCounter();
  const doc = parseDocument(text, { version: '1.1', merge: false, uniqueKeys: false, strict: true, prettyErrors: false, lineCounter: lines });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem !== undefined) {
    const place = lines.linePos(problem.pos[0]);
    throw new RuleError(rule, { path: '', line: place.line, column: place.col }, `not valid YAML: ${firstLine(problem.message)}`);
  }
  if (doc.contents === null) throw new RuleError(rule, { path: '' }, 'the document is empty');
  return new TreeBuilder(doc, lines, rule).build(doc.contents, '', 0);
}

class TreeBuilder {
  private nodes = 0;
  /** Resolving an alias searches the document, so each is resolved once. */
  private readonly aliases = new Map<YamlNode, YamlNode | undefined>();

  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly rule: string,
  ) {}

  build(node: YamlNode | null, path: string, depth: number): RuleNode {
    if (++this.nodes > MAX_NODES) throw this.error(node, path, `the document has more than ${MAX_NODES} values (counting each use of an alias)`);
    if (depth > MAX_DEPTH) throw this.error(node, path, `values are nested more than ${MAX_DEPTH} deep`);
    if (isAlias(node)) {
      if (!this.aliases.has(node)) this.aliases.set(node, node.resolve(this.doc));
      const target = this.aliases.get(node);
      if (target === undefined) throw this.error(node, path, `alias *${node.source} names no anchor`);
      return this.build(target, path, depth + 1);
    }
    const place = this.place(node, path);
    if (isMap(node)) {
      const entries = new Map<string, RuleNode>();
      const keys = new Map<string, RulePlace>();
      for (const pair of node.items) {
        if (!isPair(pair)) throw this.error(node, path, 'a map entry is malformed');
        const keyNode = pair.key as YamlNode | null;
        const key = this.keyOf(keyNode, path);
        const at = childPath(path, key);
        if (entries.has(key)) throw this.error(keyNode, at, `the key ${JSON.stringify(key)} is given twice`);
        keys.set(key, this.place(keyNode, at));
        entries.set(key, this.build((pair.value as YamlNode | null) ?? null, at, depth + 1));
      }
      return { kind: 'map', entries, keys, ...place };
    }
    if (isSeq(node)) {
      const items = node.items.map((item, index) => this.build(item as YamlNode | null, `${path}[${index}]`, depth + 1));
      return { kind: 'list', items, ...place };
    }
    if (node === null || isScalar(node)) {
      const value: unknown = node === null ? null : node.value;
      if (value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) {
        return { kind: 'scalar', value, ...place };
      }
      throw this.error(node, path, 'only text, numbers, true/false and null are allowed as values');
    }
    throw this.error(node, path, 'unexpected YAML node');
  }

  private keyOf(node: YamlNode | null, path: string): string {
    if (isScalar(node)) {
      const value: unknown = node.value;
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      if (typeof value === 'symbol') throw this.error(node, path, 'merge keys (<<) are not supported');
    }
    throw this.error(node, path, 'map keys must be plain text');
  }

  private place(node: YamlNode | null, path: string): RulePlace {
    const offset = node?.range?.[0];
    if (offset === undefined) return { path };
    const { line, col } = this.lines.linePos(offset);
    return { path, line, column: col };
  }

  private error(node: YamlNode | null, path: string, problem: string): RuleError {
    return new RuleError(this.rule, this.place(node, path), problem);
  }
}

/**
 * Refuses text nested deeper than any rule needs before the parser (which recurses, and slows down
 * with depth) reads it: brackets counted anywhere, and each line's indentation with its leading
 * `- ` and `? ` indicators. Over-counting (a bracket inside a string) only matters past the limit.
 */
function checkNesting(text: string, rule: string): void {
  let depth = 0;
  let line = 1;
  let lineStart = 0;
  let leading = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      lineStart = i + 1;
      leading = true;
      continue;
    }
    if (leading && c !== 32 && c !== 9 && c !== 45 && c !== 63) leading = false;
    if (leading && i - lineStart >= MAX_LINE_INDENT) {
      throw new RuleError(rule, { path: '', line, column: i - lineStart + 1 }, `a line is indented more than ${MAX_LINE_INDENT} columns`);
    }
    if (c === 91 || c === 123) {
      if (++depth > MAX_BRACKET_DEPTH) {
        throw new RuleError(rule, { path: '', line, column: i - lineStart + 1 }, `brackets are nested more than ${MAX_BRACKET_DEPTH} deep`);
      }
    } else if ((c === 93 || c === 125) && depth > 0) {
      depth--;
    }
  }
}

function firstLine(message: string): string {
  const end = message.indexOf('\n');
  return (end < 0 ? message : message.slice(0, end)).replace(/ at line \d+, column \d+:?$/, '');
}
