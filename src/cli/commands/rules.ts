// switchyard rules get|put|delete|ls: the traffic rule documents a registry keeps.
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { Code } from '../../core/code.js';
import { RpcError, errorMessage } from '../../core/rpc-error.js';
import type { Registry } from '../../registry/registry.js';
import { checkRuleId } from '../../rules/store-keys.js';
import { RULE_KINDS, type RuleId, type RuleKind, type RuleStore } from '../../rules/types.js';
import { Exit, UsageError, parseCommand, println, reportFailure, toJson, warn, type Command } from '../switchyard-command.js';
import { openForLooking } from '../switchyard-target.js';

const help = `Usage: switchyard rules <get|put|delete|ls> [arguments] [options]

The traffic rules a registry keeps, YAML documents that consumers and providers follow while
running (Dubbo's configurators, condition routers and tag routers; see docs/rules.md):
  switchyard rules get <key> <kind>             prints the document as it was written
  switchyard rules put <key> <kind> <file|->    writes it from a file, or from standard input with -
  switchyard rules delete <key> <kind>          removes it
  switchyard rules ls                           lists the documents, by key and kind

A kind is ${RULE_KINDS.join(', ')}. A service's rules have the key name:version:group, an
empty part left empty (demo.Calculator:1.0.0:, demo.Calculator::), as Dubbo and Dubbo Admin name
them; an application's rules (and every tag router) its application name. put does not check what
a rule says; it warns when the text is not valid YAML, and writes it as it is.

Options:
  --registry <spec>   embedded (the default folder), embedded:///some/dir or zookeeper://host:port[/root]
  --json              get: { "key", "kind", "text" }; put: { "key", "kind", "bytes" };
                      delete: { "key", "kind", "removed" }; ls: { "rules": [{ "key", "kind" }] }
  -h, --help          this text
`;

/** How many arguments each action takes after its name. */
const arity = { get: 2, put: 3, delete: 2, ls: 0 } as const;
type Action = keyof typeof arity;

export const rules: Command = {
  name: 'rules',
  synopsis: 'get|put|delete|ls [key kind [file|-]]',
  summary: 'traffic rules: read, write, remove, list',
  help,
  async run(argv) {
    const [action, ...rest] = argv;
    if (action === undefined) throw new UsageError('missing the action: get, put, delete or ls');
    if (!Object.hasOwn(arity, action)) throw new UsageError(`unknown action ${JSON.stringify(action)}: use get, put, delete or ls`);
    const count = arity[action as Action];
    const { values, positionals } = parseCommand(rest, {
      registry: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    }, count, count);
    const json = values.json === true;
    const id = action === 'ls' ? undefined : ruleIdArgument(positionals[0]!, positionals[1]!);
    // Read before the registry opens: a file that cannot be read is a mistake of the command line.
    const text = action === 'put' ? await readSource(positionals[2]!) : undefined;
    const spec = values.registry ?? 'embedded';
    let registry: Registry | undefined;
    try {
      registry = await openForLooking(spec);
      const store = rulesOf(registry);
      if (action === 'get') await get(store, id!, json);
      else if (action === 'put') await put(store, id!, text!, positionals[2]!, json);
      else if (action === 'delete') await remove(store, id!, json);
      else await list(store, json);
      return Exit.OK;
    } catch (error) {
      return reportFailure(error, `rules ${action}${id ? ` ${id.key} ${id.kind}` : ''}`, json);
    } finally {
      await registry?.close();
    }
  },
};

async function get(store: RuleStore, id: RuleId, json: boolean): Promise<void> {
  const text = await store.get(id);
  if (text === undefined) throw new RpcError(Code.NOT_FOUND, `no ${id.kind} rule for ${id.key}`);
  if (json) println(toJson({ key: id.key, kind: id.kind, text }));
  else process.stdout.write(text);
}

async function put(store: RuleStore, id: RuleId, text: string, source: string, json: boolean): Promise<void> {
  // The parsers judge what a rule says; here only whether it is YAML at all.
  const [problem] = parseDocument(text).errors;
  if (problem !== undefined) {
    warn(`warning: ${source === '-' ? 'standard input' : source} is not valid YAML (${problem.message.split('\n')[0]!.replace(/:$/, '')}); writing it as it is`);
  }
  await store.put(id, text);
  const bytes = Buffer.byteLength(text);
  println(json ? toJson({ key: id.key, kind: id.kind, bytes }) : `rules put: wrote ${id.kind} ${id.key} (${bytes} bytes)`);
}

async function remove(store: RuleStore, id: RuleId, json: boolean): Promise<void> {
  // Removing an absent rule is no failure; the message only says which it was.
  const removed = (await store.get(id)) !== undefined;
  await store.delete(id);
  println(json ? toJson({ key: id.key, kind: id.kind, removed }) : `rules delete: ${removed ? 'removed' : 'there was no'} ${id.kind} ${id.key}`);
}

async function list(store: RuleStore, json: boolean): Promise<void> {
  const ids = await store.list();
  if (json) {
    println(toJson({ rules: ids.map(({ key, kind }) => ({ key, kind })) }));
    return;
  }
  if (ids.length === 0) {
    println('(no rules)');
    return;
  }
  const width = Math.max('KEY'.length, ...ids.map(({ key }) => key.length));
  println(`${'KEY'.padEnd(width)}  KIND`);
  for (const { key, kind } of ids) println(`${key.padEnd(width)}  ${kind}`);
}

/** The rule named on the command line; a kind or key no store takes is a usage error. */
function ruleIdArgument(key: string, kind: string): RuleId {
  const id = { key, kind: kind as RuleKind };
  try {
    checkRuleId(id);
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
  return id;
}

function rulesOf(registry: Registry): RuleStore {
  if (registry.rules === undefined) throw new RpcError(Code.UNIMPLEMENTED, 'this registry keeps no rules');
  return registry.rules;
}

/** The text of `source`, a file or `-` for standard input. */
async function readSource(source: string): Promise<string> {
  try {
    if (source !== '-') return await readFile(source, 'utf8');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${source === '-' ? 'standard input' : source}: ${errorMessage(error)}`);
  }
}
