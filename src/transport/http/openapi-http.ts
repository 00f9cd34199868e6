import type { MethodEntry } from '../../core/call-table.js';
import { Header, MAX_TIMEOUT_MS, META_PREFIX, STANDARD_METADATA_HEADERS } from './headers.js';
import { refTo } from './openapi-components.js';
import { statusTable } from './status-map.js';

/**
 * What the HTTP transport adds around every call, as OpenAPI describes it: the call headers, the
 * metadata headers, the credentials, and the statuses of failed calls with their error bodies.
 */

/**
 * Statuses the server answers a failed call with, each with the codes its error body may hold: the
 * status of each code's row in the status table (status-map.ts), and the three more precise ones
 * for refusals made before a call runs (docs/http.md, "Errors").
 */
function errorStatuses(): Map<number, string[]> {
  const statuses = new Map<number, string[]>();
  for (const [code, status] of statusTable()) {
    if (code !== 'OK') statuses.set(status, [...(statuses.get(status) ?? []), code]);
  }
  statuses.set(413, ['RESOURCE_EXHAUSTED']);
  statuses.set(415, ['INVALID_ARGUMENT']);
  statuses.set(431, ['RESOURCE_EXHAUSTED']);
  return new Map([...statuses].sort(([a], [b]) => a - b));
}

const WHY: Readonly<Record<number, string>> = {
  400: 'the arguments, a header or the body were refused, by the transport or by the method',
  401: 'no credentials, or credentials the server does not accept',
  403: 'the caller may not call this method',
  404: 'the service is not provided here in the version and group asked for (or the method said NOT_FOUND)',
  412: 'the method refused to run in the present state',
  413: 'the body, or one line of a request stream, is over the server\'s maxBodyBytes; the connection closes after the answer',
  415: 'the body is not application/json (application/x-ndjson for a request stream)',
  429: 'a limit of the server or of the method was reached',
  431: 'the request metadata is over the server\'s limits',
  499: 'the call was cancelled',
  500: 'the method threw (an error without a code is UNKNOWN), or its result could not be encoded as JSON',
  501: 'the method is not carried over HTTP (a bidi stream), or the method said UNIMPLEMENTED',
  503: 'the server is shutting down, or the method said UNAVAILABLE',
  504: 'the deadline (x-switchyard-timeout-ms, or the method\'s timeoutMs) passed',
};

const metadataNote = `Response metadata travels as ${META_PREFIX}<key> headers (${META_PREFIX}<key>-bin: base64 bytes), on errors too.`;

/** `components/responses`: one per error status, its body the error with the codes of that status. */
export function errorResponses(): Record<string, object> {
  return Object.fromEntries([...errorStatuses()].map(([status, codes]) => [String(status), {
    description: `${codes.join(' or ')}${WHY[status] ? `: ${WHY[status]}` : ''}. ${metadataNote}`,
    headers: { [Header.draining]: { $ref: '#/components/headers/draining' } },
    content: { 'application/json': { schema: { allOf: [refTo('switchyard.Error'), { properties: { code: { enum: codes } } }] } } },
  }]));
}

/** The responses of a failed call, for an operation's `responses`. */
export function errorResponseRefs(): Record<string, object> {
  const refs: Record<string, object> = {};
  for (const status of errorStatuses().keys()) refs[String(status)] = { $ref: `#/components/responses/${status}` };
  refs.default = { description: 'Any other failure (a proxy\'s, say); a Switchyard error body when the server wrote it', content: { 'application/json': { schema: refTo('switchyard.Error') } } };
  return refs;
}

/** `components/headers`: what the server adds to its answers. */
export const responseHeaders = {
  draining: { description: '1: the server is shutting down and closes this connection after the answer; prefer another provider', schema: { type: 'string', const: '1' } },
};

/** `components/parameters`: the call headers and the standard headers that are metadata. */
export function callParameterComponents(): Record<string, object> {
  const parameters: Record<string, object> = {
    timeout: {
      name: Header.timeout, in: 'header', required: false,
      description: 'The call\'s deadline, as whole milliseconds left (at most 12 digits); the server aborts the handler and answers 504 when it passes. 0 answers 504 at once.',
      schema: { type: 'integer', minimum: 0, maximum: MAX_TIMEOUT_MS },
    },
    oneWay: {
      name: Header.oneWay, in: 'header', required: false,
      description: '1: the server answers 202 as soon as the call is accepted and runs it without sending a result. Refused (400) for streaming methods.',
      schema: { type: 'string', const: '1' },
    },
  };
  for (const name of STANDARD_METADATA_HEADERS) {
    if (name === 'authorization') continue; // the security scheme says it
    parameters[`metadata.${name}`] = {
      name, in: 'header', required: false,
      description: name === 'last-event-id'
        ? 'The id of the last event an EventSource got: the metadata entry last-event-id, which a resumable stream resumes after'
        : `The metadata entry ${name} (text)`,
      schema: { type: 'string' },
    };
  }
  return parameters;
}

/** Credentials: a bearer token (opaque or a JWT), which is the metadata entry `authorization`. */
export const securitySchemes = {
  bearer: {
    type: 'http', scheme: 'bearer',
    description: 'Authorization: Bearer <token>, an opaque token or a JWT, checked when the server has authentication configured (docs/security.md); refusals are 401 and 403.',
  },
};

/**
 * The headers of a call to methods served under one name: version and group (their values
 * enumerated, required when the server cannot do without; not for a resource-style mapping, whose
 * path names one method), the deadline, one-way for unary methods, and the standard metadata headers.
 */
export function callParameters(entries: readonly MethodEntry[], routed = false): object[] {
  const versions = routed ? [] : distinct(entries.map((e) => e.service.key.version));
  const groups = routed ? [] : distinct(entries.map((e) => e.service.key.group));
  const headers: object[] = [];
  if (versions.length > 0) {
    // Without the header, the one version served under the name; with several, it must be said.
    const required = versions.length > 1 && entries.every((e) => e.service.key.version);
    headers.push({ name: Header.version, in: 'header', required, description: 'The service version', schema: { type: 'string', enum: versions } });
  }
  if (groups.length > 0) {
    const required = entries.every((e) => e.service.key.group);
    headers.push({ name: Header.group, in: 'header', required, description: 'The service group', schema: { type: 'string', enum: groups } });
  }
  const { stream, oneWay } = entries[0]!.options;
  headers.push({ $ref: '#/components/parameters/timeout' });
  if (stream === undefined && oneWay !== true) headers.push({ $ref: '#/components/parameters/oneWay' });
  for (const name of STANDARD_METADATA_HEADERS) {
    if (name === 'authorization' || (name === 'last-event-id' && stream !== 'server')) continue;
    headers.push({ $ref: `#/components/parameters/metadata.${name}` });
  }
  return headers;
}

function distinct(values: ReadonlyArray<string | undefined>): string[] {
  return [...new Set(values.filter((value): value is string => value !== undefined && value !== ''))];
}

/** What every operation's description says of metadata. */
export const metadataDescription = `Metadata: each entry is a header ${META_PREFIX}<key> (text: printable ASCII) or ${META_PREFIX}<key>-bin (bytes, base64); a / in a key is %2f. ${metadataNote}`;
