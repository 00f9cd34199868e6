// The provider side: a Nest controller whose handlers serve the Switchyard methods.
import { Controller, Module } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { interval, map, take, type Observable } from 'rxjs';
import { Code, RpcError } from '../../src/index.js';
import { SwitchyardContext, SwitchyardMethod } from '../../src/nestjs/index.js';
import { CalculatorService, type Calculator } from './contract.js';

@Controller()
export class CalculatorController {
  // The payload is the call's arguments, as one array.
  @SwitchyardMethod(CalculatorService, 'add')
  add([a, b]: Parameters<Calculator['add']>): number {
    return a + b;
  }

  // Thrown errors reach the caller as RpcErrors (with SwitchyardExceptionFilter registered).
  @SwitchyardMethod(CalculatorService, 'divide')
  divide(@Payload() [a, b]: Parameters<Calculator['divide']>, @Ctx() context: SwitchyardContext): number {
    if (b === 0) throw new RpcError(Code.INVALID_ARGUMENT, `cannot divide by zero (asked by ${String(context.getMetadata().get('caller'))})`);
    return a / b;
  }

  // An Observable from a `stream: 'server'` method becomes the stream.
  @SwitchyardMethod(CalculatorService, 'countdown')
  countdown([from]: Parameters<Calculator['countdown']>): Observable<number> {
    return interval(100).pipe(take(from), map((index) => from - index));
  }
}

@Module({ controllers: [CalculatorController] })
export class CalculatorModule {}
