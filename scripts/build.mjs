#!/usr/bin/env node
// Compiles every workspace's src/ to dist/ (JavaScript + source maps), in one process.
//
//   node scripts/build.mjs             always rebuild (npm run build)
//   node scripts/build.mjs --if-stale  rebuild only when a source is newer than the last
//                                      build; skip quietly when TypeScript is not installed
//                                      (a production install: dist/ is what runs)
//
// Emit only: `npm run typecheck` owns type errors, so a build never fails on a type an IDE
// already flags, and takes about a second.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const workspaces = ['packages/core', 'packages/db', 'packages/ops', 'packages/moltbook', 'packages/backup', 'apps/api', 'apps/cli'];
const stamp = path.join(root, 'apps/api/dist/.build-stamp');
const ifStale = process.argv.includes('--if-stale');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

function isStale() {
  const built = fs.statSync(stamp, { throwIfNoEntry: false })?.mtimeMs;
  if (built === undefined) return true;
  const inputs = workspaces.flatMap((w) => [path.join(root, w, 'src'), path.join(root, w, 'tsconfig.build.json'), path.join(root, w, 'package.json')]);
  inputs.push(path.join(root, 'tsconfig.json'));
  return inputs.some((p) => {
    const s = fs.statSync(p, { throwIfNoEntry: false });
    return s && (s.isDirectory() ? newestMtime(p) : s.mtimeMs) > built;
  });
}

let ts;
try {
  ts = createRequire(import.meta.url)('typescript');
} catch {
  if (ifStale) process.exit(0);
  process.stderr.write('build: TypeScript is not installed; run `npm ci` (with dev dependencies) first\n');
  process.exit(1);
}
if (ifStale && !isStale()) process.exit(0);

const started = Date.now();
let failed = false;
let files = 0;
for (const workspace of workspaces) {
  const dir = path.join(root, workspace);
  const config = ts.getParsedCommandLineOfConfigFile(path.join(dir, 'tsconfig.build.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: report });
  if (!config || config.errors.length) {
    config?.errors.forEach(report);
    failed = true;
    continue;
  }
  const { rootDir, outDir } = config.options;
  fs.rmSync(outDir, { recursive: true, force: true });
  for (const file of config.fileNames) {
    // One file at a time (isolatedModules holds repository-wide), without a type-checked
    // program: a fraction of tsc's time.
    const out = path.join(outDir, path.relative(rootDir, file)).replace(/\.ts$/, '.js');
    // Every workspace is "type": "module"; on its own a file cannot tell, so say it.
    const compilerOptions = { ...config.options, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler };
    const result = ts.transpileModule(fs.readFileSync(file, 'utf8'), { compilerOptions, fileName: file, reportDiagnostics: true });
    result.diagnostics?.forEach(report);
    if (result.diagnostics?.some((d) => d.category === ts.DiagnosticCategory.Error)) failed = true;
    const map = JSON.parse(result.sourceMapText);
    map.file = path.basename(out);
    map.sources = [path.relative(path.dirname(out), file)];
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, result.outputText.replace(/\/\/# sourceMappingURL=.*$/m, `//# sourceMappingURL=${path.basename(out)}.map`));
    fs.writeFileSync(`${out}.map`, JSON.stringify(map));
    files++;
  }
}
if (failed) {
  process.stderr.write('build failed\n');
  process.exit(1);
}
fs.writeFileSync(stamp, `${new Date().toISOString()}\n`);
process.stderr.write(`build: ${files} files in ${workspaces.length} workspaces compiled to dist/ in ${Date.now() - started} ms\n`);

function report(diagnostic) {
  process.stderr.write(
    ts.formatDiagnosticsWithColorAndContext([diagnostic], {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => root,
      getNewLine: () => '\n',
    }),
  );
}
