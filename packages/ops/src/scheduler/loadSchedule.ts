import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { proposalStepSchema, skillNameSchema } from '../proposals/validateProposal.ts';
import { cronProblem, isValidTimeZone } from './calendar.ts';
import type { CatchUp } from './jobs.ts';

/** A proposal the scheduler submits on each tick, through the single proposal entry point. */
export interface ProposalTemplate {
  title: string;
  skill: string;
  steps: { kind: string; params: Record<string, unknown>; maxAttempts?: number }[];
  /**
   * Give each tick's proposal the dedupe key `schedule:<job>:<tick ISO>`, so a retried
   * submission of the same tick makes no second proposal. (Default: true)
   */
  dedupe: boolean;
}

export type JobRun = { internal: string } | { proposal: ProposalTemplate };

/** One validated entry of schedule.yaml. */
export interface ScheduleJob {
  /** Unique, `[a-z0-9-]+`; the key of its rows in ops_schedule_runs. */
  name: string;
  /** Five-field cron expression (croner syntax, minute resolution; see calendar.ts). */
  cron: string;
  /** IANA zone the expression's wall times are read in. (Default: UTC) */
  timezone: string;
  /** (Default: true) */
  enabled: boolean;
  /**
   * Which missed ticks run after downtime, as the file declares it. (Default: the
   * internal job's own default — `latest` for ops-daily-summary — else `none`; the
   * scheduler resolves it.)
   */
  catchUp?: CatchUp;
  run: JobRun;
  /** Line of the entry in its file, for log lines and error messages. */
  line: number;
}

export interface LoadScheduleOptions {
  /** Names `run: { internal: … }` may use; anything else is refused at load time. */
  internalJobs: readonly string[];
  /** Shown in error messages. (Default: schedule.yaml) */
  fileName?: string;
}

export interface ScheduleIssue {
  line: number;
  job?: string;
  message: string;
}

/** schedule.yaml is unusable; `message` has one `file:line: …` line per issue. */
export class ScheduleError extends Error {
  constructor(
    readonly fileName: string,
    readonly issues: ScheduleIssue[],
  ) {
    super(issues.map((i) => `${fileName}:${i.line}: ${i.job ? `job "${i.job}": ` : ''}${i.message}`).join('\n'));
    this.name = 'ScheduleError';
  }
}

const proposalTemplateSchema = z
  .object({
    title: z.string().trim().min(1).max(300),
    skill: skillNameSchema,
    steps: z.array(proposalStepSchema).min(1, 'at least 1 step').max(20, 'at most 20 steps'),
    dedupe: z.boolean().default(true),
  })
  .strict();

function scheduleSchema(internalJobs: readonly string[]) {
  const job = z
    .object({
      name: z
        .string()
        .max(100)
        .regex(/^[a-z0-9-]+$/, 'name must match [a-z0-9-]+'),
      cron: z.string().superRefine((expr, ctx) => {
        const problem = cronProblem(expr);
        if (problem) ctx.addIssue({ code: 'custom', message: `invalid cron "${expr}": ${problem}` });
      }),
      timezone: z
        .string()
        .default('UTC')
        .superRefine((tz, ctx) => {
          if (!isValidTimeZone(tz)) ctx.addIssue({ code: 'custom', message: `unknown timezone "${tz}"` });
        }),
      enabled: z.boolean().default(true),
      catch_up: z.enum(['latest', 'none']).optional(),
      run: z
        .object({ internal: z.string().min(1).optional(), proposal: proposalTemplateSchema.optional() })
        .strict()
        .superRefine((run, ctx) => {
          if ((run.internal === undefined) === (run.proposal === undefined)) {
            ctx.addIssue({ code: 'custom', message: 'run must be exactly one of { internal: <name> } or { proposal: { title, skill, steps } }' });
          } else if (run.internal !== undefined && !internalJobs.includes(run.internal)) {
            ctx.addIssue({ code: 'custom', path: ['internal'], message: `unknown internal job "${run.internal}" (known: ${internalJobs.join(', ') || 'none'})` });
          }
        })
        .transform((run): JobRun => (run.proposal ? { proposal: run.proposal } : { internal: run.internal! })),
    })
    .strict();
  return z
    .object({
      jobs: z.array(job).superRefine((jobs, ctx) => {
        const seen = new Set<string>();
        jobs.forEach((j, i) => {
          if (seen.has(j.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate job name "${j.name}"` });
          seen.add(j.name);
        });
      }),
    })
    .strict();
}

/**
 * Parses and validates schedule.yaml text. Every problem (YAML syntax, shape, bad cron,
 * unknown time zone or internal job, duplicate name) is reported with its line, in one
 * ScheduleError. Proposal templates are checked for shape only; their step kinds and
 * params are validated by the proposal entry point when a tick submits them.
 */
export function loadSchedule(text: string, options: LoadScheduleOptions): ScheduleJob[] {
  const fileName = options.fileName ?? 'schedule.yaml';
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ScheduleError(
      fileName,
      doc.errors.map((e) => ({ line: e.linePos?.[0].line ?? lineCounter.linePos(e.pos[0]).line, message: `YAML syntax error: ${e.message.split('\n')[0]}` })),
    );
  }
  const parsed = scheduleSchema(options.internalJobs).safeParse(doc.toJS());
  if (!parsed.success) {
    const raw = doc.toJS() as { jobs?: { name?: unknown }[] } | null;
    throw new ScheduleError(
      fileName,
      parsed.error.issues.map((issue) => {
        const [root, index] = issue.path;
        const name = root === 'jobs' && typeof index === 'number' ? raw?.jobs?.[index]?.name : undefined;
        const at = [...issue.path, ...(issue.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [])];
        const within = typeof name === 'string' ? at.slice(2) : at; // the job is named already
        const where = within.length > 0 ? ` (at ${within.join('.')})` : '';
        return {
          line: lineOf(doc, lineCounter, at),
          job: typeof name === 'string' ? name : undefined,
          message: issue.code === 'custom' ? issue.message : `${issue.message}${where}`,
        };
      }),
    );
  }
  return parsed.data.jobs.map(({ catch_up, ...j }, i) => ({
    ...j,
    ...(catch_up ? { catchUp: catch_up } : {}),
    line: lineOf(doc, lineCounter, ['jobs', i]),
  }));
}

export async function loadScheduleFile(filePath: string, options: LoadScheduleOptions): Promise<ScheduleJob[]> {
  const text = await readFile(filePath, 'utf8');
  return loadSchedule(text, { ...options, fileName: options.fileName ?? path.basename(filePath) });
}

/**
 * Line of the deepest entry on `issuePath` that exists in the document: a map entry's
 * key (so `run:` rather than the block under it), a sequence item's first line.
 */
function lineOf(doc: Document, lineCounter: LineCounter, issuePath: readonly PropertyKey[]): number {
  const line = (node: unknown) => (isNode(node) && node.range ? lineCounter.linePos(node.range[0]).line : undefined);
  for (let n = issuePath.length; n >= 1; n--) {
    const parent: unknown = n === 1 ? doc.contents : doc.getIn(issuePath.slice(0, n - 1), true);
    const key = issuePath[n - 1];
    if (isMap(parent)) {
      const pair = parent.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key);
      const found = pair && (line(pair.key) ?? line(pair.value));
      if (found) return found;
    } else if (isSeq(parent) && typeof key === 'number') {
      const found = line(parent.items[key]);
      if (found) return found;
    }
  }
  return line(doc.contents) ?? 1;
}
