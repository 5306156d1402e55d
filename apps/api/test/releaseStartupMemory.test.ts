// What releaseStartupMemory relies on V8 for, in a node of its own (the flag is the
// point): with --expose-gc its collection shrinks a young generation that allocation
// grew, as start-up grows it, where a plain full collection leaves it; without the flag
// it does nothing. Node 20's V8 ignores the collection's flavor (a plain full collection,
// so the memory reducer still gives the memory back later there); the deployed Node is
// 22 (.nvmrc), where it is honoured.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const SCRIPT = `
import v8 from 'node:v8';
import { releaseStartupMemory } from './apps/api/src/releaseStartupMemory.ts';
const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
// Short-lived objects with a share surviving a scavenge or two: what makes V8 grow its
// young generation, as loading and compiling every module does at start-up.
let keep = [];
for (let i = 0; i < 3e6; i++) {
  const o = { i, s: 'x' + i };
  if (i % 4 === 0) keep.push(o);
  if (keep.length > 2e5) keep = [];
}
keep = [];
const grown = newSpace();
if (process.argv.includes('plain')) globalThis.gc?.();
const released = process.argv.includes('plain') ? null : releaseStartupMemory();
process.stdout.write(JSON.stringify({ grown, after: newSpace(), released }));
`;

function run(flags: string[], ...args: string[]): { grown: number; after: number; released: boolean | null } {
  const r = spawnSync(process.execPath, [...flags, '--import', 'tsx', '--input-type=module', '-e', SCRIPT, '--', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

const honoursFlavor = Number(process.versions.node.split('.')[0]) >= 22;

describe('releaseStartupMemory', () => {
  it.runIf(honoursFlavor)('with --expose-gc, gives back the young generation a burst of allocation grew; a plain gc() does not', () => {
    const released = run(['--expose-gc']);
    expect(released.released).toBe(true);
    expect(released.grown).toBeGreaterThanOrEqual(8 * 2 ** 20);
    expect(released.after).toBeLessThanOrEqual(released.grown / 4);

    const plain = run(['--expose-gc'], 'plain');
    expect(plain.grown).toBeGreaterThanOrEqual(8 * 2 ** 20);
    expect(plain.after).toBe(plain.grown);
  });

  it.runIf(!honoursFlavor)('with --expose-gc on Node 20, runs a full collection that keeps the young generation', () => {
    const result = run(['--expose-gc']);
    expect(result.released).toBe(true);
    expect(result.after).toBe(result.grown);
  });

  it('without --expose-gc, does nothing', () => {
    const result = run([]);
    expect(result.released).toBe(false);
    expect(result.after).toBe(result.grown);
  });
});
