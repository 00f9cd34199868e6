import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { withOwnMetadata } from '../core/client-call.js';
import { Code } from '../core/code.js';
import type { CallGate } from '../core/gate.js';
import type { Invocation } from '../core/invocation.js';
import type { MetadataValue } from '../core/metadata.js';
import type { Principal } from '../core/principal.js';
import { RpcError } from '../core/rpc-error.js';
import type { ServiceDefinition } from '../core/service.js';
import { TOKEN_PARAM } from '../registry/provider.js';

// Dubbo's provider token: a provider publishes a secret in its registry entry (`token=<value>`)
// and refuses every call that does not present it as the `token` metadata entry. A consumer that
// found the provider through the registry sends it; one that dials the address directly, bypassing
// the registry and whatever controls who may read it, does not know it. It is no authentication:
// whoever can read the registry can read the token (see docs/security.md, Registry trust).

/** The provider URL parameter and the request metadata key that carry the token. */
export { TOKEN_PARAM };

/**
 * The token a server publishes for its `token` option: `true` makes a random one for this server
 * (a new one on every start), a string is used as it is, `false` or undefined means none. A fixed
 * token must be printable ASCII, the form every transport carries as text metadata.
 */
export function providerToken(option: boolean | string | undefined): string | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return randomUUID();
  if (typeof option !== 'string' || !/^[\x21-\x7e]+$/.test(option)) {
    throw new RpcError(Code.INVALID_ARGUMENT, 'token must be true, false or a non-empty string of printable ASCII without spaces');
  }
  return option;
}

/**
 * The server's gate for its provider token: refuses with PERMISSION_DENIED a call whose `token`
 * metadata is missing or differs, before its arguments are decoded. It establishes no principal.
 */
export function tokenGate(token: string): CallGate {
  // Digests of equal length are compared, so that neither the comparison's time nor a length check
  // tells a caller how much of its guess was right, or how long the token is.
  const expected = digest(token);
  return {
    admit({ service, method, metadata }): Principal | undefined {
      const presented = metadata?.get(TOKEN_PARAM);
      if (presented === undefined) {
        throw refusal(`${target(service, method)} takes calls only from consumers that found its provider in the registry; the call carried no token`);
      }
      if (!timingSafeEqual(digest(presented), expected)) {
        throw refusal(`the token presented for ${target(service, method)} is not the one its provider published`);
      }
      return undefined;
    },
  };
}

/**
 * The call to send to one provider: `call` itself when the provider published no token, else a
 * view of it whose request metadata is a copy with the provider's `token` added. The caller's own
 * metadata is left as it was, so that a retry on another provider, or the calls a broadcast sends
 * at once, each carry their own provider's token and no other's.
 */
export function withProviderToken(call: Invocation, token: string | undefined): Invocation {
  if (token === undefined) return call;
  const sent = withOwnMetadata(call);
  sent.metadata.set(TOKEN_PARAM, token);
  return sent;
}

function digest(value: MetadataValue): Buffer {
  return createHash('sha256').update(value).digest();
}

function target(service: ServiceDefinition, method: string): string {
  return `${service.id}.${method}`;
}

function refusal(reason: string): RpcError {
  return new RpcError(Code.PERMISSION_DENIED, `invalid token: ${reason}`);
}
