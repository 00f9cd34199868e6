import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import { parseAddress } from '../transport/address.js';
import { watchFaults, type FaultControl, type InprocFaults } from './faults.js';
import { MemorySocket, memoryConnection, type MemoryConnection } from './memory-socket.js';

/**
 * The addresses of this process's `inproc://` listeners: `inproc://<name>:<port>`. Like ports on a
 * host, a port is taken by one listener at a time; port 0 takes a free one, never one used before
 * in this process, so that a client of a closed server cannot reach its successor by mistake.
 */
const listeners = new Map<string, InprocListener>();
let lastPort = 0;
/** Ports of the client ends, for the server's view of its peers. */
let lastClientPort = 0;

/** One listening `inproc://` address: its faults, and the connections it accepted. */
export class InprocListener {
  readonly #open = new Set<MemoryConnection>();
  readonly #stopWatching: () => void;

  constructor(
    readonly address: string,
    readonly faults: FaultControl<InprocFaults>,
    private readonly accept: (socket: MemorySocket) => void,
  ) {
    this.#stopWatching = watchFaults(this.faults, () => this.#faultsChanged());
  }

  /** A client dials this address: its connection is accepted, or refused while the address is `dead`. */
  connect(connection: MemoryConnection): void {
    if (this.faults.current.dead === true) {
      connection.client.destroy(refused(this.address));
      return;
    }
    this.#open.add(connection);
    connection.client.once('close', () => this.#open.delete(connection));
    this.accept(connection.server);
    connection.client.emit('connect');
  }

  /** Resets every open connection, as if the provider's host dropped them. */
  resetConnections(): void {
    for (const connection of [...this.#open]) connection.reset();
    this.#open.clear();
  }

  /** Frees the address: dialing it is refused from now on. */
  unbind(): void {
    this.#stopWatching();
    if (listeners.get(this.address) === this) listeners.delete(this.address);
  }

  #faultsChanged(): void {
    if (this.faults.current.dead === true) this.resetConnections();
    for (const connection of this.#open) connection.wake();
  }
}

/**
 * Takes `inproc://host:port` (port 0: a free one) for a listener; throws UNAVAILABLE when
 * the port is taken, as binding a taken TCP port does.
 */
export function bind(host: string, port: number, faults: FaultControl<InprocFaults>, accept: (socket: MemorySocket) => void): InprocListener {
  if (port === 0) {
    do port = ++lastPort;
    while (listeners.has(addressOf(host, port)));
  }
  const address = addressOf(host, port);
  if (listeners.has(address)) throw new RpcError(Code.UNAVAILABLE, `${address} is already in use by another server of this process`);
  const listener = new InprocListener(address, faults, accept);
  listeners.set(address, listener);
  return listener;
}

/**
 * Dials `inproc://host:port`: the socket emits `connect` on a later turn of the event loop, or
 * `error` (ECONNREFUSED) when nothing listens there or the listener is dead.
 */
export function dial(host: string, port: number): MemorySocket {
  const address = addressOf(host, port);
  const listener = listeners.get(address);
  const clientPort = ++lastClientPort;
  if (listener === undefined) {
    const socket = new MemorySocket(host, port);
    setImmediate(() => socket.destroy(refused(address)));
    return socket;
  }
  const connection = memoryConnection('inproc-client', clientPort, host, port, listener.faults);
  setImmediate(() => {
    // Unbound meanwhile: refused, as a port closed between the lookup and the handshake would be.
    if (listeners.get(address) !== listener) connection.client.destroy(refused(address));
    else listener.connect(connection);
  });
  return connection.client;
}

/** The listener at `address`, if one listens there now. */
export function listenerAt(address: string): InprocListener | undefined {
  return listeners.get(address);
}

/**
 * The faults of the `inproc://` address a server listens on now, for a server not started with
 * `startServer` (which hands them out as `faults`). Throws NOT_FOUND when nothing listens there.
 *
 * ```ts
 * const [address] = await server.listen();   // createServer({ listen: ['inproc://orders:0'] })
 * inprocFaults(address!).update({ frozen: true });
 * ```
 */
export function inprocFaults(address: string): FaultControl<InprocFaults> {
  const { protocol, host, port } = parseAddress(address);
  const listener = protocol === 'inproc' ? listeners.get(addressOf(host, port)) : undefined;
  if (listener === undefined) throw new RpcError(Code.NOT_FOUND, `no inproc:// server listens at ${address}`);
  return listener.faults;
}

function addressOf(host: string, port: number): string {
  return `inproc://${host}:${port}`;
}

function refused(address: string): Error {
  return Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' });
}
