/**
 * The live attack: a bounded attack on a server of this process, on loopback only. Mutated TCP
 * frames (bit flips, cut frames, random lengths, random metadata) from many raw sockets, and random
 * HTTP requests, while an honest client keeps calling. At the end the server must still answer,
 * every honest call must have succeeded, and nothing may have escaped as an unhandled rejection or
 * uncaught exception.
 */
import { connect } from 'node:net';
import { createClient, createServer } from '../../src/index.js';
import { msgpackSerializer } from '../../src/serialization/msgpack.js';
import { CalculatorService, calculatorImpl, newLog } from '../../test/support/calculator.js';
import { mulberry32 } from '../../test/support/random.js';
import { hostPort, requestFrame, settingsFrame } from '../../test/support/raw-socket.js';

export interface LiveResult {
  attacks: number;
  honest: number;
  failures: unknown[];
  escaped: unknown[];
  /** What the server answered to 2 + 3 at the end. */
  alive: number;
}

export async function liveAttack(seconds: number, seed: number): Promise<LiveResult> {
  const random = mulberry32(seed);
  const int = (below: number) => Math.floor(random() * below);
  const escaped: unknown[] = [];
  const onEscape = (error: unknown) => escaped.push(error);
  process.on('unhandledRejection', onEscape);
  process.on('uncaughtException', onEscape);

  const msgpack = msgpackSerializer();
  const seeds = [
    requestFrame({ service: CalculatorService.id, method: 'add', requestId: 1, serializer: 0, body: msgpack.encode([1, 2]) }),
    requestFrame({ service: CalculatorService.id, method: 'echo', requestId: 2, serializer: 0, body: msgpack.encode([new Uint8Array(300)]), extra: [[':timeout', '50']] }),
    requestFrame({ service: CalculatorService.id, method: 'divide', requestId: 3, serializer: 1, body: Buffer.from('[1,0]') }),
    settingsFrame(1024),
  ];

  /** A valid frame, bent: bytes flipped, cut short, lengths rewritten, or noise. */
  const mutant = (): Buffer => {
    const frame = Buffer.from(seeds[int(seeds.length)]!);
    switch (int(5)) {
      case 0:
        for (let i = 0, n = 1 + int(8); i < n; i++) frame[int(frame.length)] = int(256);
        return frame;
      case 1:
        return frame.subarray(0, int(frame.length));
      case 2:
        frame.writeUInt32BE(int(2 ** 32), Math.min(frame.length - 4, 8 + 4 * int(3)));
        return frame;
      case 3:
        return Buffer.from(Array.from({ length: int(64) }, () => int(256)));
      default:
        return Buffer.concat([frame, frame.subarray(0, int(frame.length))]);
    }
  };

  const attackTcp = (address: string): Promise<void> => new Promise((resolve) => {
    const socket = connect(hostPort(address));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
    socket.on('connect', () => {
      for (let i = 0, n = 1 + int(20); i < n; i++) socket.write(mutant());
      setTimeout(() => socket.destroy(), int(50)).unref();
    });
  });

  const attackHttp = async (address: string): Promise<void> => {
    const methods = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH'];
    const paths = [`/${CalculatorService.id}/add`, `/${CalculatorService.id}/__proto__`, '/', '/x/y', `/${CalculatorService.id}/echo`];
    const bodies = ['[1,2]', '{"$bigint":"12x"}', '[{"$bytes":"!!"}]', 'null', '[', '{"__proto__":{"a":1}}', ''];
    const method = methods[int(methods.length)]!;
    const body = method === 'GET' || method === 'HEAD' ? undefined : bodies[int(bodies.length)];
    await fetch(address + paths[int(paths.length)], { method, body, headers: { 'content-type': int(2) === 0 ? 'application/json' : 'text/plain' } })
      .then((response) => response.arrayBuffer())
      .catch(() => undefined);
  };

  const server = createServer({ registry: false, listen: ['tcp://127.0.0.1:0', 'http://127.0.0.1:0'] });
  server.provide(CalculatorService, calculatorImpl(newLog()));
  const [tcp, http] = (await server.listen()) as [string, string];
  const client = createClient({ url: tcp });
  const calc = client.proxy(CalculatorService);
  const until = Date.now() + seconds * 1000;
  let attacks = 0;
  let honest = 0;
  const failures: unknown[] = [];
  try {
    while (Date.now() < until) {
      const round = Array.from({ length: 16 }, () => (int(3) === 0 ? attackHttp(http) : attackTcp(tcp)));
      attacks += round.length;
      await Promise.all([...round, calc.add(attacks, 1).then((sum) => {
        if (sum === attacks + 1) honest++;
        else failures.push(`wrong sum ${sum}`);
      }, (error: unknown) => failures.push(error))]);
    }
    const alive = await calc.add(2, 3);
    return { attacks, honest, failures, escaped, alive };
  } finally {
    await client.close();
    await server.close({ timeoutMs: 2000 });
    process.off('unhandledRejection', onEscape);
    process.off('uncaughtException', onEscape);
  }
}
