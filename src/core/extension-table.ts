import { Code } from './code.js';
import { RpcError } from './rpc-error.js';

/** What an extension is registered under: a plain name, or the scheme of the addresses it serves. */
export type ExtensionKey = 'name' | 'scheme';

// Names start with a letter so that they read as words in options and in error messages.
const namePattern = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;
// RFC 3986 scheme syntax, lower case: `new URL()` reports schemes in lower case.
const schemePattern = /^[a-z][a-z0-9+.-]{0,31}$/;

/**
 * The implementations of one extension point (load balancers, registries, ...) by the name options
 * choose them with. The built-in ones are entries like any other, so a user's implementation plugs
 * in the way ours do.
 *
 * A name is registered once per process: registering a taken name throws, so that no module can
 * quietly change what another one asked for by name (a built-in name included).
 */
export class ExtensionTable<T> {
  readonly #entries = new Map<string, T>();

  /**
   * @param kind what an entry is, for messages: `'load balancer'`.
   * @param isEntry checks an entry's shape before it is accepted, since plain JavaScript callers exist.
   */
  constructor(
    readonly kind: string,
    private readonly key: ExtensionKey,
    private readonly isEntry: (value: unknown) => value is T,
    builtIns: Iterable<readonly [string, T]>,
  ) {
    for (const [name, entry] of builtIns) this.register(name, entry);
  }

  /** Adds an entry; throws INVALID_ARGUMENT for an invalid or taken name, or an entry of the wrong shape. */
  register(name: string, entry: T): void {
    const pattern = this.key === 'scheme' ? schemePattern : namePattern;
    if (typeof name !== 'string' || !pattern.test(name)) {
      const rule = this.key === 'scheme'
        ? 'a URL scheme in lower case (a letter, then letters, digits, +, . or -)'
        : 'a letter, then up to 63 letters, digits, ., _ or -';
      throw new RpcError(Code.INVALID_ARGUMENT, `invalid ${this.kind} ${this.key} ${JSON.stringify(name)}: use ${rule}`);
    }
    if (this.#entries.has(name)) {
      throw new RpcError(Code.INVALID_ARGUMENT, `a ${this.kind} ${this.key} ${JSON.stringify(name)} is already registered; register yours under another ${this.key}`);
    }
    if (!this.isEntry(entry)) {
      throw new RpcError(Code.INVALID_ARGUMENT, `the ${this.kind} registered as ${JSON.stringify(name)} does not have the expected shape`);
    }
    this.#entries.set(name, entry);
  }

  /** The entry registered as `name`; throws INVALID_ARGUMENT listing the known names when there is none. */
  get(name: string, given: string = name): T {
    const entry = this.#entries.get(name);
    if (entry === undefined) {
      const where = given === name ? '' : ` in ${JSON.stringify(given)}`;
      throw new RpcError(Code.INVALID_ARGUMENT, `unknown ${this.kind} ${JSON.stringify(name)}${where}; known: ${this.names.join(', ')}`);
    }
    return entry;
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** Every registered name, built-in ones first, in the order they were registered. */
  get names(): string[] {
    return [...this.#entries.keys()];
  }
}
