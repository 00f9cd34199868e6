import type { MessageHandler } from '@nestjs/microservices';
import { isObservable } from 'rxjs';
import { isAsyncIterable } from '../core/async-iterable.js';
import { Code } from '../core/code.js';
import type { Invocation } from '../core/invocation.js';
import { RpcError } from '../core/rpc-error.js';
import { peekCurrentCall } from '../core/server-call.js';
import { returnsStream, type ServiceDefinition } from '../core/service.js';
import { SwitchyardContext } from './context.js';
import { toRpcError } from './errors.js';
import { lastValueOf, streamOfObservable } from './observable.js';

type Implementation = Record<string, (...args: unknown[]) => Promise<unknown>>;

/**
 * The implementation a Switchyard server is given for `definition`: each declared method calls its
 * Nest handler with the call's arguments as one array (the payload) and a `SwitchyardContext`, and
 * turns what Nest answers (a value, a promise, an Observable) into what Switchyard expects: a
 * value, or for a streaming method an `AsyncIterable`.
 */
export function implementationOf(definition: ServiceDefinition, handlers: ReadonlyMap<string, MessageHandler>): Implementation {
  const implementation: Implementation = Object.create(null) as Implementation;
  for (const [method, options] of definition.methods) {
    const handler = handlers.get(method);
    if (handler === undefined) throw new RpcError(Code.INVALID_ARGUMENT, `no Nest handler serves ${definition.id} ${method}`);
    const answer = returnsStream(options) ? streamAnswer : unaryAnswer;
    implementation[method] = (...args: unknown[]) => {
      // The server makes the call current while this runs synchronously: read it before any await.
      const call = peekCurrentCall();
      if (call === undefined) return Promise.reject(new RpcError(Code.INTERNAL, `${definition.id} ${method} was called outside a Switchyard call`));
      return run(handler, args, call).then((result) => answer(result, call), (error: unknown) => Promise.reject(toRpcError(error)));
    };
  }
  return implementation;
}

/** Runs the handler; Nest's handlers return a promise, and one that throws at once still rejects. */
async function run(handler: MessageHandler, args: unknown[], call: Invocation): Promise<unknown> {
  return handler(args, new SwitchyardContext([call]));
}

function unaryAnswer(result: unknown, call: Invocation): unknown {
  return isObservable(result) ? lastValueOf(result, call.signal) : result;
}

function streamAnswer(result: unknown, call: Invocation): unknown {
  if (isObservable(result)) return streamOfObservable(result, call.signal);
  if (isAsyncIterable(result)) return result;
  throw new RpcError(Code.INTERNAL, `the Nest handler of streaming method ${call.service.id} ${call.method} returned neither an Observable nor an AsyncIterable`);
}
