/**
 * Reads the samples of a Prometheus text exposition (format 0.0.4), as an admin listener's
 * `/metrics` answers it: `name{label="value",…} 12 [timestamp]`. Comments, blank lines and lines
 * that do not parse are skipped: the text comes from another process and may be anything.
 */

/** One sample line. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of `text` whose metric name starts with `prefix` (all of them for ''). */
export function parseSamples(text: string, prefix = ''): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || !line.startsWith(prefix)) continue;
    const sample = parseLine(line);
    if (sample !== undefined) samples.push(sample);
  }
  return samples;
}

function parseLine(line: string): Sample | undefined {
  const nameEnd = line.search(/[{ ]/);
  if (nameEnd <= 0) return undefined;
  const name = line.slice(0, nameEnd);
  const labels: Record<string, string> = {};
  let at = nameEnd;
  if (line[at] === '{') {
    const end = readLabels(line, at + 1, labels);
    if (end < 0) return undefined;
    at = end;
  }
  const [valueText] = line.slice(at).trim().split(/\s+/);
  const value = parseValue(valueText ?? '');
  return value === undefined ? undefined : { name, labels, value };
}

/** Reads `a="x",b="y"}` from `start` into `labels`; the index after `}`, or -1 when malformed. */
function readLabels(line: string, start: number, labels: Record<string, string>): number {
  let at = start;
  while (at < line.length) {
    if (line[at] === '}') return at + 1;
    const eq = line.indexOf('=', at);
    if (eq < 0 || line[eq + 1] !== '"') return -1;
    const key = line.slice(at, eq).trim();
    let value = '';
    let i = eq + 2;
    for (; i < line.length && line[i] !== '"'; i++) {
      if (line[i] === '\\' && i + 1 < line.length) {
        i++;
        value += line[i] === 'n' ? '\n' : line[i];
      } else {
        value += line[i];
      }
    }
    if (i >= line.length) return -1;
    // An own property, never the prototype's: a label may be called `__proto__`.
    Object.defineProperty(labels, key, { value, enumerable: true });
    at = i + 1;
    if (line[at] === ',') at++;
  }
  return -1;
}

function parseValue(text: string): number | undefined {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}
