// Streams in every direction over tcp://: an upload (client stream), a chat (bidi) and a resumable
// ticker whose stream survives the server that serves it shutting down.
// Run: `npx tsx examples/streams.ts`. docs/streams.md explains each kind.
import { createClient, createServer, defineService, resumeAfter } from '../src/index.js';

interface Tick { seq: number; server: string }
interface Studio {
  upload(chunks: AsyncIterable<Uint8Array>): Promise<{ chunks: number; bytes: number }>;
  chat(lines: AsyncIterable<string>): AsyncIterable<string>;
  ticks(count: number): AsyncIterable<Tick>;
}
const StudioService = defineService<Studio>('demo.Studio', {
  methods: {
    upload: { stream: 'client' },
    chat: { stream: 'bidi' },
    ticks: { stream: 'server', resumable: { idOf: (tick: Tick) => tick.seq } },
  },
});

function studioServer(name: string) {
  const server = createServer({ registry: false, listen: ['tcp://127.0.0.1:0'] });
  server.provide(StudioService, {
    async upload(chunks) {
      let count = 0;
      let bytes = 0;
      for await (const chunk of chunks) {
        count++;
        bytes += chunk.byteLength;
      }
      return { chunks: count, bytes };
    },
    async *chat(lines) {
      for await (const line of lines) yield `you said: ${line}`;
    },
    async *ticks(count) {
      const after = resumeAfter();
      for (let seq = after === undefined ? 0 : Number(after) + 1; seq < count; seq++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        yield { seq, server: name };
      }
    },
  });
  return server;
}
const servers = new Map([['a', studioServer('a')], ['b', studioServer('b')]]);
const addresses = await Promise.all([...servers.values()].map(async (server) => (await server.listen())[0]!));
const client = createClient({ url: addresses });
const studio = client.proxy(StudioService);

// A client stream: 64 chunks of 64 KiB, pulled only as fast as the server reads them.
async function* chunks() {
  for (let i = 0; i < 64; i++) yield new Uint8Array(64 * 1024).fill(i);
}
console.log('upload:', await studio.upload(chunks()));

// A bidi stream: answers arrive while lines are still being sent.
for await (const answer of studio.chat(['hello', 'how are you?'])) console.log('chat:', answer);

// A resumable stream: the server that serves it shuts down after the 5th tick; the other server
// goes on from the 6th, with nothing lost and nothing twice.
const seen: string[] = [];
for await (const tick of studio.ticks(10)) {
  seen.push(`${tick.seq}@${tick.server}`);
  if (tick.seq === 4) void servers.get(tick.server)!.close({ timeoutMs: 1000 });
}
console.log('ticks:', seen.join(' '));

await client.close();
for (const server of servers.values()) await server.close();
