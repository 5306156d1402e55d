import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const OPS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../packages/ops');

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries
      .filter((e) => e.name !== 'node_modules' && e.name !== 'dist')
      .map((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : Promise.resolve([path.join(dir, e.name)]))),
  );
  return nested.flat();
}

describe('packages/ops knows workloads only through what they register', () => {
  it('names no workload: no file (source, tests, package.json) mentions Moltbook in any case', async () => {
    const files = await filesUnder(OPS);
    expect(files.length).toBeGreaterThan(20);
    const hits: string[] = [];
    for (const file of files) {
      const rel = path.relative(OPS, file);
      if (/moltbook/i.test(rel)) hits.push(rel);
      (await fs.readFile(file, 'utf8')).split('\n').forEach((line, i) => {
        if (/moltbook/i.test(line)) hits.push(`${rel}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(hits).toEqual([]);
  });

  it('has no HTTP framework: routes are described, apps/api mounts them', async () => {
    const files = (await filesUnder(path.join(OPS, 'src'))).filter((f) => f.endsWith('.ts'));
    const hits: string[] = [];
    for (const file of files) {
      if (/from ['"]express['"]/.test(await fs.readFile(file, 'utf8'))) hits.push(path.relative(OPS, file));
    }
    expect(hits).toEqual([]);
  });
});
