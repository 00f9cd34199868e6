import type { Http2Session } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { Principal } from '../../core/principal.js';
import { certificatePrincipal } from '../tls/peer.js';

const peers = new WeakMap<Http2Session, Principal | undefined>();

/** The identity of a `grpcs://` client's certificate, worked out once per connection; undefined on plaintext. */
export function sessionPeer(session: Http2Session | undefined): Principal | undefined {
  if (session === undefined || (session.socket as { encrypted?: boolean } | null)?.encrypted !== true) return undefined;
  if (!peers.has(session)) peers.set(session, certificatePrincipal(session.socket as TLSSocket));
  return peers.get(session);
}
