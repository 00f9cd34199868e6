import type { LoggerService } from '@nestjs/common';
import type { Logger } from '../core/logger.js';

/**
 * Switchyard's logger interface over a Nest logger, so that what a server or client reports goes
 * where the application's other logs go, under the levels the application chose.
 */
export function nestLogger(nest: LoggerService): Logger {
  const line = (obj: object, msg: string | undefined) => {
    const fields = describe(obj);
    return msg === undefined ? fields : fields === '{}' ? msg : `${msg} ${fields}`;
  };
  return {
    debug: (obj, msg) => nest.debug?.(line(obj, msg)),
    info: (obj, msg) => nest.log(line(obj, msg)),
    warn: (obj, msg) => nest.warn(line(obj, msg)),
    error: (obj, msg) => nest.error(line(obj, msg)),
  };
}

function describe(obj: object): string {
  try {
    return JSON.stringify(obj, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value)) ?? '{}';
  } catch {
    return '{…}'; // a cycle or a throwing getter: the message alone says what happened
  }
}
