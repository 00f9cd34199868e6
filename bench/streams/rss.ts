/** The resident set size of another process, read from outside so that a busy process is sampled on time. */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** RSS of `pid` in bytes: /proc/<pid>/status on Linux, `ps` elsewhere. */
export async function rssOf(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kib = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    if (kib !== undefined) return Number(kib) * 1024;
  } catch {
    // no /proc: ask ps
  }
  const { stdout } = await run('ps', ['-o', 'rss=', '-p', String(pid)]);
  return Number(stdout.trim()) * 1024;
}

/** Max, first and last RSS of one process over a run. */
export class RssTrack {
  start = 0;
  max = 0;
  end = 0;

  constructor(readonly pid: number) {}

  async sample(): Promise<number> {
    const rss = await rssOf(this.pid);
    if (this.start === 0) this.start = rss;
    this.max = Math.max(this.max, rss);
    this.end = rss;
    return rss;
  }
}
