import { setTimeout as sleep } from 'node:timers/promises';
import type { HostProcess, Message, Testbed } from '../support/testbed.js';
import type { EnsembleWorld, ProviderNode } from './ensemble-world.js';

/** What one ensemble failure did to the consumer and the registry, as measured. */
export interface FailureFigures {
  readonly scenario: string;
  /** The servers taken away, with their role before: `zk2 (leader)`. */
  readonly taken: string;
  readonly calls: number;
  readonly failed: number;
  readonly failures: readonly string[];
  /** From the fault until the servers left serve under one leader. */
  readonly quorumMs: number;
  /** From the fault until the consumer's session was connected again; undefined when it never lost it. */
  readonly consumerReconnectMs?: number;
  /** From the fault until a provider started after it had registered, until the consumer listed it, and until it first called it. */
  readonly registeredMs: number;
  readonly listedMs: number;
  readonly calledMs: number;
  /** From the SIGKILL of a provider (once the failover was over) until the consumer no longer listed it. */
  readonly removedMs: number;
  /** Sessions of the consumer or the providers that expired during the scenario (new sessions). */
  readonly expired: number;
  /** Providers alive throughout that the consumer stopped listing at some point: lost ephemeral nodes. */
  readonly lostProviders: readonly string[];
  /** The ZooKeeper connection events of every client from the fault on, `+ms who event`, for failure messages. */
  readonly timeline: string;
}

/** Where things stand before a fault: the leader, and the server each client's session is on. */
export interface Layout {
  readonly leader: number;
  readonly modes: ReadonlyMap<number, string>;
  readonly consumer?: number;
  readonly providers: ReadonlyMap<ProviderNode, number | undefined>;
}

/** A failure of the ensemble: which servers it takes away, how, and how it is undone. */
export interface EnsembleFault {
  readonly name: string;
  /** The ids of the servers the failure will take away (none for the healthy baseline). */
  choose(layout: Layout): number[];
  strike(world: EnsembleWorld, bed: Testbed, ids: readonly number[]): Promise<void>;
  heal(world: EnsembleWorld, bed: Testbed, ids: readonly number[]): Promise<void>;
}

export const healthy: EnsembleFault = {
  name: 'healthy (no failure)',
  choose: () => [],
  strike: async () => {},
  heal: async () => {},
};

export const leaderKilled: EnsembleFault = {
  name: 'leader SIGKILLed',
  choose: (layout) => [layout.leader],
  async strike(world, _bed, ids) {
    for (const id of ids) await world.ensemble.kill(id);
  },
  async heal(world, _bed, ids) {
    for (const id of ids) await world.ensemble.restart(id);
  },
};

async function partition(world: EnsembleWorld, bed: Testbed, ids: readonly number[]): Promise<void> {
  for (const id of ids) await bed.blackhole(world.ensemble.server(id).host);
}

async function unpartition(world: EnsembleWorld, bed: Testbed, ids: readonly number[]): Promise<void> {
  for (const id of ids) await bed.heal(world.ensemble.server(id).host);
  await world.ensemble.untilServing();
}

export const followerPartitioned: EnsembleFault = {
  name: 'follower blackholed',
  choose(layout) {
    const followers = [...layout.modes].filter(([, mode]) => mode === 'follower').map(([id]) => id);
    const providersOn = [...layout.providers.values()];
    // The most telling follower holds a provider's session but not the consumer's (that is the next scenario).
    return [followers.find((id) => id !== layout.consumer && providersOn.includes(id)) ?? followers.find((id) => id !== layout.consumer) ?? followers[0]!];
  },
  strike: partition,
  heal: unpartition,
};

export const consumersServerGone: EnsembleFault = {
  name: "consumer's server blackholed",
  choose(layout) {
    if (layout.consumer === undefined) throw new Error('no ZooKeeper server lists a connection of the consumer');
    return [layout.consumer];
  },
  strike: partition,
  heal: unpartition,
};

/** The leader and where every session is; asks again for a while if a client is between servers. */
async function layoutOf(world: EnsembleWorld): Promise<Layout> {
  const clients = [world.consumer.host.address, ...world.live.map((provider) => provider.process.host.address)];
  for (let attempt = 0; ; attempt++) {
    const [modes, where] = await Promise.all([world.ensemble.modes(), world.ensemble.connections()]);
    const leader = [...modes].find(([, mode]) => mode === 'leader')?.[0];
    if ((leader !== undefined && clients.every((address) => where.has(address))) || attempt >= 20) {
      if (leader === undefined) throw new Error(`the ensemble has no leader: ${[...modes].join(' ')}`);
      return {
        leader,
        modes,
        consumer: where.get(world.consumer.host.address),
        providers: new Map(world.live.map((provider) => [provider, where.get(provider.process.host.address)])),
      };
    }
    await sleep(250);
  }
}

const zooKeeperEvent = (event: string, since: number) => (message: Message) =>
  message.type === 'zookeeper' && message.event === event && Number(message.at) >= since;

/**
 * Runs calls through the consumer while `fault` strikes; registers a new provider right after it
 * and, once the failover is over, SIGKILLs a provider (one whose session was on a server taken
 * away, if any); then heals, unless told not to. `timeoutMs` bounds each wait.
 */
export async function runFailure(world: EnsembleWorld, bed: Testbed, fault: EnsembleFault, { timeoutMs = 30_000, heal = true } = {}): Promise<FailureFigures> {
  const spare = await world.spare();
  const layout = await layoutOf(world);
  const taken = fault.choose(layout);
  const consumerFrom = world.consumer.messages.length;
  await world.consumer.request({ cmd: 'start' });
  await sleep(300);

  const faultAt = Date.now();
  await fault.strike(world, bed, taken);
  const quorum = world.ensemble.untilServing(taken, timeoutMs).then(() => Date.now() - faultAt);
  const registeredAt = await world.register(spare);
  const quorumMs = await quorum;
  // The spare of the next scenario starts while this one runs.
  world.prepareSpare();

  // Who lost the connection: the clients of a server taken away (told once they notice its silence),
  // and any other client told so by now (followers stop serving while the ensemble has no leader).
  const disconnected = (process: HostProcess) => process.messages.some(zooKeeperEvent('disconnected', faultAt));
  const onTaken = (id: number | undefined) => id !== undefined && taken.includes(id);
  const affected = [...layout.providers].filter(([provider, id]) => onTaken(id) || disconnected(provider.process)).map(([provider]) => provider);
  const victim = [...layout.providers].find(([, id]) => onTaken(id))?.[0] ?? [...layout.providers.keys()][0]!;
  const consumerLost = onTaken(layout.consumer) || disconnected(world.consumer);
  // The failover is over when every client that lost its server has its session back.
  const reconnected = consumerLost ? await world.consumer.waitFor(zooKeeperEvent('connected', faultAt), timeoutMs, 'the consumer to reconnect', consumerFrom) : undefined;
  for (const provider of affected) await provider.process.waitFor(zooKeeperEvent('connected', faultAt), timeoutMs, `${provider.label} to reconnect`);
  const listed = await world.listed([spare.address!], consumerFrom, timeoutMs);
  const called = await world.consumer.waitFor((message) => message.type === 'first' && message.label === spare.label, timeoutMs, `a call answered by ${spare.label}`);

  const killFrom = world.consumer.messages.length;
  const killedAt = Date.now();
  victim.process.kill('SIGKILL');
  const removed = await world.unlisted(victim.address!, killFrom, timeoutMs);
  const stats = await world.consumer.request({ cmd: 'stop' }, timeoutMs);
  // The last failure of a run may be left in place: the teardown removes it with the rest.
  if (heal) await fault.heal(world, bed, taken);

  const survivors = world.live.map((provider) => provider.address!).filter((address) => address !== spare.address);
  const directory = world.consumer.messages.slice(consumerFrom).filter((message) => message.type === 'providers' && Number(message.at) < killedAt);
  const lostProviders = survivors.filter((address) => directory.some((message) => !(message.addresses as string[]).includes(address)));
  const clients = [world.consumer, ...world.providers.map((provider) => provider.process)];
  const expired = clients.flatMap((process) => process.messages.filter(zooKeeperEvent('expired', faultAt))).length;
  const timeline = clients.flatMap((process) => process.messages
    .filter((message) => message.type === 'zookeeper' && Number(message.at) >= faultAt)
    .map((message) => ({ at: Number(message.at) - faultAt, text: `${process.label} ${String(message.event)} ${String(message.server ?? message.sessionId ?? '')}`.trimEnd() })))
    .sort((a, b) => a.at - b.at).map((entry) => `+${entry.at} ${entry.text}`).join('; ');
  return {
    scenario: fault.name,
    taken: taken.map((id) => `${world.ensemble.server(id).host.name} (${layout.modes.get(id)})`).join(', ') || 'none',
    calls: Number(stats.calls),
    failed: Number(stats.failed),
    failures: stats.firstFailures as string[],
    quorumMs,
    consumerReconnectMs: reconnected ? Number(reconnected.at) - faultAt : undefined,
    registeredMs: registeredAt - faultAt,
    listedMs: Number(listed.at) - faultAt,
    calledMs: Number(called.at) - faultAt,
    removedMs: Number(removed.at) - killedAt,
    expired,
    lostProviders,
    timeline: `${timeline}; +${killedAt - faultAt} ${victim.label} SIGKILLed`,
  };
}

/**
 * By when the consumer must list the provider registered right after a failure, in ms from it: within
 * the session timeout, as ZooKeeper's own clients bound it (a silent server is left after two thirds
 * of it, and another tried at once); or, when the servers left took longer than that to elect a
 * leader (nothing is written without one), soon after they serve again, as a status poll saw it.
 */
export function listedByMs(figures: FailureFigures, sessionTimeoutMs: number): number {
  return Math.max(sessionTimeoutMs, figures.quorumMs + sessionTimeoutMs / 8);
}

/** Times in ms from the fault, but the last one, from the kill of a provider. */
export const failureTableHead = ['failure', 'server taken', 'calls', 'failed', 'quorum back', 'consumer reconnected', 'new provider registered',
  'listed by consumer', 'first called', 'killed provider dropped', 'sessions expired'];

export function failureRow(figures: FailureFigures): Array<string | number | undefined> {
  return [figures.scenario, figures.taken, figures.calls, figures.failed, figures.quorumMs, figures.consumerReconnectMs, figures.registeredMs,
    figures.listedMs, figures.calledMs, figures.removedMs, figures.expired];
}
