/**
 * Moltbook's per-key limits, on an injected clock: per-minute read and write windows,
 * the post and comment cooldowns and the daily comment cap. Each answers a 429 in the
 * shape the real API uses for it.
 */
import type { Clock } from '@opsloop/core';

export interface FakeReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface FakeLimits {
  /** Minimum gap between two posts of one key; null disables. (Default: 30 min) */
  postIntervalMs: number | null;
  /** Minimum gap between two comments of one key; null disables. (Default: 20 s) */
  commentIntervalMs: number | null;
  /** Comments per key per UTC day; null disables. (Default: 50) */
  commentsPerDay: number | null;
  /** GETs per key in any 60 s; null disables. (Default: 60) */
  readsPerMinute: number | null;
  /** POSTs per key in any 60 s; null disables. (Default: 30) */
  writesPerMinute: number | null;
}

export const DEFAULT_FAKE_LIMITS: Readonly<FakeLimits> = {
  postIntervalMs: 30 * 60_000,
  commentIntervalMs: 20_000,
  commentsPerDay: 50,
  readsPerMinute: 60,
  writesPerMinute: 30,
};

export const NO_FAKE_LIMITS: Readonly<FakeLimits> = {
  postIntervalMs: null,
  commentIntervalMs: null,
  commentsPerDay: null,
  readsPerMinute: null,
  writesPerMinute: null,
};

const WINDOW_MS = 60_000;
const DAY_MS = 86_400_000;

export class FakeRateLimiter {
  private limits: FakeLimits;
  private readonly windows = new Map<string, number[]>();
  private readonly lastPost = new Map<string, number>();
  private readonly commentTimes = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    limits: Partial<FakeLimits> = {},
  ) {
    this.limits = { ...DEFAULT_FAKE_LIMITS, ...limits };
  }

  setLimits(limits: Partial<FakeLimits>): void {
    this.limits = { ...this.limits, ...limits };
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  /**
   * Counts one request against the key's read or write window. Returns the X-RateLimit-*
   * headers for the answer, and a NestJS-style 429 when the window is full.
   */
  hit(key: string, kind: 'read' | 'write'): { headers: Record<string, string>; rejection?: FakeReply } {
    const limit = kind === 'read' ? this.limits.readsPerMinute : this.limits.writesPerMinute;
    if (limit === null) return { headers: {} };
    const now = this.now();
    const id = `${kind}:${key}`;
    const times = (this.windows.get(id) ?? []).filter((t) => t > now - WINDOW_MS);
    this.windows.set(id, times);
    const resetMs = (times[0] ?? now) + WINDOW_MS;
    if (times.length >= limit) {
      const retryAfterSeconds = Math.max(1, Math.ceil((resetMs - now) / 1000));
      const headers = rateHeaders(limit, 0, resetMs);
      return {
        headers,
        rejection: {
          status: 429,
          headers: { ...headers, 'Retry-After': String(retryAfterSeconds) },
          body: {
            statusCode: 429,
            message: 'Rate limit exceeded',
            remaining: 0,
            reset_at: new Date(resetMs).toISOString(),
            retry_after_seconds: retryAfterSeconds,
          },
        },
      };
    }
    times.push(now);
    return { headers: rateHeaders(limit, limit - times.length, resetMs) };
  }

  /** A 429 if the key posted within the post interval, else null. */
  checkPost(key: string): FakeReply | null {
    const interval = this.limits.postIntervalMs;
    const last = this.lastPost.get(key);
    if (interval === null || last === undefined) return null;
    const waitMs = last + interval - this.now();
    if (waitMs <= 0) return null;
    const minutes = Math.ceil(waitMs / 60_000);
    const everyMinutes = Math.round(interval / 60_000);
    return {
      status: 429,
      headers: { 'Retry-After': String(Math.ceil(waitMs / 1000)) },
      body: {
        success: false,
        error: `You can only post once every ${everyMinutes} minutes`,
        hint: `Wait ${minutes} minutes before posting again`,
        retry_after_minutes: minutes,
      },
    };
  }

  recordPost(key: string): void {
    this.lastPost.set(key, this.now());
  }

  /** A 429 if the key is in its comment cooldown or has used today's comments, else null. */
  checkComment(key: string): FakeReply | null {
    const now = this.now();
    const times = this.commentTimes.get(key) ?? [];
    const dayStart = Math.floor(now / DAY_MS) * DAY_MS;
    const today = times.filter((t) => t >= dayStart).length;
    const perDay = this.limits.commentsPerDay;
    const remaining = perDay === null ? null : Math.max(0, perDay - today);
    if (perDay !== null && today >= perDay) {
      const seconds = Math.ceil((dayStart + DAY_MS - now) / 1000);
      return commentLimit(`You have reached the daily limit of ${perDay} comments`, 'Try again tomorrow', seconds, 0);
    }
    const interval = this.limits.commentIntervalMs;
    const last = times.at(-1);
    if (interval !== null && last !== undefined && last + interval > now) {
      const seconds = Math.ceil((last + interval - now) / 1000);
      return commentLimit(
        `You can only comment once every ${Math.round(interval / 1000)} seconds`,
        `Wait ${seconds} seconds before commenting again`,
        seconds,
        remaining,
      );
    }
    return null;
  }

  recordComment(key: string): void {
    const times = this.commentTimes.get(key) ?? [];
    times.push(this.now());
    this.commentTimes.set(key, times);
  }
}

function rateHeaders(limit: number, remaining: number, resetMs: number): Record<string, string> {
  return {
    'X-RateLimit-Limit': String(limit),
    'X-RateLimit-Remaining': String(remaining),
    'X-RateLimit-Reset': String(Math.ceil(resetMs / 1000)),
  };
}

function commentLimit(error: string, hint: string, seconds: number, dailyRemaining: number | null): FakeReply {
  return {
    status: 429,
    headers: { 'Retry-After': String(seconds) },
    body: {
      success: false,
      error,
      hint,
      retry_after_seconds: seconds,
      ...(dailyRemaining === null ? {} : { daily_remaining: dailyRemaining }),
    },
  };
}
