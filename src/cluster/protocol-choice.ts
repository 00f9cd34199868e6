import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import { logicalProviderId, type Provider } from '../registry/provider.js';

/** Protocols a client accepts, best first: one name (`'http'`) or several (`['grpc', 'http']`). */
export type ProtocolPreference = string | readonly string[];

/**
 * The order a client prefers a provider's protocols in when it is not told otherwise: the fastest
 * first. TCP frames msgpack over one long-lived connection; gRPC pays for HTTP/2 framing; HTTP
 * carries JSON text, bigger and slower to read, which cannot tell every value msgpack can (an
 * `undefined` field is dropped). Within each, the plaintext variant comes first for a client
 * without a `tls` option, since it has no CA of its own to trust a private one with (it still
 * uses a provider's TLS address, against Node's public CAs, where that is all it offers); a
 * client with a `tls` option prefers the TLS variant (`SECURE_PROTOCOL_ORDER`). Protocols not
 * listed (found only at fixed addresses, or announced by other tools) come after these.
 */
export const DEFAULT_PROTOCOL_ORDER: readonly string[] = ['tcp', 'tls', 'grpc', 'grpcs', 'http', 'https'];

/** The order of a client set up for TLS: each protocol's TLS variant before its plaintext one. */
export const SECURE_PROTOCOL_ORDER: readonly string[] = ['tls', 'tcp', 'grpcs', 'grpc', 'https', 'http'];

/**
 * Which address of each provider a client uses. A server on several protocols is one provider
 * whose entries share an instance id (see `logicalProviderId`); the client talks to it over one
 * protocol, so that a method's results always come back in the same form, and the balancer counts
 * the provider once.
 */
export class ProtocolChoice {
  /** The protocols asked for, best first; undefined when the client takes any. */
  readonly wanted: readonly string[] | undefined;

  private readonly order: readonly string[];

  /** `secureFirst`: the client has a `tls` option, so it prefers each protocol's TLS variant. */
  constructor(preference: ProtocolPreference | undefined, secureFirst = false) {
    this.wanted = preference === undefined ? undefined : protocolList(preference);
    this.order = this.wanted ?? (secureFirst ? SECURE_PROTOCOL_ORDER : DEFAULT_PROTOCOL_ORDER);
  }

  /** Whether entries of `protocol` may be used at all. */
  accepts(protocol: string): boolean {
    return this.wanted === undefined || this.wanted.includes(protocol);
  }

  /**
   * The chosen entry of every provider among `entries`, by logical provider id. Each provider's
   * best-ranked accepted protocol wins; between equally ranked entries (two listeners of one
   * protocol), the one at `current(id)` is kept so that a working connection is not dropped.
   */
  choose(entries: readonly Provider[], current: (id: string) => string | undefined): Map<string, Provider> {
    const chosen = new Map<string, Provider>();
    for (const entry of entries) {
      if (!this.accepts(entry.protocol)) continue;
      const id = logicalProviderId(entry);
      const best = chosen.get(id);
      if (best === undefined || this.isBetter(entry, best, current(id))) chosen.set(id, entry);
    }
    return chosen;
  }

  /** Why no provider serves a call, when some would but offer only protocols not asked for. */
  mismatch(service: string, offered: readonly string[]): RpcError {
    const wanted = this.wanted ?? [];
    const names = [...new Set(offered)].sort().join(', ');
    return new RpcError(Code.UNAVAILABLE, `no provider of ${service} offers protocol ${wanted.join(' or ')}; its providers offer ${names}`, { unprocessed: true });
  }

  private isBetter(entry: Provider, best: Provider, currentAddress: string | undefined): boolean {
    const rank = this.rank(entry.protocol);
    const bestRank = this.rank(best.protocol);
    if (rank !== bestRank) return rank < bestRank;
    if (best.address === currentAddress) return false;
    return entry.address === currentAddress || entry.address < best.address;
  }

  private rank(protocol: string): number {
    const order = this.order;
    const index = order.indexOf(protocol);
    return index === -1 ? order.length : index;
  }
}

/** The protocol names of a preference, in lower case; INVALID_ARGUMENT for anything else. */
export function protocolList(preference: ProtocolPreference): readonly string[] {
  const list: unknown[] = typeof preference === 'string' ? [preference] : Array.isArray(preference) ? [...preference] : [];
  // URL schemes are case-insensitive, and the URL parser gives them in lower case.
  if (list.length === 0 || !list.every((name) => typeof name === 'string' && /^[a-z][a-z0-9+.-]*$/i.test(name))) {
    throw new RpcError(Code.INVALID_ARGUMENT, `protocol must be a protocol name such as 'tcp', or a non-empty list of them; got ${JSON.stringify(preference)}`);
  }
  return (list as string[]).map((name) => name.toLowerCase());
}
