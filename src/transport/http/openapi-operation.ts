import type { MethodEntry } from '../../core/call-table.js';
import { refTo, type Schema, type SchemaComponents } from './openapi-components.js';
import { errorResponseRefs } from './openapi-http.js';
import type { ProtoSchemas } from './openapi-proto.js';
import { acceptsUndefined, jsonSchemaOf } from './openapi-schemas.js';
import type { RestRoute } from './routes.js';
import { EVENT_STREAM } from './sse.js';

/** What is known of a method's values, from its schemas or its `.proto` messages. */
export interface MethodShape {
  /** One schema per parameter (for a request stream, of each item); undefined when nothing is known. */
  readonly params?: readonly Schema[];
  /** Which parameters accept `undefined`. */
  readonly optional: readonly boolean[];
  /** The result's schema (for a server stream, of each item); `{}` when nothing is known. */
  readonly result: Schema;
  /** The result may be nothing, which is answered 204. */
  readonly mayReturnNothing: boolean;
}

const ARGUMENT_RULE = 'A JSON array is the argument list; any other JSON value is the single argument (so an array argument goes inside the list); no body is no arguments. Values JSON has no form for are tagged: {"$bytes": base64}, {"$bigint": digits}, {"$date": ISO 8601}, …';

/** The shape of one method: the `.proto` messages of a method made from a `.proto`, else its Standard Schemas. */
export function methodShape(entry: MethodEntry, components: SchemaComponents, proto: ProtoSchemas): MethodShape {
  const { service, method, options } = entry;
  const messages = proto.of(service, method);
  if (messages !== undefined) return { params: [messages.request], optional: [false], result: messages.response, mayReturnNothing: false };
  const base = `${service.key.name}.${method}`;
  const params = options.args?.map((schema, i) => named(jsonSchemaOf(schema, 'input', `${base}.arg${i}`, components), `${base}.arg${i}`, 'input', components));
  const result = options.result === undefined ? {} : named(jsonSchemaOf(options.result, 'output', `${base}.result`, components), `${base}.result`, 'output', components);
  return {
    params,
    optional: options.args?.map(acceptsUndefined) ?? [],
    result,
    mayReturnNothing: options.result === undefined || acceptsUndefined(options.result),
  };
}

/** A schema with structure (an object, an array, a choice) becomes a component, so that operations stay short. */
function named(schema: Schema, name: string, variant: string, components: SchemaComponents): Schema {
  const structured = ['properties', 'items', 'prefixItems', 'anyOf', 'oneOf', 'allOf', 'additionalProperties'].some((key) => key in schema);
  return structured && !('$ref' in schema) ? refTo(components.add(name, schema, variant)) : schema;
}

/** How many leading parameters a call must give: those up to the last one that does not accept undefined. */
function requiredCount(shape: MethodShape): number {
  let count = shape.params?.length ?? 0;
  while (count > 0 && shape.optional[count - 1] === true) count--;
  return count;
}

/** The argument list as a JSON array: one item per parameter, `{"$undefined": true}` for one left undefined. */
export function argumentList(shape: MethodShape, components: SchemaComponents): Schema {
  const { params } = shape;
  if (params === undefined) return { type: 'array' };
  if (params.length === 0) return { type: 'array', maxItems: 0 };
  const prefixItems = params.map((schema, i) => (shape.optional[i] === true && Object.keys(schema).length > 0 ? { anyOf: [schema, components.builtin('switchyard.Undefined')] } : schema));
  return { type: 'array', prefixItems, minItems: requiredCount(shape), maxItems: params.length };
}

/** The JSON body of a call: the argument list, or, when a call may give one argument, that argument alone (if it is not an array). */
function argumentsBody(shape: MethodShape, components: SchemaComponents): Schema {
  const { params } = shape;
  if (params === undefined) return {};
  const list = argumentList(shape, components);
  if (params.length === 0 || requiredCount(shape) > 1) return list;
  const first = params[0]!;
  if (Object.keys(first).length === 0) return { anyOf: [list, { not: { type: 'array' } }] };
  return { anyOf: [list, mayBeArray(components.resolve(first)) ? { allOf: [first, { not: { type: 'array' } }] } : first] };
}

function mayBeArray(schema: Schema): boolean {
  const { type } = schema;
  if (typeof type === 'string') return type === 'array';
  return Array.isArray(type) ? type.includes('array') : true;
}

/** The request body of `POST /<service>/<method>`: the arguments, NDJSON for a request stream, none for a bidi stream. */
export function requestBody(entry: MethodEntry, shape: MethodShape, components: SchemaComponents): object | undefined {
  const { stream } = entry.options;
  if (stream === 'bidi') return undefined;
  if (stream === 'client') {
    return {
      required: false,
      description: 'The request stream: one JSON value per line (NDJSON, chunked for as long as the stream lasts), in the same JSON as arguments; blank lines are skipped. The schema is that of one line.',
      content: { 'application/x-ndjson': { schema: shape.params?.[0] ?? {} } },
    };
  }
  return { required: requiredCount(shape) > 0, description: ARGUMENT_RULE, content: { 'application/json': { schema: argumentsBody(shape, components) } } };
}

const draining = { 'x-switchyard-draining': { $ref: '#/components/headers/draining' } };

/** The answers of a call: its result (or stream), and the error statuses. */
export function responses(entry: MethodEntry, shape: MethodShape, components: SchemaComponents): Record<string, object> {
  const { stream, oneWay } = entry.options;
  const errors = errorResponseRefs();
  if (oneWay === true) return { 202: { description: 'Accepted: a one-way method runs without sending its result', headers: draining }, ...errors };
  if (stream === 'bidi') {
    return { 501: { $ref: '#/components/responses/501' }, default: errors.default! };
  }
  if (stream === 'server') return { 200: streamResponse(entry, shape.result, components), ...errors };
  const ok: Record<string, object> = { 200: { description: 'The result', headers: draining, content: { 'application/json': { schema: shape.result } } } };
  if (shape.mayReturnNothing) ok[204] = { description: 'The method returned nothing', headers: draining };
  if (stream === undefined) ok[202] = { description: 'Accepted, for a call sent with x-switchyard-one-way: 1 (no result is sent)', headers: draining };
  return { ...ok, ...errors };
}

/**
 * A server stream: NDJSON lines, or server-sent events for a request that accepts them. OpenAPI
 * 3.1 has no schema for the items of a stream: `schema` is that of one line, and `x-event-schema`
 * that of one event, read as `{ event?, id?, data }` (what OpenAPI 3.2 calls `itemSchema`).
 */
function streamResponse(entry: MethodEntry, item: Schema, components: SchemaComponents): object {
  const error = components.builtin('switchyard.Error');
  const json = (schema: Schema) => ({ type: 'string', contentMediaType: 'application/json', contentSchema: schema });
  const itemEvent: Schema = { type: 'object', description: 'An item: its JSON as data', properties: { data: json(item) }, required: ['data'], additionalProperties: false };
  if (entry.options.resumable !== undefined) (itemEvent.properties as Record<string, Schema>).id = { type: 'string', description: 'idOf(item), which Last-Event-ID sends back to resume after it' };
  return {
    description: 'The stream, one item at a time as the method yields them. A failure after the stream began ends it with a last error line (or error event); one before it began is the usual error answer.',
    headers: draining,
    content: {
      'application/x-ndjson': {
        schema: {
          description: 'One line: {"value": item}, or last {"error": {...}} when the stream failed',
          anyOf: [
            { type: 'object', properties: { value: item }, additionalProperties: false },
            { type: 'object', properties: { error }, required: ['error'], additionalProperties: false },
          ],
        },
      },
      [EVENT_STREAM]: {
        schema: { type: 'string', description: 'Server-sent events, when the request\'s Accept asks for text/event-stream; ": ping" comments keep an idle stream open' },
        'x-event-schema': {
          oneOf: [
            itemEvent,
            { type: 'object', description: 'The end of the stream', properties: { event: { const: 'end' }, data: { const: '' } }, required: ['event', 'data'], additionalProperties: false },
            { type: 'object', description: 'The stream failed', properties: { event: { const: 'error' }, data: json(error) }, required: ['event', 'data'], additionalProperties: false },
          ],
        },
      },
    },
  };
}

/** The `args` query parameter with which a server stream also answers GET (an EventSource sends nothing else). */
export function argsParameter(shape: MethodShape, components: SchemaComponents): object {
  return {
    name: 'args', in: 'query', required: requiredCount(shape) > 0,
    description: 'The argument list as a JSON array, URL-encoded; none is no arguments',
    content: { 'application/json': { schema: argumentList(shape, components) } },
  };
}

/** The path and query parameters of a resource-style mapping, each the argument of its name. */
export function routeParameters(route: RestRoute, shape: MethodShape): object[] {
  const inPath = new Set(route.segments.flatMap((s) => ('param' in s ? [s.param] : [])));
  return route.params.map((name, i) => ({
    name,
    in: inPath.has(name) ? 'path' : 'query',
    required: inPath.has(name),
    description: 'JSON (a number, true, "text", …); text that is not JSON is taken as a string',
    content: { 'application/json': { schema: shape.params?.[i] ?? {} } },
  }));
}

/** The body of a resource-style mapping: an object of the named arguments not in the path, or the argument rule without names. */
export function routeBody(route: RestRoute, shape: MethodShape, components: SchemaComponents): object | undefined {
  if (route.verb === 'GET' || route.verb === 'DELETE') return undefined;
  if (route.params.length === 0) return requestBody(route.entry, shape, components);
  const inPath = new Set(route.segments.flatMap((s) => ('param' in s ? [s.param] : [])));
  const properties = Object.fromEntries(route.params.flatMap((name, i) => (inPath.has(name) ? [] : [[name, shape.params?.[i] ?? {}]])));
  return {
    required: false,
    description: 'An object of the arguments by name; one given in the query is taken from there',
    content: { 'application/json': { schema: { type: 'object', properties } } },
  };
}
