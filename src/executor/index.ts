export { WorkerPool, inWorkers, type WorkerPoolStats } from './worker-pool.js';
export { workerPoolDefaults, type WorkerPoolOptions } from './options.js';
export { type PoolRunOptions } from './task.js';
export { type WorkerImplementation } from './proxy.js';
export { WorkerCall, workerCall } from './worker-call.js';
