// A Nest HTTP application whose controller calls nest.Calculator through the proxy SwitchyardModule
// injects: `gateway.ts <registry dir>`. Prints `ready <http url>`. On SIGTERM Nest shuts it down
// (`enableShutdownHooks`) and it reports the order it saw: `http closed; client open: <pid>` once the
// HTTP server has stopped and while the client still answers, `client after close: <code>` once
// SwitchyardModule has closed the client, then `exit: nothing left open`.
import {
  Catch,
  Controller,
  Get,
  Headers,
  Inject,
  Injectable,
  Module,
  ParseIntPipe,
  Query,
  type ArgumentsHost,
  type ExceptionFilter,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost, ModuleRef, NestFactory } from '@nestjs/core';
import { RpcError, codeName, type ServiceProxy } from '../../../src/index.js';
import { SwitchyardModule, switchyardToken } from '../../../src/nestjs/index.js';
import { CalculatorService, type Calculator } from '../calculator.js';
import { closeWithTheTest } from '../support/app-exit.js';

const [dir] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: gateway.ts <registry dir>\n');
  process.exit(2);
}

const SETTINGS = 'Settings';
interface Settings {
  registryDir: string;
}

/** The remote service behind HTTP routes, through the injected proxy. */
@Controller()
class CalculatorHttpController {
  constructor(@Inject(switchyardToken(CalculatorService)) private readonly calculator: ServiceProxy<Calculator>) {}

  @Get('add')
  async add(@Query('a', ParseIntPipe) a: number, @Query('b', ParseIntPipe) b: number): Promise<unknown> {
    const [sum, provider] = await Promise.all([this.calculator.add(a, b), this.calculator.whoami()]);
    return { sum, servedBy: provider.pid, gateway: process.pid };
  }

  @Get('divide')
  async divide(@Query('a', ParseIntPipe) a: number, @Query('b', ParseIntPipe) b: number): Promise<unknown> {
    return { quotient: await this.calculator.divide(a, b) };
  }

  @Get('countdown')
  async countdown(@Query('from', ParseIntPipe) from: number): Promise<unknown> {
    const values: number[] = [];
    for await (const value of this.calculator.countdown(from)) values.push(value);
    return { values };
  }

  /** An HTTP header passed on as call metadata. */
  @Get('tenant')
  async tenant(@Headers('x-tenant') tenant: string | undefined): Promise<unknown> {
    return { tenant: await this.calculator.tenant.with({ metadata: tenant === undefined ? {} : { tenant } })() };
  }

  /** A request that is still in flight when the application is told to stop. */
  @Get('hold')
  async hold(@Query('ms', ParseIntPipe) ms: number): Promise<unknown> {
    return { held: await this.calculator.hold(ms) };
  }
}

/** A failed call as an HTTP answer: 502, with the error's code, name, message and details. */
@Catch(RpcError)
class RpcErrorAsBadGateway implements ExceptionFilter {
  constructor(@Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost) {}

  catch(failure: RpcError, host: ArgumentsHost): void {
    const error = { code: codeName(failure.code), name: failure.name, message: failure.message, details: failure.details };
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), { error }, 502);
  }
}

/** Nest closes the HTTP server, then runs this (the root module's) hook, then SwitchyardModule's. */
@Injectable()
class HttpClosedProbe implements OnApplicationShutdown {
  constructor(
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(switchyardToken(CalculatorService)) private readonly calculator: ServiceProxy<Calculator>,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    const http = this.adapterHost.httpAdapter.getHttpServer().listening ? 'open' : 'closed';
    const { pid } = await this.calculator.whoami().catch((error: unknown) => ({ pid: `failed: ${String(error)}` }));
    process.stdout.write(`http ${http}; client open: ${pid}\n`);
  }
}

/**
 * Nest shuts a module down after the modules that import it. SwitchyardModule imports this one (its
 * options come from it), so this hook runs once the client is closed, and sees what a call then gets.
 */
@Injectable()
class ClientClosedProbe implements OnApplicationShutdown {
  constructor(@Inject(ModuleRef) private readonly modules: ModuleRef) {}

  async onApplicationShutdown(): Promise<void> {
    const calculator = this.modules.get<ServiceProxy<Calculator>>(switchyardToken(CalculatorService), { strict: false });
    const after = await calculator.whoami().then(() => 'answered', (error: unknown) => codeName(RpcError.from(error).code));
    process.stdout.write(`client after close: ${after}\n`);
  }
}

/** Where the application's configuration would come from; here, the command line. */
@Module({ providers: [{ provide: SETTINGS, useValue: { registryDir: dir } }, ClientClosedProbe], exports: [SETTINGS] })
class SettingsModule {}

@Module({
  imports: [
    SwitchyardModule.forRootAsync({
      services: [CalculatorService],
      imports: [SettingsModule],
      inject: [SETTINGS],
      useFactory: (settings: Settings) => ({ registry: `embedded://${settings.registryDir}`, waitForProvidersMs: 1000 }),
    }),
  ],
  controllers: [CalculatorHttpController],
  providers: [{ provide: APP_FILTER, useClass: RpcErrorAsBadGateway }, HttpClosedProbe],
})
class GatewayModule {}

const app = await NestFactory.create(GatewayModule, { logger: ['error', 'warn'] });
app.enableShutdownHooks(); // SIGTERM: app.close()
closeWithTheTest(app);
await app.listen(0, '127.0.0.1');
process.stdout.write(`ready ${await app.getUrl()}\n`);
