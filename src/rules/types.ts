/**
 * Traffic rules as Dubbo writes them (Dubbo 2.7+/3 "dynamic configuration" and "routing rules"):
 * YAML documents that operators put into the registry and that every consumer and provider obeys
 * while running. This file holds the shapes shared by the rule store (where the text lives), the
 * parsers (what the text means) and the cluster (what a call does with it). See docs/rules.md.
 */
import type { Unsubscribe } from '../registry/registry.js';

/**
 * The three kinds of rule, named by the suffix Dubbo gives their nodes:
 * `<key>.configurators` (overrides), `<key>.condition-router`, `<key>.tag-router`.
 * A configurator's or condition router's key is the service's rule key `name:version:group` (empty
 * parts kept: `demo.Calculator::`, `demo.Calculator:1.0.0:`; `serviceRuleKey` in store-keys.ts),
 * as Dubbo 2.7.3+ (`DynamicConfiguration.getRuleKey`) and Dubbo Admin name it, when its scope is
 * `service`, or an application name when it is `application`; a tag router's key is always the
 * provider application's name.
 */
export type RuleKind = 'configurators' | 'condition-router' | 'tag-router';

export const RULE_KINDS: readonly RuleKind[] = ['configurators', 'condition-router', 'tag-router'];

/** Names one rule document. */
export interface RuleId {
  readonly key: string;
  readonly kind: RuleKind;
}

/**
 * Where rule documents are kept: the registry's own store (ZooKeeper's
 * `/dubbo/config/dubbo/<key>.<kind>`, as Dubbo's config center lays it out; a folder of the embedded
 * registry). Documents are kept as the text written, never rewritten: a tool that wrote YAML reads
 * back its own YAML. A store does not parse what it holds.
 */
export interface RuleStore {
  /** The document, or undefined when there is none. */
  get(id: RuleId): Promise<string | undefined>;
  /** Writes (creates or replaces) a document; watchers hear of it. */
  put(id: RuleId, text: string): Promise<void>;
  /** Removes a document; removing one that does not exist is not an error. */
  delete(id: RuleId): Promise<void>;
  /** Every document the store holds, sorted by key then kind. */
  list(): Promise<RuleId[]>;
  /**
   * Calls `onChange` with the document's text (undefined when absent) at once when known, and
   * again on every change, until unsubscribed. A store that loses its connection keeps the last
   * text it had and catches up when it is back.
   */
  watch(id: RuleId, onChange: (text: string | undefined) => void): Unsubscribe;
}
