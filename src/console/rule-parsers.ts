import type { Provider } from '../registry/provider.js';
import type { RuleKind } from '../rules/types.js';

/**
 * The rule parsers of src/rules, as consumers use them, loaded on first use by a path computed at
 * run time: the console still works, with lighter checks of its own, in a build without them.
 */

export type Parse = (text: string) => unknown;

/** What a consumer makes of a service's configurators for one provider: the parameters in force. */
export type ConsumerOverrides = (text: string, provider: Provider) => Record<string, string>;

/** Each kind's module in src/rules and the parser it exports (docs/rules.md). */
const modules: Record<RuleKind, readonly [module: string, parser: string]> = {
  'configurators': ['configurator', 'parseConfigurator'],
  'condition-router': ['condition-router', 'parseConditionRouter'],
  'tag-router': ['tag-router', 'parseTagRouter'],
};
const parsers = new Map<RuleKind, Promise<Parse | undefined>>();
let overrides: Promise<ConsumerOverrides | undefined> | undefined;

/** The parser of `kind`, undefined when there is none. */
export function parserOf(kind: RuleKind): Promise<Parse | undefined> {
  let loading = parsers.get(kind);
  if (loading === undefined) {
    const [name, parser] = modules[kind];
    loading = load(name).then((module) => (typeof module?.[parser] === 'function' ? (module[parser] as Parse) : undefined));
    parsers.set(kind, loading);
  }
  return loading;
}

/**
 * How a consumer on any host reads a service's configurators for a provider (src/rules'
 * `overridesFor` on the consumer side, with the host `0.0.0.0`: items for chosen consumer hosts are
 * left out); undefined when those modules are missing. Throws for a document that does not parse.
 */
export function consumerOverrides(): Promise<ConsumerOverrides | undefined> {
  overrides ??= Promise.all([parserOf('configurators'), load('configurator-match')]).then(([parse, match]) => {
    const overridesFor = match?.overridesFor;
    if (parse === undefined || typeof overridesFor !== 'function') return undefined;
    return (text: string, provider: Provider) => overridesFor([parse(text)], { side: 'consumer', localHost: '0.0.0.0', provider }) as Record<string, string>;
  });
  return overrides;
}

async function load(name: string): Promise<Record<string, unknown> | undefined> {
  const specifier = `../rules/${name}.js`;
  try {
    return (await import(specifier)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
