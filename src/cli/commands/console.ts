// switchyard console --registry <spec>: a web console of a registry's services, providers and rules.
import { readFile } from 'node:fs/promises';
import { Code } from '../../core/code.js';
import { RpcError, errorMessage } from '../../core/rpc-error.js';
import { maskRegistryAddress } from '../../registry/zookeeper-address.js';
import type { Registry } from '../../registry/registry.js';
import { Exit, UsageError, millisOption, parseCommand, println, reportFailure, stderrLogger, type Command } from '../switchyard-command.js';
import { openForLooking } from '../switchyard-target.js';

const help = `Usage: switchyard console --registry <registry> [options]

Serves a web console of a registry until interrupted (Ctrl-C, SIGTERM): its services, providers
and consumers, call rates, error rates and p99 read from the providers' admin listeners, and
actions (disable or enable a provider, change its weight, set timeouts, add routing rules), each
written as a rule document into the registry. Prints the console's URL on standard output.

Options:
  --registry <registry>   embedded, embedded:///some/dir or zookeeper://host:port[/root]
  --listen <host:port>    where to listen (default 127.0.0.1:0, a free port)
  --token <token>         the token to log in with (at least 16 characters); needed to listen
                          beyond loopback. Prefer --token-file: a command line is visible to others
  --token-file <file>     read the token from a file
  --read-only             show only: no action is offered, every change is refused
  --admin <url>           an admin listener to read besides those providers announce, e.g. a
                          client's (for its circuit breakers and as a consumer); repeatable
  --admin-token <token>   sent as a bearer token to the admin listeners
  --interval <ms>         how often admin listeners and the registry are read (default 2000)
  -h, --help              this text

See docs/console.md.
`;

const MIN_TOKEN_LENGTH = 16;

export const consoleCommand: Command = {
  name: 'console',
  synopsis: '--registry <registry>',
  summary: 'web console: providers, rates, rules',
  help,
  async run(argv) {
    const { values } = parseCommand(argv, {
      registry: { type: 'string' },
      listen: { type: 'string' },
      token: { type: 'string' },
      'token-file': { type: 'string' },
      'read-only': { type: 'boolean' },
      admin: { type: 'string', multiple: true },
      'admin-token': { type: 'string' },
      interval: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    }, 0);
    const spec = values.registry;
    if (spec === undefined) throw new UsageError('--registry is required');
    const token = await tokenOf(values.token, values['token-file']);
    const intervalMs = millisOption(values.interval, 2000, '--interval');
    let registry: Registry | undefined;
    let console: { url: string; close(): Promise<void> } | undefined;
    try {
      registry = await openForLooking(spec);
      const { startConsole } = await import('../../console/index.js');
      console = await startConsole({
        registry,
        registryName: maskRegistryAddress(spec),
        listen: values.listen,
        token,
        readOnly: values['read-only'] === true,
        admins: values.admin ?? [],
        adminToken: values['admin-token'],
        intervalMs,
        logger: stderrLogger,
      }).catch((error: unknown) => {
        // A listen address that is not one, or beyond loopback without a token: the command line's fault.
        if (error instanceof RpcError && error.code === Code.INVALID_ARGUMENT) throw new UsageError(error.message);
        throw error;
      });
      println(`console: ${console.url}`);
      await untilSignal();
      return Exit.OK;
    } catch (error) {
      return reportFailure(error, `console ${maskRegistryAddress(spec)}`);
    } finally {
      await console?.close();
      await registry?.close();
    }
  },
};

async function tokenOf(given: string | undefined, file: string | undefined): Promise<string | undefined> {
  if (given !== undefined && file !== undefined) throw new UsageError('give --token or --token-file, not both');
  let token = given;
  if (file !== undefined) {
    try {
      token = (await readFile(file, 'utf8')).trim();
    } catch (error) {
      throw new UsageError(`cannot read --token-file ${file}: ${errorMessage(error)}`);
    }
  }
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
    throw new UsageError(`the token must have at least ${MIN_TOKEN_LENGTH} characters (make one with: openssl rand -hex 16)`);
  }
  return token;
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
