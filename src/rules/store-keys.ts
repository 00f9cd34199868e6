// What a rule store accepts as a rule's name and text, and how a name becomes a ZooKeeper node or a
// file: the checks every store shares, so that a key one store takes, every store takes.
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import type { ServiceKey } from '../core/service.js';
import { RULE_KINDS, type RuleId, type RuleKind } from './types.js';

/**
 * The largest document a store takes, in UTF-8 bytes. ZooKeeper refuses a request above its
 * `jute.maxbuffer` (1 MiB less one byte by default), path and headers included: 1,000,000 bytes of
 * text leave room for those, so a document one store takes, ZooKeeper takes too.
 */
export const MAX_RULE_BYTES = 1_000_000;

/** The longest key, in UTF-8 bytes. Dubbo's keys (`name:version:group`, an application name) are far shorter. */
export const MAX_RULE_KEY_BYTES = 200;

// ZooKeeper's PathUtils.validatePath refuses these in a node name: NUL and other control
// characters, U+D800–U+F8FF (surrogates, hence every character outside the BMP, and the private
// use area) and U+FFF0–U+FFFF. `*` stands for `/` in node names (below), so a key cannot hold one.
// Without the `u` flag the test runs on UTF-16 code units, as ZooKeeper's does on Java chars.
// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const refusedInKeys = /[\u0000-\u001f\u007f-\u009f\ud800-\uf8ff\ufff0-\uffff*]/;

function invalid(message: string, details: Record<string, unknown> = {}): RpcError {
  return new RpcError(Code.INVALID_ARGUMENT, message, { details });
}

/** Throws INVALID_ARGUMENT unless `kind` is one of {@link RULE_KINDS}. */
export function checkRuleKind(kind: unknown): asserts kind is RuleKind {
  if (!RULE_KINDS.includes(kind as RuleKind)) {
    throw invalid(`invalid rule kind ${JSON.stringify(kind)}: use ${RULE_KINDS.join(', ')}`);
  }
}

/**
 * Throws INVALID_ARGUMENT unless `id` names a rule every store can keep: a kind of
 * {@link RULE_KINDS}, and a key of 1 to {@link MAX_RULE_KEY_BYTES} bytes without control characters,
 * `*`, or characters ZooKeeper refuses in node names (those outside the Basic Multilingual Plane).
 */
export function checkRuleId(id: RuleId): void {
  checkRuleKind(id?.kind);
  const { key } = id;
  if (typeof key !== 'string' || key === '') throw invalid('a rule key must be a non-empty string');
  const bytes = Buffer.byteLength(key);
  if (bytes > MAX_RULE_KEY_BYTES) throw invalid(`rule key of ${bytes} bytes: at most ${MAX_RULE_KEY_BYTES} are allowed`, { bytes, maxBytes: MAX_RULE_KEY_BYTES });
  if (refusedInKeys.test(key)) {
    throw invalid(`invalid rule key ${JSON.stringify(key)}: control characters, "*" and characters outside the Basic Multilingual Plane are not allowed`);
  }
}

/** The document's text as UTF-8, or INVALID_ARGUMENT when it is not a string or is over {@link MAX_RULE_BYTES}. */
export function ruleBytes(text: string): Buffer {
  if (typeof text !== 'string') throw invalid('a rule document is a string (the YAML text)');
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > MAX_RULE_BYTES) {
    throw invalid(`rule document of ${bytes.length} bytes: at most ${MAX_RULE_BYTES} bytes are allowed`, { bytes: bytes.length, maxBytes: MAX_RULE_BYTES });
  }
  return bytes;
}

/** Order of `list()`: by key, then kind. */
export function compareRuleIds(a: RuleId, b: RuleId): number {
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0;
}

/** One string per rule, for maps. */
export function ruleIdKey(id: RuleId): string {
  return `${id.key}\0${id.kind}`;
}

/**
 * The key Dubbo (2.7.3 and later) and Dubbo Admin give a service's rules: `name:version:group`, an
 * absent part left empty (`demo.Calculator::`, `demo.Calculator:1.0.0:`, `demo.Calculator:1.0.0:blue`).
 * Dubbo builds it with `URL.getColonSeparatedKey()` (`DynamicConfiguration.getRuleKey`), Dubbo Admin
 * with `ConvertUtil.getIdFromDTO`.
 */
export function serviceRuleKey(service: ServiceKey): string {
  return `${service.name}:${service.version ?? ''}:${service.group ?? ''}`;
}

/**
 * The ZooKeeper node name of a rule, `<key>.<kind>`, as Dubbo Admin writes it: every `/` of the key
 * becomes `*` (`RouteServiceImpl.getPath`, `OverrideServiceImpl.getPath`), which is also where Dubbo
 * 2.7.0–2.7.2 looked for a service's rules (`URL.getEncodedServiceKey()`: `group*name:version`).
 * Keys hold no `*` ({@link checkRuleId}), so the name says which key it stands for.
 */
export function ruleNodeName(id: RuleId): string {
  return `${id.key.replaceAll('/', '*')}.${id.kind}`;
}

/** The rule a ZooKeeper node name stands for; undefined for other nodes (Dubbo's `dubbo.properties`, script routers…). */
export function parseRuleNodeName(name: string): RuleId | undefined {
  return parseSuffixed(name, (key) => key.replaceAll('*', '/'));
}

// A file name keeps letters, digits and `_ . , @ + = ~ -`; anything else (`/`, `\`, `:`, `%`, NUL,
// non-ASCII) is percent-encoded byte by byte, and so is a leading `.` (no name is `.`, `..`, or a
// hidden or temporary file). `:` is encoded too: Windows refuses it in file names.
const keptInFileNames = /^[A-Za-z0-9_.,@+=~-]$/;

function encodeFileKey(key: string): string {
  let name = '';
  for (const char of key) {
    if (keptInFileNames.test(char) && !(name === '' && char === '.')) name += char;
    else for (const byte of Buffer.from(char, 'utf8')) name += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return name;
}

/** The file name of a rule in the embedded registry's `rules/` folder: `<encoded key>.<kind>`. */
export function ruleFileName(id: RuleId): string {
  return `${encodeFileKey(id.key)}.${id.kind}`;
}

/** The rule a file name stands for; undefined for any other file, or a name not written by {@link ruleFileName}. */
export function parseRuleFileName(name: string): RuleId | undefined {
  const id = parseSuffixed(name, (encoded) => decodeURIComponent(encoded));
  // One key, one name: `%41` for `A` would be a second file for the same rule.
  return id && ruleFileName(id) === name ? id : undefined;
}

function parseSuffixed(name: string, decode: (encoded: string) => string): RuleId | undefined {
  for (const kind of RULE_KINDS) {
    if (!name.endsWith(`.${kind}`)) continue;
    try {
      const id: RuleId = { key: decode(name.slice(0, -kind.length - 1)), kind };
      checkRuleId(id);
      return id;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
