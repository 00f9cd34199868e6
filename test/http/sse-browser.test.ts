import assert from 'node:assert/strict';
import { createServer as createTcpServer, connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { createServer, defineService, resumeAfter } from '../../src/index.js';
import { onCleanup } from '../support/calculator.js';
import { withPage } from '../support/chromium.js';
import { startPageServer } from '../support/page-server.js';

interface Tick {
  seq: number;
}
interface Ticker {
  ticks(count: number): AsyncIterable<Tick>;
}
const TickerService = defineService<Ticker>('test.Ticker', {
  methods: { ticks: { stream: 'server', resumable: { idOf: (tick: Tick) => tick.seq }, http: { method: 'GET', path: '/ticks/{count}', params: ['count'] } } },
});

const COUNT = 60;
const CUT_AFTER = 20;

/** The page: an EventSource on the ticks of another origin; it reports every id it got, once the stream ends. */
function page(url: string): string {
  return `<!doctype html>
<html><body><pre id="results">pending</pre>
<script type="module">
const out = { ids: [], mismatched: [], opens: 0, connectionErrors: 0 };
const source = new EventSource(${JSON.stringify(url)});
source.onopen = () => { out.opens++; };
source.onmessage = (event) => {
  const id = Number(event.lastEventId);
  out.ids.push(id);
  if (JSON.parse(event.data).seq !== id) out.mismatched.push(id);
};
source.addEventListener('error', (event) => { if (!('data' in event)) out.connectionErrors++; });
source.addEventListener('end', async () => {
  source.close();   // else it would reconnect to an ended stream
  document.getElementById('results').textContent = JSON.stringify(out);
  await fetch('/report', { method: 'POST', body: JSON.stringify(out) });
});
</script>
</body></html>`;
}

describe('HTTP transport: server-sent events in a browser', () => {
  it('an EventSource on another origin resumes a cut stream with Last-Event-ID: no id lost, none twice', async (t) => {
    // The stream's server: one resumable method, a tick every 15 ms, reachable from the page's origin.
    const pageServer = await startPageServer(t);
    const pageOrigin = pageServer.origin;

    const resumedFrom: Array<string | undefined> = [];
    let produced = 0;
    const server = createServer({ registry: false, listen: [`http://127.0.0.1:0?cors=${pageOrigin}`] });
    server.provide(TickerService, {
      async *ticks(count) {
        const after = resumeAfter();
        resumedFrom.push(after);
        for (let seq = after === undefined ? 0 : Number(after) + 1; seq < count; seq++) {
          await sleep(15);
          produced++;
          yield { seq };
        }
      },
    });
    onCleanup(t, () => server.close({ timeoutMs: 2000 }));
    const [address] = await server.listen();

    // Between the page and the server, a TCP relay of the test's own, whose connections it cuts.
    const sockets = new Set<Socket>();
    const track = (socket: Socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.once('close', () => sockets.delete(socket));
    };
    const relay = createTcpServer((down) => {
      const up = connect(Number(new URL(address!).port), '127.0.0.1');
      track(down);
      track(up);
      down.pipe(up).pipe(down);
      down.once('close', () => up.destroy());
      up.once('close', () => down.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    onCleanup(t, () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      relay.close(() => resolve());
    }));
    const streamOrigin = `http://127.0.0.1:${(relay.address() as { port: number }).port}`;
    assert.notEqual(streamOrigin, pageOrigin);
    pageServer.html = page(`${streamOrigin}/ticks/${COUNT}`);

    let cut = false;
    const cutter = (async () => {
      while (produced < CUT_AFTER && !cut) await sleep(5);
      cut = true;
      for (const socket of sockets) socket.destroy();
    })();
    const shown = await withPage(`${pageOrigin}/`, pageServer.reported, 60_000);
    cut = true;
    await cutter;

    const results = JSON.parse(shown) as { ids: number[]; mismatched: number[]; opens: number; connectionErrors: number };
    t.diagnostic(`opens ${results.opens}, connection errors ${results.connectionErrors}, calls resumed from ${JSON.stringify(resumedFrom)}`);
    assert.deepEqual(results.ids, Array.from({ length: COUNT }, (_, i) => i), 'every id once, in order');
    assert.deepEqual(results.mismatched, []);
    assert.ok(results.opens >= 2 && results.connectionErrors >= 1, `the EventSource did not reconnect: ${shown}`);
    assert.equal(resumedFrom[0], undefined);
    assert.ok(resumedFrom.length >= 2, `the server saw ${resumedFrom.length} calls`);
    const resumed = Number(resumedFrom[1]);
    assert.ok(resumed >= 0 && resumed < COUNT - 1, `the reconnect resumed after ${resumedFrom[1]}`);
  });
});
