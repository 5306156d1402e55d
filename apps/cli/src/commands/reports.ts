import type { Command } from 'commander';
import { apiClient, emit, type CliContext } from '../context.ts';
import { fields, table, when } from '../output.ts';

interface PhaseReport {
  name: string;
  ok: boolean;
  durationMs: number;
  error?: string;
}
interface HeartbeatRun {
  id: number;
  status: string;
  triggeredBy: string;
  startedAt: string;
  finishedAt: string | null;
  results: PhaseReport[];
}
interface JobStatus {
  name: string;
  cron: string;
  timezone: string;
  enabled: boolean;
  target: string;
  running: boolean;
  lastRun: { outcome: string; scheduledFor: string; error: string | null } | null;
  nextRunAt: string | null;
}
interface CatalogKind {
  kind: string;
  skill: string;
  executor: string;
  source: string;
  timeoutSeconds: number;
  maxAttempts: number;
  usable: boolean;
  problem?: string;
}

const phaseColumns = [
  { header: 'phase', value: (p: PhaseReport) => p.name },
  { header: 'ok', value: (p: PhaseReport) => (p.ok ? 'ok' : 'FAILED') },
  { header: 'ms', value: (p: PhaseReport) => p.durationMs },
  { header: 'error', value: (p: PhaseReport) => p.error },
];

export function registerReportCommands(program: Command, ctx: CliContext): void {
  program
    .command('heartbeat')
    .description('the last completed heartbeat with each phase; --run runs one now')
    .option('--run', 'run a heartbeat now (409 while another runs)')
    .action(async (opts: { run?: boolean }, cmd: Command) => {
      const client = apiClient(ctx, cmd);
      if (opts.run) {
        const outcome = await client.post<{ status: string; runId: number; phases: PhaseReport[] }>('/heartbeat', {});
        emit(ctx, cmd, outcome, () => `heartbeat ${outcome.runId} ${outcome.status}\n${table(outcome.phases, phaseColumns)}`);
        return;
      }
      const { heartbeat } = await client.get<{ heartbeat: HeartbeatRun | null }>('/heartbeat/last');
      emit(ctx, cmd, { heartbeat }, () =>
        heartbeat
          ? fields([
              ['heartbeat', heartbeat.id],
              ['status', heartbeat.status],
              ['by', heartbeat.triggeredBy],
              ['finished', when(heartbeat.finishedAt)],
            ]) +
            '\n' +
            table(Array.isArray(heartbeat.results) ? heartbeat.results : [], phaseColumns)
          : 'no heartbeat has completed yet\n',
      );
    });

  program
    .command('summary')
    .description('the daily summary (a day in OPS_TIMEZONE)')
    .option('--date <YYYY-MM-DD>', 'which day (Default: today)')
    .action(async (opts: { date?: string }, cmd: Command) => {
      const summary = await apiClient(ctx, cmd).get<Record<string, unknown>>('/summary/daily', { date: opts.date });
      emit(ctx, cmd, summary, () =>
        fields(
          Object.entries(summary)
            .filter(([k]) => !['from', 'to', 'generatedAt'].includes(k))
            .map(([k, v]) => [k, v]),
        ),
      );
    });

  const schedule = program
    .command('schedule')
    .description('scheduled jobs with last and next run')
    .action(async (_opts: unknown, cmd: Command) => {
      const answer = await apiClient(ctx, cmd).get<{ enabled: boolean; jobs: JobStatus[] }>('/schedule');
      emit(ctx, cmd, answer, () =>
        (answer.enabled ? '' : 'scheduler disabled in this process (SCHEDULER_ENABLED=false)\n') +
        table(answer.jobs, [
          { header: 'job', value: (j) => j.name },
          { header: 'cron', value: (j) => `${j.cron} ${j.timezone}` },
          { header: 'enabled', value: (j) => (j.enabled ? 'yes' : 'no') },
          { header: 'last', value: (j) => (j.lastRun ? `${j.lastRun.outcome} ${when(j.lastRun.scheduledFor)}` : 'never') },
          { header: 'next', value: (j) => when(j.nextRunAt) },
          { header: 'runs', value: (j) => j.target },
        ], 'no scheduled jobs'),
      );
    });
  schedule
    .command('run <job>')
    .description('run a job now (recorded like a tick)')
    .action(async (job: string, _opts: unknown, cmd: Command) => {
      const answer = await apiClient(ctx, cmd).post<Record<string, unknown>>(`/schedule/${encodeURIComponent(job)}/run`, { by: 'cli' });
      emit(ctx, cmd, answer, () => fields(Object.entries(answer)));
    });

  program
    .command('catalog')
    .description('every step kind with its skill, executor, timeout and attempts')
    .action(async (_opts: unknown, cmd: Command) => {
      const answer = await apiClient(ctx, cmd).get<{ items: CatalogKind[] }>('/catalog');
      emit(ctx, cmd, answer, () =>
        table(answer.items, [
          { header: 'kind', value: (k) => k.kind },
          { header: 'skill', value: (k) => k.skill },
          { header: 'executor', value: (k) => k.executor },
          { header: 'source', value: (k) => k.source },
          { header: 'timeout', value: (k) => `${k.timeoutSeconds}s` },
          { header: 'attempts', value: (k) => k.maxAttempts },
          { header: 'usable', value: (k) => (k.usable ? 'yes' : `NO: ${k.problem ?? ''}`) },
        ], 'no step kinds'),
      );
    });
}
