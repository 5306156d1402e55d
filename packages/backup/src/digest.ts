import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

/**
 * A pass-through that hashes (SHA-256) and counts the rows of COPY text as it flows: in
 * COPY's text format every row ends with exactly one newline (newlines inside values
 * are escaped), so rows = newlines.
 */
export function copyDigest(): Transform & { result(): { rows: number; sha256: string } } {
  const hash = createHash('sha256');
  let rows = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) rows++;
      done(null, chunk);
    },
  });
  let digest: string | undefined;
  return Object.assign(t, { result: () => ({ rows, sha256: (digest ??= hash.digest('hex')) }) });
}
