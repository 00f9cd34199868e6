// gRPC: a service described by a .proto, served on grpc:// and tcp:// at once, called by a
// Switchyard proxy over each, and by @grpc/grpc-js, a gRPC peer that knows nothing of Switchyard.
//   npx tsx examples/grpc.ts
import * as grpcJs from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import { Code, GrpcHealthService, RpcError, createClient, createServer, currentCall } from '../src/index.js';
// Types and the typed definition, written from greeter.proto by switchyard-proto (see docs/grpc.md).
import { defineGreeter, type HelloReply, type HelloRequestInit } from './greeter.types.js';

const PROTO = fileURLToPath(new URL('./greeter.proto', import.meta.url));

// The generated definition is typed by the generated Greeter interface: provide and proxy check
// handlers and calls against the .proto. Methods are the rpc names with a lower-case first letter;
// on the wire they stay /helloworld.Greeter/SayHello.
const GreeterService = defineGreeter({ methods: { sayHello: { timeoutMs: 1000 } } });

const server = createServer({ listen: ['grpc://127.0.0.1:0', 'tcp://127.0.0.1:0'], registry: false });
server.provide(GreeterService, {
  async sayHello({ name }) {
    if (!name) throw new RpcError(Code.INVALID_ARGUMENT, 'name is required', { details: { field: 'name' } });
    currentCall().responseMetadata.set('x-greeted-by', 'switchyard');
    return { message: `Hello, ${name}!` };
  },
  async *sayHellos({ name, times }) {
    for (let i = 1; i <= (times ?? 1); i++) yield { message: `Hello #${i}, ${name}!` };
  },
});
const [grpcAddress, tcpAddress] = await server.listen();
console.log('serving on', grpcAddress, 'and', tcpAddress);

// A Switchyard client over grpc:// (Protobuf on the wire) and over tcp:// (MessagePack): one definition.
for (const url of [grpcAddress!, tcpAddress!]) {
  const client = createClient({ url });
  const greeter = client.proxy(GreeterService);
  console.log(url.split(':')[0], '→', (await greeter.sayHello({ name: 'Ada' })).message);
  await client.close();
}

const client = createClient({ url: grpcAddress! });
const greeter = client.proxy(GreeterService);
for await (const reply of greeter.sayHellos({ name: 'Grace', times: 3 })) console.log('stream →', reply.message);
try {
  await greeter.sayHello({ name: '' });
} catch (error) {
  console.log('error →', String(error), (error as RpcError).details);
}
console.log('health →', await client.proxy(GrpcHealthService).check({ service: 'helloworld.Greeter' }));
await client.close();

// A gRPC peer: @grpc/grpc-js with the same .proto, loaded by @grpc/proto-loader.
const pkg = grpcJs.loadPackageDefinition(protoLoader.loadSync(PROTO)) as unknown as { helloworld: { Greeter: grpcJs.ServiceClientConstructor } };
const stub = new pkg.helloworld.Greeter(grpcAddress!.slice('grpc://'.length), grpcJs.credentials.createInsecure()) as unknown as grpcJs.Client & {
  sayHello(request: HelloRequestInit, callback: (error: grpcJs.ServiceError | null, reply?: HelloReply) => void): grpcJs.ClientUnaryCall;
};
const reply = await new Promise<HelloReply>((resolve, reject) => stub.sayHello({ name: 'grpc-js' }, (error, value) => (error ? reject(error) : resolve(value!))));
console.log('grpc-js →', reply.message);
stub.close();

await server.close();
