import { describe, expect, it } from 'vitest';
import { cronProblem, isValidTimeZone, jobCalendar, nextFireTime } from '../src/scheduler/calendar.ts';

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

/** Every tick in [from, to), walked backwards with latestAtOrBefore: must be the same list. */
function backwards(expr: string, tz: string, from: string, to: string): string[] {
  const cal = jobCalendar(expr, tz);
  const out: string[] = [];
  let at = new Date(new Date(to).getTime() - 1);
  for (;;) {
    const t = cal.latestAtOrBefore(at);
    if (!t || t < new Date(from)) break;
    out.unshift(t.toISOString());
    at = new Date(t.getTime() - 1);
  }
  return out;
}

describe('job calendar (croner)', () => {
  it('*/5 * * * * (UTC): the next multiple of five minutes, strictly after', () => {
    expect(next('*/5 * * * *', 'UTC', '2026-01-01T00:00:00Z')).toBe('2026-01-01T00:05:00.000Z');
    expect(next('*/5 * * * *', 'UTC', '2026-01-01T00:03:59.999Z')).toBe('2026-01-01T00:05:00.000Z');
    expect(next('*/5 * * * *', 'UTC', '2026-12-31T23:57:00Z')).toBe('2027-01-01T00:00:00.000Z');
    expect(fires('*/5 * * * *', 'UTC', '2026-01-01T00:52:30Z', 3)).toEqual(['2026-01-01T00:55:00.000Z', '2026-01-01T01:00:00.000Z', '2026-01-01T01:05:00.000Z']);
  });

  it('latestAtOrBefore includes the instant itself and agrees with nextAfter', () => {
    const cal = jobCalendar('0 6 * * *', 'Asia/Tokyo');
    expect(cal.latestAtOrBefore(new Date('2026-01-01T21:00:00Z'))?.toISOString()).toBe('2026-01-01T21:00:00.000Z');
    expect(cal.latestAtOrBefore(new Date('2026-01-01T20:59:59.999Z'))?.toISOString()).toBe('2025-12-31T21:00:00.000Z');
    expect(cal.latestAtOrBefore(new Date('2026-01-01T21:20:00Z'))?.toISOString()).toBe('2026-01-01T21:00:00.000Z');
    for (const [expr, tz] of [['*/30 * * * *', 'America/New_York'], ['30 2 * * *', 'America/New_York'], ['0 * * * *', 'America/New_York'], ['*/30 * * * *', 'Asia/Tokyo']] as const) {
      for (const [from, to] of [['2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z'], ['2026-10-31T00:00:00Z', '2026-11-03T00:00:00Z'], ['1949-09-09T00:00:00Z', '1949-09-12T00:00:00Z']]) {
        const forwards = fires(expr, tz, new Date(new Date(from!).getTime() - 1).toISOString(), 400).filter((t) => t < new Date(to!).toISOString());
        expect(backwards(expr, tz, from!, to!), `${expr} ${tz} ${from}`).toEqual(forwards);
      }
    }
  });

  it('0 6 * * * in Asia/Tokyo: 21:00 UTC the day before, every day', () => {
    expect(next('0 6 * * *', 'Asia/Tokyo', '2026-01-01T00:00:00Z')).toBe('2026-01-01T21:00:00.000Z');
    expect(next('0 6 * * *', 'Asia/Tokyo', '2026-01-01T20:59:00Z')).toBe('2026-01-01T21:00:00.000Z');
    expect(next('0 6 * * *', 'Asia/Tokyo', '2026-01-01T21:00:00Z')).toBe('2026-01-02T21:00:00.000Z');
    expect(next('0 6 * * *', 'Asia/Tokyo', '2026-02-28T22:00:00Z')).toBe('2026-03-01T21:00:00.000Z');
  });

  it('15 */3 * * * and 10 0 * * *: across day, month and year ends', () => {
    expect(fires('15 */3 * * *', 'UTC', '2026-01-01T00:15:00Z', 4)).toEqual([
      '2026-01-01T03:15:00.000Z',
      '2026-01-01T06:15:00.000Z',
      '2026-01-01T09:15:00.000Z',
      '2026-01-01T12:15:00.000Z',
    ]);
    expect(next('15 */3 * * *', 'UTC', '2026-01-01T21:16:00Z')).toBe('2026-01-02T00:15:00.000Z');
    expect(next('10 0 * * *', 'UTC', '2026-01-31T00:10:00Z')).toBe('2026-02-01T00:10:00.000Z');
    expect(next('10 0 * * *', 'UTC', '2026-12-31T12:00:00Z')).toBe('2027-01-01T00:10:00.000Z');
    expect(next('10 0 * * *', 'UTC', '2026-03-05T00:09:59Z')).toBe('2026-03-05T00:10:00.000Z');
  });

  it('day fields: weekdays, month days some months lack, modifiers, and classic OR of both day fields', () => {
    expect(next('0 9 * * mon-fri', 'UTC', '2026-01-02T10:00:00Z')).toBe('2026-01-05T09:00:00.000Z'); // Fri -> Mon
    expect(next('0 0 31 * *', 'UTC', '2026-04-01T00:00:00Z')).toBe('2026-05-31T00:00:00.000Z');
    expect(next('0 0 29 2 *', 'UTC', '2026-01-01T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
    expect(fires('0 0 L * *', 'UTC', '2026-02-01T00:00:00Z', 2)).toEqual(['2026-02-28T00:00:00.000Z', '2026-03-31T00:00:00.000Z']);
    expect(fires('0 0 * * 5#2', 'UTC', '2026-01-01T00:00:00Z', 2)).toEqual(['2026-01-09T00:00:00.000Z', '2026-02-13T00:00:00.000Z']);
    // Both restricted: the 13th OR a Friday, as crontab(5) says.
    expect(fires('0 0 13 * 5', 'UTC', '2026-01-01T00:00:00Z', 3)).toEqual(['2026-01-02T00:00:00.000Z', '2026-01-09T00:00:00.000Z', '2026-01-13T00:00:00.000Z']);
    expect(next('0 0 31 2 *', 'UTC', '2026-01-01T00:00:00Z')).toBeUndefined();
  });

  describe('DST, America/New_York', () => {
    it('spring-forward (2026-03-08, 02:00 EST -> 03:00 EDT): a fixed time in the gap runs right after it; interval ticks in the gap are skipped', () => {
      expect(fires('30 2 * * *', 'America/New_York', '2026-03-07T08:00:00Z', 3)).toEqual([
        '2026-03-08T07:00:00.000Z', // 03:00 EDT, the first wall time after the gap
        '2026-03-09T06:30:00.000Z', // 02:30 EDT
        '2026-03-10T06:30:00.000Z',
      ]);
      expect(fires('*/30 * * * *', 'America/New_York', '2026-03-08T06:00:00Z', 3)).toEqual([
        '2026-03-08T06:30:00.000Z', // 01:30 EST
        '2026-03-08T07:00:00.000Z', // 03:00 EDT: 02:00 and 02:30 do not exist
        '2026-03-08T07:30:00.000Z',
      ]);
      expect(next('0 12 * * *', 'America/New_York', '2026-03-08T00:00:00Z')).toBe('2026-03-08T16:00:00.000Z'); // noon EDT
    });

    it('fall-back (2026-11-01, 02:00 EDT -> 01:00 EST): a fixed time runs once; interval ticks run on both passes', () => {
      expect(fires('30 1 * * *', 'America/New_York', '2026-11-01T00:00:00Z', 2)).toEqual(['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
      expect(fires('0 * * * *', 'America/New_York', '2026-11-01T04:30:00Z', 3)).toEqual([
        '2026-11-01T05:00:00.000Z', // 01:00 EDT
        '2026-11-01T06:00:00.000Z', // 01:00 EST: every real hour still gets its tick
        '2026-11-01T07:00:00.000Z',
      ]);
      expect(fires('*/30 * * * *', 'America/New_York', '2026-11-01T05:00:00Z', 4)).toEqual([
        '2026-11-01T05:30:00.000Z',
        '2026-11-01T06:00:00.000Z',
        '2026-11-01T06:30:00.000Z',
        '2026-11-01T07:00:00.000Z',
      ]);
    });
  });

  describe('DST, Asia/Tokyo', () => {
    it('today Tokyo keeps no DST: the 06:00 summary stays at 21:00 UTC through the US changes', () => {
      expect(fires('0 6 * * *', 'Asia/Tokyo', '2026-03-06T22:00:00Z', 3)).toEqual(['2026-03-07T21:00:00.000Z', '2026-03-08T21:00:00.000Z', '2026-03-09T21:00:00.000Z']);
      expect(fires('0 6 * * *', 'Asia/Tokyo', '2026-10-30T22:00:00Z', 3)).toEqual(['2026-10-31T21:00:00.000Z', '2026-11-01T21:00:00.000Z', '2026-11-02T21:00:00.000Z']);
    });

    it('spring-forward as Tokyo last had it (1949-04-03, 00:00 JST -> 01:00 JDT)', () => {
      expect(fires('30 0 * * *', 'Asia/Tokyo', '1949-04-02T00:00:00Z', 2)).toEqual(['1949-04-02T15:00:00.000Z', '1949-04-03T14:30:00.000Z']);
      expect(fires('*/30 * * * *', 'Asia/Tokyo', '1949-04-02T14:00:00Z', 3)).toEqual(['1949-04-02T14:30:00.000Z', '1949-04-02T15:00:00.000Z', '1949-04-02T15:30:00.000Z']);
      expect(fires('0 6 * * *', 'Asia/Tokyo', '1949-04-01T00:00:00Z', 3)).toEqual(['1949-04-01T21:00:00.000Z', '1949-04-02T20:00:00.000Z', '1949-04-03T20:00:00.000Z']);
    });

    it('fall-back as Tokyo last had it (1949-09-11, 01:00 JDT -> 00:00 JST)', () => {
      expect(fires('30 0 * * *', 'Asia/Tokyo', '1949-09-10T00:00:00Z', 2)).toEqual(['1949-09-10T14:30:00.000Z', '1949-09-11T15:30:00.000Z']);
      expect(fires('*/30 * * * *', 'Asia/Tokyo', '1949-09-10T13:45:00Z', 4)).toEqual([
        '1949-09-10T14:00:00.000Z', // 00:00 JDT
        '1949-09-10T14:30:00.000Z',
        '1949-09-10T15:00:00.000Z', // 00:00 JST
        '1949-09-10T15:30:00.000Z',
      ]);
    });
  });
});

describe('cron and time zone checks', () => {
  it('accepts what the scheduler can run and explains what it cannot', () => {
    expect(cronProblem('*/5 * * * *')).toBeNull();
    expect(cronProblem('@daily')).toBeNull();
    expect(cronProblem('0 0 * * 5#2')).toBeNull();
    expect(cronProblem('61 * * * *')).toMatch(/minute/);
    expect(cronProblem('* * *')).toMatch(/five/);
    expect(cronProblem('0 * * * * *')).toBe('five fields are required (minute hour day-of-month month day-of-week), not 6: ticks are per minute, a seconds field is not supported');
    expect(cronProblem('*/10 * * * * *')).toMatch(/seconds field/);
    expect(cronProblem('mon * * * *')).toMatch(/illegal characters/);
  });

  it('knows IANA zones', () => {
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Asia/Tokyo')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
  });
});
