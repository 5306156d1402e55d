import { Option, type Command } from 'commander';
import { apiClient, emit, type CliContext } from '../context.ts';
import { fields, table, when } from '../output.ts';

interface Step {
  id: string;
  position: number;
  kind: string;
  status: string;
  attempts: number;
  maxAttempts: number;
  leaseOwner: string | null;
  error: string | null;
  finishedAt: string | null;
}
interface Mission {
  id: string;
  proposalId: string;
  title: string;
  skill: string;
  status: string;
  traceId: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  steps: Step[];
}

const MISSION_STATUSES = ['approved', 'running', 'succeeded', 'failed', 'cancelled'];

export function registerMissionCommands(program: Command, ctx: CliContext): void {
  program
    .command('missions')
    .description('list missions, newest first')
    .addOption(new Option('--status <status>', 'only this status').choices(MISSION_STATUSES))
    .option('--skill <skill>', 'only this skill')
    .option('--limit <n>', 'at most n (1-200)', '50')
    .action(async (opts: { status?: string; skill?: string; limit: string }, cmd: Command) => {
      const page = await apiClient(ctx, cmd).get<{ items: Mission[]; nextCursor: string | null }>('/missions', opts);
      emit(ctx, cmd, page, () =>
        table(page.items, [
          { header: 'id', value: (m) => m.id },
          { header: 'status', value: (m) => m.status },
          { header: 'skill', value: (m) => m.skill },
          { header: 'title', value: (m) => m.title },
          { header: 'steps', value: (m) => `${m.steps.filter((s) => s.status === 'succeeded').length}/${m.steps.length}` },
          { header: 'created', value: (m) => when(m.createdAt) },
        ], 'no missions'),
      );
    });

  program
    .command('mission <id>')
    .description('one mission with its steps')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { mission } = await apiClient(ctx, cmd).get<{ mission: Mission }>(`/missions/${encodeURIComponent(id)}`);
      emit(ctx, cmd, { mission }, () => missionText(mission));
    });

  program
    .command('cancel <id>')
    .description('cancel a mission: queued and waiting steps cancelled, running leases revoked (idempotent)')
    .option('--reason <text>', 'why (recorded in mission:cancelled)')
    .option('--by <name>', 'who (Default: cli)', 'cli')
    .action(async (id: string, opts: { reason?: string; by: string }, cmd: Command) => {
      const answer = await apiClient(ctx, cmd).post<{ missionId: string; status: string; changed: boolean; cancelledSteps: number; revokedLeases: number }>(
        `/missions/${encodeURIComponent(id)}/cancel`,
        { by: opts.by, ...(opts.reason ? { reason: opts.reason } : {}) },
      );
      emit(ctx, cmd, answer, () =>
        answer.changed
          ? fields([['mission', answer.missionId], ['status', answer.status], ['cancelled steps', answer.cancelledSteps], ['revoked leases', answer.revokedLeases]])
          : `mission ${answer.missionId} was already cancelled; nothing changed\n`,
      );
    });

  program
    .command('retry <id>')
    .description('re-run a failed or cancelled mission from its failed step (same gates as a proposal)')
    .option('--by <name>', 'who (Default: cli)', 'cli')
    .action(async (id: string, opts: { by: string }, cmd: Command) => {
      const answer = await apiClient(ctx, cmd).post<{ missionId: string; status: string; changed: boolean; fromPosition: number | null; requeuedSteps: number }>(
        `/missions/${encodeURIComponent(id)}/retry`,
        { by: opts.by },
      );
      emit(ctx, cmd, answer, () =>
        answer.changed
          ? fields([['mission', answer.missionId], ['status', answer.status], ['from step', answer.fromPosition === null ? '-' : answer.fromPosition + 1], ['requeued steps', answer.requeuedSteps]])
          : `mission ${answer.missionId} is already being retried; nothing changed\n`,
      );
    });
}

function missionText(m: Mission): string {
  return (
    fields([
      ['mission', m.id],
      ['title', m.title],
      ['status', m.status],
      ['skill', m.skill],
      ['proposal', m.proposalId],
      ['trace', m.traceId],
      ['created', when(m.createdAt)],
      ['finished', when(m.finishedAt)],
    ]) +
    '\n' +
    table(m.steps ?? [], [
      { header: '#', value: (s) => s.position },
      { header: 'step', value: (s) => s.id },
      { header: 'kind', value: (s) => s.kind },
      { header: 'status', value: (s) => s.status },
      { header: 'attempts', value: (s) => `${s.attempts}/${s.maxAttempts}` },
      { header: 'lease', value: (s) => s.leaseOwner },
      { header: 'error', value: (s) => s.error },
    ], 'no steps')
  );
}
