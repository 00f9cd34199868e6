/**
 * Runs one target in a worker thread (started by `runInWorker`), writing the index of the input
 * it runs to shared memory before each one, so that the main thread sees an input that never ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runTarget } from './runner.js';
import { targets } from './targets.js';
import { INDEX, PHASE, type WorkerJob } from './watch.js';

const job = workerData as WorkerJob;
const progress = new Int32Array(job.progress);
const stats = await runTarget(targets.get(job.target)!, {
  ...job,
  onInput: (index) => {
    Atomics.store(progress, INDEX, index);
    if (index === job.inputs - 1) Atomics.store(progress, PHASE, 1);
  },
});
parentPort!.postMessage(stats);
