/**
 * Bundles `src/browser.ts` (the HTTP client for web pages) into one ES module for browsers.
 * The build fails if anything in it imports a Node built-in module, or if the bundle still refers
 * to Node's globals `require` or `process` (`Buffer` only behind a check that it exists).
 *
 *   npx tsx scripts/build-browser.ts [outfile] [--no-sourcemap]     # default dist/browser/switchyard.js
 *
 * The package's build passes `--no-sourcemap`: a map would point at src/, which the package does not ship.
 */
import { builtinModules } from 'node:module';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const browserEntry = fileURLToPath(new URL('../src/browser.ts', import.meta.url));
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/** Refuses every import of a Node built-in, naming the file that made it. */
const noNodeBuiltins: Plugin = {
  name: 'no-node-builtins',
  setup(on) {
    on.onResolve({ filter: /.*/ }, (args) => {
      if (!builtins.has(args.path) && !args.path.startsWith('node:')) return undefined;
      return { errors: [{ text: `the browser bundle must not use the Node built-in ${JSON.stringify(args.path)} (imported by ${args.importer})` }] };
    });
  },
};

/** Builds the bundle at `outfile` (with `outfile.map` if `sourcemap`); rejects, with what went wrong, if it is not browser-safe. */
export async function buildBrowserBundle(outfile: string, entry = browserEntry, sourcemap = true): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap,
    logLevel: 'silent',
    plugins: [noNodeBuiltins],
  });
  const code = await readFile(outfile, 'utf8');
  const nodeGlobals = [/\brequire\s*\(/, /\bprocess\./, /(?<![.\w])Buffer\./];
  const found = nodeGlobals.filter((pattern) => pattern.test(code));
  if (found.length > 0) throw new Error(`the browser bundle refers to Node globals: ${found.map(String).join(', ')}`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const outfile = args.find((arg) => !arg.startsWith('--')) ?? 'dist/browser/switchyard.js';
  buildBrowserBundle(outfile, browserEntry, !args.includes('--no-sourcemap')).then(
    () => console.log(`wrote ${outfile}`),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
