import { errorMessage } from '../core/rpc-error.js';
import { adminGet } from './admin-fetch.js';
import { SERVER_METRICS_PREFIX, countersByService, ratesBetween, type CallRates, type ServiceCounters } from './call-rates.js';
import { parseSamples } from './prometheus-text.js';

/** A provider as a client's `/providers` shows it: what that client sees, breakers included. */
export interface ClientSeenProvider {
  readonly service: string;
  readonly address: string;
  readonly available: boolean;
  readonly breakers: ReadonlyArray<{ readonly method: string; readonly state: string }>;
}

/** The last reading of one admin listener. */
export interface AdminReport {
  readonly url: string;
  /** From its `/status`: a server lists addresses, a client references. */
  readonly kind: 'server' | 'client' | 'unknown';
  readonly ok: boolean;
  readonly error?: string;
  /** A server's listening addresses. */
  readonly addresses: readonly string[];
  /** A server's call rates by service id. */
  readonly rates: ReadonlyMap<string, CallRates>;
  /** A client's references (service ids). */
  readonly references: readonly string[];
  /** What a client sees of its providers. */
  readonly providers: readonly ClientSeenProvider[];
}

export interface AdminScraperOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Sent as `authorization: Bearer …` to every admin listener. */
  readonly token?: string;
}

interface Previous {
  readonly at: number;
  readonly counters: Map<string, ServiceCounters>;
}

// Stop reading the admin listeners once nobody has looked at the console for this long.
const IDLE_AFTER_MS = 60_000;

/**
 * Reads a set of admin listeners every `intervalMs` while the console is being looked at: `/status`
 * to tell servers from clients, a server's `/metrics` for its call rates, a client's `/providers`
 * for its breakers. The set is the `--admin` URLs plus those announced in the registry.
 */
export class AdminScraper {
  readonly #options: AdminScraperOptions;
  readonly #fixed: ReadonlySet<string>;
  #announced = new Set<string>();
  readonly #reports = new Map<string, AdminReport>();
  readonly #previous = new Map<string, Previous>();
  #timer?: NodeJS.Timeout;
  #running?: Promise<void>;
  #lookedAt = Date.now();
  #closed = false;

  constructor(fixed: readonly string[], options: AdminScraperOptions) {
    this.#fixed = new Set(fixed);
    this.#options = options;
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.round(), this.#options.intervalMs).unref();
    void this.round();
  }

  /** The admin URLs announced by the registry's providers now; those that left are forgotten. */
  track(urls: Iterable<string>): void {
    this.#announced = new Set(urls);
    for (const url of this.#reports.keys()) {
      if (!this.#wanted(url)) {
        this.#reports.delete(url);
        this.#previous.delete(url);
      }
    }
  }

  /** Someone looked at the console: keep reading. */
  touch(): void {
    const idle = Date.now() - this.#lookedAt > IDLE_AFTER_MS;
    this.#lookedAt = Date.now();
    if (idle) void this.round();
  }

  reports(): AdminReport[] {
    return [...this.#reports.values()];
  }

  report(url: string): AdminReport | undefined {
    return this.#reports.get(url);
  }

  /** Reads every admin listener once (a round in progress is joined, not doubled). */
  round(): Promise<void> {
    if (this.#closed || Date.now() - this.#lookedAt > IDLE_AFTER_MS) return Promise.resolve();
    this.#running ??= Promise.all([...this.#fixed, ...this.#announced].map((url) => this.#read(url))).then(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#running;
  }

  #wanted(url: string): boolean {
    return this.#fixed.has(url) || this.#announced.has(url);
  }

  async #read(url: string): Promise<void> {
    let report: AdminReport;
    try {
      report = await this.#readOk(url);
    } catch (error) {
      const last = this.#reports.get(url);
      report = { ...(last ?? empty(url, 'unknown')), ok: false, error: errorMessage(error) };
    }
    if (this.#wanted(url) && !this.#closed) this.#reports.set(url, report);
  }

  async #readOk(url: string): Promise<AdminReport> {
    const get = (path: string) => adminGet(url, path, this.#options.timeoutMs, this.#headers());
    const status = asRecord(JSON.parse(await get('/status')));
    if (Array.isArray(status.references)) {
      const seen = asRecord(JSON.parse(await get('/providers')));
      return { ...empty(url, 'client'), references: strings(status.references), providers: clientProviders(seen) };
    }
    const addresses = strings(status.addresses);
    if (status.metrics === false) return { ...empty(url, 'server'), addresses, error: 'metrics are off in this server' };
    const at = Date.now();
    const counters = countersByService(parseSamples(await get('/metrics'), SERVER_METRICS_PREFIX));
    const previous = this.#previous.get(url);
    this.#previous.set(url, { at, counters });
    const seconds = previous === undefined ? 0 : (at - previous.at) / 1000;
    const rates = new Map<string, CallRates>();
    for (const [service, now] of counters) rates.set(service, ratesBetween(previous?.counters.get(service), now, seconds));
    return { ...empty(url, 'server'), addresses, rates };
  }

  #headers(): Record<string, string> {
    return this.#options.token === undefined ? {} : { authorization: `Bearer ${this.#options.token}` };
  }
}

function empty(url: string, kind: AdminReport['kind']): AdminReport {
  return { url, kind, ok: true, addresses: [], rates: new Map(), references: [], providers: [] };
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** A client's `/providers` answer: `{ services: [{ service, providers: [{ address, available, breakers }] }] }`. */
function clientProviders(answer: Record<string, unknown>): ClientSeenProvider[] {
  const seen: ClientSeenProvider[] = [];
  for (const entry of Array.isArray(answer.services) ? answer.services : []) {
    const { service, providers } = asRecord(entry);
    if (typeof service !== 'string' || !Array.isArray(providers)) continue;
    for (const item of providers) {
      const provider = asRecord(item);
      if (typeof provider.address !== 'string') continue;
      const breakers = (Array.isArray(provider.breakers) ? provider.breakers : []).map(asRecord)
        .filter((b) => typeof b.method === 'string' && typeof b.state === 'string')
        .map((b) => ({ method: b.method as string, state: b.state as string }));
      seen.push({ service, address: provider.address, available: provider.available === true, breakers });
    }
  }
  return seen;
}
