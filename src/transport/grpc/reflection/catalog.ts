import type * as Protobuf from 'protobufjs';
import type { CallTable } from '../../../core/call-table.js';
import { Code } from '../../../core/code.js';
import { errorMessage } from '../../../core/rpc-error.js';
import type { ServiceDefinition } from '../../../core/service.js';
import { protoServiceOf } from '../proto-registry.js';
import { fileSet, type FileSet } from './file-set.js';
import type { ReflectionRequest, ReflectionResponse } from './message-codec.js';
import { builtInRoot, HEALTH, REFLECTION_V1, REFLECTION_V1ALPHA } from './reflection-proto.js';

/**
 * What server reflection tells about one server: its `.proto` services (those made by
 * `defineServiceFromProto`, whatever their version and group), health and reflection itself, and
 * the files that describe them. Read from the call table at each request, so that services
 * provided later are seen; the descriptors of each protobufjs root are built once.
 */
export class ReflectionCatalog {
  constructor(private readonly table: CallTable) {}

  /**
   * The answer to one request. `sent` names the files this stream has already sent: a file is
   * sent with those of its imports, direct or not, that are not in it yet, as gRPC's own servers do.
   */
  answer(request: ReflectionRequest, sent: Set<string>): ReflectionResponse {
    const response: ReflectionResponse = { valid_host: request.host ?? '', original_request: request };
    try {
      this.fill(request, response, sent);
    } catch (error) {
      response.error_response = { error_code: Code.INTERNAL, error_message: `cannot describe: ${errorMessage(error)}` };
    }
    return response;
  }

  private fill(request: ReflectionRequest, response: ReflectionResponse, sent: Set<string>): void {
    switch (request.message_request) {
      case 'list_services': {
        response.list_services_response = { service: this.serviceNames().map((name) => ({ name })) };
        return;
      }
      case 'file_containing_symbol': {
        const symbol = (request.file_containing_symbol ?? '').replace(/^\./, '');
        const set = this.fileSets().find((candidate) => candidate.symbols.has(symbol));
        if (set === undefined) return notFound(response, `symbol not found: ${symbol}`);
        response.file_descriptor_response = { file_descriptor_proto: withImports(set, set.symbols.get(symbol)!, sent) };
        return;
      }
      case 'file_by_filename': {
        const name = request.file_by_filename ?? '';
        const set = this.fileSets().find((candidate) => candidate.files.has(name));
        if (set === undefined) return notFound(response, `file not found: ${name}`);
        response.file_descriptor_response = { file_descriptor_proto: withImports(set, name, sent) };
        return;
      }
      case 'file_containing_extension': {
        const type = (request.file_containing_extension?.containing_type ?? '').replace(/^\./, '');
        const number = request.file_containing_extension?.extension_number ?? 0;
        const set = this.fileSets().find((candidate) => candidate.extensions.get(type)?.has(number) === true);
        if (set === undefined) return notFound(response, `extension ${number} of ${type} not found`);
        response.file_descriptor_response = { file_descriptor_proto: withImports(set, set.extensions.get(type)!.get(number)!, sent) };
        return;
      }
      case 'all_extension_numbers_of_type': {
        const type = (request.all_extension_numbers_of_type ?? '').replace(/^\./, '');
        const sets = this.fileSets();
        if (!sets.some((set) => set.messages.has(type))) return notFound(response, `message type not found: ${type}`);
        const numbers = new Set<number>();
        for (const set of sets) for (const number of set.extensions.get(type)?.keys() ?? []) numbers.add(number);
        response.all_extension_numbers_response = { base_type_name: type, extension_number: [...numbers].sort((a, b) => a - b) };
        return;
      }
      default:
        response.error_response = { error_code: Code.INVALID_ARGUMENT, error_message: 'the request sets none of the queries this server knows' };
    }
  }

  /** Sorted names of the services to list: those whose files can be described. */
  serviceNames(): string[] {
    const names = new Set<string>([HEALTH, REFLECTION_V1, REFLECTION_V1ALPHA]);
    for (const definition of this.definitions()) if (protoServiceOf(definition)?.source !== undefined) names.add(definition.key.name);
    return [...names].sort();
  }

  /** The files of each provided `.proto` service's root, in the order provided, then the built-in ones. */
  private fileSets(): FileSet[] {
    const roots = new Set<Protobuf.Root>();
    for (const definition of this.definitions()) {
      const root = protoServiceOf(definition)?.source?.root;
      if (root !== undefined) roots.add(root);
    }
    roots.add(builtInRoot());
    return [...roots].map(fileSet);
  }

  private definitions(): Set<ServiceDefinition> {
    const definitions = new Set<ServiceDefinition>();
    for (const entry of this.table.entries()) definitions.add(entry.service);
    return definitions;
  }
}

function notFound(response: ReflectionResponse, message: string): void {
  response.error_response = { error_code: Code.NOT_FOUND, error_message: message };
}

/** The file first, then its imports breadth first, leaving out those the stream has sent already. */
function withImports(set: FileSet, name: string, sent: Set<string>): Uint8Array[] {
  const out: Uint8Array[] = [];
  const queue = [name];
  const seen = new Set<string>(queue);
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const file = set.files.get(next);
    if (file === undefined) continue;
    if (next === name || !sent.has(next)) {
      out.push(file.bytes);
      sent.add(next);
    }
    for (const dependency of file.dependencies) {
      if (!seen.has(dependency)) {
        seen.add(dependency);
        queue.push(dependency);
      }
    }
  }
  return out;
}
