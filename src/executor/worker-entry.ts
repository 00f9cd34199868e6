/**
 * What each pool worker runs: loads the implementation module, then serves the pool's calls one at
 * a time. Started by `PoolWorker`; not meant to be imported.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Code } from '../core/code.js';
import { Metadata } from '../core/metadata.js';
import { RpcError, errorMessage, fromWireError } from '../core/rpc-error.js';
import { runAsCurrent } from '../core/server-call.js';
import { defineService, type ServiceDefinition } from '../core/service.js';
import { metadataPairs, wireErrorOf, type FromWorker, type ServiceInfo, type ToWorker, type WorkerSetup } from './messages.js';
import { WorkerCall, setWorkerCall } from './worker-call.js';
import { isAsyncIterable } from '../core/async-iterable.js';

/** The call this worker runs, and the iterator of its result if that is a stream. */
interface Running {
  call: WorkerCall;
  iterator?: AsyncIterator<unknown>;
  pulling: boolean;
  /** The pool asked the stream to stop, or cancelled it. */
  ending: boolean;
}

const port = parentPort!;
const setup = workerData as WorkerSetup;
const cancelFlag = new Int32Array(setup.cancelFlag);
const services = new Map<string, ServiceDefinition>();
// Calls made with pool.run() and no service.
const anonymous = defineService<object>('worker', { methods: {} });
let running: Running | undefined;

function post(message: FromWorker): void {
  port.postMessage(message);
}

async function load(): Promise<object> {
  const namespace = (await import(setup.module)) as Record<string, unknown>;
  if (!Object.hasOwn(namespace, setup.exportName)) {
    const names = Object.keys(namespace).join(', ') || 'nothing';
    throw new RpcError(Code.FAILED_PRECONDITION, `${setup.module} has no export ${JSON.stringify(setup.exportName)} (it exports ${names})`);
  }
  const exported = namespace[setup.exportName];
  if (typeof exported === 'function') return new (exported as new (init: unknown) => object)(setup.init);
  if (typeof exported === 'object' && exported !== null) return exported;
  throw new RpcError(Code.FAILED_PRECONDITION, `export ${JSON.stringify(setup.exportName)} of ${setup.module} is neither a class nor an object`);
}

function serviceOf(id: string | undefined, info: ServiceInfo | undefined): ServiceDefinition {
  if (info !== undefined) {
    const methods: ReadonlyMap<string, object> = new Map(info.methods);
    services.set(info.id, Object.freeze({ key: Object.freeze(info.key), id: info.id, methods }));
  }
  return (id === undefined ? undefined : services.get(id)) ?? anonymous;
}

function methodOf(implementation: object, method: string): (...args: unknown[]) => unknown {
  const fn = (implementation as Record<string, unknown>)[method];
  if (typeof fn !== 'function' || method in Object.prototype) {
    throw new RpcError(Code.UNIMPLEMENTED, `the worker implementation has no method ${JSON.stringify(method)}`);
  }
  return fn as (...args: unknown[]) => unknown;
}


async function start(implementation: object, message: Extract<ToWorker, { t: 'call' }>): Promise<void> {
  const metadata = message.metadata === undefined ? new Metadata() : Metadata.unchecked(message.metadata);
  const service = serviceOf(message.serviceId, message.service);
  const call = new WorkerCall(message.id, service, message.method, message.args, metadata, message.deadline, message.oneWay, cancelFlag);
  const current: Running = { call, pulling: false, ending: false };
  running = current;
  setWorkerCall(call);
  let result: unknown;
  try {
    result = await runAsCurrent(call, methodOf(implementation, message.method), implementation, call.args);
  } catch (error) {
    finish(current, error);
    return;
  }
  if (!isAsyncIterable(result)) {
    finish(current, undefined, result);
    return;
  }
  current.iterator = result[Symbol.asyncIterator]();
  post({ t: 'stream', id: call.id, metadata: metadataPairs(call.responseMetadata) });
  if (current.ending) await endStream(current);
}

/** Reports the end of a call; exactly once per call. */
function finish(current: Running, error: unknown, value?: unknown): void {
  if (running !== current) return;
  running = undefined;
  setWorkerCall(undefined);
  const { id, method, responseMetadata } = current.call;
  const metadata = metadataPairs(responseMetadata);
  if (error === undefined) {
    try {
      post({ t: 'done', id, ok: true, value, metadata });
      return;
    } catch (cloneError) {
      error = new RpcError(Code.INTERNAL, `the result of ${method} cannot be passed from the worker: ${errorMessage(cloneError)}`);
    }
  }
  const wire = wireErrorOf(error);
  try {
    post({ t: 'done', id, ok: false, error: wire, metadata });
  } catch {
    // details or metadata that cannot be cloned: send what always can be
    post({ t: 'done', id, ok: false, error: { code: wire.code, name: wire.name, message: wire.message }, metadata: undefined });
  }
}

/** Sends the next item of the running stream; the pool asks for one at a time. */
async function pull(current: Running): Promise<void> {
  if (current.iterator === undefined || current.pulling || running !== current) return;
  current.pulling = true;
  let step: IteratorResult<unknown>;
  try {
    step = await current.iterator.next();
  } catch (error) {
    finish(current, error);
    return;
  } finally {
    current.pulling = false;
  }
  if (step.done === true) {
    finish(current, undefined);
  } else if (current.ending) {
    await endStream(current);
  } else {
    try {
      post({ t: 'item', id: current.call.id, value: step.value });
    } catch (error) {
      await current.iterator.return?.().catch(() => undefined);
      finish(current, new RpcError(Code.INTERNAL, `an item of ${current.call.method} cannot be passed from the worker: ${errorMessage(error)}`));
    }
  }
}

/** Stops the running stream early: lets the generator run its `finally`, then ends the call. */
async function endStream(current: Running): Promise<void> {
  current.ending = true;
  if (current.pulling || current.iterator === undefined) return;
  try {
    await current.iterator.return?.();
  } catch {
    // the stream was abandoned; how its generator ends concerns no caller
  }
  finish(current, undefined);
}

function serve(implementation: object): void {
  port.on('message', (message: ToWorker) => {
    const current = running !== undefined && running.call.id === message.id ? running : undefined;
    switch (message.t) {
      case 'call':
        void start(implementation, message);
        return;
      case 'cancel':
        if (current === undefined) return;
        current.call.abort(fromWireError(message.error));
        if (current.iterator !== undefined) void endStream(current);
        else current.ending = true;
        return;
      case 'next':
        if (current !== undefined) void pull(current);
        return;
      case 'return':
        if (current !== undefined) void endStream(current);
        return;
    }
  });
  post({ t: 'ready' });
}

try {
  serve(await load());
} catch (error) {
  post({ t: 'failed', error: wireErrorOf(error) });
}
