/** The in-process fuzz targets by name, in the order `npm run fuzz` runs them. */
import { grpcHeadersTarget } from './grpc-headers.js';
import { grpcMessageTarget } from './grpc-message.js';
import { httpTarget } from './http.js';
import { jsonTarget } from './json.js';
import { msgpackTarget } from './msgpack.js';
import { protobufTarget } from './protobuf.js';
import type { FuzzTarget } from './runner.js';
import { tcpFrameTarget } from './tcp-frame.js';

export const targets: ReadonlyMap<string, FuzzTarget> = new Map(
  [tcpFrameTarget, msgpackTarget, jsonTarget, protobufTarget, httpTarget, grpcMessageTarget, grpcHeadersTarget].map((target) => [target.name, target]),
);
