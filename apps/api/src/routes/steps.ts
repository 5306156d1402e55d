import { z } from 'zod';
import { storedJson, storedString } from '@opsloop/core';
import { claimSteps, completeStep, extendLease, failStep, LEASE_SECONDS, type OpsDeps } from '@opsloop/ops';
import type { RouteGroup } from '../http/route.ts';
import { idParams } from './proposals.ts';

const leaseToken = z.uuid();
/** Omitted: `step_defaults.lease_seconds` from policy. */
const leaseSeconds = z.number().int().min(LEASE_SECONDS.min).max(LEASE_SECONDS.max).optional();
const MAX_RESULT_BYTES = 256 * 1024;
const row = z.object({}).loose();
const leaseLost = { description: 'conflict: the lease is no longer yours (expired, reclaimed, or the mission was cancelled); nothing changed' };

/** The protocol for external executors (an OpenClaw gateway posting to X, …). */
export function stepRoutes(g: RouteGroup, ops: Pick<OpsDeps, 'prisma' | 'pool' | 'clock' | 'policy' | 'catalog' | 'random'>): void {
  g.add({
    method: 'post',
    path: '/steps/claim',
    tags: ['steps'],
    summary: 'Lease queued steps of the given kinds',
    auth: 'write',
    body: z
      .object({
        workerId: storedString().trim().min(1).max(200),
        kinds: z.array(storedString().min(1).max(100)).min(1).max(50),
        max: z.number().int().min(1).max(100).default(1),
        leaseSeconds,
      })
      .strict(),
    responses: { 200: { description: 'Leased steps (possibly none)', schema: z.object({ steps: z.array(row) }) } },
    handler: async ({ body }) => ({ steps: await claimSteps(ops, body) }),
  });

  g.add({
    method: 'post',
    path: '/steps/:id/heartbeat',
    tags: ['steps'],
    summary: 'Extend a lease',
    auth: 'write',
    params: idParams,
    body: z.object({ leaseToken, leaseSeconds }).strict(),
    responses: { 200: { description: 'Lease extended', schema: row }, 409: leaseLost },
    handler: ({ params, body }) => extendLease(ops, { stepId: params.id, ...body }),
  });

  g.add({
    method: 'post',
    path: '/steps/:id/complete',
    tags: ['steps'],
    summary: 'Complete a leased step',
    auth: 'write',
    params: idParams,
    body: z.object({ leaseToken, result: storedJson({ maxBytes: MAX_RESULT_BYTES }).optional() }).strict(),
    responses: { 200: { description: 'Completed', schema: row }, 409: leaseLost },
    handler: ({ params, body }) => completeStep(ops, { stepId: params.id, leaseToken: body.leaseToken, result: body.result }),
  });

  g.add({
    method: 'post',
    path: '/steps/:id/fail',
    tags: ['steps'],
    summary: 'Report a failed attempt (retried with backoff while attempts remain)',
    auth: 'write',
    params: idParams,
    body: z
      .object({ leaseToken, error: storedString().min(1).max(4000), retryable: z.boolean().default(true), details: storedJson({ maxBytes: 64 * 1024 }).optional() })
      .strict(),
    responses: { 200: { description: 'Recorded', schema: row }, 409: leaseLost },
    handler: ({ params, body }) => failStep(ops, { stepId: params.id, ...body }),
  });
}
