// switchyard ls <registry> [service]: the services of a registry and their providers.
import type { Provider } from '../../registry/provider.js';
import { Exit, parseCommand, println, reportFailure, millisOption, toJson, type Command } from '../switchyard-command.js';
import { currentProviders, openForLooking, providerJson, serviceNames } from '../switchyard-target.js';

const help = `Usage: switchyard ls <registry> [service] [options]

Lists the services of a registry and their providers: address, protocol, version, group, weight.
A registry is embedded (the default folder), embedded:///some/dir or zookeeper://host:port[/root].

Options:
  --json            one JSON document: { "services": [{ "name", "providers": [...] }] }
  --timeout <ms>    how long to wait for the registry's answer (default 5000)
  -h, --help        this text
`;

export const ls: Command = {
  name: 'ls',
  synopsis: '<registry> [service]',
  summary: 'services and their providers',
  help,
  async run(argv) {
    const { values, positionals } = parseCommand(argv, {
      json: { type: 'boolean' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    }, 1, 2);
    const [spec, only] = positionals as [string, string | undefined];
    const timeoutMs = millisOption(values.timeout, 5000);
    const json = values.json === true;
    let registry;
    try {
      registry = await openForLooking(spec);
      const names = only === undefined ? await serviceNames(registry) : [only];
      const open = registry;
      const listed = await Promise.all(names.map(async (name) => ({ name, providers: sortByUrl(await currentProviders(open, name, timeoutMs, only === undefined)) })));
      if (json) println(toJson({ services: listed.map(({ name, providers }) => ({ name, providers: providers.map(providerJson) })) }));
      else printTable(listed);
      return Exit.OK;
    } catch (error) {
      return reportFailure(error, `ls ${spec}`, json);
    } finally {
      await registry?.close();
    }
  },
};

function sortByUrl(providers: Provider[]): Provider[] {
  return providers.sort((a, b) => a.address.localeCompare(b.address));
}

/** Aligned columns, one row per provider; a service without providers says so on its row. */
function printTable(listed: { name: string; providers: Provider[] }[]): void {
  const rows: string[][] = [['SERVICE', 'ADDRESS', 'PROTOCOL', 'VERSION', 'GROUP', 'WEIGHT']];
  for (const { name, providers } of listed) {
    if (providers.length === 0) rows.push([name, '(no providers)']);
    for (const provider of providers) {
      rows.push([name, provider.address, provider.protocol, provider.service.version ?? '-', provider.service.group ?? '-', String(provider.weight)]);
    }
  }
  if (listed.length === 0) {
    println('(no services)');
    return;
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0)));
  for (const row of rows) println(row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  '));
}
