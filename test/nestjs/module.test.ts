// SwitchyardModule in a real Nest application context in this process, against a plain Switchyard
// server on an embedded registry in a temporary folder.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { NestFactory } from '@nestjs/core';
import { Code, RpcError, createServer, currentCall, defineService, type Client, type ServiceProxy } from '../../src/index.js';
import { SWITCHYARD_CLIENT, SwitchyardModule, switchyardToken } from '../../src/nestjs/index.js';

interface Teams {
  team(): Promise<string | null>;
}
const TeamsService = defineService<Teams>('nest.Teams', { methods: { team: {} } });

interface Clock {
  now(): Promise<number>;
}
const ClockService = defineService<Clock>('nest.Clock', { methods: { now: {} } });

async function providers(t: test.TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-nest-module-'));
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: `embedded://${dir}`, warmupMs: 0 });
  server.provide(TeamsService, {
    async team() {
      const team = currentCall().metadata.get('team');
      return typeof team === 'string' ? team : null;
    },
  });
  server.provide(ClockService, { now: async () => 1234 });
  await server.listen();
  t.after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  return `embedded://${dir}`;
}

test('forRoot provides a typed proxy per service, with the options given for it, and closes the client on shutdown', async (t) => {
  const registry = await providers(t);
  const app = await NestFactory.createApplicationContext(SwitchyardModule.forRoot({
    registry,
    services: [ClockService, { service: TeamsService, options: { metadata: { team: 'blue' } } }],
  }), { logger: false });
  let closed = false;
  t.after(() => (closed ? undefined : app.close()));

  const clock = app.get<ServiceProxy<Clock>>(switchyardToken(ClockService));
  const teams = app.get<ServiceProxy<Teams>>(SwitchyardModule.token(TeamsService));
  assert.equal(await clock.now(), 1234);
  assert.equal(await teams.team(), 'blue');
  const client = app.get<Client>(SWITCHYARD_CLIENT);
  assert.equal(await client.proxy(TeamsService).team(), null);

  await app.close();
  closed = true;
  await assert.rejects(clock.now(), (error: unknown) => error instanceof RpcError && error.code === Code.UNAVAILABLE && error.message === 'client is closed');
});

test('forRootAsync makes the client from options a factory returns', async (t) => {
  const registry = await providers(t);
  class ConfigModule {}
  const config = { module: ConfigModule, providers: [{ provide: 'REGISTRY', useValue: registry }], exports: ['REGISTRY'] };
  const app = await NestFactory.createApplicationContext(SwitchyardModule.forRootAsync({
    services: [ClockService],
    imports: [config],
    inject: ['REGISTRY'],
    useFactory: async (address: string) => ({ registry: address }),
  }), { logger: false });
  t.after(() => app.close());
  assert.equal(await app.get<ServiceProxy<Clock>>(switchyardToken(ClockService)).now(), 1234);
});
