import { serviceId } from '../core/service.js';
import { ADMIN_PARAM, TOKEN_PARAM, loggedProviderUrl, providerId, type Provider } from '../registry/provider.js';
import { serviceRuleKey } from '../rules/store-keys.js';
import { adminOrigin } from './admin-fetch.js';
import type { AdminReport, AdminScraper } from './admin-scraper.js';
import type { RuleCache } from './rule-cache.js';
import type { RegistryView } from './registry-view.js';

/**
 * What `GET /api/state` answers: the registry's services, their providers with what the rules do
 * to them and what their admin listeners report, and their consumers. Plain JSON; everything in it
 * that came from the registry or an admin listener is data for the page to show as text.
 */
export function consoleState(parts: { view: RegistryView; scraper: AdminScraper; rules: RuleCache | undefined; registry: string; readOnly: boolean }) {
  const { view, scraper, rules } = parts;
  const reports = scraper.reports();
  const adminByAddress = new Map<string, string>();
  for (const report of reports) for (const address of report.addresses) adminByAddress.set(address, report.url);
  const clients = reports.filter((report) => report.kind === 'client');
  const services = view.services().map((service) => {
    const providers = [...service.providers].sort((a, b) => a.address.localeCompare(b.address) || serviceId(a.service).localeCompare(serviceId(b.service)))
      .map((provider) => providerState(provider, scraper, rules, clients, adminByAddress));
    const keys = [...new Set(service.providers.map((provider) => serviceRuleKey(provider.service)))].sort();
    const consumers = [
      ...(service.consumers ?? []).map((url) => ({ url, from: 'registry' as const })),
      ...clients.filter((client) => client.references.some((id) => nameOf(id) === service.name)).map((client) => ({ url: client.url, from: 'admin' as const })),
    ];
    return {
      name: service.name,
      ruleKeys: keys,
      providers,
      consumers,
      timeouts: rules === undefined ? [] : keys.flatMap((key) => rules.timeouts(key).map((timeout) => ({ ruleKey: key, ...timeout }))),
    };
  });
  return {
    registry: parts.registry,
    readOnly: parts.readOnly,
    rulesAvailable: rules !== undefined,
    consumersRecorded: view.recordsConsumers,
    problem: view.problem ?? null,
    services,
    admins: reports.map((report) => ({ url: report.url, kind: report.kind, ok: report.ok, error: report.error ?? null })),
  };
}

function providerState(provider: Provider, scraper: AdminScraper, rules: RuleCache | undefined, clients: AdminReport[], adminByAddress: Map<string, string>) {
  const id = serviceId(provider.service);
  const hostPort = hostPortOf(provider);
  const ruleKey = serviceRuleKey(provider.service);
  const effects = rules?.effectsOn(ruleKey, provider, hostPort) ?? { disabled: false, weight: undefined, problem: undefined };
  const announced = provider.params[ADMIN_PARAM];
  const admin = (announced === undefined ? undefined : adminOrigin(announced)) ?? adminByAddress.get(provider.address);
  const report = admin === undefined ? undefined : scraper.report(admin);
  const rates = report?.rates.get(id);
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(provider.params)) params[key] = key === TOKEN_PARAM ? '***' : value;
  return {
    id: providerId(provider),
    url: loggedProviderUrl(provider),
    address: provider.address,
    protocol: provider.protocol,
    hostPort,
    service: { name: provider.service.name, version: provider.service.version ?? null, group: provider.service.group ?? null },
    serviceId: id,
    ruleKey,
    methods: provider.methods,
    weight: provider.weight,
    ruleWeight: effects.weight ?? null,
    state: effects.disabled ? 'disabled' : 'enabled',
    ruleProblem: effects.problem ?? null,
    tags: tagsOf(provider),
    application: provider.params.application ?? null,
    params,
    admin: admin ?? null,
    stats: rates === undefined ? null : { ...rates },
    statsProblem: statsProblem(admin, report, rates !== undefined),
    seenBy: clients.flatMap((client) => client.providers.filter((seen) => seen.address === provider.address && seen.service === id)
      .map((seen) => ({ client: client.url, available: seen.available, breakers: seen.breakers }))),
  };
}

/** `host:port`, as configurators name a provider (`[::1]:20880` for IPv6). */
export function hostPortOf(provider: Provider): string {
  return `${provider.host.includes(':') ? `[${provider.host}]` : provider.host}:${provider.port}`;
}

function statsProblem(admin: string | undefined, report: AdminReport | undefined, found: boolean): string | null {
  if (admin === undefined) return 'no admin listener announced (start the server with admin, or pass --admin)';
  if (report === undefined) return 'not read yet';
  if (!report.ok) return `admin listener: ${report.error ?? 'unreachable'}`;
  if (report.error !== undefined) return report.error;
  return found ? null : 'no calls counted yet';
}

/** Dubbo's tag parameter (`dubbo.tag`), or `tag`. */
function tagsOf(provider: Provider): string[] {
  const text = provider.params['dubbo.tag'] ?? provider.params.tag;
  return text === undefined ? [] : text.split(',').map((tag) => tag.trim()).filter((tag) => tag !== '');
}

/** The name in a service id `group/name:version`. */
function nameOf(id: string): string {
  const slash = id.indexOf('/');
  const rest = slash < 0 ? id : id.slice(slash + 1);
  const colon = rest.indexOf(':');
  return colon < 0 ? rest : rest.slice(0, colon);
}
