// npm run bench:heartbeat -- [sizes=10000,100000,1000000] [rules=200] [newEvents=1000]
// For each size: ops_events holds N events spread over the last 7 days, 200 trigger
// rules are enabled, the cursors are caught up, and `newEvents` events arrive; then one
// full heartbeat runs. Prints its duration per phase as JSON: the steady-state cost,
// which should not grow with N.
import { performance } from 'node:perf_hooks';
import { heartbeatPhases, runHeartbeat, createOpsDeps } from '@opsloop/ops';
import { silentLogger, systemClock } from '@opsloop/core';
import { benchDatabase } from './db.ts';

const sizes = (process.argv[2] ?? '10000,100000,1000000').split(',').map(Number);
const ruleCount = Number(process.argv[3] ?? 200);
const newEvents = Number(process.argv[4] ?? 1000);
const KINDS = 50;

const results = [];
for (const size of sizes) {
  const { db, close } = await benchDatabase(10);
  const deps = { ...createOpsDeps({ db, clock: systemClock, logger: silentLogger(), timeZone: 'UTC' }), pool: db.pool, heartbeatWindowMinutes: 15 };
  const insertEvents = (n: number, spreadSeconds: number) =>
    db.pool.query(
      `INSERT INTO ops_events (kind, source, payload, created_at)
       SELECT 'bench:k' || (i % ${KINDS}), 'bench', jsonb_build_object('score', i % 100, 'channel', 'c' || (i % 7)),
              now() - make_interval(secs => random() * $2)
       FROM generate_series(1, $1) i`,
      [n, spreadSeconds],
    );
  const t0 = performance.now();
  await insertEvents(size, 7 * 86_400);
  await db.pool.query('ANALYZE ops_events');
  const loadSeconds = (performance.now() - t0) / 1000;

  // 200 rules: every kind has rules; a third filter on payload values. Thresholds are the
  // highest a rule may have (1,000,000), so every candidate's window is counted but none fires.
  await db.pool.query(`DELETE FROM ops_trigger_rules`);
  await db.pool.query(
    `INSERT INTO ops_trigger_rules (name, event_kind, condition, cooldown_minutes, proposal_template)
     SELECT 'bench-' || i, 'bench:k' || (i % ${KINDS}),
            CASE WHEN i % 3 = 0 THEN jsonb_build_object('count_at_least', 1000000, 'window_minutes', 60,
                   'where', jsonb_build_array(jsonb_build_object('path', 'score', 'op', 'gte', 'value', 50)))
                 ELSE jsonb_build_object('count_at_least', 1000000, 'window_minutes', 60) END,
            60, '{"title": "bench", "skill": "ops_internal", "steps": [{"kind": "ops.noop", "params": {}}]}'
     FROM generate_series(1, $1) i`,
    [ruleCount],
  );
  await db.pool.query(`INSERT INTO ops_cursors (name, last_event_id) SELECT c, (SELECT max(id) FROM ops_events) FROM unnest(ARRAY['triggers', 'reactions']) c`);
  await insertEvents(newEvents, 60);

  const started = performance.now();
  const outcome = await runHeartbeat(deps, heartbeatPhases(deps), 'bench');
  const seconds = (performance.now() - started) / 1000;
  if (outcome.status !== 'completed') throw new Error('heartbeat did not run');
  const triggers = outcome.phases.find((p) => p.name === 'evaluateTriggers')!;
  // A rule the heartbeat refuses is not evaluated: the figures would measure nothing.
  const refused = (triggers.result as { errors?: unknown[] } | undefined)?.errors ?? [];
  if (refused.length) throw new Error(`${refused.length} rules refused: ${JSON.stringify(refused[0])}`);
  results.push({
    events: size,
    rules: ruleCount,
    new_events: newEvents,
    load_seconds: Number(loadSeconds.toFixed(1)),
    heartbeat_seconds: Number(seconds.toFixed(3)),
    phases_ms: Object.fromEntries(outcome.phases.map((p) => [p.name, p.durationMs])),
    triggers: triggers.result,
    all_ok: outcome.phases.every((p) => p.ok),
  });
  await close();
}
process.stdout.write(`${JSON.stringify(results, null, 1)}\n`);
