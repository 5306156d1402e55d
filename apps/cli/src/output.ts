import type { JsonChange } from '@opsloop/core';

/** Where a command writes; tests pass buffers. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
}

/** A plain-text table sized to its content; long cells are cut with an ellipsis. */
export function table<T>(rows: readonly T[], columns: Column<T>[], empty = '(none)'): string {
  if (rows.length === 0) return `${empty}\n`;
  const cells = rows.map((r) => columns.map((c) => cell(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join('\n') + '\n';
}

const MAX_CELL = 60;

function cell(v: unknown): string {
  let s: string;
  if (v === null || v === undefined) s = '-';
  else if (v instanceof Date) s = v.toISOString();
  else if (typeof v === 'object') s = JSON.stringify(v);
  else s = String(v);
  s = s.replace(/\s+/g, ' ');
  return s.length > MAX_CELL ? `${s.slice(0, MAX_CELL - 1)}…` : s;
}

/** "2026-11-23 20:41:07Z (3m ago)": absolute for records, relative for reading. */
export function when(iso: unknown, now = Date.now()): string {
  if (typeof iso !== 'string' || !iso) return '-';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const abs = new Date(t).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
  return `${abs} (${relative(t - now)})`;
}

export function relative(deltaMs: number): string {
  const s = Math.round(Math.abs(deltaMs) / 1000);
  const text = s < 60 ? `${s}s` : s < 3600 ? `${Math.round(s / 60)}m` : s < 86_400 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86_400)}d`;
  return deltaMs <= 0 ? `${text} ago` : `in ${text}`;
}

/** Key/value lines for one record. */
export function fields(pairs: [string, unknown][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${cell(v)}`).join('\n') + '\n';
}

export function diffLines(changes: JsonChange[]): string {
  if (changes.length === 0) return 'no change\n';
  return (
    changes
      .map((c) => {
        const path = c.path || '(value)';
        if (c.kind === 'added') return `+ ${path}: ${JSON.stringify(c.after)}`;
        if (c.kind === 'removed') return `- ${path}: ${JSON.stringify(c.before)}`;
        return `~ ${path}: ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`;
      })
      .join('\n') + '\n'
  );
}

export function printJson(io: Io, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}
