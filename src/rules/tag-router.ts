import type { Provider } from '../registry/provider.js';
import { parseAddressPattern, type AddressTest } from './address-pattern.js';
import { ownParam, providerField } from './provider-fields.js';
import { FieldReader, readConfigVersion } from './rule-fields.js';
import { readRuleYaml, type RuleNode } from './rule-yaml.js';
import { consumerField, identity, keepOnly, metadataText, type Router, type RoutingCall } from './routing-call.js';
import { readParamMatches, type ParamTest } from './string-match.js';

/**
 * Dubbo's tag routing rules (`<provider application>.tag-router`): named groups of a provider
 * application's instances, by address or (v3.0) by their parameters. A call tagged `dubbo.tag=gray`
 * goes to the `gray` group; an untagged call only to providers in no group.
 *
 * ```yaml
 * force: false
 * enabled: true
 * key: demo-provider
 * tags:
 *   - name: tag1
 *     addresses: ["127.0.0.1:20880"]
 * ```
 */
export interface TagRouterRule {
  readonly kind: 'tag-router';
  readonly configVersion: 'v2.7' | 'v3.0';
  /** The provider application whose instances the tags group. */
  readonly key?: string;
  /** A disabled rule leaves only the providers' own (static) tags. Default true. */
  readonly enabled: boolean;
  /** When a group has no provider for a call with its tag: true fails the call, false (the default) falls back. */
  readonly force: boolean;
  readonly runtime: boolean;
  readonly priority: number;
  readonly tags: readonly TagDefinition[];
}

export interface TagDefinition {
  readonly name: string;
  /** Address patterns of the group's members (`10.0.0.1:20880`, `10.0.0.*`, a CIDR block, ...). */
  readonly addresses?: readonly string[];
  /** v3.0: the group is the providers whose parameters all match (used when `addresses` is absent). */
  readonly match?: readonly ParamTest[];
}

/** The call's tag (Dubbo's attachment name), and the consumer parameter giving a reference's default. */
export const TAG_KEY = 'dubbo.tag';
/** `true` on a call: a tagged call never falls back to untagged providers. */
export const FORCE_TAG_KEY = 'dubbo.force.tag';

const RULE = 'tag router';
const fields = ['configVersion', 'scope', 'key', 'enabled', 'force', 'runtime', 'priority', 'tags', 'dynamic', 'valid'];

/** Reads a tag routing rule; throws `RuleError` for anything malformed (the whole rule is refused). */
export function parseTagRouter(text: string): TagRouterRule {
  const reader = new FieldReader(RULE);
  const top = reader.map(readRuleYaml(text, RULE), fields, 'a tag rule (a map with tags, force, enabled, ...)');
  const configVersion = readConfigVersion(reader, top);
  const list = reader.list(reader.required(top, 'tags'), 'a list of tags');
  if (list.items.length === 0) reader.fail(list, 'tags lists no tag; delete the rule to remove it');
  const names = new Set<string>();
  const tags = list.items.map((item) => {
    const tag = readTag(reader, item, configVersion);
    if (names.has(tag.name)) reader.fail(item, `the tag ${JSON.stringify(tag.name)} is defined twice`);
    names.add(tag.name);
    return tag;
  });
  const keyNode = reader.field(top, 'key');
  if (reader.field(top, 'scope') !== undefined) reader.scalarText(reader.field(top, 'scope')!, 'a scope');
  if (!reader.boolean(top, 'valid', true)) reader.fail(top, '"valid: false" marks the rule unusable');
  reader.boolean(top, 'dynamic', false);
  return {
    kind: 'tag-router',
    configVersion,
    ...(keyNode === undefined ? {} : { key: reader.name(keyNode, 'an application name') }),
    enabled: reader.boolean(top, 'enabled', true),
    force: reader.boolean(top, 'force', false),
    runtime: reader.boolean(top, 'runtime', true),
    priority: reader.integer(top, 'priority', 0),
    tags,
  };
}

function readTag(reader: FieldReader, node: RuleNode, version: 'v2.7' | 'v3.0'): TagDefinition {
  const map = reader.map(node, ['name', 'addresses', 'match'], 'a tag (a map with name, and addresses or match)');
  const name = reader.name(reader.required(map, 'name'), 'a tag name');
  const addresses = reader.textList(map, 'addresses');
  for (const address of addresses ?? []) {
    try {
      parseAddressPattern(address);
    } catch (error) {
      reader.fail(reader.field(map, 'addresses')!, (error as Error).message);
    }
  }
  const matchNode = reader.field(map, 'match');
  if (matchNode !== undefined && version !== 'v3.0') reader.fail(matchNode, '"match" needs configVersion: v3.0 (Dubbo ignores it in older rules)');
  const match = matchNode === undefined ? undefined : readParamMatches(reader, matchNode);
  if (match?.length === 0) reader.fail(matchNode!, 'match lists no condition (it would put every provider in the tag)');
  return { name, ...(addresses === undefined || addresses.length === 0 ? {} : { addresses }), ...(match === undefined ? {} : { match }) };
}

interface Group {
  readonly name: string;
  readonly addresses?: readonly AddressTest[];
  readonly match?: readonly ParamTest[];
}

/** What a router works out once per provider: the groups it is in, and its own tag. */
interface ProviderTags {
  readonly groups: readonly string[];
  readonly own: string;
}

/**
 * The router a tag rule stands for, or, without a rule (or with a disabled one), the routing of the
 * providers' own `dubbo.tag` parameters, as Dubbo does:
 *
 * - a call tagged `t` (metadata `dubbo.tag`, else the consumer's `dubbo.tag` parameter) goes to the
 *   rule's group `t` (`beta|team1` tries `beta|team1`, then `beta`); when the rule has no such group,
 *   to providers whose own tag is `t`; when that finds none, unless the call says
 *   `dubbo.force.tag: true`, to the providers in no group and with no tag of their own. A group that
 *   exists but has no provider fails the call when the rule is `force`d, else falls back the same way;
 * - an untagged call goes only to providers in no group and with no tag of their own.
 */
export function createTagRouter(rule?: TagRouterRule): Router {
  const active = rule !== undefined && rule.enabled ? rule : undefined;
  const groups = new Map<string, Group>();
  for (const tag of active?.tags ?? []) {
    groups.set(tag.name, { name: tag.name, ...(tag.addresses === undefined ? {} : { addresses: tag.addresses.map(parseAddressPattern) }), ...(tag.match === undefined ? {} : { match: tag.match }) });
  }
  const known = new WeakMap<Provider, ProviderTags>();
  const tagsOf = (provider: Provider): ProviderTags => {
    let found = known.get(provider);
    if (found === undefined) {
      const member: string[] = [];
      for (const group of groups.values()) if (isMember(group, provider)) member.push(group.name);
      found = { groups: member, own: ownParam(provider.params, TAG_KEY) ?? '' };
      known.set(provider, found);
    }
    return found;
  };
  // A tagged call's providers depend only on the list, its tag and whether it forces it: remembered
  // per list (weakly, by identity) and tag, so routing a directory's list again costs two lookups.
  const remembered = new WeakMap<object, { untagged?: readonly unknown[]; tagged: Map<string, readonly unknown[]>; forced: Map<string, readonly unknown[]> }>();
  const route = <T>(items: readonly T[], call: RoutingCall, providerOf: (item: T) => Provider): readonly T[] => {
    if (items.length === 0) return items;
    const tag = metadataText(call, TAG_KEY) || consumerField(call, TAG_KEY) || '';
    let memo = remembered.get(items);
    if (memo === undefined) {
      memo = { tagged: new Map(), forced: new Map() };
      remembered.set(items, memo);
    }
    if (tag === '') return (memo.untagged ??= select(items, tag, false, providerOf)) as readonly T[];
    const forceTag = forcesTag(call);
    const byTag = forceTag ? memo.forced : memo.tagged;
    let kept = byTag.get(tag);
    if (kept === undefined) {
      if (byTag.size >= 256) byTag.clear();
      kept = select(items, tag, forceTag, providerOf);
      byTag.set(tag, kept);
    }
    return kept as readonly T[];
  };
  const select = <T>(items: readonly T[], tag: string, forceTag: boolean, providerOf: (item: T) => Provider, explain?: (why: string) => void): readonly T[] => {
    const untagged = (item: T) => {
      const tags = tagsOf(providerOf(item));
      return tags.own === '' && tags.groups.length === 0;
    };
    if (tag === '') {
      const kept = keepOnly(items, untagged);
      if (kept.length === 0) explain?.('the call has no tag, and every provider is tagged (an untagged call goes only to untagged providers)');
      return kept;
    }
    const group = active === undefined ? undefined : selectGroup(tag, forceTag, (name) => {
      const candidate = groups.get(name);
      return candidate !== undefined && (candidate.addresses !== undefined || items.some((item) => tagsOf(providerOf(item)).groups.includes(name))) ? candidate : undefined;
    });
    let kept: readonly T[];
    if (group !== undefined) {
      kept = keepOnly(items, (item) => tagsOf(providerOf(item)).groups.includes(group.name));
      if (kept.length > 0) return kept;
      if (active!.force) {
        explain?.(`the tag rule's group "${group.name}" has none of the ${items.length} providers (force: true)`);
        return kept;
      }
    } else {
      kept = keepOnly(items, (item) => tagsOf(providerOf(item)).own === tag);
    }
    if (kept.length > 0) return kept;
    if (forceTag) {
      explain?.(`no provider has the tag "${tag}", and the call asks for it alone (${FORCE_TAG_KEY}: true)`);
      return kept;
    }
    const fallback = keepOnly(items, untagged);
    if (fallback.length === 0) explain?.(`no provider has the tag "${tag}", and every provider is tagged, so there is none to fall back to`);
    return fallback;
  };
  return {
    readsCallData: true,
    // The call's tag is metadata; the consumer's own tag is the same for every call.
    readsArguments: false,
    route: <T>(items: readonly T[], call: RoutingCall, providerOf: (item: T) => Provider = identity) => route(items, call, providerOf),
    explainEmpty<T>(items: readonly T[], call: RoutingCall, providerOf: (item: T) => Provider = identity): string | undefined {
      let reason: string | undefined;
      const tag = metadataText(call, TAG_KEY) || consumerField(call, TAG_KEY) || '';
      const routed = items.length === 0 ? items : select(items, tag, tag !== '' && forcesTag(call), providerOf, (why) => (reason = why));
      return routed.length === 0 ? (reason ?? 'there was no provider to route') : undefined;
    },
  };
}

function forcesTag(call: RoutingCall): boolean {
  return (metadataText(call, FORCE_TAG_KEY) || consumerField(call, FORCE_TAG_KEY) || '').toLowerCase() === 'true';
}

/** The group a tag selects: `a|b|c` tries `a|b|c`, `a|b`, then `a`, unless the call forces its tag. */
function selectGroup(tag: string, forceTag: boolean, defined: (name: string) => Group | undefined): Group | undefined {
  if (forceTag || !tag.includes('|')) return defined(tag);
  const levels = tag.split('|');
  for (let i = levels.length; i > 0; i--) {
    const group = defined(levels.slice(0, i).join('|'));
    if (group !== undefined) return group;
  }
  return undefined;
}

function isMember(group: Group, provider: Provider): boolean {
  if (group.addresses !== undefined) return group.addresses.some((test) => test(provider.host, provider.port));
  return group.match !== undefined && group.match.every(({ key, test }) => test(providerField(provider, key)));
}
