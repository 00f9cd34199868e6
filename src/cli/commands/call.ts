// switchyard call <registry|url> <service> <method> [json args…]: one call from the shell.
import { createClient, type CallOptions, type Client } from '../../client.js';
import { Metadata } from '../../core/metadata.js';
import { defineService, type MethodOptions } from '../../core/service.js';
import type { ReferenceOptions } from '../../reference.js';
import type { Registry } from '../../registry/registry.js';
import { Exit, UsageError, millisOption, parseCommand, println, reportFailure, stderrLogger, toJson, type Command } from '../switchyard-command.js';
import { describedKey, gatherFacts, type Reach } from '../switchyard-facts.js';
import { methodOptions } from '../switchyard-introspection.js';
import { chooseKey, openForLooking, parseTarget } from '../switchyard-target.js';

const help = `Usage: switchyard call <registry|url> <service> <method> [json args…] [options]

Calls a method and prints its result as JSON; a server-streaming method prints one JSON line per
item. Each argument is a JSON value: 1, true, '"text"', '{"a":1}', '[1,2]'. Put a negative number
after -- (call … add -- -1 2). The method's options (streaming, one-way, deadline) are asked of the
server (switchyard.Introspection); a server that cannot say is called as a unary method.

Options:
  -H, --header <key:value>  metadata sent with the call (repeatable)
  --timeout <ms>            deadline of the call (default: the method's, else none)
  --version <version>       version of the service (exact, or a range such as ^1.2.0)
  --group <group>           group of the service
  --protocol <name>         reach registry-found providers over this protocol (tcp, http, grpc, amqp)
  --token <token>           sent as authorization: Bearer <token>
  --stream                  call the method as server-streaming even if the server cannot say so
  --raw-strings             an argument that is not JSON is a string (hello for '"hello"')
  --json                    { "result": … } or { "error": { "code", "message", "details" } };
                            a stream prints { "item": … } lines
  -h, --help                this text
`;

const options = {
  header: { type: 'string', short: 'H', multiple: true },
  timeout: { type: 'string' },
  version: { type: 'string' },
  group: { type: 'string' },
  protocol: { type: 'string' },
  token: { type: 'string' },
  stream: { type: 'boolean' },
  'raw-strings': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const call: Command = {
  name: 'call',
  synopsis: '<registry|url> <service> <method> [json args…]',
  summary: 'calls a method, prints the result as JSON',
  help,
  async run(argv) {
    const { values, positionals } = parseCommand(argv, options, 3, Infinity);
    const [targetText, service, method, ...texts] = positionals as [string, string, string, ...string[]];
    const args = texts.map((text) => argument(text, values['raw-strings'] === true));
    const metadata = headers(values.header ?? []);
    const timeoutMs = millisOption(values.timeout, undefined);
    const target = parseTarget(targetText);
    if (target.kind === 'url' && values.protocol !== undefined) {
      throw new UsageError(`--protocol chooses among registry-found providers; ${targetText} names its protocol itself`);
    }
    const json = values.json === true;
    let registry: Registry | undefined;
    let client: Client | undefined;
    try {
      if (target.kind === 'registry') registry = await openForLooking(target.spec);
      client = createClient({
        ...(target.kind === 'url' ? { url: target.url } : { registry }),
        protocol: values.protocol,
        credentials: values.token,
        logger: stderrLogger,
      });
      const reach: Reach = { target, client, registry, token: values.token, protocol: values.protocol, waitMs: Math.min(timeoutMs ?? 5000, 5000) };
      const wanted = { version: values.version, group: values.group };
      const facts = await gatherFacts(reach, service, wanted);
      const served = facts.providers?.map((provider) => provider.service) ?? facts.described;
      const key = served === undefined ? wanted : chooseKey(service, served, wanted);
      const declared = methodOptions(describedKey(facts, key)?.methods.find((info) => info.name === method));
      const methodOpts: MethodOptions = values.stream === true ? { ...declared, stream: 'server' } : declared;
      const definition = defineService<unknown>(service, { methods: { [method]: methodOpts } });
      const callOptions: CallOptions & ReferenceOptions = { metadata, timeoutMs, version: key.version, group: key.group };
      const result = await client.invoke(definition, method, args, callOptions);
      if (methodOpts.stream === 'server') {
        for await (const item of result as AsyncIterable<unknown>) println(toJson(json ? { item } : item));
      } else {
        println(json ? toJson({ result }) : toJson(result, 2));
      }
      return Exit.OK;
    } catch (error) {
      return reportFailure(error, `call ${service}/${method}`, json);
    } finally {
      await client?.close({ timeoutMs: 1000 });
      await registry?.close();
    }
  },
};

/** One argument: a JSON value, or with `--raw-strings` the text itself when it is not JSON. */
function argument(text: string, rawStrings: boolean): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    if (rawStrings) return text;
    throw new UsageError(`argument ${JSON.stringify(text)} is not JSON: quote a string ('"${text}"') or pass --raw-strings`);
  }
}

/** `-H key:value` options as metadata; the key is checked by `Metadata` (lower-case, no spaces). */
function headers(pairs: readonly string[]): Metadata | undefined {
  if (pairs.length === 0) return undefined;
  const metadata = new Metadata();
  for (const pair of pairs) {
    const colon = pair.indexOf(':');
    if (colon <= 0) throw new UsageError(`-H takes key:value, not ${JSON.stringify(pair)}`);
    try {
      metadata.set(pair.slice(0, colon).trim(), pair.slice(colon + 1).trim());
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  return metadata;
}
