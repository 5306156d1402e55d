import { z } from 'zod';
import { ConflictError, NotFoundError, storedString } from '@opsloop/core';
import {
  ALERT_DELIVERY_STATUSES,
  cancelMission,
  createTriggerRule,
  deleteTriggerRule,
  getTriggerRule,
  listAlerts,
  listReactions,
  listTriggerRules,
  policyHistory,
  REACTION_STATUSES,
  requeueReaction,
  retryMission,
  setTriggerRuleEnabled,
  triggerRuleInputSchema,
  triggerRulePatchSchema,
  updateTriggerRule,
  type ProposalDeps,
  type Scheduler,
} from '@opsloop/ops';
import type { RouteGroup } from '../http/route.ts';
import { idParams } from './proposals.ts';

const row = z.object({}).loose();
const by = storedString().trim().min(1).max(100).optional().meta({ description: 'Who asks (recorded in the event). (Default: "api")' });
const byBody = z.object({ by }).strict().optional();
const page = {
  before: z.coerce.number().int().min(1).optional().meta({ description: 'The last id of the previous page (newest first)' }),
  limit: z.coerce.number().int().min(1).max(500).default(50),
};
const pageOf = (item: z.ZodType) => z.object({ items: z.array(item), nextBefore: z.number().nullable() });

/** Steering the loop: cancel/retry missions, trigger rules, reactions, alerts, schedule, policy history. */
export function controlRoutes(g: RouteGroup, ops: ProposalDeps, deps: { scheduler?: Pick<Scheduler, 'runNow'> }): void {
  g.add({
    method: 'post',
    path: '/missions/:id/cancel',
    tags: ['missions'],
    summary: 'Cancel a queued or running mission',
    description:
      "Queued and waiting steps are cancelled; running steps' leases are revoked, so the old worker's heartbeat/complete/fail gets 409. Writes one `mission:cancelled` with who and why. Cancelling a cancelled mission changes nothing (`changed: false`).",
    auth: 'write',
    params: idParams,
    body: z.object({ by, reason: storedString().trim().min(1).max(1000).default('cancelled by an operator') }).strict().optional(),
    responses: {
      200: { description: 'Cancelled (or already was)', schema: z.object({ missionId: z.uuid(), status: z.literal('cancelled'), changed: z.boolean(), cancelledSteps: z.number(), revokedLeases: z.number() }) },
      404: { description: 'not_found' },
      409: { description: 'conflict: the mission already succeeded or failed' },
    },
    handler: ({ params, body }) => cancelMission(ops, params.id, { by: body?.by ?? 'api', reason: body?.reason ?? 'cancelled by an operator' }),
  });

  g.add({
    method: 'post',
    path: '/missions/:id/retry',
    tags: ['missions'],
    summary: 'Run a failed or cancelled mission again from its failed step',
    description:
      'The first step that did not succeed is queued again and the ones after it wait, all with fresh attempts. Passes the gates a proposal passes: a disabled skill, the kill switch or a daily quota answers 409 (`details.gate`) and changes nothing. A repeated retry while the first is under way changes nothing (`changed: false`).',
    auth: 'write',
    params: idParams,
    body: byBody,
    responses: {
      200: { description: 'Queued again (or already was)', schema: z.object({ missionId: z.uuid(), status: z.string(), changed: z.boolean(), fromPosition: z.number().nullable(), requeuedSteps: z.number() }) },
      404: { description: 'not_found' },
      409: { description: 'conflict: not failed or cancelled, or a gate refused (kill switch, skill toggle, quota)' },
    },
    handler: ({ params, body }) => retryMission(ops, params.id, { by: body?.by ?? 'api' }),
  });

  const ruleView = z
    .object({ id: z.uuid(), name: z.string(), enabled: z.boolean(), fire_count: z.number(), last_fired_at: z.string().nullable(), cooldown_until: z.string().nullable() })
    .loose();
  const ruleParams = z.object({ id: z.uuid() });

  g.add({
    method: 'get',
    path: '/triggers',
    tags: ['triggers'],
    summary: 'Trigger rules with fire_count, last_fired_at and cooldown_until',
    auth: 'read',
    responses: { 200: { description: 'Every rule, by name', schema: z.object({ items: z.array(ruleView) }) } },
    handler: async () => ({ items: await listTriggerRules(ops.prisma) }),
  });
  g.add({
    method: 'get',
    path: '/triggers/:id',
    tags: ['triggers'],
    summary: 'One trigger rule',
    auth: 'read',
    params: ruleParams,
    responses: { 200: { description: 'The rule', schema: z.object({ rule: ruleView }) }, 404: { description: 'not_found' } },
    handler: async ({ params }) => ({ rule: await getTriggerRule(ops.prisma, params.id) }),
  });
  g.add({
    method: 'post',
    path: '/triggers',
    tags: ['triggers'],
    summary: 'Create a trigger rule (validated with the evaluator’s own schemas)',
    description: '`condition` is checked by the evaluator’s condition schema and `proposal_template` as the proposal the rule will make when it fires. Writes `trigger_rule:created`.',
    auth: 'write',
    body: triggerRuleInputSchema.extend({ by }),
    responses: { 201: { description: 'Created', schema: z.object({ rule: ruleView }) }, 409: { description: 'conflict: the name is taken' } },
    handler: async ({ body: { by: who, ...rule } }, _req, res) => {
      res.status(201);
      return { rule: await createTriggerRule(ops, rule, who ?? 'api') };
    },
  });
  g.add({
    method: 'patch',
    path: '/triggers/:id',
    tags: ['triggers'],
    summary: 'Update a trigger rule (the given fields; the result is validated as a whole)',
    auth: 'write',
    params: ruleParams,
    body: triggerRulePatchSchema.extend({ by }),
    responses: { 200: { description: 'Updated', schema: z.object({ rule: ruleView }) }, 404: { description: 'not_found' }, 409: { description: 'conflict: the name is taken' } },
    handler: async ({ params, body: { by: who, ...patch } }) => ({ rule: await updateTriggerRule(ops, params.id, patch, who ?? 'api') }),
  });
  for (const [action, enabled] of [['enable', true], ['disable', false]] as const) {
    g.add({
      method: 'post',
      path: `/triggers/:id/${action}`,
      tags: ['triggers'],
      summary: `${enabled ? 'Enable' : 'Disable'} a trigger rule (idempotent)`,
      auth: 'write',
      params: ruleParams,
      body: byBody,
      responses: { 200: { description: 'The rule', schema: z.object({ rule: ruleView }) }, 404: { description: 'not_found' } },
      handler: async ({ params, body }) => ({ rule: await setTriggerRuleEnabled(ops, params.id, enabled, body?.by ?? 'api') }),
    });
  }
  g.add({
    method: 'delete',
    path: '/triggers/:id',
    tags: ['triggers'],
    summary: 'Delete a trigger rule',
    auth: 'write',
    params: ruleParams,
    responses: { 200: { description: 'Deleted', schema: z.object({ deleted: z.literal(true), id: z.uuid() }) }, 404: { description: 'not_found' } },
    handler: ({ params }) => deleteTriggerRule(ops, params.id, 'api'),
  });

  g.add({
    method: 'get',
    path: '/reactions',
    tags: ['reactions'],
    summary: 'Reactions (queued, proposed = done, skipped, dead with its error), newest first',
    auth: 'read',
    query: z.object({ status: z.enum(REACTION_STATUSES).optional(), ...page }),
    responses: { 200: { description: 'A page of reactions', schema: pageOf(row) } },
    handler: ({ query }) => listReactions(ops.prisma, query),
  });
  g.add({
    method: 'post',
    path: '/reactions/:id/requeue',
    tags: ['reactions'],
    summary: 'Requeue a dead reaction with fresh attempts',
    auth: 'write',
    params: z.object({ id: z.coerce.number().int().min(1) }),
    body: byBody,
    responses: { 200: { description: 'Queued', schema: z.object({ id: z.number(), status: z.literal('queued') }) }, 404: { description: 'not_found' }, 409: { description: 'conflict: not dead' } },
    handler: ({ params, body }) => requeueReaction(ops, params.id, body?.by ?? 'api'),
  });

  g.add({
    method: 'get',
    path: '/alerts',
    tags: ['alerts'],
    summary: 'Alerts with their delivery result, newest first',
    auth: 'read',
    query: z.object({ kind: storedString().min(1).max(100).optional(), delivery_status: z.enum(ALERT_DELIVERY_STATUSES).optional(), ...page }),
    responses: { 200: { description: 'A page of alerts', schema: pageOf(row) } },
    handler: ({ query }) => listAlerts(ops.prisma, query),
  });

  g.add({
    method: 'get',
    path: '/policy/history',
    tags: ['policy'],
    summary: 'Policy changes (old value, new value, who, when) from policy:changed events',
    auth: 'read',
    query: z.object({ key: storedString().min(1).max(100).optional(), ...page }),
    responses: { 200: { description: 'A page of changes', schema: pageOf(row) } },
    handler: ({ query }) => policyHistory(ops.prisma, query),
  });

  g.add({
    method: 'post',
    path: '/schedule/:job/run',
    tags: ['schedule'],
    summary: 'Run a scheduled job now, recorded like a tick',
    description:
      'Claims a run of the job in this process (recorded in ops_schedule_runs with the request time as its tick) and answers 202 once it has started; its outcome shows in GET /schedule. While a run of the job is still going it is recorded `skipped` (200).',
    auth: 'write',
    params: z.object({ job: z.string().regex(/^[a-z0-9-]{1,100}$/, 'a job name') }),
    body: byBody,
    responses: {
      202: { description: 'Started', schema: z.object({ job: z.string(), outcome: z.literal('started'), runId: z.string(), scheduledFor: z.string() }) },
      200: { description: 'Skipped: a run of the job is still going', schema: z.object({ job: z.string(), outcome: z.literal('skipped'), runId: z.string().nullable(), reason: z.string() }) },
      404: { description: 'not_found: no such job, or the scheduler is disabled' },
      409: { description: 'conflict: another replica claimed the same tick' },
    },
    handler: async ({ params, body }, req, res) => {
      if (!deps.scheduler) throw new NotFoundError(`scheduled job ${params.job} (the scheduler is disabled)`);
      const claimed = await deps.scheduler.runNow(params.job, { by: body?.by ?? 'api' });
      if (claimed.outcome === 'taken') throw new ConflictError('another replica claimed this run');
      if (claimed.outcome === 'skipped') return { job: params.job, ...claimed };
      const { done, ...started } = claimed;
      // The outcome is recorded by the scheduler; a failure here was logged there.
      done.catch((error: unknown) => req.log.warn({ err: error }, 'manual run failed'));
      res.status(202);
      return { job: params.job, ...started };
    },
  });
}
