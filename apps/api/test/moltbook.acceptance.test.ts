import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, FakeClock, loadConfig } from '@opsloop/core';
import { startService, type RunningService } from '@opsloop/api';
import { INTERNAL_JOBS } from '../src/schedule.ts';
import { loadScheduleFile, manualWakeTimers } from '@opsloop/ops';
import { accountIdFor, createMoltbookClient } from '@opsloop/moltbook';
import { startFakeMoltbook, NO_FAKE_LIMITS, type FakeMoltbook } from '@opsloop/moltbook/testing';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { API_TOKEN, HEARTBEAT_TOKEN } from '../../../test/app.ts';
import { startFakeSlack } from '../../../test/fakes/fakeSlack.ts';

const KEY = 'moltbook_sk_acceptance_secret_key_0987654321';
const ME = 'opsloop-agent';

let db: TestDatabase;
let fake: FakeMoltbook;
const clock = new FakeClock('2026-11-23T00:00:00Z');
const logLines: string[] = [];
const logger = createLogger({
  level: 'debug',
  destination: new Writable({
    write(chunk: Buffer, _e, done) {
      logLines.push(chunk.toString());
      done();
    },
  }),
});

beforeAll(async () => {
  db = await createTestDatabase();
  // Moltbook's post cooldown is real; the comment cooldown is off so one cycle may
  // answer several comments without waiting 20 s of fake time between them.
  // Every post and comment gets a verification challenge, as on the real Moltbook.
  fake = await startFakeMoltbook({ apiKey: KEY, agentName: ME, clock, limits: { ...NO_FAKE_LIMITS, postIntervalMs: 30 * 60_000 }, verification: true });
  // The account's stored limits follow the fake's (no comment cooldown here).
  await db.pool.query(`INSERT INTO moltbook_accounts (account_id, comment_interval_seconds) VALUES ($1, 0)`, [accountIdFor(KEY)]);
});
afterAll(async () => {
  await fake?.close();
  await db?.drop();
});

async function start(firstPostId: string, extra: Record<string, string> = {}): Promise<RunningService> {
  const config = loadConfig({
    DATABASE_URL: db.url,
    PORT: '0',
    HOST: '127.0.0.1',
    OPS_API_TOKEN: API_TOKEN,
    HEARTBEAT_TOKEN,
    MOLTBOOK_API_KEY: KEY,
    MOLTBOOK_BASE_URL: fake.baseUrl,
    MOLTBOOK_WATCH_POST_IDS: firstPostId,
    MOLTBOOK_REPLY_MAX_PER_RUN: '3',
    MOLTBOOK_OUTPUT_DIR: `.data/test-moltbook/${db.name}`,
    SCHEDULE_FILE: 'schedule.yaml',
    LOG_LEVEL: 'debug',
    ...extra,
  });
  // The test fires the ticks itself; the scheduler's own wake-ups never fire.
  return startService(config, logger, { clock, schedulerTimers: manualWakeTimers() });
}

/** One tick of the shipped schedule's engagement cycle, as the scheduler would fire it. */
async function cycle(service: RunningService) {
  const jobs = await loadScheduleFile('schedule.yaml', { internalJobs: INTERNAL_JOBS });
  const outcome = await service.scheduler!.runTick(jobs.find((j) => j.name === 'moltbook-engagement-cycle')!, clock.now());
  expect(outcome.outcome).toBe('succeeded');
  const missionId = (outcome as { detail: { missionId: string } }).detail.missionId;
  await expect
    .poll(async () => (await db.prisma.opsMission.findUniqueOrThrow({ where: { id: missionId } })).status, { timeout: 15_000, interval: 20 })
    .toBe('succeeded');
}

describe('Moltbook engagement through the scheduler (acceptance)', () => {
  it('20 cycles with comments arriving between them and restarts: the second post goes out when allowed, every comment answered exactly once', async () => {
    // The agent's first post went out just now: the second must wait 30 minutes.
    const agentClient = createMoltbookClient({ apiKey: KEY, baseUrl: fake.baseUrl, clock });
    const first = await agentClient.createPost({ submolt_name: 'general', title: 'First post', content: 'Hello, Moltbook.' });
    await agentClient.verify(first.verification!.verification_code, fake.challenges()[0]!.answer);
    let service = await start(first.post.id);
    let commenters = 0;
    try {
      for (let i = 1; i <= 20; i++) {
        clock.advance(10 * 60_000);
        if (i <= 18) {
          const posts = [first.post.id];
          const second = (await db.prisma.moltbookEngagementState.findUniqueOrThrow({ where: { id: 1 } })).secondPostId;
          if (second) posts.push(second);
          for (const postId of posts) {
            for (let k = 0; k < (i % 3); k++) {
              const ours = fake.commentsOn(postId).filter((c) => c.author === ME);
              // Sometimes someone answers one of our replies.
              const parentId = k === 1 && ours.length ? ours[ours.length - 1]!.id : undefined;
              fake.addComment(postId, { author: `agent-${commenters++}`, content: `comment ${commenters} in cycle ${i}`, parentId });
            }
          }
        }
        if (i === 6 || i === 13) {
          await service.stop();
          service = await start(first.post.id);
        }
        await cycle(service);
        const state = await db.prisma.moltbookEngagementState.findUniqueOrThrow({ where: { id: 1 } });
        if (i <= 2) expect(state.secondPostStatus).toBe('pending');
        if (i === 3) expect(state).toMatchObject({ secondPostStatus: 'posted', secondPostId: expect.any(String) });
      }
    } finally {
      await service.stop();
    }

    const state = await db.prisma.moltbookEngagementState.findUniqueOrThrow({ where: { id: 1 } });
    const posts = fake.requests.filter((r) => r.method === 'POST' && /\/posts$/.test(r.path) && r.status === 201);
    expect(posts).toHaveLength(2); // the first (by hand) and the second, once
    const secondActions = (await db.prisma.opsEvent.findMany({ where: { kind: 'moltbook:second_post' }, orderBy: { id: 'asc' } })).map(
      (e) => (e.payload as { action: string }).action,
    );
    expect(secondActions.slice(0, 3)).toEqual(['rate_limited', 'waiting', 'posted']);

    let answered = 0;
    for (const postId of [first.post.id, state.secondPostId!]) {
      for (const c of fake.commentsOn(postId).filter((c) => c.author !== ME)) {
        expect(fake.repliesTo(c.id).filter((r) => r.author === ME)).toHaveLength(1);
        answered++;
      }
    }
    expect(answered).toBe(commenters);
    expect(commenters).toBeGreaterThan(20);

    const everything = logLines.join('');
    expect(everything).toContain('reply_monitor.replies_sent');
    expect(everything).not.toContain(KEY);
    const payloads = await db.pool.query(`SELECT payload::text AS p FROM ops_events`);
    expect(payloads.rows.some((r: { p: string }) => r.p.includes(KEY))).toBe(false);

    // Verification: every reply and the second post verified, one answer per code, in time.
    const challenges = fake.challenges().slice(1); // the first post's was answered by hand above
    expect(challenges).toHaveLength(commenters + 1);
    for (const c of challenges) {
      expect(c.outcome).toBe('verified');
      expect(c.attempts).toHaveLength(1);
      expect(c.attempts[0]!.at.getTime()).toBeLessThanOrEqual(c.issuedAt.getTime() + 30_000);
    }
    expect(fake.post(state.secondPostId!)!.verification_status).toBe('verified');
    expect(state.secondPostStatus).toBe('posted');

    // The operator's view over HTTP.
    service = await start(first.post.id);
    try {
      const view = (await (await fetch(`${service.url}/api/ops/moltbook`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).json()) as {
        breaker: unknown;
        challenges: { outcome: string; method: string }[];
        watchedPosts: { postId: string; unansweredComments: number }[];
      };
      expect(view.breaker).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
      expect(view.challenges).toHaveLength(Math.min(50, commenters + 1));
      expect(view.challenges.every((c) => c.outcome === 'verified' && c.method === 'rules')).toBe(true);
      expect(view.watchedPosts.map((p) => p.postId)).toEqual(expect.arrayContaining([first.post.id, state.secondPostId]));
      expect(view.watchedPosts.every((p) => p.unansweredComments === 0)).toBe(true);
      const summary = (await (await fetch(`${service.url}/api/ops/summary/daily`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).json()) as { moltbook: unknown };
      expect(summary.moltbook).toMatchObject({ breaker: { state: 'closed' }, challengesFailed: 0 });
    } finally {
      await service.stop();
    }
  }, 120_000);

  it('SIGTERM during a reply-monitor run: no write starts after it; the in-flight reply is recorded after the restart and the mission succeeds', async () => {
    const post = fake.addPost({ author: ME, title: 'Shutdown post', content: 'x' });
    const comments = [0, 1, 2].map((i) => {
      clock.advance(1000);
      return fake.addComment(post.id, { author: `late-${i}`, content: `please answer ${i}` });
    });
    clock.advance(10 * 60_000);
    // The first reply hangs in flight while the process is told to stop.
    fake.failNext('POST', `/posts/${post.id}/comments`, { delayMs: 1500 });
    let service = await start(post.id, { SHUTDOWN_GRACE_MS: '200' });
    const jobs = await loadScheduleFile('schedule.yaml', { internalJobs: INTERNAL_JOBS });
    const tick = await service.scheduler!.runTick(jobs.find((j) => j.name === 'moltbook-engagement-cycle')!, clock.now());
    const missionId = (tick as { detail: { missionId: string } }).detail.missionId;
    const replies = () => fake.requests.filter((r) => r.method === 'POST' && r.path === `/posts/${post.id}/comments`);
    await expect.poll(() => replies().length, { timeout: 15_000, interval: 10 }).toBe(1);
    await service.stop();
    const sentBeforeRestart = replies().length;
    expect(sentBeforeRestart).toBe(1);
    await expect.poll(() => fake.repliesTo(comments[0]!.id).length, { timeout: 5000 }).toBe(1); // it landed

    service = await start(post.id);
    try {
      await expect
        .poll(async () => (await db.prisma.opsMission.findUniqueOrThrow({ where: { id: missionId } })).status, { timeout: 20_000, interval: 50 })
        .toBe('succeeded');
    } finally {
      await service.stop();
    }
    for (const c of comments) expect(fake.repliesTo(c.id).filter((r) => r.author === ME)).toHaveLength(1);
  }, 60_000);

  it('every verification answered wrong: the breaker opens after 2, shows in GET /api/ops/moltbook, alerts Slack once, and an operator reset resumes writes', async () => {
    const slack = await startFakeSlack();
    const post = fake.addPost({ author: ME, title: 'Breaker post', content: 'x' });
    const comments = [0, 1, 2].map((i) => {
      clock.advance(1000);
      return fake.addComment(post.id, { author: `wrong-${i}`, content: `question ${i}` });
    });
    fake.setVerificationOptions({ mode: 'always_wrong', suspendAfterFailures: null });
    const service = await start(post.id, { SLACK_WEBHOOK_URL: slack.url });
    const auth = { authorization: `Bearer ${API_TOKEN}` };
    const view = async () =>
      (await (await fetch(`${service.url}/api/ops/moltbook`, { headers: auth })).json()) as { breaker: { state: string; reason: string | null } };
    const replies = () => fake.requests.filter((r) => r.method === 'POST' && r.path === `/posts/${post.id}/comments`).length;
    try {
      clock.advance(10 * 60_000);
      await cycle(service); // the step succeeds: paused is not a failure
      expect(replies()).toBe(2);
      expect((await view()).breaker).toMatchObject({ state: 'open', reason: 'verification_failures' });
      clock.advance(10 * 60_000);
      await cycle(service);
      expect(replies()).toBe(2); // nothing while open

      const beat = await fetch(`${service.url}/api/ops/heartbeat`, { method: 'POST', headers: { authorization: `Bearer ${HEARTBEAT_TOKEN}` } });
      expect(beat.status).toBe(200);
      const stopped = slack.messages.filter((m) => m.text.includes('Moltbook writes stopped'));
      expect(stopped).toHaveLength(1);

      fake.setVerificationOptions({ mode: 'honest' });
      const reset = await fetch(`${service.url}/api/ops/moltbook/breaker/reset`, { method: 'POST', headers: auth });
      expect(reset.status).toBe(200);
      expect((await view()).breaker).toMatchObject({ state: 'closed' });
      clock.advance(10 * 60_000);
      await cycle(service);
      expect(fake.repliesTo(comments[2]!.id).filter((r) => r.author === ME)).toHaveLength(1);
      expect(fake.challenges().at(-1)).toMatchObject({ outcome: 'verified' });
    } finally {
      await service.stop();
      await slack.close();
    }
  }, 60_000);
});
