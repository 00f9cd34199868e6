import { Code } from '../core/code.js';
import type { Invocation } from '../core/invocation.js';
import { RpcError } from '../core/rpc-error.js';
import type { Channel } from '../transport/transport.js';
import type { LoadBalancer } from './load-balancer.js';

/**
 * Sends a call through the balancer's pick and, when it fails in a way that proves no server ran it,
 * tries another provider, up to `retries` more times and never past the call's deadline.
 */
export async function failover(
  call: Invocation,
  channels: readonly Channel[],
  balancer: LoadBalancer,
  send: (channel: Channel) => Promise<unknown>,
  retries: number,
): Promise<unknown> {
  if (channels.length === 1) return send(channels[0]!);
  const tried = new Set<Channel>();
  let lastError: RpcError | undefined;
  for (let attempt = 0; attempt <= retries; attempt++) {
    const candidates = usable(channels, tried);
    if (candidates.length === 0) break;
    const channel = balancer.select(candidates, call);
    tried.add(channel);
    try {
      return await send(channel);
    } catch (error) {
      lastError = RpcError.from(error);
      if (!lastError.unprocessed || call.signal?.aborted) throw lastError;
      if (call.deadline !== undefined && Date.now() >= call.deadline) throw lastError;
    }
  }
  throw lastError ?? new RpcError(Code.UNAVAILABLE, `no provider available for ${call.service.id}`, { unprocessed: true });
}

/** Providers not yet tried for this call; those known to be down only when nothing else is left. */
function usable(channels: readonly Channel[], tried: Set<Channel>): Channel[] {
  const fresh = channels.filter((channel) => !tried.has(channel) && channel.state !== 'SHUTDOWN');
  const healthy = fresh.filter((channel) => channel.state !== 'TRANSIENT_FAILURE');
  return healthy.length > 0 ? healthy : fresh;
}
