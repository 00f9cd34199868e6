#!/usr/bin/env node
// switchyard-proto: TypeScript types and typed service definitions from .proto files.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { errorMessage } from '../core/rpc-error.js';
import { generateProtoTypes } from './proto-typegen.js';

const usage = `Usage: switchyard-proto <file.proto>... [options]

Writes an interface per message, a type per enum, an interface per service and a typed
definition per service (made by defineServiceFromProto from the same .proto).

Options:
  --out <file.ts>          write there (default: standard output)
  --service <pkg.Service>  only this service (repeat for more; default: every service of the files)
  --import <module>        where defineServiceFromProto comes from (default: switchyard)
  -I, --include <dir>      a folder searched for imported .proto files (repeatable)
  --keep-case              field names as written in the .proto (defineServiceFromProto's keepCase)
  --types-only             only types, no definitions
  -h, --help               this text
`;

function main(argv: string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        service: { type: 'string', multiple: true },
        import: { type: 'string' },
        include: { type: 'string', short: 'I', multiple: true },
        'keep-case': { type: 'boolean' },
        'types-only': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    process.stderr.write(`switchyard-proto: ${errorMessage(error)}\n\n${usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(usage);
    return 0;
  }
  if (positionals.length === 0) {
    process.stderr.write(`switchyard-proto: name at least one .proto file\n\n${usage}`);
    return 2;
  }
  try {
    const { code, notes } = generateProtoTypes({
      files: positionals,
      services: values.service,
      outFile: values.out,
      importFrom: values.import,
      includeDirs: values.include,
      keepCase: values['keep-case'],
      typesOnly: values['types-only'],
      command: ['npx switchyard-proto', ...argv].join(' '),
    });
    for (const note of notes) process.stderr.write(`switchyard-proto: ${note}\n`);
    if (values.out === undefined) {
      process.stdout.write(code);
    } else {
      mkdirSync(dirname(values.out), { recursive: true });
      writeFileSync(values.out, code);
    }
    return 0;
  } catch (error) {
    process.stderr.write(`switchyard-proto: ${errorMessage(error)}\n`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
