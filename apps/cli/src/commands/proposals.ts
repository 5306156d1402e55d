import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { CliError, EXIT } from '../exitCodes.ts';
import { apiClient, emit, type CliContext } from '../context.ts';
import { fields, table, when } from '../output.ts';

interface Proposal {
  id: string;
  title: string;
  skill: string;
  status: string;
  reason: string | null;
  missionId: string | null;
  proposedBy: string | null;
  createdAt: string;
}
interface ProposalAnswer {
  proposal: Proposal;
  status: string;
  missionId?: string | null;
  reason?: string | null;
  deduplicated?: boolean;
}

const PROPOSAL_STATUSES = ['pending', 'approved', 'rejected', 'expired'];

export function registerProposalCommands(program: Command, ctx: CliContext): void {
  program
    .command('propose')
    .description('submit a proposal (JSON body of POST /api/ops/proposal)')
    .requiredOption('-f, --file <file>', 'JSON file, or - for stdin')
    .action(async (opts: { file: string }, cmd: Command) => {
      const body = await readJson(opts.file);
      const answer = await apiClient(ctx, cmd).post<ProposalAnswer>('/proposal', body);
      emit(ctx, cmd, answer, () => decision(answer) + (answer.deduplicated ? 'deduplicated: an identical dedupeKey was already proposed\n' : ''));
    });

  program
    .command('proposals')
    .description('list proposals, newest first')
    .option('--pending', 'only those waiting for a person')
    .addOption(new Option('--status <status>', 'only this status').choices(PROPOSAL_STATUSES))
    .option('--skill <skill>', 'only this skill')
    .option('--limit <n>', 'at most n (1-200)', '50')
    .action(async (opts: { pending?: boolean; status?: string; skill?: string; limit: string }, cmd: Command) => {
      const page = await apiClient(ctx, cmd).get<{ items: Proposal[]; nextCursor: string | null }>('/proposals', {
        status: opts.pending ? 'pending' : opts.status,
        skill: opts.skill,
        limit: opts.limit,
      });
      emit(ctx, cmd, page, () =>
        table(page.items, [
          { header: 'id', value: (p) => p.id },
          { header: 'status', value: (p) => p.status },
          { header: 'skill', value: (p) => p.skill },
          { header: 'title', value: (p) => p.title },
          { header: 'created', value: (p) => when(p.createdAt) },
          { header: 'reason', value: (p) => p.reason },
        ], opts.pending ? 'no pending proposals' : 'no proposals'),
      );
    });

  program
    .command('approve <id>')
    .description('approve a pending proposal (it passes the same gates as any proposal)')
    .option('--by <name>', 'who approves (recorded in events)')
    .action(async (id: string, opts: { by?: string }, cmd: Command) => {
      const answer = await apiClient(ctx, cmd).post<ProposalAnswer>(`/proposals/${encodeURIComponent(id)}/approve`, opts.by ? { by: opts.by } : {});
      emit(ctx, cmd, answer, () => decision(answer));
    });

  program
    .command('reject <id>')
    .description('reject a pending proposal')
    .option('--reason <text>', 'why (recorded on the proposal)')
    .action(async (id: string, opts: { reason?: string }, cmd: Command) => {
      const answer = await apiClient(ctx, cmd).post<ProposalAnswer>(`/proposals/${encodeURIComponent(id)}/reject`, opts.reason ? { reason: opts.reason } : {});
      emit(ctx, cmd, answer, () => decision(answer));
    });
}

function decision(a: ProposalAnswer): string {
  return fields([
    ['proposal', a.proposal.id],
    ['status', a.status],
    ['mission', a.missionId ?? a.proposal.missionId],
    ['reason', a.reason ?? a.proposal.reason],
  ]);
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, EXIT.usage);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`${file} is not valid JSON: ${(error as Error).message}`, EXIT.usage);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
