import { Code } from '../../core/code.js';
import { RpcError } from '../../core/rpc-error.js';
import { defineService } from '../../core/service.js';
import type { MethodCodec } from './codec.js';
import { protoService, registerProtoService, type ProtoMethod } from './proto-registry.js';

export type HealthStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/** `grpc.health.v1.Health`, as a Switchyard client calls it: `client.proxy(GrpcHealthService).check({ service: '' })`. */
export interface Health {
  check(request: { service?: string }): Promise<{ status: HealthStatus }>;
  watch(request: { service?: string }): AsyncIterable<{ status: HealthStatus }>;
}

const NAME = 'grpc.health.v1.Health';
const statuses: HealthStatus[] = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/**
 * The standard gRPC health checking service, which every server provides on every transport
 * (src/introspection/health-service.ts). Its messages are written in Protobuf on `grpc://`, so
 * that any gRPC health client can call it, and with the call's serializer elsewhere.
 */
export const HealthService = defineService<Health>(NAME, { methods: { check: {}, watch: { stream: 'server' } } });

// The two messages are one field each; they are written by hand so that health checks need no protobufjs.
const codec: MethodCodec = {
  name: 'proto',
  encodeRequest: (args) => encodeString((args[0] as { service?: string } | undefined)?.service ?? ''),
  decodeRequest: (bytes) => [{ service: readField1(bytes, 2) ?? '' }],
  // Health takes no request streams; an item would be a request like any other.
  encodeRequestItem: (value) => encodeString((value as { service?: string } | undefined)?.service ?? ''),
  decodeRequestItem: (bytes) => ({ service: readField1(bytes, 2) ?? '' }),
  encodeResponse: (value) => encodeStatus((value as { status?: HealthStatus | number }).status),
  decodeResponse: (bytes) => {
    const status = readField1(bytes, 0) ?? 0;
    return { status: statuses[status as number] ?? 'UNKNOWN' };
  },
};

const methods: ProtoMethod[] = [
  { name: 'check', protoName: 'Check', path: `/${NAME}/Check`, codec },
  { name: 'watch', protoName: 'Watch', path: `/${NAME}/Watch`, codec },
];
registerProtoService(HealthService, protoService(NAME, methods));

function encodeString(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length === 0) return new Uint8Array(0);
  return Buffer.concat([Buffer.from([0x0a]), varint(bytes.length), bytes]);
}

function encodeStatus(status: HealthStatus | number | undefined): Uint8Array {
  const value = typeof status === 'number' ? status : statuses.indexOf(status ?? 'UNKNOWN');
  return value <= 0 ? new Uint8Array(0) : Uint8Array.of(0x08, value);
}

function varint(value: number): Buffer {
  const out: number[] = [];
  while (value > 0x7f) {
    out.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  out.push(value);
  return Buffer.from(out);
}

/** Field 1 of a message: a string for wire type 2, a number for wire type 0; other fields are skipped. */
function readField1(bytes: Uint8Array, wireType: 0 | 2): string | number | undefined {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  let found: string | number | undefined;
  const read = (): number => {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (offset >= buffer.length) throw new RpcError(Code.INVALID_ARGUMENT, 'truncated health message');
      const byte = buffer[offset++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new RpcError(Code.INVALID_ARGUMENT, 'malformed varint in health message');
  };
  while (offset < buffer.length) {
    const tag = read();
    const field = Math.floor(tag / 8);
    const type = tag & 7;
    let value: string | number | undefined;
    if (type === 0) value = read();
    else if (type === 2) {
      const length = read();
      if (offset + length > buffer.length) throw new RpcError(Code.INVALID_ARGUMENT, 'truncated health message');
      value = buffer.toString('utf8', offset, offset + length);
      offset += length;
    } else if (type === 1) offset += 8;
    else if (type === 5) offset += 4;
    else throw new RpcError(Code.INVALID_ARGUMENT, `unsupported wire type ${type} in health message`);
    if (field === 1 && type === wireType) found = value;
  }
  return found;
}
