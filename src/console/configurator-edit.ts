import { Document, isMap, isSeq, parseDocument, type YAMLSeq } from 'yaml';
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';

/**
 * Changes to a service's configurators document (Dubbo's override rules) that keep everything the
 * console did not make: other configs stay as written, comments included. A config is a plain
 * object here: `{ side, addresses, providerAddresses, parameters, enabled, … }`.
 */

export type Config = Record<string, unknown>;

/** What to do with one existing config: keep it as it is, drop it, or put a changed one in its place. */
export type Revision = 'keep' | 'drop' | Config;

export interface ConfigEdit {
  /** Asked of every config the document holds, in order. */
  revise(config: Config): Revision;
  /** Appended after the revision, if given. */
  readonly add?: Config;
}

export interface EditedDocument {
  /** The new text, or undefined when no config is left (the document is then removed). */
  readonly text: string | undefined;
  /** True when the document says `enabled: false`: none of its configs applies until it is enabled again. */
  readonly documentDisabled: boolean;
}

/** Dubbo's version of the configurator format the console writes. */
export const CONFIG_VERSION = 'v3.0';

/**
 * Applies `edit` to the configurators document `text` (undefined: none yet) stored as `key`; a new
 * document names its service `service` (`[group/]name[:version]`, the `key` field consumers match).
 * Rejects with FAILED_PRECONDITION a document that is not YAML or has no mapping at its top, since
 * rewriting it would lose what someone wrote.
 */
export function editConfigurators(text: string | undefined, key: string, service: string, edit: ConfigEdit): EditedDocument {
  const doc = text === undefined || text.trim() === '' ? newDocument(service) : existingDocument(text, key);
  const configs = configList(doc, key);
  for (let i = 0; i < configs.items.length; i++) {
    const node = configs.items[i];
    const value: unknown = isMap(node) ? node.toJS(doc) : undefined;
    // Something that is not a mapping is no config of ours to judge: leave it.
    if (typeof value !== 'object' || value === null) continue;
    const revision = edit.revise(value as Config);
    if (revision === 'keep') continue;
    if (revision === 'drop') {
      configs.items.splice(i--, 1);
    } else {
      configs.items[i] = configNode(doc, revision);
    }
  }
  if (edit.add !== undefined) configs.items.push(configNode(doc, edit.add));
  const documentDisabled = doc.get('enabled') === false;
  return { text: configs.items.length === 0 ? undefined : doc.toString(), documentDisabled };
}

/** The configs of a document as plain objects (none for a document that does not parse). */
export function readConfigs(text: string | undefined): { configs: Config[]; enabled: boolean } {
  if (text === undefined) return { configs: [], enabled: true };
  const doc = parseDocument(text);
  if (doc.errors.length > 0 || !isMap(doc.contents)) return { configs: [], enabled: true };
  const value = doc.toJS() as Record<string, unknown>;
  const configs = Array.isArray(value.configs) ? value.configs.filter((c): c is Config => typeof c === 'object' && c !== null && !Array.isArray(c)) : [];
  return { configs, enabled: value.enabled !== false };
}

/** A config as YAML, its address lists in flow style (`addresses: [ 0.0.0.0 ]`), as Dubbo's examples write them. */
function configNode(doc: Document, config: Config) {
  const node = doc.createNode(config);
  for (const pair of node.items) if (isSeq(pair.value)) pair.value.flow = true;
  return node;
}

function newDocument(service: string): Document {
  return new Document({ configVersion: CONFIG_VERSION, scope: 'service', key: service, enabled: true, configs: [] });
}

function existingDocument(text: string, key: string): Document {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new RpcError(Code.FAILED_PRECONDITION, `the configurators of ${key} are not valid YAML (${doc.errors[0]!.message.split('\n')[0]}); fix or remove the document first`);
  }
  if (!isMap(doc.contents)) {
    throw new RpcError(Code.FAILED_PRECONDITION, `the configurators of ${key} are not a YAML mapping; fix or remove the document first`);
  }
  return doc;
}

function configList(doc: Document, key: string): YAMLSeq {
  const configs = doc.get('configs', true);
  if (configs === undefined || configs === null || (!isSeq(configs) && isEmptyScalar(configs))) {
    const created = doc.createNode([]) as YAMLSeq;
    doc.set('configs', created);
    return created;
  }
  if (!isSeq(configs)) throw new RpcError(Code.FAILED_PRECONDITION, `the configs of ${key}'s configurators are not a list; fix or remove the document first`);
  return configs;
}

function isEmptyScalar(node: unknown): boolean {
  const value = (node as { value?: unknown }).value;
  return value === null || value === undefined || value === '';
}
