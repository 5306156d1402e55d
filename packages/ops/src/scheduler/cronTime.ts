import cron from 'node-cron';

/**
 * Cron fields as minutes-resolution sets, and the next fire time of an expression in an
 * IANA time zone. node-cron parses and validates the expression (names, ranges, steps,
 * nicknames); this module only walks the calendar, because node-cron's own next-run
 * helpers (`task.getNextRun()`) read the system time and cannot take an injected clock.
 *
 * Semantics follow node-cron, which is what actually fires the ticks:
 * - day-of-month and day-of-week are combined with AND (classic cron uses OR when both
 *   are restricted);
 * - a wall time skipped by a DST spring-forward does not fire that day;
 * - a wall time repeated by a DST fall-back fires once, at its first occurrence.
 */

export interface CronFields {
  minutes: readonly number[];
  hours: readonly number[];
  daysOfMonth: ReadonlySet<number>;
  months: ReadonlySet<number>;
  /** 0 = Sunday … 6 = Saturday (node-cron maps 7 to 0). */
  daysOfWeek: ReadonlySet<number>;
}

/**
 * Why the scheduler cannot run `expression`, or null when it can. Beyond node-cron's
 * own validation: ticks are per minute (the tick key is the minute), so a seconds field
 * other than `0` is refused, and so are the `L`, `W` and `#` day modifiers, which the
 * next-run walk does not implement.
 */
export function cronProblem(expression: string): string | null {
  if (!cron.validate(expression)) return 'not a valid cron expression';
  const parsed = cron.parse(expression);
  if (parsed.second.length !== 1 || parsed.second[0] !== 0) return 'a seconds field is not supported (ticks are per minute)';
  const modifiers = [...parsed.dayOfMonth, ...parsed.dayOfWeek].some((v) => typeof v !== 'number');
  if (modifiers) return 'the L, W and # day modifiers are not supported';
  return null;
}

export function parseCronFields(expression: string): CronFields {
  const problem = cronProblem(expression);
  if (problem) throw new Error(`cron "${expression}": ${problem}`);
  const p = cron.parse(expression);
  const numbers = (values: (number | string)[]) => values.filter((v): v is number => typeof v === 'number');
  return {
    minutes: [...p.minute].sort((a, b) => a - b),
    hours: [...p.hour].sort((a, b) => a - b),
    daysOfMonth: new Set(numbers(p.dayOfMonth)),
    months: new Set(p.month),
    daysOfWeek: new Set(numbers(p.dayOfWeek).map((d) => d % 7)),
  };
}

/** True when `timeZone` is a zone this runtime's Intl knows (IANA names, `UTC`). */
export function isValidTimeZone(timeZone: string): boolean {
  if (timeZone.trim() === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

const MINUTE = 60_000;
const DAY = 86_400_000;
/** How far ahead to look before giving up (a Feb 29 that is also a Monday recurs within 28 years). */
const MAX_DAYS = 366 * 30;

/**
 * The first fire time strictly after `after`, at minute resolution, or null when the
 * expression never fires (e.g. `0 0 31 2 *`).
 */
export function nextFireTime(expression: string | CronFields, timeZone: string, after: Date): Date | null {
  const f = typeof expression === 'string' ? parseCronFields(expression) : expression;
  const start = Math.floor(after.getTime() / MINUTE) * MINUTE + MINUTE;
  const local = localParts(start, timeZone);
  // Wall times well before the start cannot be at or after it, whatever the DST offset.
  const startWallMinute = local.hour * 60 + local.minute - 180;
  let { year, month, day } = local;
  for (let i = 0; i < MAX_DAYS; i++) {
    const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
    if (f.months.has(month) && f.daysOfMonth.has(day) && f.daysOfWeek.has(weekday)) {
      for (const hour of f.hours) {
        for (const minute of f.minutes) {
          if (i === 0 && hour * 60 + minute < startWallMinute) continue;
          const t = wallTimeToInstant({ year, month, day, hour, minute }, timeZone);
          if (t !== null && t >= start) return new Date(t);
        }
      }
    }
    ({ year, month, day } = nextDay(year, month, day));
  }
  return null;
}

interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock time of instant `ms` in `timeZone`. */
export function localParts(ms: number, timeZone: string): WallTime {
  const out: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(ms))) {
    if (part.type !== 'literal') out[part.type] = Number(part.value);
  }
  return { year: out.year!, month: out.month!, day: out.day!, hour: out.hour! % 24, minute: out.minute! };
}

/** Offset of `timeZone` from UTC at instant `ms`, in ms (minute precision). */
function offsetAt(ms: number, timeZone: string): number {
  const p = localParts(ms, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - Math.floor(ms / MINUTE) * MINUTE;
}

/**
 * The earliest instant whose wall time in `timeZone` is `w`, or null if DST skips it.
 * Tries the offsets in force a day either side, which covers any single transition.
 */
function wallTimeToInstant(w: WallTime, timeZone: string): number | null {
  const naive = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
  let best: number | null = null;
  for (const offset of new Set([offsetAt(naive - DAY, timeZone), offsetAt(naive, timeZone), offsetAt(naive + DAY, timeZone)])) {
    const t = naive - offset;
    const back = localParts(t, timeZone);
    const same = back.year === w.year && back.month === w.month && back.day === w.day && back.hour === w.hour && back.minute === w.minute;
    if (same && (best === null || t < best)) best = t;
  }
  return best;
}

function nextDay(year: number, month: number, day: number) {
  const d = new Date(Date.UTC(year, month - 1, day + 1));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}
