import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import type pg from 'pg';
import type { Clock, Logger } from '@opsloop/core';
import type { PrismaClient } from '@opsloop/db';
import type { PolicyReader } from '../policy/readPolicy.ts';
import type { PolicyValue } from '../policy/schemas.ts';

type RetentionKey = keyof PolicyValue<'retention'>['days'];

const UNFINISHED_MISSIONS = `SELECT id FROM ops_missions WHERE status IN ('queued', 'running')`;

/**
 * What each retention key deletes: rows older than the cutoff ($1), minus what must stay.
 * Events stay when a cursor has not passed them yet (triggers and reactions still have
 * to read them), when their mission is unfinished, or when a queued reaction points at
 * them; step runs of unfinished missions stay; the last heartbeat always stays.
 */
const TARGETS: Record<RetentionKey, { table: string; where: string }> = {
  events: {
    table: 'ops_events',
    where: `t.created_at < $1
      AND t.id <= LEAST(coalesce((SELECT last_event_id FROM ops_cursors WHERE name = 'triggers'), 0),
                        coalesce((SELECT last_event_id FROM ops_cursors WHERE name = 'reactions'), 0))
      AND (t.mission_id IS NULL OR t.mission_id NOT IN (${UNFINISHED_MISSIONS}))
      AND NOT EXISTS (SELECT 1 FROM ops_reactions r WHERE r.event_id = t.id AND r.status = 'queued')`,
  },
  step_runs: { table: 'ops_step_runs', where: `t.started_at < $1 AND t.outcome <> 'running' AND t.mission_id NOT IN (${UNFINISHED_MISSIONS})` },
  heartbeat_runs: {
    table: 'ops_heartbeat_runs',
    where: `t.started_at < $1 AND t.status <> 'running'
      AND t.id IS DISTINCT FROM (SELECT max(id) FROM ops_heartbeat_runs WHERE finished_at IS NOT NULL)`,
  },
  schedule_runs: { table: 'ops_schedule_runs', where: `t.started_at < $1 AND t.outcome <> 'running'` },
  alerts: { table: 'ops_alerts', where: `t.created_at < $1 AND t.delivery_status <> 'pending'` },
  system_metrics: { table: 'ops_system_metrics', where: `t.created_at < $1` },
  llm_usage: { table: 'ops_llm_usage', where: `t.created_at < $1` },
};

export interface RetentionDeps {
  prisma: PrismaClient;
  pool: pg.Pool;
  clock: Clock;
  logger: Logger;
  policy: PolicyReader;
  /** Where `retention.archive` writes pruned events; absent: archiving is skipped with a warning. */
  archive?: { stagingDir(): string; put(name: string, file: string, localPath: string): Promise<void> };
}

export interface RetentionResult {
  /** Rows deleted per retention key. */
  pruned: Record<RetentionKey, number>;
  batches: number;
  /** `archive/<file>` in the backup destination, when events were archived. */
  archived?: string;
  /** true when stopped (signal) before everything expired was deleted; the next run continues. */
  interrupted: boolean;
}

/**
 * Deletes expired rows table by table, at most `batch_size` (≤ 5,000) per statement with
 * `pause_ms` between statements, so no statement holds locks or bloats WAL for long and
 * the loop keeps working meanwhile. With `archive: true`, each batch of events is written
 * (gzip JSON lines) before its DELETE commits.
 */
export async function pruneRetention(deps: RetentionDeps, o: { signal?: AbortSignal } = {}): Promise<RetentionResult> {
  const { retention } = await deps.policy.read(deps.prisma, ['retention']);
  const now = deps.clock.now();
  const result: RetentionResult = { pruned: {} as RetentionResult['pruned'], batches: 0, interrupted: false };
  const log = deps.logger.child({ component: 'retention' });
  let archive: ArchiveFile | undefined;
  if (retention.archive && !deps.archive) log.warn('retention.archive is on but no backup destination is configured; events are not archived');
  try {
    for (const key of Object.keys(TARGETS) as RetentionKey[]) {
      const { table, where } = TARGETS[key];
      const cutoff = new Date(now.getTime() - retention.days[key] * 86_400_000);
      const archiving = key === 'events' && retention.archive && deps.archive !== undefined;
      const sql = `WITH doomed AS (SELECT t.id FROM ${table} t WHERE ${where} ORDER BY t.id LIMIT ${retention.batch_size} FOR UPDATE SKIP LOCKED)
        DELETE FROM ${table} t USING doomed WHERE t.id = doomed.id RETURNING ${archiving ? 'row_to_json(t.*)::text AS line' : '1 AS one'}`;
      result.pruned[key] = 0;
      for (;;) {
        if (o.signal?.aborted) {
          result.interrupted = true;
          return result;
        }
        let deleted: number;
        if (archiving) {
          archive ??= await ArchiveFile.open(deps.archive!.stagingDir(), `events-${now.toISOString().replaceAll(/[-:.]/g, '')}.jsonl.gz`);
          deleted = await deleteArchiving(deps.pool, sql, cutoff, archive);
        } else {
          deleted = (await deps.pool.query(sql, [cutoff])).rowCount ?? 0;
        }
        if (deleted === 0) break;
        result.pruned[key] += deleted;
        result.batches++;
        if (deleted < retention.batch_size) break;
        if (retention.pause_ms > 0) await new Promise((resolve) => setTimeout(resolve, retention.pause_ms));
      }
    }
  } finally {
    if (archive) {
      await archive.close();
      await deps.archive!.put('archive', archive.file, archive.localPath);
      result.archived = `archive/${archive.file}`;
    }
  }
  log.info({ pruned: result.pruned, batches: result.batches, archived: result.archived }, 'retention pruned');
  return result;
}

/** One batch: delete, write the rows to the archive, and only then commit. */
async function deleteArchiving(pool: pg.Pool, sql: string, cutoff: Date, archive: ArchiveFile): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ line: string }>(sql, [cutoff]);
    await archive.write(rows.map((r) => r.line));
    await client.query('COMMIT');
    return rows.length;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

class ArchiveFile {
  private constructor(
    readonly file: string,
    readonly localPath: string,
    private readonly gzip: ReturnType<typeof createGzip>,
    private readonly done: Promise<unknown>,
  ) {}

  static async open(dir: string, file: string): Promise<ArchiveFile> {
    await fsp.mkdir(dir, { recursive: true });
    const localPath = path.join(dir, file);
    const gzip = createGzip();
    const out = fs.createWriteStream(localPath);
    gzip.pipe(out);
    return new ArchiveFile(file, localPath, gzip, once(out, 'close'));
  }

  async write(lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    if (!this.gzip.write(lines.join('\n') + '\n')) await once(this.gzip, 'drain');
    // Flushed through gzip to the file before the DELETE commits.
    await new Promise<void>((resolve) => this.gzip.flush(() => resolve()));
  }

  async close(): Promise<void> {
    this.gzip.end();
    await this.done;
  }
}
