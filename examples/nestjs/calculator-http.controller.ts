// The calling side: a Nest HTTP controller that calls the service through the proxy SwitchyardModule injects.
import { Catch, Controller, Get, Headers, Inject, Module, ParseIntPipe, Query, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost } from '@nestjs/core';
import { Code, RpcError, codeName, type ServiceProxy } from '../../src/index.js';
import { SwitchyardModule, switchyardToken } from '../../src/nestjs/index.js';
import { CalculatorService, type Calculator } from './contract.js';

@Controller('calc')
export class CalculatorHttpController {
  // Injected by token: tsx cannot emit the parameter types Nest would otherwise read.
  constructor(@Inject(switchyardToken(CalculatorService)) private readonly calculator: ServiceProxy<Calculator>) {}

  @Get('add')
  async add(@Query('a', ParseIntPipe) a: number, @Query('b', ParseIntPipe) b: number): Promise<{ sum: number }> {
    return { sum: await this.calculator.add(a, b) };
  }

  // An HTTP header passed on as call metadata, which the provider's handler reads.
  @Get('divide')
  async divide(@Query('a', ParseIntPipe) a: number, @Query('b', ParseIntPipe) b: number, @Headers('x-caller') caller = 'anonymous'): Promise<{ quotient: number }> {
    return { quotient: await this.calculator.divide.with({ metadata: { caller } })(a, b) };
  }

  // A server stream, read to its end.
  @Get('countdown')
  async countdown(@Query('from', ParseIntPipe) from: number): Promise<{ values: number[] }> {
    const values: number[] = [];
    for await (const value of this.calculator.countdown(from)) values.push(value);
    return { values };
  }
}

/** A failed call as an HTTP answer: 400 for the caller's mistake, 502 for anything else the service behind says. */
@Catch(RpcError)
class RpcErrorFilter implements ExceptionFilter {
  constructor(@Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost) {}

  catch(error: RpcError, host: ArgumentsHost): void {
    const status = error.code === Code.INVALID_ARGUMENT ? 400 : 502;
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), { code: codeName(error.code), message: error.message }, status);
  }
}

/** `registry` says where to find the providers: the embedded registry's folder here, ZooKeeper in production. */
export function httpModule(registry: string) {
  @Module({
    imports: [SwitchyardModule.forRoot({ registry, services: [CalculatorService], timeoutMs: 5000 })],
    controllers: [CalculatorHttpController],
    providers: [{ provide: APP_FILTER, useClass: RpcErrorFilter }],
  })
  class HttpModule {}
  return HttpModule;
}
