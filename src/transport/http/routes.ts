import type { CallTable, MethodEntry } from '../../core/call-table.js';
import { Code } from '../../core/code.js';
import { RpcError } from '../../core/rpc-error.js';
import { serviceId } from '../../core/service.js';
import type { Serializer } from '../../serialization/serializer.js';
import type { HttpRoute } from './method-options.js';

type Segment = { literal: string } | { param: string };

/** A method's resource-style mapping (its `http` method option), compiled. */
export interface RestRoute {
  readonly verb: string;
  readonly path: string;
  readonly segments: readonly Segment[];
  readonly params: readonly string[];
  readonly entry: MethodEntry;
}

export interface RestMatch {
  route: RestRoute;
  /** Values of the path's `{name}` segments, decoded. */
  pathValues: Map<string, string>;
}

const paramName = /^[A-Za-z_$][\w$]*$/;

/** The REST mappings of every provided method; recompiled when services are added. */
export class Router {
  private statics = new Map<string, RestRoute>();
  private templates: RestRoute[] = [];
  private compiledFor = -1;

  constructor(
    private readonly table: CallTable,
    private readonly onInvalid: (error: RpcError) => void,
  ) {}

  /** Compiles the mappings now, throwing on the first invalid or conflicting one. */
  compileStrict(): void {
    this.compile((error) => {
      throw error;
    });
  }

  get routes(): RestRoute[] {
    this.refresh();
    return [...this.statics.values(), ...this.templates];
  }

  /** The mapping of `verb` and the decoded path segments, if one matches. */
  match(verb: string, segments: readonly string[]): RestMatch | undefined {
    this.refresh();
    if (this.statics.size === 0 && this.templates.length === 0) return undefined;
    const route = this.statics.get(`${verb} /${segments.join('/')}`);
    if (route !== undefined) return { route, pathValues: new Map() };
    for (const candidate of this.templates) {
      if (candidate.verb !== verb) continue;
      const pathValues = fit(candidate, segments);
      if (pathValues !== undefined) return { route: candidate, pathValues };
    }
    return undefined;
  }

  /** The verbs mapped at a path, for a 405 answer's `Allow`. */
  verbsAt(segments: readonly string[]): string[] {
    return [...this.statics.values(), ...this.templates].filter((route) => fit(route, segments) !== undefined).map((route) => route.verb);
  }

  private refresh(): void {
    if (this.table.generation !== this.compiledFor) this.compile(this.onInvalid);
  }

  private compile(onInvalid: (error: RpcError) => void): void {
    const statics = new Map<string, RestRoute>();
    const templates: RestRoute[] = [];
    const taken = new Map<string, string>();
    for (const entry of this.table.entries()) {
      const mapping = entry.options.http;
      if (mapping === undefined) continue;
      const where = `${entry.service.id}.${entry.method}`;
      const route = compileRoute(entry, mapping, where, onInvalid);
      if (route === undefined) continue;
      const shape = `${route.verb} /${route.segments.map((s) => ('literal' in s ? s.literal : '{}')).join('/')}`;
      const owner = taken.get(shape);
      if (owner !== undefined) {
        onInvalid(new RpcError(Code.INVALID_ARGUMENT, `HTTP mapping ${route.verb} ${route.path} of ${where} is already taken by ${owner}`));
        continue;
      }
      taken.set(shape, where);
      if (route.segments.every((s) => 'literal' in s)) statics.set(shape, route);
      else templates.push(route);
    }
    this.statics = statics;
    this.templates = templates;
    this.compiledFor = this.table.generation;
  }
}

function fit(route: RestRoute, segments: readonly string[]): Map<string, string> | undefined {
  if (route.segments.length !== segments.length) return undefined;
  const pathValues = new Map<string, string>();
  for (let i = 0; i < segments.length; i++) {
    const segment = route.segments[i]!;
    if ('param' in segment) pathValues.set(segment.param, segments[i]!);
    else if (segment.literal !== segments[i]) return undefined;
  }
  return pathValues;
}

function compileRoute(entry: MethodEntry, mapping: HttpRoute, where: string, onInvalid: (error: RpcError) => void): RestRoute | undefined {
  const verb = mapping.method ?? 'POST';
  const path = mapping.path ?? `/${entry.service.key.name}/${entry.method}`;
  const params = mapping.params ?? [];
  const invalid = (why: string) => {
    onInvalid(new RpcError(Code.INVALID_ARGUMENT, `HTTP mapping ${verb} ${path} of ${where}: ${why}`));
    return undefined;
  };
  if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(verb)) return invalid(`unsupported verb`);
  if (!path.startsWith('/') || path.length < 2) return invalid('the path must start with / and name something');
  for (const name of params) if (!paramName.test(name)) return invalid(`invalid parameter name ${JSON.stringify(name)}`);
  if (new Set(params).size !== params.length) return invalid('a parameter is named twice');
  const segments: Segment[] = [];
  for (const part of path.slice(1).split('/')) {
    const template = /^\{([^{}]*)\}$/.exec(part);
    if (template !== null) {
      const name = template[1]!;
      if (!params.includes(name)) return invalid(`{${name}} is not one of params`);
      segments.push({ param: name });
    } else if (part.length === 0 || /[{}]/.test(part)) {
      return invalid(`invalid path segment ${JSON.stringify(part)}`);
    } else {
      segments.push({ literal: part });
    }
  }
  return { verb, path, segments, params, entry };
}

/** Splits a request path into decoded segments; a malformed escape is the caller's error. */
export function pathSegments(pathname: string): string[] {
  const segments = pathname.slice(1).split('/');
  if (!pathname.includes('%')) return segments;
  try {
    return segments.map(decodeURIComponent);
  } catch {
    throw new RpcError(Code.INVALID_ARGUMENT, `malformed path ${JSON.stringify(pathname)}`);
  }
}

/**
 * The provided service a request names: `name` with the version and group headers. Without a
 * version header, the one version served under that name and group, if there is exactly one.
 */
export function resolveService(table: CallTable, name: string, method: string, version: string | undefined, group: string | undefined): MethodEntry | RpcError {
  const id = serviceId({ name, version: version || undefined, group: group || undefined });
  const found = table.lookup(id, method);
  if (!(found instanceof RpcError) || found.code !== Code.NOT_FOUND || version) return found;
  const prefix = group ? `${group}/${name}:` : `${name}:`;
  const candidates = table.serviceIds.filter((candidate) => candidate.startsWith(prefix));
  if (candidates.length !== 1) return found;
  return table.lookup(candidates[0], method);
}

/** Reads a query or path value: valid JSON is parsed (`1`, `true`, `"1"`, `[1,2]`), anything else is the text itself. */
export function queryValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The arguments of a resource-style call, by the rules in docs/http.md. */
export function restArgs(match: RestMatch, query: URLSearchParams, body: unknown, hasBody: boolean): unknown[] {
  const { params } = match.route;
  if (params.length === 0) return hasBody ? bodyArgs(body) : [];
  if (hasBody && (typeof body !== 'object' || body === null || Array.isArray(body))) {
    throw new RpcError(Code.INVALID_ARGUMENT, `the body of ${match.route.verb} ${match.route.path} must be a JSON object with properties named as the params`);
  }
  const fields = hasBody ? (body as Record<string, unknown>) : undefined;
  return params.map((name) => {
    const fromPath = match.pathValues.get(name);
    if (fromPath !== undefined) return queryValue(fromPath);
    const fromQuery = query.get(name);
    if (fromQuery !== null) return queryValue(fromQuery);
    return fields !== undefined && Object.hasOwn(fields, name) ? fields[name] : undefined;
  });
}

/**
 * The arguments of a server stream opened with `GET /<service>/<method>?args=<JSON array>` (what an
 * `EventSource` can send): the array, in the transport's JSON, or none without `args`.
 */
export function queryArgs(query: URLSearchParams, json: Serializer): unknown[] {
  const text = query.get('args');
  if (text === null) return [];
  let args: unknown;
  try {
    args = json.decode(new TextEncoder().encode(text));
  } catch (error) {
    throw new RpcError(Code.INVALID_ARGUMENT, `args must be a JSON array of the arguments: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!Array.isArray(args)) throw new RpcError(Code.INVALID_ARGUMENT, 'args must be a JSON array of the arguments');
  return args;
}

/** The default route's rule: a JSON array is the argument list; any other JSON value is the single argument. */
export function bodyArgs(body: unknown): unknown[] {
  return Array.isArray(body) ? body : [body];
}

/** The most paths `RpcPaths` remembers: the methods a server provides are far fewer. */
const MAX_RPC_PATHS = 1024;

/**
 * The methods found at `POST /<service>/<method>` paths (with their version and group headers),
 * so that a repeated call skips splitting, decoding and looking its path up. Only found methods
 * are kept, so a caller probing paths fills nothing; everything is forgotten when the call table
 * changes, since the table also decides the REST routes that come first.
 */
export class RpcPaths {
  /** Path → version and group (`version`, or `version\0group`) → method: no string is built for a call without a group. */
  private readonly paths = new Map<string, Map<string, MethodEntry>>();
  private size = 0;
  private generation = -1;

  get(pathname: string, version: string | undefined, group: string | undefined, generation: number): MethodEntry | undefined {
    if (generation !== this.generation) {
      this.paths.clear();
      this.size = 0;
      this.generation = generation;
      return undefined;
    }
    return this.paths.get(pathname)?.get(tagsKey(version, group));
  }

  set(pathname: string, version: string | undefined, group: string | undefined, generation: number, entry: MethodEntry): void {
    if (generation !== this.generation || this.size >= MAX_RPC_PATHS) return;
    let byTags = this.paths.get(pathname);
    if (byTags === undefined) this.paths.set(pathname, (byTags = new Map()));
    byTags.set(tagsKey(version, group), entry);
    this.size++;
  }
}

function tagsKey(version: string | undefined, group: string | undefined): string {
  return group === undefined ? (version ?? '') : `${version ?? ''}\0${group}`;
}
