/**
 * The `grpc-timeout` header: at most 8 digits and a unit (`H` hours, `M` minutes, `S` seconds,
 * `m` milliseconds, `u` microseconds, `n` nanoseconds), e.g. `250m`.
 */

const MAX_VALUE = 99_999_999;
const unitMs: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };
const format = /^(\d{1,8})([HMSmun])$/;

/** The header value for `ms` milliseconds left, in the finest unit whose value fits in 8 digits. */
export function formatTimeout(ms: number): string {
  const millis = Math.max(1, Math.ceil(ms));
  if (millis <= MAX_VALUE) return `${millis}m`;
  const seconds = Math.ceil(millis / 1000);
  if (seconds <= MAX_VALUE) return `${seconds}S`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes <= MAX_VALUE) return `${minutes}M`;
  return `${Math.min(MAX_VALUE, Math.ceil(minutes / 60))}H`;
}

/** Milliseconds the header grants, or undefined when it is malformed. */
export function parseTimeout(value: string): number | undefined {
  const match = format.exec(value);
  if (match === null) return undefined;
  return Number(match[1]) * unitMs[match[2]!]!;
}
