import { unwatchFile, watchFile, type Stats } from 'node:fs';
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
 * do, is seen too. A half-written or mismatched set is logged and skipped; the old one stays.
 * Returns a function that stops watching.
 */
export function reloadOnChange(options: ServerTlsOptions, target: SecureContextTarget, logger: Logger): () => void {
  const files = options.reload === false ? [] : pemFiles(options);
  if (files.length === 0) return () => undefined;
  const onChange = (current: Stats, previous: Stats) => {
    if (current.mtimeMs === previous.mtimeMs && current.size === previous.size && current.ino === previous.ino) return;
    try {
      const fresh = contextOptions(serverSecureOptions(options));
      createSecureContext(fresh); // throws on a key that does not match its certificate
      target.setSecureContext(fresh);
      logger.info({ files }, 'TLS certificates reloaded');
    } catch (error) {
      logger.warn({ files, message: errorMessage(error) }, 'TLS certificates not reloaded; keeping the previous ones');
    }
  };
  for (const file of files) watchFile(file, { interval: RELOAD_POLL_MS, persistent: false }, onChange);
  return () => {
    for (const file of files) unwatchFile(file, onChange);
  };
}
