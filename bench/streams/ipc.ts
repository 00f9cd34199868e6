/** The child's side of the IPC channel of the stream benchmarks (see child.ts for the orchestrator's). */
import type { ErrorReport } from '../child.js';

/** Sends a report; `R` is the child's own union of reports, so each one is checked against it. */
export function report<R extends { type: string }>(message: R): void {
  process.send!(message);
}

/**
 * Reports `error` and exits. The status code travels with it (an `RpcError`'s, or a grpc-js
 * `ServiceError`'s: both are gRPC codes), so the orchestrator can tell "not supported" from a failure.
 */
export function fail(error: unknown): void {
  const code = (error as { code?: unknown } | null)?.code;
  const failure: ErrorReport = { type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  if (typeof code === 'number') failure.code = code;
  report(failure);
  // Give the IPC message a moment to leave before the process goes.
  setTimeout(() => process.exit(1), 100);
}

/** Runs `handle` for each command from the orchestrator; what it throws is reported by `fail`. */
export function onCommand<C>(handle: (command: C) => Promise<void>): void {
  process.on('message', (command: C) => {
    handle(command).catch(fail);
  });
}

/** Resolves with `work`, or after `ms` if it takes longer: shutdown must not hang on a stuck peer. */
export function atMost(ms: number, work: Promise<unknown>): Promise<unknown> {
  return Promise.race([work.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, ms).unref())]);
}

/** What every child does first: report failures, and leave when the orchestrator goes. */
export function startChild(entry: string): void {
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  process.on('disconnect', () => process.exit(1));
  if (process.send === undefined) {
    console.error(`${entry} is started by its benchmark, not by hand`);
    process.exit(2);
  }
}
