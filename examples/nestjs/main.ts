// Two Nest applications in one process, talking over Switchyard: a microservice that serves
// demo.NestCalculator from a controller (SwitchyardTransport), and an application whose provider
// calls it through an injected proxy (SwitchyardModule). They find each other through an embedded
// registry in a temporary folder. Runs, prints, closes both and exits:
//
//   npx tsx --tsconfig examples/nestjs/tsconfig.json examples/nestjs/main.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { SwitchyardExceptionFilter, SwitchyardTransport } from '../../src/nestjs/index.js';
import { CalculatorModule } from './calculator.controller.js';
import { CalculatorService } from './contract.js';
import { ReportService, reportModule } from './report.service.js';

const dir = await mkdtemp(join(tmpdir(), 'switchyard-nest-example-'));
const registry = `embedded://${dir}`;

const microservice = await NestFactory.createMicroservice<MicroserviceOptions>(CalculatorModule, {
  strategy: new SwitchyardTransport({ listen: ['tcp://127.0.0.1:0'], registry, services: [CalculatorService] }),
  logger: ['error', 'warn'],
});
microservice.useGlobalFilters(new SwitchyardExceptionFilter());
const addresses = (await microservice.listen()) as string[];
console.log(`microservice serves ${CalculatorService.id} on ${addresses.join(', ')}`);

const app = await NestFactory.createApplicationContext(reportModule(registry), { logger: ['error', 'warn'] });
for (const line of await app.get(ReportService).report()) console.log(line);

// The consumer first (its client closes on shutdown), then the provider (it drains, then leaves the registry).
await app.close();
await microservice.close();
await rm(dir, { recursive: true, force: true });
console.log('both applications closed');
