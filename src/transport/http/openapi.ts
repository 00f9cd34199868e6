import type { CallTable, MethodEntry } from '../../core/call-table.js';
import { stableKey } from '../../core/stable-key.js';
import { SchemaComponents, type Schema } from './openapi-components.js';
import { callParameterComponents, callParameters, errorResponses, metadataDescription, responseHeaders, securitySchemes } from './openapi-http.js';
import { argsParameter, methodShape, requestBody, responses, routeBody, routeParameters, type MethodShape } from './openapi-operation.js';
import { ProtoSchemas } from './openapi-proto.js';
import type { RestRoute } from './routes.js';

/** Title and version shown in the OpenAPI document's `info`. */
export interface OpenApiInfo {
  title?: string;
  version?: string;
}

type Operation = Record<string, unknown>;

const description = `Every method is at POST /<service>/<method>, its arguments in a JSON body, its result in a JSON answer (docs/http.md).
Values JSON has no form for travel as one-key tags, in both directions: the switchyard.* schemas.
Arguments and results are described from the methods' Standard Schemas (libraries that implement Standard JSON Schema, such as zod 4; others are any JSON) and from the messages of .proto services.`;

/**
 * An OpenAPI 3.1 description of every provided method: `POST /<service>/<method>` for each (and
 * `GET` for a server stream), and its resource-style mapping if it has one. Arguments and results
 * are typed from the methods' schemas (`args`, `result`) or `.proto` messages, as the transport's
 * JSON carries them; methods without either take and give any JSON. Never throws for a schema:
 * one that cannot be converted is described as any JSON.
 */
export function openApiDocument(table: CallTable, routes: readonly RestRoute[], info: OpenApiInfo = {}): object {
  const components = new SchemaComponents();
  const proto = new ProtoSchemas(components);
  const shapes = new Map<MethodEntry, MethodShape>();
  const shapeOf = (entry: MethodEntry) => {
    let shape = shapes.get(entry);
    if (shape === undefined) shapes.set(entry, (shape = shapeOrUnknown(entry, components, proto)));
    return shape;
  };
  components.builtin('switchyard.Error');
  const paths = new Map<string, Record<string, Operation>>();
  const operationIds = new Set<string>();
  const add = (path: string, verb: string, operation: Operation) => {
    let item = paths.get(path);
    if (item === undefined) paths.set(path, (item = {}));
    if (item[verb] !== undefined) return;
    const { operationId, ...rest } = operation;
    item[verb] = { operationId: unique(operationIds, String(operationId)), ...rest };
  };
  // Resource-style mappings first: they are matched first, and may take GET /<service>/<method> itself.
  for (const route of routes) {
    const shape = shapeOf(route.entry);
    const operation: Operation = {
      operationId: `${route.entry.service.id}.${route.entry.method}:${route.verb}`,
      summary: `${route.entry.method} of ${route.entry.service.id}`,
      description: metadataDescription,
      tags: [route.entry.service.key.name],
      parameters: [...routeParameters(route, shape), ...callParameters([route.entry], true)],
      responses: responses(route.entry, shape, components),
    };
    const body = routeBody(route, shape, components);
    if (body !== undefined) operation.requestBody = body;
    add(route.path, route.verb.toLowerCase(), operation);
  }
  // One operation per service name and method; versions and groups are header values.
  for (const [path, entries] of byPath(table)) {
    const first = entries[0]!;
    const shape = mergedShape(entries.map(shapeOf));
    const common = {
      summary: `${first.method} of ${entries.map((e) => e.service.id).join(', ')}`,
      description: metadataDescription,
      tags: [first.service.key.name],
      responses: responses(first, shape, components),
    };
    const body = requestBody(first, shape, components);
    add(path, 'post', { operationId: `${first.service.key.name}.${first.method}`, ...common, parameters: callParameters(entries), ...(body === undefined ? {} : { requestBody: body }) });
    if (first.options.stream === 'server') {
      add(path, 'get', { operationId: `${first.service.key.name}.${first.method}:GET`, ...common, parameters: [argsParameter(shape, components), ...callParameters(entries)] });
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title ?? 'Switchyard services', version: info.version ?? '1', description },
    paths: Object.fromEntries(paths),
    components: {
      schemas: components.toJSON(),
      responses: errorResponses(),
      parameters: callParameterComponents(),
      headers: responseHeaders,
      securitySchemes,
    },
    // Credentials are optional as far as the transport goes: the server's authentication decides.
    security: [{}, { bearer: [] }],
  };
}

/** A method whose description fails (a `.proto` type that will not resolve, say) takes and gives any JSON: the document is still served. */
function shapeOrUnknown(entry: MethodEntry, components: SchemaComponents, proto: ProtoSchemas): MethodShape {
  try {
    return methodShape(entry, components, proto);
  } catch {
    return { optional: [], result: {}, mayReturnNothing: true };
  }
}

function byPath(table: CallTable): Map<string, MethodEntry[]> {
  const paths = new Map<string, MethodEntry[]>();
  for (const entry of table.entries()) {
    const path = `/${entry.service.key.name}/${entry.method}`;
    paths.set(path, [...(paths.get(path) ?? []), entry]);
  }
  return paths;
}

/**
 * The shape of a method served in several versions or groups under one path: theirs if they agree,
 * else each value any of theirs.
 */
function mergedShape(shapes: readonly MethodShape[]): MethodShape {
  const keys = new Set(shapes.map((shape) => stableKey([shape])));
  if (keys.size === 1) return shapes[0]!;
  const count = Math.max(...shapes.map((shape) => shape.params?.length ?? 0));
  const known = shapes.every((shape) => shape.params !== undefined);
  return {
    params: known ? Array.from({ length: count }, (_, i) => either(shapes.map((shape) => shape.params![i] ?? {}))) : undefined,
    optional: Array.from({ length: count }, (_, i) => shapes.some((shape) => shape.optional[i] !== false)),
    result: either(shapes.map((shape) => shape.result)),
    mayReturnNothing: shapes.some((shape) => shape.mayReturnNothing),
  };
}

function either(schemas: readonly Schema[]): Schema {
  const distinct = [...new Map(schemas.map((schema) => [stableKey([schema]), schema])).values()];
  return distinct.length === 1 ? distinct[0]! : distinct.some((schema) => Object.keys(schema).length === 0) ? {} : { anyOf: distinct };
}

function unique(taken: Set<string>, id: string): string {
  let candidate = id;
  for (let i = 2; taken.has(candidate); i++) candidate = `${id}_${i}`;
  taken.add(candidate);
  return candidate;
}
