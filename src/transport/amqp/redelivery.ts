import type { ConsumeMessage, Options } from 'amqplib';
import { expirationOf } from './message.js';

/**
 * Requests whose handling was interrupted. The broker gives back every request a server held
 * unacknowledged when its connection ended (a crash, a kill, a lost network), marked
 * `redelivered`; run blindly, a request that crashes its server would go from server to server.
 *
 * A request runs at most once if its method is not idempotent, and at most twice if it is. The
 * service queues are classic queues, which only flag a redelivery and keep whatever headers a
 * publisher set (so an `x-delivery-count` in a request proves nothing). An idempotent request met
 * with the flag is not run from that delivery: a copy carrying `:retried` (runs started before it)
 * goes to the back of its queue, the original is acknowledged once the broker confirms the copy,
 * and the copy runs. A publisher can only make its own request look further along, never less.
 * A copy that comes back redelivered has used up its runs. Requests that may not run again are
 * dead-lettered (rejected without requeue) and answered with an error.
 *
 * A delivery cut off before its handler started is counted too: nothing tells it apart.
 */

export const RETRIED_HEADER = ':retried';

/** Runs a request may have: one more after an interruption for an idempotent method. */
export function allowedRuns(idempotent: boolean | undefined): number {
  return idempotent === true ? 2 : 1;
}

/** How many runs of this request may have started before this delivery. */
export function earlierRuns(redelivered: boolean, headers: Record<string, unknown> | undefined): number {
  const runs = headers === undefined ? 0 : count(headers[RETRIED_HEADER]);
  return redelivered ? runs + 1 : runs;
}

/** The properties of the counted copy of `message`, which `earlier` runs preceded. */
export function copyProperties(message: ConsumeMessage, headers: Record<string, unknown> | undefined, deadline: number | undefined, earlier: number): Options.Publish {
  const p = message.properties;
  return {
    headers: { ...headers, [RETRIED_HEADER]: earlier },
    contentType: p.contentType as string | undefined,
    contentEncoding: p.contentEncoding as string | undefined,
    type: p.type as string | undefined,
    correlationId: p.correlationId as string | undefined,
    replyTo: p.replyTo as string | undefined,
    messageId: p.messageId as string | undefined,
    timestamp: p.timestamp as number | undefined,
    appId: p.appId as string | undefined,
    priority: p.priority as number | undefined,
    // The time left, not the original time to live, when the deadline is known.
    expiration: deadline === undefined ? (p.expiration as string | undefined) : expirationOf(deadline - Date.now()),
  };
}

function count(value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'bigint' || typeof value === 'string' ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}
