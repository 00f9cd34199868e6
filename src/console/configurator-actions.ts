import type { Config, ConfigEdit, Revision } from './configurator-edit.js';

/**
 * The console's actions on providers and services as changes to a service's configurators, in the
 * forms Dubbo and Dubbo Admin write them (docs/console.md). Each action first takes out what an
 * earlier action of its kind left for the same target, so that doing an action twice leaves one
 * config, and undoing it (enable, reset) leaves the document as it was before.
 */

/** Every address, in a consumer-side config's `addresses`. */
export const ANY_ADDRESS = '0.0.0.0';

/**
 * Disable (`disabled: true`) or enable (take the disabling out) the provider at `hostPort`
 * (`10.0.0.7:20880`): consumers stop or resume calling it.
 */
export function disableEdit(hostPort: string, disabled: boolean): ConfigEdit {
  return {
    revise: (config) => (isTrue(parameters(config).disabled) ? withoutTarget(config, hostPort) : 'keep'),
    add: disabled ? { side: 'consumer', addresses: [ANY_ADDRESS], providerAddresses: [hostPort], parameters: { disabled: true } } : undefined,
  };
}

/**
 * Sets the weight every consumer gives the provider at `hostPort`, or with `undefined` takes the
 * weight configs of that provider out (Dubbo Admin's provider-side form included).
 */
export function weightEdit(hostPort: string, weight: number | undefined): ConfigEdit {
  return {
    revise: (config) => (onlyParameter(config, 'weight') ? withoutTarget(config, hostPort) : 'keep'),
    add: weight === undefined ? undefined : { side: 'consumer', addresses: [ANY_ADDRESS], providerAddresses: [hostPort], parameters: { weight } },
  };
}

/**
 * Sets the timeout of every consumer's calls to the service (`method` undefined: `timeout`) or to
 * one method (`<method>.timeout`, Dubbo's form for a method's parameter); `undefined` takes it out.
 */
export function timeoutEdit(method: string | undefined, timeoutMs: number | undefined): ConfigEdit {
  const key = method === undefined ? 'timeout' : `${method}.timeout`;
  return {
    revise: (config) => (config.side === 'consumer' && everyAddress(config) && strings(config.providerAddresses).length === 0 && onlyParameter(config, key) ? 'drop' : 'keep'),
    add: timeoutMs === undefined ? undefined : { side: 'consumer', addresses: [ANY_ADDRESS], parameters: { [key]: timeoutMs } },
  };
}

/**
 * The providers a config is about: a provider-side config names them in `addresses`, a
 * consumer-side one in `providerAddresses`.
 */
export function targetsOf(config: Config): string[] {
  return strings(config.side === 'provider' ? config.addresses : config.providerAddresses);
}

export function parameters(config: Config): Record<string, unknown> {
  const value = config.parameters;
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}

/** `config` without `hostPort` among its targets: dropped when it was its only one, kept when it was not one. */
function withoutTarget(config: Config, hostPort: string): Revision {
  const field = config.side === 'provider' ? 'addresses' : 'providerAddresses';
  const targets = strings(config[field]);
  if (!targets.includes(hostPort)) return 'keep';
  const rest = targets.filter((target) => target !== hostPort);
  return rest.length === 0 ? 'drop' : { ...config, [field]: rest };
}

function onlyParameter(config: Config, key: string): boolean {
  const keys = Object.keys(parameters(config));
  return keys.length === 1 && keys[0] === key;
}

function everyAddress(config: Config): boolean {
  const addresses = strings(config.addresses);
  return addresses.length === 0 || (addresses.length === 1 && addresses[0] === ANY_ADDRESS);
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}
