import { z } from 'zod';
import { storedJsonObject, storedString, ValidationError, type FieldIssue } from '@opsloop/core';
import type { KindLookup } from '../catalog.ts';
import { SKILL_NAME } from '../catalog/registeredKinds.ts';
import type { ProposalSource } from '../types.ts';

/** A skill's name, which is also the key of its `{ enabled }` policy toggle. */
export const skillNameSchema = z.string().regex(SKILL_NAME, 'a skill name: lower-case letters, digits and _, starting with a letter');

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
    skill: skillNameSchema,
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
  skill: string;
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
export function validateProposal(catalog: KindLookup, input: unknown, pathPrefix: (string | number)[] = []): ValidatedProposal {
  const shape = proposalInputSchema.safeParse(input);
  if (!shape.success) throw ValidationError.fromZod(shape.error, pathPrefix, 'Invalid proposal');
  const issues: FieldIssue[] = [];
  if (!catalog.hasSkill(shape.data.skill)) issues.push({ path: [...pathPrefix, 'skill'].join('.'), message: `unknown skill "${shape.data.skill}": no step kind belongs to it` });
  const steps: ValidatedStep[] = [];
  shape.data.steps.forEach((step, i) => {
    const definition = catalog.get(step.kind);
    if (!definition) {
      const problem = catalog.problem?.(step.kind);
      const message = problem ? `step kind "${step.kind}" is registered but unusable: ${problem}` : `unknown step kind "${step.kind}"`;
      issues.push({ path: [...pathPrefix, 'steps', i, 'kind'].join('.'), message });
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

/** The step kinds and skill a raw proposal names, to resolve before validating it. */
export function namesInProposal(input: unknown): { kinds: string[]; skills: string[] } {
  const o = (typeof input === 'object' && input !== null ? input : {}) as { skill?: unknown; steps?: unknown };
  const steps = Array.isArray(o.steps) ? o.steps.slice(0, 20) : [];
  const kinds = steps.map((s: unknown) => (typeof s === 'object' && s !== null ? (s as { kind?: unknown }).kind : undefined));
  const short = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 100;
  return { kinds: [...new Set(kinds.filter(short))], skills: short(o.skill) ? [o.skill] : [] };
}
