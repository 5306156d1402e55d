import cron from 'node-cron';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cronProblem, isValidTimeZone, nextFireTime } from '../src/scheduler/cronTime.ts';

const next = (expr: string, tz: string, after: string) => nextFireTime(expr, tz, new Date(after))?.toISOString();

function fires(expr: string, tz: string, after: string, count: number): string[] {
  const out: string[] = [];
  let from = new Date(after);
  for (let i = 0; i < count; i++) {
    from = nextFireTime(expr, tz, from)!;
    out.push(from.toISOString());
  }
  return out;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('nextFireTime', () => {
  it('*/5 * * * * (UTC): the next multiple of five minutes, strictly after', () => {
    expect(next('*/5 * * * *', 'UTC', '2026-01-01T00:00:00Z')).toBe('2026-01-01T00:05:00.000Z');
    expect(next('*/5 * * * *', 'UTC', '2026-01-01T00:03:59.999Z')).toBe('2026-01-01T00:05:00.000Z');
    expect(next('*/5 * * * *', 'UTC', '2026-12-31T23:57:00Z')).toBe('2027-01-01T00:00:00.000Z');
    expect(fires('*/5 * * * *', 'UTC', '2026-01-01T00:52:30Z', 3)).toEqual(['2026-01-01T00:55:00.000Z', '2026-01-01T01:00:00.000Z', '2026-01-01T01:05:00.000Z']);
  });

  it('0 6 * * * in Asia/Tokyo: 21:00 UTC the day before', () => {
    expect(next('0 6 * * *', 'Asia/Tokyo', '2026-01-01T00:00:00Z')).toBe('2026-01-01T21:00:00.000Z');
    expect(next('0 6 * * *', 'Asia/Tokyo', '2026-01-01T20:59:00Z')).toBe('2026-01-01T21:00:00.000Z');
    expect(next('0 6 * * *', 'Asia/Tokyo', '2026-01-01T21:00:00Z')).toBe('2026-01-02T21:00:00.000Z');
    expect(next('0 6 * * *', 'Asia/Tokyo', '2026-02-28T22:00:00Z')).toBe('2026-03-01T21:00:00.000Z');
  });

  it('15 */3 * * *: minute 15 of every third hour', () => {
    expect(fires('15 */3 * * *', 'UTC', '2026-01-01T00:15:00Z', 4)).toEqual([
      '2026-01-01T03:15:00.000Z',
      '2026-01-01T06:15:00.000Z',
      '2026-01-01T09:15:00.000Z',
      '2026-01-01T12:15:00.000Z',
    ]);
    expect(next('15 */3 * * *', 'UTC', '2026-01-01T21:16:00Z')).toBe('2026-01-02T00:15:00.000Z');
  });

  it('10 0 * * *: ten past midnight, across month and year ends', () => {
    expect(next('10 0 * * *', 'UTC', '2026-01-31T00:10:00Z')).toBe('2026-02-01T00:10:00.000Z');
    expect(next('10 0 * * *', 'UTC', '2026-12-31T12:00:00Z')).toBe('2027-01-01T00:10:00.000Z');
    expect(next('10 0 * * *', 'UTC', '2026-03-05T00:09:59Z')).toBe('2026-03-05T00:10:00.000Z');
  });

  it('day fields: weekdays, month days that some months lack, both day fields', () => {
    expect(next('0 9 * * mon-fri', 'UTC', '2026-01-02T10:00:00Z')).toBe('2026-01-05T09:00:00.000Z'); // Fri -> Mon
    expect(next('0 0 31 * *', 'UTC', '2026-04-01T00:00:00Z')).toBe('2026-05-31T00:00:00.000Z');
    expect(next('0 0 29 2 *', 'UTC', '2026-01-01T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
    // As node-cron does, day-of-month AND day-of-week (classic cron would OR them).
    expect(fires('0 0 13 * 5', 'UTC', '2026-01-01T00:00:00Z', 3)).toEqual(['2026-02-13T00:00:00.000Z', '2026-03-13T00:00:00.000Z', '2026-11-13T00:00:00.000Z']);
  });

  it('DST (America/New_York): a skipped wall time does not fire that day; a repeated one fires once', () => {
    // 2026-03-08 02:00 EST -> 03:00 EDT: 02:30 does not exist that day.
    expect(next('30 2 * * *', 'America/New_York', '2026-03-07T08:00:00Z')).toBe('2026-03-09T06:30:00.000Z');
    expect(next('0 12 * * *', 'America/New_York', '2026-03-08T00:00:00Z')).toBe('2026-03-08T16:00:00.000Z'); // EDT
    // 2026-11-01 02:00 EDT -> 01:00 EST: 01:30 happens twice; it fires at the first.
    expect(fires('30 1 * * *', 'America/New_York', '2026-11-01T00:00:00Z', 2)).toEqual(['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
    expect(fires('0 * * * *', 'America/New_York', '2026-11-01T04:30:00Z', 3)).toEqual([
      '2026-11-01T05:00:00.000Z', // 01:00 EDT
      '2026-11-01T07:00:00.000Z', // 02:00 EST (01:00 EST, the repeat, is not a new wall time)
      '2026-11-01T08:00:00.000Z',
    ]);
  });

  it.each([
    ['*/5 * * * *', 'UTC'],
    ['0 6 * * *', 'Asia/Tokyo'],
    ['*/10 * * * *', 'UTC'],
    ['*/30 * * * *', 'UTC'],
    ['15 */3 * * *', 'UTC'],
    ['10 0 * * *', 'UTC'],
    ['0 9 * * 1-5', 'Europe/London'],
    ['0 12 1 * *', 'America/New_York'],
    ['0 0 13 * 5', 'UTC'],
    ['30 1 * * *', 'Europe/London'],
  ])('agrees with node-cron\'s own next runs for %s in %s', (expr, tz) => {
    const from = '2026-03-27T22:58:30Z'; // spans Europe/London's spring-forward and a month end
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(from));
    const task = cron.createTask(expr, () => {}, { timezone: tz });
    try {
      const theirs = task.getNextRuns(8).map((d) => d.toISOString());
      expect(fires(expr, tz, from, 8)).toEqual(theirs);
    } finally {
      void task.destroy();
    }
  });
});

describe('cron and time zone checks', () => {
  it('accepts what the scheduler can run and explains what it cannot', () => {
    expect(cronProblem('*/5 * * * *')).toBeNull();
    expect(cronProblem('@daily')).toBeNull();
    expect(cronProblem('0 * * * * *')).toBeNull();
    expect(cronProblem('61 * * * *')).toBe('not a valid cron expression');
    expect(cronProblem('* * *')).toBe('not a valid cron expression');
    expect(cronProblem('*/10 * * * * *')).toMatch(/seconds field/);
    expect(cronProblem('0 0 * * 5#2')).toMatch(/modifiers/);
  });

  it('knows IANA zones', () => {
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Asia/Tokyo')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
  });
});
