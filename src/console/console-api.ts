import type { IncomingMessage, ServerResponse } from 'node:http';
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import type { ServiceKey } from '../core/service.js';
import { checkRuleId, serviceRuleKey as ruleKeyOf } from '../rules/store-keys.js';
import { RULE_KINDS, type RuleId, type RuleKind, type RuleStore } from '../rules/types.js';
import type { AdminScraper } from './admin-scraper.js';
import { consoleState } from './console-state.js';
import { readJsonObject, sendJson } from './http-io.js';
import { checkRule } from './rule-check.js';
import type { RuleCache } from './rule-cache.js';
import type { ProviderAction, RuleWriter } from './rule-writer.js';
import type { RegistryView } from './registry-view.js';

/** What the API works with. `store`, `rules` and `writer` are absent for a registry that keeps no rules. */
export interface ConsoleParts {
  readonly view: RegistryView;
  readonly scraper: AdminScraper;
  readonly store: RuleStore | undefined;
  readonly rules: RuleCache | undefined;
  readonly writer: RuleWriter | undefined;
  readonly registryName: string;
  readonly readOnly: boolean;
}

/** The rule kinds the page edits as text; configurators are written only by the actions. */
const EDITABLE: readonly RuleKind[] = ['condition-router', 'tag-router'];

/**
 * The JSON API under `/api/`, once the request is admitted (reads) or admitted to change (the
 * rest). Throws RpcError for a bad request; the server answers it with the code's status.
 */
export async function serveApi(request: IncomingMessage, response: ServerResponse, url: URL, parts: ConsoleParts): Promise<void> {
  const route = `${request.method} ${url.pathname}`;
  switch (route) {
    case 'GET /api/state':
      parts.scraper.touch();
      if (parts.rules !== undefined) await parts.rules.refresh(parts.view.providers().map((provider) => ruleKeyOf(provider.service)));
      return sendJson(response, 200, consoleState({ view: parts.view, scraper: parts.scraper, rules: parts.rules, registry: parts.registryName, readOnly: parts.readOnly }));
    case 'GET /api/rules':
      return sendJson(response, 200, { rules: await storeOf(parts).list() });
    case 'GET /api/rule': {
      const id = ruleIdOf(url.searchParams.get('key'), url.searchParams.get('kind'));
      return sendJson(response, 200, { ...id, text: (await storeOf(parts).get(id)) ?? null });
    }
    case 'POST /api/check': {
      const body = await readJsonObject(request);
      return sendJson(response, 200, await checkRule(kindOf(body.kind), textOf(body.text)));
    }
    case 'PUT /api/rule': {
      const body = await readJsonObject(request);
      const id = editableId(body.key, body.kind);
      return sendJson(response, 200, await writerOf(parts).put(id, textOf(body.text)));
    }
    case 'DELETE /api/rule': {
      const id = editableId(url.searchParams.get('key'), url.searchParams.get('kind'));
      return sendJson(response, 200, await writerOf(parts).delete(id));
    }
    case 'POST /api/action': {
      const action = actionOf(await readJsonObject(request));
      const result = await writerOf(parts).apply(action);
      parts.rules?.changed(result.id.key);
      return sendJson(response, 200, result);
    }
    default:
      throw new RpcError(Code.NOT_FOUND, `no ${route}`);
  }
}

/** Whether a request with `method` changes something (and so needs the change checks, and is refused when read-only). */
export function isChange(method: string | undefined): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

function storeOf(parts: ConsoleParts): RuleStore {
  if (parts.store === undefined) throw new RpcError(Code.FAILED_PRECONDITION, 'this registry keeps no rules');
  return parts.store;
}

function writerOf(parts: ConsoleParts): RuleWriter {
  if (parts.writer === undefined) throw new RpcError(Code.FAILED_PRECONDITION, 'this registry keeps no rules');
  return parts.writer;
}

function kindOf(value: unknown): RuleKind {
  if (!RULE_KINDS.includes(value as RuleKind)) throw new RpcError(Code.INVALID_ARGUMENT, `kind must be one of ${RULE_KINDS.join(', ')}`);
  return value as RuleKind;
}

function ruleIdOf(key: unknown, kind: unknown): RuleId {
  const id = { key: typeof key === 'string' ? key : '', kind: kindOf(kind) };
  checkRuleId(id);
  return id;
}

function editableId(key: unknown, kind: unknown): RuleId {
  const id = ruleIdOf(key, kind);
  if (!EDITABLE.includes(id.kind)) throw new RpcError(Code.INVALID_ARGUMENT, `the console edits ${EDITABLE.join(' and ')} documents; configurators are written by its actions`);
  return id;
}

function textOf(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new RpcError(Code.INVALID_ARGUMENT, 'text must be the rule document (YAML)');
  return value;
}

const METHOD_NAME = /^[A-Za-z_$][\w$]{0,127}$/;
// host:port, the host a name, an IPv4 address or a bracketed IPv6 address.
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]{0,252}):\d{1,5}$/;

function actionOf(body: Record<string, unknown>): ProviderAction {
  const service = serviceOf(body.service);
  switch (body.action) {
    case 'disable':
    case 'enable':
      return { action: body.action, service, address: addressOf(body.address) };
    case 'weight':
      return { action: 'weight', service, address: addressOf(body.address), weight: body.weight === null ? undefined : wholeNumber(body.weight, 'weight', 0, 100_000) };
    case 'timeout': {
      if (body.method !== undefined && body.method !== null && (typeof body.method !== 'string' || !METHOD_NAME.test(body.method))) {
        throw new RpcError(Code.INVALID_ARGUMENT, 'method must be a method name');
      }
      const method = typeof body.method === 'string' ? body.method : undefined;
      return { action: 'timeout', service, method, timeoutMs: body.timeoutMs === null ? undefined : wholeNumber(body.timeoutMs, 'timeoutMs', 1, 86_400_000) };
    }
    default:
      throw new RpcError(Code.INVALID_ARGUMENT, 'action must be disable, enable, weight or timeout');
  }
}

function serviceOf(value: unknown): ServiceKey {
  const given = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const part = (name: string) => {
    const text = given[name];
    if (text === undefined || text === null || text === '') return undefined;
    if (typeof text !== 'string') throw new RpcError(Code.INVALID_ARGUMENT, `service.${name} must be a string`);
    return text;
  };
  const name = part('name');
  if (name === undefined) throw new RpcError(Code.INVALID_ARGUMENT, 'service.name is required');
  return { name, version: part('version'), group: part('group') };
}

function addressOf(value: unknown): string {
  if (typeof value !== 'string' || !HOST_PORT.test(value)) throw new RpcError(Code.INVALID_ARGUMENT, 'address must be the provider\'s host:port');
  return value;
}

function wholeNumber(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RpcError(Code.INVALID_ARGUMENT, `${name} must be a whole number from ${min} to ${max}, or null to take it out`);
  }
  return value;
}
