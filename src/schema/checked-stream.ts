import { collectIssues, type IssueList } from './issues.js';
import { isThenable, refused, type Outcome, type Validator } from './standard.js';

/**
 * A stream whose every item is checked against a schema as it is read, and replaced by the
 * schema's output: the request stream an implementation reads, or the result stream the dispatcher
 * pulls. The first item refused ends the stream with the error `refuse` makes, after closing the
 * source (a reader's loop that throws does not close it): the caller's request stream stops, or the
 * implementation's generator runs its `finally`. Leaving the loop early (`break`) closes the source.
 */
export class CheckedStream implements AsyncIterableIterator<unknown> {
  private iterator: AsyncIterator<unknown> | undefined;
  private position = 0;

  constructor(
    private readonly source: AsyncIterable<unknown>,
    private readonly validate: Validator,
    private readonly refuse: (issues: IssueList, item: number) => Error,
  ) {}

  [Symbol.asyncIterator](): AsyncIterableIterator<unknown> {
    return this;
  }

  next(): Promise<IteratorResult<unknown>> {
    try {
      return (this.iterator ??= this.source[Symbol.asyncIterator]()).next().then(this.check);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  return(value?: unknown): Promise<IteratorResult<unknown>> {
    const iterator = this.iterator;
    return iterator?.return !== undefined ? iterator.return(value) : Promise.resolve({ value, done: true });
  }

  /** One step of the source: passed on when it is the end (or malformed, for the reader to refuse), else checked. */
  private readonly check = (step: IteratorResult<unknown>): IteratorResult<unknown> | Promise<IteratorResult<unknown>> => {
    if (typeof step !== 'object' || step === null || step.done === true) return step;
    const item = this.position++;
    let outcome: Outcome | Promise<Outcome>;
    try {
      outcome = this.validate(step.value);
    } catch (error) {
      this.closeSource();
      throw error;
    }
    if (isThenable(outcome)) {
      return outcome.then((settled) => this.settle(settled, item), (error: unknown) => {
        this.closeSource();
        throw error;
      });
    }
    return this.settle(outcome, item);
  };

  private settle(outcome: Outcome, item: number): IteratorResult<unknown> {
    if (!refused(outcome)) return { value: outcome.value, done: false };
    this.closeSource();
    throw this.refuse(collectIssues(outcome.issues, undefined), item);
  }

  /** Lets the source clean up; whatever its `return` does is ignored, since the stream's outcome is decided. */
  private closeSource(): void {
    try {
      const done: unknown = this.iterator?.return?.();
      if (isThenable(done)) Promise.resolve(done).catch(() => undefined);
    } catch {
      // the stream fails with the refusal either way
    }
  }
}
