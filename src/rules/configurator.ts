import { readAddressMatch, readOneOf, readParamMatches, type ParamTest, type StringTest } from './string-match.js';
import { FieldReader, readConfigVersion } from './rule-fields.js';
import { RuleError } from './rule-error.js';
import { childPath, readRuleYaml, type RuleNode } from './rule-yaml.js';
import { parameterProblem, routingOverrides } from './routing-overrides.js';

/**
 * Dubbo's override rules ("dynamic configuration", `<key>.configurators`): parameters such as
 * `timeout` or `weight` that apply, while the rule is in force, to the consumers or providers it
 * names. Reading one is here; which parameters apply where is in configurator-match.ts.
 *
 * ```yaml
 * configVersion: v2.7
 * scope: service
 * key: org.apache.dubbo.samples.governance.api.DemoService
 * configs:
 *   - addresses: [0.0.0.0]
 *     side: consumer
 *     parameters:
 *       timeout: 6000
 * ```
 */
export interface ConfiguratorRule {
  readonly kind: 'configurators';
  /** v2.7 when the document gives none, as Dubbo reads it; v3.0 adds `match`. */
  readonly configVersion: 'v2.7' | 'v3.0';
  /** Dubbo reads a rule without `scope` as service-scoped. */
  readonly scope: 'service' | 'application';
  /** A service key (`[group/]name[:version]`) or an application name, after `scope`. */
  readonly key: string;
  readonly enabled: boolean;
  readonly configs: readonly ConfigItem[];
}

export interface ConfigItem {
  /** Whether the item is consumers' or providers' configuration. */
  readonly side: 'consumer' | 'provider';
  /** The item's own `enabled` when given, else the rule's. */
  readonly enabled: boolean;
  /** Hosts the item applies to (consumer hosts on the consumer side, provider hosts on the provider side); `0.0.0.0` for all. */
  readonly addresses: readonly string[];
  /** Providers (`host:port`, `host`, `0.0.0.0`, `0.0.0.0:*`, `0.0.0.0:<port>`) whose entries the item changes; all when absent. */
  readonly providerAddresses?: readonly string[];
  /** Application-scoped rules: the service keys the item is for; all when absent. */
  readonly services?: readonly string[];
  /** Service-scoped rules: the applications (of the process applying it) the item is for; all when absent. */
  readonly applications?: readonly string[];
  /** The overrides, by Dubbo parameter name (a Map, so that no name can touch a prototype). */
  readonly parameters: ReadonlyMap<string, string>;
  /** v3.0 `match`: further conditions, all of which must hold. */
  readonly match?: ConfigMatch;
  /** Dubbo Admin's item type (`general`, `weight`, `balancing`, ...); informative only. */
  readonly type?: string;
}

/** v3.0 `match`, read into tests. */
export interface ConfigMatch {
  /** On the host the item's `addresses` are compared with. */
  readonly address?: StringTest;
  /** On the provider's `host:port`. */
  readonly providerAddress?: StringTest;
  /** On the provider's service key. */
  readonly service?: StringTest;
  /** On the application of the process applying the rule (`app` in Dubbo's code, `application` in its docs; both are read). */
  readonly application?: StringTest;
  /** On the provider's parameters. */
  readonly param?: readonly ParamTest[];
}

const RULE = 'configurator';
/** `10.0.0.1`, `10.0.0.1:20880`, `[::1]:20880`, `host-7`, `0.0.0.0:*`. */
const addressShape = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:(\d{1,5}|\*))?$/;
const topFields = ['configVersion', 'scope', 'key', 'enabled', 'configs'];
const itemFields = ['side', 'enabled', 'addresses', 'providerAddresses', 'services', 'applications', 'parameters', 'match', 'type'];
const matchFields = ['address', 'providerAddress', 'service', 'application', 'app', 'param'];

/**
 * Reads an override rule, checking every field and every parameter value Switchyard acts on.
 * Throws `RuleError` for anything malformed: the rule is refused as a whole.
 */
export function parseConfigurator(text: string): ConfiguratorRule {
  const reader = new FieldReader(RULE);
  const top = reader.map(readRuleYaml(text, RULE), topFields, 'a configurator rule (a map with configVersion, scope, key, configs)');
  const configVersion = readConfigVersion(reader, top);
  const scope = reader.choice(top, 'scope', ['service', 'application'], 'service');
  const key = reader.name(reader.required(top, 'key'), scope === 'service' ? 'a service key' : 'an application name');
  const enabled = reader.boolean(top, 'enabled', true);
  const list = reader.list(reader.required(top, 'configs'), 'a list of configs');
  if (list.items.length === 0) reader.fail(list, 'configs lists nothing to configure');
  const configs = list.items.map((item) => readItem(reader, item, enabled, configVersion, scope));
  return { kind: 'configurators', configVersion, scope, key, enabled, configs };
}

function readItem(reader: FieldReader, node: RuleNode, ruleEnabled: boolean, version: 'v2.7' | 'v3.0', scope: 'service' | 'application'): ConfigItem {
  const map = reader.map(node, itemFields, 'a config (a map with side, addresses, parameters, ...)');
  const side = reader.choice(map, 'side', ['consumer', 'provider']);
  const typeNode = reader.field(map, 'type');
  const matchNode = reader.field(map, 'match');
  if (matchNode !== undefined && version !== 'v3.0') reader.fail(matchNode, '"match" needs configVersion: v3.0 (Dubbo ignores it in older rules)');
  // As Dubbo: an empty list means the same as none.
  const list = (key: string, what?: string) => {
    const items = reader.textList(map, key, what);
    return items?.length === 0 ? undefined : items;
  };
  for (const key of ['addresses', 'providerAddresses']) {
    for (const address of list(key) ?? []) {
      if (!addressShape.test(address)) reader.fail(reader.field(map, key)!, `${JSON.stringify(address)} is not host, host:port, 0.0.0.0 or 0.0.0.0:*`);
    }
  }
  const services = list('services', 'a service key');
  const applications = list('applications', 'an application name');
  if (scope === 'service' && services !== undefined) reader.fail(reader.field(map, 'services')!, 'services is for application-scoped rules; a service-scoped rule names its service in key');
  if (scope === 'application' && applications !== undefined) reader.fail(reader.field(map, 'applications')!, 'applications is for service-scoped rules; an application-scoped rule names its application in key');
  return {
    side,
    enabled: reader.boolean(map, 'enabled', ruleEnabled),
    addresses: list('addresses') ?? ['0.0.0.0'],
    ...optional('providerAddresses', list('providerAddresses')),
    ...optional('services', services),
    ...optional('applications', applications),
    parameters: readParameters(reader, reader.required(map, 'parameters')),
    ...(matchNode === undefined ? {} : { match: readMatch(reader, matchNode) }),
    ...(typeNode === undefined ? {} : { type: reader.name(typeNode, 'an item type') }),
  };
}

function readParameters(reader: FieldReader, node: RuleNode): ReadonlyMap<string, string> {
  if (node.kind !== 'map') reader.fail(node, 'expected a map of parameters (name: value)');
  if (node.entries.size === 0) reader.fail(node, 'parameters is empty: a config must set at least one parameter');
  const parameters = new Map<string, string>();
  for (const [name, valueNode] of node.entries) {
    const at = { ...valueNode, path: childPath(node.path, name) };
    if (!/^[^\s=&?#]+$/.test(name)) reader.fail(node.keys.get(name) ?? at, `${JSON.stringify(name)} is not a parameter name`);
    const value = reader.scalarText(valueNode, 'a parameter value (text, a number or true/false)');
    const problem = parameterProblem(name, value);
    if (problem !== undefined) reader.fail(at, problem);
    parameters.set(name, value);
  }
  try {
    routingOverrides(parameters); // values that only conflict together
  } catch (error) {
    if (error instanceof RuleError) reader.fail(node, error.problem);
    throw error;
  }
  return parameters;
}

function readMatch(reader: FieldReader, node: RuleNode): ConfigMatch {
  const map = reader.map(node, matchFields, 'a match (address, providerAddress, service, application, param)');
  if (map.entries.has('app') && map.entries.has('application')) reader.fail(map, 'give "application" or "app", not both');
  const get = (key: string) => reader.field(map, key);
  const app = get('application') ?? get('app');
  const param = get('param');
  return {
    ...(get('address') === undefined ? {} : { address: readAddressMatch(reader, get('address')!) }),
    ...(get('providerAddress') === undefined ? {} : { providerAddress: readAddressMatch(reader, get('providerAddress')!) }),
    ...(get('service') === undefined ? {} : { service: readOneOf(reader, get('service')!) }),
    ...(app === undefined ? {} : { application: readOneOf(reader, app) }),
    ...(param === undefined ? {} : { param: readParamMatches(reader, param) }),
  };
}

function optional<K extends string>(key: K, value: readonly string[] | undefined): { [P in K]?: readonly string[] } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: readonly string[] };
}
