import { describe, expect, it } from 'vitest';
import { flattenComments, MoltbookApiError } from '../src/index.ts';
import { AGENT, rejectionOf, requestsTo, useFakeMoltbook } from './helpers.ts';

const start = useFakeMoltbook();

describe('Moltbook client calls against the fake over HTTP', () => {
  it('createPost sends the documented body and returns the normalised post', async () => {
    const { fake, client } = await start();
    const created = await client.createPost({ submolt_name: 'aiagents', title: 'Hello', content: 'First post' });

    expect(created.verificationPending).toBe(false);
    expect(created.verification).toBeNull();
    expect(created.post).toMatchObject({
      title: 'Hello',
      content: 'First post',
      type: 'text',
      author: { id: fake.agent.id, name: AGENT },
      submolt: { name: 'aiagents' },
      upvotes: 0,
      comment_count: 0,
      verification_status: 'verified',
    });
    expect(fake.post(created.post.id)?.title).toBe('Hello');
    const [request] = requestsTo(fake, 'POST', '/posts');
    expect(request?.body).toEqual({ submolt_name: 'aiagents', title: 'Hello', content: 'First post' });
    expect(request?.authorized).toBe(true);
  });

  it('getPost reads a post back; an unknown id is a 404 MoltbookApiError with the hint', async () => {
    const { fake, client } = await start();
    const post = fake.addPost({ author: 'crabby', title: 'On molting', content: 'It itches' });
    fake.addComment(post.id, { author: 'shelly', content: 'same' });

    const read = await client.getPost(post.id);
    expect(read).toMatchObject({ id: post.id, title: 'On molting', author: { name: 'crabby' }, comment_count: 1, score: 0 });

    const error = await rejectionOf(client.getPost('no-such-post'));
    expect(error).toBeInstanceOf(MoltbookApiError);
    expect(error).toMatchObject({ status: 404, serverMessage: 'Post not found', hint: 'Check the post id' });
  });

  it('createComment posts top-level comments and replies with parent_id', async () => {
    const { fake, client } = await start();
    const post = fake.addPost({ title: 'Mine', content: 'my post' });
    const theirs = fake.addComment(post.id, { author: 'crabby', content: 'nice post' });

    const top = await client.createComment(post.id, { content: 'thanks all' });
    const reply = await client.createComment(post.id, { content: 'thank you, crabby', parent_id: theirs.id });

    expect(top).toMatchObject({ verificationPending: false, comment: { parent_id: null, post_id: post.id, author: { name: AGENT } } });
    expect(reply.comment).toMatchObject({ parent_id: theirs.id, content: 'thank you, crabby', replies: [] });
    expect(fake.repliesTo(theirs.id).map((c) => c.id)).toEqual([reply.comment.id]);
    expect(fake.commentsOn(post.id)).toHaveLength(3);
    expect(requestsTo(fake, 'POST', `/posts/${post.id}/comments`).map((r) => r.body)).toEqual([
      { content: 'thanks all' },
      { content: 'thank you, crabby', parent_id: theirs.id },
    ]);
  });

  it('a reply to a comment of another post is refused by the fake', async () => {
    const { fake, client } = await start();
    const a = fake.addPost({ title: 'A', content: 'a' });
    const b = fake.addPost({ title: 'B', content: 'b' });
    const onA = fake.addComment(a.id, { author: 'crabby', content: 'on a' });
    const error = await rejectionOf(client.createComment(b.id, { content: 'x', parent_id: onA.id }));
    expect(error).toMatchObject({ status: 404, serverMessage: 'Parent comment not found' });
    expect(fake.commentsOn(b.id)).toEqual([]);
  });

  it('listComments pages top-level comments newest first; replies arrive nested', async () => {
    const { fake, client, clock } = await start();
    const post = fake.addPost({ title: 'Thread', content: 'talk' });
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) {
      clock.advance(60_000);
      ids.push(fake.addComment(post.id, { author: `agent${i}`, content: `comment ${i}` }).id);
    }
    const reply = fake.addComment(post.id, { author: 'agent9', content: 'reply to 5', parentId: ids[4] });
    const nested = fake.addComment(post.id, { author: null, content: 'reply to reply', parentId: reply.id });

    const first = await client.listComments(post.id, { sort: 'new', limit: 2 });
    expect(first.comments.map((c) => c.content)).toEqual(['comment 5', 'comment 4']);
    expect(first.hasMore).toBe(true);
    expect(first.nextCursor).toEqual(expect.any(String));
    expect(first.comments[0]?.replies).toMatchObject([
      { id: reply.id, parent_id: ids[4], author: { name: 'agent9' }, replies: [{ id: nested.id, author: null }] },
    ]);
    expect(requestsTo(fake, 'GET', `/posts/${post.id}/comments`)[0]?.query).toEqual({ sort: 'new', limit: '2' });

    const second = await client.listComments(post.id, { sort: 'new', limit: 2, cursor: first.nextCursor ?? undefined });
    expect(second.comments.map((c) => c.content)).toEqual(['comment 3', 'comment 2']);

    const all = await client.listAllComments(post.id, { limit: 2 });
    expect(all.map((c) => c.content)).toEqual(['comment 5', 'comment 4', 'comment 3', 'comment 2', 'comment 1']);
    expect(requestsTo(fake, 'GET', `/posts/${post.id}/comments`)).toHaveLength(2 + 3);

    const flat = flattenComments(all);
    expect(flat.map((c) => c.content)).toEqual(['comment 5', 'reply to 5', 'reply to reply', 'comment 4', 'comment 3', 'comment 2', 'comment 1']);
  });

  it('listAllComments stops at maxPages', async () => {
    const { fake, client } = await start();
    const post = fake.addPost({ title: 'Busy', content: 'busy' });
    for (let i = 0; i < 5; i++) fake.addComment(post.id, { author: 'crabby', content: `c${i}` });
    const some = await client.listAllComments(post.id, { limit: 1, maxPages: 3 });
    expect(some).toHaveLength(3);
  });

  it('getHome reports activity by others on my posts', async () => {
    const { fake, client, clock } = await start();
    const mine = fake.addPost({ title: 'My post', content: 'mine' });
    fake.addPost({ author: 'crabby', title: 'Not mine', content: 'theirs' });
    fake.addComment(mine.id, { author: 'crabby', content: 'first!' });
    clock.advance(1_000);
    fake.addComment(mine.id, { author: 'shelly', content: 'I agree with crabby' });

    const home = await client.getHome();
    expect(home.your_account).toEqual({ name: AGENT, karma: 42, unread_notification_count: 2 });
    expect(home.activity_on_your_posts).toEqual([
      {
        post_id: mine.id,
        post_title: 'My post',
        new_notification_count: 2,
        latest_at: '2026-03-01T12:00:01.000Z',
        latest_commenters: ['shelly', 'crabby'],
        preview: 'I agree with crabby',
      },
    ]);
  });

  it('getFeed and listPosts page and filter posts', async () => {
    const { fake, client, clock } = await start();
    for (const [i, submolt] of ['general', 'aiagents', 'general'].entries()) {
      clock.advance(1_000);
      fake.addPost({ author: 'crabby', title: `post ${i}`, content: 'x', submolt });
    }
    const feed = await client.getFeed({ sort: 'new', limit: 2 });
    expect(feed.posts.map((p) => p.title)).toEqual(['post 2', 'post 1']);
    expect(feed).toMatchObject({ count: 2, hasMore: true, nextOffset: null });
    expect(requestsTo(fake, 'GET', '/feed')[0]?.query).toEqual({ sort: 'new', limit: '2' });

    const general = await client.listPosts({ sort: 'new', limit: 10, submolt: 'general' });
    expect(general.posts.map((p) => p.title)).toEqual(['post 2', 'post 0']);
    expect(general.hasMore).toBe(false);
    expect(general.nextCursor).toBeNull();
  });

  it('search returns results with similarity between 0 and 1, best first, filtered by type', async () => {
    const { fake, client } = await start();
    const post = fake.addPost({ author: 'crabby', title: 'Memory for agents', content: 'How agents keep long term memory' });
    fake.addPost({ author: 'shelly', title: 'Cooking', content: 'Lobster bisque recipe' });
    fake.addComment(post.id, { author: 'shelly', content: 'memory is hard' });

    const all = await client.search({ q: 'agent memory', type: 'all', limit: 10 });
    expect(all.results.length).toBe(2);
    for (const result of all.results) {
      expect(result.similarity).toBeGreaterThan(0);
      expect(result.similarity).toBeLessThanOrEqual(1);
    }
    expect(all.results.map((r) => r.similarity)).toEqual([...all.results.map((r) => r.similarity)].sort((a, b) => b - a));

    const comments = await client.search({ q: 'memory', type: 'comments', limit: 10 });
    expect(comments.results).toMatchObject([{ type: 'comment', post_id: post.id, post: { id: post.id }, author: { name: 'shelly' } }]);
    expect(comments).toMatchObject({ query: 'memory', type: 'comments', count: 1 });
  });

  it('search returns seeded results as given, including author-less ones', async () => {
    const { fake, client } = await start();
    fake.seedSearchResults('lonely agents', [
      { type: 'post', title: 'I feel alone', content: 'nobody replies', similarity: 0.91, author: 'sadbot' },
      { type: 'comment', content: 'same here', similarity: 0.42, author: null, post_id: 'p-1' },
      { type: 'post', title: 'Unrelated', content: 'x', similarity: 0.05 },
    ]);
    const page = await client.search({ q: 'lonely agents', limit: 2 });
    expect(page.results).toMatchObject([
      { type: 'post', title: 'I feel alone', similarity: 0.91, author: { id: null, name: 'sadbot' } },
      { type: 'comment', title: null, similarity: 0.42, author: null, post_id: 'p-1' },
    ]);
  });

  it('getMe and getProfile describe agents; an unknown profile is a 404', async () => {
    const { fake, client } = await start();
    fake.addPost({ author: 'crabby', title: 'Crab post', content: 'c' });
    const me = await client.getMe();
    expect(me).toMatchObject({ id: fake.agent.id, name: AGENT, karma: 42, is_claimed: true, follower_count: 0 });

    const profile = await client.getProfile('crabby');
    expect(profile.agent.name).toBe('crabby');
    expect(profile.recent_posts.map((p) => p.title)).toEqual(['Crab post']);
    expect(profile.recent_comments).toEqual([]);
    expect(requestsTo(fake, 'GET', '/agents/profile')[0]?.query).toEqual({ name: 'crabby' });

    const error = await rejectionOf(client.getProfile('ghost'));
    expect(error).toMatchObject({ status: 404, serverMessage: 'Agent not found' });
  });

  it('content created under verification is reported as verificationPending with the challenge', async () => {
    const { fake, client } = await start({ verification: true });
    const created = await client.createPost({ submolt_name: 'general', title: 'T', content: 'C' });
    expect(created.verificationPending).toBe(true);
    expect(created.verification).toMatchObject({
      verification_code: expect.stringMatching(/^moltbook_verify_/),
      challenge_text: expect.any(String),
      expires_at: '2026-03-01T12:05:00.000Z',
      instructions: expect.stringContaining('/verify'),
    });
    expect(created.post.verification_status).toBe('pending');

    const comment = await client.createComment(created.post.id, { content: 'hi' });
    expect(comment.verificationPending).toBe(true);
    expect(comment.verification?.verification_code).toMatch(/^moltbook_verify_/);
    expect(fake.commentsOn(created.post.id)[0]?.verification_status).toBe('pending');
    expect(requestsTo(fake, 'POST', '/verify')).toEqual([]);
  });
});
