import type { Command } from 'commander';
import { jsonDiff } from '@opsloop/core';
import { apiClient, emit, type CliContext } from '../context.ts';
import { CliError, EXIT } from '../exitCodes.ts';
import { diffLines, table, when } from '../output.ts';

interface PolicyRow {
  key: string;
  value: unknown;
  updatedAt: string;
  valid?: boolean;
  description?: string;
}

export function registerPolicyCommands(program: Command, ctx: CliContext): void {
  const policy = program.command('policy').description('read and change policy (kill switch, skill toggles, quotas, …)');

  policy
    .command('get [key]')
    .description('every key, or one key’s value')
    .action(async (key: string | undefined, _opts: unknown, cmd: Command) => {
      const rows = await list(ctx, cmd);
      if (key === undefined) {
        emit(ctx, cmd, { items: rows }, () =>
          table(rows, [
            { header: 'key', value: (r) => r.key },
            { header: 'valid', value: (r) => (r.valid === false ? 'INVALID' : 'ok') },
            { header: 'updated', value: (r) => when(r.updatedAt) },
            { header: 'value', value: (r) => r.value },
          ]),
        );
        return;
      }
      const row = rows.find((r) => r.key === key);
      if (!row) throw new CliError(`no policy key "${key}"; known: ${rows.map((r) => r.key).join(', ')}`, EXIT.notFound);
      emit(ctx, cmd, row, () => `${JSON.stringify(row.value, null, 2)}\n`);
    });

  policy
    .command('set <key> <json>')
    .description('replace one key’s value (validated by the server against the key’s schema); prints what changed')
    .option('--by <name>', 'who changes it (recorded in policy:changed)')
    .action(async (key: string, text: string, opts: { by?: string }, cmd: Command) => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new CliError(`<json> is not valid JSON: ${(error as Error).message}`, EXIT.usage);
      }
      const before = (await list(ctx, cmd)).find((r) => r.key === key)?.value;
      const { policy: saved } = await apiClient(ctx, cmd).put<{ policy: PolicyRow }>(`/policy/${encodeURIComponent(key)}`, {
        value,
        ...(opts.by ? { changedBy: opts.by } : {}),
      });
      const changes = jsonDiff(before, saved.value);
      emit(ctx, cmd, { policy: saved, changes }, () => `${key} saved\n${diffLines(changes)}`);
    });
}

async function list(ctx: CliContext, cmd: Command): Promise<PolicyRow[]> {
  return (await apiClient(ctx, cmd).get<{ items: PolicyRow[] }>('/policy')).items;
}
