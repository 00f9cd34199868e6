import type { Provider } from '../registry/provider.js';
import { ConditionSyntaxError, parseCondition, type Condition } from './condition-grammar.js';
import { compileCondition, type CompiledCondition } from './condition-match.js';
import { FieldReader, readConfigVersion } from './rule-fields.js';
import { readRuleYaml } from './rule-yaml.js';
import { consumerField, identity, keepOnly, type Router, type RoutingCall } from './routing-call.js';

/**
 * Dubbo's condition routing rules (`<key>.condition-router`): each condition sends the calls its
 * when part describes to the providers its then part keeps.
 *
 * ```yaml
 * configVersion: v3.0
 * scope: service
 * key: org.apache.dubbo.samples.CommentService
 * force: true
 * conditions:
 *   - method = getComment => region = Hangzhou
 * ```
 */
export interface ConditionRouterRule {
  readonly kind: 'condition-router';
  readonly configVersion: 'v2.7' | 'v3.0';
  /** Informative: where a document is stored, not these, says which service or application it is for. */
  readonly scope?: 'service' | 'application';
  readonly key?: string;
  /** A disabled rule routes nothing. Default true. */
  readonly enabled: boolean;
  /**
   * When a condition keeps no provider: true fails the call; false (the default) ignores that
   * condition for the call. A condition with an empty then part refuses its calls either way.
   */
  readonly force: boolean;
  /** Dubbo's hint to route on every call rather than from a cache; see `Router.readsCallData`. Default true, as in Dubbo's code. */
  readonly runtime: boolean;
  /** Read and kept; Dubbo 3 orders its condition routers by kind, not by this. Default 0. */
  readonly priority: number;
  /** Applied in order, each to what the one before kept. */
  readonly conditions: readonly Condition[];
}

const RULE = 'condition router';
const fields = ['configVersion', 'scope', 'key', 'enabled', 'force', 'runtime', 'priority', 'conditions', 'dynamic', 'valid'];

/** Reads a condition routing rule; throws `RuleError` for anything malformed (the whole rule is refused). */
export function parseConditionRouter(text: string): ConditionRouterRule {
  const reader = new FieldReader(RULE);
  const top = reader.map(readRuleYaml(text, RULE), fields, 'a condition rule (a map with conditions, force, enabled, ...)');
  const configVersion = readConfigVersion(reader, top);
  const scopeNode = reader.field(top, 'scope');
  const keyNode = reader.field(top, 'key');
  const list = reader.list(reader.required(top, 'conditions'), 'a list of conditions');
  if (list.items.length === 0) reader.fail(list, 'conditions lists no condition; delete the rule to remove it');
  const conditions = list.items.map((item) => {
    const condition = reader.text(item, 'a condition (when => then)');
    try {
      return parseCondition(condition);
    } catch (error) {
      if (!(error instanceof ConditionSyntaxError)) throw error;
      return reader.fail(item, `${JSON.stringify(condition)}: ${error.message} (at character ${error.index + 1})`);
    }
  });
  if (!reader.boolean(top, 'valid', true)) reader.fail(top, '"valid: false" marks the rule unusable');
  reader.boolean(top, 'dynamic', false);
  return {
    kind: 'condition-router',
    configVersion,
    ...(scopeNode === undefined ? {} : { scope: reader.choice(top, 'scope', ['service', 'application'] as const) }),
    ...(keyNode === undefined ? {} : { key: reader.name(keyNode, 'a service key or application name') }),
    enabled: reader.boolean(top, 'enabled', true),
    force: reader.boolean(top, 'force', false),
    runtime: reader.boolean(top, 'runtime', true),
    priority: reader.integer(top, 'priority', 0),
    conditions,
  };
}

/**
 * The router a condition rule stands for. As Dubbo: a condition whose when part does not describe
 * the call changes nothing; one with an empty then part refuses the call; one whose then part keeps
 * no provider fails the call when the rule is `force`d, and is ignored for the call otherwise.
 *
 * ```ts
 * const router = createConditionRouter(parseConditionRouter(yaml));
 * const providers = router.route(all, { method: 'getComment', args, metadata, consumerHost: '10.0.0.7' });
 * ```
 */
export function createConditionRouter(rule: ConditionRouterRule): Router {
  const readsCallData = rule.conditions.some((condition) => condition.when.some((term) => term.source.kind === 'argument' || term.source.kind === 'attachment'));
  const compiled = rule.conditions.map(compileCondition);
  const cache = new ThenCache(rule.conditions);
  const byMethod = readsCallData ? undefined : new MethodCache(rule.conditions);
  return {
    readsCallData,
    readsArguments: rule.conditions.some((condition) => condition.when.some((term) => term.source.kind === 'argument')),
    route<T>(items: readonly T[], call: RoutingCall, providerOf: (item: T) => Provider = identity): readonly T[] {
      if (byMethod === undefined || items.length === 0) return routeThrough(rule, compiled, cache, items, call, providerOf, undefined);
      return byMethod.routed(items, call, () => routeThrough(rule, compiled, cache, items, call, providerOf, undefined));
    },
    explainEmpty<T>(items: readonly T[], call: RoutingCall, providerOf: (item: T) => Provider = identity): string | undefined {
      let reason: string | undefined;
      const routed = routeThrough(rule, compiled, cache, items, call, providerOf, (why) => (reason = why));
      return routed.length === 0 ? (reason ?? (items.length === 0 ? 'there was no provider to route' : undefined)) : undefined;
    },
  };
}

function routeThrough<T>(rule: ConditionRouterRule, compiled: readonly CompiledCondition[], cache: ThenCache, items: readonly T[], call: RoutingCall, providerOf: (item: T) => Provider, explain: ((reason: string) => void) | undefined): readonly T[] {
  if (!rule.enabled || items.length === 0) return items;
  let list = items;
  for (let index = 0; index < rule.conditions.length; index++) {
    const condition = rule.conditions[index]!;
    const { when, then } = compiled[index]!;
    if (!when(call)) continue;
    if (then === null) {
      explain?.(`the condition rule "${condition.text.trim()}" refuses calls of ${call.method} from this consumer`);
      return [];
    }
    const kept = cache.kept(index, then, list, call, providerOf);
    if (kept.length > 0) {
      list = kept;
    } else if (rule.force) {
      explain?.(`the condition rule "${condition.text.trim()}" (force: true) keeps none of the ${list.length} providers`);
      return kept;
    }
  }
  return list;
}

/**
 * What each condition's then part kept of each list it was given. A then part reads only the
 * providers and (through `$references`) the consumer, so routing a list again, as a directory does
 * with its list for a method until the providers change, costs a lookup, and returns the same list
 * object, which the next router's cache knows in turn. Lists are remembered by identity, weakly:
 * routing treats them as immutable.
 */
class ThenCache {
  private readonly lists = new WeakMap<object, Array<unknown[] | Map<string, unknown[]> | undefined>>();
  /** Per condition, the consumer fields its then part refers to. */
  private readonly references: ReadonlyArray<readonly string[]>;

  constructor(conditions: readonly Condition[]) {
    this.references = conditions.map((condition) => [...new Set((condition.then ?? []).flatMap((term) => [...term.matches, ...term.mismatches]).flatMap((value) => (value.kind === 'reference' ? [value.key] : [])))]);
  }

  kept<T>(index: number, then: NonNullable<CompiledCondition['then']>, list: readonly T[], call: RoutingCall, providerOf: (item: T) => Provider): readonly T[] {
    let perCondition = this.lists.get(list);
    if (perCondition === undefined) {
      perCondition = new Array(this.references.length);
      this.lists.set(list, perCondition);
    }
    const references = this.references[index]!;
    if (references.length === 0) {
      const known = perCondition[index];
      if (known !== undefined) return known as readonly T[];
      return (perCondition[index] = keepOnly(list, (item) => then(providerOf(item), call)) as unknown[]) as readonly T[];
    }
    // The consumer's values are part of the key: they come with each call.
    const key = references.map((name) => consumerField(call, name) ?? '\u0000').join('\u0001');
    const byConsumer = (perCondition[index] ??= new Map<string, unknown[]>()) as Map<string, unknown[]>;
    let kept = byConsumer.get(key);
    if (kept === undefined) {
      if (byConsumer.size >= 64) byConsumer.clear();
      kept = keepOnly(list, (item) => then(providerOf(item), call)) as unknown[];
      byConsumer.set(key, kept);
    }
    return kept as readonly T[];
  }
}

/**
 * For rules that read no call data: what a list routes to for a method, with the consumer's values
 * the rule reads (`host`, `application`, `$references`, ...), checked on every use, since they come
 * with each call.
 */
class MethodCache {
  private readonly lists = new WeakMap<object, Map<string, { readonly values: ReadonlyArray<string | undefined>; readonly routed: readonly unknown[] }>>();
  private readonly consumerKeys: readonly string[];

  constructor(conditions: readonly Condition[]) {
    const keys = new Set<string>();
    for (const condition of conditions) {
      for (const term of condition.when) if (term.source.kind === 'field') keys.add(term.source.name);
      for (const term of condition.then ?? []) for (const value of [...term.matches, ...term.mismatches]) if (value.kind === 'reference') keys.add(value.key);
    }
    this.consumerKeys = [...keys];
  }

  routed<T>(items: readonly T[], call: RoutingCall, route: () => readonly T[]): readonly T[] {
    let perMethod = this.lists.get(items);
    if (perMethod === undefined) {
      perMethod = new Map();
      this.lists.set(items, perMethod);
    }
    const known = perMethod.get(call.method);
    if (known !== undefined && this.sameConsumer(known.values, call)) return known.routed as readonly T[];
    const routed = route();
    if (perMethod.size >= 256) perMethod.clear();
    perMethod.set(call.method, { values: this.consumerKeys.map((key) => consumerField(call, key)), routed });
    return routed;
  }

  private sameConsumer(values: ReadonlyArray<string | undefined>, call: RoutingCall): boolean {
    for (let i = 0; i < values.length; i++) if (values[i] !== consumerField(call, this.consumerKeys[i]!)) return false;
    return true;
  }
}
