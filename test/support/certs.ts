/**
 * Throw-away certificates for TLS tests, made with the `openssl` command in a temporary folder:
 * a CA, a server certificate for localhost and 127.0.0.1, a client certificate (CN=alice) for mTLS,
 * and a second, untrusted CA with its own server certificate. Made once per process.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertificateSet {
  dir: string;
  /** Paths of PEM files. */
  caCert: string;
  serverKey: string;
  serverCert: string;
  clientKey: string;
  clientCert: string;
  /** Signed by a CA nobody trusts. */
  rogueKey: string;
  rogueCert: string;
  read(path: string): Buffer;
  /** Issues another certificate from the trusted CA, into `dir`; returns the paths. */
  issue(name: string, options: { cn: string; san?: string; client?: boolean; days?: number }): { key: string; cert: string };
  remove(): void;
}

let made: CertificateSet | undefined;

export function certificates(): CertificateSet {
  if (made !== undefined) return made;
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-certs-'));
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const makeCa = (name: string, cn: string) => {
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30',
      '-subj', `/CN=${cn}`, '-keyout', path(`${name}.key`), '-out', path(`${name}.crt`),
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  };
  const sign = (ca: string, name: string, options: { cn: string; san?: string; client?: boolean; days?: number }) => {
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${options.cn}`,
      '-keyout', path(`${name}.key`), '-out', path(`${name}.csr`));
    const usage = options.client === true ? 'clientAuth' : 'serverAuth';
    writeFileSync(path(`${name}.ext`), `basicConstraints=CA:FALSE\nextendedKeyUsage=${usage}\n${options.san === undefined ? '' : `subjectAltName=${options.san}\n`}`);
    openssl('x509', '-req', '-in', path(`${name}.csr`), '-CA', path(`${ca}.crt`), '-CAkey', path(`${ca}.key`), '-CAcreateserial',
      '-days', String(options.days ?? 30), '-extfile', path(`${name}.ext`), '-out', path(`${name}.crt`));
    return { key: path(`${name}.key`), cert: path(`${name}.crt`) };
  };
  makeCa('ca', 'Switchyard Test CA');
  makeCa('rogue-ca', 'Rogue CA');
  const server = sign('ca', 'server', { cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1,IP:::1' });
  const client = sign('ca', 'client', { cn: 'alice', san: 'URI:spiffe://switchyard.test/alice,email:alice@switchyard.test', client: true });
  const rogue = sign('rogue-ca', 'rogue', { cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1' });
  made = {
    dir,
    caCert: path('ca.crt'),
    serverKey: server.key,
    serverCert: server.cert,
    clientKey: client.key,
    clientCert: client.cert,
    rogueKey: rogue.key,
    rogueCert: rogue.cert,
    read: (file) => readFileSync(file),
    issue: (name, options) => sign('ca', name, options),
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
      made = undefined;
    },
  };
  process.once('exit', () => made?.remove());
  return made;
}
