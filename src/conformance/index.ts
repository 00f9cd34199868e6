import { after, before, describe, it } from 'node:test';
import { startFixture, type ConformanceTransport, type Fixture, type Row } from './fixture.js';
import { callRows } from './rows-calls.js';
import { streamRows } from './rows-streams.js';
import { requestStreamRows } from './rows-request-streams.js';
import { securityRows } from './rows-security.js';
import { observabilityRows } from './rows-observability.js';
import { valueRows } from './rows-values.js';
import { schemaRows } from './rows-schemas.js';

export type { ConformanceTransport } from './fixture.js';
export { conformanceServiceIds } from './service.js';
export { valueCases, valuesTableMarkdown, type ValueCase, type Outcome, type ValueColumn } from './values.js';

/** Every row of the table, in the order they run. */
export const conformanceRows: readonly Row[] = [...valueRows, ...callRows, ...streamRows, ...requestStreamRows, ...securityRows, ...observabilityRows, ...schemaRows];

/**
 * Registers the conformance table as node:test tests for one transport: the same behaviours,
 * checked the same way, on every transport. A test file runs it once per line of its table:
 *
 * ```ts
 * conformanceSuite({ name: 'tcp', listen: 'tcp://127.0.0.1:0' });
 * conformanceSuite({ name: 'amqp', listen: brokerAddress, values: 'msgpack',
 *   exceptions: { streams: 'AMQP carries no server streams' } });
 * ```
 *
 * Rows named in `exceptions` (or their group, the part of the name before the colon) are reported
 * as skipped with the reason; a name that matches no row is an error, so a renamed row cannot
 * leave a stale exception behind.
 */
export function conformanceSuite(transport: ConformanceTransport): void {
  describe(`conformance over ${transport.name}`, () => {
    checkNames(transport.exceptions, 'exceptions');
    checkNames(transport.todo, 'todo');
    let fixture: (Fixture & { close(): Promise<void> }) | undefined;
    before(async () => {
      await transport.before?.();
      fixture = await startFixture(transport);
    });
    after(async () => {
      await fixture?.close();
      await transport.after?.();
    });
    for (const row of conformanceRows) {
      const skip = lookUp(transport.exceptions, row.name);
      const todo = lookUp(transport.todo, row.name);
      it(row.name, { skip: skip ?? false, todo: todo ?? false, timeout: 60_000 }, async () => {
        if (fixture === undefined) throw new Error(`the ${transport.name} server did not start`);
        await row.run(fixture);
      });
    }
  });
}

function groupOf(name: string): string {
  return name.slice(0, name.indexOf(':'));
}

function lookUp(reasons: Readonly<Record<string, string>> | undefined, name: string): string | undefined {
  return reasons?.[name] ?? reasons?.[groupOf(name)];
}

function checkNames(reasons: Readonly<Record<string, string>> | undefined, what: string): void {
  const known = new Set(conformanceRows.flatMap((row) => [row.name, groupOf(row.name)]));
  for (const name of Object.keys(reasons ?? {})) {
    if (!known.has(name)) throw new Error(`${what} names ${JSON.stringify(name)}, which is no row or group of the conformance table`);
  }
}
