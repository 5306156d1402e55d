/**
 * Pacing from Moltbook's own numbers, stored per account in `moltbook_accounts` so every
 * replica paces together: the documented limits (1 comment / 20 s, 50 comments a day,
 * 1 post / 30 min; editable per account, new agents have tighter ones), the
 * `X-RateLimit-*` headers of each write, and every 429's retry time. A write is never
 * sent when these say it would be refused. The daily count follows UTC days (Moltbook
 * does not say; its reset is treated as UTC midnight).
 */
import type { DbClient } from '@opsloop/db';
import type { MoltbookRateLimitError } from '../errors.ts';
import type { RateLimitInfo } from '../types.ts';
import { readAccount, type AccountRow } from './account.ts';

export type WriteKind = 'comment' | 'post';

export type PaceDecision = { go: true } | { go: false; waitMs: number; until: Date; why: string };

const utcDay = (at: Date) => at.toISOString().slice(0, 10);
const nextUtcMidnight = (at: Date) => new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 1));

/** Whether a write of `kind` may go now, or how long to wait before it would be accepted. */
export function paceFrom(row: AccountRow, kind: WriteKind, now: Date): PaceDecision {
  const waits: { until: Date; why: string }[] = [];
  if (row.next_write_at && row.next_write_at > now) waits.push({ until: row.next_write_at, why: 'write window used up (X-RateLimit-Remaining 0)' });
  if (kind === 'comment') {
    if (row.next_comment_at && row.next_comment_at > now) waits.push({ until: row.next_comment_at, why: 'comment cooldown' });
    if (row.comments_day === utcDay(now) && row.comments_today >= row.comments_per_day) {
      waits.push({ until: nextUtcMidnight(now), why: `daily limit of ${row.comments_per_day} comments reached` });
    }
  } else if (row.next_post_at && row.next_post_at > now) {
    waits.push({ until: row.next_post_at, why: 'post cooldown' });
  }
  if (waits.length === 0) return { go: true };
  const latest = waits.reduce((a, b) => (b.until > a.until ? b : a));
  return { go: false, waitMs: latest.until.getTime() - now.getTime(), until: latest.until, why: latest.why };
}

export async function pace(db: DbClient, accountId: string, kind: WriteKind, now: Date): Promise<PaceDecision> {
  return paceFrom(await readAccount(db, accountId), kind, now);
}

/** A write of `kind` was accepted: the cooldown starts, the day's count grows, the headers are kept. */
export async function recordWrite(db: DbClient, accountId: string, kind: WriteKind, now: Date, rateLimit: RateLimitInfo | null): Promise<void> {
  const day = utcDay(now);
  const writeResetAt = rateLimit?.resetAt ?? null;
  const nextWriteAt = rateLimit?.remaining === 0 && writeResetAt ? writeResetAt : null;
  if (kind === 'comment') {
    await db.$executeRaw`
      UPDATE moltbook_accounts SET
        next_comment_at = ${now}::timestamptz + make_interval(secs => comment_interval_seconds),
        comments_today = CASE WHEN comments_day = ${day}::date THEN comments_today + 1 ELSE 1 END,
        comments_day = ${day}::date,
        write_limit = coalesce(${rateLimit?.limit ?? null}::int, write_limit),
        write_remaining = ${rateLimit?.remaining ?? null}::int,
        write_reset_at = ${writeResetAt}::timestamptz,
        next_write_at = ${nextWriteAt}::timestamptz,
        updated_at = ${now}::timestamptz
      WHERE account_id = ${accountId}`;
  } else {
    await db.$executeRaw`
      UPDATE moltbook_accounts SET
        next_post_at = ${now}::timestamptz + make_interval(secs => post_interval_seconds),
        write_limit = coalesce(${rateLimit?.limit ?? null}::int, write_limit),
        write_remaining = ${rateLimit?.remaining ?? null}::int,
        write_reset_at = ${writeResetAt}::timestamptz,
        next_write_at = ${nextWriteAt}::timestamptz,
        updated_at = ${now}::timestamptz
      WHERE account_id = ${accountId}`;
  }
}

/** A 429: the next allowed time is what the server said (and the day is full when it says so). */
export async function recordRateLimited(db: DbClient, accountId: string, kind: WriteKind, now: Date, error: MoltbookRateLimitError): Promise<Date> {
  const until = new Date(now.getTime() + error.retryAfterMs);
  const day = utcDay(now);
  const dayFull = error.dailyRemaining === 0;
  if (kind === 'comment') {
    await db.$executeRaw`
      UPDATE moltbook_accounts SET
        next_comment_at = GREATEST(coalesce(next_comment_at, ${until}::timestamptz), ${until}::timestamptz),
        comments_today = CASE WHEN ${dayFull} THEN comments_per_day ELSE comments_today END,
        comments_day = CASE WHEN ${dayFull} THEN ${day}::date ELSE comments_day END,
        last_rate_limited_at = ${now}::timestamptz, updated_at = ${now}::timestamptz
      WHERE account_id = ${accountId}`;
  } else {
    await db.$executeRaw`
      UPDATE moltbook_accounts SET
        next_post_at = GREATEST(coalesce(next_post_at, ${until}::timestamptz), ${until}::timestamptz),
        last_rate_limited_at = ${now}::timestamptz, updated_at = ${now}::timestamptz
      WHERE account_id = ${accountId}`;
  }
  return until;
}
