import type { Reference } from '../reference.js';
import type { MetricsRegistry } from '../observability/metrics/index.js';
import type { Channel, ChannelInfo } from '../transport/transport.js';
import type { AdminSources } from './sources.js';

/** What a client shows its admin listener; read anew for every request. */
export interface ClientView {
  readonly startedAt: number;
  references(): Iterable<Reference>;
  channels(): readonly Channel[];
  readonly metrics: MetricsRegistry | undefined;
  closed(): boolean;
}

/** The admin endpoints of a client: its metrics, the providers it sees, its connections. */
export function clientSources(view: ClientView): AdminSources {
  return {
    metrics: view.metrics === undefined ? undefined : () => view.metrics!.prometheusText(),
    health: () => (view.closed() ? { live: true, ready: false, reason: 'closed' } : { live: true, ready: true }),
    status: () => ({
      startedAt: new Date(view.startedAt).toISOString(),
      uptimeMs: Date.now() - view.startedAt,
      pid: process.pid,
      metrics: view.metrics !== undefined,
      references: [...view.references()].map((reference) => reference.definition.id),
    }),
    connections: () => ({ connections: view.channels().map(channelInfo) }),
    providers: () => ({ services: [...view.references()].map(describeReference) }),
  };
}

/** What a channel knows of itself; a channel of a transport that keeps no statistics says what it can. */
export function channelInfo(channel: Channel): ChannelInfo {
  return channel.info?.() ?? {
    address: channel.address,
    protocol: channel.address.slice(0, channel.address.indexOf(':')),
    state: channel.state,
    draining: channel.draining,
    bytesIn: 0,
    bytesOut: 0,
    calls: 0,
    active: 0,
  };
}

function describeReference(reference: Reference): unknown {
  return {
    service: reference.definition.id,
    providers: reference.directory.all().map((invoker) => {
      const { provider } = invoker;
      return {
        address: provider.address,
        protocol: provider.protocol,
        service: provider.service,
        weight: provider.weight,
        available: invoker.available,
        state: invoker.channel.state,
        draining: invoker.channel.draining,
        active: invoker.active,
        latencyEwmaMs: Math.round(invoker.latencyEwmaMs * 1000) / 1000,
        breakers: invoker.breakerStates(),
      };
    }),
  };
}
