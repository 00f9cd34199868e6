// The consumer side: a Nest provider that calls the service through the proxy SwitchyardModule injects.
import { Inject, Injectable, Module } from '@nestjs/common';
import { RpcError, codeName, type ServiceProxy } from '../../src/index.js';
import { SwitchyardModule, switchyardToken } from '../../src/nestjs/index.js';
import { CalculatorService, type Calculator } from './contract.js';

@Injectable()
export class ReportService {
  constructor(@Inject(switchyardToken(CalculatorService)) private readonly calculator: ServiceProxy<Calculator>) {}

  async report(): Promise<string[]> {
    const lines = [`2 + 3 = ${await this.calculator.add(2, 3)}`];
    try {
      await this.calculator.divide.with({ metadata: { caller: 'report' } })(1, 0);
    } catch (error) {
      const failure = RpcError.from(error);
      lines.push(`1 / 0 failed: [${codeName(failure.code)}] ${failure.message}`);
    }
    const counted: number[] = [];
    for await (const value of this.calculator.countdown(3)) counted.push(value);
    lines.push(`countdown: ${counted.join(', ')}`);
    return lines;
  }
}

/** `registry` says where to find the providers: the embedded registry's folder here, ZooKeeper in production. */
export function reportModule(registry: string) {
  @Module({
    imports: [SwitchyardModule.forRoot({ registry, services: [CalculatorService], timeoutMs: 5000 })],
    providers: [ReportService],
  })
  class ReportModule {}
  return ReportModule;
}
