import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const CHROMIUM = '/usr/bin/chromium';

/** Debian's Chromium, installed with apt-get if it is missing (needs root). */
export async function ensureChromium(): Promise<string> {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  // The project's installer queues behind any other test installing a package meanwhile.
  await promisify(execFile)('bash', [fileURLToPath(new URL('../../scripts/apt-install.sh', import.meta.url)), 'chromium'], { timeout: 600_000 });
  if (!existsSync(CHROMIUM)) throw new Error('apt-get install chromium did not install /usr/bin/chromium');
  return CHROMIUM;
}

/**
 * Opens `url` in headless Chromium (fresh profile, no background networking) and waits for
 * `done`, which the caller settles when the page reports back. The browser and every process it
 * started are then killed, whatever happened, and the profile is removed.
 */
export async function withPage<T>(url: string, done: Promise<T>, timeoutMs = 30_000): Promise<T> {
  const chromium = await ensureChromium();
  const profile = await mkdtemp(join(tmpdir(), 'switchyard-chromium-'));
  const child = spawn(chromium, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-dev-shm-usage', `--user-data-dir=${profile}`, url,
  ], { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: { ...process.env, TMPDIR: profile } }); // its temp files go with the profile
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      done,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the page did not report within ${timeoutMs} ms; chromium stderr: ${stderr}`)), timeoutMs);
      }),
      exited.then(() => {
        throw new Error(`chromium exited before the page reported; stderr: ${stderr}`);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    // Chromium's own process group: the browser, its zygote and renderers.
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await exited;
    await rm(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}
