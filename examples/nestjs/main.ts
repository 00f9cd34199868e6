// Two Nest applications in one process, talking over Switchyard: a microservice that serves
// demo.NestCalculator from a controller (SwitchyardTransport), and an HTTP application whose
// controller calls it through an injected proxy (SwitchyardModule). They find each other through an
// embedded registry in a temporary folder. Sends the HTTP application a few requests, prints the
// answers, closes both and exits:
//
//   npx tsx --tsconfig examples/nestjs/tsconfig.json examples/nestjs/main.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { SwitchyardExceptionFilter, SwitchyardTransport } from '../../src/nestjs/index.js';
import { httpModule } from './calculator-http.controller.js';
import { CalculatorModule } from './calculator.controller.js';
import { CalculatorService } from './contract.js';

const dir = await mkdtemp(join(tmpdir(), 'switchyard-nest-example-'));
const registry = `embedded://${dir}`;

const microservice = await NestFactory.createMicroservice<MicroserviceOptions>(CalculatorModule, {
  strategy: new SwitchyardTransport({ listen: ['tcp://127.0.0.1:0'], registry, services: [CalculatorService] }),
  logger: ['error', 'warn'],
});
microservice.useGlobalFilters(new SwitchyardExceptionFilter());
const addresses = (await microservice.listen()) as string[];
console.log(`microservice serves ${CalculatorService.id} on ${addresses.join(', ')}`);

const app = await NestFactory.create(httpModule(registry), { logger: ['error', 'warn'] });
await app.listen(0, '127.0.0.1');
const url = await app.getUrl();
console.log(`HTTP application listens on ${url}`);

for (const path of ['/calc/add?a=2&b=3', '/calc/divide?a=1&b=0', '/calc/countdown?from=3']) {
  const response = await fetch(`${url}${path}`, { headers: { 'x-caller': 'main.ts' } });
  console.log(`GET ${path} -> ${response.status} ${await response.text()}`);
}

// The caller first (its HTTP server stops, then its client closes), then the provider (it leaves
// the registry and drains its calls).
await app.close();
await microservice.close();
await rm(dir, { recursive: true, force: true });
console.log('both applications closed');
