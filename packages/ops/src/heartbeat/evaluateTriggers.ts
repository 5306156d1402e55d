import { z } from 'zod';
import { storedString, type Logger } from '@opsloop/core';
import { Prisma, inTransaction } from '@opsloop/db';
import type { ProposalDeps } from '../proposals/createProposal.ts';
import { createProposal } from '../proposals/createProposal.ts';
import { writeEvents } from '../events.ts';
import type { PhaseContext } from './runHeartbeat.ts';
import { advanceCursor, eventKindMatches, eventsAfter, readCursor, type CursorEvent } from './cursors.ts';

/**
 * trigger rule: "when N events of this kind (optionally with these payload values) happen
 * within W minutes, propose this", with a cooldown. Stored in ops_trigger_rules.
 */
export const triggerConditionSchema = z
  .object({
    count_at_least: z.number().int().min(1).max(1_000_000).default(1),
    window_minutes: z.number().int().min(1).max(10_080).default(60),
    where: z
      .array(
        z
          .object({
            path: z.string().regex(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/, 'a dotted payload path'),
            op: z.enum(['eq', 'gt', 'gte', 'lt', 'lte']),
            value: z.union([storedString().max(1000), z.number(), z.boolean()]),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();
export type TriggerCondition = z.infer<typeof triggerConditionSchema>;

const CURSOR = 'triggers';
const BATCH = 5000;

type Deps = ProposalDeps & { logger: Logger };

interface Rule {
  id: string;
  name: string;
  event_kind: string;
  condition: TriggerCondition;
  cooldown_minutes: number;
  proposal_template: Record<string, unknown>;
}

function getPath(payload: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), payload);
}

/** The same test the window count applies in SQL (`conditionSql`), for new events in memory. */
export function eventMatches(event: Pick<CursorEvent, 'kind' | 'payload'>, kindPattern: string, where: TriggerCondition['where']): boolean {
  if (!eventKindMatches(event.kind, kindPattern)) return false;
  return where.every(({ path, op, value }) => {
    const actual = getPath(event.payload, path);
    if (op === 'eq') return JSON.stringify(actual) === JSON.stringify(value);
    if (typeof actual !== 'number' || typeof value !== 'number') return false;
    return op === 'gt' ? actual > value : op === 'gte' ? actual >= value : op === 'lt' ? actual < value : actual <= value;
  });
}

function conditionSql(kindPattern: string, where: TriggerCondition['where']): Prisma.Sql {
  const parts: Prisma.Sql[] = [
    kindPattern === '*'
      ? Prisma.sql`true`
      : kindPattern.endsWith('*')
        ? Prisma.sql`kind LIKE ${kindPattern.slice(0, -1).replace(/[\\%_]/g, '\\$&') + '%'}`
        : Prisma.sql`kind = ${kindPattern}`,
  ];
  const ops = { gt: Prisma.sql`>`, gte: Prisma.sql`>=`, lt: Prisma.sql`<`, lte: Prisma.sql`<=` } as const;
  for (const { path, op, value } of where) {
    const p = path.split('.');
    if (op === 'eq') parts.push(Prisma.sql`payload #> ${p}::text[] = ${JSON.stringify(value)}::jsonb`);
    else
      parts.push(
        Prisma.sql`(CASE WHEN jsonb_typeof(payload #> ${p}::text[]) = 'number' THEN (payload #>> ${p}::text[])::numeric END) ${ops[op]} ${value}::numeric`,
      );
  }
  return Prisma.join(parts, ' AND ');
}

export interface TriggerReport {
  eventsScanned: number;
  rulesEvaluated: number;
  fired: { rule: string; proposalId: string; status: string }[];
  errors: { rule: string; error: string }[];
  caughtUp: boolean;
}

/**
 * Looks only at events after the durable cursor (so its cost does not grow with
 * ops_events), finds rules with new matching events, counts their window in SQL, and
 * fires those over threshold and out of cooldown. A firing creates its proposal through
 * the single entry point and records the firing (cooldown, count, `trigger:fired`) in
 * the same transaction, with a dedupe key per rule and window: a crash can neither lose
 * the cooldown nor fire twice. A rule counts as fired only when its proposal was created:
 * a deduplicated one (same window, cooldown shorter than the window) is not a firing.
 * The cursor advances only past fully evaluated batches.
 */
export async function evaluateTriggers(deps: Deps, ctx: Pick<PhaseContext, 'outOfTime'>): Promise<TriggerReport> {
  const report: TriggerReport = { eventsScanned: 0, rulesEvaluated: 0, fired: [], errors: [], caughtUp: false };
  const rawRules = await deps.prisma.$queryRaw<(Omit<Rule, 'condition'> & { condition: unknown })[]>`
    SELECT id, name, event_kind, condition, cooldown_minutes, proposal_template FROM ops_trigger_rules WHERE enabled ORDER BY name`;
  const rules: Rule[] = [];
  for (const r of rawRules) {
    const condition = triggerConditionSchema.safeParse(r.condition);
    if (condition.success) rules.push({ ...r, condition: condition.data });
    else report.errors.push({ rule: r.name, error: `invalid condition: ${condition.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}` });
  }

  let cursor = await readCursor(deps.prisma, CURSOR);
  while (!ctx.outOfTime()) {
    const events = await eventsAfter(deps.prisma, cursor, BATCH);
    if (events.length === 0) {
      report.caughtUp = true;
      break;
    }
    report.eventsScanned += events.length;
    const candidates = rules.filter((rule) => events.some((e) => eventMatches(e, rule.event_kind, rule.condition.where)));
    for (const rule of candidates) {
      report.rulesEvaluated++;
      try {
        const fired = await fireIfDue(deps, rule);
        if (fired) report.fired.push(fired);
      } catch (error) {
        report.errors.push({ rule: rule.name, error: error instanceof Error ? error.message : String(error) });
      }
    }
    cursor = events[events.length - 1]!.id;
    await advanceCursor(deps.prisma, CURSOR, cursor, deps.clock.now());
  }
  return report;
}

async function fireIfDue(deps: Deps, rule: Rule) {
  const now = deps.clock.now();
  const windowMs = rule.condition.window_minutes * 60_000;
  const since = new Date(now.getTime() - windowMs);
  const [{ count } = { count: 0 }] = await deps.prisma.$queryRaw<{ count: number }[]>`
    SELECT count(*)::int AS count FROM ops_events
    WHERE created_at > ${since}::timestamptz AND created_at <= ${now}::timestamptz AND ${conditionSql(rule.event_kind, rule.condition.where)}`;
  if (count < rule.condition.count_at_least) return undefined;

  return inTransaction(deps.prisma, async (tx) => {
    const [locked] = await tx.$queryRaw<{ last_fired_at: Date | null; enabled: boolean }[]>`
      SELECT last_fired_at, enabled FROM ops_trigger_rules WHERE id = ${rule.id}::uuid FOR UPDATE`;
    if (!locked?.enabled) return undefined;
    if (locked.last_fired_at && now.getTime() - locked.last_fired_at.getTime() < rule.cooldown_minutes * 60_000) return undefined;
    const bucket = new Date(Math.floor(now.getTime() / windowMs) * windowMs).toISOString();
    const { proposal, created } = await createProposal(
      deps,
      {
        ...rule.proposal_template,
        source: 'trigger',
        proposedBy: `trigger:${rule.name}`,
        dedupeKey: `trigger:${rule.name}:${bucket}`,
        metadata: { trigger: rule.name, matchedEvents: count, windowMinutes: rule.condition.window_minutes },
      },
      tx,
    );
    // The window's proposal already exists (a cooldown shorter than the window): nothing
    // happened, so nothing is counted, cooled down or reported.
    if (!created) return undefined;
    await tx.$executeRaw`
      UPDATE ops_trigger_rules SET last_fired_at = ${now}::timestamptz, fire_count = fire_count + 1, updated_at = ${now}::timestamptz
      WHERE id = ${rule.id}::uuid`;
    await writeEvents(tx, [
      {
        kind: 'trigger:fired',
        source: 'triggers',
        skill: proposal!.skill,
        proposalId: proposal!.id,
        traceId: proposal!.traceId,
        payload: { rule: rule.name, matchedEvents: count, windowMinutes: rule.condition.window_minutes, proposalStatus: proposal!.status },
        createdAt: now,
      },
    ]);
    return { rule: rule.name, proposalId: proposal!.id, status: proposal!.status };
  });
}
