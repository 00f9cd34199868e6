/*
 * A strict reader of the Prometheus text exposition format 0.0.4, written from the format's
 * description (https://prometheus.io/docs/instrumenting/exposition_formats/) for the metrics
 * tests: it throws on anything the format does not allow, rather than guessing. (The npm parser
 * tried first, parse-prometheus-text-format, drops the labels, _sum and _count of labelled
 * histograms.)
 */

export interface Sample {
  /** The sample's own name: `x_bucket`, `x_sum`, `x_count` for a histogram `x`. */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: string;
  samples: Sample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\[\\"n])*)"(,|$)/;
const COMMENT = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** Every family of `text`, by name. */
export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  if (text === '') return families;
  if (!text.endsWith('\n')) throw new Error('the text does not end with a line feed');
  let current: Family | undefined;
  for (const line of text.slice(0, -1).split('\n')) {
    const comment = COMMENT.exec(line);
    if (comment !== null) {
      const [, kind, name, rest] = comment as unknown as [string, string, string, string];
      if (current?.name !== name) {
        if (families.has(name)) throw new Error(`metric ${name} appears twice`);
        families.set(name, (current = { name, help: '', type: 'untyped', samples: [] }));
      }
      if (kind === 'HELP') current.help = unescape(rest, false);
      else if (TYPES.has(rest) && current.samples.length === 0) current.type = rest;
      else throw new Error(`bad TYPE line: ${line}`);
      continue;
    }
    const sample = SAMPLE.exec(line);
    if (sample === null || current === undefined) throw new Error(`not a sample of a declared metric: ${JSON.stringify(line)}`);
    const [, name, labelText, valueText] = sample as unknown as [string, string, string | undefined, string];
    const allowed = current.type === 'histogram' ? [`${current.name}_bucket`, `${current.name}_sum`, `${current.name}_count`] : [current.name];
    if (!allowed.includes(name)) throw new Error(`sample ${name} does not belong to ${current.type} ${current.name}`);
    current.samples.push({ name, labels: parseLabels(labelText ?? ''), value: parseValue(valueText) });
  }
  return families;
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest !== '') {
    const label = LABEL.exec(rest);
    if (label === null) throw new Error(`bad labels: ${text}`);
    const [whole, name, value] = label as unknown as [string, string, string];
    if (name in labels) throw new Error(`label ${name} given twice: ${text}`);
    labels[name] = unescape(value, true);
    rest = rest.slice(whole.length);
  }
  return labels;
}

function unescape(text: string, quoted: boolean): string {
  return text.replace(/\\(.)/g, (_, c: string) => {
    if (c === 'n') return '\n';
    if (c === '\\' || (quoted && c === '"')) return c;
    throw new Error(`bad escape \\${c} in ${text}`);
  });
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const value = Number(text);
  if (text.trim() === '' || Number.isNaN(value)) throw new Error(`bad value ${text}`);
  return value;
}

/** The samples of `family` whose labels include `labels`. */
export function samplesWith(family: Family | undefined, labels: Record<string, string>): Sample[] {
  if (family === undefined) return [];
  return family.samples.filter((sample) => Object.entries(labels).every(([name, value]) => sample.labels[name] === value));
}

/** The value of the one sample named `name` with `labels` among them, or undefined. */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  const family = families.get(name) ?? families.get(base);
  const found = samplesWith(family, labels).filter((sample) => sample.name === name);
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}
