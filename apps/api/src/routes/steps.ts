import { Router } from 'express';
import { z } from 'zod';
import { claimSteps, completeStep, extendLease, failStep, type OpsDeps } from '@opsloop/ops';
import { parse } from '../http/validate.ts';
import { idParams } from './proposals.ts';

const leaseToken = z.uuid();
const MAX_RESULT_BYTES = 256 * 1024;

/** The protocol for external executors (an OpenClaw gateway posting to X, …). */
export function stepRoutes(ops: Pick<OpsDeps, 'prisma' | 'pool' | 'clock' | 'policy' | 'catalog' | 'random'>): Router {
  const router = Router();

  router.post('/steps/claim', async (req, res) => {
    const body = parse(
      z
        .object({
          workerId: z.string().trim().min(1).max(200),
          kinds: z.array(z.string().min(1).max(100)).min(1).max(50),
          max: z.number().int().min(1).max(100).default(1),
          leaseSeconds: z.number().int().min(5).max(3600).default(60),
        })
        .strict(),
      req.body,
      'body',
    );
    const steps = await claimSteps(ops, body);
    res.json({ steps });
  });

  router.post('/steps/:id/heartbeat', async (req, res) => {
    const { id } = parse(idParams, req.params, 'params');
    const body = parse(z.object({ leaseToken, leaseSeconds: z.number().int().min(5).max(3600).default(60) }).strict(), req.body, 'body');
    res.json(await extendLease(ops, { stepId: id, ...body }));
  });

  router.post('/steps/:id/complete', async (req, res) => {
    const { id } = parse(idParams, req.params, 'params');
    const body = parse(
      z
        .object({
          leaseToken,
          result: z.json().optional().refine((v) => Buffer.byteLength(JSON.stringify(v ?? null)) <= MAX_RESULT_BYTES, 'result is too large'),
        })
        .strict(),
      req.body,
      'body',
    );
    res.json(await completeStep(ops, { stepId: id, leaseToken: body.leaseToken, result: body.result }));
  });

  router.post('/steps/:id/fail', async (req, res) => {
    const { id } = parse(idParams, req.params, 'params');
    const body = parse(
      z.object({ leaseToken, error: z.string().min(1).max(4000), retryable: z.boolean().default(true), details: z.json().optional() }).strict(),
      req.body,
      'body',
    );
    res.json(await failStep(ops, { stepId: id, ...body }));
  });

  return router;
}
