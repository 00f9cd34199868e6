// switchyard health <url>: the standard health check (grpc.health.v1.Health/Check) of a server.
import { createClient } from '../../client.js';
import { Code } from '../../core/code.js';
import { RpcError } from '../../core/rpc-error.js';
import { HealthService } from '../../transport/grpc/health.js';
import { Exit, UsageError, millisOption, parseCommand, println, reportFailure, stderrLogger, toJson, type Command } from '../switchyard-command.js';
import { parseTarget } from '../switchyard-target.js';

const help = `Usage: switchyard health <url> [options]

Asks a server grpc.health.v1.Health/Check and prints its answer: SERVING, NOT_SERVING, ...
Exits 0 only when SERVING, 1 otherwise, 3 when the server cannot be reached.

Options:
  --service <name>  the health of one service (default: the whole server)
  --timeout <ms>    deadline of the check (default 5000)
  --token <token>   sent as authorization: Bearer <token>
  --json            { "status": "SERVING" } or { "error": {...} }
  -h, --help        this text
`;

export const health: Command = {
  name: 'health',
  synopsis: '<url>',
  summary: 'SERVING or not (grpc.health.v1.Health/Check)',
  help,
  async run(argv) {
    const { values, positionals } = parseCommand(argv, {
      service: { type: 'string' },
      timeout: { type: 'string' },
      token: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    }, 1);
    const url = positionals[0]!;
    if (parseTarget(url).kind !== 'url') throw new UsageError(`health needs a server address (tcp://, http://, grpc://…), not ${JSON.stringify(url)}`);
    const timeoutMs = millisOption(values.timeout, 5000);
    const json = values.json === true;
    const client = createClient({ url, credentials: values.token, logger: stderrLogger, waitForProvidersMs: timeoutMs });
    try {
      const answer = await client.invoke(HealthService, 'check', [{ service: values.service ?? '' }], { timeoutMs });
      const status = (answer as { status?: unknown } | null)?.status;
      if (typeof status !== 'string') throw new RpcError(Code.INTERNAL, 'the health check answered no status');
      println(json ? toJson({ status }) : status);
      return status === 'SERVING' ? Exit.OK : Exit.FAILED;
    } catch (error) {
      return reportFailure(error, 'health check', json);
    } finally {
      await client.close({ timeoutMs: 1000 });
    }
  },
};
