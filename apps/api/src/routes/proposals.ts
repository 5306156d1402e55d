import { Router } from 'express';
import { z } from 'zod';
import { NotFoundError, queryTime, storedString } from '@opsloop/core';
import { approveProposal, createProposal, getProposal, listProposals, PROPOSAL_STATUSES, rejectProposal, skillNameSchema, type ProposalDeps } from '@opsloop/ops';
import { parse } from '../http/validate.ts';

export const idParams = z.object({ id: z.uuid() });
export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: storedString().max(200).optional(),
  since: queryTime().optional(),
  skill: skillNameSchema.optional(),
});

// Built once here, not per request: on the intake path a schema built per request costs more than the parse.
const proposalSourceBody = z.object({ source: z.enum(['api', 'manual']).default('api') }).loose();
const proposalListQuery = listQuery.extend({ status: z.enum(PROPOSAL_STATUSES).optional() });
const approveBody = z.object({ by: storedString().trim().min(1).max(100).optional() }).strict();
const rejectBody = z.object({ reason: storedString().trim().min(1).max(1000).default('rejected by a person') }).strict();

export function proposalRoutes(ops: ProposalDeps): Router {
  const router = Router();

  router.post('/proposal', async (req, res) => {
    // Over HTTP a proposal comes from an agent ('api') or a person ('manual'); the
    // other sources are reserved for opsloop's own trigger/reaction/scheduler paths.
    const body = parse(proposalSourceBody, req.body, 'body');
    const { proposal, created } = await createProposal(ops, { ...body, source: body.source });
    res.status(created ? 201 : 200).json({ proposal, status: proposal!.status, missionId: proposal!.missionId, reason: proposal!.reason, deduplicated: !created });
  });

  router.get('/proposals', async (req, res) => {
    const q = parse(proposalListQuery, req.query, 'query');
    res.json(await listProposals(ops.prisma, q));
  });

  router.get('/proposals/:id', async (req, res) => {
    const { id } = parse(idParams, req.params, 'params');
    const proposal = await getProposal(ops.prisma, id);
    if (!proposal) throw new NotFoundError('proposal');
    res.json({ proposal });
  });

  router.post('/proposals/:id/approve', async (req, res) => {
    const { id } = parse(idParams, req.params, 'params');
    const { by } = parse(approveBody, req.body, 'body');
    const proposal = await approveProposal(ops, id, by);
    res.json({ proposal, status: proposal!.status, missionId: proposal!.missionId, reason: proposal!.reason });
  });

  router.post('/proposals/:id/reject', async (req, res) => {
    const { id } = parse(idParams, req.params, 'params');
    const { reason } = parse(rejectBody, req.body, 'body');
    const proposal = await rejectProposal(ops, id, reason);
    res.json({ proposal, status: proposal!.status, reason: proposal!.reason });
  });

  return router;
}
