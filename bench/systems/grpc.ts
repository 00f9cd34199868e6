/**
 * Baseline: `@grpc/grpc-js` unary calls over HTTP/2, the service loaded from bench.proto with
 * `@grpc/proto-loader` and every option at its default.
 */
import { fileURLToPath } from 'node:url';
import * as grpcJs from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { BenchClient, System } from './index.js';

interface AddRequest {
  a: number;
  b: number;
}
interface AddReply {
  result: number;
}
interface EchoMessage {
  data: Uint8Array;
}

type Unary<Req, Res> = (request: Req, callback: (error: grpcJs.ServiceError | null, response?: Res) => void) => grpcJs.ClientUnaryCall;

/** The stub the generated client constructor makes, typed by hand. */
interface BenchStub extends grpcJs.Client {
  Add: Unary<AddRequest, AddReply>;
  Echo: Unary<EchoMessage, EchoMessage>;
}

function loadService(): grpcJs.ServiceClientConstructor {
  const definition = protoLoader.loadSync(fileURLToPath(new URL('../bench.proto', import.meta.url)), { defaults: true });
  const bench = grpcJs.loadPackageDefinition(definition).bench as grpcJs.GrpcObject;
  return bench.Bench as grpcJs.ServiceClientConstructor;
}

function unary<Req, Res>(method: Unary<Req, Res>, request: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(request, (error, response) => {
      if (error !== null) reject(error);
      else resolve(response as Res);
    });
  });
}

export const grpc: System = {
  async serve(handlers) {
    const service = loadService().service;
    const server = new grpcJs.Server();
    server.addService(service, {
      Add: (call: grpcJs.ServerUnaryCall<AddRequest, AddReply>, callback: grpcJs.sendUnaryData<AddReply>) => {
        callback(null, { result: handlers.add(call.request.a, call.request.b) });
      },
      Echo: (call: grpcJs.ServerUnaryCall<EchoMessage, EchoMessage>, callback: grpcJs.sendUnaryData<EchoMessage>) => {
        callback(null, { data: handlers.echo(call.request.data) });
      },
    });
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', grpcJs.ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error)));
    });
    return {
      address: `127.0.0.1:${port}`,
      close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
    };
  },

  async connect(address) {
    const Stub = loadService();
    const stub = new Stub(address, grpcJs.credentials.createInsecure()) as unknown as BenchStub;
    await new Promise<void>((resolve, reject) => stub.waitForReady(Date.now() + 5000, (error) => (error === undefined ? resolve() : reject(error))));
    const add = stub.Add.bind(stub);
    const echo = stub.Echo.bind(stub);
    const client: BenchClient = {
      add: async (a, b) => (await unary(add, { a, b })).result,
      echo: async (data) => (await unary(echo, { data })).data,
      close: async () => stub.close(),
    };
    return client;
  },
};
