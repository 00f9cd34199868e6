import type { Invocation, TransportCallOptions } from './invocation.js';
import type { Principal } from './principal.js';
import { Metadata } from './metadata.js';
import type { ServiceDefinition } from './service.js';

/** A call on the client side; its metadata objects are made only when something touches them. */
export class ClientCall<Route = unknown> implements Invocation {
  transportOptions?: TransportCallOptions;
  /** Whether the caller gave this call its deadline (a timeout or deadline option), which no traffic rule overrides. */
  callerDeadline = false;
  private request: Metadata | undefined;
  private response: Metadata | undefined;

  constructor(
    readonly service: ServiceDefinition,
    readonly method: string,
    public args: unknown[],
    request: Metadata | undefined,
    readonly deadline: number | undefined,
    readonly signal: AbortSignal | undefined,
    readonly oneWay: boolean,
    /** Where the call goes: the client's reference to the service (opaque to the core). */
    readonly route: Route,
  ) {
    this.request = request;
  }

  get metadata(): Metadata {
    return (this.request ??= new Metadata());
  }

  /** Whether any request metadata was given or touched, without creating it. */
  get hasRequestMetadata(): boolean {
    return this.request !== undefined;
  }

  get responseMetadata(): Metadata {
    return (this.response ??= new Metadata());
  }

  /** The response metadata if the server sent any. */
  get receivedMetadata(): Metadata | undefined {
    return this.response;
  }
}

/**
 * The request metadata of a call, or undefined if it has none: for a `ClientCall` whose metadata
 * nothing touched, without making an empty one (a Metadata and its Map per call, on the hot path).
 */
export function requestMetadataOf(call: Invocation): Metadata | undefined {
  if (call instanceof ClientCall) return call.hasRequestMetadata ? call.metadata : undefined;
  return call.metadata;
}

/**
 * The call as sent once, with request metadata of its own that starts as a copy of the call's:
 * what one attempt adds (a provider's token, a `traceparent`) stays with that attempt, even when
 * attempts are forked at once. Everything else is the call's own.
 */
export function withOwnMetadata(call: Invocation): Invocation {
  return new OwnMetadataCall(call);
}

class OwnMetadataCall implements Invocation {
  readonly metadata: Metadata;

  constructor(private readonly call: Invocation) {
    this.metadata = new Metadata(requestMetadataOf(call));
  }

  get service(): ServiceDefinition { return this.call.service; }
  get method(): string { return this.call.method; }
  get args(): unknown[] { return this.call.args; }
  set args(args: unknown[]) { this.call.args = args; }
  get responseMetadata(): Metadata { return this.call.responseMetadata; }
  get deadline(): number | undefined { return this.call.deadline; }
  get signal(): AbortSignal | undefined { return this.call.signal; }
  get oneWay(): boolean { return this.call.oneWay; }
  get principal(): Principal | undefined { return this.call.principal; }
  get transportOptions(): Readonly<TransportCallOptions> | undefined { return this.call.transportOptions; }
}
