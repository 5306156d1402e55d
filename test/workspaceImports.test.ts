// Every workspace declares what it imports: production installs only `dependencies`
// (`npm ci --omit=dev`), so an import that works here through the hoisted root
// node_modules would fail there.
import fs from 'node:fs';
import path from 'node:path';
import { builtinModules } from 'node:module';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const workspaces = ['apps', 'packages'].flatMap((dir) =>
  fs
    .readdirSync(path.join(root, dir))
    .map((name) => path.join(dir, name))
    .filter((w) => fs.existsSync(path.join(root, w, 'package.json'))),
);
const rootPackage = readPackage('.');
const builtins = new Set(builtinModules);
// import x from 'pkg', export … from 'pkg', import('pkg'), import 'pkg'
// (`from` as a keyword, after white space or a brace: not the word inside a string.)
const IMPORT = /(?:(?:^|[\s}*])from\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;

function readPackage(dir: string): { name: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string> } {
  return JSON.parse(fs.readFileSync(path.join(root, dir, 'package.json'), 'utf8'));
}

function sourceFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' || entry.name === 'node_modules' ? [] : sourceFiles(full);
    return /\.(ts|mts|js|mjs)$/.test(entry.name) ? [full] : [];
  });
}

/** 'pkg/sub' -> 'pkg', '@scope/pkg/sub' -> '@scope/pkg'; undefined for relative and built-in. */
export function packageName(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return builtins.has(name) ? undefined : name;
}

function undeclared(files: string[], declared: Set<string>, self: string): string[] {
  return files.flatMap((file) =>
    [...fs.readFileSync(file, 'utf8').matchAll(IMPORT)]
      .map((m) => packageName(m[1]!))
      .filter((name): name is string => name !== undefined && name !== self && !declared.has(name))
      .map((name) => `${path.relative(root, file)} imports ${name}`),
  );
}

describe('workspace imports', () => {
  it('finds the workspaces', () => {
    expect(workspaces).toEqual(expect.arrayContaining(['apps/api', 'packages/core', 'packages/db', 'packages/ops']));
  });

  it.each(workspaces)('%s: src/ imports only its own dependencies', (workspace) => {
    const pkg = readPackage(workspace);
    const declared = new Set(Object.keys(pkg.dependencies ?? {}));
    expect(undeclared(sourceFiles(path.join(root, workspace, 'src')), declared, pkg.name)).toEqual([]);
  });

  it.each(workspaces)('%s: test/ imports its dependencies or the root devDependencies', (workspace) => {
    const pkg = readPackage(workspace);
    const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {}), ...Object.keys(rootPackage.devDependencies ?? {})]);
    expect(undeclared(sourceFiles(path.join(root, workspace, 'test')), declared, pkg.name)).toEqual([]);
  });

  it('catches an undeclared import', () => {
    const file = path.join(root, 'node_modules', '.opsloop-import-probe.ts');
    fs.writeFileSync(file, "import { z } from 'zod';\nimport fs from 'node:fs';\nexport const x = await import('left-pad/x');\n");
    try {
      expect(undeclared([file], new Set(['zod']), '@opsloop/probe')).toEqual([`node_modules/.opsloop-import-probe.ts imports left-pad`]);
    } finally {
      fs.rmSync(file);
    }
  });
});
