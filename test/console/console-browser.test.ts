// The console in headless Chromium: log in with the token, see the providers and their rates, see a
// hostile registry entry shown as text, disable a provider from the page, and see the calls move
// away from it. Screenshots go to a temp folder the test prints.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseProviderUrl } from '../../src/registry/provider.js';
import { serviceRuleKey } from '../../src/rules/store-keys.js';
import { CalculatorService } from '../support/calculator.js';
import { openPage, type Page } from './devtools.js';
import { TOKEN, callInLoop, openRegistry, startConsumer, startProvider, startTestConsole, tempRegistry } from './support.js';

const HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';

/** What the page shows in a provider's row, read from the page itself. */
function rowOf(page: Page, address: string): Promise<{ state: string; calls: number; rate: string; p99: string; toggle: string } | null> {
  return page.evaluate(`(() => {
    const row = [...document.querySelectorAll('tr[data-provider]')].find((tr) => tr.querySelector('td.address')?.textContent === ${JSON.stringify(address)});
    if (!row) return null;
    const text = (name) => row.querySelector('td.' + name).textContent;
    return { state: text('state'), calls: Number(text('calls')), rate: text('calls-s'), p99: text('p99-ms'), toggle: row.querySelector('button.toggle').textContent };
  })()`);
}

describe('console in a browser', () => {
  it('log in, read providers and rates, show hostile values as text, disable a provider and watch its calls stop', async (t) => {
    const spec = await tempRegistry(t);
    const a = await startProvider(t, spec);
    const b = await startProvider(t, spec);
    // The calling client has an admin listener, given to the console: its breakers show per provider.
    const consumer = startConsumer(t, spec, { admin: 'http://127.0.0.1:0', circuitBreaker: { minimumCalls: 1000 } });
    const loop = callInLoop(t, consumer.calc);
    const console = await startTestConsole(t, spec, { token: TOKEN, intervalMs: 500, admins: [await consumer.client.admin()] });
    const shots = await mkdtemp(join(tmpdir(), 'switchyard-console-screens-'));
    t.diagnostic(`screenshots: ${shots}`);
    const page = await openPage(t, 1400, 700);

    // Logged out, the page offers the login form and nothing else.
    await page.goto(console.url);
    await page.waitFor(`!document.getElementById('login').hidden`);
    assert.equal(await page.evaluate(`document.querySelectorAll('tr[data-provider]').length`), 0);
    await page.evaluate(`document.getElementById('token').focus()`);
    await page.type(TOKEN);
    const loggedIn = page.nextLoad();
    await page.evaluate(`document.getElementById('login-button').click()`);
    await loggedIn;

    // Both providers, with calls counted by their admin listeners and a rate over the last interval.
    for (const provider of [a, b]) {
      await page.waitFor(`(() => {
        const row = [...document.querySelectorAll('tr[data-provider]')].find((tr) => tr.querySelector('td.address')?.textContent === ${JSON.stringify(provider.address)});
        return row && Number(row.querySelector('td.calls').textContent) > 0 && row.querySelector('td.calls-s').textContent !== '-'
          && row.querySelector('td.p99-ms').textContent !== '-' && row.querySelector('td.breakers').textContent === 'add: CLOSED';
      })()`);
      const row = await rowOf(page, provider.address);
      assert.equal(row?.state, 'enabled');
      assert.equal(row?.toggle, 'Disable');
      assert.match(row!.rate, /^\d+(\.\d)?$/);
    }
    assert.equal(await page.evaluate(`document.getElementById('login').hidden`), true);
    await writeFile(join(shots, 'console-providers.png'), await page.screenshot());
    await writeFile(join(shots, 'console-rates.png'), await page.screenshot('section[data-service="demo.Calculator"] table.providers'));

    // A registry entry is anyone's to write: its parameters are shown as text, and nothing of it runs.
    const hostile = openRegistry(t, spec);
    await hostile.register(parseProviderUrl(`tcp://127.0.0.1:9/demo.Hostile?methods=x&note=${encodeURIComponent(HOSTILE)}`));
    const shown = await page.waitFor<string>(`document.querySelector('section[data-service="demo.Hostile"] td.parameters pre')?.textContent`);
    assert.ok(shown.includes(`note=${HOSTILE}`), shown);
    assert.equal(await page.evaluate(`window.__pwned`), undefined);
    assert.equal(await page.evaluate(`document.querySelectorAll('img').length`), 0);
    assert.equal(await page.evaluate(`document.querySelectorAll('script').length`), 1);

    // Disable A from the page: the configurators document in the registry says so, and the row too.
    await page.evaluate(`[...document.querySelectorAll('tr[data-provider]')].find((tr) => tr.querySelector('td.address').textContent === ${JSON.stringify(a.address)}).querySelector('button.toggle').click()`);
    await page.waitFor(`document.getElementById('message').textContent.startsWith('disable: wrote')`);
    const stored = await openRegistry(t, spec).rules.get({ key: serviceRuleKey(CalculatorService.key), kind: 'configurators' });
    assert.match(stored ?? '', new RegExp(`providerAddresses: \\[ ${a.hostPort.replaceAll('.', '\\.')} \\]`));
    assert.match(stored ?? '', /disabled: true/);
    await page.waitFor(`(() => {
      const row = [...document.querySelectorAll('tr[data-provider]')].find((tr) => tr.querySelector('td.address').textContent === ${JSON.stringify(a.address)});
      return row.querySelector('td.state').textContent === 'disabled by rule' && row.querySelector('button.toggle').textContent === 'Enable';
    })()`);

    // The rule reaches the client, which stops choosing A: A's count, read from the page, then holds
    // still for three seconds while B's grows.
    const until = Date.now() + 20_000;
    let settled = false;
    while (!settled && Date.now() < until) {
      const [a1, b1] = [await rowOf(page, a.address), await rowOf(page, b.address)];
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const [a2, b2] = [await rowOf(page, a.address), await rowOf(page, b.address)];
      settled = a1!.calls === a2!.calls && b2!.calls > b1!.calls;
    }
    assert.ok(settled, `A still took calls (or B none) 20 s after it was disabled; the client made ${loop.calls()} calls, ${loop.failures()} failed`);
    assert.equal(loop.failures(), 0);
    await writeFile(join(shots, 'console-disabled.png'), await page.screenshot('section[data-service="demo.Calculator"]'));
  });
});
