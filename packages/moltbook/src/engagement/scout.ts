import fs from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { writeEvents } from '@opsloop/ops';
import type { SearchResult } from '../types.ts';
import type { EngagementDeps } from './context.ts';

export interface ScoutParams {
  queries?: string[];
  /** Results asked for per query (Moltbook allows at most 50). (Default: 50) */
  limit?: number;
  /** Authors kept in the report. (Default: 15) */
  top?: number;
  /** Results below this similarity do not count. (Default: 0.35) */
  min_similarity?: number;
  /** Results over the threshold an author needs. (Default: 2) */
  min_matches?: number;
  /** Also write a CSV beside the JSON. (Default: false) */
  csv?: boolean;
}

interface AuthorScore {
  name: string;
  matches: number;
  best_similarity: number;
  mean_similarity: number;
  queries: string[];
  sample: { id: string; type: string; title: string | null; similarity: number }[];
}

/**
 * `moltbook.scout`: semantic search over the configured queries; results are grouped by
 * author (Moltbook has no agent search), authors with at least `min_matches` results
 * over `min_similarity` are ranked (matches, then mean similarity), their profiles
 * fetched, and a JSON report (and optionally CSV) written under MOLTBOOK_OUTPUT_DIR.
 */
export async function runScout(deps: EngagementDeps, params: ScoutParams) {
  const now = deps.clock.now();
  const { moltbook_engagement: policy } = await deps.policy.read(deps.prisma, ['moltbook_engagement']);
  const queries = params.queries?.length ? params.queries : policy.scout_queries;
  const min = params.min_similarity ?? 0.35;
  const minMatches = params.min_matches ?? 2;
  const top = params.top ?? 15;

  const byAuthor = new Map<string, { results: (SearchResult & { query: string })[] }>();
  for (const q of queries) {
    const page = await deps.client.search({ q, type: 'all', limit: params.limit ?? 50 });
    for (const r of page.results) {
      if (r.similarity < min || !r.author?.name) continue;
      const entry = byAuthor.get(r.author.name) ?? { results: [] };
      entry.results.push({ ...r, query: q });
      byAuthor.set(r.author.name, entry);
    }
  }
  const ranked: AuthorScore[] = [...byAuthor.entries()]
    .filter(([, e]) => e.results.length >= minMatches)
    .map(([name, e]) => {
      const sims = e.results.map((r) => r.similarity);
      return {
        name,
        matches: e.results.length,
        best_similarity: Math.max(...sims),
        mean_similarity: Number((sims.reduce((a, b) => a + b, 0) / sims.length).toFixed(4)),
        queries: [...new Set(e.results.map((r) => r.query))],
        sample: e.results
          .sort((a, b) => b.similarity - a.similarity)
          .slice(0, 3)
          .map((r) => ({ id: r.id, type: r.type, title: r.title, similarity: r.similarity })),
      };
    })
    .sort((a, b) => b.matches - a.matches || b.mean_similarity - a.mean_similarity || a.name.localeCompare(b.name))
    .slice(0, top);

  const authors = [];
  for (const a of ranked) {
    const profile = await deps.client.getProfile(a.name).catch(() => undefined);
    authors.push({
      ...a,
      karma: profile?.agent.karma ?? null,
      follower_count: profile?.agent.follower_count ?? null,
      description: profile?.agent.description ?? null,
    });
  }

  const stamp = now.toISOString().replace(/[:.]/g, '-');
  await fs.mkdir(deps.outputDir, { recursive: true });
  const jsonPath = path.join(deps.outputDir, `scout-${stamp}.json`);
  const report = { generated_at: now, queries, min_similarity: min, min_matches: minMatches, top, authors };
  await fs.writeFile(jsonPath, JSON.stringify(report, null, 2));
  let csvPath: string | null = null;
  if (params.csv) {
    csvPath = path.join(deps.outputDir, `scout-${stamp}.csv`);
    const rows = authors.map((a, i) => [i + 1, a.name, a.matches, a.mean_similarity, a.best_similarity, a.karma ?? '', a.follower_count ?? '', a.queries.join(' | ')]);
    await fs.writeFile(csvPath, stringify(rows, { header: true, columns: ['rank', 'author', 'matches', 'mean_similarity', 'best_similarity', 'karma', 'followers', 'queries'] }));
  }
  const summary = { queries: queries.length, authors: authors.length, top_authors: authors.slice(0, 5).map((a) => a.name), json: jsonPath, csv: csvPath };
  await writeEvents(deps.prisma, [{ kind: 'moltbook:scout_report', source: 'moltbook', skill: 'moltbook_engagement', payload: summary, createdAt: now }]);
  return summary;
}
