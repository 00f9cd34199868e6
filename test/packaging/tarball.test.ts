// The package as a user gets it: packed like `npm publish` would, checked by arethetypeswrong and
// publint, and installed into a fresh CommonJS project without the optional peer dependencies.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, posix } from 'node:path';
import { after, before, test } from 'node:test';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { OPTIONAL_PEERS, ROOT, SUBPATHS, installInto, pack, runCommand, type Packed } from './packed-package.js';

const FIXTURES = join(ROOT, 'test/packaging/fixtures');
/** Subpaths other work is still adding: checked as soon as their files are built. */
const IN_PROGRESS = new Set(['./testing', './nestjs']);
const NOT_BUILT = SUBPATHS.filter((subpath) => !subpath.built && IN_PROGRESS.has(subpath.key));
/** Subpaths that load optional peers, checked with those peers installed. */
const WITH_PEERS = new Set(['./nestjs', './awilix']);
const CHECKED = SUBPATHS.filter((subpath) => !NOT_BUILT.includes(subpath));
const skip = existsSync(join(ROOT, 'dist/index.js')) ? false : 'dist/ is not built: run npm run build (npm test does)';

let workdir = '';
let packed: Packed;
let installed: Promise<string> | undefined;

before(async () => {
  if (skip) return;
  workdir = mkdtempSync(join(tmpdir(), 'switchyard-package-'));
  packed = await pack(workdir);
});
after(() => {
  if (workdir !== '') rmSync(workdir, { recursive: true, force: true });
});

/** The packed package installed into a new CommonJS project, once for the tests that need it. */
function project(): Promise<string> {
  const dir = join(workdir, 'project');
  installed ??= installInto(dir, packed.tarball).then(() => {
    for (const file of ['require-subpaths.cjs', 'without-peers.cjs', 'greeter.proto']) copyFileSync(join(FIXTURES, file), join(dir, file));
    return dir;
  });
  return installed;
}

async function runJson(dir: string, script: string, args: readonly string[]): Promise<Record<string, unknown>> {
  const result = await runCommand(process.execPath, [script, ...args], dir, 30_000);
  assert.equal(result.code, 0, `${script} failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

test('the tarball holds LICENSE, README, dist, docs, examples and the file of every subpath', { skip }, (t) => {
  t.diagnostic(`packed ${packed.size} bytes, unpacked ${packed.unpackedSize} bytes, ${packed.files.size} files`);
  for (const subpath of NOT_BUILT) t.diagnostic(`${subpath.key} is not built yet (${subpath.file}): not checked`);
  // The console's page is copied into dist/ by the build (build:console), not compiled.
  for (const file of ['LICENSE', 'README.md', 'package.json', 'dist/index.d.ts', 'docs/calls.md', 'examples/quickstart.ts', 'dist/console/assets/index.html', 'dist/console/assets/console.js']) {
    assert.ok(packed.files.has(file), `${file} is packed`);
  }
  const license = readFileSync(join(packed.root, 'LICENSE'), 'utf8');
  assert.match(license, /Apache License\s+Version 2\.0, January 2004/);
  assert.match(license, /Copyright \d{4} The Switchyard authors/);
  for (const subpath of CHECKED) assert.ok(packed.files.has(posix.normalize(subpath.file)), `${subpath.specifier}: ${subpath.file} is packed`);
  for (const file of packed.files) assert.doesNotMatch(file, /^(src|test|bench\/(?!README\.md$))\//, `${file} is not meant for the package`);
});

test('no source map in the tarball points at a file it does not hold', { skip }, () => {
  const held = (from: string, target: string) => packed.files.has(posix.normalize(posix.join(posix.dirname(from), target)));
  for (const file of packed.files) {
    if (file.endsWith('.map')) {
      const map = JSON.parse(readFileSync(join(packed.root, file), 'utf8')) as { sources: string[]; sourceRoot?: string };
      for (const source of map.sources) assert.ok(held(file, posix.join(map.sourceRoot ?? '', source)), `${file} points at ${source}`);
    } else if (/\.[cm]?js$|\.d\.[cm]?ts$/.test(file)) {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(packed.root, file), 'utf8'))?.[1];
      if (url !== undefined && !url.startsWith('data:')) assert.ok(held(file, url), `${file} names the map ${url}, which is not packed`);
    }
  }
});

test('every relative link in README.md and docs/ leads to a file in the tarball', { skip }, () => {
  const pages = [...packed.files].filter((file) => file === 'README.md' || /^docs\/.*\.md$/.test(file));
  assert.ok(pages.length > 5, 'the docs are packed');
  const broken: string[] = [];
  for (const page of pages) {
    const text = readFileSync(join(packed.root, page), 'utf8');
    for (const match of text.matchAll(/\]\(([^)\s]+)\)|^\[[^\]]+\]:\s*(\S+)/gm)) {
      const target = (match[1] ?? match[2]!).replace(/[#?].*$/, '');
      if (target === '' || /^[a-z][a-z+.-]*:/i.test(target)) continue;
      const path = posix.normalize(posix.join(posix.dirname(page), target)).replace(/\/$/, '');
      const found = packed.files.has(path) || [...packed.files].some((file) => file.startsWith(`${path}/`));
      if (!found) broken.push(`${page} links to ${target}, which is not packed`);
    }
  }
  assert.deepEqual(broken, []);
});

test('arethetypeswrong finds no problem in any entry point', { skip }, async () => {
  // `cjs-resolves-to-esm` is the one rule ignored. The package is one ES module build on purpose:
  // Node 20.19+ loads it with require() (checked below), and TypeScript 5.8+ with module nodenext
  // allows it too (checked below with this repository's TypeScript), but attw models TypeScript
  // 5.6, which predates both. A second, CommonJS build would make two copies of module state that
  // must be one per process: the transport, serializer, balancer and registry tables, the
  // currentCall() context, and the RpcError class that errors are recognised by.
  const excluded = NOT_BUILT.length === 0 ? [] : ['--exclude-entrypoints', ...NOT_BUILT.map((subpath) => subpath.key)];
  const attw = join(ROOT, 'node_modules/.bin/attw');
  const result = await runCommand(attw, [packed.tarball, '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'ascii', '--no-color', '--no-emoji', ...excluded], workdir);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /No problems found/);
  for (const subpath of CHECKED) assert.ok(result.stdout.includes(`"${subpath.specifier}"`), `attw checked ${subpath.specifier}`);
});

test('publint finds no error or warning in the tarball', { skip }, async () => {
  const bytes = readFileSync(packed.tarball);
  const tarball = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const { messages, pkg } = await publint({ pack: { tarball }, strict: true, level: 'warning' });
  const unbuilt = new Set(NOT_BUILT.map((subpath) => subpath.key));
  const found = messages.filter((message) => !(message.path[0] === 'exports' && unbuilt.has(message.path[1]!)));
  assert.deepEqual(found.map((message) => `${message.type}: ${formatMessage(message, pkg) ?? message.code}`), []);
});

test('a CommonJS TypeScript file (module nodenext) type-checks against every subpath', { skip }, async () => {
  const dir = await project();
  const consumer = join(dir, 'consumer.cts');
  const imports = CHECKED.map((subpath, at) => `import * as subpath${at} from '${subpath.specifier}';\nexport const exports${at} = Object.keys(subpath${at});`);
  writeFileSync(consumer, [
    ...imports,
    "import { createClient, defineService } from 'switchyard';",
    "const Calculator = defineService<{ add(a: number, b: number): Promise<number> }>('packed.Calculator', { methods: { add: {} } });",
    "export const sum: Promise<number> = createClient({ url: 'tcp://127.0.0.1:1' }).proxy(Calculator).add(1, 2);",
    '// @ts-expect-error the types are real: a wrong argument is caught',
    "export const wrong = createClient({ url: 'tcp://127.0.0.1:1' }).proxy(Calculator).add('1', 2);",
  ].join('\n'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'nodenext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] },
    files: ['consumer.cts'],
  }));
  const result = await runCommand(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], dir);
  assert.equal(result.code, 0, result.stdout + result.stderr);
});

test('require() loads every subpath from a CommonJS project, the same module that import() loads', { skip }, async () => {
  const dir = await project();
  // `switchyard/nestjs` and `switchyard/awilix` need peers this project lacks: the last test loads them.
  const specifiers = CHECKED.filter((subpath) => !WITH_PEERS.has(subpath.key)).map((subpath) => subpath.specifier);
  const report = (await runJson(dir, 'require-subpaths.cjs', specifiers)) as { loaded: Record<string, string[]>; sameModule: boolean };
  assert.deepEqual(Object.keys(report.loaded), specifiers);
  assert.ok(report.loaded.switchyard!.includes('createClient'));
  assert.ok(report.loaded['switchyard/browser']!.includes('createHttpClient'));
  for (const specifier of specifiers) assert.ok(report.loaded[specifier]!.length > 0, `${specifier} exports something`);
  assert.equal(report.sameModule, true, 'require() and import() give one module instance');
});

test('without the optional peers, tcp:// through the embedded registry works and amqp://, ZooKeeper and .proto name the package to install', { skip }, async () => {
  const dir = await project();
  for (const peer of [...OPTIONAL_PEERS, '@nestjs/common', 'rxjs', 'awilix']) assert.ok(!existsSync(join(dir, 'node_modules', peer)), `${peer} is not installed`);
  const registryDir = join(dir, 'registry');
  mkdirSync(registryDir);
  const report = await runJson(dir, 'without-peers.cjs', [registryDir]);
  assert.match(String(report.address), /^tcp:\/\/127\.0\.0\.1:\d+$/);
  assert.deepEqual(report.sum, { value: 5 });
  const amqp = { code: 'FAILED_PRECONDITION', message: 'amqp:// needs the package amqplib: npm install amqplib' };
  assert.deepEqual(report.amqpCall, amqp);
  assert.deepEqual(report.amqpListen, amqp);
  assert.deepEqual(report.zookeeper, { code: 'FAILED_PRECONDITION', message: 'the ZooKeeper registry needs the package node-zookeeper-client: npm install node-zookeeper-client' });
  assert.ok((report.zookeeperClientLog as string[]).some((line) => line.includes('npm install node-zookeeper-client')), JSON.stringify(report.zookeeperClientLog));
  assert.equal((report.proto as { code: string }).code, 'FAILED_PRECONDITION');
  assert.match((report.proto as { message: string }).message, /needs the package protobufjs: npm install protobufjs$/);
  assert.deepEqual(report.installedOptional, []);
});

const nestjs = SUBPATHS.find((subpath) => subpath.key === './nestjs');
test('with the NestJS and awilix peers installed, require() loads switchyard/nestjs and switchyard/awilix', { skip: skip || (nestjs?.built ? false : 'dist/nestjs/ is not built yet') }, async () => {
  const dir = await project();
  // The peers as the repository has them, linked in rather than installed again.
  for (const peer of ['@nestjs/common', '@nestjs/core', '@nestjs/microservices', 'reflect-metadata', 'rxjs', 'awilix']) {
    mkdirSync(dirname(join(dir, 'node_modules', peer)), { recursive: true });
    if (!existsSync(join(dir, 'node_modules', peer))) symlinkSync(join(ROOT, 'node_modules', peer), join(dir, 'node_modules', normalize(peer)), 'dir');
  }
  const report = (await runJson(dir, 'require-subpaths.cjs', ['switchyard/nestjs', 'switchyard/awilix'])) as { loaded: Record<string, string[]> };
  assert.ok(report.loaded['switchyard/nestjs']!.length > 0);
  assert.ok(report.loaded['switchyard/awilix']!.includes('registerSwitchyard'));
});
