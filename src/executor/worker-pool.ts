import { Code } from '../core/code.js';
import type { Logger } from '../core/logger.js';
import { RpcError, errorMessage, fromWireError } from '../core/rpc-error.js';
import { workerLaunch } from './loader.js';
import { mergeMetadata, metadataPairs, type FromWorker } from './messages.js';
import { poolSettings, type WorkerPoolOptions } from './options.js';
import { PoolWorker, type PoolWorkerEvents, type PoolWorkerSettings } from './pool-worker.js';
import { implementationOf, serviceInfo, type WorkerImplementation } from './proxy.js';
import { Task, WorkerStream, type PoolRunOptions } from './task.js';

export interface WorkerPoolStats {
  size: number;
  /** Threads that exist, ready or starting. */
  threads: number;
  ready: number;
  busy: number;
  queued: number;
  /** Workers replaced after a crash or after ignoring a cancellation. */
  restarts: number;
}

/**
 * A pool of worker threads that serve one implementation module, so CPU-bound calls leave the
 * main thread's event loop free. A worker runs one call at a time; calls wait in a bounded queue.
 *
 * ```ts
 * const pool = new WorkerPool(new URL('./prime-impl.js', import.meta.url), { export: 'PrimeImpl', size: 2 });
 * server.provide(PrimeService, pool.implementation<Prime>());   // server.close() closes the pool
 * ```
 */
export class WorkerPool implements AsyncDisposable {
  readonly size: number;
  /** URL of the implementation module. */
  readonly module: string;
  private readonly maxQueue: number;
  private readonly cancelGraceMs: number;
  private readonly logger: Logger;
  private readonly settings: PoolWorkerSettings;
  private readonly events: PoolWorkerEvents;
  private readonly workers = new Set<PoolWorker>();
  private readonly queue: Task[] = [];
  private readonly running = new Map<number, Task>();
  private readonly respawns = new Set<NodeJS.Timeout>();
  private waiters: Array<{ resolve: () => void; reject: (error: RpcError) => void }> = [];
  private lastId = 0;
  private restarts = 0;
  private startFailures = 0;
  private startError: RpcError | undefined;
  private closed: Promise<void> | undefined;

  constructor(module: URL | string, options: WorkerPoolOptions = {}) {
    const settings = poolSettings(module, options);
    this.module = settings.module;
    this.size = settings.size;
    this.maxQueue = settings.maxQueue;
    this.cancelGraceMs = settings.cancelGraceMs;
    this.logger = settings.logger;
    this.settings = { launch: workerLaunch(options.execArgv), module: this.module, exportName: settings.exportName, init: options.init, resourceLimits: options.resourceLimits };
    this.events = {
      ready: () => this.onReady(),
      message: (worker, message) => this.onMessage(worker, message),
      exit: (worker, error) => this.onExit(worker, error),
    };
    try {
      for (let i = 0; i < this.size; i++) this.spawn();
    } catch (error) {
      for (const worker of this.workers) void worker.terminate();
      throw RpcError.from(error, Code.INVALID_ARGUMENT);
    }
  }

  /** Runs `method` of the implementation in a free worker, or queues it. */
  run(method: string, args: unknown[], options: PoolRunOptions = {}): Promise<unknown> {
    if (this.closed !== undefined) return Promise.reject(new RpcError(Code.UNAVAILABLE, 'the worker pool is closed', { unprocessed: true }));
    if (this.workers.size === 0 && this.startError !== undefined) return Promise.reject(this.cannotStart());
    const task = new Task(++this.lastId, method, args, options, (t, reason) => this.abort(t, reason));
    const refusal = task.refusal;
    const worker = refusal === undefined ? this.idleWorker() : undefined;
    if (refusal !== undefined) {
      this.drop(task, refusal);
    } else if (worker !== undefined) {
      this.start(task, worker);
    } else if (this.queue.length >= this.maxQueue) {
      const details = { size: this.size, maxQueue: this.maxQueue };
      this.drop(task, new RpcError(Code.RESOURCE_EXHAUSTED, `all ${this.size} workers are busy and ${this.maxQueue} calls wait`, { unprocessed: true, details }));
    } else {
      this.queue.push(task);
    }
    return task.promise;
  }

  /** An object whose every method runs in the pool: give it to `server.provide`. */
  implementation<T extends object = WorkerImplementation>(): T & AsyncDisposable {
    return implementationOf<T>(this);
  }

  /** Resolves once every worker has loaded the module; rejects if one cannot. */
  ready(): Promise<void> {
    if (this.closed !== undefined) return Promise.reject(new RpcError(Code.UNAVAILABLE, 'the worker pool is closed'));
    if (this.stats.ready === this.size) return Promise.resolve();
    if (this.workers.size === 0 && this.startError !== undefined) return Promise.reject(this.cannotStart());
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  get stats(): WorkerPoolStats {
    let ready = 0;
    let busy = 0;
    for (const worker of this.workers) {
      if (worker.state !== 'ready') continue;
      ready++;
      if (worker.taskId !== undefined) busy++;
    }
    return { size: this.size, threads: this.workers.size, ready, busy, queued: this.queue.length, restarts: this.restarts };
  }

  /** Terminates every worker. Queued calls fail with UNAVAILABLE (never run), running ones too. */
  close(): Promise<void> {
    if (this.closed !== undefined) return this.closed;
    for (const timer of this.respawns) clearTimeout(timer);
    this.respawns.clear();
    for (const task of this.queue.splice(0)) this.drop(task, new RpcError(Code.UNAVAILABLE, 'the worker pool closed before the call ran', { unprocessed: true }));
    for (const task of this.running.values()) this.drop(task, new RpcError(Code.UNAVAILABLE, 'the worker pool closed while the call ran'));
    this.running.clear();
    this.settleWaiters(new RpcError(Code.UNAVAILABLE, 'the worker pool closed'));
    this.closed = Promise.all([...this.workers].map((worker) => worker.terminate())).then(() => undefined);
    return this.closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private spawn(): void {
    const { launch } = this.settings;
    try {
      this.workers.add(new PoolWorker(this.settings, this.events));
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV' || !launch.derived) throw error;
      // Flags such as --max-old-space-size may not be given to a worker, only inherited.
      launch.execArgv = undefined;
      launch.derived = false;
      this.workers.add(new PoolWorker(this.settings, this.events));
    }
  }

  /** Starts a replacement; a worker that cannot even be created counts as one that failed to start. */
  private respawn(): void {
    if (this.closed !== undefined) return;
    try {
      this.spawn();
    } catch (error) {
      this.startFailed(RpcError.from(error, Code.INTERNAL));
    }
  }

  private idleWorker(): PoolWorker | undefined {
    for (const worker of this.workers) if (worker.idle) return worker;
    return undefined;
  }

  private start(task: Task, worker: PoolWorker): void {
    const { options } = task;
    const serviceId = options.service?.id;
    const service = options.service !== undefined && !worker.knownServices.has(options.service.id) ? serviceInfo(options.service) : undefined;
    try {
      worker.send({ t: 'call', id: task.id, method: task.method, args: task.args.map(detached), metadata: metadataPairs(options.metadata), deadline: options.deadline, oneWay: options.oneWay ?? false, serviceId, service });
    } catch (error) {
      this.drop(task, new RpcError(Code.INVALID_ARGUMENT, `the arguments of ${task.method} cannot be passed to a worker: ${errorMessage(error)}`));
      return;
    }
    if (service !== undefined) worker.knownServices.add(service.id);
    worker.taskId = task.id;
    task.worker = worker;
    this.running.set(task.id, task);
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const worker = this.idleWorker();
      if (worker === undefined) return;
      this.start(this.queue.shift()!, worker);
    }
  }

  /** Ends a call that no worker holds. */
  private drop(task: Task, error: RpcError): void {
    task.release();
    task.fail(error);
  }

  private abort(task: Task, reason: RpcError): void {
    const worker = task.worker;
    if (worker === undefined) {
      const at = this.queue.indexOf(task);
      if (at !== -1) this.queue.splice(at, 1);
      this.drop(task, reason);
      return;
    }
    if (worker.taskId !== task.id || task.graceTimer !== undefined) return;
    task.fail(reason);
    worker.cancel(task.id, reason);
    task.graceTimer = setTimeout(() => {
      if (worker.taskId !== task.id) return;
      this.logger.warn({ module: this.module, method: task.method, threadId: worker.threadId, graceMs: this.cancelGraceMs }, 'cancelled call still running; replacing its worker');
      void worker.terminate();
    }, this.cancelGraceMs).unref();
  }

  private onReady(): void {
    this.startFailures = 0;
    this.startError = undefined;
    if (this.stats.ready === this.size) this.settleWaiters(undefined);
    this.dispatch();
  }

  private onMessage(worker: PoolWorker, message: FromWorker): void {
    if (message.t === 'ready' || message.t === 'failed') return;
    const task = this.running.get(message.id);
    if (task === undefined || worker.taskId !== message.id) return;
    if (message.t === 'stream') {
      mergeMetadata(task.options.responseMetadata, message.metadata);
      task.stream = new WorkerStream((what) => {
        if (worker.taskId === task.id && worker.state === 'ready') worker.send({ t: what, id: task.id });
      });
      task.resolve(task.stream);
    } else if (message.t === 'item') {
      task.stream?.item(message.value);
    } else {
      worker.taskId = undefined;
      this.running.delete(task.id);
      task.release();
      mergeMetadata(task.options.responseMetadata, message.metadata);
      if (!message.ok) task.fail(fromWireError(message.error));
      else if (task.stream !== undefined) task.stream.end();
      else task.resolve(message.value);
      this.dispatch();
    }
  }

  private onExit(worker: PoolWorker, error: RpcError | undefined): void {
    this.workers.delete(worker);
    const task = worker.taskId === undefined ? undefined : this.running.get(worker.taskId);
    if (task !== undefined) {
      this.running.delete(task.id);
      const why = error?.message ?? 'it was terminated';
      this.drop(task, new RpcError(Code.INTERNAL, `the worker running ${task.method} crashed: ${why}`, { details: error?.details }));
    }
    if (this.closed !== undefined) return;
    if (error !== undefined && !worker.wasReady) {
      this.startFailed(error);
      return;
    }
    if (error !== undefined) this.logger.warn({ module: this.module, threadId: worker.threadId, error: error.message }, 'worker crashed; replacing it');
    this.restarts++;
    this.respawn();
  }

  private startFailed(error: RpcError): void {
    this.startFailures++;
    this.startError = error;
    this.logger.error({ module: this.module, error: error.message, failures: this.startFailures }, 'worker failed to start');
    this.settleWaiters(this.cannotStart());
    if (this.workers.size === 0) {
      for (const task of this.queue.splice(0)) this.drop(task, this.cannotStart());
    }
    const delay = Math.min(100 * 2 ** (this.startFailures - 1), 10_000);
    const timer = setTimeout(() => {
      this.respawns.delete(timer);
      this.respawn();
    }, delay).unref();
    this.respawns.add(timer);
  }

  private cannotStart(): RpcError {
    const error = this.startError;
    const why = error === undefined ? 'unknown error' : error.name === 'RpcError' ? error.message : `${error.name}: ${error.message}`;
    return new RpcError(Code.UNAVAILABLE, `the worker pool cannot start ${this.module}: ${why}`, { unprocessed: true });
  }

  private settleWaiters(error: RpcError | undefined): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) {
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
  }
}

/**
 * Runs an implementation in a pool of worker threads; the short form of `new WorkerPool(...).implementation()`.
 *
 * ```ts
 * server.provide(PrimeService, inWorkers(new URL('./prime-impl.js', import.meta.url), { export: 'PrimeImpl', size: 2 }));
 * ```
 */
export function inWorkers<T extends object = WorkerImplementation>(module: URL | string, options?: WorkerPoolOptions): T & AsyncDisposable {
  return new WorkerPool(module, options).implementation<T>();
}

/** A byte view into a larger buffer (as decoded arguments are) is copied, so the whole buffer is not cloned. */
function detached(arg: unknown): unknown {
  if (arg instanceof Uint8Array && arg.buffer instanceof ArrayBuffer && arg.byteLength < arg.buffer.byteLength) return new Uint8Array(arg);
  return arg;
}
