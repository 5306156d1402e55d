import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createStepCatalog, DEFAULT_STEP_KINDS, loadScheduleFile, proposalFromJob, validateProposal } from '@opsloop/ops';
import { MOLTBOOK_STEP_KINDS } from '@opsloop/moltbook';
import { INTERNAL_JOBS } from '../src/schedule.ts';

const SCHEDULE_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../schedule.yaml');
const internalJobs = INTERNAL_JOBS;

describe('the shipped schedule.yaml', () => {
  it('loads the shipped schedule.yaml with every job and its defaults', async () => {
    const jobs = await loadScheduleFile(SCHEDULE_FILE, { internalJobs });
    expect(jobs.map((j) => [j.name, j.cron, j.timezone, j.enabled, j.catchUp])).toEqual([
      ['heartbeat', '*/5 * * * *', 'UTC', true, undefined],
      ['ops-daily-summary', '0 6 * * *', 'Asia/Tokyo', true, 'latest'],
      ['moltbook-engagement-cycle', '*/10 * * * *', 'UTC', true, 'none'],
      ['moltbook-feed-heartbeat', '*/30 * * * *', 'UTC', true, undefined],
      ['moltbook-scout', '15 */3 * * *', 'UTC', true, undefined],
      ['moltbook-scout-daily', '10 0 * * *', 'UTC', true, undefined],
      ['backup', '0 0 * * *', 'Asia/Tokyo', true, undefined],
      ['retention', '30 0 * * *', 'Asia/Tokyo', true, undefined],
    ]);
    expect(jobs[0]!.run).toEqual({ internal: 'heartbeat' });
    expect(jobs[2]!.run).toEqual({
      proposal: {
        title: 'Moltbook engagement cycle',
        skill: 'moltbook_engagement',
        dedupe: true,
        steps: [
          { kind: 'moltbook.second_post', params: {} },
          { kind: 'moltbook.reply_monitor', params: {} },
        ],
      },
    });
    const steps = (name: string) => {
      const run = jobs.find((j) => j.name === name)!.run;
      return 'proposal' in run ? run.proposal.steps : [];
    };
    expect(steps('moltbook-feed-heartbeat')).toEqual([{ kind: 'moltbook.heartbeat', params: { feed_limit: 15 } }]);
    expect(steps('moltbook-scout')).toEqual([{ kind: 'moltbook.scout', params: { top: 15 } }]);
    expect(steps('moltbook-scout-daily')).toEqual([{ kind: 'moltbook.scout', params: { top: 20, csv: true } }]);
    expect(jobs.every((j) => j.line > 0)).toBe(true);
  });

  it('every proposal job in the shipped schedule.yaml passes proposal validation', async () => {
    const catalog = createStepCatalog([...DEFAULT_STEP_KINDS, ...MOLTBOOK_STEP_KINDS]).code;
    const jobs = await loadScheduleFile(SCHEDULE_FILE, { internalJobs });
    const proposalJobs = jobs.filter((j) => 'proposal' in j.run);
    expect(proposalJobs).toHaveLength(4);
    for (const j of proposalJobs) {
      expect(() => validateProposal(catalog, proposalFromJob(j, new Date('2026-01-01T00:00:00Z')))).not.toThrow();
    }
  });
});
