// npm run bench:claim-floor -- [samples=400]
// What one claim costs on this machine when the worker has been idle, next to the
// cheapest statements a claim could be: the floor under bench:steps' start latency.
// Each sample enqueues a one-step mission (for the claims), waits 2 ms (the database
// backend goes idle, as it does between NOTIFYs), then times one statement round trip:
// - `select_1`: a round trip and nothing else;
// - `minimal_claim`: one UPDATE leasing the oldest queued step (the pick function, no run
//   row, no events, no mission update): roughly what a bare job queue does per job;
// - `claim`: opsloop's claim (CLAIM_SQL: lease, run row, mission start, events).
// Each with synchronous_commit on (the default, what opsloop runs with) and off (the
// commit does not wait for the WAL flush), to show what the durable commit costs.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { CLAIM_SQL, createOpsDeps, createProposal } from '@opsloop/ops';
import { silentLogger, systemClock } from '@opsloop/core';
import { benchDatabase, percentile } from './db.ts';

const [samples = 400] = process.argv.slice(2).map(Number);
const { db, close } = await benchDatabase(4);
const ops = createOpsDeps({ db, clock: systemClock, logger: silentLogger(), timeZone: 'UTC' });
const client = await db.pool.connect();

const MINIMAL_CLAIM = `
  UPDATE ops_mission_steps SET status = 'running', attempts = attempts + 1, lease_token = gen_random_uuid(),
         lease_expires_at = $2::timestamptz + interval '5 minutes'
  WHERE id = (SELECT id FROM opsloop_pick_steps($1::text[], $2::timestamptz, 1) LIMIT 1)
  RETURNING id`;
// The claim's `now` runs an hour ahead so each sample's step is due whatever the clocks say.
const due = () => new Date(Date.now() + 3_600_000);
const statements: Record<string, { text: string; values: () => unknown[]; claims: boolean }> = {
  select_1: { text: 'SELECT 1', values: () => [], claims: false },
  minimal_claim: { text: MINIMAL_CLAIM, values: () => [['ops.noop'], due()], claims: true },
  claim: { text: CLAIM_SQL, values: () => [['ops.noop'], due(), 1, 'bench-floor', null], claims: true },
};

async function measure(name: string): Promise<{ p50: number; p99: number }> {
  const { text, values, claims } = statements[name]!;
  const ms: number[] = [];
  for (let i = 0; i < samples + 50; i++) {
    if (claims) await createProposal(ops, { title: 'floor', skill: 'ops_internal', steps: [{ kind: 'ops.noop', params: {} }] });
    await new Promise((r) => setTimeout(r, 2));
    const at = performance.now();
    const { rows } = await client.query<{ id: string }>({ name, text, values: values() });
    const took = performance.now() - at;
    if (claims) {
      // The claim returns one row with a null id when it takes nothing.
      if (rows.length !== 1 || !rows[0]!.id) throw new Error(`${name} claimed nothing`);
      // Finished, as a worker would leave it (not timed): the queue stays as short as it is
      // under idle workers.
      await db.pool.query(`UPDATE ops_mission_steps SET status = 'succeeded', lease_token = NULL WHERE id = $1`, [rows[0]!.id]);
    }
    if (i >= 50) ms.push(took); // the first 50 prepare the statement and warm the caches
  }
  ms.sort((a, b) => a - b);
  return { p50: Number(percentile(ms, 50).toFixed(2)), p99: Number(percentile(ms, 99).toFixed(2)) };
}

const result: Record<string, unknown> = { samples };
for (const commit of ['on', 'off']) {
  await client.query(`SET synchronous_commit = ${commit}`);
  for (const name of Object.keys(statements)) result[`${name}_sync_${commit}_ms`] = await measure(name);
}
client.release();
await close();
process.stdout.write(`${JSON.stringify({ ...result, load_average_1m: Number(os.loadavg()[0]!.toFixed(2)) })}\n`);
