/**
 * Status codes of a call. The numbers are gRPC's, so a code keeps its meaning on every
 * transport, including gRPC itself.
 */
export const Code = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export type Code = (typeof Code)[keyof typeof Code];

const names = new Map<number, string>(Object.entries(Code).map(([name, value]) => [value, name]));

/** The name of a code, e.g. `codeName(5) === 'NOT_FOUND'`. */
export function codeName(code: number): string {
  return names.get(code) ?? `CODE_${code}`;
}

/** Whether a number received from a peer is one of the codes above. */
export function isCode(value: unknown): value is Code {
  return typeof value === 'number' && names.has(value);
}
