/**
 * A fake Moltbook over real HTTP (node:http on 127.0.0.1, random port) for tests: the
 * documented endpoints and wire shapes, per-key rate limits on an injected clock, a
 * redirecting "bare host", wire-variant toggles and fault injection.
 *
 *   const fake = await startFakeMoltbook({ apiKey, agentName: 'opsbot' });
 *   const client = createMoltbookClient({ apiKey, baseUrl: fake.baseUrl });
 *   …
 *   await fake.close();
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '@opsloop/core';
import { FakeStore, type FakeAgent, type FakeCommentView, type FakePost, type FakeSearchSeed } from './fakeStore.ts';
import { FakeRateLimiter, type FakeLimits, type FakeReply } from './fakeRateLimits.ts';
import { FakeVerifier, type FakeChallenge, type FakeVerificationOptions } from './fakeVerification.ts';

const API_PREFIX = '/api/v1';
const REDIRECT_PREFIX = /^\/__redirect\/(301|302|307|308)(\/.*)$/;

export interface FakeWireMode {
  /**
   * Wrap successful bodies in `data`: `'named'` gives `{success, data: {post, …}}`,
   * `'direct'` gives `{success, data: <the post or list>, …rest}`. (Default: false)
   */
  dataWrapper: false | 'named' | 'direct';
  /** Send every count (upvotes, karma, comment_count, count, …) as a string. (Default: false) */
  stringCounts: boolean;
  /** Send `verificationStatus` instead of `verification_status`. (Default: false) */
  camelCaseVerification: boolean;
}

export interface FakeMoltbookOptions {
  /** The key of the main agent. */
  apiKey: string;
  /** The main agent's name. */
  agentName: string;
  /** Drives timestamps and rate limits. (Default: system clock) */
  clock?: Clock;
  /** Overrides of the documented limits; null disables one. (Default: DEFAULT_FAKE_LIMITS) */
  limits?: Partial<FakeLimits>;
  /** (Default: plain named keys, numeric counts, snake_case) */
  wire?: Partial<FakeWireMode>;
  /** Attach a verification challenge to every created post and comment. (Default: false) */
  verification?: boolean;
  /** Challenge expiry, `always_wrong` mode, suspension after failures and its shape. */
  verificationOptions?: Partial<FakeVerificationOptions>;
}

/** What the next matching request gets instead of (or on top of) normal handling. */
export type FakeFault = (
  | {
      /** Answer this status without applying anything. A string body is sent verbatim (not as JSON). */
      status: number;
      body?: unknown;
      headers?: Record<string, string>;
    }
  | { /** Wait this long (real time) before handling normally. */ delayMs: number }
  | { /** Handle normally (the write lands), then destroy the socket without answering. */ dropAfterApply: true }
) & {
  /** How many matching requests get this fault. (Default: 1) */
  times?: number;
};

export interface FakeRequest {
  method: string;
  /** Path below /api/v1 (the raw path for redirect-prefix requests), without the query. */
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** Whether the request carried a known key. The header itself is never recorded. */
  authorized: boolean;
  /** Null while in flight, or when the socket was dropped. */
  status: number | null;
  dropped: boolean;
  at: string;
}

export interface FakeMoltbook {
  /** `http://127.0.0.1:<port>/api/v1` */
  readonly baseUrl: string;
  /** The main agent (the one `apiKey` belongs to). */
  readonly agent: FakeAgent;
  /** Every request received, oldest first. */
  readonly requests: FakeRequest[];
  /** A base URL that answers every request with a redirect to `baseUrl`, as moltbook.com does to www. */
  redirectingBaseUrl(status?: 301 | 302 | 307 | 308): string;
  setLimits(limits: Partial<FakeLimits>): void;
  setWireMode(mode: Partial<FakeWireMode>): void;
  setVerification(enabled: boolean): void;
  /** Changes how challenges are judged and when the agent is suspended. */
  setVerificationOptions(options: Partial<FakeVerificationOptions>): void;
  /** The next challenge issued has this text and answer (then generated ones again). */
  scriptChallenge(challenge: { text: string; answer: string }): void;
  /** Every challenge issued, oldest first, with every answer submitted for it. */
  challenges(): FakeChallenge[];
  /** Suspends the main agent now: its writes answer the documented 401 (or 403) shape. */
  suspend(hours: number, status?: 401 | 403): void;
  unsuspend(): void;
  /** Outage mode: comments are listed with `author: null`. */
  setNullAuthors(enabled: boolean): void;
  /** `pathPattern` is matched against the path below /api/v1: a string (`*` = one segment) or a RegExp. */
  failNext(method: string, pathPattern: string | RegExp, fault: FakeFault): void;
  addAgent(input: { name: string; apiKey?: string; description?: string; karma?: number }): FakeAgent;
  /** A post by another agent (or the main one). `author: null` stores an author-less post. */
  addPost(input: { author?: string | null; title: string; content: string; submolt?: string }): FakePost;
  /** Another agent comments (or replies, with `parentId`). `author: null` stores `author: null`. */
  addComment(postId: string, input: { author: string | null; content: string; parentId?: string }): FakeCommentView;
  /** Fixes the results `GET /search?q=<query>` returns (before type filter and limit). */
  seedSearchResults(query: string, results: FakeSearchSeed[]): void;
  post(id: string): FakePost | undefined;
  /** Every comment on a post, replies included, oldest first. */
  commentsOn(postId: string): FakeCommentView[];
  /** Direct replies to a comment, oldest first. */
  repliesTo(commentId: string): FakeCommentView[];
  close(): Promise<void>;
}

type Wire = Record<string, unknown>;

interface PendingFault {
  method: string;
  pattern: RegExp;
  fault: FakeFault;
  remaining: number;
}

interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  agent: FakeAgent;
}

const COUNT_KEYS = new Set([
  'upvotes',
  'downvotes',
  'score',
  'comment_count',
  'karma',
  'follower_count',
  'following_count',
  'count',
  'unread_notification_count',
  'new_notification_count',
]);
const ENTITY_KEYS = ['post', 'comment', 'comments', 'posts', 'results', 'agent'];

export async function startFakeMoltbook(options: FakeMoltbookOptions): Promise<FakeMoltbook> {
  const clock = options.clock ?? systemClock;
  const store = new FakeStore(clock);
  const limiter = new FakeRateLimiter(clock, options.limits);
  const mainAgent = store.addAgent({ name: options.agentName, apiKey: options.apiKey, karma: 42 });
  const verifier = new FakeVerifier(clock, options.verificationOptions, (c) => {
    const entity = c.entityType === 'post' ? store.posts.get(c.entityId) : store.comments.get(c.entityId);
    if (entity) entity.verification_status = 'verified';
  });
  let wire: FakeWireMode = { dataWrapper: false, stringCounts: false, camelCaseVerification: false, ...options.wire };
  let verification = options.verification ?? false;
  const faults: PendingFault[] = [];
  const requests: FakeRequest[] = [];
  const pendingDelays = new Set<() => void>();
  let closed = false;

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent || res.destroyed) return;
      send(res, { status: 500, body: { success: false, error: `fake server bug: ${String(error)}` } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    const entry: FakeRequest = {
      method,
      path: url.pathname.startsWith(API_PREFIX) ? url.pathname.slice(API_PREFIX.length) || '/' : url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: raw.json,
      authorized: false,
      status: null,
      dropped: false,
      at: clock.now().toISOString(),
    };
    requests.push(entry);

    const redirect = REDIRECT_PREFIX.exec(url.pathname);
    if (redirect) {
      entry.status = Number(redirect[1]);
      res.writeHead(entry.status, { Location: `${origin}${redirect[2]}${url.search}` });
      res.end();
      return;
    }

    const fault = takeFault(method, entry.path);
    if (fault && 'status' in fault) {
      entry.status = fault.status;
      send(res, { status: fault.status, body: fault.body ?? { success: false, error: 'Internal server error' }, headers: fault.headers });
      return;
    }
    if (fault && 'delayMs' in fault) {
      await delay(fault.delayMs);
      if (closed) return;
    }

    const agent = store.agentByKey(bearer(req.headers.authorization) ?? '');
    entry.authorized = agent !== undefined;
    let reply: FakeReply;
    if (!url.pathname.startsWith(API_PREFIX)) {
      reply = notFound(method, url.pathname);
    } else if (!agent) {
      reply = { status: 401, body: { success: false, error: 'Authentication required' } };
    } else if (raw.invalid) {
      reply = badRequest(['Body must be valid JSON'], url.pathname);
    } else {
      verifier.sweep();
      const suspended = method === 'GET' ? null : verifier.suspended(agent.id);
      const window = limiter.hit(agent.apiKey ?? agent.id, method === 'GET' ? 'read' : 'write');
      reply = suspended ?? window.rejection ?? route({ method, path: entry.path, query: url.searchParams, body: raw.json, agent });
      reply = { ...reply, headers: { ...window.headers, ...reply.headers } };
    }

    entry.status = reply.status;
    if (fault && 'dropAfterApply' in fault) {
      entry.status = null;
      entry.dropped = true;
      req.socket.destroy();
      return;
    }
    send(res, reply.status < 300 ? { ...reply, body: applyWire(reply.body as Wire, wire) } : reply);
  }

  function route(call: Call): FakeReply {
    const { method, path } = call;
    const key = `${method} ${path}`;
    if (key === 'GET /agents/me') return ok({ agent: store.renderAgent(call.agent) });
    if (key === 'GET /agents/profile') return profile(call);
    if (key === 'GET /home') return ok(store.home(call.agent));
    if (key === 'GET /feed' || key === 'GET /posts') return listPosts(call);
    if (key === 'POST /posts') return createPost(call);
    if (key === 'GET /search') return search(call);
    if (key === 'POST /verify') return verifier.verify(call.agent.id, (call.body ?? {}) as Wire);
    const postPath = /^\/posts\/([^/]+)(\/comments)?$/.exec(path);
    if (postPath) {
      const post = store.posts.get(decodeURIComponent(postPath[1] ?? ''));
      if (!post) return { status: 404, body: { success: false, error: 'Post not found', hint: 'Check the post id' } };
      if (!postPath[2] && method === 'GET') return ok({ post: store.renderPost(post) });
      if (postPath[2] && method === 'GET') return listComments(call, post);
      if (postPath[2] && method === 'POST') return createComment(call, post);
    }
    return notFound(method, `${API_PREFIX}${path}`);
  }

  function profile(call: Call): FakeReply {
    const name = call.query.get('name');
    if (!name) return badRequest(['name should not be empty'], `${API_PREFIX}/agents/profile`);
    const agent = store.agentByName(name);
    if (!agent) return { status: 404, body: { success: false, error: 'Agent not found', hint: `No agent named ${name}` } };
    const posts = store.sortedPosts('new').filter((p) => p.author_id === agent.id);
    const comments = [...store.comments.values()].filter((c) => c.author_id === agent.id).sort((a, b) => b.seq - a.seq);
    return ok({
      agent: store.renderAgent(agent),
      recentPosts: posts.slice(0, 5).map((p) => store.renderPost(p)),
      recentComments: comments.slice(0, 5).map((c) => store.renderComment(c, false)),
    });
  }

  function listPosts(call: Call): FakeReply {
    const page = paging(call.query, 25, 100);
    if ('status' in page) return page;
    const posts = store.sortedPosts(call.query.get('sort') ?? 'hot', call.query.get('submolt') ?? undefined);
    const slice = posts.slice(page.offset, page.offset + page.limit);
    const more = page.offset + slice.length < posts.length;
    return ok({
      posts: slice.map((p) => store.renderPost(p)),
      count: slice.length,
      has_more: more,
      next_cursor: more ? encodeCursor(page.offset + slice.length) : null,
    });
  }

  function createPost(call: Call): FakeReply {
    const body = (call.body ?? {}) as Wire;
    const submolt = str(body.submolt_name) ?? str(body.submolt);
    const title = str(body.title);
    const content = typeof body.content === 'string' ? body.content : '';
    const problems: string[] = [];
    if (!submolt) problems.push('submolt_name should not be empty');
    if (!title) problems.push('title should not be empty');
    if (title && title.length > 300) problems.push('title must be shorter than or equal to 300 characters');
    if (content.length > 40_000) problems.push('content must be shorter than or equal to 40000 characters');
    if (problems.length > 0) return badRequest(problems, `${API_PREFIX}/posts`);
    const key = call.agent.apiKey ?? call.agent.id;
    const limited = limiter.checkPost(key);
    if (limited) return limited;
    const post = store.addPost({
      author_id: call.agent.id,
      title: title ?? '',
      content,
      submolt: submolt ?? 'general',
      type: body.type === 'link' || body.type === 'image' ? body.type : 'text',
      url: str(body.url) ?? null,
      pending: verification,
    });
    limiter.recordPost(key);
    const rendered = store.renderPost(post);
    return created({ message: 'Post created', post: rendered }, call.agent.id, post.id);
  }

  function listComments(call: Call, post: FakePost): FakeReply {
    const page = paging(call.query, 20, 100);
    if ('status' in page) return page;
    const top = store.topLevelComments(post.id, call.query.get('sort') ?? 'best').filter((c) => store.visibleTo(c, call.agent.id));
    const slice = top.slice(page.offset, page.offset + page.limit);
    const more = page.offset + slice.length < top.length;
    return ok({
      comments: slice.map((c) => store.renderComment(c, true, call.agent.id)),
      has_more: more,
      next_cursor: more ? encodeCursor(page.offset + slice.length) : null,
    });
  }

  function createComment(call: Call, post: FakePost): FakeReply {
    const body = (call.body ?? {}) as Wire;
    const content = str(body.content);
    if (!content) return badRequest(['content should not be empty'], `${API_PREFIX}/posts/${post.id}/comments`);
    const parentId = str(body.parent_id) ?? null;
    if (parentId) {
      const parent = store.comments.get(parentId);
      if (!parent || parent.post_id !== post.id) return { status: 404, body: { success: false, error: 'Parent comment not found' } };
    }
    const key = call.agent.apiKey ?? call.agent.id;
    const limited = limiter.checkComment(key);
    if (limited) return limited;
    const comment = store.addComment({ post_id: post.id, author_id: call.agent.id, content, parent_id: parentId, pending: verification });
    limiter.recordComment(key);
    return created({ message: 'Comment created', comment: store.renderComment(comment) }, call.agent.id, comment.id);
  }

  function search(call: Call): FakeReply {
    const q = call.query.get('q') ?? '';
    const type = call.query.get('type') ?? 'all';
    const problems: string[] = [];
    if (!q.trim()) problems.push('q should not be empty');
    if (q.length > 500) problems.push('q must be shorter than or equal to 500 characters');
    if (!['posts', 'comments', 'all'].includes(type)) problems.push('type must be one of: posts, comments, all');
    const limit = Number(call.query.get('limit') ?? 20);
    if (!Number.isInteger(limit) || limit < 1 || limit > 50) problems.push('limit must be between 1 and 50');
    if (problems.length > 0) return badRequest(problems, `${API_PREFIX}/search`);
    const results = store.search(q, type, limit);
    return ok({ query: q, type, results, count: results.length, has_more: false, next_cursor: null });
  }

  /** A 201 for new content, with a challenge attached in verification mode. */
  function created(body: { message: string; post?: Wire; comment?: Wire }, agentId: string, entityId: string): FakeReply {
    if (!verification) return { status: 201, body: { success: true, ...body } };
    const challenge = verifier.wire(verifier.issue(agentId, body.post ? 'post' : 'comment', entityId));
    const entity = body.post ? { post: { ...body.post, verification: challenge } } : { comment: { ...body.comment, verification: challenge } };
    return { status: 201, body: { success: true, message: body.message, ...entity, verification_required: true } };
  }

  function takeFault(method: string, path: string): FakeFault | undefined {
    const index = faults.findIndex((f) => f.method === method && f.pattern.test(path));
    const found = faults[index];
    if (!found) return undefined;
    found.remaining -= 1;
    if (found.remaining <= 0) faults.splice(index, 1);
    return found.fault;
  }

  function delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        pendingDelays.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      pendingDelays.add(done);
    });
  }

  return {
    baseUrl: `${origin}${API_PREFIX}`,
    agent: mainAgent,
    requests,
    redirectingBaseUrl: (status = 301) => `${origin}/__redirect/${status}${API_PREFIX}`,
    setLimits: (limits) => limiter.setLimits(limits),
    setWireMode: (mode) => {
      wire = { ...wire, ...mode };
    },
    setVerification: (enabled) => {
      verification = enabled;
    },
    setVerificationOptions: (o) => {
      verifier.options = { ...verifier.options, ...o };
    },
    challenges: () => [...verifier.challenges.values()],
    scriptChallenge: (c) => {
      verifier.scripted.push(c);
    },
    suspend: (hours, status) => {
      if (status) verifier.options = { ...verifier.options, suspensionStatus: status };
      verifier.suspend(mainAgent.id, hours);
    },
    unsuspend: () => verifier.unsuspend(mainAgent.id),
    setNullAuthors: (enabled) => {
      store.nullAuthors = enabled;
    },
    failNext(method, pathPattern, fault) {
      const pattern = typeof pathPattern === 'string' ? globToRegExp(pathPattern) : pathPattern;
      faults.push({ method: method.toUpperCase(), pattern, fault, remaining: fault.times ?? 1 });
    },
    addAgent: (input) => store.addAgent(input),
    addPost(input) {
      const author = input.author === undefined ? mainAgent.id : store.authorId(input.author);
      return { ...store.addPost({ author_id: author, title: input.title, content: input.content, submolt: input.submolt ?? 'general' }) };
    },
    addComment(postId, input) {
      if (!store.posts.has(postId)) throw new Error(`fake Moltbook has no post ${postId}`);
      if (input.parentId && store.comments.get(input.parentId)?.post_id !== postId) {
        throw new Error(`fake Moltbook has no comment ${input.parentId} on post ${postId}`);
      }
      const comment = store.addComment({
        post_id: postId,
        author_id: store.authorId(input.author),
        content: input.content,
        parent_id: input.parentId ?? null,
      });
      return store.view(comment);
    },
    seedSearchResults: (query, results) => {
      store.seededSearch.set(query, results);
    },
    post: (id) => {
      const post = store.posts.get(id);
      return post ? { ...post } : undefined;
    },
    commentsOn: (postId) => store.commentsOn(postId).map((c) => store.view(c)),
    repliesTo: (commentId) => store.repliesTo(commentId).map((c) => store.view(c)),
    async close() {
      if (closed) return;
      closed = true;
      for (const done of [...pendingDelays]) done();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

// ---- helpers ------------------------------------------------------------------------------

function bearer(header: string | undefined): string | undefined {
  return header ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value : undefined;
}

const ok = (body: Wire): FakeReply => ({ status: 200, body: { success: true, ...body } });

const badRequest = (message: string[], path: string): FakeReply => ({
  status: 400,
  body: { statusCode: 400, message, error: 'Bad Request', path },
});

const notFound = (method: string, path: string): FakeReply => ({
  status: 404,
  body: { statusCode: 404, message: `Cannot ${method} ${path}`, error: 'Not Found' },
});

const encodeCursor = (offset: number): string => Buffer.from(JSON.stringify({ o: offset })).toString('base64url');

function paging(query: URLSearchParams, defaultLimit: number, maxLimit: number): { offset: number; limit: number } | FakeReply {
  const limit = Number(query.get('limit') ?? defaultLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) {
    return badRequest([`limit must be between 1 and ${maxLimit}`], 'limit');
  }
  const cursor = query.get('cursor');
  if (!cursor) return { offset: 0, limit };
  try {
    const offset = (JSON.parse(Buffer.from(cursor, 'base64url').toString()) as { o?: unknown }).o;
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return { offset, limit };
  } catch {
    // fall through to the 400
  }
  return badRequest(['cursor is invalid'], 'cursor');
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  return new RegExp(`^${escaped}$`);
}

async function readBody(req: http.IncomingMessage): Promise<{ json: unknown; invalid: boolean }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return { json: undefined, invalid: false };
  try {
    return { json: JSON.parse(text) as unknown, invalid: false };
  } catch {
    return { json: text, invalid: true };
  }
}

function send(res: http.ServerResponse, reply: FakeReply): void {
  if (res.destroyed) return;
  const verbatim = typeof reply.body === 'string';
  const body = verbatim ? (reply.body as string) : JSON.stringify(reply.body);
  const type = verbatim ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8';
  res.writeHead(reply.status, { 'Content-Type': type, ...reply.headers });
  res.end(body);
}

function mapDeep(value: unknown, fn: (key: string, value: unknown) => [string, unknown]): unknown {
  if (Array.isArray(value)) return value.map((v) => mapDeep(v, fn));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => fn(k, mapDeep(v, fn))));
}

/** Re-shapes a success body into one of the wire variants the live API has shown. */
function applyWire(body: Wire, mode: FakeWireMode): unknown {
  let out = body;
  if (mode.camelCaseVerification) {
    out = mapDeep(out, (k, v) => [k === 'verification_status' ? 'verificationStatus' : k, v]) as Wire;
  }
  if (mode.stringCounts) {
    out = mapDeep(out, (k, v) => [k, COUNT_KEYS.has(k) && typeof v === 'number' ? String(v) : v]) as Wire;
  }
  if (mode.dataWrapper === 'named') {
    const { success, ...rest } = out;
    return { success, data: rest };
  }
  if (mode.dataWrapper === 'direct') {
    const key = ENTITY_KEYS.find((k) => k in out);
    const { success, ...rest } = out;
    if (!key) return { success, data: rest };
    const { [key]: entity, ...others } = rest;
    return { success, data: entity, ...others };
  }
  return out;
}
