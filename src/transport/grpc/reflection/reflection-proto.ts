import type * as Protobuf from 'protobufjs';
import { protobufjs } from '../protobufjs.js';

/**
 * The `.proto` files of the services every `grpc://` listener serves on its own, written as
 * protobufjs JSON so that nothing is read from disk at run time: `grpc/reflection/v1/reflection.proto`,
 * `grpc/reflection/v1alpha/reflection.proto` (the same messages in another package, with the same
 * field numbers) and `grpc/health/v1/health.proto`. Field names are those of the official files,
 * so that the descriptors served for them match what other servers send.
 */

export const REFLECTION_V1 = 'grpc.reflection.v1.ServerReflection';
export const REFLECTION_V1ALPHA = 'grpc.reflection.v1alpha.ServerReflection';
export const HEALTH = 'grpc.health.v1.Health';

const reflectionFile = {
  ServerReflection: {
    methods: {
      ServerReflectionInfo: { requestType: 'ServerReflectionRequest', requestStream: true, responseType: 'ServerReflectionResponse', responseStream: true },
    },
  },
  ServerReflectionRequest: {
    oneofs: { message_request: { oneof: ['file_by_filename', 'file_containing_symbol', 'file_containing_extension', 'all_extension_numbers_of_type', 'list_services'] } },
    fields: {
      host: { type: 'string', id: 1 },
      file_by_filename: { type: 'string', id: 3 },
      file_containing_symbol: { type: 'string', id: 4 },
      file_containing_extension: { type: 'ExtensionRequest', id: 5 },
      all_extension_numbers_of_type: { type: 'string', id: 6 },
      list_services: { type: 'string', id: 7 },
    },
  },
  ExtensionRequest: {
    fields: {
      containing_type: { type: 'string', id: 1 },
      extension_number: { type: 'int32', id: 2 },
    },
  },
  ServerReflectionResponse: {
    oneofs: { message_response: { oneof: ['file_descriptor_response', 'all_extension_numbers_response', 'list_services_response', 'error_response'] } },
    fields: {
      valid_host: { type: 'string', id: 1 },
      original_request: { type: 'ServerReflectionRequest', id: 2 },
      file_descriptor_response: { type: 'FileDescriptorResponse', id: 4 },
      all_extension_numbers_response: { type: 'ExtensionNumberResponse', id: 5 },
      list_services_response: { type: 'ListServiceResponse', id: 6 },
      error_response: { type: 'ErrorResponse', id: 7 },
    },
  },
  FileDescriptorResponse: { fields: { file_descriptor_proto: { rule: 'repeated', type: 'bytes', id: 1 } } },
  ExtensionNumberResponse: {
    fields: {
      base_type_name: { type: 'string', id: 1 },
      extension_number: { rule: 'repeated', type: 'int32', id: 2 },
    },
  },
  ListServiceResponse: { fields: { service: { rule: 'repeated', type: 'ServiceResponse', id: 1 } } },
  ServiceResponse: { fields: { name: { type: 'string', id: 1 } } },
  ErrorResponse: {
    fields: {
      error_code: { type: 'int32', id: 1 },
      error_message: { type: 'string', id: 2 },
    },
  },
};

const healthFile = {
  Health: {
    methods: {
      Check: { requestType: 'HealthCheckRequest', responseType: 'HealthCheckResponse' },
      Watch: { requestType: 'HealthCheckRequest', responseType: 'HealthCheckResponse', responseStream: true },
    },
  },
  HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
  HealthCheckResponse: {
    fields: { status: { type: 'ServingStatus', id: 1 } },
    nested: { ServingStatus: { values: { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } } },
  },
};

/** Each package of the built-in root and the file its declarations are in. */
const files: ReadonlyArray<[string, string]> = [
  ['grpc.reflection.v1', 'grpc/reflection/v1/reflection.proto'],
  ['grpc.reflection.v1alpha', 'grpc/reflection/v1alpha/reflection.proto'],
  ['grpc.health.v1', 'grpc/health/v1/health.proto'],
];

let root: Protobuf.Root | undefined;

/**
 * The three files in one protobufjs root, made on first use, each top-level declaration knowing
 * its file (`filename`) as if it had been parsed from it. JSON declarations are proto3.
 */
export function builtInRoot(): Protobuf.Root {
  if (root !== undefined) return root;
  const json = {
    nested: {
      grpc: {
        nested: {
          reflection: { nested: { v1: { nested: reflectionFile }, v1alpha: { nested: reflectionFile } } },
          health: { nested: { v1: { nested: healthFile } } },
        },
      },
    },
  };
  // protobufjs's typings ask for a `comment` on every method, which its JSON format does not need.
  const made = protobufjs().Root.fromJSON(json as unknown as Protobuf.INamespace);
  made.resolveAll();
  for (const [pkg, file] of files) {
    for (const declared of (made.lookup(pkg) as Protobuf.Namespace).nestedArray) declared.filename = file;
  }
  return (root = made);
}

/** The request and response types of the reflection stream; v1alpha's are the same on the wire. */
export function reflectionTypes(): { request: Protobuf.Type; response: Protobuf.Type } {
  const made = builtInRoot();
  return {
    request: made.lookupType('grpc.reflection.v1.ServerReflectionRequest'),
    response: made.lookupType('grpc.reflection.v1.ServerReflectionResponse'),
  };
}
