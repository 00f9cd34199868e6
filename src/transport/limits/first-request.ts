import type { Socket } from 'node:net';

/**
 * Connections that have not yet delivered their first request, with the timer that closes them.
 * Keyed by the socket the protocol reads (the TLS socket on a TLS listener), weakly, so a closed
 * connection leaves nothing behind even if no one disarms its timer.
 */
const waiting = new WeakMap<Socket, NodeJS.Timeout>();

/**
 * Gives `socket` `timeoutMs` to deliver its first request; past that `onTimeout` runs (it counts
 * and closes the connection). An infinite time arms nothing.
 */
export function awaitFirstRequest(socket: Socket, timeoutMs: number, onTimeout: (socket: Socket) => void): void {
  if (!Number.isFinite(timeoutMs) || socket.destroyed) return;
  const timer = setTimeout(() => {
    waiting.delete(socket);
    if (!socket.destroyed) onTimeout(socket);
  }, timeoutMs).unref();
  waiting.set(socket, timer);
  socket.once('close', () => firstRequestArrived(socket));
}

/**
 * The connection's first request (TCP: frame; HTTP: request head) is in: its timer is disarmed.
 * Cheap to call for every request; only the first finds a timer.
 */
export function firstRequestArrived(socket: Socket): void {
  const timer = waiting.get(socket);
  if (timer === undefined) return;
  clearTimeout(timer);
  waiting.delete(socket);
}
