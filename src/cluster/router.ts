import semver from 'semver';
import type { ServiceKey } from '../core/service.js';
import type { Provider } from '../registry/provider.js';

/** What a consumer asks for: `version` exact, `'*'` for any, or a semver range such as `^1.2.0`. */
export interface RouteSpec {
  version?: string;
  group?: string;
}

/**
 * Whether a provider serves what the consumer asked for, and the method being called. Providers
 * marked `disabled=true` in their URL are never chosen.
 */
export function routes(provider: Provider, wanted: ServiceKey, spec: RouteSpec, method: string): boolean {
  if (provider.service.name !== wanted.name) return false;
  if (provider.params.disabled === 'true') return false;
  if (!groupMatches(provider.service.group, spec.group ?? wanted.group)) return false;
  if (!versionMatches(provider.service.version, spec.version ?? wanted.version)) return false;
  return provider.methods.length === 0 || provider.methods.includes(method);
}

function groupMatches(actual: string | undefined, wanted: string | undefined): boolean {
  return wanted === '*' || (actual ?? '') === (wanted ?? '');
}

function versionMatches(actual: string | undefined, wanted: string | undefined): boolean {
  if (wanted === '*') return true;
  if ((actual ?? '') === (wanted ?? '')) return true;
  if (actual === undefined || wanted === undefined || semver.valid(wanted) !== null) return false;
  const range = semver.validRange(wanted);
  const version = semver.coerce(actual);
  return range !== null && version !== null && semver.satisfies(version, range);
}
