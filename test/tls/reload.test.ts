import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { connect } from 'node:tls';
import type { Logger } from '../../src/index.js';
import { waitUntil } from '../support/calculator.js';
import { certificates } from '../support/certs.js';
import { holding, identityClient, release, serve } from './peers.js';

const certs = certificates();

/** The server's key and certificate, copied where the test may replace them. */
function ownCertificates(t: TestContext): { key: string; cert: string; replaceWith(files: { key: string; cert: string }): void } {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-reload-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const key = join(dir, 'server.key');
  const cert = join(dir, 'server.crt');
  copyFileSync(certs.serverKey, key);
  copyFileSync(certs.serverCert, cert);
  // Renamed into place, as cert-manager and certbot do: the server never reads half a file.
  const put = (from: string, to: string) => {
    copyFileSync(from, `${to}.new`);
    renameSync(`${to}.new`, to);
  };
  return { key, cert, replaceWith: (files) => {
    put(files.key, key);
    put(files.cert, cert);
  } };
}

/** The SHA-256 fingerprint of the certificate a new TLS connection to `address` is shown. */
function servedFingerprint(address: string): Promise<string> {
  const { hostname, port } = new URL(address);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ca: certs.read(certs.caCert) }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.once('error', reject);
  });
}

/** Connects again and again until the server shows a certificate other than `before`; gives up after 20 s. */
async function waitForNewFingerprint(address: string, before: string): Promise<string> {
  const until = Date.now() + 20_000;
  let seen = before;
  while (seen === before && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    seen = await servedFingerprint(address);
  }
  assert.notEqual(seen, before, 'the server still shows the old certificate');
  return seen;
}

/** A logger that keeps the messages. */
function recordingLogger(): Logger & { messages: string[] } {
  const messages: string[] = [];
  const keep = (_: object, message?: string) => messages.push(message ?? '');
  return { messages, debug: () => undefined, info: keep, warn: keep, error: keep };
}

for (const scheme of ['tls', 'https'] as const) {
  describe(`${scheme}:// certificates are reloaded when their files change`, () => {
    test('new connections get the new certificate; open ones keep working', async (t) => {
      const files = ownCertificates(t);
      const logger = recordingLogger();
      const [address] = await serve(t, `${scheme}://127.0.0.1:0`, { tls: { key: files.key, cert: files.cert }, logger });
      const before = await servedFingerprint(address!);
      const identity = identityClient(t, { url: address!, tls: { ca: certs.caCert } });
      assert.equal(await identity.add(1, 2), 3);
      const held = identity.hold();
      await waitUntil(() => holding() === 1, 5000);

      // A certificate of another issue from the same, trusted CA.
      files.replaceWith(certs.issue(`${scheme}-renewed`, { cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1,IP:::1' }));
      await waitForNewFingerprint(address!, before);
      assert.ok(logger.messages.includes('TLS certificates reloaded'));

      release();
      assert.equal(await held, 'held', 'the call in flight over the old connection completes');
      assert.equal(await identity.add(2, 2), 4);
      const fresh = identityClient(t, { url: address!, tls: { ca: certs.caCert } });
      assert.equal(await fresh.add(3, 3), 6);
    });

    test('a broken certificate file is logged and the previous certificate stays', async (t) => {
      const files = ownCertificates(t);
      const logger = recordingLogger();
      const [address] = await serve(t, `${scheme}://127.0.0.1:0`, { tls: { key: files.key, cert: files.cert }, logger });
      const before = await servedFingerprint(address!);
      writeFileSync(`${files.cert}.new`, '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n');
      renameSync(`${files.cert}.new`, files.cert);
      await waitUntil(() => logger.messages.some((message) => message.includes('not reloaded')), 20_000);
      assert.equal(await servedFingerprint(address!), before);
      const identity = identityClient(t, { url: address!, tls: { ca: certs.caCert } });
      assert.equal(await identity.add(1, 1), 2);
    });
  });
}
