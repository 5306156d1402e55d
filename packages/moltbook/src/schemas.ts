/**
 * Response schemas. Each one accepts every variant of the wire seen so far and outputs
 * the one normalised shape documented in types.ts.
 */
import { z } from 'zod';
import type {
  Agent,
  AuthorRef,
  Comment,
  CommentPage,
  CreatedComment,
  CreatedPost,
  Home,
  Post,
  PostPage,
  Profile,
  SearchPage,
  SearchResult,
  SubmoltRef,
  VerificationChallenge,
} from './types.ts';

// ---- Envelope: named keys at the top level or inside `data` ----------------------------

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The body itself, then its `data` object if it has one. */
function layers(body: unknown): Json[] {
  if (!isObject(body)) return [];
  return isObject(body.data) ? [body, body.data] : [body];
}

/** The first non-null value under any of `keys`, in the body or its `data` wrapper. */
export function pickField(body: unknown, ...keys: string[]): unknown {
  for (const layer of layers(body)) {
    for (const key of keys) {
      if (layer[key] !== undefined && layer[key] !== null) return layer[key];
    }
  }
  return undefined;
}

/** An entity under its name (`post`), else `data` itself, else the body itself. */
function pickEntity(body: unknown, key: string): unknown {
  const named = pickField(body, key);
  if (named !== undefined) return named;
  if (isObject(body) && isObject(body.data)) return body.data;
  return body;
}

/** A list under its name (`comments`), else a `data` array. */
function pickList(body: unknown, ...keys: string[]): unknown {
  const named = pickField(body, ...keys);
  if (named !== undefined) return named;
  if (isObject(body) && Array.isArray(body.data)) return body.data;
  return undefined;
}

// ---- Field helpers ------------------------------------------------------------------------

const id = z.union([z.string().min(1), z.number()]).transform(String);

/** A count: numbers or numeric strings; missing means 0. */
const count = z.preprocess((v) => (v === undefined || v === null || v === '' ? 0 : v), z.coerce.number());

const optionalCount = z.preprocess((v) => (v === undefined || v === '' ? null : v), z.coerce.number().nullable());

const text = z
  .string()
  .nullish()
  .transform((v) => v ?? '');

const optionalText = z
  .string()
  .nullish()
  .transform((v) => v ?? null);

const timestamp = z
  .union([z.string(), z.number()])
  .nullish()
  .transform((v) => (v === undefined || v === null ? null : typeof v === 'number' ? new Date(v).toISOString() : v));

const flag = z
  .union([z.boolean(), z.literal('true'), z.literal('false')])
  .nullish()
  .transform((v) => (v === undefined || v === null ? null : v === true || v === 'true'));

const authorRef = z
  .union([z.object({ id: id.nullish(), name: z.string().nullish() }), z.string()])
  .nullish()
  .transform((v): AuthorRef | null => {
    if (typeof v === 'string') return v ? { id: null, name: v } : null;
    return v?.name ? { id: v.id ?? null, name: v.name } : null;
  });

const submoltRef = z
  .union([z.object({ id: id.nullish(), name: z.string().nullish(), display_name: z.string().nullish() }), z.string()])
  .nullish()
  .transform((v): SubmoltRef | null => {
    if (typeof v === 'string') return v ? { id: null, name: v, display_name: null } : null;
    return v?.name ? { id: v.id ?? null, name: v.name, display_name: v.display_name ?? null } : null;
  });

export const verificationChallengeSchema = z
  .object({
    verification_code: z.string().nullish(),
    verificationCode: z.string().nullish(),
    code: z.string().nullish(),
    challenge_text: z.string().nullish(),
    challengeText: z.string().nullish(),
    challenge: z.string().nullish(),
    expires_at: timestamp,
    expiresAt: timestamp,
    instructions: z.string().nullish(),
  })
  .nullish()
  .transform((v): VerificationChallenge | null => {
    const code = v?.verification_code ?? v?.verificationCode ?? v?.code;
    if (!v || !code) return null;
    return {
      verification_code: code,
      challenge_text: v.challenge_text ?? v.challengeText ?? v.challenge ?? '',
      expires_at: v.expires_at ?? v.expiresAt ?? null,
      instructions: v.instructions ?? null,
    };
  });

/** Fields shared by posts and comments: votes, time, and verification in either casing. */
const contentFields = {
  id,
  content: text,
  author: authorRef,
  author_id: id.nullish(),
  upvotes: count,
  downvotes: count,
  score: optionalCount,
  created_at: timestamp,
  verification_status: z.string().nullish(),
  verificationStatus: z.string().nullish(),
  verification: verificationChallengeSchema,
};

type ContentRaw = z.output<z.ZodObject<typeof contentFields>>;

function normaliseContent(raw: ContentRaw) {
  const author = raw.author && !raw.author.id && raw.author_id ? { ...raw.author, id: raw.author_id } : raw.author;
  return {
    id: raw.id,
    content: raw.content,
    author,
    upvotes: raw.upvotes,
    downvotes: raw.downvotes,
    score: raw.score ?? raw.upvotes - raw.downvotes,
    created_at: raw.created_at,
    verification_status: raw.verification_status ?? raw.verificationStatus ?? null,
    verification: raw.verification,
  };
}

// ---- Entities -----------------------------------------------------------------------------

export const postSchema: z.ZodType<Post> = z
  .object({
    ...contentFields,
    title: text,
    type: optionalText,
    url: optionalText,
    submolt: submoltRef,
    submolt_name: z.string().nullish(),
    comment_count: count,
  })
  .transform((raw) => {
    const base = normaliseContent(raw);
    return {
      id: base.id,
      title: raw.title,
      content: base.content,
      type: raw.type,
      url: raw.url,
      author: base.author,
      submolt: raw.submolt ?? (raw.submolt_name ? { id: null, name: raw.submolt_name, display_name: null } : null),
      upvotes: base.upvotes,
      downvotes: base.downvotes,
      score: base.score,
      comment_count: raw.comment_count,
      created_at: base.created_at,
      verification_status: base.verification_status,
      verification: base.verification,
    };
  });

export const commentSchema: z.ZodType<Comment> = z.lazy(() =>
  z
    .object({
      ...contentFields,
      post_id: id.nullish(),
      parent_id: id.nullish(),
      replies: z.array(commentSchema).nullish(),
    })
    .transform((raw) => {
      const base = normaliseContent(raw);
      return {
        id: base.id,
        post_id: raw.post_id ?? null,
        parent_id: raw.parent_id ?? null,
        content: base.content,
        author: base.author,
        upvotes: base.upvotes,
        downvotes: base.downvotes,
        score: base.score,
        created_at: base.created_at,
        verification_status: base.verification_status,
        verification: base.verification,
        replies: raw.replies ?? [],
      };
    }),
);

export const agentSchema: z.ZodType<Agent> = z
  .object({
    id: id.nullish(),
    name: z.string().min(1),
    description: optionalText,
    karma: count,
    follower_count: optionalCount,
    following_count: optionalCount,
    is_claimed: flag,
    created_at: timestamp,
    last_active: timestamp,
  })
  .transform((raw) => ({
    id: raw.id ?? null,
    name: raw.name,
    description: raw.description,
    karma: raw.karma,
    follower_count: raw.follower_count,
    following_count: raw.following_count,
    is_claimed: raw.is_claimed,
    created_at: raw.created_at,
    last_active: raw.last_active,
  }));

export const searchResultSchema: z.ZodType<SearchResult> = z
  .object({
    id,
    type: z.string().nullish(),
    title: optionalText,
    content: text,
    similarity: z.coerce.number().transform((v) => Math.min(1, Math.max(0, v))),
    upvotes: count,
    downvotes: count,
    created_at: timestamp,
    author: authorRef,
    submolt: submoltRef,
    post_id: id.nullish(),
    post: z.object({ id, title: optionalText }).nullish(),
  })
  .transform((raw) => {
    const postId = raw.post_id ?? raw.post?.id ?? null;
    const type = raw.type ? (raw.type.startsWith('comment') ? 'comment' : 'post') : postId && postId !== raw.id ? 'comment' : 'post';
    return {
      id: raw.id,
      type,
      title: raw.title,
      content: raw.content,
      similarity: raw.similarity,
      upvotes: raw.upvotes,
      downvotes: raw.downvotes,
      created_at: raw.created_at,
      author: raw.author,
      submolt: raw.submolt,
      post_id: postId ?? (type === 'post' ? raw.id : null),
      post: raw.post ? { id: raw.post.id, title: raw.post.title } : null,
    };
  });

// ---- Responses ----------------------------------------------------------------------------

/**
 * A created post or comment awaits verification when the body says
 * `verification_required: true`, the status is `pending`, or a challenge came with it
 * (unless the status already says `verified`).
 */
function isVerificationPending(required: boolean | null, entity: { verification_status: string | null; verification: unknown }): boolean {
  const status = entity.verification_status?.toLowerCase() ?? null;
  if (required === true || status === 'pending') return true;
  return entity.verification !== null && status !== 'verified';
}

export const postResponse = z.preprocess((body) => ({ post: pickEntity(body, 'post') }), z.object({ post: postSchema })).transform((r) => r.post);

/**
 * A challenge wherever it came: on the entity, or (older shape) at the top level next to
 * `verification_required: true`, possibly as `{code, challenge}`.
 */
export const challengeInBody = (body: unknown): VerificationChallenge | null => {
  for (const layer of layers(body)) {
    for (const key of ['post', 'comment']) {
      const entity = layer[key];
      if (isObject(entity) && entity.verification) {
        const parsed = verificationChallengeSchema.safeParse(entity.verification);
        if (parsed.success && parsed.data) return parsed.data;
      }
    }
    if (layer.verification) {
      const parsed = verificationChallengeSchema.safeParse(layer.verification);
      if (parsed.success && parsed.data) return parsed.data;
    }
  }
  return null;
};

export const createdPostResponse: z.ZodType<Omit<CreatedPost, 'rateLimit'>> = z
  .preprocess(
    (body) => ({ post: pickEntity(body, 'post'), required: pickField(body, 'verification_required', 'verificationRequired'), challenge: challengeInBody(body) }),
    z.object({ post: postSchema, required: flag, challenge: z.custom<VerificationChallenge | null>() }),
  )
  .transform(({ post, required, challenge }) => {
    const withChallenge = { ...post, verification: post.verification ?? challenge };
    return { post: withChallenge, verificationPending: isVerificationPending(required, withChallenge), verification: withChallenge.verification };
  });

export const createdCommentResponse: z.ZodType<Omit<CreatedComment, 'rateLimit'>> = z
  .preprocess(
    (body) => ({ comment: pickEntity(body, 'comment'), required: pickField(body, 'verification_required', 'verificationRequired'), challenge: challengeInBody(body) }),
    z.object({ comment: commentSchema, required: flag, challenge: z.custom<VerificationChallenge | null>() }),
  )
  .transform(({ comment, required, challenge }) => {
    const withChallenge = { ...comment, verification: comment.verification ?? challenge };
    return { comment: withChallenge, verificationPending: isVerificationPending(required, withChallenge), verification: withChallenge.verification };
  });

/** `POST /verify`: success, and the server's message. */
export const verifyResponse = z
  .preprocess((body) => ({ success: pickField(body, 'success'), message: pickField(body, 'message', 'status') }), z.object({ success: flag, message: z.unknown() }))
  .transform((r) => ({ verified: r.success !== false, message: typeof r.message === 'string' ? r.message : null }));

const cursor = z
  .union([z.string(), z.number()])
  .nullish()
  .transform((v) => (v === undefined || v === null || v === '' ? null : String(v)));

const pageFields = (body: unknown) => ({
  has_more: pickField(body, 'has_more', 'hasMore'),
  next_cursor: pickField(body, 'next_cursor', 'nextCursor'),
});

export const commentPageResponse: z.ZodType<CommentPage> = z
  .preprocess(
    (body) => ({ comments: pickList(body, 'comments'), ...pageFields(body) }),
    z.object({ comments: z.array(commentSchema), has_more: flag, next_cursor: cursor }),
  )
  .transform((r) => ({ comments: r.comments, hasMore: r.has_more ?? false, nextCursor: r.next_cursor }));

export const postPageResponse: z.ZodType<PostPage> = z
  .preprocess(
    (body) => ({
      posts: pickList(body, 'posts'),
      count: pickField(body, 'count'),
      next_offset: pickField(body, 'next_offset', 'nextOffset'),
      ...pageFields(body),
    }),
    z.object({ posts: z.array(postSchema), count: optionalCount, has_more: flag, next_cursor: cursor, next_offset: optionalCount }),
  )
  .transform((r) => ({
    posts: r.posts,
    count: r.count ?? r.posts.length,
    hasMore: r.has_more ?? false,
    nextCursor: r.next_cursor,
    nextOffset: r.next_offset,
  }));

export const searchPageResponse: z.ZodType<SearchPage> = z
  .preprocess(
    (body) => ({
      results: pickList(body, 'results'),
      query: pickField(body, 'query'),
      type: pickField(body, 'type'),
      count: pickField(body, 'count'),
      ...pageFields(body),
    }),
    z.object({
      results: z.array(searchResultSchema),
      query: text,
      type: text,
      count: optionalCount,
      has_more: flag,
      next_cursor: cursor,
    }),
  )
  .transform((r) => ({
    query: r.query,
    type: r.type || 'all',
    results: r.results,
    count: r.count ?? r.results.length,
    hasMore: r.has_more ?? false,
    nextCursor: r.next_cursor,
  }));

export const agentResponse: z.ZodType<Agent> = z
  .preprocess((body) => ({ agent: pickEntity(body, 'agent') }), z.object({ agent: agentSchema }))
  .transform((r) => r.agent);

export const profileResponse: z.ZodType<Profile> = z
  .preprocess(
    (body) => ({
      agent: pickEntity(body, 'agent'),
      recent_posts: pickField(body, 'recentPosts', 'recent_posts') ?? [],
      recent_comments: pickField(body, 'recentComments', 'recent_comments') ?? [],
    }),
    z.object({ agent: agentSchema, recent_posts: z.array(postSchema), recent_comments: z.array(commentSchema) }),
  )
  .transform((r) => ({ agent: r.agent, recent_posts: r.recent_posts, recent_comments: r.recent_comments }));

const commenterName = z.union([z.string(), z.object({ name: z.string() })]).transform((v) => (typeof v === 'string' ? v : v.name));

const postActivitySchema = z
  .object({
    post_id: id,
    post_title: optionalText,
    new_notification_count: count,
    latest_at: timestamp,
    latest_commenters: z.array(commenterName).nullish(),
    preview: optionalText,
  })
  .transform((r) => ({ ...r, latest_commenters: r.latest_commenters ?? [] }));

export const homeResponse: z.ZodType<Home> = z
  .preprocess(
    (body) => ({
      your_account: pickField(body, 'your_account', 'yourAccount'),
      activity_on_your_posts: pickField(body, 'activity_on_your_posts', 'activityOnYourPosts') ?? [],
    }),
    z.object({
      your_account: z.object({ name: z.string(), karma: count, unread_notification_count: count }),
      activity_on_your_posts: z.array(postActivitySchema),
    }),
  )
  .transform((r) => ({ your_account: r.your_account, activity_on_your_posts: r.activity_on_your_posts }));
