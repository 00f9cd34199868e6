import { Catch, HttpException, Logger, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';
import { RpcError } from '../core/rpc-error.js';
import { toRpcError } from './errors.js';

export interface SwitchyardExceptionFilterOptions {
  /**
   * Log errors that are neither an `RpcError`, an `RpcException` nor an `HttpException` (bugs,
   * most likely) through Nest's logger, as Nest's own filter does. Default true.
   */
  logUnexpected?: boolean;
}

/**
 * Hands what a handler threw to `SwitchyardTransport` as the `RpcError` its caller gets (see
 * `toRpcError` for the codes). Without it, Nest's default filter turns every exception but an
 * `RpcException` into "Internal server error" before the transport sees it. Register it on the
 * microservice, where only RPC handlers run:
 *
 * ```ts
 * const app = await NestFactory.createMicroservice(AppModule, { strategy: new SwitchyardTransport({ ... }) });
 * app.useGlobalFilters(new SwitchyardExceptionFilter());
 * ```
 *
 * In a hybrid application (`connectMicroservice`), put it on the controllers that serve Switchyard
 * methods, `@UseFilters(new SwitchyardExceptionFilter())`: Nest registers a connected microservice's
 * handlers in `connectMicroservice()`, before its `useGlobalFilters()` could apply.
 *
 * Filters of a controller or method come before a global one, so they still decide their errors.
 */
export class SwitchyardExceptionFilter implements RpcExceptionFilter<unknown, never> {
  private static readonly logger = new Logger('SwitchyardExceptionFilter');
  private readonly logUnexpected: boolean;

  constructor(options: SwitchyardExceptionFilterOptions = {}) {
    this.logUnexpected = options.logUnexpected ?? true;
  }

  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    if (this.logUnexpected && !(exception instanceof RpcError || exception instanceof RpcException || exception instanceof HttpException)) {
      SwitchyardExceptionFilter.logger.error(exception);
    }
    const error = toRpcError(exception);
    return throwError(() => error);
  }
}

// `@Catch()` without decorator syntax: this file is compiled without experimentalDecorators.
Catch()(SwitchyardExceptionFilter);
