import { Worker, type ResourceLimits } from 'node:worker_threads';
import { Code } from '../core/code.js';
import { RpcError, fromWireError, toWireError } from '../core/rpc-error.js';
import type { WorkerLaunch } from './loader.js';
import { CANCEL_CODE, CANCEL_ID, type FromWorker, type ToWorker, type WorkerSetup } from './messages.js';

/** What a pool hears from one of its workers. */
export interface PoolWorkerEvents {
  ready(worker: PoolWorker): void;
  message(worker: PoolWorker, message: FromWorker): void;
  /**
   * The thread has ended. `error` says why when it was not asked to: an uncaught exception, an
   * exit, a module that failed to load (`worker.state` tells whether it was ever ready).
   */
  exit(worker: PoolWorker, error: RpcError | undefined): void;
}

export interface PoolWorkerSettings {
  launch: WorkerLaunch;
  module: string;
  exportName: string;
  init: unknown;
  resourceLimits: ResourceLimits | undefined;
}

/** One worker thread of a pool, seen from the pool's side. */
export class PoolWorker {
  state: 'starting' | 'ready' | 'exited' = 'starting';
  /** Whether it ever loaded the module and became ready. */
  wasReady = false;
  /** The call this worker runs (kept until the worker reports it done, even if the caller gave up). */
  taskId: number | undefined;
  /** Services whose description this worker already has. */
  readonly knownServices = new Set<string>();
  private readonly cancelFlag = new Int32Array(new SharedArrayBuffer(8));
  private readonly worker: Worker;
  private failure: RpcError | undefined;
  private terminating = false;

  constructor(settings: PoolWorkerSettings, private readonly events: PoolWorkerEvents) {
    const { launch } = settings;
    const setup: WorkerSetup = { module: settings.module, exportName: settings.exportName, init: settings.init, cancelFlag: this.cancelFlag.buffer as SharedArrayBuffer };
    this.worker = new Worker(launch.entry, {
      eval: launch.eval,
      execArgv: launch.execArgv,
      workerData: { ...setup, bootstrap: launch.bootstrap },
      resourceLimits: settings.resourceLimits,
    });
    this.worker.on('message', (message: FromWorker) => this.onMessage(message));
    this.worker.on('error', (error) => {
      const code = (error as { code?: unknown }).code;
      this.failure ??= new RpcError(Code.INTERNAL, `${error.name}: ${error.message}`, { details: typeof code === 'string' ? { code } : undefined });
    });
    this.worker.on('exit', (exitCode) => {
      this.state = 'exited';
      if (this.terminating) {
        this.events.exit(this, undefined);
        return;
      }
      const reason = this.failure ?? new RpcError(Code.INTERNAL, this.wasReady ? `worker exited with code ${exitCode}` : `worker exited with code ${exitCode} before it was ready`);
      this.events.exit(this, reason);
    });
  }

  get threadId(): number {
    return this.worker.threadId;
  }

  get idle(): boolean {
    return this.state === 'ready' && this.taskId === undefined;
  }

  /** Throws if the message cannot be cloned; nothing reaches the worker then. */
  send(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  /** Tells the running call it is cancelled: at once through shared memory, and by message for its signal. */
  cancel(id: number, reason: RpcError): void {
    if (this.taskId !== id || this.state !== 'ready') return;
    Atomics.store(this.cancelFlag, CANCEL_CODE, reason.code);
    Atomics.store(this.cancelFlag, CANCEL_ID, id);
    this.send({ t: 'cancel', id, error: toWireError(reason) });
  }

  /** Stops the thread, whatever it runs; resolves once it has exited. */
  async terminate(): Promise<void> {
    if (this.state === 'exited') return;
    this.terminating = true;
    await this.worker.terminate();
  }

  private onMessage(message: FromWorker): void {
    if (message.t === 'ready') {
      this.state = 'ready';
      this.wasReady = true;
      this.events.ready(this);
    } else if (message.t === 'failed') {
      this.failure = fromWireError(message.error);
      // the worker ends by itself; make sure it does
      void this.worker.terminate();
    } else {
      this.events.message(this, message);
    }
  }
}
