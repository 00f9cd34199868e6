import { statSync, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { Logger } from '../../core/logger.js';
import { errorMessage } from '../../core/rpc-error.js';
import { contextOptions, pemFiles, serverSecureOptions, type ServerTlsOptions } from './options.js';

/** How often certificate files are looked at; a rotated certificate is in use within about this long. */
export const RELOAD_POLL_MS = 500;

/** A server whose certificate can be replaced while it runs: `tls.Server`, `https.Server`, `Http2SecureServer`. */
export interface SecureContextTarget {
  setSecureContext(options: SecureContextOptions): void;
}

/**
 * Watches the certificate, key and CA files of a server and swaps them in when they change,
 * without a restart: connections made after the swap get the new ones, those already open keep
 * theirs. Polling (not inotify) so that a file replaced by rename, as cert-manager and certbot
 * do, is seen too. A half-written or mismatched set is logged and skipped; the old one stays, and
 * the next change of any of the files tries again. Call it right after reading the files: a
 * change from the moment it returns is seen. Returns a function that stops watching.
 */
export function reloadOnChange(options: ServerTlsOptions, target: SecureContextTarget, logger: Logger): () => void {
  const files = options.reload === false ? [] : pemFiles(options);
  if (files.length === 0) return () => undefined;
  // Taken now, synchronously, so that no change between reading the files and the first poll is missed.
  let seen = files.map((file) => signature(() => statSync(file)));
  let stopped = false;
  let polling = false;
  const reload = () => {
    try {
      const fresh = contextOptions(serverSecureOptions(options));
      createSecureContext(fresh); // throws on a key that does not match its certificate
      target.setSecureContext(fresh);
      logger.info({ files }, 'TLS certificates reloaded');
    } catch (error) {
      logger.warn({ files, message: errorMessage(error) }, 'TLS certificates not reloaded; keeping the previous ones');
    }
  };
  const poll = async () => {
    const now = await Promise.all(files.map((file) => stat(file).then((stats) => signature(() => stats), () => 'missing')));
    if (stopped || now.every((value, index) => value === seen[index])) return;
    seen = now;
    reload();
  };
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    void poll().finally(() => {
      polling = false;
    });
  }, RELOAD_POLL_MS).unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/** What tells one version of a file from the next: a rename changes the inode, a rewrite the time or size. */
function signature(read: () => Stats): string {
  try {
    const stats = read();
    return `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
  } catch {
    return 'missing';
  }
}
