import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger, FakeClock } from '@opsloop/core';
import { claimSteps, completeSteps, createProposal } from '@opsloop/ops';
import { tableDigests } from '@opsloop/backup';
import type { TestDatabase } from '../../../test/db.ts';
import { createOps } from '../../../test/app.ts';

export const silent = createLogger({ level: 'silent' });

export async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'opsloop-backup-test-'));
}

/** Proposals, missions (some finished), steps, runs and events: a realistic database. */
export async function fillDatabase(db: TestDatabase, missions = 20) {
  const ops = createOps(db, new FakeClock(new Date()));
  for (let i = 0; i < missions; i++) {
    await createProposal(ops, {
      title: `work ${i}`,
      skill: 'ops_internal',
      steps: [{ kind: 'ops.noop', params: { note: `first\n"${i}"\ttab` } }, { kind: 'ops.noop', params: { note: String(i) } }],
    });
  }
  const claimed = await claimSteps(ops, { workerId: 'test', kinds: ['ops.noop'], max: missions / 2, leaseSeconds: 60 });
  await completeSteps(ops, claimed.map((s) => ({ stepId: s.id, leaseToken: s.leaseToken, result: { ok: true } })));
  // The policy reader stores a seeded value as the last valid one on its first read,
  // outside the caller's transaction and without being awaited. Landing after a backup's
  // snapshot, or in a database a restore has just replaced, it changed ops_policy's
  // digest. The same guarded UPDATE here makes every pending one a no-op.
  await db.pool.query(`UPDATE ops_policy SET last_valid_value = value, last_valid_at = now() WHERE last_valid_value IS DISTINCT FROM value`);
  return ops;
}

export async function digests(db: TestDatabase) {
  const client = await db.pool.connect();
  try {
    return await tableDigests(client);
  } finally {
    client.release();
  }
}
