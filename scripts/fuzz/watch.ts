/**
 * Runs a target in a worker thread and watches it: an input that runs longer than `stuckMs` (a
 * loop that never ends, which no check inside the worker can catch) stops the worker and is
 * reported as a hang, with the index that makes the input again. A worker that runs out of heap
 * is reported as a crash.
 */
import { Worker } from 'node:worker_threads';
import { inputSeed, makeInput, Rng } from './mutator.js';
import { hex, type RunOptions, type RunStats } from './runner.js';
import { targets } from './targets.js';

export interface WorkerJob extends Omit<RunOptions, 'onInput'> {
  target: string;
  /** Int32 slots: INDEX, the input being run; PHASE, 0 while inputs run and 1 for the properties. */
  progress: SharedArrayBuffer;
}

export const INDEX = 0;
export const PHASE = 1;

export interface WatchOptions {
  /** An input still running after this long is a hang. */
  stuckMs: number;
  /** The fast-check properties of a target, all together, may take this long. */
  propertiesMs: number;
  /** Heap of the worker. */
  heapMb: number;
}

export function runInWorker(job: Omit<WorkerJob, 'progress'>, options: WatchOptions): Promise<RunStats> {
  const progress = new SharedArrayBuffer(8);
  const slots = new Int32Array(progress);
  // The worker is plain JavaScript that registers tsx, then loads worker.ts.
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ register }) => { register(); return import(${JSON.stringify(new URL('./worker.ts', import.meta.url).href)}); });`;
  const worker = new Worker(boot, { eval: true, workerData: { ...job, progress }, resourceLimits: { maxOldGenerationSizeMb: options.heapMb } });
  const started = performance.now();
  const failed = (kind: 'crash' | 'hang', message: string): RunStats => {
    const index = Atomics.load(slots, INDEX);
    const seed = inputSeed(job.seed, index);
    const input = hex(makeInput(targets.get(job.target)!, new Rng(seed)));
    return {
      target: job.target, inputs: index, crashes: kind === 'crash' ? 1 : 0, hangs: kind === 'hang' ? 1 : 0, slowestMs: NaN, slowestIndex: index,
      failures: [{ index, inputSeed: seed, kind, message, input }],
      propertyRuns: 0, propertyFailures: [], rssBefore: NaN, rssAfter: process.memoryUsage.rss(), rssPeak: NaN, ms: performance.now() - started,
    };
  };
  return new Promise((resolve) => {
    let last = -1;
    let since = Date.now();
    const timer = setInterval(() => {
      const index = Atomics.load(slots, INDEX);
      const phase = Atomics.load(slots, PHASE);
      if (index !== last) {
        last = index;
        since = Date.now();
        return;
      }
      const limit = phase === 1 ? options.propertiesMs : options.stuckMs;
      if (Date.now() - since > limit) {
        clearInterval(timer);
        void worker.terminate();
        resolve(failed('hang', phase === 1 ? `properties still running after ${limit} ms` : `input still running after ${limit} ms`));
      }
    }, 250);
    worker.once('message', (stats: RunStats) => {
      clearInterval(timer);
      void worker.terminate();
      resolve(stats);
    });
    worker.once('error', (error) => {
      clearInterval(timer);
      resolve(failed('crash', `worker failed: ${error.message}`));
    });
  });
}
