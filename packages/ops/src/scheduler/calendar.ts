import { Cron } from 'croner';

/**
 * When a job's ticks fall, from croner: the scheduler fires and previews with this one
 * calendar, and never lets croner start timers of its own (time comes from the injected
 * clock, so tests move it instead of waiting).
 *
 * Semantics (croner's, close to Vixie cron):
 * - five fields, minute resolution (a tick's key is its minute); names, ranges, steps,
 *   nicknames (`@daily`) and the `L`, `W` and `#` day modifiers;
 * - when both day-of-month and day-of-week are restricted, either one matching is enough
 *   (classic cron's OR);
 * - DST: a *fixed-time* job (single minute and single hour, e.g. `30 2 * * *`) whose wall
 *   time is skipped by a spring-forward runs at the first wall time after the gap; when a
 *   fall-back repeats its wall time it runs once, at the first occurrence. An *interval*
 *   job (`*`, steps, lists or ranges in minute or hour, e.g. `0 * * * *`) skips the wall
 *   times in a gap and runs at both occurrences of a repeated one (every real hour).
 */
export interface JobCalendar {
  /** The first tick strictly after `after`, or null when the expression never fires again. */
  nextAfter(after: Date): Date | null;
  /** The last tick at or before `at`, or null when there is none. */
  latestAtOrBefore(at: Date): Date | null;
}

export function jobCalendar(expression: string, timeZone: string): JobCalendar {
  const cron = parse(expression, timeZone);
  return {
    nextAfter: (after) => cron.nextRun(after),
    // croner's previousRuns excludes the reference instant itself.
    latestAtOrBefore: (at) => cron.previousRuns(1, new Date(at.getTime() + 1))[0] ?? null,
  };
}

/** The first tick strictly after `after` of `expression` in `timeZone`, or null. */
export function nextFireTime(expression: string, timeZone: string, after: Date): Date | null {
  return jobCalendar(expression, timeZone).nextAfter(after);
}

/** Why the scheduler cannot run `expression`, or null when it can. */
export function cronProblem(expression: string): string | null {
  const fields = expression.trim().split(/\s+/).length;
  if (!expression.trim().startsWith('@') && fields !== 5) {
    return `five fields are required (minute hour day-of-month month day-of-week), not ${fields}${fields === 6 ? ': ticks are per minute, a seconds field is not supported' : ''}`;
  }
  try {
    parse(expression, 'UTC');
    return null;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return message.replace(/^CronPattern: /, '');
  }
}

/** True when `timeZone` is a zone this runtime's Intl knows (IANA names, `UTC`). croner does not check. */
export function isValidTimeZone(timeZone: string): boolean {
  if (timeZone.trim() === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

function parse(expression: string, timeZone: string): Cron {
  // No callback: croner only computes dates and schedules nothing.
  return new Cron(expression, { timezone: timeZone, mode: '5-part' });
}
