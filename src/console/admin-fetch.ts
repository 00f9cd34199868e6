/**
 * GETs of admin listeners for the console. Their addresses come from registry entries, which anyone
 * who may register a provider can write, so a request goes only to the origin of an `http(s)://`
 * URL, follows no redirect, is bounded in time, and reads at most `maxBytes` of the answer.
 */

const MAX_BYTES = 4 * 1024 * 1024;

/** The origin of an admin URL (`http://127.0.0.1:9464`), or undefined for anything else. */
export function adminOrigin(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '') return undefined;
  return url.origin;
}

/** The body of `GET <origin><path>` as text; rejects with a short reason for any failure or non-200 answer. */
export async function adminGet(origin: string, path: string, timeoutMs: number, headers: Record<string, string> = {}): Promise<string> {
  let response: Response;
  try {
    response = await fetch(`${origin}${path}`, { redirect: 'manual', headers, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new Error(reason(error, timeoutMs), { cause: error });
  }
  const text = await readLimited(response);
  if (response.status !== 200) {
    const message = /"message":"([^"]{0,200})/.exec(text)?.[1];
    throw new Error(`${path}: HTTP ${response.status}${message === undefined ? '' : ` ${message}`}`);
  }
  return text;
}

async function readLimited(response: Response): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BYTES) {
      await reader.cancel();
      throw new Error(`answer larger than ${MAX_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function reason(error: unknown, timeoutMs: number): string {
  if ((error as Error).name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  return typeof cause?.message === 'string' ? cause.message : String((error as Error).message ?? error);
}
