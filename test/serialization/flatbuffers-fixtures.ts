import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The .fbs files of the FlatBuffers tests. */
export const fixtures = {
  kinds: fileURLToPath(new URL('../fixtures/flatbuffers/kinds.fbs', import.meta.url)),
  shop: fileURLToPath(new URL('../fixtures/flatbuffers/shop.fbs', import.meta.url)),
  values: fileURLToPath(new URL('../fixtures/flatbuffers/values.fbs', import.meta.url)),
  dir: fileURLToPath(new URL('../fixtures/flatbuffers/', import.meta.url)),
};

const script = fileURLToPath(new URL('../../scripts/flatc.sh', import.meta.url));
let installed = false;

/** Makes sure flatc is there (scripts/flatc.sh installs it on a machine without it, as CI's is). */
export function ensureFlatc(): void {
  if (installed) return;
  execFileSync('bash', [script, 'install'], { stdio: ['ignore', 'inherit', 'inherit'] });
  installed = true;
}

/** Compiles `files` into binary schemas (.bfbs) in a fresh folder; `remove()` deletes it. */
export function compileSchemas(...files: string[]): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sy-fbs-test-'));
  execFileSync('bash', [script, 'compile', dir, ...files], { stdio: ['ignore', 'inherit', 'inherit'] });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs flatc with `args`; its output, or the error with what it printed. */
export function flatc(args: string[]): string {
  return execFileSync('flatc', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}
