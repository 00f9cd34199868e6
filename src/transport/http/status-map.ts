import { Code, codeName } from '../../core/code.js';

/**
 * The one table between call codes and HTTP statuses. A server answers a failed call with the
 * first status of its code's row; a client reading a status without a Switchyard error body takes
 * the code of the row that lists it. Rows are read top down, so a status listed twice (500) means
 * the first row's code. The error body's own `code` always wins over the status.
 */
const table: ReadonlyArray<readonly [Code, number, ...number[]]> = [
  [Code.OK, 200, 201, 202, 204],
  [Code.INVALID_ARGUMENT, 400, 415],
  [Code.UNAUTHENTICATED, 401],
  [Code.PERMISSION_DENIED, 403],
  [Code.NOT_FOUND, 404],
  [Code.FAILED_PRECONDITION, 412],
  [Code.RESOURCE_EXHAUSTED, 429, 413, 431],
  [Code.CANCELLED, 499],
  [Code.INTERNAL, 500],
  [Code.UNKNOWN, 500],
  [Code.UNIMPLEMENTED, 501, 405],
  [Code.UNAVAILABLE, 503, 502],
  [Code.DEADLINE_EXCEEDED, 504, 408],
];

const statusByCode = new Map<number, number>();
const codeByStatus = new Map<number, Code>();
for (const [code, status, ...received] of table) {
  statusByCode.set(code, status);
  for (const each of [status, ...received]) if (!codeByStatus.has(each)) codeByStatus.set(each, code);
}

/** The HTTP status a server answers a failed call with: never a success, so OK and unknown codes are 500. */
export function statusOf(code: Code): number {
  return code === Code.OK ? 500 : (statusByCode.get(code) ?? 500);
}

/** The code a client reads from a status alone; statuses in no row mean UNKNOWN. */
export function codeOf(status: number): Code {
  return codeByStatus.get(status) ?? Code.UNKNOWN;
}

/** The table as rows of `[code name, status sent, statuses also read as that code]`, for docs and tests. */
export function statusTable(): Array<[string, number, number[]]> {
  return table.map(([code, status, ...received]) => [codeName(code), status, received]);
}
