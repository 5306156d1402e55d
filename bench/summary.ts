// npm run bench:summary -- [missions=100000,400000] [days=180] [runs=20]
// The daily summary (GET /api/ops/summary/daily; the console's overview asks for it on
// every refresh) over a history of N single-step missions spread over `days` days, each
// with its proposal, one attempt and three events, ANALYZEd. Prints, per size, the
// summary's p50: today's figures should not cost more because the history is longer.
import { performance } from 'node:perf_hooks';
import { createOpsDeps, dailySummary } from '@opsloop/ops';
import { silentLogger, systemClock } from '@opsloop/core';
import { benchDatabase, percentile } from './db.ts';

const sizes = (process.argv[2] ?? '100000,400000').split(',').map(Number);
const days = Number(process.argv[3] ?? 180);
const runs = Number(process.argv[4] ?? 20);
const KINDS = 8;

const results = [];
for (const size of sizes) {
  const { db, close } = await benchDatabase(10);
  const deps = createOpsDeps({ db, clock: systemClock, logger: silentLogger(), timeZone: 'UTC' });
  const t0 = performance.now();
  // One statement per table, spread uniformly over the window; ids are derived from i so
  // the rows of one mission point at each other.
  const id = (prefix: string) => `('${prefix}' || lpad(to_hex(i), 28, '0'))::uuid`;
  const at = `now() - make_interval(secs => (i::float8 / ${size}) * ${days} * 86400)`;
  await db.pool.query(`
    INSERT INTO ops_proposals (id, source, skill, title, steps, status, trace_id, decided_at, created_at, updated_at)
    SELECT ${id('a000')}, 'api', 'ops_internal', 'bench', '[]', 'approved', ${id('d000')}, ${at}, ${at}, ${at} FROM generate_series(1, ${size}) i`);
  await db.pool.query(`
    INSERT INTO ops_missions (id, proposal_id, title, skill, status, trace_id, started_at, finished_at, created_at, updated_at)
    SELECT ${id('b000')}, ${id('a000')}, 'bench', 'ops_internal', CASE WHEN i % 50 = 0 THEN 'failed' ELSE 'succeeded' END, ${id('d000')}, ${at}, ${at}, ${at}, ${at}
    FROM generate_series(1, ${size}) i`);
  await db.pool.query(`
    INSERT INTO ops_mission_steps (id, mission_id, position, kind, skill, status, attempts, trace_id, started_at, finished_at, created_at, updated_at)
    SELECT ${id('c000')}, ${id('b000')}, 0, 'bench.k' || (i % ${KINDS}), 'ops_internal', CASE WHEN i % 50 = 0 THEN 'failed' ELSE 'succeeded' END, 1, ${id('d000')}, ${at}, ${at}, ${at}, ${at}
    FROM generate_series(1, ${size}) i`);
  await db.pool.query(`
    INSERT INTO ops_step_runs (step_id, mission_id, attempt, kind, worker_id, lease_token, started_at, finished_at, duration_ms, outcome)
    SELECT ${id('c000')}, ${id('b000')}, 1, 'bench.k' || (i % ${KINDS}), 'w', gen_random_uuid(), ${at}, ${at}, 5, CASE WHEN i % 50 = 0 THEN 'failed' ELSE 'succeeded' END
    FROM generate_series(1, ${size}) i`);
  await db.pool.query(`
    INSERT INTO ops_events (kind, source, skill, mission_id, step_id, trace_id, created_at)
    SELECT k, 'bench', 'ops_internal', ${id('b000')}, ${id('c000')}, ${id('d000')}, ${at}
    FROM generate_series(1, ${size}) i, unnest(ARRAY['mission:created', 'step:started', 'step:succeeded']) k`);
  await db.pool.query('VACUUM ANALYZE');
  const loadSeconds = (performance.now() - t0) / 1000;

  const timed = async (f: () => Promise<unknown>) => {
    await f(); // warm: plans cached, pages in shared buffers
    const ms: number[] = [];
    for (let r = 0; r < runs; r++) {
      const s = performance.now();
      await f();
      ms.push(performance.now() - s);
    }
    ms.sort((a, b) => a - b);
    return Number(percentile(ms, 50).toFixed(2));
  };
  results.push({
    missions: size,
    days,
    load_seconds: Number(loadSeconds.toFixed(1)),
    summary_p50_ms: await timed(() => dailySummary(deps)),
  });
  await close();
}
process.stdout.write(`${JSON.stringify({ runs, results })}\n`);
