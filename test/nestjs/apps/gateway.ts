// A Nest application that calls nest.Calculator through the proxy SwitchyardModule injects, behind
// a small HTTP front: `gateway.ts <registry dir>`. Prints `ready <http url>`. On SIGTERM or the end
// of its stdin it closes the application and reports what it saw of the shutdown order:
// `http closed; client open: <pid>` from beforeApplicationShutdown, then, after close,
// `client after close: <code>`, then `closed`; it then exits by itself.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Inject, Injectable, Module, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RpcError, codeName, type ServiceProxy } from '../../../src/index.js';
import { SwitchyardModule, switchyardToken } from '../../../src/nestjs/index.js';
import { CalculatorService, type Calculator } from '../calculator.js';

const [dir] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: gateway.ts <registry dir>\n');
  process.exit(2);
}

const SETTINGS = 'Settings';
interface Settings {
  registryDir: string;
}

/** Where the application's configuration would come from; here, the command line. */
class SettingsModule {}
const settingsModule = { module: SettingsModule, providers: [{ provide: SETTINGS, useValue: { registryDir: dir } }], exports: [SETTINGS] };

/** The application's use of the remote service, through the injected proxy. */
@Injectable()
class CalculatorGateway {
  constructor(@Inject(switchyardToken(CalculatorService)) readonly calculator: ServiceProxy<Calculator>) {}

  async answer(url: URL): Promise<unknown> {
    const number = (name: string) => Number(url.searchParams.get(name));
    switch (url.pathname) {
      case '/add': {
        const [sum, provider] = await Promise.all([this.calculator.add(number('a'), number('b')), this.calculator.whoami()]);
        return { sum, servedBy: provider.pid, gateway: process.pid };
      }
      case '/divide':
        return { quotient: await this.calculator.divide(number('a'), number('b')) };
      case '/countdown': {
        const values: number[] = [];
        for await (const value of this.calculator.countdown(number('from'))) values.push(value);
        return { values };
      }
      default:
        return undefined;
    }
  }
}

/** The HTTP server in front, started and stopped with the application. */
@Injectable()
class HttpFront implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly server: Server;

  constructor(@Inject(CalculatorGateway) private readonly gateway: CalculatorGateway) {
    this.server = createServer((request, response) => void this.serve(request, response));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async onApplicationBootstrap(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', resolve);
    });
  }

  /** Runs before SwitchyardModule closes the client: requests stop first, and the client still works here. */
  async beforeApplicationShutdown(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
    const { pid } = await this.gateway.calculator.whoami().catch((error: unknown) => ({ pid: `failed: ${String(error)}` }));
    process.stdout.write(`http closed; client open: ${pid}\n`);
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let status = 200;
    let body: unknown;
    try {
      body = await this.gateway.answer(new URL(request.url ?? '/', 'http://gateway'));
      if (body === undefined) [status, body] = [404, { error: 'no such route' }];
    } catch (error) {
      const failure = RpcError.from(error);
      status = 502;
      body = { error: { code: codeName(failure.code), name: failure.name, message: failure.message, details: failure.details } };
    }
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }
}

@Module({
  imports: [
    SwitchyardModule.forRootAsync({
      services: [CalculatorService],
      imports: [settingsModule],
      inject: [SETTINGS],
      useFactory: (settings: Settings) => ({ registry: `embedded://${settings.registryDir}`, waitForProvidersMs: 1000 }),
    }),
  ],
  providers: [CalculatorGateway, HttpFront],
})
class GatewayModule {}

const app = await NestFactory.createApplicationContext(GatewayModule, { logger: ['error', 'warn'] });
const front = app.get(HttpFront);
const calculator = app.get(CalculatorGateway).calculator;
process.stdout.write(`ready ${front.url}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await app.close();
  const after = await calculator.whoami().then(() => 'answered', (error: unknown) => codeName(RpcError.from(error).code));
  process.stdout.write(`client after close: ${after}\n`);
  process.stdin.destroy();
  process.stdout.write('closed\n');
}
process.once('SIGTERM', () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.resume();
