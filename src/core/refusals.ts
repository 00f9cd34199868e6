import type { Logger } from './logger.js';

/**
 * The limits that protect a server process, each named as the option that sets it
 * (docs/security.md, Limits). A server counts every connection, request or message one of them
 * refused.
 */
export const LIMIT_NAMES = [
  'maxConnections',
  'maxConnectionsPerAddress',
  'handshakeTimeoutMs',
  'firstRequestTimeoutMs',
  'maxMetadataEntries',
  'maxMetadataBytes',
  'maxDecodeDepth',
  'maxDecodeItems',
  'maxDecompressionRatio',
] as const;

export type LimitName = (typeof LIMIT_NAMES)[number];

/** How many times each limit refused something since the server was made. */
export type RefusalCounts = Readonly<Record<LimitName, number>>;

/** A flood of refusals writes one warning per limit and interval, not one per refusal. */
export const REFUSAL_LOG_INTERVAL_MS = 10_000;

/**
 * Counts what a server's limits refuse, by limit name, and says so in its log: the first refusal
 * of a limit at once, later ones at most once per interval, with how many there were since.
 *
 * ```ts
 * refusals.refuse('maxConnectionsPerAddress', { remote: '203.0.113.7' });
 * refusals.counts().maxConnectionsPerAddress; // 1
 * ```
 */
export class Refusals {
  private readonly counted = zeroCounts();
  /** Per limit: when it was last logged, and its count then. */
  private readonly lastLog = new Map<LimitName, { at: number; count: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly logIntervalMs = REFUSAL_LOG_INTERVAL_MS,
  ) {}

  /** Counts one refusal by `limit`; `detail` (the remote address, the sizes) goes into the log line. */
  refuse(limit: LimitName, detail?: Record<string, unknown>): void {
    const count = ++this.counted[limit];
    const now = Date.now();
    const last = this.lastLog.get(limit);
    if (last !== undefined && now - last.at < this.logIntervalMs) return;
    this.lastLog.set(limit, { at: now, count });
    this.logger.warn({ limit, refused: count - (last?.count ?? 0), total: count, ...detail }, `refused by limit ${limit}`);
  }

  /** A copy of the counts, every limit named (0 for those that refused nothing). */
  counts(): RefusalCounts {
    return { ...this.counted };
  }
}

function zeroCounts(): Record<LimitName, number> {
  const counts = {} as Record<LimitName, number>;
  for (const name of LIMIT_NAMES) counts[name] = 0;
  return counts;
}
