import { Code } from '../../../core/code.js';
import { errorMessage, RpcError } from '../../../core/rpc-error.js';
import type { MethodCodec } from '../codec.js';
import { reflectionTypes } from './reflection-proto.js';

/** A `ServerReflectionRequest` as a plain object: `message_request` names the field of the oneof that is set. */
export interface ReflectionRequest {
  readonly host?: string;
  readonly message_request?: string;
  readonly file_by_filename?: string;
  readonly file_containing_symbol?: string;
  readonly file_containing_extension?: { readonly containing_type?: string; readonly extension_number?: number };
  readonly all_extension_numbers_of_type?: string;
  readonly list_services?: string;
}

/** The answer to one request: exactly one of the last four fields is set. */
export interface ReflectionResponse {
  valid_host?: string;
  original_request?: ReflectionRequest;
  file_descriptor_response?: { file_descriptor_proto: Uint8Array[] };
  all_extension_numbers_response?: { base_type_name: string; extension_number: number[] };
  list_services_response?: { service: Array<{ name: string }> };
  error_response?: { error_code: number; error_message: string };
}

/** Reads one request message; a message that is not one is INVALID_ARGUMENT. */
export function decodeReflectionRequest(bytes: Uint8Array): ReflectionRequest {
  const { request } = reflectionTypes();
  try {
    return request.toObject(request.decode(bytes), { oneofs: true }) as ReflectionRequest;
  } catch (error) {
    throw new RpcError(Code.INVALID_ARGUMENT, `cannot decode grpc.reflection.v1.ServerReflectionRequest: ${errorMessage(error)}`);
  }
}

/** Writes one response message. protobufjs encodes plain objects of the message's shape as they are. */
export function encodeReflectionResponse(response: ReflectionResponse): Uint8Array {
  return reflectionTypes().response.encode(response).finish();
}

/**
 * The codec of `ServerReflectionInfo`, which the router hands out for `application/grpc` requests
 * (the reflection stream reads and writes its messages through it; v1alpha's are the same bytes).
 */
export const reflectionCodec: MethodCodec = {
  name: 'proto',
  encodeRequest: (args) => reflectionTypes().request.encode(args[0] as ReflectionRequest).finish(),
  decodeRequest: (bytes) => [decodeReflectionRequest(bytes)],
  encodeRequestItem: (value) => reflectionTypes().request.encode(value as ReflectionRequest).finish(),
  decodeRequestItem: (bytes) => decodeReflectionRequest(bytes),
  encodeResponse: (value) => encodeReflectionResponse(value as ReflectionResponse),
  decodeResponse: (bytes) => {
    const { response } = reflectionTypes();
    return response.toObject(response.decode(bytes), { oneofs: true });
  },
};
