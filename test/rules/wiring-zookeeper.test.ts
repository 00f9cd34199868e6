// Running consumers and providers obey traffic rules written straight into a real ZooKeeper, as
// Dubbo Admin writes them (persistent nodes /dubbo/config/dubbo/<key>.<kind> holding the YAML),
// through real servers over tcp:// and a client calling in a loop.
import type { TestContext } from 'node:test';
import { onCleanup } from '../support/calculator.js';
import { zooKeeperForFile } from '../support/zookeeper.js';
import { consumerScenarios } from './wiring-consumer-scenarios.js';
import type { RuleBackend } from './wiring-kit.js';
import { providerScenarios } from './wiring-provider-scenarios.js';
import { routingScenarios } from './wiring-routing-scenarios.js';

const FOLDER = '/dubbo/config/dubbo';
const { server } = zooKeeperForFile('switchyard-zk-wiring-');

interface PlainClient {
  put(path: string, text: string): Promise<void>;
  remove(path: string): Promise<void>;
}

const plainClients = new WeakMap<TestContext, Promise<PlainClient>>();

/**
 * A bare node-zookeeper-client session for one test, closed when it ends: another tool on the same
 * ZooKeeper, as Dubbo Admin is.
 */
function plainClient(t: TestContext): Promise<PlainClient> {
  let plain = plainClients.get(t);
  if (plain === undefined) {
    plain = connectPlain(t);
    plainClients.set(t, plain);
  }
  return plain;
}

async function connectPlain(t: TestContext): Promise<PlainClient> {
  const zkModule = 'node-zookeeper-client';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const lib: any = ((await import(zkModule)) as { default: unknown }).default;
  const client = lib.createClient(server().connectString, { sessionTimeout: 5000 });
  await new Promise<void>((resolve) => {
    client.once('connected', resolve);
    client.connect();
  });
  onCleanup(t, () => client.close());
  const call = <T>(start: (cb: (error: unknown, value: T) => void) => void) =>
    new Promise<T>((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value))));
  const NO_NODE = lib.Exception.NO_NODE;
  return {
    async put(path, text) {
      const exists = await call<unknown>((cb) => client.exists(path, cb));
      if (exists) {
        await call<unknown>((cb) => client.setData(path, Buffer.from(text), -1, cb));
        return;
      }
      await call<void>((cb) => client.mkdirp(FOLDER, cb));
      await call<void>((cb) => client.create(path, Buffer.from(text), lib.CreateMode.PERSISTENT, cb));
    },
    async remove(path) {
      await call<void>((cb) => client.remove(path, -1, cb)).catch((error: { code?: number; getCode?: () => number }) => {
        if ((error.getCode?.() ?? error.code) !== NO_NODE) throw error;
      });
    },
  };
}

const zookeeperBackend: RuleBackend = {
  name: 'zookeeper',
  registry: () => `zookeeper://${server().connectString}?cacheFile=false&registerConsumers=false`,
  put: async (t, _registry, key, kind, text) => (await plainClient(t)).put(`${FOLDER}/${key}.${kind}`, text),
  remove: async (t, _registry, key, kind) => (await plainClient(t)).remove(`${FOLDER}/${key}.${kind}`),
};

consumerScenarios(zookeeperBackend);
routingScenarios(zookeeperBackend);
providerScenarios(zookeeperBackend);
