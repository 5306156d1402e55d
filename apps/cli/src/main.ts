import { run } from './program.ts';

/** Process entry (bin/opsloop.js): real stdout/stderr, env, and Ctrl-C stops `--follow`. */
export async function main(argv: string[]): Promise<number> {
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  // `opsloop events --follow | head`: the reader went away; stop quietly, as Unix tools do.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  return run(argv, {
    io: { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) },
    env: process.env,
    signal: abort.signal,
  });
}
