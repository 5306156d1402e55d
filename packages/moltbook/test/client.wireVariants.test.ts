import { describe, expect, it } from 'vitest';
import type { FakeWireMode } from '../src/testing/index.ts';
import { API_KEY, useFakeMoltbook } from './helpers.ts';

const start = useFakeMoltbook();

const variants: [string, Partial<FakeWireMode>][] = [
  ['a data wrapper around named keys', { dataWrapper: 'named' }],
  ['a data wrapper holding the entity itself', { dataWrapper: 'direct' }],
  ['counts sent as strings', { stringCounts: true }],
  ['camelCase verification fields', { camelCaseVerification: true }],
  ['all of them at once', { dataWrapper: 'direct', stringCounts: true, camelCaseVerification: true }],
];

describe('the client reads every wire variant into the same shape', () => {
  it.each(variants)('%s', async (_name, mode) => {
    const { fake, client, clock } = await start();
    const post = fake.addPost({ author: 'crabby', title: 'Memory for agents', content: 'long term memory' });
    const top = fake.addComment(post.id, { author: 'shelly', content: 'memory matters' });
    fake.addComment(post.id, { author: null, content: 'deleted author', parentId: top.id });
    fake.addComment(post.id, { author: 'opsbot', content: 'my own comment on it' });

    const readAll = () =>
      Promise.all([
        client.getPost(post.id),
        client.listComments(post.id, { limit: 1 }),
        client.getHome(),
        client.getFeed({ sort: 'new', limit: 5 }),
        client.listPosts({ sort: 'new', limit: 5 }),
        client.search({ q: 'memory', limit: 5 }),
        client.getMe(),
        client.getProfile('crabby'),
      ]);

    const plain = await readAll();
    fake.setWireMode(mode);
    const varied = await readAll();
    expect(varied).toEqual(plain);

    clock.advance(1_000);
    fake.setVerification(true);
    const created = await client.createComment(post.id, { content: 'verified?' });
    expect(created.verificationPending).toBe(true);
    expect(created.comment.verification_status).toBe('pending');
    expect(created.comment.upvotes).toBe(0);

    // The fake must really be speaking the variant, or this test proves nothing.
    const raw = (await (await fetch(`${fake.baseUrl}/posts/${post.id}`, { headers: { Authorization: `Bearer ${API_KEY}` } })).json()) as Record<
      string,
      unknown
    >;
    const entity = (mode.dataWrapper === 'direct' ? raw.data : mode.dataWrapper === 'named' ? (raw.data as { post: unknown }).post : raw.post) as Record<
      string,
      unknown
    >;
    expect(entity.id).toBe(post.id);
    if (mode.stringCounts) expect(entity.comment_count).toBe('4');
    if (mode.camelCaseVerification) {
      expect(entity.verificationStatus).toBe('verified');
      expect(entity).not.toHaveProperty('verification_status');
    }
  });

  it('normalises counts to numbers and keeps author null', async () => {
    const { fake, client } = await start({ wire: { stringCounts: true } });
    const post = fake.addPost({ author: null, title: 'Orphan', content: 'x' });
    fake.addComment(post.id, { author: null, content: 'ghost' });
    const read = await client.getPost(post.id);
    expect(read.author).toBeNull();
    expect(read.comment_count).toBe(1);
    expect(typeof read.upvotes).toBe('number');
    const page = await client.listComments(post.id);
    expect(page.comments[0]?.author).toBeNull();
  });
});

describe('verification signals, each on its own', () => {
  const signals: [string, unknown][] = [
    ['top-level verification_required', { success: true, verification_required: true, comment: { id: 'c1', content: 'x' } }],
    ['top-level verificationRequired as a string', { success: true, verificationRequired: 'true', comment: { id: 'c1', content: 'x' } }],
    ['verificationStatus pending only', { success: true, comment: { id: 'c1', content: 'x', verificationStatus: 'pending' } }],
    [
      'a camelCase challenge only, inside data',
      {
        success: true,
        data: { comment: { id: 'c1', content: 'x', verification: { verificationCode: 'vc_1', challengeText: '2+2?', expiresAt: '2026-03-01T12:05:00Z' } } },
      },
    ],
  ];

  it.each(signals)('%s → verificationPending', async (_name, body) => {
    const { fake, client } = await start();
    const post = fake.addPost({ title: 'P', content: 'p' });
    fake.failNext('POST', '/posts/*/comments', { status: 201, body });
    const created = await client.createComment(post.id, { content: 'x' });
    expect(created.verificationPending).toBe(true);
    expect(created.comment.id).toBe('c1');
  });

  it('no signal (or a verified status beside a challenge) → not pending', async () => {
    const { fake, client } = await start();
    const post = fake.addPost({ title: 'P', content: 'p' });
    fake.failNext('POST', '/posts/*/comments', { status: 201, body: { success: true, comment: { id: 'c1', content: 'x' } } });
    expect((await client.createComment(post.id, { content: 'x' })).verificationPending).toBe(false);

    fake.failNext('POST', '/posts/*/comments', {
      status: 201,
      body: {
        success: true,
        verification_required: false,
        comment: { id: 'c2', content: 'x', verification_status: 'verified', verification: { verification_code: 'vc', challenge_text: 'q' } },
      },
    });
    const verified = await client.createComment(post.id, { content: 'x' });
    expect(verified.verificationPending).toBe(false);
    expect(verified.verification?.verification_code).toBe('vc');
  });
});

describe('older and looser shapes', () => {
  it('reads the offset-paged post list and a bare data array', async () => {
    const { fake, client } = await start();
    fake.failNext('GET', '/posts', {
      status: 200,
      body: { success: true, posts: [{ id: 7, title: 'Old', upvotes: '3', downvotes: null }], count: '1', next_offset: 20, has_more: true },
    });
    const page = await client.listPosts();
    expect(page).toEqual({
      posts: [expect.objectContaining({ id: '7', title: 'Old', upvotes: 3, downvotes: 0, score: 3, content: '', author: null })],
      count: 1,
      hasMore: true,
      nextCursor: null,
      nextOffset: 20,
    });

    fake.failNext('GET', '/posts/*/comments', { status: 200, body: { success: true, data: [{ id: 'c', content: 'hi', author: { name: 'x' } }] } });
    const comments = await client.listComments('p');
    expect(comments).toEqual({ comments: [expect.objectContaining({ id: 'c', author: { id: null, name: 'x' }, replies: [] })], hasMore: false, nextCursor: null });
  });

  it('clamps similarity into 0–1 and reads a numeric string', async () => {
    const { fake, client } = await start();
    fake.failNext('GET', '/search', {
      status: 200,
      body: {
        success: true,
        results: [
          { id: 'a', type: 'post', content: 'x', similarity: '1.0000002' },
          { id: 'b', type: 'comment', content: 'y', similarity: -0.01, post_id: 'a' },
        ],
      },
    });
    const page = await client.search({ q: 'x' });
    expect(page.results.map((r) => r.similarity)).toEqual([1, 0]);
  });
});

describe('verification challenges in every shape', () => {
  it('reads the challenge on the entity, at the top level ({code, challenge}), and inside a 4xx body, and the X-RateLimit headers', async () => {
    const { fake, client } = await start({ limits: { writesPerMinute: 30 } });
    const post = fake.addPost({ author: 'crabby', title: 'P', content: 'x' });
    fake.setVerification(true);
    const onEntity = await client.createComment(post.id, { content: 'one' });
    expect(onEntity).toMatchObject({ verificationPending: true, verification: { verification_code: expect.stringMatching(/^moltbook_verify_/) } });
    expect(onEntity.rateLimit).toMatchObject({ limit: 30, remaining: 29, resetAt: expect.any(Date) });

    fake.failNext('POST', '/posts/*/comments', {
      status: 201,
      body: { success: true, verification_required: true, comment: { id: 'c-old', content: 'two' }, verification: { code: 'old-code', challenge: 'lobster math' } },
    });
    expect(await client.createComment(post.id, { content: 'two' })).toMatchObject({
      verificationPending: true,
      verification: { verification_code: 'old-code', challenge_text: 'lobster math' },
    });

    fake.failNext('POST', '/posts/*/comments', {
      status: 403,
      body: { success: false, error: 'Answer your pending challenge first', verification: { verification_code: 'pending-code', challenge_text: 'claw force' } },
    });
    const refused = await client.createComment(post.id, { content: 'three' }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 403, verification: { verification_code: 'pending-code', challenge_text: 'claw force' } });
  });
});
