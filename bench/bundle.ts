import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Benchmark children run a bundle of their entry with plain node, as production code runs: under a
 * TypeScript loader, every module a process loads adds loader work and heap, which would tax the
 * systems made of many modules (Switchyard) against one-file baselines, and interceptors against
 * no interceptors.
 */
export const BUILD_DIR = fileURLToPath(new URL('./.build/', import.meta.url));

/** Where `bundle(entry)` writes the bundle of `entry`. */
export function bundledPath(entry: string): string {
  return join(BUILD_DIR, basename(entry).replace(/\.ts$/, '.js'));
}

/** Bundles `entry` (a path to a .ts file) into `bench/.build/` and returns the path of the bundle. */
export async function bundle(entry: string): Promise<string> {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [entry],
    outdir: BUILD_DIR,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outExtension: { '.js': '.js' },
    logLevel: 'error',
  });
  await writeFile(join(BUILD_DIR, 'package.json'), '{ "type": "module" }\n');
  return bundledPath(entry);
}
