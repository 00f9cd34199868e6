// A Nest microservice that serves nest.Calculator from a controller over SwitchyardTransport:
// `microservice.ts <registry dir>`. Prints `ready <address>`. On SIGTERM Nest shuts it down
// (`enableShutdownHooks`), draining calls in flight; it prints the transport's status as each
// shutdown hook runs (`before shutdown: <status>`, `on shutdown: <status>`), then `exit: nothing left open`.
import {
  BadRequestException,
  Controller,
  Inject,
  Injectable,
  Module,
  NotFoundException,
  UseGuards,
  UseInterceptors,
  type CallHandler,
  type CanActivate,
  type BeforeApplicationShutdown,
  type ExecutionContext,
  type NestInterceptor,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, MessagePattern, Payload, RpcException, type MicroserviceOptions } from '@nestjs/microservices';
import { Observable, concat, interval, map, of, take, throwError } from 'rxjs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Code, RpcError } from '../../../src/index.js';
import { SwitchyardContext, SwitchyardExceptionFilter, SwitchyardMethod, SwitchyardTransport, type SwitchyardStatus } from '../../../src/nestjs/index.js';
import { CalculatorService, type Calculator, type FailureKind } from '../calculator.js';
import { closeWithTheTest } from '../support/app-exit.js';

const [dir] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: microservice.ts <registry dir>\n');
  process.exit(2);
}

/** What the tests read back through `openTicks` and `openHolds`. */
@Injectable()
class Counters {
  openTicks = 0;
  openHolds = 0;
}

/** Refuses `fail('guard')`, as an authorization guard refuses a caller. */
@Injectable()
class RefuseGuardKind implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const [kind] = context.switchToRpc().getData<[FailureKind]>();
    return kind !== 'guard';
  }
}

/** An interceptor that changes nothing: with one, Nest hands every answer over as an Observable. */
@Injectable()
class PassThrough implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle();
  }
}

@Controller()
class CalculatorController {
  constructor(@Inject(Counters) private readonly counters: Counters) {}

  @SwitchyardMethod(CalculatorService, 'add')
  add([a, b]: Parameters<Calculator['add']>): number {
    return a + b;
  }

  // A plain MessagePattern that names the service by its bare name serves it too.
  @MessagePattern({ service: 'nest.Calculator', method: 'divide' })
  async divide(@Payload() [a, b]: Parameters<Calculator['divide']>): Promise<number> {
    if (b === 0) throw new RpcError(Code.INVALID_ARGUMENT, 'cannot divide by zero', { details: { argument: 'b' } });
    return a / b;
  }

  @SwitchyardMethod(CalculatorService, 'whoami')
  whoami(): { pid: number } {
    return { pid: process.pid };
  }

  @SwitchyardMethod(CalculatorService, 'fail')
  @UseGuards(RefuseGuardKind)
  fail([kind]: Parameters<Calculator['fail']>): never {
    switch (kind) {
      case 'rpc-error':
        throw new RpcError(Code.FAILED_PRECONDITION, 'the ledger is closed', { name: 'LedgerClosed', details: { ledger: 7 } });
      case 'rpc-exception-code':
        throw new RpcException({ code: 'NOT_FOUND', message: 'no such account', details: { account: 'a-1' } });
      case 'rpc-exception-text':
        throw new RpcException('something odd happened');
      case 'http-exception':
        throw new NotFoundException('no such order');
      case 'validation':
        throw new BadRequestException(['a must be a number', 'b must be a number']);
      case 'plain-error':
        throw new TypeError('cannot read the configuration');
      default:
        throw new Error(`unexpected kind ${String(kind)}`);
    }
  }

  @SwitchyardMethod(CalculatorService, 'countdown')
  countdown([start]: Parameters<Calculator['countdown']>): Observable<number> {
    return interval(1).pipe(take(start), map((index) => start - index));
  }

  @SwitchyardMethod(CalculatorService, 'countdownGenerator')
  @UseInterceptors(PassThrough)
  async *countdownGenerator([start]: Parameters<Calculator['countdownGenerator']>): AsyncGenerator<number> {
    for (let value = start; value > 0; value--) yield value;
  }

  @SwitchyardMethod(CalculatorService, 'ticks')
  ticks(): Observable<number> {
    return new Observable<number>((subscriber) => {
      this.counters.openTicks++;
      let tick = 0;
      const timer = setInterval(() => subscriber.next(tick++), 2);
      return () => {
        clearInterval(timer);
        this.counters.openTicks--;
      };
    });
  }

  @SwitchyardMethod(CalculatorService, 'openTicks')
  openTicks(): number {
    return this.counters.openTicks;
  }

  @SwitchyardMethod(CalculatorService, 'brokenStream')
  brokenStream(): Observable<number> {
    return concat(of(1, 2), throwError(() => new RpcException({ code: Code.RESOURCE_EXHAUSTED, message: 'quota used up' })));
  }

  @SwitchyardMethod(CalculatorService, 'tenant')
  tenant(@Payload() _args: [], @Ctx() context: SwitchyardContext): string | null {
    const tenant = context.getMetadata().get('tenant');
    return typeof tenant === 'string' ? tenant : null;
  }

  @SwitchyardMethod(CalculatorService, 'hold')
  async hold([ms]: Parameters<Calculator['hold']>): Promise<string> {
    this.counters.openHolds++;
    try {
      await sleep(ms);
      return `held ${ms}`;
    } finally {
      this.counters.openHolds--;
    }
  }

  @SwitchyardMethod(CalculatorService, 'openHolds')
  openHolds(): number {
    return this.counters.openHolds;
  }
}

const transport = new SwitchyardTransport({ listen: ['tcp://127.0.0.1:0'], registry: `embedded://${dir}`, warmupMs: 0, services: [CalculatorService] });
let transportStatus: SwitchyardStatus | 'not started' = 'not started';
transport.status.subscribe((status) => (transportStatus = status));

/** Where the transport is as Nest's shutdown hooks run: what a provider the handlers use may rely on. */
@Injectable()
class ShutdownProbe implements BeforeApplicationShutdown, OnApplicationShutdown {
  beforeApplicationShutdown(): void {
    process.stdout.write(`before shutdown: ${transportStatus}\n`);
  }

  onApplicationShutdown(): void {
    process.stdout.write(`on shutdown: ${transportStatus}\n`);
  }
}

@Module({ controllers: [CalculatorController], providers: [Counters, ShutdownProbe] })
class MicroserviceModule {}

const app = await NestFactory.createMicroservice<MicroserviceOptions>(MicroserviceModule, { strategy: transport, logger: ['error', 'warn'] });
app.useGlobalFilters(new SwitchyardExceptionFilter({ logUnexpected: false }));
app.enableShutdownHooks(); // SIGTERM: app.close()
closeWithTheTest(app);
const [address] = (await app.listen()) as string[];
process.stdout.write(`ready ${address}\n`);
