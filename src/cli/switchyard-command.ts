// What every `switchyard` command shares: its shape, argument parsing, exit codes, JSON output and
// error reports. Commands write to standard output what a script reads, and everything else to
// standard error.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { Code, codeName } from '../core/code.js';
import type { Logger } from '../core/logger.js';
import { RpcError, errorMessage } from '../core/rpc-error.js';

/** Exit statuses of the `switchyard` command (docs/cli.md). */
export const Exit = {
  OK: 0,
  /** The call failed (its code is on standard error), the server is not serving, the admin refused. */
  FAILED: 1,
  /** Bad command line: unknown command or option, missing or malformed argument. */
  USAGE: 2,
  /** Nothing to talk to: the address, the registry or any provider could not be reached (UNAVAILABLE). */
  UNAVAILABLE: 3,
} as const;

/** One subcommand: `switchyard <name> …`. */
export interface Command {
  readonly name: string;
  /** `<registry> [service]`: what follows the name in the usage line. */
  readonly synopsis: string;
  /** One line for the command list of `switchyard --help`. */
  readonly summary: string;
  /** The whole text of `switchyard <name> --help`. */
  readonly help: string;
  /** Runs with the arguments after the name; resolves with the exit status. */
  run(argv: string[]): Promise<number>;
}

/** A mistake on the command line: reported with the command's usage, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;
/** What `parseArgs` makes of a command's arguments, typed by its options. */
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

/**
 * Parses a command's arguments strictly (unknown options are usage errors) and checks how many
 * positionals it got.
 *
 * ```ts
 * const { values, positionals } = parseCommand(argv, { json: { type: 'boolean' } }, 1, 2);
 * ```
 */
export function parseCommand<const O extends Options>(argv: string[], options: O, min: number, max = min): Parsed<O> {
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
  const count = parsed.positionals.length;
  if (count < min) throw new UsageError('missing arguments');
  if (count > max) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[max])}`);
  return parsed;
}

/** An option in milliseconds (`--timeout 500`) as a number, `fallback` when absent. */
export function millisOption<F extends number | undefined>(value: string | undefined, fallback: F, name = '--timeout'): number | F {
  if (value === undefined) return fallback;
  const ms = Number(value);
  if (!Number.isFinite(ms) || ms <= 0) throw new UsageError(`${name} must be a positive number of milliseconds, not ${JSON.stringify(value)}`);
  return ms;
}

/** Writes one line to standard output. */
export function println(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Writes one line to standard error, after the command's name. */
export function warn(text: string): void {
  process.stderr.write(`switchyard: ${text}\n`);
}

/**
 * JSON text of a call's result. JSON has no bytes, big integers, maps or sets, which MessagePack
 * results can hold: bytes become `{ "$base64": "…" }`, big integers decimal strings, maps objects
 * (or pair lists when a key is not a string), sets arrays.
 */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value === undefined ? null : value, function (this: unknown, key: string, converted: unknown) {
    // The value before its own toJSON ran: a Buffer would otherwise already be `{ type, data }`.
    const raw = (this as Record<string, unknown>)[key];
    if (raw instanceof Uint8Array) return { $base64: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') };
    if (typeof converted === 'bigint') return converted.toString();
    if (converted instanceof Map) {
      const entries = [...converted.entries()];
      return entries.every(([k]) => typeof k === 'string') ? Object.fromEntries(entries) : entries;
    }
    if (converted instanceof Set) return [...converted];
    return converted;
  }, indent);
}

/** The JSON form of a failure, as `--json` prints it. */
export function errorJson(error: RpcError): { error: { code: string; message: string; details: Record<string, unknown> } } {
  return { error: { code: codeName(error.code), message: error.message, details: error.details } };
}

/**
 * Reports a failure on standard error (and, with `--json`, as `{ "error": … }` on standard
 * output); returns the exit status its code calls for. A `UsageError` found on the way (a choice
 * only the command line can make) is no failure of the call: it is thrown on, to be reported with
 * the command's usage.
 */
export function reportFailure(error: unknown, doing: string, json = false): number {
  if (error instanceof UsageError) throw error;
  const failure = RpcError.from(error);
  if (json) println(toJson(errorJson(failure)));
  const details = Object.keys(failure.details).length > 0 ? ` ${toJson(failure.details)}` : '';
  warn(`${doing} failed: ${codeName(failure.code)}: ${failure.message}${details}`);
  return exitFor(failure.code);
}

/** The exit status of a failure with `code`. */
export function exitFor(code: number): number {
  return code === Code.UNAVAILABLE ? Exit.UNAVAILABLE : Exit.FAILED;
}

/**
 * The logger given to clients and registries: their warnings and errors (a registry folder refused,
 * ZooKeeper unreachable) go to standard error; nothing else is printed.
 */
export const stderrLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (obj, msg) => warn(`warning: ${logLine(obj, msg)}`),
  error: (obj, msg) => warn(`error: ${logLine(obj, msg)}`),
};

function logLine(obj: object, msg: string | undefined): string {
  const err = (obj as { err?: unknown }).err;
  const cause = err === undefined ? '' : ` (${errorMessage(err)})`;
  return `${msg ?? ''}${cause}`;
}
