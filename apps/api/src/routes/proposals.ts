import { z } from 'zod';
import { NotFoundError, queryTime, storedString } from '@opsloop/core';
import { approveProposal, createProposal, getProposal, listProposals, proposalInputSchema, PROPOSAL_STATUSES, rejectProposal, skillNameSchema, type ProposalDeps } from '@opsloop/ops';
import type { RouteGroup } from '../http/route.ts';

export const idParams = z.object({ id: z.uuid() });
export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: storedString().max(200).optional(),
  since: queryTime().optional(),
  skill: skillNameSchema.optional(),
});
export const decisionBody = z.object({ by: storedString().trim().min(1).max(100).optional() }).strict().optional();
export const rejectBody = z.object({ reason: storedString().trim().min(1).max(1000).default('rejected by a person') }).strict().optional();

// Built once: on the intake path a schema built per request costs more than the parse.
const proposalSource = z.object({ source: z.enum(['api', 'manual']).default('api') }).loose();
const row = z.object({}).loose();
const decision = z.object({ proposal: row, status: z.enum(PROPOSAL_STATUSES), missionId: z.uuid().nullable().optional(), reason: z.string().nullable() }).loose();

export function proposalRoutes(g: RouteGroup, ops: ProposalDeps): void {
  g.add({
    method: 'post',
    path: '/proposal',
    tags: ['proposals'],
    summary: 'Propose work (the one entry point)',
    description:
      "Validated against each step kind's params schema, deduplicated on dedupeKey, then passed through the skill gates, the kill switch, auto-approval and the daily quotas. Over HTTP the source is 'api' or 'manual'.",
    auth: 'write',
    // Sources other than api/manual are reserved for opsloop's own trigger, reaction and
    // scheduler paths.
    body: proposalInputSchema.extend({ source: z.enum(['api', 'manual']).default('api') }),
    // createProposal validates the whole proposal; checking it here as well would
    // double the intake's validation cost.
    bodyCheck: proposalSource,
    responses: { 201: { description: 'Created (approved, pending or rejected: see status)', schema: decision }, 200: { description: 'Deduplicated: the earlier proposal', schema: decision } },
    handler: async ({ body }, _req, res) => {
      const { proposal, created } = await createProposal(ops, { ...body, source: body.source });
      res.status(created ? 201 : 200);
      return { proposal, status: proposal!.status, missionId: proposal!.missionId, reason: proposal!.reason, deduplicated: !created };
    },
  });

  g.add({
    method: 'get',
    path: '/proposals',
    tags: ['proposals'],
    summary: 'List proposals (newest first)',
    auth: 'read',
    query: listQuery.extend({ status: z.enum(PROPOSAL_STATUSES).optional() }),
    responses: { 200: { description: 'A page of proposals', schema: z.object({ items: z.array(row), nextCursor: z.string().nullable() }).loose() } },
    handler: ({ query }) => listProposals(ops.prisma, query),
  });

  g.add({
    method: 'get',
    path: '/proposals/:id',
    tags: ['proposals'],
    summary: 'One proposal',
    auth: 'read',
    params: idParams,
    responses: { 200: { description: 'The proposal', schema: z.object({ proposal: row }) }, 404: { description: 'not_found' } },
    handler: async ({ params }) => {
      const proposal = await getProposal(ops.prisma, params.id);
      if (!proposal) throw new NotFoundError('proposal');
      return { proposal };
    },
  });

  g.add({
    method: 'post',
    path: '/proposals/:id/approve',
    tags: ['proposals'],
    summary: 'Approve a pending proposal (through the same gates)',
    auth: 'write',
    params: idParams,
    body: decisionBody,
    responses: { 200: { description: 'Decided (a gate may still reject it)', schema: decision }, 404: { description: 'not_found' }, 409: { description: 'conflict: not pending' } },
    handler: async ({ params, body }) => {
      const proposal = await approveProposal(ops, params.id, body?.by);
      return { proposal, status: proposal!.status, missionId: proposal!.missionId, reason: proposal!.reason };
    },
  });

  g.add({
    method: 'post',
    path: '/proposals/:id/reject',
    tags: ['proposals'],
    summary: 'Reject a pending proposal',
    auth: 'write',
    params: idParams,
    body: rejectBody,
    responses: { 200: { description: 'Rejected', schema: decision }, 404: { description: 'not_found' }, 409: { description: 'conflict: not pending' } },
    handler: async ({ params, body }) => {
      const proposal = await rejectProposal(ops, params.id, body?.reason ?? 'rejected by a person');
      return { proposal, status: proposal!.status, reason: proposal!.reason };
    },
  });
}
