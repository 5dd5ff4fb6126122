/**
 * Plain-text tables for people. A dozen lines instead of a table library: the CLI prints small
 * tables of short cells, and no colour or border codes that would get in the way of `grep`.
 */

/** Columns padded to their widest cell, two spaces apart; a header line and a rule. */
export function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const text = rows.map((row) => headers.map((_, i) => cell(row[i])));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((row) => (row[i] as string).length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n');
}

/** `key  value` lines, keys aligned. */
export function fields(entries: readonly (readonly [string, unknown])[]): string {
  const width = Math.max(0, ...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${k.padEnd(width)}  ${cell(v)}`).join('\n');
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '-';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replace(/\s+/g, ' ');
}

/** `in 4.2 s` / `2.0 s ago` from a date and the current time. */
export function relative(date: Date | undefined, now = Date.now()): string | undefined {
  if (!date) return undefined;
  const s = (date.getTime() - now) / 1000;
  return s >= 0 ? `in ${s.toFixed(1)} s` : `${(-s).toFixed(1)} s ago`;
}
