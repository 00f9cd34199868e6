// Headless Chromium driven through the DevTools protocol over a pipe (--remote-debugging-pipe: JSON
// messages separated by NUL on file descriptors 3 and 4), so a test can type, click, read the page
// and take screenshots with no driver package. Chromium comes from test/support/chromium.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { TestContext } from 'node:test';
import { onCleanup } from '../support/calculator.js';
import { ensureChromium } from '../support/chromium.js';

type Params = Record<string, unknown>;
interface Message { id?: number; method?: string; params?: Params; result?: Params; error?: { message: string }; sessionId?: string }

/** One page (tab) of the browser. */
export interface Page {
  /** Loads `url` and waits for its load event. */
  goto(url: string): Promise<void>;
  /** The value of `expression` (awaited if it is a promise), as JSON. Throws what the page threw. */
  evaluate<T = unknown>(expression: string): Promise<T>;
  /** Asks `expression` every 100 ms until it is truthy; its value. */
  waitFor<T = unknown>(expression: string, timeoutMs?: number): Promise<T>;
  /** Types `text` into the focused element, as a keyboard would. */
  type(text: string): Promise<void>;
  /** A PNG of the viewport, or of the box of the element `selector` finds. */
  screenshot(selector?: string): Promise<Buffer>;
  /** Resolves at the next load event (a form submitted, a link followed). */
  nextLoad(): Promise<void>;
}

/** Starts Chromium with one page of `width` x `height`; killed, with its profile removed, when the test ends. */
export async function openPage(t: TestContext, width = 1280, height = 800): Promise<Page> {
  const chromium = await ensureChromium();
  const profile = await mkdtemp(join(tmpdir(), 'switchyard-chromium-'));
  const child = spawn(chromium, [
    '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--hide-scrollbars',
    '--remote-debugging-pipe', `--user-data-dir=${profile}`, 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], detached: true, env: { ...process.env, TMPDIR: profile } });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  onCleanup(t, async () => {
    kill(child);
    await exited;
    await rm(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });
  const devtools = new DevTools(child.stdio[3] as Writable, child.stdio[4] as Readable, child);
  const targets = await devtools.send('Target.getTargets') as { targetInfos: Array<{ targetId: string; type: string }> };
  const target = targets.targetInfos.find((info) => info.type === 'page');
  if (target === undefined) throw new Error('chromium opened no page');
  const { sessionId } = await devtools.send('Target.attachToTarget', { targetId: target.targetId, flatten: true }) as { sessionId: string };
  const send = (method: string, params: Params = {}) => devtools.send(method, params, sessionId);
  await send('Page.enable');
  await send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });

  const nextLoad = () => devtools.once('Page.loadEventFired', sessionId);
  const evaluate = async <T>(expression: string): Promise<T> => {
    const answer = await send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }) as { result: { value?: unknown }; exceptionDetails?: { exception?: { description?: string }; text?: string } };
    if (answer.exceptionDetails !== undefined) throw new Error(`the page threw: ${answer.exceptionDetails.exception?.description ?? answer.exceptionDetails.text}`);
    return answer.result.value as T;
  };
  return {
    async goto(url) {
      const loaded = nextLoad();
      await send('Page.navigate', { url });
      await loaded;
    },
    evaluate,
    async waitFor<T>(expression: string, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const value = await evaluate<T>(expression);
        if (value) return value;
        if (Date.now() > until) throw new Error(`the page did not come to ${expression} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async type(text) {
      await send('Input.insertText', { text });
    },
    async screenshot(selector) {
      let clip: Params | undefined;
      if (selector !== undefined) {
        const box = await evaluate<{ x: number; y: number; width: number; height: number } | null>(`(() => {
          const box = document.querySelector(${JSON.stringify(selector)})?.getBoundingClientRect();
          return box && { x: box.x + scrollX, y: box.y + scrollY, width: box.width, height: box.height };
        })()`);
        if (box === null) throw new Error(`nothing on the page matches ${selector}`);
        clip = { ...box, scale: 1 };
      }
      const { data } = await send('Page.captureScreenshot', { format: 'png', ...(clip === undefined ? {} : { clip, captureBeyondViewport: true }) }) as { data: string };
      return Buffer.from(data, 'base64');
    },
    nextLoad,
  };
}

/** The protocol's two pipes: commands by id, answers and events back. */
class DevTools {
  #next = 1;
  readonly #pending = new Map<number, { resolve: (result: Params) => void; reject: (error: Error) => void; method: string }>();
  readonly #waiters = new Set<{ method: string; sessionId?: string; resolve: () => void }>();
  #buffered = '';
  #gone?: Error;

  constructor(private readonly input: Writable, output: Readable, child: ChildProcess) {
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => this.#read(chunk));
    input.on('error', () => {});
    child.once('exit', () => this.#fail(new Error('chromium exited')));
  }

  send(method: string, params: Params = {}, sessionId?: string): Promise<Params> {
    if (this.#gone !== undefined) return Promise.reject(this.#gone);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, method });
      this.input.write(`${JSON.stringify({ id, method, params, ...(sessionId === undefined ? {} : { sessionId }) })}\0`);
    });
  }

  /** Resolves at the next event `method` (of `sessionId`). */
  once(method: string, sessionId?: string): Promise<void> {
    return new Promise((resolve) => this.#waiters.add({ method, sessionId, resolve }));
  }

  #read(chunk: string): void {
    this.#buffered += chunk;
    let end: number;
    while ((end = this.#buffered.indexOf('\0')) >= 0) {
      const message = JSON.parse(this.#buffered.slice(0, end)) as Message;
      this.#buffered = this.#buffered.slice(end + 1);
      if (message.id !== undefined) {
        const pending = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.error !== undefined) pending?.reject(new Error(`${pending.method}: ${message.error.message}`));
        else pending?.resolve(message.result ?? {});
      } else {
        for (const waiter of this.#waiters) {
          if (waiter.method !== message.method || (waiter.sessionId !== undefined && waiter.sessionId !== message.sessionId)) continue;
          this.#waiters.delete(waiter);
          waiter.resolve();
        }
      }
    }
  }

  #fail(error: Error): void {
    this.#gone = error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}

/** Chromium's own process group: the browser, its zygote and renderers. */
function kill(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
