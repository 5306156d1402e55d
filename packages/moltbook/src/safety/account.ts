import { createHash } from 'node:crypto';
import type { DbClient } from '@opsloop/db';

/**
 * The id opsloop keeps a Moltbook account's breaker and pacing state under: a fingerprint
 * of its API key (the key itself is never stored). Every replica with the same key shares
 * the one row.
 */
export function accountIdFor(apiKey: string): string {
  return `key:${createHash('sha256').update(apiKey).digest('hex').slice(0, 16)}`;
}

export interface AccountRow {
  account_id: string;
  breaker_state: 'closed' | 'open' | 'half_open';
  breaker_reason: string | null;
  breaker_detail: string | null;
  breaker_opened_at: Date | null;
  paused_until: Date | null;
  probe_started_at: Date | null;
  consecutive_failures: number;
  comment_interval_seconds: number;
  comments_per_day: number;
  post_interval_seconds: number;
  next_comment_at: Date | null;
  next_post_at: Date | null;
  next_write_at: Date | null;
  comments_day: string | null;
  comments_today: number;
  write_limit: number | null;
  write_remaining: number | null;
  write_reset_at: Date | null;
  last_rate_limited_at: Date | null;
  updated_at: Date;
}

/** The account's row, created with the documented limits on first use. */
export async function readAccount(db: DbClient, accountId: string): Promise<AccountRow> {
  await db.$executeRaw`INSERT INTO moltbook_accounts (account_id) VALUES (${accountId}) ON CONFLICT (account_id) DO NOTHING`;
  const [row] = await db.$queryRaw<AccountRow[]>`
    SELECT account_id, breaker_state, breaker_reason, breaker_detail, breaker_opened_at, paused_until, probe_started_at,
           consecutive_failures, comment_interval_seconds, comments_per_day, post_interval_seconds, next_comment_at,
           next_post_at, next_write_at, to_char(comments_day, 'YYYY-MM-DD') AS comments_day, comments_today, write_limit,
           write_remaining, write_reset_at, last_rate_limited_at, updated_at
    FROM moltbook_accounts WHERE account_id = ${accountId}`;
  return row!;
}
