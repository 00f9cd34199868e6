import { openSocket, type ZkClient } from './zookeeper-client.js';

/**
 * Closes the connection of a connected client once its server has been silent for two thirds of the
 * session timeout, as ZooKeeper's own clients do, so that it resumes its session through another
 * server of the connect string while the session still lives. node-zookeeper-client pings an idle
 * connection every third of the session timeout but never gives up on one that stops answering: a
 * server that is partitioned away, frozen, or cut off with its host sends no reset, and the client
 * would wait on it until TCP gives up (some 15 minutes), its session expiring meanwhile and taking
 * the registry's ephemeral nodes and watches with it. A live server answers every ping, so a
 * connection that hears nothing for that long has lost its server.
 *
 * `onSilent` is told before the connection is closed. Returns a function that stops watching; the
 * watch also stops by itself when the connection closes.
 */
export function watchSilence(client: ZkClient, onSilent: (silentMs: number, server: string) => void): () => void {
  const socket = openSocket(client);
  if (!socket) return () => {};
  const limitMs = Math.max(1, Math.floor((client.getSessionTimeout() * 2) / 3));
  const heard = (): void => {
    timer.refresh();
  };
  const stop = (): void => {
    socket.off('data', heard);
    socket.off('close', stop);
    clearTimeout(timer);
  };
  const timer = setTimeout(() => {
    stop();
    onSilent(limitMs, `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`);
    // The client sees its connection close and connects to the next server, resuming the session.
    socket.destroy();
  }, limitMs);
  // The client's own socket keeps the process alive while it is open; the watch need not.
  timer.unref();
  socket.on('data', heard);
  socket.on('close', stop);
  return stop;
}
