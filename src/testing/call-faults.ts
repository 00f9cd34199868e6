import type { CallTable, MethodEntry } from '../core/call-table.js';
import type { Handler, Invocation } from '../core/invocation.js';
import { RpcError } from '../core/rpc-error.js';
import { injectedError, watchFaults, type FaultControl, type InprocFaults } from './faults.js';

/**
 * The server's call table as an `inproc://` listener serves it: each method's handler chain behind
 * the listener's call faults (frozen, errors). The faults act where the provider's code starts, after
 * the transport decoded the request and the gate admitted it, so the caller meets them through the
 * whole call path: deadline, cancel, error encoding, response.
 */
export function tableWithFaults(table: CallTable, faults: FaultControl<InprocFaults>): CallTable {
  const wrapped = new WeakMap<MethodEntry, MethodEntry>();
  // A view of the table whose own `lookup` wraps the entries it finds; everything else is the table's.
  const view = Object.create(table) as CallTable;
  view.lookup = (serviceId, method) => {
    const entry = table.lookup(serviceId, method);
    if (entry instanceof RpcError) return entry;
    let faulty = wrapped.get(entry);
    if (faulty === undefined) {
      faulty = { ...entry, handler: faultyHandler(entry, faults) };
      wrapped.set(entry, faulty);
    }
    return faulty;
  };
  return view;
}

function faultyHandler(entry: MethodEntry, faults: FaultControl<InprocFaults>): Handler {
  const run = (call: Invocation): Promise<unknown> => {
    const error = injectedError(faults, entry.service.key.name, entry.method);
    return error === undefined ? entry.handler(call) : Promise.reject(error);
  };
  return (call) => (faults.current.frozen === true ? thawed(call, faults).then(() => run(call)) : run(call));
}

/**
 * Resolves once the freeze is lifted; rejects with the call's abort reason when it is cancelled,
 * passes its deadline or loses its connection first. Nothing is left behind either way.
 */
function thawed(call: Invocation, faults: FaultControl<InprocFaults>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const signal = call.signal;
    const done = (): void => {
      stopWatching();
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      done();
      reject(signal?.reason as unknown);
    };
    const stopWatching = watchFaults(faults, () => {
      if (faults.current.frozen === true) return;
      done();
      resolve();
    });
    if (signal?.aborted === true) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}
