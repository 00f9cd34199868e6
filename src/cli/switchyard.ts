#!/usr/bin/env node
// switchyard: look into registries and servers, and call services, from a shell (docs/cli.md).
import { errorMessage } from '../core/rpc-error.js';
import { commands } from './commands/index.js';
import { Exit, UsageError, warn, type Command } from './switchyard-command.js';

const usage = `Usage: switchyard <command> [arguments] [options]

Commands:
${commands.map((command) => `  ${`${command.name} ${command.synopsis}`.padEnd(56)}${command.summary}`).join('\n')}

A registry is embedded, embedded:///some/dir, zookeeper://host:port[/root] or etcd://host:port; a url is a
server's address: tcp://host:port, http://host:port, grpc://host:port (tls, https, grpcs, amqp too).
Exit status: 0 done, 1 failed (the code is on standard error), 2 bad command line, 3 unreachable.

Run switchyard <command> --help for a command's options. See docs/cli.md.
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(usage);
    return Exit.USAGE;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    // `switchyard help call` is `switchyard call --help`.
    process.stdout.write((rest[0] === undefined ? undefined : find(rest[0]))?.help ?? usage);
    return Exit.OK;
  }
  const command = find(name);
  if (command === undefined) {
    process.stderr.write(`switchyard: unknown command ${JSON.stringify(name)}\n\n${usage}`);
    return Exit.USAGE;
  }
  // Options end at "--": what follows is arguments, even "-h".
  const options = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
  if (options.includes('--help') || options.includes('-h')) {
    process.stdout.write(command.help);
    return Exit.OK;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`switchyard ${command.name}: ${error.message}\n\n${command.help}`);
    return Exit.USAGE;
  }
}

function find(name: string): Command | undefined {
  return commands.find((command) => command.name === name);
}

let finished = false;
// A command whose every handle is unreferenced would let Node end the process with status 0 while
// it still waits: make that a failure, and say so.
process.exitCode = Exit.FAILED;
process.once('exit', () => finished || warn('ended before the command was done'));

/** Exits once what was written has left: a client or registry left open must not keep the command alive. */
function exit(code: number): void {
  finished = true;
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

main(process.argv.slice(2)).then(exit, (error: unknown) => {
  warn(`unexpected failure: ${errorMessage(error)}`);
  exit(Exit.FAILED);
});
