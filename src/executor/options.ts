import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import { Code } from '../core/code.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { RpcError } from '../core/rpc-error.js';

export interface WorkerPoolOptions {
  /** The export the workers serve: a class (one instance per worker, made with `new X(init)`) or an object. Default `'default'`. */
  export?: string;
  /** Worker threads. Default: available cores − 1, at least 1. */
  size?: number;
  /** Calls that may wait for a free worker; beyond it calls fail at once with RESOURCE_EXHAUSTED. Default 64. */
  maxQueue?: number;
  /** Given (structured-cloned) to the exported class's constructor in each worker. */
  init?: unknown;
  /** How long a cancelled call may keep its worker before the worker is terminated and replaced. Default 1000 ms. */
  cancelGraceMs?: number;
  /** Node flags of the workers. Default: this process's (under tsx, each worker registers tsx itself). */
  execArgv?: string[];
  /** Heap limits of each worker; a worker that runs out is replaced and its call fails with INTERNAL. */
  resourceLimits?: ResourceLimits;
  /** Where worker crashes and restarts are reported. Default: silent. */
  logger?: Logger;
}

/** Defaults of `WorkerPoolOptions`. */
export const workerPoolDefaults = {
  export: 'default',
  size: (): number => Math.max(1, availableParallelism() - 1),
  maxQueue: 64,
  cancelGraceMs: 1000,
};

/** The options of a pool, checked, with the defaults filled in. */
export function poolSettings(module: URL | string, options: WorkerPoolOptions) {
  return {
    module: moduleUrl(module),
    exportName: options.export ?? workerPoolDefaults.export,
    size: count('size', options.size ?? workerPoolDefaults.size(), 1),
    maxQueue: count('maxQueue', options.maxQueue ?? workerPoolDefaults.maxQueue, 0),
    cancelGraceMs: count('cancelGraceMs', options.cancelGraceMs ?? workerPoolDefaults.cancelGraceMs, 0),
    logger: options.logger ?? silentLogger,
  };
}

function moduleUrl(module: URL | string): string {
  const text = module instanceof URL ? module.href : module;
  if (text.startsWith('file:')) return text;
  if (typeof module === 'string' && isAbsolute(module)) return pathToFileURL(module).href;
  throw new RpcError(Code.INVALID_ARGUMENT, `worker module ${JSON.stringify(text)} must be a file URL or an absolute path, e.g. new URL('./impl.js', import.meta.url)`);
}

function count(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new RpcError(Code.INVALID_ARGUMENT, `worker pool option ${name} must be an integer ≥ ${min}, not ${value}`);
  return value;
}
