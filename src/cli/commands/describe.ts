// switchyard describe <registry|url> <service>: the methods of a service and their options.
import { createClient, type Client } from '../../client.js';
import { Code } from '../../core/code.js';
import { RpcError } from '../../core/rpc-error.js';
import { serviceId, type ServiceKey } from '../../core/service.js';
import type { Provider } from '../../registry/provider.js';
import type { Registry } from '../../registry/registry.js';
import { Exit, millisOption, parseCommand, println, reportFailure, stderrLogger, toJson, type Command } from '../switchyard-command.js';
import { gatherFacts, keyMatches, type ServiceFacts } from '../switchyard-facts.js';
import { introspect, type MethodInfo, type ServiceInfo } from '../switchyard-introspection.js';
import { openForLooking, parseTarget, providerJson } from '../switchyard-target.js';

const help = `Usage: switchyard describe <registry|url> <service> [options]

Prints the methods of a service and their options. From a url (tcp://, http://, grpc://…), the
server says (switchyard.Introspection): each version and group it provides, each method with
stream, oneWay, idempotent and timeoutMs. From a registry: the versions, groups and methods its
providers announce, and the options one of them gives, if it can.

Options:
  --json            one JSON document: { "service", "keys": [{ "version", "group", "methods", "providers"? }] }
  --timeout <ms>    how long to wait for the registry and the server (default 5000)
  --token <token>   sent as authorization: Bearer <token> when asking the server
  -h, --help        this text
`;

/** One version and group of the service, as `describe` shows it. */
interface KeyView {
  version: string | null;
  group: string | null;
  methods: MethodInfo[];
  providers?: Record<string, unknown>[];
}

export const describe: Command = {
  name: 'describe',
  synopsis: '<registry|url> <service>',
  summary: 'methods and their options',
  help,
  async run(argv) {
    const { values, positionals } = parseCommand(argv, {
      json: { type: 'boolean' },
      timeout: { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    }, 2);
    const [targetText, service] = positionals as [string, string];
    const waitMs = millisOption(values.timeout, 5000);
    const target = parseTarget(targetText);
    const json = values.json === true;
    let registry: Registry | undefined;
    let client: Client | undefined;
    try {
      if (target.kind === 'registry') registry = await openForLooking(target.spec);
      client = createClient({ ...(target.kind === 'url' ? { url: target.url } : { registry }), credentials: values.token, logger: stderrLogger });
      // A url is asked directly, so that its own answer (NOT_FOUND: not provided here) is what is reported.
      const facts: ServiceFacts = target.kind === 'url'
        ? { described: await introspect(client, service, waitMs), describedBy: target.url }
        : await gatherFacts({ target, client, registry, token: values.token, waitMs }, service);
      const keys = keyViews(facts);
      if (json) println(toJson({ service, describedBy: facts.described ? facts.describedBy : null, keys }));
      else printKeys(service, keys, facts);
      return keys.length > 0 ? Exit.OK : reportFailure(new RpcError(Code.NOT_FOUND, `${service} is not provided there`), `describe ${service}`, json);
    } catch (error) {
      return reportFailure(error, `describe ${service}`, json);
    } finally {
      await client?.close({ timeoutMs: 1000 });
      await registry?.close();
    }
  },
};

/** One view per version and group: from the providers when a registry lists them, else from the description. */
function keyViews(facts: ServiceFacts): KeyView[] {
  const described = (key: ServiceKey): ServiceInfo | undefined => facts.described?.find((info) => keyMatches(info, key));
  if (facts.providers === undefined) {
    return (facts.described ?? []).map((info) => ({ version: info.version ?? null, group: info.group ?? null, methods: [...info.methods] }));
  }
  const byKey = new Map<string, { key: ServiceKey; providers: Provider[] }>();
  for (const provider of facts.providers) {
    const id = serviceId(provider.service);
    const entry = byKey.get(id) ?? { key: provider.service, providers: [] };
    entry.providers.push(provider);
    byKey.set(id, entry);
  }
  return [...byKey.values()].map(({ key, providers }) => {
    const options = new Map((described(key)?.methods ?? []).map((method) => [method.name, method]));
    const names = [...new Set(providers.flatMap((provider) => provider.methods))].sort();
    return {
      version: key.version ?? null,
      group: key.group ?? null,
      methods: names.map((name) => options.get(name) ?? { name }),
      providers: providers.map(providerJson),
    };
  });
}

function printKeys(service: string, keys: KeyView[], facts: ServiceFacts): void {
  for (const key of keys) {
    println(`${service}  version ${key.version ?? '-'}  group ${key.group ?? '-'}`);
    for (const method of key.methods) println(`  ${method.name}${flags(method)}`);
    if (key.providers) println(`  providers: ${key.providers.map((provider) => String(provider.address)).join(', ')}`);
  }
  if (facts.providers !== undefined && facts.described === undefined) {
    println('(method options unknown: no provider answered switchyard.Introspection)');
  }
}

function flags(method: MethodInfo): string {
  const parts: string[] = [];
  if (method.stream === 'server') parts.push('stream=server');
  if (method.oneWay === true) parts.push('oneWay');
  if (method.idempotent === true) parts.push('idempotent');
  if (typeof method.timeoutMs === 'number') parts.push(`timeoutMs=${method.timeoutMs}`);
  return parts.length > 0 ? `  (${parts.join(', ')})` : '';
}
