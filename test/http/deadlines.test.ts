import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, type RpcError } from '../../src/index.js';
import { postJson, startHttpClient, startHttpServer } from '../support/http.js';

const DAY = 24 * 60 * 60 * 1000;

describe('HTTP transport: deadlines beyond what setTimeout holds (2^31 ms, 24.8 days)', () => {
  it('a 30-day and an infinite timeoutMs let a 100 ms call finish, on client and server', async (t) => {
    const { address, log } = await startHttpServer(t);
    const { calc } = startHttpClient(t, address);
    assert.equal(await calc.slow.with({ timeoutMs: 30 * DAY })(100), 100);
    assert.equal(await calc.slow.with({ timeoutMs: Infinity })(100), 100);
    assert.equal(await calc.slow.with({ deadline: Date.now() + 100 * 365 * DAY })(100), 100);
    const [thirtyDays, infinite, century] = log.slow;
    assert.ok(thirtyDays!.deadline! > Date.now() + 29 * DAY, 'the server got the 30-day deadline');
    assert.equal(infinite!.deadline, undefined);
    // sent as the longest timeout the header holds, about 31 years
    assert.ok(century!.deadline! > Date.now() + 30 * 365 * DAY);
    assert.ok(log.slow.every((run) => run.finished && !run.aborted));
  });

  it('the server honours a 30-day timeout header from any HTTP client', async (t) => {
    const { address, log } = await startHttpServer(t);
    const res = await postJson(address, '/demo.Calculator/slow', [100], { 'x-switchyard-timeout-ms': String(30 * DAY) });
    assert.equal(res.status, 200);
    assert.equal(res.json, 100);
    const longest = await postJson(address, '/demo.Calculator/slow', [100], { 'x-switchyard-timeout-ms': '999999999999' });
    assert.equal(longest.status, 200);
    assert.equal(log.slow.filter((run) => run.aborted).length, 0);
  });

  it('a short deadline still fails the call with DEADLINE_EXCEEDED on both sides', async (t) => {
    const { address, log } = await startHttpServer(t);
    const { calc } = startHttpClient(t, address);
    await assert.rejects(calc.slow.with({ timeoutMs: 100 })(5000), (error: RpcError) => error.code === Code.DEADLINE_EXCEEDED);
    const res = await postJson(address, '/demo.Calculator/slow', [5000], { 'x-switchyard-timeout-ms': '100' });
    assert.equal(res.status, 504);
    assert.equal(log.slow.length, 2);
  });
});
