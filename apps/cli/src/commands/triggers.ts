import type { Command } from 'commander';
import { apiClient, emit, type CliContext } from '../context.ts';
import { table, when } from '../output.ts';

interface TriggerRule {
  id: string;
  name: string;
  event_kind: string;
  enabled: boolean;
  fire_count: number;
  last_fired_at: string | null;
  cooldown_until: string | null;
}

export function registerTriggerCommands(program: Command, ctx: CliContext): void {
  program
    .command('triggers')
    .description('trigger rules with how often and when they last fired')
    .action(async (_opts: unknown, cmd: Command) => {
      const answer = await apiClient(ctx, cmd).get<{ items: TriggerRule[] }>('/triggers');
      emit(ctx, cmd, answer, () =>
        table(answer.items, [
          { header: 'id', value: (t) => t.id },
          { header: 'name', value: (t) => t.name },
          { header: 'on', value: (t) => t.event_kind },
          { header: 'enabled', value: (t) => (t.enabled ? 'yes' : 'no') },
          { header: 'fired', value: (t) => t.fire_count },
          { header: 'last fired', value: (t) => when(t.last_fired_at) },
          { header: 'cooldown until', value: (t) => when(t.cooldown_until) },
        ], 'no trigger rules'),
      );
    });
}
