/**
 * The fake's in-memory Moltbook: agents, posts, comment trees and search, plus rendering
 * to the documented wire shape. No HTTP here; fakeMoltbook.ts serves it.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '@opsloop/core';

export interface FakeAgent {
  id: string;
  name: string;
  /** Null for agents that only appear as authors. */
  apiKey: string | null;
  description: string;
  karma: number;
  follower_count: number;
  following_count: number;
  is_claimed: boolean;
  created_at: string;
  last_active: string;
}

export interface FakePost {
  id: string;
  title: string;
  content: string;
  type: 'text' | 'link' | 'image';
  url: string | null;
  submolt: string;
  /** Null when the author is gone (outages have shown `author: null`). */
  author_id: string | null;
  upvotes: number;
  downvotes: number;
  created_at: string;
  verification_status: 'verified' | 'pending';
  seq: number;
}

export interface FakeComment {
  id: string;
  post_id: string;
  parent_id: string | null;
  content: string;
  author_id: string | null;
  upvotes: number;
  downvotes: number;
  created_at: string;
  verification_status: 'verified' | 'pending';
  seq: number;
}

/** A stored comment as tests inspect it: the author by name. */
export interface FakeCommentView {
  id: string;
  post_id: string;
  parent_id: string | null;
  content: string;
  author: string | null;
  created_at: string;
  verification_status: 'verified' | 'pending';
}

/** One seeded search hit; what is left out is filled in. */
export interface FakeSearchSeed {
  id?: string;
  type?: 'post' | 'comment';
  title?: string | null;
  content: string;
  similarity: number;
  author?: string | null;
  submolt?: string | null;
  post_id?: string | null;
  upvotes?: number;
  downvotes?: number;
  created_at?: string;
}

type Wire = Record<string, unknown>;

const tokens = (value: string): Set<string> => new Set(value.toLowerCase().match(/[a-z0-9]+/g) ?? []);

/** Share of the query's distinct words that appear in the text, rounded to 3 places. */
export function tokenOverlap(query: string, text: string): number {
  const q = tokens(query);
  if (q.size === 0) return 0;
  const d = tokens(text);
  let hits = 0;
  for (const t of q) if (d.has(t)) hits++;
  return Math.round((hits / q.size) * 1000) / 1000;
}

export class FakeStore {
  readonly agents = new Map<string, FakeAgent>();
  readonly posts = new Map<string, FakePost>();
  readonly comments = new Map<string, FakeComment>();
  readonly seededSearch = new Map<string, FakeSearchSeed[]>();
  private seq = 0;
  /** Outage mode: every comment is listed with `author: null`. */
  nullAuthors = false;

  constructor(private readonly clock: Clock) {}

  /** Pending (unverified) content is visible to its author only. */
  visibleTo(item: { verification_status: string; author_id: string | null }, viewerId: string | undefined): boolean {
    return item.verification_status === 'verified' || (viewerId !== undefined && item.author_id === viewerId);
  }

  private nowIso(): string {
    return this.clock.now().toISOString();
  }

  addAgent(input: { name: string; apiKey?: string | null; description?: string; karma?: number; is_claimed?: boolean }): FakeAgent {
    const existing = this.agentByName(input.name);
    if (existing) return existing;
    const agent: FakeAgent = {
      id: randomUUID(),
      name: input.name,
      apiKey: input.apiKey ?? null,
      description: input.description ?? `${input.name} is an agent`,
      karma: input.karma ?? 0,
      follower_count: 0,
      following_count: 0,
      is_claimed: input.is_claimed ?? true,
      created_at: this.nowIso(),
      last_active: this.nowIso(),
    };
    this.agents.set(agent.id, agent);
    return agent;
  }

  agentByName(name: string): FakeAgent | undefined {
    for (const agent of this.agents.values()) if (agent.name === name) return agent;
    return undefined;
  }

  agentByKey(key: string): FakeAgent | undefined {
    for (const agent of this.agents.values()) if (agent.apiKey !== null && agent.apiKey === key) return agent;
    return undefined;
  }

  /** An author by name (created on first use), or null for `author: null`. */
  authorId(name: string | null): string | null {
    return name === null ? null : this.addAgent({ name }).id;
  }

  addPost(input: {
    author_id: string | null;
    title: string;
    content: string;
    submolt: string;
    type?: FakePost['type'];
    url?: string | null;
    pending?: boolean;
  }): FakePost {
    const post: FakePost = {
      id: randomUUID(),
      title: input.title,
      content: input.content,
      type: input.type ?? 'text',
      url: input.url ?? null,
      submolt: input.submolt,
      author_id: input.author_id,
      upvotes: 0,
      downvotes: 0,
      created_at: this.nowIso(),
      verification_status: input.pending ? 'pending' : 'verified',
      seq: ++this.seq,
    };
    this.posts.set(post.id, post);
    return post;
  }

  addComment(input: { post_id: string; author_id: string | null; content: string; parent_id?: string | null; pending?: boolean }): FakeComment {
    const comment: FakeComment = {
      id: randomUUID(),
      post_id: input.post_id,
      parent_id: input.parent_id ?? null,
      content: input.content,
      author_id: input.author_id,
      upvotes: 0,
      downvotes: 0,
      created_at: this.nowIso(),
      verification_status: input.pending ? 'pending' : 'verified',
      seq: ++this.seq,
    };
    this.comments.set(comment.id, comment);
    return comment;
  }

  commentsOn(postId: string): FakeComment[] {
    return [...this.comments.values()].filter((c) => c.post_id === postId).sort((a, b) => a.seq - b.seq);
  }

  repliesTo(commentId: string): FakeComment[] {
    return [...this.comments.values()].filter((c) => c.parent_id === commentId).sort((a, b) => a.seq - b.seq);
  }

  view(comment: FakeComment): FakeCommentView {
    return {
      id: comment.id,
      post_id: comment.post_id,
      parent_id: comment.parent_id,
      content: comment.content,
      author: comment.author_id ? (this.agents.get(comment.author_id)?.name ?? null) : null,
      created_at: comment.created_at,
      verification_status: comment.verification_status,
    };
  }

  // ---- wire rendering ---------------------------------------------------------------------

  author(authorId: string | null): Wire | null {
    const agent = authorId ? this.agents.get(authorId) : undefined;
    return agent ? { id: agent.id, name: agent.name } : null;
  }

  renderPost(post: FakePost): Wire {
    return {
      id: post.id,
      title: post.title,
      content: post.content,
      type: post.type,
      url: post.url,
      author_id: post.author_id,
      author: this.author(post.author_id),
      submolt: { id: `submolt-${post.submolt}`, name: post.submolt, display_name: post.submolt },
      upvotes: post.upvotes,
      downvotes: post.downvotes,
      score: post.upvotes - post.downvotes,
      comment_count: this.commentsOn(post.id).length,
      created_at: post.created_at,
      verification_status: post.verification_status,
    };
  }

  renderComment(comment: FakeComment, withReplies = true, viewerId?: string): Wire {
    return {
      id: comment.id,
      post_id: comment.post_id,
      content: comment.content,
      parent_id: comment.parent_id,
      upvotes: comment.upvotes,
      downvotes: comment.downvotes,
      score: comment.upvotes - comment.downvotes,
      created_at: comment.created_at,
      author: this.nullAuthors ? null : this.author(comment.author_id),
      verification_status: comment.verification_status,
      ...(withReplies
        ? { replies: this.repliesTo(comment.id).filter((c) => viewerId === undefined || this.visibleTo(c, viewerId)).map((c) => this.renderComment(c, true, viewerId)) }
        : {}),
    };
  }

  renderAgent(agent: FakeAgent): Wire {
    return {
      id: agent.id,
      name: agent.name,
      description: agent.description,
      karma: agent.karma,
      follower_count: agent.follower_count,
      following_count: agent.following_count,
      is_claimed: agent.is_claimed,
      created_at: agent.created_at,
      last_active: agent.last_active,
    };
  }

  /** Posts newest first (`new`), or by score then newest (`hot`, `top`, `rising`). */
  sortedPosts(sort: string, submolt?: string): FakePost[] {
    const posts = [...this.posts.values()].filter((p) => !submolt || p.submolt === submolt);
    const byNew = (a: FakePost, b: FakePost) => b.seq - a.seq;
    return posts.sort(sort === 'new' ? byNew : (a, b) => b.upvotes - b.downvotes - (a.upvotes - a.downvotes) || byNew(a, b));
  }

  topLevelComments(postId: string, sort: string): FakeComment[] {
    const top = this.commentsOn(postId).filter((c) => c.parent_id === null);
    if (sort === 'old') return top;
    if (sort === 'best') return top.sort((a, b) => b.upvotes - b.downvotes - (a.upvotes - a.downvotes) || b.seq - a.seq);
    return top.reverse();
  }

  search(q: string, type: string, limit: number): Wire[] {
    const seeded = this.seededSearch.get(q);
    const hits = seeded ? seeded.map((seed) => this.renderSeed(seed)) : this.computeSearch(q);
    return hits
      .filter((hit) => type === 'all' || `${String(hit.type)}s` === type)
      .sort((a, b) => Number(b.similarity) - Number(a.similarity))
      .slice(0, limit);
  }

  private computeSearch(q: string): Wire[] {
    const hits: Wire[] = [];
    for (const post of this.posts.values()) {
      const similarity = tokenOverlap(q, `${post.title} ${post.content}`);
      if (similarity > 0) {
        hits.push({
          id: post.id,
          type: 'post',
          title: post.title,
          content: post.content,
          upvotes: post.upvotes,
          downvotes: post.downvotes,
          created_at: post.created_at,
          similarity,
          author: this.author(post.author_id),
          submolt: { name: post.submolt },
          post_id: post.id,
        });
      }
    }
    for (const comment of this.comments.values()) {
      const similarity = tokenOverlap(q, comment.content);
      const post = this.posts.get(comment.post_id);
      if (similarity > 0) {
        hits.push({
          id: comment.id,
          type: 'comment',
          title: null,
          content: comment.content,
          upvotes: comment.upvotes,
          downvotes: comment.downvotes,
          created_at: comment.created_at,
          similarity,
          author: this.author(comment.author_id),
          submolt: post ? { name: post.submolt } : null,
          post: post ? { id: post.id, title: post.title } : null,
          post_id: comment.post_id,
        });
      }
    }
    return hits;
  }

  private renderSeed(seed: FakeSearchSeed): Wire {
    const type = seed.type ?? 'post';
    const id = seed.id ?? randomUUID();
    return {
      id,
      type,
      title: type === 'post' ? (seed.title ?? 'Untitled') : null,
      content: seed.content,
      upvotes: seed.upvotes ?? 0,
      downvotes: seed.downvotes ?? 0,
      created_at: seed.created_at ?? this.nowIso(),
      similarity: seed.similarity,
      author: seed.author === null ? null : { name: seed.author ?? 'someone' },
      submolt: seed.submolt === null ? null : { name: seed.submolt ?? 'general' },
      post_id: seed.post_id ?? (type === 'post' ? id : null),
    };
  }

  /** `GET /home` for an agent: activity is comments by others on the agent's posts. */
  home(agent: FakeAgent): Wire {
    const activity: Wire[] = [];
    for (const post of this.sortedPosts('new')) {
      if (post.author_id !== agent.id) continue;
      const others = this.commentsOn(post.id)
        .filter((c) => c.author_id !== agent.id)
        .reverse();
      const latest = others[0];
      if (!latest) continue;
      const names = [...new Set(others.map((c) => this.view(c).author).filter((n): n is string => n !== null))];
      activity.push({
        post_id: post.id,
        post_title: post.title,
        new_notification_count: others.length,
        latest_at: latest.created_at,
        latest_commenters: names.slice(0, 3),
        preview: latest.content.slice(0, 120),
      });
    }
    const unread = activity.reduce((sum, a) => sum + Number(a.new_notification_count), 0);
    return {
      your_account: { name: agent.name, karma: agent.karma, unread_notification_count: unread },
      activity_on_your_posts: activity,
    };
  }
}
