import assert from 'node:assert/strict';
import test, { type TestContext } from 'node:test';
import { createClient, createServer, MetricsRegistry, type ServerOptions } from '../../src/index.js';
import { CalculatorService, calculatorImpl, newLog, onCleanup } from '../support/calculator.js';
import { prometheusUnavailable, startPrometheus } from '../support/prometheus.js';

// Installing Prometheus (apt-get) on a clean machine takes ~15 s; starting it well under a second.
const SETUP_TIMEOUT_MS = 360_000;

/** A Calculator server with metrics and an admin listener, and a client of it; both closed when the test ends. */
async function calculatorWithAdmin(t: TestContext, options: Partial<ServerOptions> = {}) {
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false, admin: 'http://127.0.0.1:0', metrics: new MetricsRegistry(), ...options });
  server.provide(CalculatorService, calculatorImpl(newLog()));
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  const client = createClient({ url: address!, credentials: 'scraper-token' });
  onCleanup(t, () => client.close());
  return { admin: server.adminAddress!, calc: client.proxy(CalculatorService) };
}

test('a real Prometheus scrapes a server\'s admin listener and its query API returns the calls the test made', { timeout: SETUP_TIMEOUT_MS }, async (t) => {
  const unavailable = await prometheusUnavailable();
  if (unavailable !== undefined) {
    t.skip(`Prometheus cannot be installed here: ${unavailable}`);
    return;
  }
  const { admin, calc } = await calculatorWithAdmin(t);
  const prometheus = await startPrometheus({ targets: [admin] });
  t.after(() => prometheus.stop());

  for (let i = 0; i < 3; i++) await calc.add(i, i);
  await assert.rejects(calc.divide(1, 0));
  const service = CalculatorService.id;
  await prometheus.until(`sum(switchyard_server_calls_total{service="${service}",method="add",code="OK"})`, 3);
  await prometheus.until('sum(switchyard_server_calls_total{code="INVALID_ARGUMENT"})', 1);
  await prometheus.until(`sum(switchyard_server_call_duration_seconds_count{service="${service}",method="add"})`, 3);
  // The scrape itself succeeded: Prometheus records `up` 1 for the admin listener.
  assert.equal(await prometheus.query(`up{instance="${new URL(admin).host}"}`), 1);

  // Later calls show in a later scrape.
  for (let i = 0; i < 2; i++) await calc.add(i, i);
  await prometheus.until('sum(switchyard_server_calls_total{method="add"})', 5);
});

test('Prometheus scrapes an admin listener under the server\'s own auth with a bearer token; without one the scrape is refused', { timeout: SETUP_TIMEOUT_MS }, async (t) => {
  const unavailable = await prometheusUnavailable();
  if (unavailable !== undefined) {
    t.skip(`Prometheus cannot be installed here: ${unavailable}`);
    return;
  }
  const auth = { tokens: { 'scraper-token': { id: 'prometheus', roles: ['metrics'] } }, policy: { 'switchyard.Admin': { roles: ['metrics'] }, [CalculatorService.key.name]: { roles: ['metrics'] } } };
  const { admin, calc } = await calculatorWithAdmin(t, { auth });
  for (let i = 0; i < 7; i++) await calc.add(i, i);
  const withToken = await startPrometheus({ targets: [admin], bearerToken: 'scraper-token' });
  t.after(() => withToken.stop());
  const without = await startPrometheus({ targets: [admin] });
  t.after(() => without.stop());

  await withToken.until('sum(switchyard_server_calls_total{method="add"})', 7);
  await without.until('up', 0);
  assert.equal(await without.query('switchyard_server_calls_total'), undefined);
});
