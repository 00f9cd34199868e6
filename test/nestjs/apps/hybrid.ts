// One Nest application that serves HTTP routes and, through a SwitchyardTransport it connects as a
// microservice, nest.Inventory, both from the same stock: `hybrid.ts <registry dir>`. Prints
// `ready <http url>`. On SIGTERM Nest shuts it down (`enableShutdownHooks`); it prints where the
// transport and the HTTP server are as each shutdown hook runs, then `exit: nothing left open`.
import {
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  NotFoundException,
  Param,
  ParseIntPipe,
  Put,
  Query,
  UseFilters,
  type BeforeApplicationShutdown,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { setTimeout as sleep } from 'node:timers/promises';
import { Code, RpcError } from '../../../src/index.js';
import { SwitchyardExceptionFilter, SwitchyardMethod, SwitchyardTransport, type SwitchyardStatus } from '../../../src/nestjs/index.js';
import { InventoryService, type Inventory } from '../inventory.js';
import { closeWithTheTest } from '../support/app-exit.js';

const [dir] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: hybrid.ts <registry dir>\n');
  process.exit(2);
}

/** The state both sides share. */
@Injectable()
class Stock {
  private readonly items = new Map<string, number>();
  openHolds = 0;

  set(item: string, count: number): void {
    this.items.set(item, count);
  }

  /** Throws Nest's NotFoundException: an HTTP 404 to an HTTP caller, NOT_FOUND to a Switchyard one. */
  count(item: string): number {
    const count = this.items.get(item);
    if (count === undefined) throw new NotFoundException(`no item ${item}`);
    return count;
  }

  reserve(item: string, wanted: number): number {
    const count = this.count(item);
    if (count < wanted) throw new RpcError(Code.FAILED_PRECONDITION, `only ${count} ${item} left`, { details: { item, count } });
    this.items.set(item, count - wanted);
    return count - wanted;
  }
}

@Controller('stock')
class StockHttpController {
  constructor(@Inject(Stock) private readonly stock: Stock) {}

  @Put(':item')
  set(@Param('item') item: string, @Query('count', ParseIntPipe) count: number): { item: string; count: number } {
    this.stock.set(item, count);
    return { item, count };
  }

  @Get(':item')
  get(@Param('item') item: string): { item: string; count: number } {
    return { item, count: this.stock.count(item) };
  }
}

// On the controller: a connected microservice's listeners are registered by connectMicroservice(),
// before a filter could be added with its useGlobalFilters(). HTTP routes keep Nest's own handling.
@Controller()
@UseFilters(new SwitchyardExceptionFilter({ logUnexpected: false }))
class InventoryRpcController {
  constructor(@Inject(Stock) private readonly stock: Stock) {}

  @SwitchyardMethod(InventoryService, 'count')
  count([item]: Parameters<Inventory['count']>): number {
    return this.stock.count(item);
  }

  @SwitchyardMethod(InventoryService, 'reserve')
  reserve([item, count]: Parameters<Inventory['reserve']>): number {
    return this.stock.reserve(item, count);
  }

  @SwitchyardMethod(InventoryService, 'hold')
  async hold([ms]: Parameters<Inventory['hold']>): Promise<string> {
    this.stock.openHolds++;
    try {
      await sleep(ms);
      return `held ${ms}`;
    } finally {
      this.stock.openHolds--;
    }
  }

  @SwitchyardMethod(InventoryService, 'openHolds')
  openHolds(): number {
    return this.stock.openHolds;
  }
}

const transport = new SwitchyardTransport({ listen: ['tcp://127.0.0.1:0'], registry: `embedded://${dir}`, warmupMs: 0, services: [InventoryService] });
let transportStatus: SwitchyardStatus | 'not started' = 'not started';
transport.status.subscribe((status) => (transportStatus = status));

/** Where the transport and the HTTP server are as Nest's shutdown hooks run. */
@Injectable()
class ShutdownProbe implements BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(@Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost) {}

  beforeApplicationShutdown(): void {
    process.stdout.write(`before shutdown: ${this.state()}\n`);
  }

  onApplicationShutdown(): void {
    process.stdout.write(`on shutdown: ${this.state()}\n`);
  }

  private state(): string {
    return `transport ${transportStatus}, http ${this.adapterHost.httpAdapter.getHttpServer().listening ? 'open' : 'closed'}`;
  }
}

@Module({ controllers: [StockHttpController, InventoryRpcController], providers: [Stock, ShutdownProbe] })
class HybridModule {}

const app = await NestFactory.create(HybridModule, { logger: ['error', 'warn'] });
app.connectMicroservice<MicroserviceOptions>({ strategy: transport });
app.enableShutdownHooks(); // SIGTERM: app.close(), which closes the HTTP server, then the transport
closeWithTheTest(app);
await app.startAllMicroservices();
await app.listen(0, '127.0.0.1');
process.stdout.write(`ready ${await app.getUrl()}\n`);
