import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, mkdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';

// Registry folders and files decide where calls, and the credentials in their metadata, are sent.
// Anything another user could write there could redirect those calls, so the checks below accept
// only what this process's user alone can change.

/** The effective uid, or undefined where files have no POSIX owner and mode (Windows): nothing to check there. */
function ownUid(): number | undefined {
  return process.geteuid?.();
}

/**
 * `<os.tmpdir()>/switchyard-<uid>`: the per-user folder the registries' default places live in.
 * The uid keeps users apart even where they share one temp folder (`/tmp`).
 */
export function userBaseDir(): string {
  const uid = ownUid();
  const user = uid === undefined ? userInfo().username.replace(/[^\w.-]+/g, '_') : String(uid);
  return join(tmpdir(), `switchyard-${user}`);
}

/** Why another user could change the file or folder `info` describes, or undefined when none can. */
export function untrusted(info: Stats): string | undefined {
  const uid = ownUid();
  if (uid === undefined) return undefined;
  if (info.uid !== uid) return `is owned by uid ${info.uid}, not by this process's user (uid ${uid})`;
  if ((info.mode & 0o022) !== 0) {
    return `can be written by ${(info.mode & 0o002) !== 0 ? 'every user' : 'its group'} (mode ${(info.mode & 0o7777).toString(8).padStart(4, '0')})`;
  }
  return undefined;
}

/**
 * Why another user could replace or rename what lies under the ancestor folder `info` describes.
 * A sticky folder (`/tmp`) lets nobody rename or delete what others own in it, so it may be
 * world-writable; its owner must still be this user or root.
 */
function untrustedAncestor(info: Stats): string | undefined {
  const uid = ownUid();
  if (uid === undefined) return undefined;
  if (info.uid !== uid && info.uid !== 0) return `is owned by uid ${info.uid}, neither this process's user (uid ${uid}) nor root`;
  if ((info.mode & 0o022) !== 0 && (info.mode & 0o1000) === 0) {
    return `can be written by other users and is not sticky (mode ${(info.mode & 0o7777).toString(8).padStart(4, '0')})`;
  }
  return undefined;
}

function refuse(what: string, path: string, reason: string, fix: string): RpcError {
  return new RpcError(Code.FAILED_PRECONDITION,
    `${what} ${path} ${reason}: other users could plant entries there and receive calls with their metadata. ${fix}`,
    { details: { path, reason } });
}

/**
 * Creates `dir` (and missing parents) with mode 0700 if needed, then makes sure no other user can
 * change it: it must be a folder owned by this process's user, writable by nobody else, below
 * folders that only this user or root can change (sticky ones like `/tmp` allowed). Throws
 * FAILED_PRECONDITION saying how to fix it when that does not hold, UNAVAILABLE when the folder
 * cannot be made or read at all.
 */
export async function ensurePrivateDir(dir: string, what: string): Promise<void> {
  const path = resolve(dir);
  try {
    await mkdir(path, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new RpcError(Code.UNAVAILABLE, `cannot create the ${what} ${path}: ${(error as Error).message}`, { cause: error });
  }
  await checkPrivateDir(path, what);
}

/** The checks of {@link ensurePrivateDir} on a folder that exists, given by its absolute path. */
async function checkPrivateDir(path: string, what: string): Promise<void> {
  let own: Stats;
  try {
    const link = await lstat(path);
    // A link is followed below; it must not be one that someone else put there.
    if (link.isSymbolicLink() && link.uid !== ownUid() && link.uid !== 0) {
      throw refuse(what, path, `is a symbolic link owned by uid ${link.uid}`, 'Remove it, or choose another folder.');
    }
    own = await stat(path);
  } catch (error) {
    if (error instanceof RpcError) throw error;
    throw new RpcError(Code.UNAVAILABLE, `cannot read the ${what} ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (!own.isDirectory()) throw new RpcError(Code.UNAVAILABLE, `the ${what} ${path} is not a folder`);
  const reason = untrusted(own);
  if (reason !== undefined) {
    const fix = own.uid === ownUid()
      ? `Run \`chmod 700 ${path}\`, or choose another folder.`
      : 'Choose another folder (one this user creates), or remove this one if it should not be there.';
    throw refuse(what, path, reason, fix);
  }
  for (let parent = dirname(path), child = path; parent !== child; child = parent, parent = dirname(parent)) {
    let info: Stats;
    try {
      const link = await lstat(parent);
      if (link.isSymbolicLink() && link.uid !== ownUid() && link.uid !== 0) {
        throw refuse(what, path, `lies under ${parent}, a symbolic link owned by uid ${link.uid}`, 'Choose another folder.');
      }
      info = link.isSymbolicLink() ? await stat(parent) : link;
    } catch (error) {
      if (error instanceof RpcError) throw error;
      throw new RpcError(Code.UNAVAILABLE, `cannot read ${parent}, a parent of the ${what}: ${(error as Error).message}`, { cause: error });
    }
    const ancestorReason = untrustedAncestor(info);
    if (ancestorReason !== undefined) {
      throw refuse(what, path, `lies in ${parent}, which ${ancestorReason}`, 'Choose a folder whose parents only this user or root can change.');
    }
  }
}

/**
 * Writes `file` through a fresh temporary file beside it (`.<name>.<pid>.<random>.tmp`, mode 0600,
 * never an existing file or link) renamed over it, so that readers see the old content or the new,
 * never a part.
 */
export async function writeAtomically(file: string, content: string | Uint8Array): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  await writeFile(temp, content, { mode: 0o600, flag: 'wx' });
  try {
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}
