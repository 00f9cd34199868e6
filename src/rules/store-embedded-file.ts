// Reading one rule file of the embedded registry's `rules/` folder, with the checks the registry's
// own entries get: a rule decides where calls go, so only a file this user alone can write is used.
import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { untrusted } from '../registry/private-files.js';
import { MAX_RULE_BYTES } from './store-keys.js';

// Never follow a link planted in place of a rule; 0 where the platform has no such flag.
const readFlags = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

/** What a rule file holds: its text, nothing (no file), or why it may not be used. */
export type RuleFile = { readonly text: string } | { readonly missing: true } | { readonly refused: string };

/** Reads a rule file, refusing a link, a non-file, a file another user could write, or one over {@link MAX_RULE_BYTES}. */
export async function readRuleFile(path: string): Promise<RuleFile> {
  let handle;
  try {
    handle = await open(path, readFlags);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { missing: true };
    // O_NOFOLLOW on a symbolic link.
    if (code === 'ELOOP') return { refused: 'is a symbolic link' };
    throw error;
  }
  try {
    // The file checked is the one read: stat through the same handle.
    const info = await handle.stat();
    if (!info.isFile()) return { refused: 'is not a regular file' };
    const reason = untrusted(info);
    if (reason !== undefined) return { refused: reason };
    if (info.size > MAX_RULE_BYTES) return { refused: `holds ${info.size} bytes, more than the ${MAX_RULE_BYTES} a rule may have` };
    return { text: await handle.readFile('utf8') };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * What changes when a rule file is written, replaced or removed (inode, size, times in
 * nanoseconds), so that a poll reads again only the files that changed.
 */
export async function fileSignature(path: string): Promise<string> {
  try {
    const info = await lstat(path, { bigint: true });
    return `${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
}
