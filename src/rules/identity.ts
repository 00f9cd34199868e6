// Who this process is to a rule: its application name (Dubbo's `application`, which tag routers,
// application-scoped rules and `applications` lists name) and the host a consumer-side item's
// `addresses` are compared with.
import { isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { basename } from 'node:path';
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import { applicationId } from '../registry/zookeeper-cache.js';
import { checkRuleId } from './store-keys.js';

/** The provider URL parameter naming the application that serves it, as Dubbo names it. */
export const APPLICATION_PARAM = 'application';

/** The name used when the main script's name cannot be a rule key. */
const FALLBACK_APPLICATION = 'switchyard';

/**
 * The application name of a server or client that sets none: its main script's file name without
 * the extension (`node dist/orders.js` → `orders`, `tsx examples/rules.ts` → `rules`), else the
 * name of the working folder; `switchyard` when that cannot name a rule.
 */
export function defaultApplication(): string {
  const label = basename(applicationId()).replace(/\.[cm]?[jt]s$/, '');
  return isRuleKey(label) ? label : FALLBACK_APPLICATION;
}

/** `name` when it can name an application's rules (a rule key: 1 to 200 bytes, no control characters, no `*`); else INVALID_ARGUMENT. */
export function checkApplication(name: unknown, where: string): string {
  if (typeof name !== 'string' || !isRuleKey(name)) {
    throw new RpcError(Code.INVALID_ARGUMENT, `${where}: application must be a name of 1 to 200 bytes without control characters or "*", not ${JSON.stringify(name)}`);
  }
  return name;
}

function isRuleKey(key: string): boolean {
  try {
    checkRuleId({ key, kind: 'configurators' });
    return true;
  } catch {
    return false;
  }
}

/**
 * The host this consumer calls a provider at `providerHost` from, which consumer-side rule items
 * (`addresses`) and condition routers (`host`) compare: the loopback address for a provider on
 * loopback (so rules written for 127.0.0.1 match on one machine), else the machine's first
 * non-internal IPv4 address, as Dubbo's `NetUtils.getLocalHost()` finds it (127.0.0.1 when it has none).
 */
export function localHostFor(providerHost: string | undefined): string {
  if (providerHost !== undefined && isLoopback(providerHost)) return isIPv6(providerHost) ? '::1' : '127.0.0.1';
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  return '127.0.0.1';
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
