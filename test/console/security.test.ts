// Who may use the console: the token (bearer header or login cookie), the loopback rule without one,
// and the checks that keep other web pages from using a logged-in browser.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { startConsole } from '../../src/console/index.js';
import { Code } from '../../src/core/code.js';
import { TOKEN, ask, bearer, openRegistry, pageChange, startProvider, startTestConsole, stateWhen, tempRegistry } from './support.js';

const assets = new URL('../../src/console/assets/', import.meta.url);

function cookieOf(setCookie: string | string[] | undefined): string {
  const line = (Array.isArray(setCookie) ? setCookie[0] : setCookie) ?? '';
  return line.split(';')[0]!;
}

async function login(console: { url: string }, token: string, headers: Record<string, string> = {}) {
  return ask(console as never, '/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams({ token }).toString() });
}

describe('console security', () => {
  it('with a token: nothing but the page without it; a bearer header or the login cookie opens the API', async (t) => {
    const spec = await tempRegistry(t);
    const console = await startTestConsole(t, spec, { token: TOKEN });
    assert.equal((await ask(console, '/')).status, 200, 'the page itself holds no data');
    assert.equal((await ask(console, '/api/state')).status, 401);
    assert.equal((await ask(console, '/api/state', { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status, 401);
    assert.equal((await ask(console, '/api/state', { headers: bearer })).status, 200);

    const refused = await login(console, 'not the token at all');
    assert.equal(refused.status, 303);
    assert.equal(refused.headers.location, '/?login=failed');
    assert.equal(refused.headers['set-cookie'], undefined);

    const accepted = await login(console, TOKEN);
    assert.equal(accepted.status, 303);
    assert.equal(accepted.headers.location, '/');
    const setCookie = String(accepted.headers['set-cookie']);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    assert.match(setCookie, /Path=\//);
    const cookie = cookieOf(accepted.headers['set-cookie']);
    assert.ok(!cookie.includes(TOKEN), 'the cookie is a session of its own, not the token');
    assert.equal((await ask(console, '/api/state', { headers: { cookie } })).status, 200);

    const logout = await ask(console, '/logout', { method: 'POST', headers: { cookie } });
    assert.equal(logout.status, 303);
    assert.equal((await ask(console, '/api/state', { headers: { cookie } })).status, 401, 'the session ended');
  });

  it('a change needs the bearer header, or the cookie with the console\'s own header, and no other origin', async (t) => {
    const spec = await tempRegistry(t);
    const a = await startProvider(t, spec);
    const console = await startTestConsole(t, spec, { token: TOKEN });
    await stateWhen(console, (s) => s.services[0]?.providers.length === 1);
    const cookie = cookieOf((await login(console, TOKEN)).headers['set-cookie']);
    const disable = { action: 'disable', service: { name: 'demo.Calculator', version: '1.0.0' }, address: a.hostPort };
    const post = (headers: Record<string, string>, body: unknown = disable) => ask(console, '/api/action', { method: 'POST', headers, body });

    assert.equal((await post({ cookie })).status, 403, 'a cookie alone could be a forged cross-site request');
    assert.equal((await post({ cookie, ...pageChange, origin: 'http://evil.example' })).status, 403);
    assert.equal((await post({ cookie, ...pageChange, 'sec-fetch-site': 'cross-site' })).status, 403);
    const form = await ask(console, '/api/action', { method: 'POST', headers: { cookie, ...pageChange, 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=disable' });
    assert.equal(form.status, 400, 'only JSON bodies, which a form cannot send');
    assert.deepEqual(await openRegistry(t, spec).rules.list(), [], 'nothing refused was written');

    assert.equal((await post({ cookie, ...pageChange, 'sec-fetch-site': 'same-origin' })).status, 200);
    assert.equal((await post(bearer)).status, 200, 'a script with the token needs no more');
    assert.equal((await login(console, TOKEN, { origin: 'http://evil.example' })).status, 403, 'no login posted from another site');
  });

  it('wrong tokens are counted: after ten in a minute, even the right one is refused for a while', async (t) => {
    const spec = await tempRegistry(t);
    const console = await startTestConsole(t, spec, { token: TOKEN });
    for (let i = 0; i < 10; i++) assert.equal((await ask(console, '/api/state', { headers: { authorization: `Bearer guess-${i}-0123456789` } })).status, 401);
    assert.equal((await ask(console, '/api/state', { headers: bearer })).status, 401);
    assert.equal((await login(console, TOKEN)).headers.location, '/?login=failed');
  });

  it('without a token: loopback only, and only to a loopback host name (no DNS rebinding); changes still need the console\'s header', async (t) => {
    const spec = await tempRegistry(t);
    const registry = openRegistry(t, spec);
    await assert.rejects(startConsole({ registry, registryName: spec, listen: '0.0.0.0:0' }), (error: { code?: number }) => error.code === Code.INVALID_ARGUMENT);
    const console = await startTestConsole(t, spec, { registry });
    assert.equal((await ask(console, '/api/state')).status, 200);
    const port = new URL(console.url).port;
    assert.equal((await ask(console, '/api/state', { headers: { host: `localhost:${port}` } })).status, 200);
    assert.equal((await ask(console, '/api/state', { headers: { host: `evil.example:${port}` } })).status, 421);
    assert.equal((await ask(console, '/', { headers: { host: `evil.example:${port}` } })).status, 421);
    const check = { kind: 'tag-router', text: 'tags: [{ name: gray }]' };
    assert.equal((await ask(console, '/api/check', { method: 'POST', body: check })).status, 403);
    assert.equal((await ask(console, '/api/check', { method: 'POST', headers: pageChange, body: check })).status, 200);
  });

  it('the page: a strict content security policy, no framing, and a script that writes only text', async (t) => {
    const spec = await tempRegistry(t);
    const console = await startTestConsole(t, spec, { token: TOKEN });
    assert.equal((await ask(console, '/', { headers: { 'sec-fetch-site': 'cross-site' } })).status, 200, 'a link from elsewhere opens the page');
    const page = await ask(console, '/');
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    assert.doesNotMatch(String(page.headers['content-security-policy']), /unsafe-inline|unsafe-eval/);
    assert.equal(page.headers['x-frame-options'], 'DENY');
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.equal((await ask(console, '/console.js')).headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal((await ask(console, '/../package.json')).status, 404);
    const script = await readFile(new URL('console.js', assets), 'utf8');
    assert.doesNotMatch(script, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/, 'everything shown is set as text');
    let size = 0;
    for (const file of ['index.html', 'console.js', 'console.css']) size += (await readFile(new URL(file, assets))).length;
    t.diagnostic(`page bundle: ${size} bytes (index.html, console.js, console.css)`);
    assert.ok(size < 50 * 1024, `the page is ${size} bytes`);
  });
});
