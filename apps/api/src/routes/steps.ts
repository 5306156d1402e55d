import { Router } from 'express';
import { z } from 'zod';
import { storedJson, storedString } from '@opsloop/core';
import { claimSteps, completeStep, extendLease, failStep, LEASE_SECONDS, type OpsDeps } from '@opsloop/ops';
import { parse } from '../http/validate.ts';
import { idParams } from './proposals.ts';

const leaseToken = z.uuid();
/** Omitted: `step_defaults.lease_seconds` from policy. */
const leaseSeconds = z.number().int().min(LEASE_SECONDS.min).max(LEASE_SECONDS.max).optional();
const MAX_RESULT_BYTES = 256 * 1024;

const claimBody = z
  .object({
    workerId: storedString().trim().min(1).max(200),
    kinds: z.array(storedString().min(1).max(100)).min(1).max(50),
    max: z.number().int().min(1).max(100).default(1),
    leaseSeconds,
  })
  .strict();
const heartbeatBody = z.object({ leaseToken, leaseSeconds }).strict();
const completeBody = z.object({ leaseToken, result: storedJson({ maxBytes: MAX_RESULT_BYTES }).optional() }).strict();
const failBody = z
  .object({ leaseToken, error: storedString().min(1).max(4000), retryable: z.boolean().default(true), details: storedJson({ maxBytes: 64 * 1024 }).optional() })
  .strict();

/** The protocol for external executors (an OpenClaw gateway posting to X, …). */
export function stepRoutes(ops: Pick<OpsDeps, 'prisma' | 'pool' | 'clock' | 'policy' | 'catalog' | 'random'>): Router {
  const router = Router();

  router.post('/steps/claim', async (req, res) => {
    const body = parse(claimBody, req.body, 'body');
    const steps = await claimSteps(ops, body);
    res.json({ steps });
  });

  router.post('/steps/:id/heartbeat', async (req, res) => {
    const { id } = parse(idParams, req.params, 'params');
    const body = parse(heartbeatBody, req.body, 'body');
    res.json(await extendLease(ops, { stepId: id, ...body }));
  });

  router.post('/steps/:id/complete', async (req, res) => {
    const { id } = parse(idParams, req.params, 'params');
    const body = parse(completeBody, req.body, 'body');
    res.json(await completeStep(ops, { stepId: id, leaseToken: body.leaseToken, result: body.result }));
  });

  router.post('/steps/:id/fail', async (req, res) => {
    const { id } = parse(idParams, req.params, 'params');
    const body = parse(failBody, req.body, 'body');
    res.json(await failStep(ops, { stepId: id, ...body }));
  });

  return router;
}
