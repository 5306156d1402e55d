import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, queryDate, queryTime, storedJson, storedJsonObject, storedString } from '@opsloop/core';

const nested = (depth: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};

describe('stored-input schemas', () => {
  it('storedString refuses NUL and lone surrogates, keeps valid pairs, and chains like z.string()', () => {
    const title = storedString().trim().min(1).max(10);
    expect(title.parse('  ok 😀 ')).toBe('ok 😀');
    expect(title.safeParse('a\u0000b').error?.issues[0]?.message).toMatch(/NUL/);
    for (const lone of ['\ud800', 'a\udc00', '\ud800x', 'x\udfff\ud83d']) expect(title.safeParse(lone).error?.issues[0]?.message).toMatch(/surrogate/);
    expect(title.safeParse('').success).toBe(false);
  });

  it('storedJson walks any depth without recursion and names the offending path', () => {
    expect(storedJson().safeParse(nested(MAX_JSON_DEPTH)).success).toBe(true);
    expect(storedJson().safeParse(nested(MAX_JSON_DEPTH + 1)).error?.issues[0]?.message).toMatch(/nested at most 32/);
    expect(storedJson().safeParse(nested(100_000)).success).toBe(false);
    const bad = storedJsonObject().safeParse({ a: [{ ok: 1 }, { text: 'x\u0000' }] });
    expect(bad.error?.issues[0]).toMatchObject({ path: ['a', 1, 'text'], message: expect.stringMatching(/NUL/) });
    expect(storedJsonObject().safeParse({ ['k\ud800']: 1 }).error?.issues[0]?.message).toMatch(/key must not contain a lone/);
    expect(storedJson().safeParse({ n: Infinity }).success).toBe(false);
    expect(storedJsonObject({ maxBytes: 10 }).safeParse({ text: 'more than ten bytes' }).error?.issues[0]?.message).toMatch(/at most 10 bytes/);
    expect(storedJsonObject().safeParse([1]).success).toBe(false);
  });

  it('query times and dates stay within 1970..9999', () => {
    expect(queryTime().safeParse('2026-11-23T00:00:00Z').success).toBe(true);
    for (const bad of ['0000-01-01', '0001-01-01', '-000001-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', 'nope']) expect(queryTime().safeParse(bad).success).toBe(false);
    expect(queryDate().safeParse('2026-11-23').success).toBe(true);
    for (const bad of ['0000-01-01', '1969-12-31', '2026-13-01']) expect(queryDate().safeParse(bad).success).toBe(false);
  });
});
