/** A Markdown table of rows (numbers right-aligned), for figures a test prints and docs quote. */
export function markdownTable(head: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | null | undefined>>): string {
  const cells = rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? '-' : String(cell))));
  const widths = head.map((title, i) => Math.max(title.length, ...cells.map((row) => row[i]?.length ?? 0)));
  const numeric = head.map((_, i) => rows.every((row) => typeof row[i] !== 'string' || /^[-\d.,% ]+$/.test(String(row[i]))) && i > 0);
  const line = (row: readonly string[]) => `| ${row.map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((width, i) => (numeric[i] ? `${'-'.repeat(width + 1)}:` : `:${'-'.repeat(width + 1)}`)).join('|')}|`;
  return [line([...head]), rule, ...cells.map(line)].join('\n');
}
