import type { INestApplicationContext } from '@nestjs/common';

/**
 * The handle types of the standard streams. The applications of these tests open no pipe of their
 * own (their servers, clients and registry use TCP sockets, file watches and timers).
 */
const STANDARD_STREAMS = new Set(['PipeWrap', 'TTYWrap']);

/**
 * What a test application adds to Nest's own shutdown (`app.enableShutdownHooks()`):
 *
 * - Nest ends the process after its shutdown by sending itself the signal again. This listener takes
 *   that signal instead, so the process ends only when nothing is left open: its exit code 0 says
 *   that the shutdown released everything, where an open handle would keep it running.
 * - It also closes the application when its stdin ends, so that it never outlives the test's process.
 * - As it exits it prints `exit: nothing left open`, or `exit: still open: <types>`: what an exit
 *   forced with `process.exit()` (as Nest's when its shutdown fails) left behind.
 */
export function closeWithTheTest(app: INestApplicationContext): void {
  process.on('SIGTERM', () => {});
  process.stdin.once('end', () => void app.close());
  process.stdin.resume();
  process.stdin.unref(); // read while the application runs, without keeping it running
  process.once('exit', () => {
    const open = process.getActiveResourcesInfo().filter((type) => !STANDARD_STREAMS.has(type));
    process.stdout.write(`exit: ${open.length === 0 ? 'nothing left open' : `still open: ${open.join(', ')}`}\n`);
  });
}
