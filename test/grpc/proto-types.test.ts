// switchyard-proto: TypeScript from .proto files, checked by the TypeScript compiler and against
// what the codec decodes at run time.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { generateProtoTypes } from '../../src/cli/proto-typegen.js';
import { createClient, createServer } from '../../src/index.js';
import { onCleanup } from '../support/calculator.js';
import { catalogImpl, conformanceSource, typesUsedRightly, typesUsedWrongly, type CatalogSeen } from './fixtures/catalog-usage.js';
import { CatalogService } from './fixtures/catalog.types.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC_INDEX = join(ROOT, 'src/index.js');
const GREETER_PROTO = join(ROOT, 'examples/greeter.proto');
const CATALOG_PROTO = fileURLToPath(new URL('./fixtures/catalog.proto', import.meta.url));

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-proto-types-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // ES modules, as the generated code (import.meta.url) and Switchyard are.
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  return dir;
}

/** Writes the types of `proto` to `dir/<name>.types.ts`, importing Switchyard from this checkout. */
function generateInto(dir: string, proto: string, name: string): string {
  const outFile = join(dir, `${name}.types.ts`);
  writeFileSync(outFile, generateProtoTypes({ files: [proto], outFile, importFrom: SRC_INDEX }).code);
  return outFile;
}

/**
 * Type-checks `files` as this project does (its tsconfig.json) and returns their diagnostics by
 * file name, as `line: TSxxxx message` (lines from 1). Files they import are checked only as far
 * as these need them.
 */
function typeCheck(files: string[]): Map<string, string[]> {
  const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (path) => ts.sys.readFile(path));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const program = ts.createProgram(files, { ...parsed.options, noEmit: true, declaration: false, typeRoots: [join(ROOT, 'node_modules/@types')] });
  const found = new Map<string, string[]>();
  for (const file of files) {
    const source = program.getSourceFile(file);
    assert.ok(source, `${file} is part of the program`);
    const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
    found.set(file, diagnostics.map((diagnostic) => {
      const line = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line + 1;
      return `${line}: TS${diagnostic.code} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ').slice(0, 160)}`;
    }));
  }
  return found;
}

/** The `// TSxxxx` markers of a source: which line must fail with which code. */
function expectedErrors(source: string): string[] {
  return source.split('\n').flatMap((line, index) => [...line.matchAll(/\/\/ (TS\d+)/g)].map((match) => `${index + 1}: ${match[1]}`));
}

test('the types of a .proto compile, check correct use, refuse wrong field types, and match what the codec decodes over grpc', async (t) => {
  const dir = tempDir(t);
  const greeterTypes = generateInto(dir, GREETER_PROTO, 'greeter');
  const catalogTypes = generateInto(dir, CATALOG_PROTO, 'catalog');

  // At run time: the generated definition (fixtures/catalog.types.ts, checked below to be what the
  // generator writes) served over grpc:// and called by a Switchyard client.
  const seen: CatalogSeen = { getItem: [], listItems: [] };
  const server = createServer({ registry: false, listen: ['grpc://127.0.0.1:0'] });
  server.provide(CatalogService, catalogImpl(seen));
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  const client = createClient({ url: address! });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  const catalog = client.proxy(CatalogService);
  const rich = await catalog.getItem({ id: 1n, locale: 'en' });
  const plain = await catalog.getItem({ id: 2n });
  const listed = [];
  for await (const item of catalog.listItems({ kind: 'MUSIC' })) listed.push(item);
  const pong = await catalog.ping({});

  assert.equal(rich.id, 1n);
  assert.deepEqual(rich.stock, { main: -2n, spare: 2n ** 63n - 1n });
  assert.deepEqual(rich.notesByDay, { '-1': 'yesterday', [String(-(2n ** 63n))]: 'long ago' }, 'map<int64, …> keys decode as decimal text');
  assert.equal(rich.source, 'inline', 'the oneof names its set member');
  assert.equal(plain.price, null, 'an unset sub-message decodes as null');
  assert.equal('rating' in plain, false, 'an unset optional field is absent');
  assert.equal(listed.length, 2);

  // At compile time: the generated files, a correct use, a wrong use, and the values just received
  // written out as literals typed by the generated interfaces (with TypeScript's excess property
  // checks, a field the types lack fails as surely as a missing or mistyped one).
  const ok = join(dir, 'ok.ts');
  const wrong = join(dir, 'wrong.ts');
  const conformance = join(dir, 'conformance.ts');
  writeFileSync(ok, typesUsedRightly(SRC_INDEX));
  writeFileSync(wrong, typesUsedWrongly(SRC_INDEX));
  writeFileSync(conformance, conformanceSource({ rich, plain, listed, pong, seen }));
  const diagnostics = typeCheck([greeterTypes, catalogTypes, ok, wrong, conformance]);

  assert.deepEqual(diagnostics.get(greeterTypes), [], 'the greeter types compile');
  assert.deepEqual(diagnostics.get(catalogTypes), [], 'the catalog types compile');
  assert.deepEqual(diagnostics.get(ok), [], 'correct use type-checks');
  assert.deepEqual(diagnostics.get(conformance), [], `what the codec decoded conforms to the generated types:\n${readFileSync(conformance, 'utf8')}`);
  const got = diagnostics.get(wrong)!;
  assert.deepEqual(got.map((line) => line.split(' ').slice(0, 2).join(' ')), expectedErrors(readFileSync(wrong, 'utf8')), `wrong use fails where marked:\n${got.join('\n')}`);
  assert.ok(got.some((line) => /Type 'number' is not assignable to type 'bigint'/.test(line)), got.join('\n'));
  assert.ok(got.some((line) => /Type 'string' is not assignable to type 'bigint'/.test(line)), got.join('\n'));
});

test('the generated files of this repository are what the generator writes today', () => {
  for (const [proto, outFile, importFrom] of [
    ['examples/greeter.proto', 'examples/greeter.types.ts', '../src/index.js'],
    ['test/grpc/fixtures/ledger.proto', 'test/grpc/fixtures/ledger.types.ts', '../../../src/index.js'],
    ['test/grpc/fixtures/catalog.proto', 'test/grpc/fixtures/catalog.types.ts', '../../../src/index.js'],
  ] as const) {
    const written = readFileSync(join(ROOT, outFile), 'utf8');
    const command = /^\/\/ {3}(npx switchyard-proto .*)$/m.exec(written)?.[1];
    assert.ok(command, `${outFile} records the command that wrote it`);
    const fresh = generateProtoTypes({ files: [join(ROOT, proto)], outFile: join(ROOT, outFile), importFrom, command });
    assert.equal(written, fresh.code, `${outFile} is out of date: run ${command}`);
  }
});

test('keepCase: field names as written in the .proto, and a definition that loads it so', () => {
  const { code } = generateProtoTypes({ files: [CATALOG_PROTO], keepCase: true, typesOnly: true });
  assert.match(code, /\n {2}updated_at\?: Timestamp \| null;\n/);
  assert.match(code, /\n {2}notes_by_day: Record<string, string>;\n/);
  assert.doesNotMatch(code, /import|defineServiceFromProto/, 'types only import nothing');
  const { code: withDefinition } = generateProtoTypes({ files: [CATALOG_PROTO], keepCase: true });
  assert.match(withDefinition, /keepCase: true/);
});

const run = promisify(execFile);

test('the switchyard-proto command writes the file, client and bidi streaming rpcs included, and fails clearly', async (t) => {
  const dir = tempDir(t);
  const cli = join(ROOT, 'src/cli/proto-types.ts');
  const out = join(dir, 'nested', 'catalog.types.ts');
  const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', cli, CATALOG_PROTO, '--out', out, '--service', 'test.catalog.Catalog'], { cwd: ROOT });
  assert.equal(stdout, '');
  assert.equal(stderr, '');
  const code = readFileSync(out, 'utf8');
  assert.match(code, /export interface Catalog \{\n/);
  assert.match(code, /getItem\(request: GetItemRequestInit\): Promise<Item>;/);
  assert.match(code, /listItems\(request: ListRequestInit\): AsyncIterable<Item>;/);
  assert.match(code, /upload\(requests: AsyncIterable<ItemInit>\): Promise<Summary>;/);
  assert.match(code, /sync\(requests: AsyncIterable<ItemInit>\): AsyncIterable<Item>;/);
  assert.match(code, /export const CatalogService = defineCatalog\(\);/);

  const printed = await run(process.execPath, ['--import', 'tsx', cli, GREETER_PROTO, '--types-only'], { cwd: ROOT });
  assert.match(printed.stdout, /export interface HelloRequest \{/, 'without --out the code goes to standard output');

  await assert.rejects(run(process.execPath, ['--import', 'tsx', cli, CATALOG_PROTO, '--service', 'test.catalog.Nope'], { cwd: ROOT }), (error: { code?: number; stderr?: string }) => {
    assert.equal(error.code, 1);
    assert.match(error.stderr ?? '', /no service "test\.catalog\.Nope"/);
    return true;
  });
  await assert.rejects(run(process.execPath, ['--import', 'tsx', cli], { cwd: ROOT }), (error: { code?: number; stderr?: string }) => error.code === 2 && /Usage: switchyard-proto/.test(error.stderr ?? ''));
});
