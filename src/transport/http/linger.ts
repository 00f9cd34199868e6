import type { Socket } from 'node:net';

/** How long a closing connection waits for its client to stop sending, at most and between packets. */
const LINGER_MAX_MS = 5000;
const LINGER_IDLE_MS = 1000;

/**
 * Makes the connection close gracefully once the answer being written is out. Node closes a
 * connection right after a `connection: close` answer; if the client is still sending (a body the
 * server refused, a request pipelined behind it), the kernel answers those bytes with a reset, and
 * a client that gets the reset before it has read the answer loses the answer too. So: send FIN
 * after the answer, keep reading and dropping what still arrives, and close when the client closes
 * its side, when it has sent nothing for LINGER_IDLE_MS, or after LINGER_MAX_MS.
 */
export function closeAfterAnswer(socket: Socket): void {
  // Node calls destroySoon() on the socket after the last answer; only this socket's is replaced
  // (again, harmlessly, when a second answer on the connection also closes it).
  socket.destroySoon = lingerThenClose;
}

function lingerThenClose(this: Socket): void {
  linger(this);
}

function linger(socket: Socket): void {
  if (socket.destroyed) return;
  // From here on only this listener reads the connection: the HTTP parser would take the bytes
  // that follow for new requests. (Adding a data listener also takes the socket back from a parser
  // that reads it natively.)
  socket.removeAllListeners('data');
  let received = 0;
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
  });
  socket.resume();
  let seen = 0;
  let idle: NodeJS.Timeout | undefined;
  const check = () => {
    if (received === seen) socket.destroy();
    else idle = setTimeout(check, LINGER_IDLE_MS);
    seen = received;
  };
  const limit = setTimeout(() => socket.destroy(), LINGER_MAX_MS);
  socket.once('close', () => {
    clearTimeout(limit);
    clearTimeout(idle);
  });
  // The answer may still be on its way out: close only once it is (FIN sent) and the client is done.
  socket.on('end', () => {
    if (socket.writableFinished) socket.destroy();
  });
  socket.end(() => {
    if (socket.readableEnded) socket.destroy();
    else idle = setTimeout(check, LINGER_IDLE_MS);
  });
}
