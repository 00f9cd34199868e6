import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** How to start a pool worker so that it loads modules the way this process does. */
export interface WorkerLaunch {
  /** The worker's entry: a file URL, or code to evaluate when `eval` is set. */
  entry: URL | string;
  eval: boolean;
  execArgv: string[] | undefined;
  /** `execArgv` is this process's flags less tsx's: if workers refuse one, let them inherit the flags instead. */
  derived: boolean;
  /** Passed to the entry when it is the bootstrap. */
  bootstrap: { loader: string; entry: string } | undefined;
}

const loaderFlags = new Set(['--import', '--loader', '--experimental-loader']);

// Registers the TypeScript loader in the worker, then runs the real entry. Plain CommonJS so that
// it needs no loader itself.
const bootstrapCode = `
const { workerData } = require('node:worker_threads');
(async () => {
  (await import(workerData.bootstrap.loader)).register();
  await import(workerData.bootstrap.entry);
})().catch((error) => process.nextTick(() => { throw error; }));
`;

/**
 * Workers inherit the parent's command-line flags, but on Node versions whose module hooks do not
 * reach worker threads (Node 20), `--import tsx` registers nothing there. When this process runs
 * under tsx, each worker registers tsx itself before loading anything, and the flag is left out
 * (of `execArgv` too, if given), so that newer Node versions do not register it twice.
 */
export function workerLaunch(execArgv: readonly string[] | undefined): WorkerLaunch {
  const entry = new URL(`./worker-entry${extname(new URL(import.meta.url).pathname)}`, import.meta.url);
  const parentArgv = process.execArgv;
  const tsxAt = parentArgv.findIndex((arg, i) => isTsxFlag(arg, parentArgv[i + 1]));
  const loader = tsxAt === -1 ? undefined : tsxApi();
  if (loader === undefined) {
    return { entry, eval: false, execArgv: execArgv === undefined ? undefined : [...execArgv], derived: false, bootstrap: undefined };
  }
  return {
    entry: bootstrapCode,
    eval: true,
    execArgv: withoutTsx(execArgv ?? parentArgv),
    derived: execArgv === undefined,
    bootstrap: { loader, entry: entry.href },
  };
}

function isTsxFlag(arg: string, next: string | undefined): boolean {
  const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, next];
  return loaderFlags.has(flag!) && inline !== undefined && /(^|[/\\])tsx($|[/\\])/.test(inline);
}

function withoutTsx(argv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (isTsxFlag(argv[i]!, argv[i + 1])) {
      if (!argv[i]!.includes('=')) i++;
      continue;
    }
    kept.push(argv[i]!);
  }
  return kept;
}

/** tsx's registration API, found from this module or else from the working directory. */
function tsxApi(): string | undefined {
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    try {
      return pathToFileURL(createRequire(join(process.cwd(), 'noop.js')).resolve('tsx/esm/api')).href;
    } catch {
      return undefined;
    }
  }
}
