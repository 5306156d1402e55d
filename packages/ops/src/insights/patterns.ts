/**
 * Pure helpers of insight promotion: the LLM prompt and the parsing of its answer, the
 * deterministic extractive fallback used without an API key, and the near-duplicate
 * measure.
 */
import { z } from 'zod';
import { storedString } from '@opsloop/core';
import { LlmError } from './llm.ts';

/** One pattern found across several `engagement:high` events. */
export interface InsightPattern {
  content: string;
  tags: string[];
}

export interface InsightEvent {
  id: bigint;
  createdAt: Date;
  payload: unknown;
}

export const MAX_PATTERNS = 3;
/** Characters of one event's payload shown to the LLM; the rest is cut. */
const PAYLOAD_CHARS = 1000;

export const PROMOTION_SYSTEM_PROMPT = [
  'You analyse social media posts that drew unusually high engagement and find what they have in common.',
  `Reply with a JSON object only, no prose: {"patterns": [{"content": string, "tags": string[]}]} with 1 to ${MAX_PATTERNS} patterns.`,
  'Each "content" is one or two sentences stating a reusable pattern (topic, framing, timing, audience) that plausibly explains the engagement.',
  'Each "tags" holds 1 to 5 short lowercase keywords. Do not invent facts that are not supported by the events.',
].join('\n');

export function promotionUserPrompt(events: InsightEvent[]): string {
  const items = events.map((e) => {
    const payload = JSON.stringify(e.payload ?? {});
    return {
      id: e.id.toString(),
      created_at: e.createdAt.toISOString(),
      ...(payload.length > PAYLOAD_CHARS ? { payload_excerpt: payload.slice(0, PAYLOAD_CHARS) } : { payload: e.payload }),
    };
  });
  return `High-engagement events (${events.length}):\n${JSON.stringify(items, null, 1)}`;
}

const tag = storedString()
  .transform((t) => t.trim().toLowerCase().slice(0, 50))
  .pipe(z.string().min(1));
const outputSchema = z.object({
  patterns: z
    .array(
      z.object({
        content: storedString().trim().min(1).max(2000),
        tags: z.array(tag).max(20).default([]),
      }),
    )
    .min(1),
});

/**
 * Reads the LLM's answer: a JSON object, possibly inside a Markdown code fence or with
 * prose around it. More than three patterns are cut to three. Anything unreadable is an
 * `LlmError('invalid_output')`.
 */
export function parsePatternsOutput(text: string): InsightPattern[] {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(text);
  const body = fenced?.[1] ?? text;
  const start = body.indexOf('{');
  const end = body.lastIndexOf('}');
  let json: unknown;
  try {
    if (start < 0 || end < start) throw new Error('no JSON object');
    json = JSON.parse(body.slice(start, end + 1));
  } catch {
    throw new LlmError('invalid_output', 'LLM answer is not a JSON object', 1);
  }
  const parsed = outputSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ');
    throw new LlmError('invalid_output', `LLM answer does not match {patterns: [{content, tags}]}: ${issues}`, 1);
  }
  return parsed.data.patterns.slice(0, MAX_PATTERNS).map((p) => ({ content: p.content, tags: unique(p.tags) }));
}

const STOPWORDS = new Set(
  (
    'the and for with that this from your you are was were have has had not but all any can its our out who what when where which why how ' +
    'about into over than then them they their there these those just more most some such very will would could should been being also ' +
    'only other after before again here each few both same own too new post posts comment comments'
  ).split(' '),
);
/** Payload keys whose values are identifiers or links, not content. */
const SKIPPED_KEY = /(^id$|_id$|Id$|^ids?$|url$|^created_at$|^at$)/;
const WORD = /[\p{L}\p{N}][\p{L}\p{N}'_-]*/gu;

/**
 * The fallback without an LLM: the words that recur across the events' payload texts
 * (counted once per event, so one long post cannot dominate), and the names that recur
 * in payload lists (e.g. commenters). Deterministic: ties are broken alphabetically.
 */
export function extractivePatterns(events: InsightEvent[], maxTerms = 8): InsightPattern[] {
  const termEvents = new Map<string, number>();
  const termTotal = new Map<string, number>();
  /** list key (e.g. `commenters`) -> entry -> events it appears in */
  const listEvents = new Map<string, Map<string, number>>();
  for (const event of events) {
    const texts: string[] = [];
    const listed = new Map<string, Set<string>>();
    collect(event.payload, undefined, texts, listed);
    const seen = new Set<string>();
    for (const text of texts) {
      for (const match of text.toLowerCase().matchAll(WORD)) {
        const word = match[0].replace(/['_-]+$/, '');
        if (word.length < 3 || /^\d+$/.test(word) || STOPWORDS.has(word)) continue;
        termTotal.set(word, (termTotal.get(word) ?? 0) + 1);
        seen.add(word);
      }
    }
    for (const word of seen) termEvents.set(word, (termEvents.get(word) ?? 0) + 1);
    for (const [key, entries] of listed) {
      const counts = listEvents.get(key) ?? new Map<string, number>();
      for (const entry of entries) counts.set(entry, (counts.get(entry) ?? 0) + 1);
      listEvents.set(key, counts);
    }
  }
  const ranked = [...termEvents.keys()].sort((a, b) => termEvents.get(b)! - termEvents.get(a)! || termTotal.get(b)! - termTotal.get(a)! || compare(a, b));
  const recurring = ranked.filter((w) => termEvents.get(w)! >= 2);
  const terms = (recurring.length > 0 ? recurring : ranked).slice(0, maxTerms);

  const patterns: InsightPattern[] = [];
  if (terms.length > 0) {
    patterns.push({
      content: `Recurring themes across ${events.length} high-engagement posts: ${terms.join(', ')}.`,
      tags: unique(['engagement', ...terms.slice(0, 3)]),
    });
  }
  for (const key of [...listEvents.keys()].sort(compare)) {
    if (patterns.length >= MAX_PATTERNS) break;
    const entries = [...listEvents.get(key)!.entries()]
      .filter(([, n]) => n >= 2)
      .sort(([a, n], [b, m]) => m - n || compare(a, b))
      .slice(0, 5)
      .map(([entry]) => entry);
    if (entries.length > 0) {
      patterns.push({ content: `Recurring ${key} across high-engagement posts: ${entries.join(', ')}.`, tags: unique(['engagement', key.toLowerCase()]) });
    }
  }
  if (patterns.length === 0) {
    patterns.push({ content: `${events.length} high-engagement posts without recurring text.`, tags: ['engagement'] });
  }
  return patterns;
}

/** Gathers payload strings into `texts`, and short strings inside lists into `listed` by the list's key. */
function collect(value: unknown, key: string | undefined, texts: string[], listed: Map<string, Set<string>>): void {
  if (key !== undefined && SKIPPED_KEY.test(key)) return;
  if (typeof value === 'string') {
    texts.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item === 'string' && key !== undefined && item.trim() !== '' && item.length <= 100) {
        const set = listed.get(key) ?? new Set<string>();
        set.add(item.trim());
        listed.set(key, set);
      } else {
        collect(item, undefined, texts, listed);
      }
    }
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) collect(v, k, texts, listed);
  }
}

/** The row content for a set of patterns: one line each. */
export function patternsContent(patterns: InsightPattern[]): string {
  return patterns.map((p) => p.content).join('\n');
}

/** Lowercased words (letters and digits) of a text, as a set. */
export function wordSet(text: string): Set<string> {
  return new Set(Array.from(text.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu), (m) => m[0]));
}

/** |A ∩ B| / |A ∪ B| of the two texts' word sets; 1 for two texts without words. */
export function jaccard(a: string, b: string): number {
  const x = wordSet(a);
  const y = wordSet(b);
  if (x.size === 0 && y.size === 0) return 1;
  let shared = 0;
  for (const w of x) if (y.has(w)) shared++;
  return shared / (x.size + y.size - shared);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function unique(values: string[]): string[] {
  return [...new Set(values.filter((v) => v !== ''))];
}
