import type { Command } from 'commander';
import { destinationFromConfig, restoreBackup } from '@opsloop/backup';
import { apiClient, emit, type CliContext } from '../context.ts';
import { fields, table, when } from '../output.ts';
import { withDatabase } from './db.ts';

interface BackupRun {
  name?: string;
  status: string;
  location?: string;
  sizeBytes?: number;
  totalRows?: number;
  durationMs?: number;
  tables?: unknown;
}

/**
 * `backup` and `backups` go through the running service (POST/GET /api/ops/backups: its
 * readiness gate, one backup at a time across replicas, the retention of 7). `restore`
 * works on the database directly, like `db`: restore into a database no service is
 * writing to (an empty one, or with --force after stopping the service).
 */
export function registerBackupCommands(program: Command, ctx: CliContext): void {
  program
    .command('backup')
    .description('take a backup now through the service (waits up to 30 s for readiness)')
    .action(async (_opts: unknown, cmd: Command) => {
      const run = await apiClient(ctx, cmd).post<BackupRun>('/backups', {});
      emit(ctx, cmd, run, () => fields(Object.entries(run).filter(([k]) => k !== 'tables')));
    });

  program
    .command('backups')
    .description('the last successful backup and recent runs')
    .action(async (_opts: unknown, cmd: Command) => {
      const status = await apiClient(ctx, cmd).get<{
        lastSuccessful: { name: string; finishedAt: string; sizeBytes: number; location: string | null } | null;
        recent: { name: string; status: string; triggeredBy: string; sizeBytes: number | null; error: string | null; startedAt: string }[];
      }>('/backups');
      emit(ctx, cmd, status, () =>
        (status.lastSuccessful
          ? `last successful backup: ${status.lastSuccessful.name}, ${when(status.lastSuccessful.finishedAt)}, ${status.lastSuccessful.sizeBytes} bytes, ${status.lastSuccessful.location ?? ''}\n`
          : 'no successful backup yet\n') +
        table(status.recent, [
          { header: 'started', value: (r) => when(r.startedAt) },
          { header: 'status', value: (r) => r.status },
          { header: 'by', value: (r) => r.triggeredBy },
          { header: 'name', value: (r) => r.name },
          { header: 'bytes', value: (r) => r.sizeBytes },
          { header: 'error', value: (r) => r.error },
        ], 'no backup runs'),
      );
    });

  program
    .command('restore <backup>')
    .description('restore a backup (name in BACKUP_DIR or S3) into DATABASE_URL or the embedded cluster; verifies counts and checksums')
    .option('--force', 'replace the contents of a database that has rows (truncates opsloop tables in the same transaction)')
    .action(async (name: string, opts: { force?: boolean }, cmd: Command) => {
      const result = await withDatabase(ctx, (url, logger, config) => restoreBackup({ url, logger }, { destination: destinationFromConfig(config), name, force: opts.force === true }));
      emit(ctx, cmd, result, () => fields(Object.entries(result as unknown as Record<string, unknown>).filter(([, v]) => typeof v !== 'object')));
    });
}
