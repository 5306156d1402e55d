import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';

/**
 * The claim's plan must not depend on statistics (issue 13): after a burst of inserts,
 * or with autovacuum off, the planner has none. These tests fill the queue WITHOUT
 * ANALYZE (autovacuum disabled on the table, so nothing analyzes behind our back) and
 * read the plans PostgreSQL chooses: structural assertions, never timings.
 */

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}

const QUEUED = 5000;
const MAX = 50;
const KINDS = ['ops.noop', 'ops.other'];

/**
 * 5,000 queued steps of one kind, a few of another, and as many finished ones: one
 * single-step mission each, written in bulk. `analyzedBeforeBurst`: the statistics were
 * taken when none of them was queued (the planner then expects ~1 queued row), the
 * state a table is in after a burst of enqueues; otherwise none were ever taken.
 */
async function fillQueue(analyzedBeforeBurst: boolean): Promise<TestDatabase> {
  const db = await createTestDatabase({ poolSize: 2 });
  await db.pool.query(`ALTER TABLE ops_mission_steps SET (autovacuum_enabled = false)`);
  await db.pool.query(`ALTER TABLE ops_missions SET (autovacuum_enabled = false)`);
  await db.pool.query(`
    WITH p AS (
      INSERT INTO ops_proposals (id, source, skill, title, steps, status)
      SELECT gen_random_uuid(), 'api', 'ops_internal', 'plan ' || g, '[]', 'approved' FROM generate_series(1, $1::int * 2 + 100) g
      RETURNING id
    ), m AS (
      INSERT INTO ops_missions (id, proposal_id, title, skill, status, trace_id)
      SELECT gen_random_uuid(), id, 'plan', 'ops_internal', 'queued', gen_random_uuid() FROM p
      RETURNING id, trace_id
    ), numbered AS (
      SELECT id, trace_id, row_number() OVER () AS n FROM m
    )
    INSERT INTO ops_mission_steps (mission_id, position, kind, skill, status, run_after, trace_id)
    SELECT id, 0, CASE WHEN n <= $1::int * 2 THEN 'ops.noop' ELSE 'ops.other' END, 'ops_internal',
           CASE WHEN NOT $2::boolean AND (n <= $1::int OR n > $1::int * 2) THEN 'queued' ELSE 'succeeded' END,
           now() - make_interval(secs => n::double precision), trace_id
    FROM numbered`, [QUEUED, analyzedBeforeBurst]);
  if (analyzedBeforeBurst) {
    await db.pool.query(`ANALYZE ops_mission_steps`);
    await db.pool.query(`ANALYZE ops_missions`);
    await db.pool.query(`
      UPDATE ops_mission_steps SET status = 'queued'
      WHERE kind = 'ops.other' OR id IN (SELECT id FROM ops_mission_steps WHERE kind = 'ops.noop' ORDER BY run_after DESC LIMIT $1::int)`, [QUEUED]);
  }
  return db;
}

/**
 * The statement a plpgsql function runs (its RETURN QUERY), taken from the installed
 * function, with its parameters as $1, $2, … in the order given, and its SET clauses.
 */
async function functionQuery(client: pg.PoolClient, name: string, params: string[]) {
  const { rows } = await client.query<{ prosrc: string; proconfig: string[] | null }>(`SELECT prosrc, proconfig FROM pg_proc WHERE proname = $1`, [name]);
  const fn = rows[0]!;
  const body = /RETURN QUERY\s+([\s\S]*?);\s*END/i.exec(fn.prosrc)?.[1];
  expect(body, `RETURN QUERY statement in ${name}`).toBeDefined();
  const text = params.reduce((t, param, i) => t.replace(new RegExp(`\\b${param}\\b`, 'g'), `$${i + 1}`), body!);
  return { text, settings: fn.proconfig ?? [] };
}

/** Applies a function's SET clauses to the transaction, as the function applies them. */
async function applySettings(client: pg.PoolClient, settings: string[]) {
  for (const setting of settings) {
    const [key, value] = setting.split('=') as [string, string];
    await client.query(`SELECT set_config($1, $2, true)`, [key, value]);
  }
}

const PICK_PARAMS = ['p_kinds', 'p_now', 'p_max'];
const CLAIM_PARAMS = ['p_kinds', 'p_now', 'p_max', 'p_worker', 'p_lease_seconds'];
const CLAIM_TYPES = ['text[]', 'timestamptz', 'integer', 'text', 'integer'];

function nodes(plan: PlanNode, path: PlanNode[] = []): { node: PlanNode; path: PlanNode[] }[] {
  return [{ node: plan, path }, ...(plan.Plans ?? []).flatMap((child) => nodes(child, [...path, plan]))];
}

const onSteps = (n: PlanNode) => n['Relation Name'] === 'ops_mission_steps';

async function explain(client: pg.PoolClient, statement: string, types: string[], values: unknown[], analyze: boolean): Promise<PlanNode> {
  const name = `plan_${Math.random().toString(36).slice(2)}`;
  await client.query(`PREPARE ${name}(${types.join(', ')}) AS ${statement}`);
  const args = values.map((v) => (v === null ? 'NULL' : `'${String(v).replaceAll("'", "''")}'`)).join(', ');
  const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
    `EXPLAIN (FORMAT JSON${analyze ? ', ANALYZE, TIMING OFF' : ''}) EXECUTE ${name}(${args})`,
  );
  await client.query(`DEALLOCATE ${name}`);
  return rows[0]!['QUERY PLAN'][0].Plan;
}

/**
 * The claim finds the rows it updates through their primary keys (an Index Scan, or a
 * Bitmap Heap Scan of the pages a Bitmap Index Scan on it names): never a scan or a hash
 * of the steps or missions table.
 */
function expectPrimaryKeyUpdates(plan: PlanNode) {
  const all = nodes(plan).map(({ node }) => node);
  expect(all.filter((n) => n['Node Type'] === 'Seq Scan' && (onSteps(n) || n['Relation Name'] === 'ops_missions'))).toEqual([]);
  expect(all.filter((n) => n['Node Type'] === 'Hash Join' || n['Node Type'] === 'Merge Join')).toEqual([]);
  for (const table of ['ops_mission_steps', 'ops_missions']) {
    const update = all.find((n) => n['Node Type'] === 'ModifyTable' && n['Relation Name'] === table);
    expect(update, `UPDATE of ${table}`).toBeDefined();
    const [target, ...others] = update!.Plans!.filter((n) => n['Relation Name'] === table);
    expect(others).toEqual([]);
    const lookup = target!['Node Type'] === 'Bitmap Heap Scan' ? target!.Plans?.[0] : target;
    expect([lookup?.['Node Type'], lookup?.['Index Name']]).toEqual([
      target!['Node Type'] === 'Bitmap Heap Scan' ? 'Bitmap Index Scan' : 'Index Scan',
      `${table}_pkey`,
    ]);
  }
}

describe.each([
  { analyzedBeforeBurst: false, state: 'never analyzed' },
  { analyzedBeforeBurst: true, state: 'analyzed before a burst of enqueues' },
])('claim plan with stale statistics: $state', ({ analyzedBeforeBurst }) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await fillQueue(analyzedBeforeBurst);
  });
  afterAll(async () => {
    await db?.drop();
  });

  async function inRolledBackTransaction(fn: (client: pg.PoolClient) => Promise<void>) {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await fn(client);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  }

  it('the statistics really are stale: only the ANALYZE of the scenario ran, before the burst', async () => {
    const { rows } = await db.pool.query<{ last_analyze: Date | null; last_autoanalyze: Date | null; n_mod_since_analyze: string }>(
      `SELECT last_analyze, last_autoanalyze, n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = 'ops_mission_steps'`,
    );
    expect(rows[0]!.last_autoanalyze).toBeNull();
    expect(rows[0]!.last_analyze !== null).toBe(analyzedBeforeBurst);
    const queuedInStats = await db.pool.query(
      `SELECT 1 FROM pg_stats WHERE tablename = 'ops_mission_steps' AND attname = 'status' AND 'queued' = ANY(most_common_vals::text::text[])`,
    );
    expect(queuedInStats.rowCount).toBe(0);
    const queued = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ops_mission_steps WHERE status = 'queued'`);
    expect(queued.rows[0]!.n).toBe(QUEUED + 100);
  });

  for (const mode of ['force_custom_plan', 'force_generic_plan'] as const) {
    it(`the pick reads each kind by an ordered index scan that stops at max (${mode})`, async () => {
      await inRolledBackTransaction(async (client) => {
        const { text, settings } = await functionQuery(client, 'opsloop_pick_steps', PICK_PARAMS);
        await applySettings(client, settings);
        await client.query(`SET LOCAL plan_cache_mode = ${mode}`);
        const values = [`{${KINDS.join(',')}}`, new Date().toISOString(), MAX];
        const plan = await explain(client, text, ['text[]', 'timestamptz', 'integer'], values, mode === 'force_custom_plan');
        const all = nodes(plan);
        const scans = all.filter(({ node }) => onSteps(node));
        expect(scans.map(({ node }) => [node['Node Type'], node['Index Name']])).toEqual([['Index Scan', 'ops_mission_steps_queue_idx']]);
        // Limit <- LockRows <- Index Scan: the scan stops after max rows, nothing sorts
        // (or locks) the whole queue.
        const path = scans[0]!.path.map((n) => n['Node Type']);
        expect(path.slice(-2)).toEqual(['Limit', 'LockRows']);
        const sortsOverSteps = all.filter(
          ({ node }) => node['Node Type'] === 'Sort' && nodes(node).some(({ node: n, path: p }) => onSteps(n) && !p.some((x) => x['Node Type'] === 'Limit')),
        );
        expect(sortsOverSteps).toEqual([]);
        if (mode === 'force_custom_plan') {
          // Executed (rolled back): the scan returned at most max rows per kind.
          expect(scans[0]!.node['Actual Rows']).toBeLessThanOrEqual(MAX);
        }
      });
    });

    it(`the claim updates the picked steps and their missions by primary key, not by a scan of the table (${mode})`, async () => {
      await inRolledBackTransaction(async (client) => {
        const { text, settings } = await functionQuery(client, 'opsloop_claim_steps', CLAIM_PARAMS);
        await applySettings(client, settings);
        await client.query(`SET LOCAL plan_cache_mode = ${mode}`);
        const values = [`{${KINDS.join(',')}}`, new Date().toISOString(), MAX, 'plan-test', 60];
        expectPrimaryKeyUpdates(await explain(client, text, CLAIM_TYPES, values, false));
      });
    });
  }
});
