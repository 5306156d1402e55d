import { describe, expect, it } from 'vitest';
import { jsonDiff } from '@opsloop/core';
import { jsonDiff as browserDiff } from '../static/console/jsonDiff.js';

const CASES: [unknown, unknown][] = [
  [{ enabled: true }, { enabled: false }],
  [{ 'x.post': 10, 'tiktok.post': 3 }, { 'x.post': 'ten' }],
  [{ a: { b: [1, 2] } }, { a: { b: [2, 1], c: null } }],
  [{ k: { z: 1, a: 2 } }, { k: { a: 2, z: 1 } }],
  [undefined, { enabled: true }],
  [5, '5'],
  [[1], [1]],
];

describe('policy diff', () => {
  it('names each changed leaf by its path', () => {
    expect(jsonDiff({ 'x.post': 10, 'tiktok.post': 3 }, { 'x.post': 'ten' })).toEqual([
      { path: 'tiktok.post', kind: 'removed', before: 3 },
      { path: 'x.post', kind: 'changed', before: 10, after: 'ten' },
    ]);
    expect(jsonDiff({ k: { z: 1, a: 2 } }, { k: { a: 2, z: 1 } })).toEqual([]);
  });

  it('the browser copy (console) agrees with the server copy (CLI) on every case', () => {
    for (const [before, after] of CASES) expect(browserDiff(before, after)).toEqual(jsonDiff(before, after));
  });
});
