import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// The rule under test lives in the types only, so these cases are compiled, not run: each is a
// module of its own that calls defineService, checked with the project's compiler options.

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');

const preamble = `
import { defineService } from '../../src/core/service.js';
interface Feeds {
  unary(a: number): Promise<number>;
  plain(): number;
  generator(): AsyncGenerator<number>;
  iterable(): AsyncIterable<string>;
  iterator(): AsyncIterableIterator<string>;
  loose(): any;
  either(): Promise<number> | AsyncIterable<number>;
}
`;

const valid: Record<string, string> = {
  unary: '{}',
  plain: '{ timeoutMs: 5 }',
  generator: "{ stream: 'server' }",
  iterable: "{ stream: 'server', timeoutMs: 5 }",
  iterator: "{ stream: 'server' }",
  loose: '{}',
  either: '{}',
};

/** A definition of `Feeds` with every method declared correctly except those overridden. */
function source(overrides: Record<string, string>): string {
  const methods = Object.entries({ ...valid, ...overrides }).map(([name, options]) => `${name}: ${options}`);
  return `${preamble}export const Feeds = defineService<Feeds>('demo.Feeds', { methods: { ${methods.join(', ')} } });\n`;
}

const accepted: Array<[string, Record<string, string>]> = [
  ['every method declared as its return type says', {}],
  ['stream on a method returning any', { loose: "{ stream: 'server' }" }],
  ['stream on a method returning either a promise or an iterable', { either: "{ stream: 'server' }" }],
  ['stream written out as undefined on a unary method', { unary: '{ stream: undefined }' }],
];

const rejected: Array<[string, Record<string, string>]> = [
  ['an AsyncGenerator method without stream', { generator: '{}' }],
  ['an AsyncIterable method without stream', { iterable: '{ timeoutMs: 5 }' }],
  ['an AsyncIterableIterator method without stream', { iterator: '{ oneWay: false }' }],
  ['stream on a method returning a promise of a plain value', { unary: "{ stream: 'server' }" }],
  ['stream on a method returning a plain value', { plain: "{ stream: 'server' }" }],
  ['a stream kind other than server', { generator: "{ stream: 'client' }" }],
];

interface TypeError {
  message: string;
  /** The source text the error points at. */
  at: string;
}

/** Type errors of each case, by case name, all from one compilation. */
function compile(cases: ReadonlyArray<[string, Record<string, string>]>): Map<string, TypeError[]> {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), { noEmit: true }, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => assert.fail(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')),
  });
  assert.ok(config !== undefined);
  const files = new Map(cases.map(([name, overrides], i) => [join(here, `stream-case-${i}.ts`), { name, text: source(overrides) }]));
  const host = ts.createCompilerHost(config.options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (file) => files.has(file) || fileExists.call(host, file);
  host.readFile = (file) => files.get(file)?.text ?? readFile.call(host, file);
  host.getSourceFile = (file, language, ...rest) => {
    const virtual = files.get(file);
    return virtual === undefined ? getSourceFile.call(host, file, language, ...rest) : ts.createSourceFile(file, virtual.text, language);
  };
  const program = ts.createProgram([...files.keys()], config.options, host);
  const errors = new Map<string, TypeError[]>();
  for (const [file, { name }] of files) {
    const diagnostics = [...program.getSyntacticDiagnostics(program.getSourceFile(file)), ...program.getSemanticDiagnostics(program.getSourceFile(file))];
    errors.set(name, diagnostics.map((d) => ({
      message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
      at: d.file?.text.slice(d.start, (d.start ?? 0) + (d.length ?? 0)) ?? '',
    })));
  }
  return errors;
}

describe('defineService types: stream follows the method return type', () => {
  let errors: Map<string, TypeError[]>;
  before(() => {
    errors = compile([...accepted, ...rejected]);
  });

  for (const [name] of accepted) {
    it(`accepts ${name}`, () => {
      assert.deepEqual(errors.get(name), []);
    });
  }

  for (const [name] of rejected) {
    it(`rejects ${name}`, () => {
      const found = errors.get(name) ?? [];
      assert.equal(found.length, 1, `expected one type error, got: ${JSON.stringify(found)}`);
      // Either "Property 'stream' is missing ..." or an error at the stream option itself.
      const { message, at } = found[0]!;
      assert.ok(/'stream'/.test(message) || at === 'stream', `the error is about stream: ${message} at ${at}`);
    });
  }
});
