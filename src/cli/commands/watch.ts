// switchyard watch <registry> [service]: provider changes as they happen, until SIGINT or SIGTERM.
import { errorMessage } from '../../core/rpc-error.js';
import { loggedProviderUrl, type Provider } from '../../registry/provider.js';
import type { Registry } from '../../registry/registry.js';
import { Exit, parseCommand, println, reportFailure, millisOption, toJson, warn, type Command } from '../switchyard-command.js';
import { openForLooking, providerJson, serviceNames } from '../switchyard-target.js';

const help = `Usage: switchyard watch <registry> [service] [options]

Prints the providers there are, then every change, one line each, until interrupted (Ctrl-C,
SIGTERM), and exits 0:
  + tcp://127.0.0.1:20880/demo.Calculator?version=1.0.0&methods=add&...   a provider appeared
  - tcp://127.0.0.1:20880/demo.Calculator?version=1.0.0&methods=add&...   a provider left
Without a service, every service of the registry is watched, new ones included.

Options:
  --json             JSON lines: { "change": "added"|"removed", "service", "provider": {...} }
  --interval <ms>    how often to look for new services when watching them all (default 1000)
  -h, --help         this text
`;

export const watch: Command = {
  name: 'watch',
  synopsis: '<registry> [service]',
  summary: 'provider changes, live',
  help,
  async run(argv) {
    const { values, positionals } = parseCommand(argv, {
      json: { type: 'boolean' },
      interval: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    }, 1, 2);
    const [spec, only] = positionals as [string, string | undefined];
    const intervalMs = millisOption(values.interval, 1000, '--interval');
    const json = values.json === true;
    let registry: Registry | undefined;
    const watcher = new ProviderPrinter(json);
    try {
      registry = await openForLooking(spec);
      const stopped = untilSignal();
      if (only !== undefined) watcher.follow(registry, only);
      else await followAll(registry, watcher, intervalMs, stopped.promise);
      await stopped.promise;
      return Exit.OK;
    } catch (error) {
      return reportFailure(error, `watch ${spec}`, json);
    } finally {
      watcher.stop();
      await registry?.close();
    }
  },
};

/** Subscribes to every service of the registry, looking for new ones every `intervalMs` until `stopped`. */
async function followAll(registry: Registry, watcher: ProviderPrinter, intervalMs: number, stopped: Promise<void>): Promise<void> {
  for (const name of await serviceNames(registry)) watcher.follow(registry, name);
  let looking = false;
  let done = false;
  const timer = setInterval(() => {
    if (looking) return;
    looking = true;
    serviceNames(registry)
      .then((names) => names.forEach((name) => !done && watcher.follow(registry, name)))
      // A registry out of reach for a while: the subscriptions keep what they know; look again later.
      .catch((error: unknown) => done || warn(`cannot list the services: ${errorMessage(error)}`))
      .finally(() => (looking = false));
  }, intervalMs);
  void stopped.then(() => {
    done = true;
    clearInterval(timer);
  });
}

/** Resolves on the first SIGINT or SIGTERM, so the command can leave the registry and exit 0. */
function untilSignal(): { promise: Promise<void> } {
  return {
    promise: new Promise((resolve) => {
      // Registries watch with unreferenced timers and watchers: something must keep the process up.
      const alive = setInterval(() => {}, 1 << 30);
      const stop = () => {
        clearInterval(alive);
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
        resolve();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    }),
  };
}

/** The providers last seen per service, and a line per difference. */
class ProviderPrinter {
  private readonly seen = new Map<string, Map<string, Provider>>();
  private readonly stops: (() => void)[] = [];

  constructor(private readonly json: boolean) {}

  follow(registry: Registry, name: string): void {
    if (this.seen.has(name)) return;
    this.seen.set(name, new Map());
    this.stops.push(registry.subscribe({ name }, (providers) => this.changed(name, providers)));
  }

  stop(): void {
    for (const stop of this.stops.splice(0)) stop();
  }

  private changed(name: string, providers: Provider[]): void {
    const before = this.seen.get(name)!;
    const now = new Map(providers.map((provider) => [loggedProviderUrl(provider), provider]));
    for (const [url, provider] of before) if (!now.has(url)) this.print('removed', name, url, provider);
    for (const [url, provider] of now) if (!before.has(url)) this.print('added', name, url, provider);
    this.seen.set(name, now);
  }

  private print(change: 'added' | 'removed', service: string, url: string, provider: Provider): void {
    if (this.json) println(toJson({ change, service, provider: providerJson(provider) }));
    else println(`${change === 'added' ? '+' : '-'} ${url}`);
  }
}
