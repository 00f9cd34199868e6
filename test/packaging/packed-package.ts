// The package as npm would publish it: packed from the built tree, unpacked for reading, and
// installed into a throw-away project, the way a user gets it.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
export const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  exports: Record<string, string | { types: string; default: string }>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

/** The packages users install only for the features that need them. */
export const OPTIONAL_PEERS = ['amqplib', 'node-zookeeper-client', 'etcd3', 'flatbuffers', 'protobufjs'];

export interface Subpath {
  /** `.`, `./browser`, ... as in `exports`. */
  readonly key: string;
  /** What a user writes: `switchyard`, `switchyard/browser`, ... */
  readonly specifier: string;
  readonly file: string;
  /** Whether the file is built; subpaths that are still being written are checked once they are. */
  readonly built: boolean;
}

export const SUBPATHS: readonly Subpath[] = Object.entries(PKG.exports).flatMap(([key, target]) => {
  if (typeof target === 'string') return [];
  return [{ key, specifier: key === '.' ? PKG.name : `${PKG.name}/${key.slice(2)}`, file: target.default, built: existsSync(join(ROOT, target.default)) }];
});

const run = promisify(execFile);

export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (or its timeout) and returns its exit status and output; never rejects for a status. */
export async function runCommand(command: string, args: readonly string[], cwd: string, timeoutMs = 60_000): Promise<Output> {
  try {
    const { stdout, stderr } = await run(command, [...args], { cwd, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string; message: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? failed.message };
  }
}

async function mustRun(command: string, args: readonly string[], cwd: string): Promise<string> {
  const result = await runCommand(command, args, cwd);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

export interface Packed {
  /** The .tgz file. */
  readonly tarball: string;
  /** Where it is unpacked (`package/` inside it is the package's root). */
  readonly root: string;
  /** Paths inside the package, `dist/index.js`. */
  readonly files: ReadonlySet<string>;
  readonly size: number;
  readonly unpackedSize: number;
}

/**
 * Packs the tree as it is built (`npm test` builds first), without running the lifecycle scripts:
 * they would rebuild `dist/` under the other tests' feet.
 */
export async function pack(into: string): Promise<Packed> {
  const stdout = await mustRun('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', into], ROOT);
  const [report] = JSON.parse(stdout) as Array<{ filename: string; size: number; unpackedSize: number; files: Array<{ path: string }> }>;
  const tarball = join(into, report!.filename);
  const root = join(into, 'unpacked');
  mkdirSync(root);
  await mustRun('tar', ['-xzf', tarball, '-C', root], into);
  return { tarball, root: join(root, 'package'), files: new Set(report!.files.map((file) => file.path)), size: report!.size, unpackedSize: report!.unpackedSize };
}

/** A new CommonJS project in `dir` with the tarball installed from the local npm cache. */
export async function installInto(dir: string, tarball: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'packed-switchyard-user', private: true, type: 'commonjs' }));
  await mustRun('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', tarball], dir);
}

/** Every file under `dir`, as paths relative to it. */
export function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    return entry.isDirectory() ? filesUnder(dir, path) : [path];
  });
}
