import type { CallTable, MethodEntry } from '../../core/call-table.js';
import { Code } from '../../core/code.js';
import { Header } from './headers.js';
import type { RestRoute } from './routes.js';

/** Title and version shown in the OpenAPI document's `info`. */
export interface OpenApiInfo {
  title?: string;
  version?: string;
}

type Operation = Record<string, unknown>;

const errorResponse = { description: 'The call failed', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };

/**
 * An OpenAPI 3.1 description of every provided method: `POST /<service>/<method>` for each, and
 * its resource-style mapping if it has one. Argument types are not known at run time, so bodies
 * and results are described as any JSON.
 */
export function openApiDocument(table: CallTable, routes: readonly RestRoute[], info: OpenApiInfo = {}): object {
  const paths = new Map<string, Record<string, Operation>>();
  const add = (path: string, verb: string, operation: Operation) => {
    let item = paths.get(path);
    if (item === undefined) paths.set(path, (item = {}));
    item[verb] = operation;
  };
  // One operation per service name and method; versions and groups are header values.
  const byPath = new Map<string, MethodEntry[]>();
  for (const entry of table.entries()) {
    const path = `/${entry.service.key.name}/${entry.method}`;
    byPath.set(path, [...(byPath.get(path) ?? []), entry]);
  }
  for (const [path, entries] of byPath) {
    const first = entries[0]!;
    add(path, 'post', {
      operationId: `${first.service.key.name}.${first.method}`,
      summary: `${first.method} of ${entries.map((e) => e.service.id).join(', ')}`,
      tags: [first.service.key.name],
      parameters: callHeaders(entries),
      requestBody: {
        required: false,
        description: 'A JSON array is the argument list; any other JSON value is the single argument; no body is no arguments.',
        content: { 'application/json': { schema: {} } },
      },
      responses: responses(first),
    });
  }
  for (const route of routes) {
    const inPath = new Set(route.segments.flatMap((s) => ('param' in s ? [s.param] : [])));
    const parameters: object[] = route.params.map((name) => ({
      name,
      in: inPath.has(name) ? 'path' : 'query',
      required: inPath.has(name),
      description: 'JSON (a number, true, "text", …) or plain text',
      schema: {},
    }));
    const operation: Operation = {
      operationId: `${route.entry.service.id}.${route.entry.method}:${route.verb}`,
      summary: `${route.entry.method} of ${route.entry.service.id}`,
      tags: [route.entry.service.key.name],
      parameters: [...parameters, ...callHeaders([])],
      responses: responses(route.entry),
    };
    if (route.verb !== 'GET' && route.verb !== 'DELETE') {
      const properties = Object.fromEntries(route.params.map((name) => [name, {}]));
      operation.requestBody = { required: false, content: { 'application/json': { schema: route.params.length > 0 ? { type: 'object', properties } : {} } } };
    }
    add(route.path, route.verb.toLowerCase(), operation);
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title ?? 'Switchyard services', version: info.version ?? '1' },
    paths: Object.fromEntries(paths),
    components: {
      schemas: {
        Error: {
          type: 'object',
          required: ['code', 'name', 'message'],
          properties: {
            code: { type: 'string', enum: Object.keys(Code).filter((name) => name !== 'OK') },
            name: { type: 'string' },
            message: { type: 'string' },
            details: { type: 'object' },
          },
        },
      },
    },
  };
}

function callHeaders(entries: readonly MethodEntry[]): object[] {
  const versions = [...new Set(entries.flatMap((e) => (e.service.key.version ? [e.service.key.version] : [])))];
  const groups = [...new Set(entries.flatMap((e) => (e.service.key.group ? [e.service.key.group] : [])))];
  const headers: object[] = [];
  if (versions.length > 0) headers.push({ name: Header.version, in: 'header', required: versions.length > 1, schema: { type: 'string', enum: versions } });
  if (groups.length > 0) headers.push({ name: Header.group, in: 'header', required: false, schema: { type: 'string', enum: groups } });
  headers.push({ name: Header.timeout, in: 'header', required: false, description: 'Deadline of the call in milliseconds', schema: { type: 'integer', minimum: 0 } });
  return headers;
}

function responses(entry: MethodEntry): object {
  const ok = entry.options.stream === 'server'
    ? { 200: { description: 'One JSON object per line: {"value": item}, or last {"error": {...}}', content: { 'application/x-ndjson': { schema: {} } } } }
    : { 200: { description: 'The result', content: { 'application/json': { schema: {} } } }, 204: { description: 'The method returned nothing' } };
  return entry.options.oneWay ? { 202: { description: 'Accepted; one-way methods send no result' }, default: errorResponse } : { ...ok, default: errorResponse };
}
