import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** opsloop's version from the root package.json, for manifests. */
export function opsloopVersion(): string {
  try {
    const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../package.json');
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
