// Types of greeter.proto, written by switchyard-proto: change the .proto and run it again:
//   npx switchyard-proto examples/greeter.proto --import ../src/index.js --out examples/greeter.types.ts
import { defineServiceFromProto, type ProtoServiceOptions, type ServiceDefinition } from '../src/index.js';

const protoFiles: URL[] = [new URL('./greeter.proto', import.meta.url)];
const includeDirs: URL[] = [];

/** The message helloworld.HelloRequest, as received. */
export interface HelloRequest {
  name: string;
  times: number;
}

/** What may be sent as a helloworld.HelloRequest: every field may be left out, and then has its default. */
export interface HelloRequestInit {
  name?: string;
  times?: number;
}

/** The message helloworld.HelloReply, as received. */
export interface HelloReply {
  message: string;
}

/** What may be sent as a helloworld.HelloReply: every field may be left out, and then has its default. */
export interface HelloReplyInit {
  message?: string;
}

/** The service helloworld.Greeter: what its handlers implement and its proxies call. */
export interface Greeter {
  sayHello(request: HelloRequestInit): Promise<HelloReply>;
  sayHellos(request: HelloRequestInit): AsyncIterable<HelloReply>;
}

/** The definition of helloworld.Greeter with options of your own: version, group, options per method. */
export function defineGreeter(options: Omit<ProtoServiceOptions<Greeter>, 'keepCase' | 'includeDirs'> = {}): ServiceDefinition<Greeter> {
  return defineServiceFromProto<Greeter>(protoFiles, 'helloworld.Greeter', { ...options, keepCase: false, includeDirs });
}

/** helloworld.Greeter, for `server.provide` and `client.proxy`. */
export const GreeterService = defineGreeter();
