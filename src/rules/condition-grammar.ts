import { compileGlob, type CompiledGlob } from './glob.js';

/**
 * The grammar of one condition of Dubbo's condition routing, `when => then`:
 *
 * ```text
 * condition := [side] "=>" [side]  |  side            (no "=>": a then part alone)
 * side      := term ("&" term)*  |  "true" (when) | "false" (then)
 * term      := key ("=" | "!=") value ("," value)* (("=" | "!=") value ("," value)*)*
 * key       := method | arguments[N] | attachments[name] | any field (host, port, address, application, ...),
 *              optionally written consumer.key or provider.key
 * value     := glob (one * at the end, start or middle: get*, *Service, 10.*.1) | N~M, N~, ~M | $field (then only)
 * ```
 *
 * An empty when part matches every call; an empty (or `false`) then part matches no provider, which
 * refuses the calls the when part matches. Where Dubbo's parser would silently misread a condition
 * (a stray separator, a key without a value, a `$reference` before `=>`), this one refuses it.
 */
export interface Condition {
  /** The condition as written. */
  readonly text: string;
  /** Every term must hold for the call; empty for every call. */
  readonly when: readonly ConditionTerm[];
  /** Every term must hold for a provider to be kept; null when no provider is (a blacklist). */
  readonly then: readonly ConditionTerm[] | null;
}

/** One key and the values it must (`=`) and must not (`!=`) match. */
export interface ConditionTerm {
  readonly key: string;
  readonly source: KeySource;
  /** The value must match one of these (when there are any). */
  readonly matches: readonly ConditionValue[];
  /** The value must match none of these. */
  readonly mismatches: readonly ConditionValue[];
}

export type KeySource =
  | { readonly kind: 'method' }
  | { readonly kind: 'argument'; readonly index: number }
  | { readonly kind: 'attachment'; readonly name: string }
  | { readonly kind: 'field'; readonly name: string };

export type ConditionValue =
  | { readonly kind: 'glob'; readonly raw: string; readonly glob: CompiledGlob }
  | { readonly kind: 'range'; readonly raw: string; readonly min: number; readonly max: number }
  | { readonly kind: 'reference'; readonly raw: string; readonly key: string };

/** A condition that cannot be read; `index` is where in its text the problem is (0-based). */
export class ConditionSyntaxError extends Error {
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
  }
}

/** Reads one condition; throws `ConditionSyntaxError`. */
export function parseCondition(text: string): Condition {
  const arrow = text.indexOf('=>');
  if (arrow >= 0 && text.indexOf('=>', arrow + 2) >= 0) throw new ConditionSyntaxError('"=>" appears more than once', text.indexOf('=>', arrow + 2));
  const whenText = arrow < 0 ? '' : text.slice(0, arrow);
  const thenText = arrow < 0 ? text : text.slice(arrow + 2);
  const when = whenText.trim() === '' || whenText.trim() === 'true' ? [] : parseSide(whenText, 0, 'when');
  const then = thenText.trim() === '' || thenText.trim() === 'false' ? null : parseSide(thenText, arrow < 0 ? 0 : arrow + 2, 'then');
  return { text, when, then };
}

/** The condition written back in the canonical form `key = a,b != c & key2 = d => key3 = e`. */
export function formatCondition(condition: Pick<Condition, 'when' | 'then'>): string {
  const when = formatSide(condition.when);
  const then = condition.then === null ? '' : formatSide(condition.then);
  return `${when}${when === '' ? '' : ' '}=>${then === '' ? '' : ' '}${then}`;
}

function formatSide(terms: readonly ConditionTerm[]): string {
  return terms
    .map((term) => {
      const matches = term.matches.length === 0 ? '' : ` = ${term.matches.map((value) => value.raw).join(',')}`;
      const mismatches = term.mismatches.length === 0 ? '' : ` != ${term.mismatches.map((value) => value.raw).join(',')}`;
      return `${term.key}${matches}${mismatches}`;
    })
    .join(' & ');
}

interface Token {
  readonly separator: '' | '=' | '!=' | '&' | ',';
  readonly content: string;
  readonly at: number;
}

const SEPARATOR_CHARS = '&!=,';

function tokenize(text: string, offset: number): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  while (true) {
    skipSpace();
    if (i >= text.length) return tokens;
    const start = i;
    while (i < text.length && SEPARATOR_CHARS.includes(text[i]!)) i++;
    const separator = text.slice(start, i);
    if (separator !== '' && separator !== '=' && separator !== '!=' && separator !== '&' && separator !== ',') {
      throw new ConditionSyntaxError(`unexpected ${JSON.stringify(separator)}: use =, !=, & or ,`, offset + start);
    }
    skipSpace();
    const contentStart = i;
    while (i < text.length && !SEPARATOR_CHARS.includes(text[i]!) && !/\s/.test(text[i]!)) i++;
    if (i === contentStart) {
      throw new ConditionSyntaxError(separator === '' ? 'expected a key' : `${JSON.stringify(separator)} must be followed by ${separator === '&' ? 'a key' : 'a value'}`, offset + start);
    }
    tokens.push({ separator, content: text.slice(contentStart, i), at: offset + contentStart });
  }
}

interface OpenTerm {
  key: string;
  source: KeySource;
  matches: ConditionValue[];
  mismatches: ConditionValue[];
  at: number;
}

function parseSide(text: string, offset: number, side: 'when' | 'then'): ConditionTerm[] {
  const terms = new Map<string, OpenTerm>();
  let current: OpenTerm | undefined;
  let values: ConditionValue[] | undefined;
  for (const token of tokenize(text, offset)) {
    switch (token.separator) {
      case '':
        if (current !== undefined) throw new ConditionSyntaxError(`expected & or , before ${JSON.stringify(token.content)}`, token.at);
        current = openTerm(terms, token, side);
        break;
      case '&':
        if (current === undefined) throw new ConditionSyntaxError('a condition cannot start with &', token.at);
        current = openTerm(terms, token, side);
        values = undefined;
        break;
      case '=':
      case '!=':
        if (current === undefined) throw new ConditionSyntaxError(`expected a key before ${token.separator}`, token.at);
        values = token.separator === '=' ? current.matches : current.mismatches;
        addValue(values, token, side);
        break;
      case ',':
        if (values === undefined) throw new ConditionSyntaxError('"," must follow a value', token.at);
        addValue(values, token, side);
        break;
    }
  }
  for (const term of terms.values()) {
    if (term.matches.length === 0 && term.mismatches.length === 0) throw new ConditionSyntaxError(`${JSON.stringify(term.key)} has no value: write ${term.key} = value or ${term.key} != value`, term.at);
  }
  return [...terms.values()].map(({ key, source, matches, mismatches }) => ({ key, source, matches, mismatches }));
}

function openTerm(terms: Map<string, OpenTerm>, token: Token, side: 'when' | 'then'): OpenTerm {
  // Dubbo drops these prefixes: "consumer.host" before => and "provider.host" after it read as "host".
  const key = token.content.replace(/^(consumer|provider)\./, '');
  const existing = terms.get(key);
  if (existing !== undefined) return existing; // "host = a & host != b" adds to the same key, as in Dubbo
  const term: OpenTerm = { key, source: keySource(key, token.at, side), matches: [], mismatches: [], at: token.at };
  terms.set(key, term);
  return term;
}

function keySource(key: string, at: number, side: 'when' | 'then'): KeySource {
  const perCall = /^(arguments|attachments)\[/.test(key);
  if (perCall && side === 'then') throw new ConditionSyntaxError(`${key} describes the call, so it belongs before =>`, at);
  if (key.startsWith('arguments[')) {
    const index = /^arguments\[(\d{1,4})\]$/.exec(key);
    if (index === null) throw new ConditionSyntaxError(`${JSON.stringify(key)}: write arguments[N] with N the argument's position from 0`, at);
    return { kind: 'argument', index: Number(index[1]) };
  }
  if (key.startsWith('attachments[')) {
    const name = /^attachments\[([^\]]+)\]$/.exec(key);
    if (name === null) throw new ConditionSyntaxError(`${JSON.stringify(key)}: write attachments[name]`, at);
    return { kind: 'attachment', name: name[1]!.toLowerCase() };
  }
  if (key === 'method' && side === 'when') return { kind: 'method' };
  if (!/^[A-Za-z0-9_.\-:/]+$/.test(key)) throw new ConditionSyntaxError(`${JSON.stringify(key)} is not a key`, at);
  return { kind: 'field', name: key };
}

function addValue(values: ConditionValue[], token: Token, side: 'when' | 'then'): void {
  const value = parseValue(token.content, token.at, side);
  if (!values.some((existing) => existing.raw === value.raw)) values.push(value);
}

function parseValue(raw: string, at: number, side: 'when' | 'then'): ConditionValue {
  if (raw.includes('~')) {
    const range = /^(\d{0,15})~(\d{0,15})$/.exec(raw);
    if (range === null || raw === '~') throw new ConditionSyntaxError(`${JSON.stringify(raw)}: a range is N~M, N~ or ~M with whole numbers`, at);
    const min = range[1] === '' ? -Infinity : Number(range[1]);
    const max = range[2] === '' ? Infinity : Number(range[2]);
    if (min > max) throw new ConditionSyntaxError(`${JSON.stringify(raw)}: the range is empty`, at);
    return { kind: 'range', raw, min, max };
  }
  if (raw.startsWith('$')) {
    if (side === 'when') throw new ConditionSyntaxError(`${JSON.stringify(raw)}: a $reference names a field of the consumer, so it belongs after =>`, at);
    if (raw.length === 1) throw new ConditionSyntaxError('"$" must be followed by the name of a consumer field', at);
    return { kind: 'reference', raw, key: raw.slice(1) };
  }
  return { kind: 'glob', raw, glob: compileGlob(raw) };
}
