import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, FakeClock } from '@opsloop/core';
import { createEventHorizon, postPendingApprovals, slackMessageSink, startApprovalNotifier } from '@opsloop/ops';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { rowCounts, startTestApp, type TestApp } from '../../../test/app.ts';
import { startFakeSlack } from '../../../test/fakes/fakeSlack.ts';

const SECRET = 'test-signing-secret-8f3a2c';
const xPost = { title: 'Post the launch note', skill: 'x_autopost', proposedBy: 'gateway-1', steps: [{ kind: 'x.post', params: { text: 'We are live.' } }] };

describe('approve from Slack', () => {
  let db: TestDatabase;
  let t: TestApp;
  let slack: Awaited<ReturnType<typeof startFakeSlack>>;
  const clock = new FakeClock(new Date());
  const logger = createLogger({ level: 'silent' });
  beforeAll(async () => {
    db = await createTestDatabase();
    slack = await startFakeSlack();
    t = await startTestApp(db, { clock, slack: { signingSecret: SECRET } });
  });
  afterAll(async () => {
    await t.close();
    await slack.close();
    await db.drop();
  });

  function click(proposalId: string, action: 'opsloop_approve' | 'opsloop_reject', o: { ts?: number; secret?: string } = {}) {
    const payload = { type: 'block_actions', user: { id: 'U123', username: 'carol' }, actions: [{ action_id: action, value: proposalId }], response_url: slack.responseUrl };
    const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
    const ts = String(o.ts ?? Math.floor(clock.now().getTime() / 1000));
    const signature = `v0=${createHmac('sha256', o.secret ?? SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
    const send = (headers: Record<string, string> = { 'X-Slack-Request-Timestamp': ts, 'X-Slack-Signature': signature }) =>
      t.raw.post('/api/ops/slack/interactions').set('Content-Type', 'application/x-www-form-urlencoded').set(headers).send(body);
    return { send, ts, signature };
  }

  async function pendingXPost(): Promise<string> {
    const res = await t.api.post('/api/ops/proposal', { ...xPost, dedupeKey: `x-${Math.random()}` }).expect(201);
    expect(res.body.status).toBe('pending');
    return res.body.proposal.id;
  }

  it('posts a pending proposal that waits for a person to Slack once, with Approve / Reject buttons', async () => {
    const horizon = createEventHorizon({ pool: db.pool, url: db.url, logger });
    const notifier = startApprovalNotifier({ ...t.ops, logger, sink: slackMessageSink(slack.url) }, horizon);
    try {
      const id = await pendingXPost();
      const deadline = Date.now() + 10_000;
      while (!slack.messages.some((m) => JSON.stringify(m.blocks ?? []).includes(id))) {
        if (Date.now() > deadline) throw new Error('no Slack message');
        await new Promise((r) => setTimeout(r, 10));
      }
      const message = slack.messages.find((m) => JSON.stringify(m.blocks).includes(id))!;
      expect(message.text).toBe('Approval needed: Post the launch note');
      const actions = (message.blocks as { type: string; elements?: { action_id: string; value: string }[] }[]).find((b) => b.type === 'actions')!;
      expect(actions.elements!.map((e) => [e.action_id, e.value])).toEqual([
        ['opsloop_approve', id],
        ['opsloop_reject', id],
      ]);
      // The pass that posted it records it once it ends.
      await notifier.stop();
      // Never twice, even when asked again.
      await postPendingApprovals({ ...t.ops, logger, sink: slackMessageSink(slack.url) });
      expect(slack.messages.filter((m) => JSON.stringify(m.blocks ?? []).includes(id))).toHaveLength(1);
      const events = await t.api.get(`/api/ops/events?kind=slack:approval_posted`).expect(200);
      expect(events.body.items.map((e: { proposalId: string }) => e.proposalId)).toContain(id);
    } finally {
      await notifier.stop();
      await horizon.close();
    }
  });

  it('a valid signature approves once; the second click is a no-op that says so', async () => {
    const id = await pendingXPost();
    const first = await click(id, 'opsloop_approve').send().expect(200);
    expect(first.body).toMatchObject({ proposalId: id, action: 'approve', applied: true, status: 'approved' });
    const { body } = await t.api.get(`/api/ops/proposals/${id}`).expect(200);
    expect(body.proposal).toMatchObject({ status: 'approved', reason: 'approved by slack:carol' });
    expect(body.proposal.missionId).toBeTruthy();

    clock.advance(2000); // a later click: new timestamp, new signature
    const before = await rowCounts(db);
    const second = await click(id, 'opsloop_approve').send().expect(200);
    expect(second.body).toMatchObject({ applied: false, status: 'approved', text: 'Nothing changed: this proposal is already approved.' });
    const reject = await click(id, 'opsloop_reject', { ts: Math.floor(clock.now().getTime() / 1000) - 1 }).send().expect(200);
    expect(reject.body.applied).toBe(false);
    const after = await rowCounts(db);
    expect({ ...after, ops_slack_interactions: 0 }).toEqual({ ...before, ops_slack_interactions: 0 });
    const missions = await db.pool.query('SELECT count(*)::int AS n FROM ops_missions WHERE proposal_id = $1', [id]);
    expect(missions.rows[0].n).toBe(1);
    const deadline = Date.now() + 5000;
    while (slack.responses.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(slack.responses[0]!.body).toMatchObject({ replace_original: true, text: ':white_check_mark: Approved by carol' });
  });

  it('Reject applies through the same function', async () => {
    const id = await pendingXPost();
    clock.advance(1000);
    const res = await click(id, 'opsloop_reject').send().expect(200);
    expect(res.body).toMatchObject({ applied: true, status: 'rejected' });
    const { body } = await t.api.get(`/api/ops/proposals/${id}`).expect(200);
    expect(body.proposal).toMatchObject({ status: 'rejected', reason: 'rejected in Slack by carol' });
  });

  it('bad signature, stale timestamp, missing headers or a replay: 401 and nothing changes', async () => {
    const id = await pendingXPost();
    clock.advance(1000);
    const valid = click(id, 'opsloop_reject');
    const before = await rowCounts(db);
    const expect401 = async (res: { status: number; body: { error: { code: string; message: string } } }, why: RegExp) => {
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
      expect(res.body.error.message).toMatch(why);
    };
    await expect401(await click(id, 'opsloop_approve', { secret: 'not-the-secret' }).send(), /bad signature/);
    await expect401(await valid.send({ 'X-Slack-Request-Timestamp': valid.ts, 'X-Slack-Signature': valid.signature.replace(/.$/, (c) => (c === '0' ? '1' : '0')) }), /bad signature/);
    await expect401(await valid.send({ 'X-Slack-Request-Timestamp': valid.ts }), /missing/);
    const old = Math.floor(clock.now().getTime() / 1000) - 301;
    await expect401(await click(id, 'opsloop_approve', { ts: old }).send(), /stale/);
    // A signed body with a timestamp header it was not signed for.
    await expect401(await valid.send({ 'X-Slack-Request-Timestamp': String(Number(valid.ts) + 1), 'X-Slack-Signature': valid.signature }), /bad signature/);
    // Bearer token is no substitute for the signature.
    const bearer = await t.api.post('/api/ops/slack/interactions').set('Content-Type', 'application/x-www-form-urlencoded').send('payload={}');
    expect(bearer.status).toBe(401);
    expect(await rowCounts(db)).toEqual(before);

    // The valid request once, then its replay.
    await valid.send().expect(200);
    const afterFirst = await rowCounts(db);
    await expect401(await valid.send(), /replay/);
    // Still a replay after a while (within the window), and stale after it.
    clock.advance(200_000);
    await expect401(await valid.send(), /replay/);
    clock.advance(200_000);
    await expect401(await valid.send(), /stale/);
    expect(await rowCounts(db)).toEqual(afterFirst);
    const { body } = await t.api.get(`/api/ops/proposals/${id}`).expect(200);
    expect(body.proposal.status).toBe('rejected');
  });

  it('a signed but malformed payload is a 400; without a signing secret the route is 404', async () => {
    clock.advance(1000);
    const body = 'payload=not-json';
    const ts = String(Math.floor(clock.now().getTime() / 1000));
    const sig = `v0=${createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
    const res = await t.raw.post('/api/ops/slack/interactions').set('Content-Type', 'application/x-www-form-urlencoded').set({ 'X-Slack-Request-Timestamp': ts, 'X-Slack-Signature': sig }).send(body);
    expect(res.status).toBe(400);
    const plain = await startTestApp(db);
    try {
      await plain.raw.post('/api/ops/slack/interactions').set('Content-Type', 'application/x-www-form-urlencoded').send(body).expect(404);
    } finally {
      await plain.close();
    }
  });
});
