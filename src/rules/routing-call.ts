import type { Provider } from '../registry/provider.js';
import { ownParam } from './provider-fields.js';

/**
 * What condition and tag routing read of a call and of the consumer making it. The consumer's
 * fields stand for Dubbo's consumer URL: `host` and `application` are named, anything else a rule
 * may compare (`$region` after `=>`, `dubbo.tag` as the reference's default tag) is in
 * `consumerParams`.
 */
export interface RoutingCall {
  readonly method: string;
  readonly args?: readonly unknown[];
  /** The call's metadata (Dubbo's attachments): `Metadata` fits. */
  readonly metadata?: { get(key: string): string | Uint8Array | undefined };
  readonly consumerHost?: string;
  readonly consumerApplication?: string;
  readonly consumerParams?: Readonly<Record<string, string>>;
}

/**
 * A router made from one rule: narrows the providers of one call. Routers never add providers; they
 * return the list they were given when they change nothing, and an empty list when the call must fail.
 * What a router keeps of a list is remembered by the list's identity (weakly), so a list must not be
 * changed once routed (a directory replaces its lists when providers change), and the list returned
 * may be shared between calls: never modify it. `providerOf` must give the same answer for an item
 * every time.
 */
export interface Router {
  /** Routes a list of providers. */
  route(providers: readonly Provider[], call: RoutingCall): readonly Provider[];
  /** Routes a list of anything that holds a provider (a directory's invokers), without copying it to do so. */
  route<T>(items: readonly T[], call: RoutingCall, providerOf: (item: T) => Provider): readonly T[];
  /**
   * Why `route` returns nothing for this call, for the error it fails with; undefined when it does
   * not. Runs the routing again, so call it only when a call has no provider left.
   */
  explainEmpty<T>(items: readonly T[], call: RoutingCall, providerOf?: (item: T) => Provider): string | undefined;
  /**
   * Whether routing reads a call's arguments or metadata. When false, the result depends only on the
   * method and the providers, and may be cached per method until the providers or the rule change.
   */
  readonly readsCallData: boolean;
  /**
   * Whether routing reads a call's arguments, when it reads call data at all. False: it reads the
   * call's metadata alone, so the calls of a method that carry no metadata are all routed alike (and
   * may be cached per method). Undefined counts as true.
   */
  readonly readsArguments?: boolean;
}

/** A consumer's field by Dubbo's name for it, as a rule's `$reference` and `when` part read it. */
export function consumerField(call: RoutingCall, key: string): string | undefined {
  if (key === 'host') return call.consumerHost;
  if (key === 'application') return call.consumerApplication ?? ownParam(call.consumerParams, key);
  return ownParam(call.consumerParams, key);
}

/** A metadata value when it is text; binary values, and absent ones, are undefined. */
export function metadataText(call: RoutingCall, key: string): string | undefined {
  const value = call.metadata?.get(key);
  return typeof value === 'string' ? value : undefined;
}

export const identity = <T>(item: T): Provider => item as unknown as Provider;

/**
 * `items` without those `keep` refuses, or `items` itself when it keeps them all: routing that
 * changes nothing allocates nothing.
 */
export function keepOnly<T>(items: readonly T[], keep: (item: T) => boolean): readonly T[] {
  for (let i = 0; i < items.length; i++) {
    if (keep(items[i]!)) continue;
    const kept = items.slice(0, i);
    for (let j = i + 1; j < items.length; j++) if (keep(items[j]!)) kept.push(items[j]!);
    return kept;
  }
  return items;
}
