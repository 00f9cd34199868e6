// The traffic rules one client reference follows while it runs, as a Dubbo consumer does
// (RegistryDirectory and its state routers): it watches its rule documents in the registry and turns
// them into the reference's settings, adjusted provider entries and the directory's routers.
import { RouterChain } from '../cluster/rule-routing.js';
import type { Directory } from '../cluster/directory.js';
import type { Logger } from '../core/logger.js';
import { errorMessage } from '../core/rpc-error.js';
import type { Reference, RuledSettings } from '../reference.js';
import type { Provider } from '../registry/provider.js';
import { createConditionRouter, type ConditionRouterRule } from './condition-router.js';
import { providerAdjuster, referenceSettings, type RuleConsumer } from './consumer-settings.js';
import { APPLICATION_PARAM, localHostFor } from './identity.js';
import type { Router } from './routing-call.js';
import { WatchedRules } from './rule-watch.js';
import { serviceRuleKey } from './store-keys.js';
import { ownParam } from './provider-fields.js';
import { createTagRouter, TAG_KEY, type TagRouterRule } from './tag-router.js';
import type { RuleStore } from './types.js';

export interface ConsumerRulesOptions extends RuleConsumer {
  readonly store: RuleStore;
  readonly logger: Logger;
  readonly directory: Directory;
  readonly reference: Reference;
  /**
   * How long a new provider list waits for the rules that apply to it to be read (its applications'
   * tag routers, say) before the directory gets it anyway.
   */
  readonly settleMs: number;
}

type RoutingRule = ConditionRouterRule | TagRouterRule;

/**
 * Watches, for one reference (Dubbo's consumer behaviour):
 * - `<service key>.configurators` and `<consumer application>.configurators`: overrides, for the
 *   reference (timeout, retries, loadbalance, ...) and for each provider entry (weight, disabled, timeout);
 * - for each application among the providers, `<application>.tag-router` and (unless it is the
 *   consumer's own) `<application>.condition-router`;
 * - `<consumer application>.condition-router` and `<service key>.condition-router`.
 * Routers apply in Dubbo 3's order: tag routers, the provider applications' condition routers, the
 * consumer application's, then the service's. Without a tag rule, providers' own tags (`dubbo.tag`
 * in their entries) route calls as Dubbo's static tags do, once some provider has one.
 */
export class ConsumerRules {
  private readonly rules: WatchedRules;
  private readonly serviceKey: string;
  private providerApps = new Set<string>();
  /** The registry's last list, and whether the directory has it. */
  private entries: readonly Provider[] | undefined;
  private held: NodeJS.Timeout | undefined;
  private settings: RuledSettings | undefined;
  private settingsKey = 'null';
  private lastConfigurators: readonly unknown[] = [undefined, undefined];
  private lastRouting: readonly unknown[] = [];
  private readonly routers = new WeakMap<RoutingRule, Router>();
  /**
   * Routing by the providers' own `dubbo.tag` (Dubbo's static tags), used while no tag rule is in
   * force and some provider has a tag; one router for the reference's life, so that what it
   * remembers of each list outlives a change of rules.
   */
  private readonly staticTags = createTagRouter();
  private closed = false;

  constructor(private readonly options: ConsumerRulesOptions) {
    this.serviceKey = serviceRuleKey(options.service);
    this.rules = new WatchedRules(options.store, options.logger, () => this.changed());
    for (const kind of ['configurators', 'condition-router'] as const) {
      this.rules.watch({ key: this.serviceKey, kind }, options.service);
      this.rules.watch({ key: options.application, kind });
    }
  }

  /** The registry's provider list: handed on to the directory once the rules it brings in are known. */
  providers(list: readonly Provider[]): void {
    if (this.closed) return;
    this.entries = list;
    this.watchApplications(list);
    if (this.rules.allKnown()) {
      this.forward();
    } else if (this.held === undefined) {
      this.held = setTimeout(() => this.forward(), this.options.settleMs).unref();
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.held);
    this.rules.close();
  }

  private changed(): void {
    if (this.closed) return;
    if (this.held !== undefined && this.rules.allKnown()) this.forward();
    else this.apply();
  }

  private forward(): void {
    clearTimeout(this.held);
    this.held = undefined;
    this.apply();
    if (this.entries !== undefined) this.options.directory.update(this.entries);
  }

  /** Works out what the rules in force mean now, and hands on what changed. */
  private apply(): void {
    const { directory, reference, application, logger } = this.options;
    const localHost = localHostFor(this.entries?.[0]?.host);
    const configurators = [this.rules.get({ key: application, kind: 'configurators' }), this.rules.get({ key: this.serviceKey, kind: 'configurators' })];
    let settings = this.settings;
    try {
      settings = referenceSettings(configurators, this.options, localHost);
    } catch (error) {
      logger.warn({ service: this.serviceKey, message: errorMessage(error) }, 'override rules cannot be combined; the previous settings stay in force');
    }
    const settingsKey = JSON.stringify(settings ?? null, (_key, value: unknown) => (value === Infinity ? 'Infinity' : value));
    const settingsChanged = settingsKey !== this.settingsKey;
    if (settingsChanged) {
      this.settings = settings;
      this.settingsKey = settingsKey;
      reference.applyRules(settings);
    }
    if (settingsChanged || !sameItems(configurators, this.lastConfigurators)) {
      this.lastConfigurators = configurators;
      directory.setAdjuster(providerAdjuster(configurators, this.options, settings, (error, provider) =>
        logger.warn({ service: this.serviceKey, provider: provider.address, message: errorMessage(error) }, 'override rules cannot be combined for this provider')));
    }
    const routers = this.routersInForce();
    const routing = [...routers, localHost];
    if (!sameItems(routing, this.lastRouting)) {
      this.lastRouting = routing;
      directory.setRouting(routers.length === 0 ? undefined : new RouterChain(routers, { host: localHost, application }));
    }
  }

  /**
   * The routers of the rules in force, in the order they apply. Tag routing reads every call, so it
   * is left out, as routing nothing, while no tag rule is in force and no provider has a tag of its own
   * (decided here, when the rules or the providers change, never per call).
   */
  private routersInForce(): Router[] {
    const { application } = this.options;
    const apps = [...this.providerApps].sort();
    // A disabled tag rule leaves the providers' own tags, which the static router follows alone.
    const tagRules = apps.map((app) => this.rules.get({ key: app, kind: 'tag-router' })).filter((rule) => rule !== undefined && rule.enabled);
    const conditionRules = [
      ...apps.filter((app) => app !== application).map((app) => this.rules.get({ key: app, kind: 'condition-router' })),
      this.rules.get({ key: application, kind: 'condition-router' }),
      this.rules.get({ key: this.serviceKey, kind: 'condition-router' }),
    ].filter((rule) => rule !== undefined);
    const tagRouters = tagRules.length > 0 ? tagRules.map((rule) => this.routerOf(rule!)) : hasOwnTags(this.entries) ? [this.staticTags] : [];
    return [...tagRouters, ...conditionRules.map((rule) => this.routerOf(rule!))];
  }

  /** One router per rule read: a rule that stays keeps its router, and what the router remembered. */
  private routerOf(rule: RoutingRule): Router {
    let router = this.routers.get(rule);
    if (router === undefined) {
      router = rule.kind === 'tag-router' ? createTagRouter(rule) : createConditionRouter(rule);
      this.routers.set(rule, router);
    }
    return router;
  }

  /** Follows the tag and condition routers of the applications the providers belong to. */
  private watchApplications(list: readonly Provider[]): void {
    const apps = new Set<string>();
    for (const provider of list) {
      const app = provider.params[APPLICATION_PARAM];
      if (typeof app === 'string' && app !== '') apps.add(app);
    }
    const own = this.options.application;
    for (const app of apps) {
      if (this.providerApps.has(app)) continue;
      this.rules.watch({ key: app, kind: 'tag-router' });
      if (app !== own) this.rules.watch({ key: app, kind: 'condition-router' });
    }
    for (const app of this.providerApps) {
      if (apps.has(app)) continue;
      this.rules.unwatch({ key: app, kind: 'tag-router' });
      if (app !== own) this.rules.unwatch({ key: app, kind: 'condition-router' });
    }
    this.providerApps = apps;
  }
}

/** Whether some provider of the list has a tag of its own (Dubbo's `dubbo.tag` parameter, a static tag). */
function hasOwnTags(list: readonly Provider[] | undefined): boolean {
  return list?.some((provider) => (ownParam(provider.params, TAG_KEY) ?? '') !== '') ?? false;
}

function sameItems(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}
