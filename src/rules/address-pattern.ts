import { isIPv4, isIPv6 } from 'node:net';

/** Whether a provider at `host` and `port` is one a pattern names. */
export type AddressTest = (host: string, port: number) => boolean;

/**
 * Reads one of the address patterns Dubbo's tag rules and `cird` matches accept (its
 * `NetUtils.matchIpExpression`), and returns the test it stands for; throws an `Error` saying what
 * is wrong with a pattern that is none of them:
 *
 * - `*` or `*.*.*.*`: every address;
 * - `10.0.0.0/8`, `fd00::/8`: a CIDR block (IPv4 or IPv6), any port;
 * - `10.20.*.*`, `10.20.153.10-19`: IPv4 with `*` or an inclusive range in any of its four parts;
 * - `10.20.153.10`, `[::1]`, `db-7.internal`: that host exactly (names are compared as written:
 *   resolving them would be I/O, which Dubbo does here and routing must not);
 * - any of the above but a CIDR block followed by `:port` (`10.20.*.*:20880`, `[::1]:20880`); and
 *   `0.0.0.0:20880`: every host, on that port.
 */
export function parseAddressPattern(pattern: string): AddressTest {
  const text = pattern.trim();
  if (text === '*' || text === '*.*.*.*') return () => true;
  if (text.includes('/')) return cidrTest(text);
  const { host, port } = splitPort(text);
  const portOk = port === undefined ? () => true : (actual: number) => actual === port;
  if (host === '0.0.0.0' && port !== undefined) return (_host, actual) => actual === port;
  if (isIPv4(host) || isIPv6(host)) {
    const normal = isIPv6(host) ? ipv6Groups(host).join(':') : host;
    return isIPv6(host)
      ? (actual, actualPort) => portOk(actualPort) && isIPv6(actual) && ipv6Groups(actual).join(':') === normal
      : (actual, actualPort) => portOk(actualPort) && actual === host;
  }
  if (/^[\d*.-]+$/.test(host)) {
    const parts = ipv4Expression(host, pattern);
    return (actual, actualPort) => portOk(actualPort) && matchesIpv4Expression(parts, actual);
  }
  if (/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) return (actual, actualPort) => portOk(actualPort) && actual === host;
  throw new Error(`${JSON.stringify(pattern)} is not an address pattern (an IP, a host name, 10.0.*.*, 10.0.0.1-9, a CIDR block, each with an optional :port)`);
}

function splitPort(text: string): { host: string; port: number | undefined } {
  let host = text;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0) throw new Error(`${JSON.stringify(text)} has no closing ]`);
    host = text.slice(1, end);
    const rest = text.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw new Error(`${JSON.stringify(text)}: expected :port after ]`);
      portText = rest.slice(1);
    }
  } else if (text.indexOf(':') >= 0 && text.indexOf(':') === text.lastIndexOf(':')) {
    host = text.slice(0, text.indexOf(':'));
    portText = text.slice(text.indexOf(':') + 1);
  }
  if (portText === undefined) return { host, port: undefined };
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port > 65535) throw new Error(`${JSON.stringify(text)}: the port must be a number from 0 to 65535`);
  return { host, port };
}

type Ipv4Part = { from: number; to: number };

function ipv4Expression(host: string, pattern: string): Ipv4Part[] {
  const parts = host.split('.');
  if (parts.length !== 4) throw new Error(`${JSON.stringify(pattern)}: an IPv4 pattern has four parts`);
  return parts.map((part) => {
    if (part === '*') return { from: 0, to: 255 };
    const range = /^(\d{1,3})(?:-(\d{1,3}))?$/.exec(part);
    const from = Number(range?.[1]);
    const to = range?.[2] === undefined ? from : Number(range[2]);
    if (range === null || from > 255 || to > 255 || from > to) throw new Error(`${JSON.stringify(pattern)}: ${JSON.stringify(part)} is not 0-255, a range a-b or *`);
    return { from, to };
  });
}

function matchesIpv4Expression(parts: readonly Ipv4Part[], host: string): boolean {
  if (!isIPv4(host)) return false;
  const octets = host.split('.');
  for (let i = 0; i < 4; i++) {
    const value = Number(octets[i]);
    if (value < parts[i]!.from || value > parts[i]!.to) return false;
  }
  return true;
}

function cidrTest(text: string): AddressTest {
  const slash = text.indexOf('/');
  const base = text.slice(0, slash);
  const bitsText = text.slice(slash + 1);
  const v4 = isIPv4(base);
  if (!v4 && !isIPv6(base)) throw new Error(`${JSON.stringify(text)}: a CIDR block starts with an IP address`);
  const bits = Number(bitsText);
  if (!/^\d{1,3}$/.test(bitsText) || bits > (v4 ? 32 : 128)) throw new Error(`${JSON.stringify(text)}: the prefix length must be 0 to ${v4 ? 32 : 128}`);
  if (v4) {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    const network = (ipv4Number(base) & mask) >>> 0;
    return (host) => isIPv4(host) && ((ipv4Number(host) & mask) >>> 0) === network;
  }
  const network = ipv6Groups(base);
  return (host) => {
    if (!isIPv6(host)) return false;
    const groups = ipv6Groups(host);
    for (let bit = 0, group = 0; bit < bits; bit += 16, group++) {
      const take = Math.min(16, bits - bit);
      const mask = (0xffff << (16 - take)) & 0xffff;
      if ((groups[group]! & mask) !== (network[group]! & mask)) return false;
    }
    return true;
  };
}

function ipv4Number(address: string): number {
  const [a, b, c, d] = address.split('.').map(Number) as [number, number, number, number];
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/** The eight 16-bit groups of an IPv6 address (already checked with `isIPv6`). */
function ipv6Groups(address: string): number[] {
  let text = address.split('%')[0]!;
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    // An IPv4 tail (::ffff:10.0.0.1) is two groups.
    const n = ipv4Number(last);
    text = `${text.slice(0, lastColon + 1)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const halves = text.split('::');
  if (halves.length === 1) return parse(text);
  const start = parse(halves[0]!);
  const end = parse(halves[1]!);
  return [...start, ...new Array<number>(8 - start.length - end.length).fill(0), ...end];
}
