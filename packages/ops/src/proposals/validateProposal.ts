import { z } from 'zod';
import { storedJsonObject, storedString, ValidationError, type FieldIssue } from '@opsloop/core';
import type { StepCatalog } from '../catalog.ts';
import type { ProposalSource } from '../types.ts';

/** Skills: each has a `{ enabled }` policy toggle of the same name. */
export const SKILLS = ['ops_internal', 'x_autopost', 'tiktok_autopost', 'trend_hunter', 'suffering_detector', 'app_nudge', 'moltbook_engagement'] as const;
export type Skill = (typeof SKILLS)[number];

const MAX_PARAMS_BYTES = 16 * 1024;
const MAX_METADATA_BYTES = 8 * 1024;

export const proposalStepSchema = z
  .object({
    kind: storedString().min(1).max(100),
    // Checked as stored JSON here, whatever the kind's own schema says: every string and
    // key storable, nesting bounded, size bounded.
    params: storedJsonObject({ maxBytes: MAX_PARAMS_BYTES }).default({}),
    maxAttempts: z.number().int().min(1).max(20).optional(),
  })
  .strict();

export const proposalInputSchema = z
  .object({
    title: storedString().trim().min(1).max(300),
    skill: z.enum(SKILLS),
    source: z.enum(['api', 'trigger', 'reaction', 'schedule', 'manual']).default('api'),
    proposedBy: storedString().trim().min(1).max(100).optional(),
    dedupeKey: storedString().trim().min(1).max(200).optional(),
    steps: z.array(proposalStepSchema).min(1, 'at least 1 step').max(20, 'at most 20 steps'),
    metadata: storedJsonObject({ maxBytes: MAX_METADATA_BYTES }).default({}),
  })
  .strict();

export type ProposalInput = z.input<typeof proposalInputSchema>;

export interface ValidatedStep {
  kind: string;
  skill: string;
  params: Record<string, unknown>;
  maxAttempts?: number;
  timeoutSeconds?: number;
}

export interface ValidatedProposal {
  title: string;
  skill: Skill;
  source: ProposalSource;
  proposedBy?: string;
  dedupeKey?: string;
  metadata: Record<string, unknown>;
  steps: ValidatedStep[];
}

/**
 * Shape first, then each step's params against the schema registered for its kind.
 * Throws a ValidationError listing every wrong field (paths like `steps.2.params.text`).
 */
export function validateProposal(catalog: StepCatalog, input: unknown, pathPrefix: (string | number)[] = []): ValidatedProposal {
  const shape = proposalInputSchema.safeParse(input);
  if (!shape.success) throw ValidationError.fromZod(shape.error, pathPrefix, 'Invalid proposal');
  const issues: FieldIssue[] = [];
  const steps: ValidatedStep[] = [];
  shape.data.steps.forEach((step, i) => {
    const definition = catalog.get(step.kind);
    if (!definition) {
      issues.push({ path: [...pathPrefix, 'steps', i, 'kind'].join('.'), message: `unknown step kind "${step.kind}"` });
      return;
    }
    const params = definition.params.safeParse(step.params);
    if (!params.success) {
      for (const issue of params.error.issues) {
        issues.push({ path: [...pathPrefix, 'steps', i, 'params', ...issue.path].map(String).join('.'), message: issue.message });
      }
      return;
    }
    steps.push({
      kind: step.kind,
      skill: definition.skill,
      params: params.data as Record<string, unknown>,
      maxAttempts: step.maxAttempts ?? definition.maxAttempts,
      timeoutSeconds: definition.timeoutSeconds,
    });
  });
  if (issues.length) throw new ValidationError('Invalid proposal', issues);
  return { ...shape.data, steps };
}
