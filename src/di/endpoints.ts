import { createClient, type Client, type ClientOptions } from '../client.js';
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import type { RegistrySpec } from '../registry/index.js';
import { createServer, type CloseOptions, type Server, type ServerOptions } from '../server.js';

/** Where a container's providers are served and its proxies come from. */
export interface EndpointOptions {
  /**
   * The server that provides the `@Provide` classes: a `Server`, or the options of one for the
   * container to create. Needed only when something is provided.
   */
  server?: Server | ServerOptions;
  /**
   * The client that makes the `@Reference` proxies: a `Client`, or the options of one for the
   * container to create when the first proxy is needed. Default: a client with the container's `registry`.
   */
  client?: Client | ClientOptions;
  /** The registry of a server or client made from options that name none. Default `embedded`. */
  registry?: RegistrySpec;
}

/**
 * The server and client of a container, and who closes them: what was made from options is closed
 * by `close()`, and so is a server that `listen()` started; a `Client` object passed in stays open,
 * since others may be using it.
 */
export class Endpoints {
  readonly server: Server | undefined;
  readonly #ownsServer: boolean;
  readonly #clientOptions: ClientOptions | undefined;
  #client: Client | undefined;
  #listening = false;
  #clientClosed = false;

  constructor(options: EndpointOptions) {
    const { server, client, registry } = options;
    this.#ownsServer = server !== undefined && !isServer(server);
    this.server = server === undefined || isServer(server) ? server : createServer({ ...server, registry: server.registry ?? registry });
    if (client !== undefined && isClient(client)) this.#client = client;
    else this.#clientOptions = { ...client, registry: client?.registry ?? registry };
  }

  /** The client, made on first use when it was given as options. */
  get client(): Client {
    if (this.#client !== undefined) return this.#client;
    if (this.#clientClosed) throw new RpcError(Code.FAILED_PRECONDITION, 'the container is closed');
    return (this.#client = createClient(this.#clientOptions));
  }

  /** Starts the server; `close()` then closes it even if it was passed in. */
  listen(): Promise<string[]> {
    if (this.server === undefined) return Promise.reject(new RpcError(Code.FAILED_PRECONDITION, 'the container has no server: give it one with { server: { listen: [...] } }'));
    this.#listening = true;
    return this.server.listen();
  }

  /**
   * Closes in the order calls need: the server first, so that calls in flight finish while the
   * client they may call through is still open; then `between` (the container's own singletons);
   * then the client. Every step runs even if one before it failed.
   */
  async close(options: CloseOptions = {}, between?: () => Promise<void>): Promise<void> {
    const failures: unknown[] = [];
    const step = async (run: () => Promise<void>) => {
      try {
        await run();
      } catch (error) {
        failures.push(error);
      }
    };
    const server = this.server;
    if (server !== undefined && (this.#ownsServer || this.#listening)) await step(() => server.close(options));
    if (between !== undefined) await step(between);
    this.#clientClosed = true;
    const client = this.#client;
    if (client !== undefined && this.#clientOptions !== undefined) await step(() => client.close(options));
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, 'closing the container failed');
  }
}

function isServer(value: Server | ServerOptions): value is Server {
  return typeof (value as Partial<Server>).provide === 'function';
}

function isClient(value: Client | ClientOptions): value is Client {
  return typeof (value as Partial<Client>).proxy === 'function';
}
