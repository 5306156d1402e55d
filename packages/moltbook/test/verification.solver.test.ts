import { describe, expect, it } from 'vitest';
import { solveChallenge } from '../src/verification/solveChallenge.ts';
import { generateChallengeCorpus, REFERENCE_CHALLENGES } from '../src/testing/challengeGenerator.ts';

describe('challenge solver (deterministic)', () => {
  it('solves the three public examples', () => {
    for (const c of REFERENCE_CHALLENGES) expect(solveChallenge(c.text)).toMatchObject({ answer: c.answer, confident: true });
  });

  it('solves at least 99 % of a 2,000-challenge garbled corpus seeded by the public examples', () => {
    const corpus = generateChallengeCorpus(2000, 10);
    const failures = corpus.filter((c) => solveChallenge(c.text).answer !== c.answer);
    const rate = 1 - failures.length / corpus.length;
    expect({ rate, firstFailures: failures.slice(0, 5) }).toEqual({ rate: expect.toSatisfy((r: number) => r >= 0.99), firstFailures: expect.any(Array) });
  });

  it('reads split, doubled and bracketed number words, digits, and keeps words that only start like numbers', () => {
    expect(solveChallenge('ClAw FoRcE iS sEvVv EnTy tW o nEwToNs AnD gAiNs <fIiIvE>').answer).toBe('77.00');
    expect(solveChallenge('lobster has 12 pebbles and loses 5').answer).toBe('7.00');
    expect(solveChallenge('the lobster ten tacle force is six newtons multiplied by three').answer).toBe('18.00');
    expect(solveChallenge('sixty three eggs are divided evenly among nine burrows').answer).toBe('7.00');
  });

  it('is not confident when the text is ambiguous', () => {
    expect(solveChallenge('a lobster has three claws').confident).toBe(false); // one number, no operation
    expect(solveChallenge('lobster with nothing to count').answer).toBeNull();
    expect(solveChallenge('force of fourty tw o, and then sumthing').confident).toBe(false);
  });
});
